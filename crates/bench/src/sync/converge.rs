//! `converge_s`: N tills sell offline, then the server comes back; how long until every
//! till and the server agree.
//!
//! Setup (not timed): the server holds `accounts` generated members; till T01 bootstraps
//! them through the real snapshot API and its file is copied for the other tills (the same
//! image, each opened under its own till id and device token); every till runs the real
//! `SyncEngine` over `HttpTransport`. The server then stops listening (connections are
//! refused) and every till makes `sales` checkouts with the real store API (cards picked
//! uniformly among the members, 20 % spend points the till believes available: offline
//! overdraws happen).
//!
//! Timed: from the moment the server listens again on the same port. The engines find it
//! with their 1 s health probe, upload in batches of 200, pull changes and rebase, and
//! cycle again after their `catch_up_interval` (1 s) while there is something to move;
//! nobody nudges them. Converged = every till's outbox acknowledged, the server settled
//! every till's last seq, and every till's changes cursor is the server's gseq (polled
//! every 100 ms). Then checked, not assumed: for every account the server changed, each
//! till's balance equals the server's book.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use loyalty_sync::{SyncEngine, SyncHandle, SyncStatus, Transport};
use rusqlite::Connection;
use tokio::sync::watch;

use super::args::SyncArgs;
use super::check::{compare, Checked};
use super::load::{self, Load};
use super::members;
use super::server::{self, EmbeddedServer};
use super::till::BenchTill;

