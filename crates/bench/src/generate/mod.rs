//! Builds (or reuses) the till database of N members.
//!
//! The file is created by `loyalty_store::Store::open`, so the schema is the product's own
//! migrations; then one raw rusqlite connection bulk-loads it in ONE transaction (journal
//! off and `synchronous=OFF` only while loading, a large page cache, explicit ids so every
//! b-tree grows at its end) while a second thread simulates the members. The WAL /
//! `synchronous=FULL` settings are restored at the end. A `bench_meta` marker (generator
//! version, member count, applied migrations) written in the same transaction lets the next
//! run reuse the file.

mod aftercare;
pub mod member;
pub mod names;
mod rows;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use loyalty_domain::ProgramConfig;
use loyalty_store::{Store, StoreOptions};
use rusqlite::{params, Connection, OptionalExtension};

use crate::stats::{peak_rss_mib, rss_mib};
use member::{Ids, Sim, DAY, STORE_ID, TILL_ID};

/// Bump when the generated data changes shape: older files are rebuilt.
const GENERATOR_VERSION: &str = "2";
/// Page cache of the loading connection (KiB): the randomly ordered indexes stay in memory.
const LOAD_CACHE_KIB: i64 = 1_048_576;
const BATCH: usize = 1_024;

/// Options of the till the benchmark runs as.
pub fn store_options() -> StoreOptions {
    StoreOptions {
        till_id: TILL_ID.into(),
        store_id: STORE_ID.into(),
        default_region: "RU".into(),
        qr_seed: [42u8; 32],
    }
}

/// The database to measure.
#[derive(Debug, Clone)]
pub struct Generated {
    pub path: PathBuf,
    pub members: u64,
    /// Seconds the generation took (the stored figure when reused).
    pub generate_s: f64,
    pub reused: bool,
    pub rows: u64,
    pub db_mib: f64,
    /// RSS of this process right after generation (0 when reused).
    pub rss_after_mib: f64,
    /// Peak RSS of this process during generation (0 when reused).
    pub peak_rss_mib: f64,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn schema_marker(conn: &Connection) -> rusqlite::Result<String> {
    conn.query_row(
        "SELECT COALESCE(group_concat(version || ':' || checksum, ','), '')
         FROM (SELECT version, checksum FROM schema_migrations ORDER BY version)",
        [],
        |r| r.get(0),
    )
}

fn meta(conn: &Connection, key: &str) -> Option<String> {
    conn.query_row("SELECT value FROM bench_meta WHERE key = ?1", [key], |r| {
        r.get(0)
    })
    .optional()
    .ok()
    .flatten()
}

/// The generated file at `path` if it is complete and matches `members` and the schema.
fn reusable(path: &Path, members: u64) -> Option<Generated> {
    let store = Store::open(path, store_options()).ok()?;
    let conn = store.connection();
    let schema = schema_marker(conn).ok()?;
    let same = meta(conn, "complete")? == "1"
        && meta(conn, "generator")? == GENERATOR_VERSION
        && meta(conn, "members")? == members.to_string()
        && meta(conn, "schema")? == schema;
    if !same {
        return None;
    }
    Some(Generated {
        path: path.to_path_buf(),
        members,
        generate_s: meta(conn, "generate_s")?.parse().ok()?,
        reused: true,
        rows: meta(conn, "rows")?.parse().ok()?,
        db_mib: file_mib(path),
        rss_after_mib: 0.0,
        peak_rss_mib: 0.0,
    })
}

fn file_mib(path: &Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1_048_576.0)
}

fn remove_db(path: &Path) -> Result<(), String> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("removing {}: {e}", PathBuf::from(p).display())),
        }
    }
    Ok(())
}

/// Reuses `<path>` when it matches, else (re)builds it with `members` members.
pub fn ensure(path: &Path, members: u64, regenerate: bool) -> Result<Generated, String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    if !regenerate && path.exists() {
        if let Some(g) = reusable(path, members) {
            eprintln!(
                "reusing {} ({members} members, generated in {:.1} s)",
                path.display(),
                g.generate_s
            );
            return Ok(g);
        }
        eprintln!("{} does not match: regenerating", path.display());
    }
    remove_db(path)?;
    generate(path, members)
}

