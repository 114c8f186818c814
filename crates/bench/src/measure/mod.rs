//! Measurement phase: the store API against a raw rusqlite baseline, interleaved per
//! iteration (the order alternates) on the same connection and page cache, so both sides
//! see the same cache state. Also the process RSS.

mod breakdown;
mod checkout;
mod lookup;

use std::path::Path;

use chrono::{DateTime, Utc};
use loyalty_store::Store;
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use crate::cli::StoreArgs;
use crate::generate::store_options;
use crate::stats::{peak_rss_mib, rss_mib, Summary};

pub use breakdown::Breakdown;

/// One kind of lookup: the store API and its raw baseline.
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize)]
pub struct Pair {
    pub api: Summary,
    pub raw: Summary,
}

/// Everything the measurement phase reports.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Measurement {
    pub lookup_card: Pair,
    pub lookup_phone: Pair,
    pub lookup_qr: Pair,
    pub checkout: Pair,
    /// Checkouts that spent points.
    pub checkouts_with_spend: usize,
    pub breakdown: Breakdown,
    /// RSS right after `Store::open`, MiB.
    pub rss_open_mib: f64,
    /// Peak RSS (VmHWM) at the end of the measurement, MiB.
    pub peak_rss_mib: f64,
    /// The peak covers only the measurement (fresh process or reset high-water mark).
    pub peak_is_measurement_only: bool,
    pub invariant_violations: usize,
}

/// A member to look up: its customer id, active card and phone (if any).
pub struct Member {
    pub customer_id: i64,
    pub card: String,
    pub phone: Option<String>,
}

/// Picks a random member (untimed): customer id, its active primary card, phone.
pub fn random_member(
    store: &Store,
    rng: &mut fastrand::Rng,
    max_id: i64,
) -> Result<Member, String> {
    let mut st = store
        .connection()
        .prepare_cached(
            "SELECT cu.id, k.number, cu.phone FROM customers cu
             JOIN accounts a ON a.customer_id = cu.id
             JOIN cards k ON k.account_id = a.id
             WHERE cu.id = ?1 AND k.status = 'active'
             ORDER BY k.kind = 'family', k.issued_at LIMIT 1",
        )
        .map_err(|e| e.to_string())?;
    for _ in 0..100 {
        let id = rng.i64(1..=max_id);
        let found = st
            .query_row([id], |r| {
                Ok(Member {
                    customer_id: r.get(0)?,
                    card: r.get(1)?,
                    phone: r.get(2)?,
                })
            })
            .optional()
            .map_err(|e| e.to_string())?;
        if let Some(m) = found {
            return Ok(m);
        }
    }
    Err("no member with an active card found".into())
}

/// Tries to reset this process's peak RSS (Linux `clear_refs` 5), so that VmHWM covers only
/// what follows. Returns whether it worked.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Opens the store at `db` and measures. `fresh_process`: this process did nothing before
/// (the `store-measure` child), so VmHWM is the measurement's own.
pub fn run(db: &Path, args: &StoreArgs, fresh_process: bool) -> Result<Measurement, String> {
    let peak_only = fresh_process || reset_peak_rss();
    let mut store = Store::open(db, store_options()).map_err(|e| format!("Store::open: {e}"))?;
    let rss_open_mib = rss_mib();
    let conn = store.connection();
    let meta = |k: &str| -> Result<i64, String> {
        conn.query_row("SELECT value FROM bench_meta WHERE key = ?1", [k], |r| {
            r.get::<_, String>(0)
        })
        .map_err(|e| format!("bench_meta {k}: {e}"))?
        .parse()
        .map_err(|e| format!("bench_meta {k}: {e}"))
    };
    let now_ms = meta("now_ms")?;
    let max_id = meta("members")?;
    // Measure one hour after the generated history ends.
    let now: DateTime<Utc> =
        DateTime::from_timestamp_millis(now_ms + 3_600_000).ok_or("bad now_ms in bench_meta")?;
    let mut rng = fastrand::Rng::with_seed(args.seed);
    eprintln!(
        "measure: {} lookups of each kind (card, phone, QR), {} checkouts, rss {rss_open_mib:.0} MiB",
        args.lookups, args.checkouts
    );
    let lookups = lookup::run(&store, &mut rng, max_id, now, args)?;
    let breakdown = breakdown::run(&store, &mut rng, max_id, now, args.lookups.min(5_000))?;
    let (checkout, with_spend) = checkout::run(&mut store, &mut rng, max_id, now, args)?;
    let peak_rss_mib = peak_rss_mib();
    let invariant_violations = if args.members <= 100_000 {
        store.check_invariants().map_err(|e| e.to_string())?.len()
    } else {
        0
    };
    Ok(Measurement {
        lookup_card: lookups[0],
        lookup_phone: lookups[1],
        lookup_qr: lookups[2],
        checkout,
        checkouts_with_spend: with_spend,
        breakdown,
        rss_open_mib,
        peak_rss_mib,
        peak_is_measurement_only: peak_only,
        invariant_violations,
    })
}
