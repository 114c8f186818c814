//! Where a `Store::lookup` spends its time: the statements it runs (SQL copied from
//! `crates/store` — lookup.rs, ledger.rs, checkout.rs — at the time of writing), timed one
//! by one on the same connection, plus the phone normalisation and the QR verification, and
//! SQLite's query plan of each statement.

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use loyalty_cards::{phone, QrSigner, VirtualCard};
use loyalty_store::Store;
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use super::random_member;
use crate::generate::{names::phone_human, store_options};
use crate::stats::{Samples, Summary};

/// The store's card-scan query (lookup.rs `BY_CARD`), with its correlated card list.
const STORE_ROW: &str = "SELECT a.id, a.shortfall, a.lifetime_spend, a.lifetime_purchases,
    a.stamps, a.club_until, a.birthday_bonus_year, a.referral_pending, cu.id, cu.uid, cu.name,
    cu.phone, cu.email, cu.birthday, cu.gender, cu.age_group, cu.home_store,
    cu.preferred_channel, cu.marketing_consent, cu.consent_at, cu.tags, cu.referrer_id,
    cu.enrolled_at, cu.enrolled_store, cu.enrolled_till,
    (SELECT group_concat(k.number || '|' || k.kind || '|' || k.status || '|' ||
            COALESCE(k.replaced_by, '') || '|' || k.issued_at, ',')
     FROM cards k WHERE k.account_id = a.id)
    FROM cards c JOIN accounts a ON a.id = c.account_id JOIN customers cu ON cu.id = a.customer_id
    WHERE c.number = ?1";

/// ledger.rs `lots_balance`: one aggregate over the account's open lots.
const LOTS_BALANCE: &str = "SELECT
    COALESCE(SUM(CASE WHEN available_at <= ?2 AND (expires_at IS NULL OR expires_at > ?2)
                      THEN remaining END), 0),
    COALESCE(SUM(CASE WHEN available_at > ?2 AND (expires_at IS NULL OR expires_at > ?2)
                      THEN remaining END), 0),
    COALESCE(SUM(CASE WHEN expires_at > ?2 AND expires_at <= ?3 THEN remaining END), 0),
    MIN(CASE WHEN expires_at > ?2 THEN expires_at END)
    FROM lots WHERE account_id = ?1 AND remaining > 0";

/// checkout.rs `snapshot`: the rolling tier window (the demo program: 365 days).
const WINDOW: &str = "SELECT COALESCE(SUM(after_discounts - returned_spend), 0),
    COUNT(CASE WHEN returned_amount < subtotal THEN 1 END)
    FROM sales WHERE account_id = ?1 AND sold_at > ?2 AND sold_at <= ?3";

/// Per-component latency and query plans.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Breakdown {
    /// `(component, latency)`.
    pub parts: Vec<(String, Summary)>,
    /// `(statement, EXPLAIN QUERY PLAN lines joined by "; ")`.
    pub plans: Vec<(String, String)>,
}

fn plan(conn: &Connection, sql: &str, n: usize) -> String {
    let explain = format!("EXPLAIN QUERY PLAN {sql}");
    let Ok(mut st) = conn.prepare(&explain) else {
        return "(cannot explain)".into();
    };
    let args: Vec<i64> = vec![1; n];
    let rows = st.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3));
    match rows {
        Ok(rows) => rows.filter_map(Result::ok).collect::<Vec<_>>().join("; "),
        Err(_) => "(cannot explain)".into(),
    }
}

pub fn run(
    store: &Store,
    rng: &mut fastrand::Rng,
    max_id: i64,
    now: DateTime<Utc>,
    n: usize,
) -> Result<Breakdown, String> {
    let conn = store.connection();
    let e = |e: rusqlite::Error| e.to_string();
    let verifier = QrSigner::from_seed(&store_options().qr_seed).verifier();
    let signer = QrSigner::from_seed(&store_options().qr_seed);
    let names = [
        "store row query (card → account → customer + card list)",
        "lots balance aggregate",
        "tier window aggregate (sales, 365 days)",
        "phone normalisation (libphonenumber)",
        "QR verification (ed25519)",
    ];
    let mut samples: Vec<Samples> = names.iter().map(|_| Samples::with_capacity(n)).collect();
    let now_ms = now.timestamp_millis();
    let soon = (now + Duration::days(30)).timestamp_millis();
    let since = (now - Duration::days(365)).timestamp_millis();
    for _ in 0..n {
        let m = random_member(store, rng, max_id)?;
        let t = Instant::now();
        let account: i64 = conn
            .prepare_cached(STORE_ROW)
            .and_then(|mut st| st.query_row([&m.card], |r| r.get(0)))
            .map_err(e)?;
        samples[0].push(t.elapsed());
        let t = Instant::now();
        let _: (i64, i64, i64, Option<i64>) = conn
            .prepare_cached(LOTS_BALANCE)
            .and_then(|mut st| {
                st.query_row(params![account, now_ms, soon], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
            })
            .map_err(e)?;
        samples[1].push(t.elapsed());
        let t = Instant::now();
        let _: (i64, i64) = conn
            .prepare_cached(WINDOW)
            .and_then(|mut st| {
                st.query_row(params![account, since, now_ms], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
            })
            .map_err(e)?;
        samples[2].push(t.elapsed());
        let typed = phone_human(m.phone.as_deref().unwrap_or("+79161234567"));
        let t = Instant::now();
        let _ = phone::normalize(&typed, "RU");
        samples[3].push(t.elapsed());
        let qr = signer.sign(&VirtualCard {
            card: m.card.clone(),
            issued_at: now - Duration::minutes(1),
            expires_at: now + Duration::days(1),
        });
        let t = Instant::now();
        verifier.verify(&qr, now).map_err(|e| e.to_string())?;
        samples[4].push(t.elapsed());
    }
    Ok(Breakdown {
        parts: names
            .iter()
            .zip(&samples)
            .map(|(name, s)| (name.to_string(), s.summary()))
            .collect(),
        plans: vec![
            ("store row query".into(), plan(conn, STORE_ROW, 1)),
            ("lots balance".into(), plan(conn, LOTS_BALANCE, 3)),
            ("tier window".into(), plan(conn, WINDOW, 3)),
        ],
    })
}
