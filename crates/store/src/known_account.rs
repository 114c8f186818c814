//! A pulled account this till already holds, with none of this till's pending facts on it
//! and no merge (the deferrable case of `rebase::apply_in`): nearly every account a
//! catch-up after an outage brings. The general path (`sync_upsert::upsert_account`, then
//! `books::defer`) runs nine statements for it: the account looked up twice, the
//! customer's phone and uid, a conditional customer update, each card, the category
//! summary, the stored book, the account update. When the customer and the cards are as
//! stored here, [`refresh`] runs three: the account with its customer, its cards, and one
//! update of the account row (the server's book deferred as `books::defer` stores it; the
//! category summary, read with the account, written by `categories::store` only when it
//! changed).
//!
//! Anything else — another profile, a card new here, on another account or newly blocked,
//! an account of another customer, an account without customer — returns `None` with
//! nothing written, and the caller takes the general path, which decides it. The rows
//! written are the general path's, value for value.

use chrono::{DateTime, Utc};
use loyalty_domain::Points;
use loyalty_wire::AccountState;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

use crate::error::Result;
use crate::sync_upsert::{card_fields, clean_phone, customer_row};

/// The customer columns compared, in the order of `customer_row` (its `consent_at`, which
/// an update from the server never writes, and the enrolment columns left out).
const COMPARED: [usize; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12];

/// Stores `s` on the account this till holds if nothing but its points, counters and
/// categories changed; returns the points it brings (as `books::defer` does), or `None`
/// (nothing written) when the general path must decide.
pub(crate) fn refresh(
    tx: &Connection,
    s: &AccountState,
    included_upto_seq: i64,
    op: &str,
    now: DateTime<Utc>,
) -> Result<Option<Points>> {
    let Some(c) = &s.customer else {
        return Ok(None);
    };
    type Row = (
        i64,
        Option<String>,
        Points,
        (Option<String>, i64),
        Vec<Value>,
    );
    let row: Option<Row> = tx
        .prepare_cached(
            "SELECT a.id, a.server_book, a.shortfall, a.categories, a.categories_upto,
                    c.uid, c.name, c.name_norm, c.phone, c.email, c.birthday, c.gender,
                    c.age_group, c.home_store, c.preferred_channel, c.marketing_consent, c.tags
             FROM accounts a JOIN customers c ON c.id = a.customer_id WHERE a.uid = ?1",
        )?
        .query_row([&s.account_uid], |r| {
            let stored = (5..5 + COMPARED.len())
                .map(|i| r.get::<_, Value>(i))
                .collect::<rusqlite::Result<_>>()?;
            let categories = (r.get(3)?, r.get(4)?);
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, categories, stored))
        })
        .optional()?;
    let Some((account, book, shortfall, categories, stored)) = row else {
        return Ok(None);
    };
    let incoming = customer_row(c, clean_phone(&c.profile), now)?;
    if COMPARED
        .iter()
        .zip(&stored)
        .any(|(&i, v)| incoming[i] != *v)
    {
        return Ok(None);
    }
    if !cards_as_stored(tx, account, s)? {
        return Ok(None);
    }
    let before = crate::books::points_from(tx, account, book.as_deref(), shortfall)?;
    let summary = crate::categories::columns(s, included_upto_seq)?;
    if summary != categories {
        crate::categories::write(tx, account, summary)?;
    }
    crate::books::defer_over(tx, account, before, &s.book, op, now).map(Some)
}

