//! The till's rebase on server state (`Store::apply_changes`), with real SQLite files and an
//! in-memory server that applies the uploaded facts to pure `AccountBook`s (no HTTP):
//! another till's sale on a shared customer shows up; an own unacked sale stays visible on
//! top of an older server state and is not counted twice once the server includes it; a
//! server-side overdraw shortfall shows locally; applying the same page twice changes
//! nothing; customers enrolled elsewhere are found by phone and card; blocked cards and
//! program versions arrive; the invariant `Σ ledger = Σ remaining − shortfall` holds after
//! every step.

mod support_sync;

use chrono::{DateTime, Duration, Utc};
use loyalty_domain::{AccountBook, ProgramConfig};
use loyalty_store::{NewCustomer, Store, SyncReport};
use support_sync::server::Server;
use support_sync::{account_ids, assert_account_matches, open, program, t, t0};
use uuid::Uuid;

struct Till {
    id: &'static str,
    s: Store,
}

struct World {
    _dir: tempfile::TempDir,
    t1: Till,
    t2: Till,
    server: Server,
}

fn world() -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let t1 = open(&dir.path().join("t1.db"), "T01");
    let t2 = open(&dir.path().join("t2.db"), "T02");
    World {
        _dir: dir,
        t1: Till { id: "T01", s: t1 },
        t2: Till { id: "T02", s: t2 },
        server: Server::default(),
    }
}

fn invariants(s: &Store) {
    assert_eq!(s.check_invariants().expect("invariants"), Vec::<i64>::new());
}

/// Pulls everything changed since the till's cursor and applies it.
fn pull(server: &Server, till: &mut Till, now: DateTime<Utc>) -> SyncReport {
    let since = till.s.sync_cursor().expect("cursor");
    let changes = server.changes(till.id, since, now);
    let r = till.s.apply_changes(&changes, now).expect("apply_changes");
    invariants(&till.s);
    assert_eq!(till.s.sync_cursor().expect("cursor"), changes.next);
    r
}

fn enrol(s: &mut Store, name: &str, phone: &str, now: DateTime<Utc>) -> (i64, String, String) {
    let enrolled = support_sync::enrol(s, name, phone, now);
    invariants(s);
    enrolled
}

fn sale(s: &mut Store, card: &str, amount: i64, spend: i64, now: DateTime<Utc>) {
    support_sync::checkout(s, card, amount, spend, now);
    invariants(s);
}

/// `(available, pending, shortfall)` of the account `uid` on a till.
fn bal(s: &Store, uid: &str, now: DateTime<Utc>) -> (i64, i64, i64) {
    let id = account_ids(s)[uid];
    let b = s.balance(id, now).expect("balance");
    (b.available, b.pending, b.shortfall)
}

fn book_bal(b: &AccountBook, now: DateTime<Utc>) -> (i64, i64, i64) {
    let x = b.balance(now);
    (x.available, x.pending, x.shortfall)
}

/// Counts and sums of the tables a rebase writes (equal = nothing changed).
fn fingerprint(s: &Store) -> Vec<i64> {
    let sql = "SELECT (SELECT COUNT(*) FROM ledger), (SELECT COALESCE(SUM(points), 0) FROM ledger),
        (SELECT COUNT(*) FROM lots), (SELECT COALESCE(SUM(remaining), 0) FROM lots),
        (SELECT COALESCE(SUM(shortfall + lifetime_spend + lifetime_purchases + stamps), 0)
         FROM accounts), (SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM cards),
        (SELECT COUNT(*) FROM cards WHERE status = 'blocked')";
    s.connection()
        .query_row(sql, [], |r| (0..8).map(|i| r.get(i)).collect())
        .expect("fingerprint")
}

