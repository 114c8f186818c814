//! Lookups by card, phone (typed like a cashier: "8 916 123-45-67") and virtual-card QR
//! through `Store::lookup` (the full customer panel) against one raw indexed SELECT of the
//! same customer row, random members, API and raw alternating first.

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use loyalty_cards::{QrSigner, VirtualCard};
use loyalty_store::Store;
use rusqlite::{Connection, OptionalExtension, Row};

use super::{random_member, Pair};
use crate::cli::StoreArgs;
use crate::generate::{names::phone_human, store_options};
use crate::stats::Samples;

/// The customer and account columns the store's panel shows (no card list, no balance).
const RAW_COLS: &str = "SELECT a.id, a.shortfall, a.lifetime_spend, a.lifetime_purchases,
    a.stamps, a.club_until, a.birthday_bonus_year, a.referral_pending, cu.id, cu.uid, cu.name,
    cu.phone, cu.email, cu.birthday, cu.gender, cu.age_group, cu.home_store,
    cu.preferred_channel, cu.marketing_consent, cu.consent_at, cu.tags, cu.referrer_id,
    cu.enrolled_at, cu.enrolled_store, cu.enrolled_till";

/// The decoded raw row (the baseline pays for decoding too).
#[allow(dead_code)] // fields are read only to make the baseline do the work
pub struct RawRow {
    account_id: i64,
    pub customer_id: i64,
    numbers: [Option<i64>; 10],
    texts: [Option<String>; 12],
}

fn read(r: &Row<'_>) -> rusqlite::Result<RawRow> {
    let mut numbers = [None; 10];
    for (n, col) in numbers.iter_mut().zip([1, 2, 3, 4, 5, 6, 7, 18, 19, 21]) {
        *n = r.get(col)?;
    }
    let mut texts: [Option<String>; 12] = Default::default();
    for (t, col) in texts
        .iter_mut()
        .zip([9, 10, 11, 12, 13, 14, 15, 16, 17, 20, 23, 24])
    {
        *t = r.get(col)?;
    }
    let _: i64 = r.get(22)?;
    Ok(RawRow {
        account_id: r.get(0)?,
        customer_id: r.get(8)?,
        numbers,
        texts,
    })
}

/// Raw: card → account → customer, one prepared (cached) statement.
pub fn raw_by_card(conn: &Connection, card: &str) -> rusqlite::Result<Option<RawRow>> {
    conn.prepare_cached(&format!(
        "{RAW_COLS} FROM cards c JOIN accounts a ON a.id = c.account_id
         JOIN customers cu ON cu.id = a.customer_id WHERE c.number = ?1"
    ))?
    .query_row([card], read)
    .optional()
}

/// Raw: E.164 phone → customer → account.
pub fn raw_by_phone(conn: &Connection, e164: &str) -> rusqlite::Result<Option<RawRow>> {
    conn.prepare_cached(&format!(
        "{RAW_COLS} FROM customers cu JOIN accounts a ON a.customer_id = cu.id
         WHERE cu.phone = ?1"
    ))?
    .query_row([e164], read)
    .optional()
}

fn check(kind: &str, got: Option<i64>, want: i64) -> Result<(), String> {
    if got == Some(want) {
        Ok(())
    } else {
        Err(format!(
            "{kind} lookup returned customer {got:?}, expected {want}"
        ))
    }
}

/// `[card, phone, qr]`.
pub fn run(
    store: &Store,
    rng: &mut fastrand::Rng,
    max_id: i64,
    now: DateTime<Utc>,
    args: &StoreArgs,
) -> Result<[Pair; 3], String> {
    let signer = QrSigner::from_seed(&store_options().qr_seed);
    let conn = store.connection();
    let total = args.warmup + args.lookups;
    let mut api: [Samples; 3] = std::array::from_fn(|_| Samples::with_capacity(args.lookups));
    let mut raw: [Samples; 3] = std::array::from_fn(|_| Samples::with_capacity(args.lookups));
    let e = |e: rusqlite::Error| e.to_string();
    for i in 0..total {
        let m = random_member(store, rng, max_id)?;
        let mut p = random_member(store, rng, max_id)?;
        while p.phone.is_none() {
            p = random_member(store, rng, max_id)?;
        }
        let e164 = p.phone.clone().unwrap_or_default();
        let typed = phone_human(&e164);
        let qr = signer.sign(&VirtualCard {
            card: m.card.clone(),
            issued_at: now - Duration::minutes(1),
            expires_at: now + Duration::days(1),
        });
        let record = i >= args.warmup;
        let api_first = i % 2 == 0;
        let cases: [(&str, &str, i64); 3] = [
            ("card", m.card.as_str(), m.customer_id),
            ("phone", typed.as_str(), p.customer_id),
            ("qr", qr.as_str(), m.customer_id),
        ];
        for (k, (kind, input, want)) in cases.into_iter().enumerate() {
            for side in 0..2 {
                if (side == 0) == api_first {
                    let t = Instant::now();
                    let view = store.lookup(input, now);
                    let d = t.elapsed();
                    let view = view.map_err(|e| format!("{kind} lookup {input:?}: {e}"))?;
                    check(kind, Some(view.customer.id), want)?;
                    if record {
                        api[k].push(d);
                    }
                } else {
                    let t = Instant::now();
                    let row = if kind == "phone" {
                        raw_by_phone(conn, &e164).map_err(e)?
                    } else {
                        raw_by_card(conn, &m.card).map_err(e)?
                    };
                    let d = t.elapsed();
                    check(kind, row.map(|r| r.customer_id), want)?;
                    if record {
                        raw[k].push(d);
                    }
                }
            }
        }
        if i > 0 && i % 5_000 == 0 {
            eprintln!("measure: {i}/{total} lookup rounds");
        }
    }
    Ok(std::array::from_fn(|k| Pair {
        api: api[k].summary(),
        raw: raw[k].summary(),
    }))
}
