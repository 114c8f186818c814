//! Server books kept as they came (migration 0010): a page's accounts with nothing of this
//! till's pending on them are stored as the server's book, their lots written on first use.
//! Checked with real SQLite files and the in-memory server of `support_sync`: the balance
//! and scan show the book at once; a sale, a return, an adjustment or the history view
//! materialise it first (lots = the book's, one `sync` entry, invariant kept); the expiry
//! sweep leaves it alone; materialising everything gives exactly the server's books.

mod support_sync;

use chrono::{DateTime, Duration, Utc};
use loyalty_store::{NewCustomer, ReturnItems, ReturnRequest, Store};
use support_sync::server::Server;
use support_sync::{
    account_ids, assert_account_matches, assert_store_matches_books, checkout, deferred_book, open,
    t, t0,
};
use uuid::Uuid;

fn lot_rows(s: &Store, account: i64) -> i64 {
    s.connection()
        .query_row(
            "SELECT COUNT(*) FROM lots WHERE account_id = ?1",
            [account],
            |r| r.get(0),
        )
        .expect("lot rows")
}

fn sync_entries(s: &Store, account: i64) -> i64 {
    s.connection()
        .query_row(
            "SELECT COUNT(*) FROM ledger WHERE account_id = ?1 AND kind = 'sync'",
            [account],
            |r| r.get(0),
        )
        .expect("sync entries")
}

fn pull(server: &Server, s: &mut Store, till: &str, now: DateTime<Utc>) {
    let since = s.sync_cursor().expect("cursor");
    let changes = server.changes(till, since, now);
    s.apply_changes(&changes, now).expect("apply_changes");
    assert_eq!(s.check_invariants().expect("invariants"), Vec::<i64>::new());
}

/// `(uid, card, customer id)` of a customer enrolled on T01.
type Person = (String, String, i64);

/// Three customers enrolled and buying on T01, uploaded; T02 starts empty.
fn world() -> (tempfile::TempDir, Store, Store, Server, Vec<Person>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut t1 = open(&dir.path().join("t1.db"), "T01");
    let t2 = open(&dir.path().join("t2.db"), "T02");
    let mut server = Server::default();
    let mut people = Vec::new();
    for (i, name) in ["Anna", "Boris", "Vera"].iter().enumerate() {
        let e = t1
            .enrol(
                Uuid::now_v7(),
                NewCustomer {
                    name: (*name).into(),
                    phone: Some(format!("+7916111000{i}")),
                    ..NewCustomer::default()
                },
                t0(),
            )
            .expect("enrol");
        checkout(&mut t1, &e.card, 40_000 + 10_000 * i as i64, 0, t(1));
        let uid = t1
            .customer(e.customer_id, t(1))
            .expect("customer")
            .customer
            .uid;
        people.push((uid, e.card, e.customer_id));
    }
    server.upload("T01", &mut t1);
    (dir, t1, t2, server, people)
}

#[test]
fn a_pulled_book_is_kept_as_it_came_and_shows_at_once() {
    let (_dir, _t1, mut t2, server, people) = world();
    pull(&server, &mut t2, "T02", t(2));
    assert_eq!(t2.deferred_count().expect("count"), 3);
    let ids = account_ids(&t2);
    for (uid, card, _) in &people {
        let account = ids[uid];
        assert_eq!(lot_rows(&t2, account), 0, "no lot rows written for {uid}");
        assert_eq!(sync_entries(&t2, account), 0);
        let book = &server.books[uid];
        assert_eq!(deferred_book(&t2, account).as_ref(), Some(book));
        // Balance and scan come from the book (welcome available, the sale pending).
        let view = t2.lookup(card, t(2)).expect("lookup");
        let expected = book.balance(t(2));
        assert_eq!(
            (view.balance.available, view.balance.pending),
            (expected.available, expected.pending)
        );
        assert!(expected.pending > 0);
    }
    assert_store_matches_books(&t2, &server.books, t(2), "deferred on T02");
}

#[test]
fn using_the_account_here_materialises_its_book_first() {
    let (_dir, _t1, mut t2, mut server, people) = world();
    pull(&server, &mut t2, "T02", t(2));
    let ids = account_ids(&t2);
    let (anna, boris, vera) = (&people[0], &people[1], &people[2]);
    // A sale spending the welcome points: the book's lots are written, then spent from.
    let receipt_no = checkout(&mut t2, &anna.1, 30_000, 50, t(20));
    let a = ids[&anna.0];
    assert!(deferred_book(&t2, a).is_none());
    assert!(lot_rows(&t2, a) >= 3, "welcome, T01's sale, this sale");
    assert_eq!(sync_entries(&t2, a), 1, "one entry for the book's points");
    // A return of that sale on T02, and an adjustment on Boris.
    t2.return_sale(
        Uuid::now_v7(),
        ReturnRequest {
            receipt_no,
            items: ReturnItems::All,
        },
        t(21),
    )
    .expect("return");
    let b = ids[&boris.0];
    t2.adjust(
        Uuid::now_v7(),
        b,
        -10,
        "goodwill correction",
        "owner",
        t(21),
    )
    .expect("adjust");
    assert!(deferred_book(&t2, b).is_none());
    // The history of Vera materialises hers and shows the book's lots.
    let v = ids[&vera.0];
    let h = t2.history(vera.2).expect("history");
    assert!(deferred_book(&t2, v).is_none());
    assert_eq!(h.lots.len(), server.books[&vera.0].lots.len());
    assert_eq!(
        t2.check_invariants().expect("invariants"),
        Vec::<i64>::new()
    );
    // The server takes T02's facts; after the pull every account equals its book.
    server.upload("T02", &mut t2);
    pull(&server, &mut t2, "T02", t(22));
    assert_store_matches_books(&t2, &server.books, t(22), "after use and pull");
}

