//! Shared helpers of `facts_agree.rs`, `sync_rebase.rs`, `deferred_books.rs` and
//! `first_start.rs`: a till, a program with a short hold and expiry, an enrolment, a sale,
//! replaying the outbox facts into pure `AccountBook`s (as the server
//! does), and comparing a book with the store's SQL state of the same account.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, TimeZone, Utc};
use loyalty_domain::{AccountBook, ApplyCtx, Basket, Fact, ProgramConfig};
use loyalty_store::{CheckoutRequest, NewCustomer, Store, StoreOptions};
use uuid::Uuid;

pub mod server;

/// Enrols `name` with `phone`: `(account id, card, customer uid)`.
pub fn enrol(s: &mut Store, name: &str, phone: &str, now: DateTime<Utc>) -> (i64, String, String) {
    let e = s
        .enrol(
            Uuid::now_v7(),
            NewCustomer {
                name: name.into(),
                phone: Some(phone.into()),
                ..NewCustomer::default()
            },
            now,
        )
        .expect("enrol");
    let uid = s
        .customer(e.customer_id, now)
        .expect("customer")
        .customer
        .uid;
    (e.account_id, e.card, uid)
}

/// A one-line sale of `amount` on `card` spending `spend` points; its receipt number.
pub fn checkout(s: &mut Store, card: &str, amount: i64, spend: i64, now: DateTime<Utc>) -> String {
    s.checkout(
        Uuid::now_v7(),
        CheckoutRequest {
            card: card.into(),
            basket: Basket::single(amount),
            spend,
            receipt: None,
        },
        now,
    )
    .expect("checkout")
    .receipt_no
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 0).unwrap()
}

/// `t0 + days`.
pub fn t(days: i64) -> DateTime<Utc> {
    t0() + Duration::days(days)
}

pub fn options(till: &str) -> StoreOptions {
    StoreOptions {
        till_id: till.into(),
        store_id: "S1".into(),
        default_region: "RU".into(),
        qr_seed: [7; 32],
    }
}

/// The demo program, version 2, with a 7-day hold and a 1-month expiry.
pub fn program() -> ProgramConfig {
    ProgramConfig {
        version: 2,
        effective_from: t0() - Duration::days(1),
        hold_days: 7,
        expiry_months: Some(1),
        ..ProgramConfig::default()
    }
}

pub fn open(path: &std::path::Path, till: &str) -> Store {
    let mut s = Store::open(path, options(till)).expect("open");
    s.set_program(&program(), t0()).expect("program");
    s
}

/// A local expiry sweep at `at`, done after the outbox event `after_seq` (sweeps are not
/// facts, so the replay needs to know when they ran).
#[derive(Clone, Copy, Debug)]
pub struct Sweep {
    pub after_seq: i64,
    pub at: DateTime<Utc>,
}

/// Applies one outbox fact to the books (creating a book at its enrolment, or on first
/// sight), and a sale's referrer points with `credit_referral`.
pub fn apply_fact(
    books: &mut BTreeMap<String, AccountBook>,
    op_id: &str,
    at: DateTime<Utc>,
    fact: &Fact,
) {
    let uid = fact.account_uid().to_string();
    let book = books
        .entry(uid.clone())
        .or_insert_with(|| AccountBook::new(uid));
    let ctx = ApplyCtx {
        op_id,
        event_time: at,
    };
    book.apply(fact, ctx)
        .expect("the book applies the store's fact");
    if let Fact::Sale {
        referrer: Some((r, points)),
        hold_days,
        expiry_months,
        ..
    } = fact
    {
        let rb = books
            .entry(r.clone())
            .or_insert_with(|| AccountBook::new(r.clone()));
        rb.credit_referral(op_id, *points, at, *hold_days, *expiry_months)
            .expect("referral credit");
    }
}

/// Replays the whole outbox of `s` (and the sweeps) into fresh books, one per account uid.
pub fn replay(s: &Store, sweeps: &[Sweep]) -> BTreeMap<String, AccountBook> {
    let mut books = BTreeMap::new();
    let sweep_at = |seq: i64, books: &mut BTreeMap<String, AccountBook>| {
        for sw in sweeps.iter().filter(|sw| sw.after_seq == seq) {
            for b in books.values_mut() {
                b.expire(sw.at);
            }
        }
    };
    sweep_at(0, &mut books);
    for e in s.outbox_after(0, u32::MAX).expect("outbox") {
        let fact: Fact = serde_json::from_value(e.payload.clone()).expect("payload is a Fact");
        apply_fact(&mut books, &e.op_id, e.created_at, &fact);
        sweep_at(e.seq, &mut books);
    }
    books
}