fn generate(path: &Path, members: u64) -> Result<Generated, String> {
    let started = Instant::now();
    // The product creates the file: its migrations, pragmas and default program.
    let schema = {
        let store = Store::open(path, store_options()).map_err(err)?;
        schema_marker(store.connection()).map_err(err)?
    };
    let now_ms = chrono::Utc::now().timestamp_millis();
    let mut conn = Connection::open(path).map_err(err)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=OFF", [], |r| r.get(0))
        .map_err(err)?;
    conn.execute_batch(&format!(
        "PRAGMA synchronous=OFF; PRAGMA foreign_keys=OFF; PRAGMA cache_size=-{LOAD_CACHE_KIB}; PRAGMA temp_store=MEMORY;
         PRAGMA threads=2; PRAGMA locking_mode=EXCLUSIVE;"
    ))
    .map_err(err)?;
    eprintln!(
        "generate: {members} members into {} (journal {mode} while loading)",
        path.display()
    );
    let (rows, ids) = load(&mut conn, members, now_ms, started, &schema)?;
    let secs = started.elapsed().as_secs_f64();
    conn.execute(
        "INSERT OR REPLACE INTO bench_meta (key, value) VALUES ('generate_s', ?1)",
        [format!("{secs:.2}")],
    )
    .map_err(err)?;
    conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0))
        .map_err(err)?;
    conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA locking_mode=NORMAL;")
        .map_err(err)?;
    drop(conn);
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "generate: done in {secs:.1} s: {rows} rows, {} sales, {} lots, {} cards, {:.0} MiB",
        ids.sale,
        ids.lot,
        ids.card_serial,
        file_mib(path)
    );
    Ok(Generated {
        path: path.to_path_buf(),
        members,
        generate_s: secs,
        reused: false,
        rows,
        db_mib: file_mib(path),
        rss_after_mib: rss_mib(),
        peak_rss_mib: peak_rss_mib(),
    })
}

