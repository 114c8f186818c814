//! The whole pipeline at a few hundred members into a temporary directory (no timing
//! asserts: only that it runs, the data is consistent and the JSON line is complete).

use crate::cli::StoreArgs;
use crate::generate::store_options;
use crate::pipeline::run_store;

const KEYS: &[&str] = &[
    "members",
    "generate_s",
    "lookup_p50_us",
    "lookup_p99_us",
    "raw_lookup_p99_us",
    "lookup_ratio",
    "lookup_card_p99_us",
    "lookup_phone_p99_us",
    "lookup_qr_p99_us",
    "raw_lookup_card_p99_us",
    "raw_lookup_phone_p99_us",
    "raw_lookup_qr_p99_us",
    "lookup_card_ratio",
    "lookup_phone_ratio",
    "lookup_qr_ratio",
    "checkout_p50_us",
    "raw_checkout_p50_us",
    "checkout_ratio",
    "rss_mib",
];

#[test]
fn pipeline_at_500_members() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = StoreArgs::new(500, dir.path().to_path_buf());
    args.lookups = 200;
    args.checkouts = 10;
    args.warmup = 20;
    args.in_process = true;
    let report = run_store(&args).expect("pipeline");
    assert!(!report.generated.reused);
    assert_eq!(report.m.invariant_violations, 0);

    let store = loyalty_store::Store::open(args.db_path(), store_options()).expect("open");
    assert_eq!(store.check_invariants().expect("check"), Vec::<i64>::new());
    let conn = store.connection();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
    assert_eq!(count("SELECT COUNT(*) FROM customers"), 500);
    assert!(count("SELECT COUNT(*) FROM sales") > 500);
    assert!(count("SELECT COUNT(*) FROM cards WHERE kind = 'family'") > 0);
    assert!(count("SELECT COUNT(*) FROM lots WHERE expired > 0") > 0);
    assert!(count("SELECT COUNT(*) FROM lots WHERE remaining > 0 AND remaining < original") > 0);
    let bad_cards: Vec<String> = {
        let mut st = conn.prepare("SELECT number FROM cards").expect("prepare");
        let rows = st.query_map([], |r| r.get::<_, String>(0)).expect("query");
        rows.filter_map(Result::ok)
            .filter(|n| loyalty_cards::card::validate(n).is_err())
            .collect()
    };
    assert!(bad_cards.is_empty(), "{bad_cards:?}");
    // The generator writes each account's cached scan figures itself: they must be what the
    // lots say (the scan view uses the cache, `balance` reads the lots).
    let now = chrono::Utc::now();
    let accounts: Vec<(i64, i64)> = {
        let mut st = conn
            .prepare("SELECT id, customer_id FROM accounts WHERE cache_until IS NOT NULL")
            .expect("prepare");
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query");
        rows.map(|r| r.expect("row")).collect()
    };
    assert!(
        accounts.len() >= 450,
        "most caches are fresh: {}",
        accounts.len()
    );
    for (account, customer) in accounts {
        let view = store.customer(customer, now).expect("view");
        assert_eq!(view.balance, store.balance(account, now).expect("balance"));
    }
    drop(store);

    let v = report.json();
    let line = v.to_string();
    assert!(!line.contains('\n'));
    for key in KEYS {
        let x = v[*key].as_f64().unwrap_or(-1.0);
        assert!(x.is_finite() && x >= 0.0, "{key} = {}", v[*key]);
    }
    assert_eq!(v["members"], 500);
    for key in [
        "lookup_p99_us",
        "raw_lookup_p99_us",
        "checkout_p50_us",
        "rss_mib",
    ] {
        assert!(v[key].as_f64().unwrap_or(0.0) > 0.0, "{key} = {}", v[key]);
    }
    assert!(report.table().contains("lookup card"));

    // A second run reuses the file; the store still works on it (enrol continues the card
    // serials and receipt numbers without collisions).
    args.lookups = 20;
    args.checkouts = 2;
    let again = run_store(&args).expect("second run");
    assert!(again.generated.reused);
    let mut store = loyalty_store::Store::open(args.db_path(), store_options()).expect("open");
    let now = chrono::Utc::now();
    let enrolled = store
        .enrol(
            uuid::Uuid::now_v7(),
            loyalty_store::NewCustomer {
                name: "Новый Клиент".into(),
                phone: Some("8 999 000-00-01".into()),
                ..Default::default()
            },
            now,
        )
        .expect("enrol on the generated database");
    assert!(loyalty_cards::card::validate(&enrolled.card).is_ok());
    assert_eq!(store.check_invariants().expect("check"), Vec::<i64>::new());
}
