//! A first start on an empty store (`bulk.rs`, migration 0012): the customers' phone and
//! name indexes are dropped while the snapshot pages are written and built after the last
//! one; two server customers with one phone end as a page applied with the index in place
//! leaves them (the first keeps it, the other is reported); a start cut short, or stopped
//! half-way, builds them again. And migration 0012 itself on a store with data.

mod support_sync;

use chrono::{DateTime, Utc};
use loyalty_store::{NewCustomer, Store, SyncBatch};
use loyalty_wire::ChangesResponse;
use rusqlite::Connection;
use support_sync::server::Server;
use support_sync::{open, t, t0};
use uuid::Uuid;

const INDEXES: [&str; 2] = ["customers_phone", "customers_name_norm"];

fn enrol(s: &mut Store, name: &str, phone: &str, now: DateTime<Utc>) -> String {
    support_sync::enrol(s, name, phone, now).2
}

fn present(c: &Connection) -> Vec<bool> {
    INDEXES
        .iter()
        .map(|n| {
            c.query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?1",
                [n],
                |r| r.get::<_, i64>(0),
            )
            .expect("schema")
                == 1
        })
        .collect()
}

fn phone_of(s: &Store, uid: &str) -> Option<String> {
    s.connection()
        .query_row("SELECT phone FROM customers WHERE uid = ?1", [uid], |r| {
            r.get(0)
        })
        .expect("customer")
}

/// Two tills enrolled one phone for two people before either synced: the server holds
/// both. Returns the changes answer and the two uids in the order the server sends them.
fn shared_phone_server() -> (ChangesResponse, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::default();
    let mut t1 = open(&dir.path().join("t1.db"), "T01");
    let mut t2 = open(&dir.path().join("t2.db"), "T02");
    let a = enrol(&mut t1, "Anna", "+79161110011", t0());
    let b = enrol(&mut t2, "Anna B", "+79161110011", t(1));
    enrol(&mut t2, "Boris", "+79161110012", t(1));
    server.upload("T01", &mut t1);
    server.upload("T02", &mut t2);
    let changes = server.changes("T03", 0, t(2));
    let at = |uid: &str| {
        changes
            .accounts
            .iter()
            .position(|s| s.account_uid == uid)
            .expect("sent")
    };
    let (first, second) = if at(&a) < at(&b) { (a, b) } else { (b, a) };
    (changes, first, second)
}

fn page<'a>(c: &'a ChangesResponse, range: std::ops::Range<usize>, last: bool) -> SyncBatch<'a> {
    SyncBatch {
        accounts: &c.accounts[range],
        programs: &c.programs,
        cursor: last.then_some(c.next),
        included_upto_seq: 0,
        server_time: t(2),
    }
}

#[test]
fn a_first_start_builds_the_indexes_after_its_last_page_and_keeps_the_first_phone() {
    let (changes, first, second) = shared_phone_server();
    let n = changes.accounts.len();
    assert_eq!(n, 3);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = open(&dir.path().join("t3.db"), "T03");
    assert_eq!(present(s.connection()), [true, true]);
    s.apply_snapshot_page(&page(&changes, 0..2, false), t(2))
        .expect("page 1");
    assert_eq!(
        present(s.connection()),
        [false, false],
        "dropped on an empty store"
    );
    let r = s
        .apply_snapshot_page(&page(&changes, 2..n, true), t(2))
        .expect("page 2");
    assert_eq!(
        present(s.connection()),
        [true, true],
        "built after the last page"
    );
    assert_eq!(r.phone_conflicts, vec![second.clone()]);
    assert_eq!(phone_of(&s, &first).as_deref(), Some("+79161110011"));
    assert_eq!(phone_of(&s, &second), None);
    let found = s.lookup("+79161110011", t(2)).expect("by phone");
    assert_eq!(found.customer.uid, first);
    assert_eq!(s.check_invariants().expect("invariants"), Vec::<i64>::new());

    // A till that already had a customer keeps its indexes: the page's conflict is found
    // and reported as it is inserted.
    let dir2 = tempfile::tempdir().expect("tempdir");
    let mut busy = open(&dir2.path().join("t4.db"), "T04");
    enrol(&mut busy, "Local", "+79160000000", t0());
    let r = busy
        .apply_snapshot_page(&page(&changes, 0..n, true), t(2))
        .expect("page");
    assert_eq!(present(busy.connection()), [true, true]);
    assert_eq!(r.phone_conflicts, vec![second.clone()]);
    assert_eq!(phone_of(&busy, &first).as_deref(), Some("+79161110011"));
}

