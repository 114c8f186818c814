//! Idempotent replays, errors that change nothing, reopen, migration checksums.

mod common;

use common::*;
use loyalty_domain::Basket;
use loyalty_store::{CheckoutRequest, NewCustomer, ReturnItems, ReturnRequest, Store};

#[test]
fn every_operation_replays_its_original_result_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("till.db"));
    let nc = NewCustomer {
        name: "Replay".into(),
        phone: Some("+79161234567".into()),
        ..NewCustomer::default()
    };
    let (o1, o2, o3, o4, o5, o6, o7) = (op(), op(), op(), op(), op(), op(), op());
    let e = s.enrol(o1, nc.clone(), t(0)).unwrap();
    let req = CheckoutRequest {
        card: e.card.clone(),
        basket: Basket::single(10_000),
        spend: 10,
        receipt: None,
    };
    let r = s.checkout(o2, req.clone(), t(1)).unwrap();
    let ret = ReturnRequest {
        receipt_no: r.receipt_no.clone(),
        items: ReturnItems::Amount(5_000),
    };
    let rr = s.return_sale(o3, ret.clone(), t(2)).unwrap();
    let a = s.adjust(o4, e.account_id, 7, "r", "owner", t(2)).unwrap();
    let fam = s.add_family_card(o5, e.account_id, t(2)).unwrap();
    let new = s.block_card_and_reissue(o6, &e.card, t(3)).unwrap();
    let x = s.expire(o7, t(3)).unwrap();
    let fp = fingerprint(&s);
    assert_eq!(s.enrol(o1, nc.clone(), t(9)).unwrap(), e);
    assert_eq!(s.checkout(o2, req.clone(), t(9)).unwrap(), r);
    assert_eq!(s.return_sale(o3, ret.clone(), t(9)).unwrap(), rr);
    assert_eq!(
        s.adjust(o4, e.account_id, 7, "r", "owner", t(9)).unwrap(),
        a
    );
    assert_eq!(s.add_family_card(o5, e.account_id, t(9)).unwrap(), fam);
    assert_eq!(s.block_card_and_reissue(o6, &e.card, t(9)).unwrap(), new);
    assert_eq!(s.expire(o7, t(9)).unwrap(), x);
    assert_eq!(fingerprint(&s), fp, "replays change nothing");
    // same op id, different request → OP_CONFLICT, nothing changed
    let conflicts = [
        s.enrol(
            o1,
            NewCustomer {
                name: "Other".into(),
                ..nc.clone()
            },
            t(9),
        )
        .map(|_| ()),
        s.checkout(
            o2,
            CheckoutRequest {
                spend: 0,
                ..req.clone()
            },
            t(9),
        )
        .map(|_| ()),
        s.return_sale(
            o3,
            ReturnRequest {
                items: ReturnItems::All,
                ..ret
            },
            t(9),
        )
        .map(|_| ()),
        s.adjust(o4, e.account_id, 8, "r", "owner", t(9))
            .map(|_| ()),
        s.adjust(o1, e.account_id, 7, "r", "owner", t(9))
            .map(|_| ()),
        s.add_family_card(o5, 12345, t(9)).map(|_| ()),
        s.expire(o2, t(9)).map(|_| ()),
    ];
    for c in conflicts {
        assert_eq!(c.unwrap_err().code(), "OP_CONFLICT");
    }
    assert_eq!(fingerprint(&s), fp);
    // one event per operation that is a fact (the expiry sweep is local: no event)
    assert_eq!(s.outbox_last_seq().unwrap(), 6, "one event per fact");
    assert_invariants(&s);
}