/// account uid → local account id.
pub fn account_ids(s: &Store) -> HashMap<String, i64> {
    let mut st = s
        .connection()
        .prepare("SELECT uid, id FROM accounts")
        .expect("prepare");
    let rows = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query");
    rows.map(|r| r.expect("row")).collect()
}

/// One lot as both sides see it: (kind, earned, available, expires, original, remaining).
type LotKey = (String, i64, i64, Option<i64>, i64, i64);

/// The server book an account holds deferred (its lots not written as rows yet), if any.
pub fn deferred_book(s: &Store, account: i64) -> Option<AccountBook> {
    s.deferred_book(account).expect("deferred book")
}

/// The store's lots of an account by `book_lot_id`: its deferred server book's while it
/// holds one (that is its state; the rows catch up on first use), else its lot rows.
pub fn store_lots(s: &Store, account: i64) -> BTreeMap<String, LotKey> {
    if let Some(book) = deferred_book(s, account) {
        return book_lots(&book);
    }
    let mut st = s
        .connection()
        .prepare(
            "SELECT book_lot_id, kind, earned_at, available_at, expires_at, original, remaining
             FROM lots WHERE account_id = ?1",
        )
        .expect("prepare");
    let rows = st
        .query_map([account], |r| {
            Ok((
                r.get::<_, String>(0)?,
                (
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ),
            ))
        })
        .expect("query");
    rows.map(|r| r.expect("row")).collect()
}

pub fn book_lots(b: &AccountBook) -> BTreeMap<String, LotKey> {
    b.lots
        .iter()
        .map(|l| {
            (
                l.id.clone(),
                (
                    l.kind.clone(),
                    l.earned_at.timestamp_millis(),
                    l.available_at.timestamp_millis(),
                    l.expires_at.map(|e| e.timestamp_millis()),
                    l.original,
                    l.remaining,
                ),
            )
        })
        .collect()
}

/// (shortfall, lifetime spend, purchases, stamps, birthday year, referral pending).
pub fn store_counters(s: &Store, account: i64) -> (i64, i64, i64, i64, Option<i32>, bool) {
    s.connection()
        .query_row(
            "SELECT shortfall, lifetime_spend, lifetime_purchases, stamps, birthday_bonus_year,
                    referral_pending FROM accounts WHERE id = ?1",
            [account],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .expect("counters")
}

pub fn book_counters(b: &AccountBook) -> (i64, i64, i64, i64, Option<i32>, bool) {
    (
        b.shortfall,
        b.lifetime_spend,
        i64::from(b.lifetime_purchases),
        i64::from(b.stamps),
        b.birthday_bonus_year,
        b.referral_pending,
    )
}

/// Asserts that the store's state of account `uid` equals `book`: every lot (by book lot
/// id, with times, original and remaining), the counters, and the balance at each of `at`.
pub fn assert_account_matches(
    s: &Store,
    uid: &str,
    book: &AccountBook,
    at: &[DateTime<Utc>],
    ctx: &str,
) {
    let ids = account_ids(s);
    let account = *ids
        .get(uid)
        .unwrap_or_else(|| panic!("account {uid} unknown locally ({ctx})"));
    assert_eq!(
        store_lots(s, account),
        book_lots(book),
        "lots of {uid} ({ctx})"
    );
    assert_eq!(
        store_counters(s, account),
        book_counters(book),
        "counters of {uid} ({ctx})"
    );
    for &when in at {
        let b = s.balance(account, when).expect("balance");
        let bb = book.balance(when);
        assert_eq!(
            (b.available, b.pending, b.shortfall),
            (bb.available, bb.pending, bb.shortfall),
            "balance of {uid} at {when} ({ctx})"
        );
    }
}

/// Asserts every account of the store equals its replayed book (and no book is missing).
pub fn assert_store_matches_books(
    s: &Store,
    books: &BTreeMap<String, AccountBook>,
    now: DateTime<Utc>,
    ctx: &str,
) {
    let ids = account_ids(s);
    assert_eq!(
        ids.keys().collect::<std::collections::BTreeSet<_>>(),
        books.keys().collect::<std::collections::BTreeSet<_>>(),
        "accounts ({ctx})"
    );
    let at = [
        now,
        now + Duration::days(1),
        now + Duration::days(8),
        now + Duration::days(40),
        now + Duration::days(400),
    ];
    for (uid, book) in books {
        assert_account_matches(s, uid, book, &at, ctx);
    }
    assert_eq!(s.check_invariants().expect("invariants"), Vec::<i64>::new());
}
