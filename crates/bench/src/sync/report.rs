//! The sync benchmark's table and final JSON line.

use std::fmt::Write;

use serde_json::{json, Map, Value};

use super::accruals::Accruals;
use super::bootstrap::Bootstrap;
use super::converge::Converge;
use super::ingest::Ingest;
use super::load::Load;

/// Goals (reported, never asserted).
pub const GOAL_CONVERGE_S: f64 = 10.0;
pub const GOAL_INGEST_RATIO: f64 = 0.5;
pub const GOAL_BOOTSTRAP_1M_S: f64 = 20.0;
pub const GOAL_ACCRUALS_PER_S: f64 = 2_000.0;
pub const GOAL_ACCRUAL_P99_MS: f64 = 50.0;

#[derive(Debug, Default)]
pub struct SyncReport {
    pub full_size: bool,
    pub converge: Option<Converge>,
    pub ingest: Option<Ingest>,
    pub bootstrap: Option<Bootstrap>,
    pub accruals: Option<Accruals>,
}

fn r2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "MISSED"
    }
}

fn load_json(l: &Load) -> Value {
    json!({
        "machine_cores_busy": r2(l.machine_cores_busy),
        "bench_cores_busy": r2(l.bench_cores_busy),
        "other_cores_busy": r2(l.others()),
        "loadavg_1m": r2(l.loadavg_1m),
        "server_cpu_s": r2(l.server_cpu_s),
        "rest_cpu_s": r2(l.rest_cpu_s()),
    })
}

/// The machine's load, and the CPU per unit of work (`n` `what`s) of the server's threads
/// and of the rest of the process (the tills).
fn load_text(l: &Load, n: usize, what: &str) -> String {
    let per = |s: f64| s * 1e6 / n.max(1) as f64;
    format!(
        "machine: {:.2} of {} cores busy, {:.2} by the benchmark, {:.2} by other work; \
         µs CPU per {what}: server threads {:.0}, the rest (tills) {:.0}",
        l.machine_cores_busy,
        l.cores,
        l.bench_cores_busy,
        l.others(),
        per(l.server_cpu_s),
        per(l.rest_cpu_s()),
    )
}

impl SyncReport {
    pub fn converge_ok(c: &Converge) -> bool {
        c.checked.mismatches == 0 && c.converge_s.is_some_and(|s| s <= GOAL_CONVERGE_S)
    }

    pub fn accruals_ok(a: &Accruals) -> bool {
        a.per_s >= GOAL_ACCRUALS_PER_S && a.latency.p99_us / 1000.0 < GOAL_ACCRUAL_P99_MS
    }