#[test]
fn errors_leave_the_database_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("till.db"));
    let e = enrol(&mut s, "Err", "+79161234567");
    let r = buy(&mut s, &e.card, 10_000, 0, 1);
    let fp = fingerprint(&s);
    let unknown = loyalty_cards::card::generate("20001", 9_999_999).unwrap();
    let last = e.card.as_bytes()[12] - b'0';
    let mistyped = format!("{}{}", &e.card[..12], (last + 1) % 10);
    let nc = |phone: &str| NewCustomer {
        name: "X".into(),
        phone: Some(phone.into()),
        ..NewCustomer::default()
    };
    let co = |card: &str, amount: i64, spend: i64| CheckoutRequest {
        card: card.into(),
        basket: Basket::single(amount),
        spend,
        receipt: None,
    };
    let cases: Vec<(&str, Result<(), loyalty_store::StoreError>)> = vec![
        (
            "DUPLICATE_PHONE",
            s.enrol(op(), nc("8 (916) 123-45-67"), t(2)).map(|_| ()),
        ),
        ("PHONE_INVALID", s.enrol(op(), nc("12"), t(2)).map(|_| ())),
        (
            "INVALID_INPUT",
            s.enrol(op(), NewCustomer::default(), t(2)).map(|_| ()),
        ),
        (
            "UNKNOWN_CARD",
            s.enrol(
                op(),
                NewCustomer {
                    referrer: Some("+79990000000".into()),
                    ..nc("+79161234500")
                },
                t(2),
            )
            .map(|_| ()),
        ),
        (
            "UNKNOWN_CARD",
            s.checkout(op(), co(&unknown, 1000, 0), t(2)).map(|_| ()),
        ),
        (
            "CARD_BAD_CHECK_DIGIT",
            s.checkout(op(), co(&mistyped, 1000, 0), t(2)).map(|_| ()),
        ),
        (
            "INSUFFICIENT_POINTS",
            s.checkout(op(), co(&e.card, 10_000_000, 1_000_000), t(2))
                .map(|_| ()),
        ),
        (
            "SPEND_OVER_CAP",
            s.checkout(op(), co(&e.card, 100, 50), t(2)).map(|_| ()),
        ),
        (
            "UNKNOWN_RECEIPT",
            s.return_sale(
                op(),
                ReturnRequest {
                    receipt_no: "T01-999".into(),
                    items: ReturnItems::All,
                },
                t(2),
            )
            .map(|_| ()),
        ),
        (
            "RETURN_EXCEEDS_SALE",
            s.return_sale(
                op(),
                ReturnRequest {
                    receipt_no: r.receipt_no.clone(),
                    items: ReturnItems::Amount(10_001),
                },
                t(2),
            )
            .map(|_| ()),
        ),
        (
            "INSUFFICIENT_POINTS",
            s.adjust(op(), e.account_id, -1_000_000, "x", "y", t(2))
                .map(|_| ()),
        ),
        (
            "UNKNOWN_CARD",
            s.block_card_and_reissue(op(), &unknown, t(2)).map(|_| ()),
        ),
        ("QR_MALFORMED", s.lookup("LC1.garbage", t(2)).map(|_| ())),
        (
            "DUPLICATE_RECEIPT",
            s.checkout(
                op(),
                CheckoutRequest {
                    receipt: Some(r.receipt_no.clone()),
                    ..co(&e.card, 1000, 0)
                },
                t(2),
            )
            .map(|_| ()),
        ),
    ];
    for (code, res) in cases {
        let err = res.expect_err(code);
        assert_eq!(err.code(), code, "{err}");
        assert!(!err.to_string().is_empty());
    }
    assert_eq!(fingerprint(&s), fp, "no error changed anything");
}

#[test]
fn reopen_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("till.db");
    let (e, fp, hist) = {
        let mut s = open(&path);
        let e = enrol(&mut s, "Persist", "+79161234567");
        buy(&mut s, &e.card, 25_000, 0, 1);
        s.add_family_card(op(), e.account_id, t(1)).unwrap();
        (
            e.clone(),
            fingerprint(&s),
            s.history(e.customer_id).unwrap(),
        )
    };
    let mut s = Store::open(&path, opts()).unwrap();
    assert_eq!(fingerprint(&s), fp);
    assert_eq!(s.history(e.customer_id).unwrap(), hist);
    // counters continue: the next receipt and card numbers do not collide
    let r = buy(&mut s, &e.card, 1000, 0, 2);
    assert_eq!(r.receipt_no, "T01-000002");
    let e2 = enrol(&mut s, "Second", "+79161234568");
    assert_ne!(e2.card, e.card);
    assert_invariants(&s);
}