#[test]
fn a_first_start_cut_short_or_stopped_builds_the_indexes_again() {
    let (changes, first, second) = shared_phone_server();
    let n = changes.accounts.len();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t3.db");
    {
        let mut s = open(&path, "T03");
        s.apply_snapshot_page(&page(&changes, 0..n, false), t(2))
            .expect("all but the cursor");
        assert_eq!(present(s.connection()), [false, false]);
        // The process stops here (a crash, a power cut): nothing else runs.
    }
    let mut s = open(&path, "T03");
    assert_eq!(present(s.connection()), [true, true], "built when opened");
    assert_eq!(phone_of(&s, &first).as_deref(), Some("+79161110011"));
    assert_eq!(phone_of(&s, &second), None);
    // Written again (as the changes since cursor 0 the next cycle pulls) on a store with
    // customers: the general path, the same end.
    let r = s
        .apply_snapshot_page(&page(&changes, 0..n, true), t(2))
        .expect("again");
    assert_eq!(present(s.connection()), [true, true]);
    assert_eq!(r.phone_conflicts, vec![second.clone()]);
    assert_eq!(s.sync_cursor().expect("cursor"), changes.next);

    // Stopped half-way without a crash: the sync engine calls `end_snapshot`.
    let dir2 = tempfile::tempdir().expect("tempdir");
    let mut s = open(&dir2.path().join("t5.db"), "T05");
    s.apply_snapshot_page(&page(&changes, 0..1, false), t(2))
        .expect("page 1");
    assert_eq!(present(s.connection()), [false, false]);
    s.end_snapshot().expect("end");
    assert_eq!(present(s.connection()), [true, true]);
}

/// Migration 0012 rebuilds `customers` on a store with data: every row and reference
/// kept, the phone still unique.
#[test]
fn migration_0012_keeps_every_customer_and_the_phone_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("old.db");
    let mut conn = Connection::open(&path).expect("open");
    loyalty_store::db::configure(&conn).expect("configure");
    let before_0012: Vec<_> = loyalty_store::db::MIGRATIONS
        .iter()
        .filter(|m| m.version < 12)
        .map(|m| loyalty_store::db::Migration {
            version: m.version,
            name: m.name,
            sql: m.sql,
        })
        .collect();
    loyalty_store::db::migrate(&mut conn, &before_0012).expect("0001..0011");
    conn.execute_batch(
        "INSERT INTO customers (id, uid, name, name_norm, phone, enrolled_at, enrolled_store,
            enrolled_till, op_id) VALUES
            (1, 'u1', 'Anna', 'anna', '+1', 0, 's', 't', 'o1'),
            (2, 'u2', 'Boris', 'boris', NULL, 0, 's', 't', 'o2');
         UPDATE customers SET referrer_id = 1 WHERE id = 2;
         INSERT INTO accounts (id, customer_id, created_at, uid) VALUES (10, 1, 0, 'u1'),
            (11, 2, 0, 'u2');",
    )
    .expect("rows");
    drop(conn);
    let s = Store::open(&path, support_sync::options("T01")).expect("migrated");
    let c = s.connection();
    let rows: Vec<(i64, String, Option<String>, Option<i64>)> = c
        .prepare("SELECT id, uid, phone, referrer_id FROM customers ORDER BY id")
        .expect("select")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("rows")
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    assert_eq!(
        rows,
        vec![
            (1, "u1".into(), Some("+1".into()), None),
            (2, "u2".into(), None, Some(1)),
        ]
    );
    assert_eq!(present(c), [true, true]);
    let broken: i64 = c
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .expect("fk check");
    assert_eq!(broken, 0);
    let fk_on: i64 = c
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .expect("pragma");
    assert_eq!(fk_on, 1, "enforced again after the migrations");
    let dup = c.execute(
        "INSERT INTO customers (uid, name, name_norm, phone, enrolled_at, enrolled_store,
            enrolled_till, op_id) VALUES ('u3', 'C', 'c', '+1', 0, 's', 't', 'o3')",
        [],
    );
    assert!(dup.is_err(), "the phone is still unique");
    let orphan = c.execute(
        "INSERT INTO accounts (customer_id, created_at, uid) VALUES (99, 0, 'u9')",
        [],
    );
    assert!(orphan.is_err(), "foreign keys are enforced");
}