#[test]
fn another_tills_sale_on_a_shared_customer_shows_up() {
    let mut w = world();
    let (_, card, uid) = enrol(&mut w.t1.s, "Anna Petrova", "+79161110001", t0());
    w.server.upload("T01", &mut w.t1.s);
    assert_eq!(w.t1.s.outbox_pending_count().expect("pending"), 0);
    // T02 has never seen Anna: after the pull it finds her by phone and card.
    assert_eq!(
        w.t2.s.lookup(&card, t(1)).unwrap_err().code(),
        "UNKNOWN_CARD"
    );
    let r = pull(&w.server, &mut w.t2, t(1));
    assert_eq!((r.accounts, r.customers_added, r.cards_added), (1, 1, 1));
    let by_phone = w.t2.s.lookup("8 916 111-00-01", t(1)).expect("by phone");
    let by_card = w.t2.s.lookup(&card, t(1)).expect("by card");
    assert_eq!(by_phone.customer.uid, uid);
    assert_eq!(by_card.account_id, by_phone.account_id);
    assert_eq!(by_card.customer.name, "Anna Petrova");
    assert_eq!(by_card.balance.available, 100, "the welcome bonus");
    assert_eq!(
        w.t2.s.search_name("anna", 5).expect("search").len(),
        1,
        "found by name"
    );
    // T02 sells to Anna (spending her welcome points), uploads; T01 pulls and sees it.
    sale(&mut w.t2.s, &card, 100_000, 100, t(2));
    let before = bal(&w.t1.s, &uid, t(2));
    w.server.upload("T02", &mut w.t2.s);
    pull(&w.server, &mut w.t1, t(3));
    let after = bal(&w.t1.s, &uid, t(3));
    assert_ne!(before, after);
    let server_book = &w.server.books[&uid];
    assert_eq!(after, book_bal(server_book, t(3)));
    assert_eq!(after.0, 0, "the welcome points were spent on T02");
    assert!(after.1 > 0, "T02's earnings are pending on T01");
    assert_account_matches(&w.t1.s, &uid, server_book, &[t(3), t(30), t(60)], "T01");
    // T02 is confirmed by the server too.
    pull(&w.server, &mut w.t2, t(3));
    assert_account_matches(&w.t2.s, &uid, server_book, &[t(3), t(30)], "T02");
    // The new customer can buy on T02 as any local one.
    sale(&mut w.t2.s, &card, 5_000, 0, t(12));
}