#[test]
fn materialising_everything_gives_the_servers_books_and_expiry_waits_for_it() {
    let (_dir, mut t1, mut t2, server, people) = world();
    pull(&server, &mut t2, "T02", t(2));
    // T01 has lot rows of its own for these accounts; the page that confirms its facts
    // defers the server's books over them, and its sweep must not expire those rows.
    pull(&server, &mut t1, "T01", t(2));
    assert_eq!(t1.deferred_count().expect("count"), 3);
    let far = t0() + Duration::days(3 * 365);
    assert_eq!(t1.expire(Uuid::now_v7(), far).expect("sweep on T01"), 0);
    assert_eq!(
        t1.check_invariants().expect("invariants"),
        Vec::<i64>::new()
    );
    assert_store_matches_books(&t1, &server.books, t(2), "deferred over rows on T01");
    assert_eq!(t1.materialise_deferred(100).expect("T01"), 3);
    assert_store_matches_books(&t1, &server.books, t(2), "materialised on T01");
    // Far past every expiry: the sweep leaves the deferred accounts alone, their balance
    // read from the book leaves the expired points out already.
    let late = t0() + Duration::days(3 * 365);
    assert_eq!(t2.expire(Uuid::now_v7(), late).expect("sweep"), 0);
    let ids = account_ids(&t2);
    for (uid, _, _) in &people {
        let b = t2.balance(ids[uid], late).expect("balance");
        assert_eq!(b.available + b.pending, 0, "expired by {late}");
    }
    // Materialised in two rounds: rows = books, invariant, no entry posted twice.
    assert_eq!(t2.materialise_deferred(2).expect("first"), 2);
    assert_eq!(t2.materialise_deferred(100).expect("rest"), 1);
    assert_eq!(t2.deferred_count().expect("count"), 0);
    for (uid, _, _) in &people {
        let account = ids[uid];
        assert_eq!(sync_entries(&t2, account), 1);
        assert_account_matches(&t2, uid, &server.books[uid], &[t(2), t(30)], "rows");
    }
    assert_store_matches_books(&t2, &server.books, t(2), "materialised");
    // Now the sweep expires them as lots.
    assert!(t2.expire(Uuid::now_v7(), late).expect("sweep") > 0);
    assert_eq!(
        t2.check_invariants().expect("invariants"),
        Vec::<i64>::new()
    );
    // A page bringing the same books again leaves materialised rows as they are.
    assert_eq!(t2.deferred_count().expect("count"), 0);
}

/// A deferred book whose scan figures were cached, then materialised from a newer book that
/// writes no lot row (a merge survivor whose lots are all gone): the cache must not keep
/// showing the deferred book's points.
#[test]
fn materialising_marks_the_scan_cache_stale() {
    let (_dir, _t1, mut t2, server, people) = world();
    pull(&server, &mut t2, "T02", t(2));
    let (anna, boris) = (&people[0], &people[1]);
    let ids = account_ids(&t2);
    let before = t2.lookup(&anna.1, t(2)).expect("lookup").balance;
    assert!(before.available > 0, "the deferred book's points show");
    // The server merged Boris into Anna, and Anna's points are all spent and pruned.
    let mut page = server.changes("T02", t2.sync_cursor().expect("cursor"), t(2));
    let mut survivor = server.changes("T02", 0, t(2)).accounts;
    survivor.retain(|a| a.account_uid == anna.0 || a.account_uid == boris.0);
    for a in &mut survivor {
        a.book.lots.clear();
        a.book.shortfall = 0;
        a.gseq += 1_000;
        if a.account_uid == boris.0 {
            a.merged_into = Some(anna.0.clone());
        }
    }
    page.accounts = survivor;
    page.next += 1_000;
    t2.apply_changes(&page, t(2)).expect("merge page");
    assert!(deferred_book(&t2, ids[&anna.0]).is_none(), "materialised");
    let after = t2.lookup(&anna.1, t(2)).expect("lookup").balance;
    assert_eq!((after.available, after.pending), (0, 0));
    assert_eq!(
        t2.check_invariants().expect("invariants"),
        Vec::<i64>::new()
    );
}