/// One transaction: bench tables, all members (simulated on a second thread), the till's
/// counters, the marker.
fn load(
    conn: &mut Connection,
    members: u64,
    now_ms: i64,
    started: Instant,
    schema: &str,
) -> Result<(u64, Ids), String> {
    let tx = conn.transaction().map_err(err)?;
    // Secondary indexes are dropped and rebuilt after the load with the schema's own SQL
    // (sorted builds, two sorter threads): much cheaper than a million random inserts.
    let indexes: Vec<(String, String)> = {
        let mut st = tx
            .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
            .map_err(err)?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(err)?
    };
    for (name, _) in &indexes {
        tx.execute_batch(&format!("DROP INDEX \"{name}\""))
            .map_err(err)?;
    }
    // The cache-invalidating triggers too: the loader writes each account's cache itself.
    let triggers: Vec<(String, String)> = {
        let mut st = tx
            .prepare(
                "SELECT name, sql FROM sqlite_master
                 WHERE type = 'trigger' AND tbl_name IN ('lots', 'sales')",
            )
            .map_err(err)?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(err)?
    };
    for (name, _) in &triggers {
        tx.execute_batch(&format!("DROP TRIGGER \"{name}\""))
            .map_err(err)?;
    }
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS bench_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS bench_scratch_counter (id INTEGER PRIMARY KEY,
             value INTEGER NOT NULL);
         CREATE TABLE IF NOT EXISTS bench_scratch_log (id INTEGER PRIMARY KEY,
             account_id INTEGER NOT NULL, amount INTEGER NOT NULL, created_at INTEGER NOT NULL);
         INSERT OR IGNORE INTO bench_scratch_counter (id, value) VALUES (1, 0);",
    )
    .map_err(err)?;
    let (send, recv) = mpsc::sync_channel::<Result<Vec<_>, String>>(8);
    let producer = std::thread::spawn(move || {
        let mut sim = Sim {
            rng: fastrand::Rng::with_seed(members ^ 0x5eed),
            now: now_ms,
            start: now_ms - 3 * 365 * DAY,
            members,
            ids: Ids::default(),
        };
        let mut serial = 1;
        while serial <= members {
            let end = (serial + BATCH as u64).min(members + 1);
            let batch: Result<Vec<_>, String> = (serial..end).map(|s| sim.member(s)).collect();
            let failed = batch.is_err();
            if send.send(batch).is_err() || failed {
                break;
            }
            serial = end;
        }
        sim.ids
    });
    let mut w = writer::Writer::new(&tx);
    let (mut done, mut last_report) = (0u64, Instant::now());
    let mut write_s = 0.0;
    // Accounts that got a lot from another member's rows (referrers): their cache is
    // recomputed from the database after the load.
    let mut foreign: Vec<i64> = Vec::new();
    for batch in recv {
        let t = Instant::now();
        let batch = batch?;
        for m in &batch {
            let own = m.customer.id;
            foreign.extend(m.lots.iter().map(|l| l.account_id).filter(|&a| a != own));
        }
        w.write(&batch).map_err(err)?;
        write_s += t.elapsed().as_secs_f64();
        done = (done + BATCH as u64).min(members);
        if last_report.elapsed().as_secs_f64() >= 2.0 || done == members {
            last_report = Instant::now();
            eprintln!(
                "generate: {done}/{members} members, {:.1} M rows, {:.1} s, rss {:.0} MiB",
                w.rows as f64 / 1e6,
                started.elapsed().as_secs_f64(),
                rss_mib()
            );
        }
    }
    let rows = w.rows;
    let per_table: Vec<String> = w
        .per_table
        .iter()
        .map(|(t, s)| format!("{t} {s:.1}"))
        .collect();
    eprintln!(
        "generate: seconds writing each table: {}",
        per_table.join(", ")
    );
    drop(w);
    eprintln!(
        "generate: loaded in {:.1} s, {write_s:.1} s of it writing (the rest waiting for the simulation)",
        started.elapsed().as_secs_f64()
    );
    let ids = producer
        .join()
        .map_err(|_| "the member simulation thread panicked".to_string())?;
    if done != members {
        return Err(format!("generated {done} of {members} members"));
    }
    let t = Instant::now();
    for (_, sql) in &indexes {
        tx.execute_batch(sql).map_err(err)?;
    }
    eprintln!(
        "generate: {} secondary indexes rebuilt in {:.1} s",
        indexes.len(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    foreign.sort_unstable();
    foreign.dedup();
    let window = ProgramConfig::default().tiers.window;
    for account in &foreign {
        loyalty_store::cache::refresh(&tx, *account, now_ms, &window).map_err(err)?;
    }
    for (_, sql) in &triggers {
        tx.execute_batch(sql).map_err(err)?;
    }
    eprintln!(
        "generate: {} referrer caches refreshed in {:.1} s",
        foreign.len(),
        t.elapsed().as_secs_f64()
    );
    tx.execute(
        "INSERT OR REPLACE INTO till_meta (key, value) VALUES ('card_serial', ?1), ('receipt_seq', ?2)",
        params![i64::try_from(ids.card_serial).map_err(err)?, ids.sale],
    )
    .map_err(err)?;
    for (k, v) in [
        ("generator", GENERATOR_VERSION.to_string()),
        ("members", members.to_string()),
        ("schema", schema.to_string()),
        ("now_ms", now_ms.to_string()),
        ("rows", rows.to_string()),
        ("complete", "1".to_string()),
    ] {
        tx.execute(
            "INSERT OR REPLACE INTO bench_meta (key, value) VALUES (?1, ?2)",
            params![k, v],
        )
        .map_err(err)?;
    }
    tx.commit().map_err(err)?;
    Ok((rows, ids))
}
