//! Durable checkouts through `Store::checkout` (synchronous=FULL, a realistic basket, every
//! third one spending points) against a raw synchronous=FULL transaction doing one UPDATE
//! and one INSERT on scratch tables in the same file, on the store's own connection.

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use loyalty_domain::{Basket, BasketLine};
use loyalty_store::{CheckoutRequest, Store};
use rusqlite::{params, Connection};
use uuid::Uuid;

use super::{random_member, Pair};
use crate::cli::StoreArgs;
use crate::stats::Samples;

const CATEGORIES: &[&str] = &["grocery", "dairy", "bakery", "drinks", "household"];

fn basket(rng: &mut fastrand::Rng) -> Basket {
    let lines = (0..rng.usize(1..=6))
        .map(|_| {
            let qty = rng.i64(1..=3);
            BasketLine {
                sku: format!("SKU-{:05}", rng.u32(..20_000)),
                category: Some(CATEGORIES[rng.usize(..CATEGORIES.len())].to_string()),
                qty,
                amount: qty * rng.i64(39..=1_499) * 100,
            }
        })
        .collect();
    Basket::new(lines)
}

/// The baseline: BEGIN IMMEDIATE; one UPDATE; one INSERT; COMMIT (durable, same file).
fn raw_checkout(conn: &Connection, account: i64, amount: i64, at: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    conn.prepare_cached("UPDATE bench_scratch_counter SET value = value + 1 WHERE id = 1")?
        .execute([])?;
    conn.prepare_cached(
        "INSERT INTO bench_scratch_log (account_id, amount, created_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![account, amount, at])?;
    conn.prepare_cached("COMMIT")?.execute([])?;
    Ok(())
}

/// Returns the pair and how many checkouts spent points.
pub fn run(
    store: &mut Store,
    rng: &mut fastrand::Rng,
    max_id: i64,
    now: DateTime<Utc>,
    args: &StoreArgs,
) -> Result<(Pair, usize), String> {
    let e = |e: rusqlite::Error| e.to_string();
    store
        .connection()
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS bench_scratch_counter (id INTEGER PRIMARY KEY,
                 value INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS bench_scratch_log (id INTEGER PRIMARY KEY,
                 account_id INTEGER NOT NULL, amount INTEGER NOT NULL,
                 created_at INTEGER NOT NULL);
             INSERT OR IGNORE INTO bench_scratch_counter (id, value) VALUES (1, 0);",
        )
        .map_err(e)?;
    let warmup = args.warmup.min(20);
    let total = warmup + args.checkouts;
    let (mut api, mut raw) = (Samples::default(), Samples::default());
    let mut with_spend = 0;
    for i in 0..total {
        let m = random_member(store, rng, max_id)?;
        let basket = basket(rng);
        let at = now + Duration::milliseconds(i as i64 * 50);
        let spend = if i % 3 == 0 {
            let q = store
                .quote(&m.card, &basket, 0, at)
                .map_err(|e| format!("quote {}: {e}", m.card))?;
            q.max_redeemable / 2
        } else {
            0
        };
        let record = i >= warmup;
        let req = CheckoutRequest {
            card: m.card.clone(),
            basket,
            spend,
            receipt: None,
        };
        let amount = req.basket.total();
        for side in 0..2 {
            if (side == 0) == (i % 2 == 0) {
                let op = Uuid::now_v7();
                let t = Instant::now();
                let r = store.checkout(op, req.clone(), at);
                let d = t.elapsed();
                let r = r.map_err(|e| format!("checkout {}: {e}", m.card))?;
                if r.points_spent != spend {
                    return Err(format!("checkout spent {} not {spend}", r.points_spent));
                }
                if record {
                    api.push(d);
                    with_spend += usize::from(spend > 0);
                }
            } else {
                let conn = store.connection();
                let t = Instant::now();
                raw_checkout(conn, m.customer_id, amount, at.timestamp_millis()).map_err(e)?;
                let d = t.elapsed();
                if record {
                    raw.push(d);
                }
            }
        }
    }
    Ok((
        Pair {
            api: api.summary(),
            raw: raw.summary(),
        },
        with_spend,
    ))
}