/// Give up after this long (reported as not converged).
const DEADLINE: Duration = Duration::from_secs(300);
const POLL: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Default)]
pub struct Converge {
    pub tills: usize,
    pub sales_per_till: usize,
    pub accounts: u64,
    pub accounts_touched: usize,
    pub events: u64,
    /// Seconds to make the offline sales (setup).
    pub offline_s: f64,
    /// Reconnect → every engine online again.
    pub detect_s: f64,
    /// Reconnect → every outbox acknowledged.
    pub uploaded_s: f64,
    /// Reconnect → everything equal; `None` if not within the deadline.
    pub converge_s: Option<f64>,
    /// Offline overdraws the server turned into shortfalls.
    pub shortfalls: i64,
    pub checked: Checked,
    /// Machine load while timed.
    pub load: Load,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

pub fn run(dir: &Path, a: &SyncArgs) -> Result<Converge, String> {
    let mut out = Converge {
        tills: a.tills,
        sales_per_till: a.sales,
        accounts: a.accounts,
        ..Converge::default()
    };
    let mut srv = EmbeddedServer::open(dir, "converge-server")?;
    let loaded = members::load(&srv.path, a.accounts, a.seed)?;
    eprintln!(
        "converge: {} members on the server in {:.1} s",
        loaded.members, loaded.seconds
    );
    let cards = members::cards(&srv.path)?;
    srv.start()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tills")
        .enable_all()
        .build()
        .map_err(err)?;
    let tills = make_tills(&srv, &rt, dir, a.tills)?;
    let mut engines: Vec<(SyncHandle, watch::Receiver<SyncStatus>)> = Vec::new();
    for t in &tills {
        let transport: Arc<dyn Transport> = t.http(&srv.base())?;
        let (access, config) = (t.access(), t.config());
        // Spawned on the tills' runtime; the task outlives this block_on.
        engines.push(rt.block_on(async { SyncEngine::spawn(access, transport, config) }));
    }
    rt.block_on(wait_for(&engines, |s| s.online && s.cycles > 0))?;
    srv.stop()?;
    let gseq_before = server::gseq(&srv.reader()?)?;
    let started = Instant::now();
    let touched = sell_offline(&tills, &cards, a)?;
    out.offline_s = started.elapsed().as_secs_f64();
    out.events = (a.tills * a.sales) as u64;
    for t in &tills {
        t.fast_writes(false)?;
    }
    eprintln!(
        "converge: {} offline sales on {} tills in {:.1} s ({} accounts); server back now",
        out.events,
        a.tills,
        out.offline_s,
        touched.len()
    );
    for (h, _) in &engines {
        h.nudge();
    }
    rt.block_on(wait_for(&engines, |s| !s.online))?;

    let reader = srv.reader()?;
    let mark = load::mark();
    let t0 = Instant::now();
    srv.start()?;
    let timing = rt.block_on(observe(&engines, &tills, &reader, t0))?;
    out.load = load::since(mark);
    (out.detect_s, out.uploaded_s, out.converge_s) = timing;
    out.shortfalls = reader
        .query_row("SELECT COUNT(*) FROM shortfalls", [], |r| r.get(0))
        .map_err(err)?;
    for (h, _) in engines {
        rt.block_on(h.shutdown());
    }
    // Checked, not assumed: every account the server changed, on every till.
    let changed = changed_accounts(&reader, gseq_before)?;
    out.accounts_touched = changed.len();
    if changed.iter().collect::<HashSet<_>>() != touched.iter().collect::<HashSet<_>>() {
        return Err(format!(
            "the server changed {} accounts, the tills sold to {}",
            changed.len(),
            touched.len()
        ));
    }
    let all: Vec<&BenchTill> = tills.iter().collect();
    out.checked = compare(&reader, &all, &changed, Utc::now())?;
    for t in &tills {
        let bad = t.lock().check_invariants().map_err(err)?;
        if !bad.is_empty() {
            return Err(format!("till {}: invariant broken on {bad:?}", t.name));
        }
    }
    drop(tills);
    rt.shutdown_timeout(Duration::from_secs(5));
    srv.shutdown()?;
    Ok(out)
}

/// T01 bootstraps from the server; the others are copies of its file under their own ids.
fn make_tills(
    srv: &EmbeddedServer,
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    n: usize,
) -> Result<Vec<BenchTill>, String> {
    let first = BenchTill::open(dir, "T01", srv.register("Store 1")?)?;
    let t = Instant::now();
    let report = rt
        .block_on(first.syncer(first.http(&srv.base())?).sync_once())
        .map_err(err)?;
    eprintln!(
        "converge: T01 bootstrapped {} accounts in {:.1} s; copied for {} more tills",
        report.accounts,
        t.elapsed().as_secs_f64(),
        n - 1
    );
    first
        .lock()
        .connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .map_err(err)?;
    let mut tills = vec![first];
    for i in 2..=n {
        let name = format!("T{i:02}");
        std::fs::copy(&tills[0].path, dir.join(format!("{name}.db"))).map_err(err)?;
        let id = srv.register(&format!("Store {}", i.div_ceil(2)))?;
        tills.push(BenchTill::open(dir, &name, id)?);
    }
    Ok(tills)
}

/// Every till sells on its own thread; returns the accounts sold to.
fn sell_offline(
    tills: &[BenchTill],
    cards: &[(String, String)],
    a: &SyncArgs,
) -> Result<Vec<String>, String> {
    for t in tills {
        t.fast_writes(true)?;
    }
    let picked: Vec<Vec<usize>> = std::thread::scope(|scope| {
        let workers: Vec<_> = tills
            .iter()
            .enumerate()
            .map(|(i, t)| {
                scope.spawn(move || -> Result<Vec<usize>, String> {
                    let mut rng = fastrand::Rng::with_seed(a.seed ^ (i as u64 + 1));
                    let mut picked = Vec::with_capacity(a.sales);
                    for _ in 0..a.sales {
                        let m = rng.usize(..cards.len());
                        let spend = if rng.u8(..100) < 20 { 100 } else { 0 };
                        t.sale(&cards[m].1, rng.i64(5_000..300_000), spend)?;
                        picked.push(m);
                    }
                    Ok(picked)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Err("a till panicked".into())))
            .collect::<Result<_, String>>()
    })?;
    let mut seen: Vec<usize> = picked.into_iter().flatten().collect();
    seen.sort_unstable();
    seen.dedup();
    Ok(seen.into_iter().map(|m| cards[m].0.clone()).collect())
}

/// Waits (up to a minute) until every engine's status satisfies `f`.
async fn wait_for(
    engines: &[(SyncHandle, watch::Receiver<SyncStatus>)],
    f: impl Fn(&SyncStatus) -> bool,
) -> Result<(), String> {
    let t = Instant::now();
    while !engines.iter().all(|(_, s)| f(&s.borrow())) {
        if t.elapsed() > Duration::from_secs(60) {
            return Err("the sync engines did not reach the expected state".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Polls until converged: `(detect_s, uploaded_s, converge_s)`.
async fn observe(
    engines: &[(SyncHandle, watch::Receiver<SyncStatus>)],
    tills: &[BenchTill],
    reader: &Connection,
    t0: Instant,
) -> Result<(f64, f64, Option<f64>), String> {
    let (mut detect, mut uploaded) = (None, None);
    let mut last_progress = Instant::now();
    loop {
        let now = t0.elapsed().as_secs_f64();
        if detect.is_none() && engines.iter().all(|(_, s)| s.borrow().online) {
            detect = Some(now);
        }
        let per_till = tills
            .iter()
            .map(BenchTill::pending)
            .collect::<Result<Vec<_>, _>>()?;
        let pending: i64 = per_till.iter().sum();
        if uploaded.is_none() && pending == 0 {
            uploaded = Some(now);
        }
        if pending == 0 && settled(tills, reader)? {
            return Ok((detect.unwrap_or(now), uploaded.unwrap_or(now), Some(now)));
        }
        if t0.elapsed() > DEADLINE {
            return Ok((detect.unwrap_or(now), uploaded.unwrap_or(now), None));
        }
        if last_progress.elapsed() > Duration::from_secs(2) {
            last_progress = Instant::now();
            eprintln!(
                "converge: {now:.1} s: {pending} events pending (per till {per_till:?}), server gseq {}",
                server::gseq(reader)?
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The server settled every till's last seq and every till pulled up to the server's gseq.
fn settled(tills: &[BenchTill], reader: &Connection) -> Result<bool, String> {
    let gseq = server::gseq(reader)?;
    for t in tills {
        let last: i64 = reader
            .prepare_cached("SELECT last_seq FROM till_cursors WHERE till_id = ?1")
            .map_err(err)?
            .query_row([&t.server_id], |r| r.get(0))
            .map_err(err)?;
        let (own_last, cursor) = {
            let s = t.lock();
            (
                s.outbox_last_seq().map_err(err)?,
                s.sync_cursor().map_err(err)?,
            )
        };
        if last != own_last || cursor != gseq {
            return Ok(false);
        }
    }
    Ok(true)
}

fn changed_accounts(reader: &Connection, gseq_before: i64) -> Result<Vec<String>, String> {
    let mut st = reader
        .prepare("SELECT uid FROM accounts WHERE gseq > ?1 ORDER BY uid")
        .map_err(err)?;
    let rows = st.query_map([gseq_before], |r| r.get(0)).map_err(err)?;
    rows.collect::<rusqlite::Result<_>>().map_err(err)
}