/// Whether every card of `s` is on `account` here already, blocked here if the server has
/// it blocked (what `sync_upsert::merge_card` leaves as it is). Checks each card's fields
/// as the general path does.
fn cards_as_stored(tx: &Connection, account: i64, s: &AccountState) -> Result<bool> {
    let mut st = tx.prepare_cached("SELECT number, status FROM cards WHERE account_id = ?1")?;
    let local = st
        .query_map([account], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for c in &s.cards {
        let (number, _, blocked) = card_fields(c, &s.account_uid)?;
        let kept = local
            .iter()
            .any(|(n, status)| n == number && (!blocked || status == "blocked"));
        if !kept {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rebase::{SyncBatch, SyncReport};
    use chrono::TimeZone;
    use loyalty_domain::{AccountBook, BookLot, Profile};
    use loyalty_wire::{CardState, CategoryStat, CustomerState};

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 10, 0, 0).unwrap()
    }

    fn lot(op: &str, original: Points, remaining: Points) -> BookLot {
        BookLot {
            id: format!("{op}:0"),
            kind: "earn".into(),
            earned_at: at(1),
            available_at: at(1),
            expires_at: Some(at(28)),
            original,
            remaining,
            expired: 0,
            source_op: op.into(),
        }
    }

    fn card(number: &str, kind: &str, status: &str) -> CardState {
        CardState {
            number: number.into(),
            status: status.into(),
            kind: kind.into(),
        }
    }

    /// Anna's account as the server first sends it: a lot, two cards (the family one
    /// blocked), no categories.
    fn anna() -> AccountState {
        let mut book = AccountBook::new("acc-anna");
        book.lots.push(lot("op-1", 100, 100));
        book.lifetime_spend = 10_000;
        book.lifetime_purchases = 1;
        AccountState {
            account_uid: "acc-anna".into(),
            gseq: 1,
            customer: Some(CustomerState {
                customer_uid: "cust-anna".into(),
                profile: Profile {
                    name: "Anna Petrova".into(),
                    phone: Some("+79990000001".into()),
                    email: Some("anna@example.com".into()),
                    birthday: chrono::NaiveDate::from_ymd_opt(1990, 5, 17),
                    preferred_channel: "sms".into(),
                    marketing_consent: true,
                    tags: vec!["vip".into()],
                    ..Profile::default()
                },
                referrer_uid: None,
            }),
            cards: vec![
                card("2000100000017", "primary", "active"),
                card("2000100000024", "family", "blocked"),
            ],
            book,
            reserved: 0,
            categories: Vec::new(),
            merged_into: None,
        }
    }

    /// Anna after sales on other tills: her first lot half spent, a second one, counters
    /// and a category summary moved on; profile and cards as before.
    fn anna_later() -> AccountState {
        let mut s = anna();
        s.gseq = 9;
        s.book.lots[0].remaining = 40;
        s.book.lots.push(lot("op-2", 70, 70));
        s.book.lifetime_spend = 25_000;
        s.book.lifetime_purchases = 3;
        s.book.stamps = 2;
        s.book.shortfall = 5;
        s.categories = vec![CategoryStat {
            category: "coffee".into(),
            purchases: 2,
            amount: 900,
            last_at: at(3),
        }];
        s
    }

    /// A store of till T01 that pulled [`anna`].
    fn holding_anna(dir: &tempfile::TempDir) -> crate::Store {
        let mut store = crate::test_store(dir);
        let page = [anna()];
        let batch = SyncBatch {
            accounts: &page,
            programs: &[],
            cursor: Some(1),
            included_upto_seq: 0,
            server_time: at(2),
        };
        store.apply_batch(&batch, at(2)).unwrap();
        store
    }

    fn rows(c: &Connection, table: &str) -> Vec<Vec<Value>> {
        let mut st = c
            .prepare(&format!("SELECT * FROM {table} ORDER BY 1"))
            .unwrap();
        let n = st.column_count();
        st.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn a_changed_book_writes_the_rows_the_general_path_writes() {
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (mut fast, mut general) = (holding_anna(&da), holding_anna(&db));
        let s = anna_later();
        let tx = fast.conn.transaction().unwrap();
        let got = refresh(&tx, &s, 4, "sync:9", at(5)).unwrap();
        tx.commit().unwrap();

        let tx = general.conn.transaction().unwrap();
        let mut report = SyncReport::default();
        let (account, created) =
            crate::sync_upsert::upsert_account(&tx, &s, 4, at(5), &mut report).unwrap();
        let want = crate::books::defer(&tx, account, created, &s.book, "sync:9", at(5)).unwrap();
        tx.commit().unwrap();

        assert!(!created);
        assert_eq!(report, SyncReport::default(), "nothing new to report");
        assert_eq!(got, Some(want));
        assert_eq!(want, (40 + 70 - 5) - 100);
        for table in ["accounts", "customers", "cards"] {
            assert_eq!(
                rows(&fast.conn, table),
                rows(&general.conn, table),
                "{table}"
            );
        }
    }

    #[test]
    fn anything_but_the_book_and_categories_is_left_to_the_general_path() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = holding_anna(&dir);
        let profile = |f: fn(&mut Profile)| {
            let mut s = anna_later();
            f(&mut s.customer.as_mut().unwrap().profile);
            s
        };
        let with = |f: fn(&mut AccountState)| {
            let mut s = anna_later();
            f(&mut s);
            s
        };
        let cases = [
            (
                "a new phone",
                profile(|p| p.phone = Some("+79990000002".into())),
            ),
            ("a new name", profile(|p| p.name = "Anna Ivanova".into())),
            (
                "consent withdrawn",
                profile(|p| p.marketing_consent = false),
            ),
            ("another tag", profile(|p| p.tags.push("new".into()))),
            (
                "a card new here",
                with(|s| s.cards.push(card("2000100000031", "family", "active"))),
            ),
            (
                "a card blocked on the server",
                with(|s| s.cards[0].status = "blocked".into()),
            ),
            (
                "another customer",
                with(|s| s.customer.as_mut().unwrap().customer_uid = "cust-x".into()),
            ),
            ("no customer", with(|s| s.customer = None)),
            (
                "an account not held here",
                with(|s| s.account_uid = "acc-other".into()),
            ),
        ];
        for (what, s) in cases {
            let tx = store.conn.transaction().unwrap();
            let before = tx.total_changes();
            assert_eq!(
                refresh(&tx, &s, 4, "sync:9", at(5)).unwrap(),
                None,
                "{what}"
            );
            assert_eq!(tx.total_changes(), before, "{what}: nothing written");
        }
        // A card the server and this till both have blocked, one active on both: taken.
        let tx = store.conn.transaction().unwrap();
        assert!(refresh(&tx, &anna_later(), 4, "sync:9", at(5))
            .unwrap()
            .is_some());
    }

    #[test]
    fn a_bad_card_is_refused_as_the_general_path_refuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = holding_anna(&dir);
        let mut s = anna_later();
        s.cards[1].kind = "gold".into();
        let tx = store.conn.transaction().unwrap();
        let err = refresh(&tx, &s, 4, "sync:9", at(5)).unwrap_err();
        assert!(err.to_string().contains("unknown kind"), "{err}");
    }
}