    pub fn json(&self) -> Value {
        let mut v = Map::new();
        let mut goals = Map::new();
        v.insert("full_size".into(), json!(self.full_size));
        if let Some(c) = &self.converge {
            let l = &c.load;
            v.insert("converge_s".into(), json!(c.converge_s.map(r2)));
            v.insert(
                "converge".into(),
                json!({
                    "tills": c.tills, "sales_per_till": c.sales_per_till, "events": c.events,
                    "accounts": c.accounts, "accounts_touched": c.accounts_touched,
                    "offline_sales_s": r2(c.offline_s), "detect_s": r2(c.detect_s),
                    "uploaded_s": r2(c.uploaded_s), "shortfalls": c.shortfalls,
                    "compared": c.checked.compared, "mismatches": c.checked.mismatches,
                    "load": load_json(l),
                }),
            );
            goals.insert("converge_s".into(), json!(Self::converge_ok(c)));
        }
        if let Some(i) = &self.ingest {
            let l = &i.load;
            v.insert("ingest_ratio".into(), json!(r2(i.ratio())));
            v.insert("ingest_per_s".into(), json!(i.server_per_s.round()));
            v.insert("raw_insert_per_s".into(), json!(i.raw_per_s.round()));
            v.insert(
                "ingest".into(),
                json!({
                    "events": i.events, "tills": i.tills, "batch": super::ingest::BATCH,
                    "server_s": r2(i.server_s), "raw_s": r2(i.raw_s),
                    "analytics_behind_s": r2(i.analytics_s), "load": load_json(l),
                }),
            );
            goals.insert("ingest_ratio".into(), json!(i.ratio() >= GOAL_INGEST_RATIO));
        }
        if let Some(b) = &self.bootstrap {
            let l = &b.load;
            v.insert("bootstrap_1m_s".into(), json!(r2(b.per_million_s())));
            v.insert(
                "changes_states_per_s".into(),
                json!(crate::stats::ratio(b.changes_states as f64, b.changes_s).round()),
            );
            v.insert(
                "bootstrap".into(),
                json!({
                    "members": b.members, "seconds": r2(b.bootstrap_s),
                    "extrapolated_to_1m": b.members != 1_000_000,
                    "pages": b.pages, "page_size": b.page_size,
                    "server_generate_s": r2(b.generate_s), "till_db_mib": r2(b.till_db_mib),
                    "book_bytes": b.book_bytes.round(), "profile_bytes": b.profile_bytes.round(),
                    "compared": b.checked.compared, "mismatches": b.checked.mismatches,
                    "changes_states": b.changes_states, "changes_s": r2(b.changes_s),
                    "changes_server_cpu_s": r2(b.changes_server_cpu_s),
                    "load": load_json(l),
                }),
            );
            goals.insert(
                "bootstrap_1m_s".into(),
                json!(b.checked.mismatches == 0 && b.per_million_s() <= GOAL_BOOTSTRAP_1M_S),
            );
        }
        if let Some(a) = &self.accruals {
            let l = &a.load;
            v.insert("accruals_per_s".into(), json!(a.per_s.round()));
            v.insert(
                "accrual_p99_ms".into(),
                json!(r2(a.latency.p99_us / 1000.0)),
            );
            v.insert(
                "accruals".into(),
                json!({
                    "clients": a.clients, "requests": a.requests, "seconds": r2(a.seconds),
                    "p50_ms": r2(a.latency.p50_us / 1000.0),
                    "p90_ms": r2(a.latency.p90_us / 1000.0),
                    "max_ms": r2(a.latency.max_us / 1000.0), "load": load_json(l),
                }),
            );
            goals.insert("accruals".into(), json!(Self::accruals_ok(a)));
        }
        v.insert("goals_met".into(), Value::Object(goals));
        Value::Object(v)
    }

    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "\nsync benchmark (embedded server on 127.0.0.1, SQLite backend){}",
            if self.full_size {
                ""
            } else {
                " — SCALED-DOWN RUN: goals are stated for the full size"
            }
        );
        if let Some(c) = &self.converge {
            let l = &c.load;
            let conv = c
                .converge_s
                .map_or("not within the deadline".to_string(), |x| {
                    format!("{x:.2} s")
                });
            let _ = writeln!(
                s,
                "\nconvergence: {} tills × {} offline sales ({} accounts touched of {})\n  \
                 reconnect → all equal: {conv} (goal ≤ {GOAL_CONVERGE_S} s: {})\n  \
                 engines online again after {:.2} s, every outbox acknowledged after {:.2} s\n  \
                 checked: {} (account, till) balances, {} mismatches; \
                 {} offline overdraws became shortfalls\n  {}",
                c.tills,
                c.sales_per_till,
                c.accounts_touched,
                c.accounts,
                verdict(Self::converge_ok(c)),
                c.detect_s,
                c.uploaded_s,
                c.checked.compared,
                c.checked.mismatches,
                c.shortfalls,
                load_text(l, c.events as usize, "event")
            );
            for e in &c.checked.examples {
                let _ = writeln!(s, "  mismatch: {e}");
            }
        }
        if let Some(i) = &self.ingest {
            let l = &i.load;
            let _ = writeln!(
                s,
                "\ningest: {} sale events, {} tills × batches of {}\n  \
                 server (HTTP upload): {:.0} events/s ({:.2} s)\n  \
                 owner's analytics complete {:.2} s after the last answer\n  \
                 raw batched INSERT:   {:.0} events/s ({:.2} s)\n  \
                 ratio {:.2} (goal ≥ {GOAL_INGEST_RATIO}: {})\n  {}",
                i.events,
                i.tills,
                super::ingest::BATCH,
                i.server_per_s,
                i.server_s,
                i.analytics_s,
                i.raw_per_s,
                i.raw_s,
                i.ratio(),
                verdict(i.ratio() >= GOAL_INGEST_RATIO),
                load_text(l, i.events, "event")
            );
        }
        if let Some(b) = &self.bootstrap {
            let l = &b.load;
            let ok = b.checked.mismatches == 0 && b.per_million_s() <= GOAL_BOOTSTRAP_1M_S;
            let _ = writeln!(
                s,
                "\nbootstrap: {} members in {} snapshot pages of {}: {:.2} s{} \
                 (goal ≤ {GOAL_BOOTSTRAP_1M_S} s per 1M: {})\n  \
                 server rows generated in {:.1} s; till file {:.0} MiB; {} sampled accounts \
                 compared, {} mismatches\n  {}\n  \
                 then {} account states pulled as changes, pages of 1000 one after the other: \
                 {:.2} s ({:.0} states/s; server threads {:.1} µs CPU per state)",
                b.members,
                b.pages,
                b.page_size,
                b.bootstrap_s,
                if b.members == 1_000_000 {
                    String::new()
                } else {
                    format!(" (= {:.2} s per 1M)", b.per_million_s())
                },
                verdict(ok),
                b.generate_s,
                b.till_db_mib,
                b.checked.compared,
                b.checked.mismatches,
                load_text(l, b.members as usize, "member"),
                b.changes_states,
                b.changes_s,
                crate::stats::ratio(b.changes_states as f64, b.changes_s),
                crate::stats::ratio(b.changes_server_cpu_s * 1e6, b.changes_states as f64)
            );
        }
        if let Some(a) = &self.accruals {
            let l = &a.load;
            let _ = writeln!(
                s,
                "\naccruals: {} online sale events, one per request, {} tills at once\n  \
                 {:.0} accruals/s, latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms\n  \
                 (goal ≥ {GOAL_ACCRUALS_PER_S} /s at p99 < {GOAL_ACCRUAL_P99_MS} ms: {})\n  {}",
                a.requests,
                a.clients,
                a.per_s,
                a.latency.p50_us / 1000.0,
                a.latency.p90_us / 1000.0,
                a.latency.p99_us / 1000.0,
                a.latency.max_us / 1000.0,
                verdict(Self::accruals_ok(a)),
                load_text(l, a.requests, "accrual")
            );
        }
        s
    }
}