#[test]
fn an_edited_applied_migration_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("till.db");
    drop(open(&path));
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute(
            "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1",
            [],
        )
        .unwrap();
    }
    let err = Store::open(&path, opts()).err().expect("must refuse");
    assert_eq!(err.code(), "DB_MIGRATION_CHANGED");
    // same through the migrate API with an edited text
    let mut conn = rusqlite::Connection::open(dir.path().join("other.db")).unwrap();
    loyalty_store::db::migrate(&mut conn, loyalty_store::db::MIGRATIONS).unwrap();
    let edited = [loyalty_store::db::Migration {
        version: 1,
        name: "0001_init",
        sql: "-- edited\nSELECT 1;",
    }];
    let err = loyalty_store::db::migrate(&mut conn, &edited).unwrap_err();
    assert_eq!(err.code(), "DB_MIGRATION_CHANGED");
    let err = loyalty_store::db::migrate(&mut conn, &[]).unwrap_err();
    assert_eq!(err.code(), "DB_MIGRATION_UNKNOWN");
}

#[test]
fn pragmas_are_durable() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("till.db"));
    enrol(&mut s, "Ledger", "+79161234567");
    let c = s.connection();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    let sync: i64 = c.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
    let fk: i64 = c
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!((mode.as_str(), sync, fk), ("wal", 2, 1));
    let err = c.execute("DELETE FROM ledger", []).unwrap_err();
    assert!(err.to_string().contains("append-only"));
}

/// Migrations run with foreign keys off (a table may be rebuilt) but one that leaves a
/// key broken is not committed; keys the database had broken before do not block it.
#[test]
fn a_migration_that_breaks_a_foreign_key_is_refused() {
    use loyalty_store::db::{migrate, Migration};
    let base = |extra: Vec<Migration>| -> Vec<Migration> {
        let mut all: Vec<Migration> = loyalty_store::db::MIGRATIONS
            .iter()
            .map(|m| Migration {
                version: m.version,
                name: m.name,
                sql: m.sql,
            })
            .collect();
        all.extend(extra);
        all
    };
    let broken_card = Migration {
        version: 100,
        name: "0100_broken",
        sql: "INSERT INTO cards (number, account_id, kind, issued_at, op_id)
              VALUES ('2000000000001', 999, 'primary', 0, 'x');",
    };
    let dir = tempfile::tempdir().unwrap();
    let mut conn = rusqlite::Connection::open(dir.path().join("a.db")).unwrap();
    migrate(&mut conn, &base(vec![])).unwrap();
    let err = migrate(&mut conn, &base(vec![broken_card])).unwrap_err();
    assert_eq!(err.code(), "DB_CORRUPT", "{err}");
    let cards: i64 = conn
        .query_row("SELECT COUNT(*) FROM cards", [], |r| r.get(0))
        .unwrap();
    assert_eq!(cards, 0, "nothing of it committed");
    let fk: i64 = conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1, "enforced again");

    // A key broken before (written with enforcement off) does not block the next one.
    conn.execute_batch(
        "PRAGMA foreign_keys=OFF;
         INSERT INTO cards (number, account_id, kind, issued_at, op_id)
             VALUES ('2000000000002', 998, 'primary', 0, 'y');
         PRAGMA foreign_keys=ON;",
    )
    .unwrap();
    let harmless = Migration {
        version: 101,
        name: "0101_harmless",
        sql: "CREATE INDEX cards_kind ON cards(kind);",
    };
    migrate(&mut conn, &base(vec![harmless])).unwrap();
}