/// Every row a first start writes with its multi-row inserts (`bulk_rows.rs`, 64 accounts
/// per statement) as the general path writes it on a till that already had a customer.
#[test]
fn a_first_starts_multi_row_inserts_write_what_the_general_path_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::default();
    let mut t1 = open(&dir.path().join("t1.db"), "T01");
    for i in 0..150i64 {
        let e = t1
            .enrol(
                Uuid::now_v7(),
                NewCustomer {
                    name: format!("Member {i}"),
                    phone: Some(format!("+7916222{i:04}")),
                    email: (i % 2 == 0).then(|| format!("m{i}@example.com")),
                    ..NewCustomer::default()
                },
                t0(),
            )
            .expect("enrol");
        if i % 3 == 0 {
            support_sync::checkout(&mut t1, &e.card, 10_000 + 500 * i, 0, t(1));
        }
    }
    server.upload("T01", &mut t1);
    let changes = server.changes("T02", 0, t(2));
    assert_eq!(changes.accounts.len(), 150);
    let all = page(&changes, 0..150, true);

    let mut fresh = open(&dir.path().join("fresh.db"), "T02");
    let r1 = fresh.apply_snapshot_page(&all, t(2)).expect("bulk");
    let mut busy = open(&dir.path().join("busy.db"), "T03");
    enrol(&mut busy, "Local", "+79160000000", t0());
    let r2 = busy.apply_snapshot_page(&all, t(2)).expect("general");
    assert_eq!(
        (
            r1.customers_added,
            r1.cards_added,
            r1.points_delta,
            r1.accounts
        ),
        (
            r2.customers_added,
            r2.cards_added,
            r2.points_delta,
            r2.accounts
        )
    );
    assert_eq!(r1.accounts, 150);
    let rows = |s: &Store| -> Vec<String> {
        let mut st = s
            .connection()
            .prepare(
                "SELECT json_array(c.uid, c.name, c.name_norm, c.phone, c.email, c.birthday,
                    c.gender, c.age_group, c.home_store, c.preferred_channel,
                    c.marketing_consent, c.consent_at, c.tags, c.enrolled_at,
                    c.enrolled_store, c.enrolled_till, c.op_id, a.uid, a.created_at,
                    a.categories, a.categories_upto, a.shortfall, a.lifetime_spend,
                    a.lifetime_purchases, a.stamps, a.birthday_bonus_year,
                    a.referral_pending, a.club_until, a.server_book, a.server_book_op,
                    a.server_book_at, a.cache_until,
                    (SELECT json_group_array(json_array(k.number, k.kind, k.status,
                        k.issued_at, k.blocked_at, k.op_id))
                     FROM cards k WHERE k.account_id = a.id))
                 FROM accounts a JOIN customers c ON c.id = a.customer_id
                 WHERE c.name <> 'Local' ORDER BY a.uid",
            )
            .expect("select");
        st.query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<rusqlite::Result<_>>()
            .expect("rows")
    };
    let (a, b) = (rows(&fresh), rows(&busy));
    assert_eq!(a.len(), 150);
    assert_eq!(a, b);
    for s in [&fresh, &busy] {
        assert_eq!(s.check_invariants().expect("invariants"), Vec::<i64>::new());
    }
    let found = fresh.lookup("+79162220100", t(2)).expect("by phone");
    assert_eq!(found.customer.name, "Member 100");
}