/// A lot another till earned arrives as a plain insert (no lot of the account changes):
/// the scan's cached figures must still follow (the insert marks the cache stale, 0009).
#[test]
fn a_lot_earned_elsewhere_refreshes_the_scan_figures() {
    let mut w = world();
    // Within the day the welcome points' cache on T01 is valid for.
    let h = |n: i64| t0() + Duration::hours(n);
    let (_, card, uid) = enrol(&mut w.t1.s, "Boris Orlov", "+79161110009", t0());
    w.server.upload("T01", &mut w.t1.s);
    pull(&w.server, &mut w.t2, h(1));
    let seen = w.t1.s.lookup(&card, h(1)).expect("lookup on T01");
    assert_eq!((seen.balance.available, seen.balance.pending), (100, 0));
    sale(&mut w.t2.s, &card, 50_000, 0, h(2));
    w.server.upload("T02", &mut w.t2.s);
    pull(&w.server, &mut w.t1, h(3));
    let live = bal(&w.t1.s, &uid, h(3));
    assert_eq!(live, book_bal(&w.server.books[&uid], h(3)));
    assert!(live.1 > 0, "T02's earnings are pending on T01");
    // The figures cached on the account row: stale, or what the lots say.
    let cached: (Option<i64>, Option<i64>, Option<i64>, Option<i64>) =
        w.t1.s
            .connection()
            .query_row(
                "SELECT cache_from, cache_until, c_available, c_pending FROM accounts
             WHERE uid = ?1",
                [&uid],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .expect("cache columns");
    let now_ms = h(3).timestamp_millis();
    let fresh = matches!((cached.0, cached.1), (Some(f), Some(u)) if f <= now_ms && now_ms < u);
    assert!(
        fresh,
        "the pull refreshed the cache it marked stale: {cached:?}"
    );
    assert_eq!(
        (cached.2, cached.3),
        (Some(live.0), Some(live.1)),
        "a fresh cache shows what the lots say"
    );
    let scanned = w.t1.s.lookup(&card, h(3)).expect("lookup on T01");
    assert_eq!(
        (scanned.balance.available, scanned.balance.pending),
        (live.0, live.1)
    );
}

#[test]
fn own_unacked_sale_stays_visible_and_is_not_counted_twice() {
    let mut w = world();
    let (_, card, uid) = enrol(&mut w.t1.s, "Boris", "+79161110002", t0());
    w.server.upload("T01", &mut w.t1.s);
    let old = w.server.changes("T01", 0, t(1)); // the server state before the sale
    pull(&w.server, &mut w.t1, t(1));
    sale(&mut w.t1.s, &card, 100_000, 60, t(8));
    let local = bal(&w.t1.s, &uid, t(8));
    let fp = fingerprint(&w.t1.s);
    // An older server state (the sale not included) + the own pending sale = what we had.
    let r = w.t1.s.apply_changes(&old, t(8)).expect("apply old");
    invariants(&w.t1.s);
    assert_eq!(r.pending_applied, 1);
    assert_eq!(r.points_delta, 0);
    assert_eq!(bal(&w.t1.s, &uid, t(8)), local, "own sale still visible");
    assert_eq!(fingerprint(&w.t1.s), fp, "nothing to change");
    // Another till's activity changes the account meanwhile; still no sale uploaded.
    w.server.apply(
        "T02",
        &loyalty_wire::EventEnvelope {
            seq: 1,
            op_id: Uuid::now_v7(),
            recorded_at: t(9),
            fact: loyalty_domain::Fact::Adjust {
                account_uid: uid.clone(),
                points: 50,
                reason: "gift".into(),
                author: "owner".into(),
                expiry_months: None,
            },
        },
    );
    let r = pull(&w.server, &mut w.t1, t(9));
    assert_eq!(r.pending_applied, 1, "the own sale is re-applied on top");
    let (a, p, s) = bal(&w.t1.s, &uid, t(9));
    assert_eq!((a, p, s), (local.0 + 50, local.1, local.2));
    // Upload: the server includes the sale; the next pull does not count it twice.
    w.server.upload("T01", &mut w.t1.s);
    let r = pull(&w.server, &mut w.t1, t(10));
    assert_eq!(r.pending_applied, 0);
    assert_eq!(bal(&w.t1.s, &uid, t(9)), (a, p, s), "no double count");
    assert_account_matches(
        &w.t1.s,
        &uid,
        &w.server.books[&uid],
        &[t(10), t(20), t(50)],
        "confirmed",
    );
    assert_eq!(w.t1.s.included_upto_seq().expect("included"), 2);
}

#[test]
fn a_server_side_overdraw_shortfall_shows_locally() {
    let mut w = world();
    let (_, card, uid) = enrol(&mut w.t1.s, "Clara", "+79161110003", t0());
    w.server.upload("T01", &mut w.t1.s);
    pull(&w.server, &mut w.t2, t0());
    // Offline, both tills spend the same 100 welcome points.
    sale(&mut w.t1.s, &card, 100_000, 100, t(1));
    sale(&mut w.t2.s, &card, 100_000, 100, t(1));
    assert_eq!(bal(&w.t1.s, &uid, t(1)).2, 0);
    w.server.upload("T01", &mut w.t1.s);
    w.server.upload("T02", &mut w.t2.s);
    let server = book_bal(&w.server.books[&uid], t(2));
    assert!(server.2 > 0, "the server book owes points: {server:?}");
    pull(&w.server, &mut w.t1, t(2));
    pull(&w.server, &mut w.t2, t(2));
    for till in [&w.t1, &w.t2] {
        assert_eq!(bal(&till.s, &uid, t(2)), server, "{}", till.id);
        let id = account_ids(&till.s)[&uid];
        assert_eq!(
            till.s.balance(id, t(2)).expect("balance").shortfall,
            server.2
        );
    }
    // The next earnings settle the shortfall first, locally as on the server.
    sale(&mut w.t1.s, &card, 400_000, 0, t(3));
    w.server.upload("T01", &mut w.t1.s);
    pull(&w.server, &mut w.t1, t(3));
    assert_account_matches(&w.t1.s, &uid, &w.server.books[&uid], &[t(3), t(11)], "T01");
}

#[test]
fn applying_the_same_changes_twice_changes_nothing() {
    let mut w = world();
    let (_, card, _) = enrol(&mut w.t1.s, "Dmitri", "+79161110004", t0());
    sale(&mut w.t1.s, &card, 50_000, 0, t(1));
    w.server.upload("T01", &mut w.t1.s);
    sale(&mut w.t1.s, &card, 20_000, 0, t(2)); // pending, not uploaded
    let changes = w.server.changes("T01", 0, t(3));
    let first = w.t1.s.apply_changes(&changes, t(3)).expect("first");
    invariants(&w.t1.s);
    let fp = fingerprint(&w.t1.s);
    let second = w.t1.s.apply_changes(&changes, t(3)).expect("second");
    invariants(&w.t1.s);
    assert_eq!(fingerprint(&w.t1.s), fp);
    assert_eq!(second.points_delta, 0);
    assert_eq!(first.pending_applied, second.pending_applied);
    // On another till too (the first apply creates, the second finds everything).
    let c2 = w.server.changes("T02", 0, t(3));
    w.t2.s.apply_changes(&c2, t(3)).expect("first");
    let fp2 = fingerprint(&w.t2.s);
    let again = w.t2.s.apply_changes(&c2, t(3)).expect("second");
    assert_eq!(fingerprint(&w.t2.s), fp2);
    assert_eq!((again.customers_added, again.cards_added), (0, 0));
    invariants(&w.t2.s);
}

#[test]
fn blocked_cards_referrers_and_programs_arrive() {
    let mut w = world();
    let (anna, card_a, uid_a) = enrol(&mut w.t1.s, "Anna", "+79161110005", t0());
    let e =
        w.t1.s
            .enrol(
                Uuid::now_v7(),
                NewCustomer {
                    name: "Boris".into(),
                    referrer: Some(card_a.clone()),
                    ..NewCustomer::default()
                },
                t0(),
            )
            .expect("referee");
    let fam =
        w.t1.s
            .add_family_card(Uuid::now_v7(), anna, t0())
            .expect("family");
    let new_card =
        w.t1.s
            .block_card_and_reissue(Uuid::now_v7(), &card_a, t0())
            .expect("reissue");
    w.server.upload("T01", &mut w.t1.s);
    let v3 = ProgramConfig {
        version: 3,
        effective_from: t(5),
        welcome_bonus: 150,
        ..program()
    };
    w.server.programs = vec![v3.clone()];
    pull(&w.server, &mut w.t2, t(1));
    assert_eq!(w.t2.s.program_at(t(6)), &v3);
    assert_eq!(w.t2.s.program_at(t(1)).version, 2);
    let err = w.t2.s.lookup(&card_a, t(1)).unwrap_err();
    assert_eq!(err.code(), "CARD_BLOCKED");
    assert_eq!(
        w.t2.s.lookup(&new_card, t(1)).expect("new").customer.uid,
        uid_a
    );
    assert_eq!(
        w.t2.s.lookup(&fam, t(1)).expect("family").customer.uid,
        uid_a
    );
    // Boris's first purchase on T02 credits Anna as his referrer (linked on T02).
    sale(&mut w.t2.s, &e.card, 10_000, 0, t(2));
    let ev = w.t2.s.pending_events(10).expect("events");
    assert_eq!(ev.len(), 1);
    match &ev[0].fact {
        loyalty_domain::Fact::Sale { referrer, .. } => {
            assert_eq!(
                referrer.as_ref().map(|r| r.0.as_str()),
                Some(uid_a.as_str())
            )
        }
        other => panic!("not a sale: {other:?}"),
    }
    w.server.upload("T02", &mut w.t2.s);
    pull(&w.server, &mut w.t1, t(3));
    assert_account_matches(
        &w.t1.s,
        &uid_a,
        &w.server.books[&uid_a],
        &[t(3), t(10)],
        "A",
    );
}

#[test]
fn clock_offset_and_pending_events() {
    let mut w = world();
    let s = &mut w.t1.s;
    assert_eq!(s.clock_now(t0()), t0());
    assert_eq!(s.last_sync_at().expect("last"), None);
    let off = s
        .set_server_time(t0() + Duration::seconds(90), t0())
        .expect("offset");
    assert_eq!(off, 90_000);
    assert_eq!(s.clock_now(t(1)), t(1) + Duration::seconds(90));
    enrol(s, "Eva", "+79161110006", s.clock_now(t0()));
    let card = s.lookup("+79161110006", t(1)).expect("eva").card;
    sale(s, &card, 10_000, 0, s.clock_now(t(1)));
    s.expire(Uuid::now_v7(), t(2)).expect("sweep: not a fact");
    let ev = s.pending_events(10).expect("events");
    assert_eq!(ev.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(ev[0].fact.kind(), "enrol");
    assert_eq!(ev[1].recorded_at, t(1) + Duration::seconds(90));
    assert_eq!(s.ack_upto(1).expect("ack"), 1);
    assert_eq!(s.pending_events(10).expect("events")[0].seq, 2);
    // The offset survives a restart; a pull records the server's clock and time.
    let path = w._dir.path().join("t1.db");
    drop(w.t1);
    let mut s = Store::open(&path, support_sync::options("T01")).expect("reopen");
    assert_eq!(s.server_offset_ms(), 90_000);
    let changes = w.server.changes("T01", 0, t(5));
    s.apply_changes(&changes, t(5) - Duration::seconds(3))
        .expect("apply");
    assert_eq!(s.server_offset_ms(), 3_000);
    assert_eq!(s.last_sync_at().expect("last"), Some(t(5)));
}

/// Accounts new to a till take plain inserts (a first start's path); one whose customer's
/// phone is already a local customer's gives way to the general path: stored without the
/// phone and reported, the local customer keeps it. Both end equal to the server's books,
/// through a snapshot page as through changes.
#[test]
fn new_accounts_take_plain_inserts_and_give_way_on_conflicts() {
    let mut w = world();
    let (_, card_a, uid_a) = enrol(&mut w.t1.s, "Anna", "+79161110011", t0());
    let (_, card_b, uid_b) = enrol(&mut w.t1.s, "Boris", "+79161110012", t0());
    sale(&mut w.t1.s, &card_a, 40_000, 0, t(1));
    sale(&mut w.t1.s, &card_b, 10_000, 0, t(1));
    w.server.upload("T01", &mut w.t1.s);
    // T02 enrolled someone with Anna's phone before it ever synced.
    let (_, _, local_uid) = enrol(&mut w.t2.s, "Anna (T02)", "+79161110011", t0());
    let changes = w.server.changes("T02", 0, t(2));
    let report = w.t2.s.apply_changes(&changes, t(2)).expect("apply");
    invariants(&w.t2.s);
    assert_eq!(report.phone_conflicts, vec![uid_a.clone()]);
    assert_eq!((report.customers_added, report.cards_added), (2, 2));
    for uid in [&uid_a, &uid_b] {
        assert_account_matches(&w.t2.s, uid, &w.server.books[uid], &[t(2), t(30)], "T02");
    }
    let by_phone = |s: &Store, p: &str| s.lookup(p, t(2)).expect("phone").customer.uid;
    assert_eq!(by_phone(&w.t2.s, "+79161110011"), local_uid);
    assert_eq!(by_phone(&w.t2.s, "+79161110012"), uid_b);
    assert_eq!(
        w.t2.s.lookup(&card_a, t(2)).expect("card").customer.uid,
        uid_a
    );

    // The same state as a first start's snapshot page on a third, fresh till.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut t3 = open(&dir.path().join("t3.db"), "T03");
    let page = loyalty_store::SyncBatch {
        accounts: &changes.accounts,
        programs: &changes.programs,
        cursor: Some(changes.next),
        included_upto_seq: 0,
        server_time: t(2),
    };
    let r3 = t3.apply_snapshot_page(&page, t(2)).expect("snapshot page");
    invariants(&t3);
    assert!(r3.phone_conflicts.is_empty());
    for uid in [&uid_a, &uid_b] {
        assert_account_matches(&t3, uid, &w.server.books[uid], &[t(2), t(30)], "T03");
    }
    let fp = fingerprint(&t3);
    t3.apply_snapshot_page(&page, t(2)).expect("again");
    assert_eq!(fingerprint(&t3), fp, "a page applied twice changes nothing");
}

/// A till catching up applies the pages that arrived together in one transaction
/// (`apply_changes_pages`): the same rows as applying them one by one.
#[test]
fn pages_applied_together_equal_pages_applied_one_by_one() {
    let mut w = world();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut grouped = open(&dir.path().join("t3.db"), "T02");
    let (_, a, ua) = enrol(&mut w.t1.s, "Anna", "+79161110011", t0());
    let (_, b, ub) = enrol(&mut w.t1.s, "Boris", "+79161110012", t0());
    w.server.upload("T01", &mut w.t1.s);
    let c1 = w.server.changes("T02", 0, t(1));
    sale(&mut w.t1.s, &a, 40_000, 0, t(2));
    sale(&mut w.t1.s, &b, 10_000, 20, t(2));
    w.server.upload("T01", &mut w.t1.s);
    let c2 = w.server.changes("T02", c1.next, t(3));
    let (_, c, uc) = enrol(&mut w.t1.s, "Clara", "+79161110013", t(4));
    sale(&mut w.t1.s, &a, 5_000, 10, t(4));
    sale(&mut w.t1.s, &c, 7_000, 0, t(4));
    w.server.upload("T01", &mut w.t1.s);
    let c3 = w.server.changes("T02", c2.next, t(5));
    assert!(
        c1.next < c2.next && c2.next < c3.next,
        "three pages in a row"
    );
    for (page, at) in [(&c1, t(1)), (&c2, t(3)), (&c3, t(5))] {
        w.t2.s.apply_changes(page, at).expect("one page");
    }
    let r = grouped
        .apply_changes_pages(&[(&c1, t(1)), (&c2, t(3)), (&c3, t(5))])
        .expect("the pages together");
    invariants(&grouped);
    assert_eq!(
        r.accounts,
        c1.accounts.len() + c2.accounts.len() + c3.accounts.len()
    );
    assert_eq!(fingerprint(&grouped), fingerprint(&w.t2.s));
    assert_eq!(grouped.sync_cursor().expect("cursor"), c3.next);
    for uid in [&ua, &ub, &uc] {
        let book = &w.server.books[uid];
        assert_account_matches(&grouped, uid, book, &[t(5), t(40)], "grouped");
        assert_eq!(bal(&grouped, uid, t(5)), bal(&w.t2.s, uid, t(5)));
    }
    // The till that sold: its own pending sale stays on top of the grouped pages.
    sale(&mut w.t1.s, &b, 30_000, 0, t(6));
    let before = bal(&w.t1.s, &ub, t(6));
    w.t1.s
        .apply_changes_pages(&[(&w.server.changes("T01", 0, t(6)), t(6))])
        .expect("own pages");
    invariants(&w.t1.s);
    assert_eq!(
        bal(&w.t1.s, &ub, t(6)),
        before,
        "the unsent sale still counts"
    );
}
