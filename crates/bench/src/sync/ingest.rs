//! `ingest_ratio`: the server's event-ingest rate through the real HTTP upload path ÷ a raw
//! batched INSERT of the same rows into the same kind of database, in the same run.
//!
//! Server: `TILLS` tills upload their offline sales at once, each in batches of 200 (the
//! sync's batch) with `HttpTransport::upload`, one request after the other per till; rate
//! = events ÷ wall time from the first request to the last answer. Every answer must settle
//! the whole batch without conflicts. Reported beside it, not in it: how long after the
//! last answer the owner's analytics (which follow the event log) held every event.
//!
//! Raw: the same events as the rows the server stores for them (`events`: till id, seq, op
//! id, content hash, gseq, times, fact JSON — all computed before the clock starts) with
//! plain rusqlite prepared INSERTs, 200 per `BEGIN IMMEDIATE` transaction, into a fresh file
//! with the server's pragmas (WAL, synchronous=FULL, foreign_keys=ON, 32 MB cache) and the
//! server's table definition (primary key, unique op id, unique gseq, foreign key to
//! `tills`).

use std::path::Path;
use std::time::{Duration, Instant};

use loyalty_server::backend::hash::{event_hash, fact_json, ts};
use loyalty_wire::{EventEnvelope, UploadRequest};
use rusqlite::{params, Connection, TransactionBehavior};

use super::args::SyncArgs;
use super::load::{self, Load};
use super::prepare;
use super::server::EmbeddedServer;

/// Tills uploading at once.
pub const TILLS: usize = 4;
/// Events per upload: the sync's `upload_batch`.
pub const BATCH: usize = 200;

#[derive(Debug, Clone, Default)]
pub struct Ingest {
    pub events: usize,
    pub tills: usize,
    pub server_s: f64,
    pub server_per_s: f64,
    pub raw_s: f64,
    pub raw_per_s: f64,
    /// After the last answer, until the owner's analytics held every event (they follow
    /// the event log: `loyalty_server::backend::analytics::projection`). Not in the rate.
    pub analytics_s: f64,
    /// Machine load during the server part.
    pub load: Load,
}

impl Ingest {
    pub fn ratio(&self) -> f64 {
        crate::stats::ratio(self.server_per_s, self.raw_per_s)
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

pub fn run(dir: &Path, a: &SyncArgs) -> Result<Ingest, String> {
    let per_till = a.ingest_events.div_ceil(TILLS);
    let mut srv = EmbeddedServer::open(dir, "ingest-server")?;
    srv.start()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tills")
        .enable_all()
        .build()
        .map_err(err)?;
    let t = Instant::now();
    let tills = prepare::tills(
        &srv,
        &rt,
        dir,
        TILLS,
        ((per_till / 4).max(10), per_till),
        a.seed,
    )?;
    eprintln!(
        "ingest: {} tills with {per_till} offline sales each ready in {:.1} s",
        TILLS,
        t.elapsed().as_secs_f64()
    );
    let rows: Vec<(String, EventEnvelope)> = tills
        .iter()
        .flat_map(|t| {
            t.sales
                .iter()
                .map(|e| (t.till.server_id.clone(), e.clone()))
        })
        .collect();
    let mark = load::mark();
    let started = Instant::now();
    rt.block_on(async {
        let uploads = tills.iter().map(|t| {
            let transport = t.transport.clone();
            let till_id = t.till.server_id.clone();
            let batches: Vec<Vec<EventEnvelope>> =
                t.sales.chunks(BATCH).map(<[_]>::to_vec).collect();
            tokio::spawn(async move {
                for events in batches {
                    let last = events.last().map_or(0, |e| e.seq);
                    let resp = transport
                        .upload(UploadRequest {
                            till_id: till_id.clone(),
                            events,
                        })
                        .await
                        .map_err(err)?;
                    if resp.applied_upto != last || !resp.conflicts.is_empty() {
                        return Err(format!(
                            "upload settled up to {} of {last}: {:?}",
                            resp.applied_upto, resp.conflicts
                        ));
                    }
                }
                Ok::<_, String>(())
            })
        });
        for h in uploads.collect::<Vec<_>>() {
            h.await.map_err(err)??;
        }
        Ok::<_, String>(())
    })?;
    let server_s = started.elapsed().as_secs_f64();
    let load = load::since(mark);
    let answered = Instant::now();
    srv.analytics_caught_up()?;
    let analytics_s = answered.elapsed().as_secs_f64();
    drop(tills);
    rt.shutdown_timeout(Duration::from_secs(5));
    srv.shutdown()?;
    let raw_s = raw(&dir.join("raw-ingest.db"), &rows)?;
    let n = rows.len();
    Ok(Ingest {
        events: n,
        tills: TILLS,
        server_s,
        server_per_s: n as f64 / server_s,
        raw_s,
        raw_per_s: n as f64 / raw_s,
        analytics_s,
        load,
    })
}

/// The raw baseline: seconds to insert `rows` as the server's event rows.
pub fn raw(path: &Path, rows: &[(String, EventEnvelope)]) -> Result<f64, String> {
    let mut c = Connection::open(path).map_err(err)?;
    let mode: String = c
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(format!("raw baseline: journal_mode={mode}"));
    }
    c.execute_batch(
        "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-32000;
         CREATE TABLE tills (id TEXT PRIMARY KEY);
         CREATE TABLE events (
            till_id     TEXT NOT NULL REFERENCES tills (id),
            seq         BIGINT NOT NULL,
            op_id       TEXT NOT NULL UNIQUE,
            hash        TEXT NOT NULL,
            gseq        BIGINT NOT NULL UNIQUE,
            recorded_at TEXT NOT NULL,
            received_at TEXT NOT NULL,
            fact        TEXT NOT NULL,
            PRIMARY KEY (till_id, seq));",
    )
    .map_err(err)?;
    let mut tills: Vec<&str> = rows.iter().map(|(t, _)| t.as_str()).collect();
    tills.sort_unstable();
    tills.dedup();
    for t in tills {
        c.execute("INSERT INTO tills (id) VALUES (?1)", [t])
            .map_err(err)?;
    }
    let received = ts(chrono::Utc::now());
    let prepared: Vec<_> = rows
        .iter()
        .enumerate()
        .map(|(i, (till, e))| {
            let json = fact_json(&e.fact).map_err(err)?;
            let hash = event_hash(e.recorded_at, &json);
            Ok((
                till.as_str(),
                e.seq,
                e.op_id.to_string(),
                hash,
                i as i64 + 1,
                ts(e.recorded_at),
                json,
            ))
        })
        .collect::<Result<_, String>>()?;
    let started = Instant::now();
    for chunk in prepared.chunks(BATCH) {
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        {
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO events (till_id, seq, op_id, hash, gseq, recorded_at,
                        received_at, fact) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(err)?;
            for (till, seq, op, hash, gseq, recorded, json) in chunk {
                st.execute(params![till, seq, op, hash, gseq, recorded, received, json])
                    .map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
    }
    Ok(started.elapsed().as_secs_f64())
}
