//! Shared helpers of the store's integration tests.
#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use loyalty_domain::{Basket, BasketLine, ProgramConfig, ReferralRule};
use loyalty_store::{CheckoutRequest, Enrolled, NewCustomer, Receipt, Store, StoreOptions};
use std::path::Path;
use uuid::Uuid;

pub const SEED: [u8; 32] = [7; 32];

pub fn t(days: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 10, 12, 0, 0)
        .single()
        .expect("base time")
        + Duration::days(days)
}

pub fn opts() -> StoreOptions {
    StoreOptions {
        till_id: "T01".into(),
        store_id: "S1".into(),
        default_region: "RU".into(),
        qr_seed: SEED,
    }
}

/// The test program: welcome 100, no hold, 12-month expiry, referral 200/100, no cumulative
/// discount (so spend caps are plain 30 % of the check).
pub fn program() -> ProgramConfig {
    ProgramConfig {
        version: ProgramConfig::default().version + 1,
        effective_from: DateTime::<Utc>::UNIX_EPOCH,
        welcome_bonus: 100,
        hold_days: 0,
        expiry_months: Some(12),
        referral: Some(ReferralRule {
            referrer_points: 200,
            referee_points: 100,
        }),
        birthday: None,
        stamps: None,
        cumulative: Vec::new(),
        ..ProgramConfig::default()
    }
}

pub fn open(path: &Path) -> Store {
    let mut s = Store::open(path, opts()).expect("open store");
    s.set_program(&program(), t(0)).expect("set program");
    s
}

pub fn op() -> Uuid {
    Uuid::now_v7()
}

pub fn enrol(s: &mut Store, name: &str, phone: &str) -> Enrolled {
    s.enrol(
        op(),
        NewCustomer {
            name: name.into(),
            phone: Some(phone.into()),
            ..NewCustomer::default()
        },
        t(0),
    )
    .expect("enrol")
}

pub fn line(sku: &str, qty: i64, amount: i64) -> BasketLine {
    BasketLine {
        sku: sku.into(),
        category: None,
        qty,
        amount,
    }
}

pub fn buy(s: &mut Store, card: &str, amount: i64, spend: i64, day: i64) -> Receipt {
    s.checkout(
        op(),
        CheckoutRequest {
            card: card.into(),
            basket: Basket::single(amount),
            spend,
            receipt: None,
        },
        t(day),
    )
    .expect("checkout")
}

/// Every row of every table, as text: equal fingerprints = nothing changed.
pub fn fingerprint(s: &Store) -> String {
    let conn = s.connection();
    let mut out = String::new();
    let tables: Vec<String> = {
        let mut st = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .expect("tables");
        let rows = st.query_map([], |r| r.get(0)).expect("query");
        rows.map(|r| r.expect("row")).collect()
    };
    for table in tables {
        out.push_str(&format!("## {table}\n"));
        let mut st = conn
            .prepare(&format!("SELECT * FROM \"{table}\""))
            .expect("select");
        let n = st.column_count();
        let mut rows = st.query([]).expect("rows");
        while let Some(row) = rows.next().expect("next") {
            for i in 0..n {
                let v: rusqlite::types::Value = row.get(i).expect("value");
                out.push_str(&format!("{v:?}|"));
            }
            out.push('\n');
        }
    }
    out
}

pub fn assert_invariants(s: &Store) {
    assert_eq!(s.check_invariants().expect("invariants"), Vec::<i64>::new());
}
