//! The owner's analytics behind the event log (SQLite backend, migration 0007).
//!
//! An upload's transaction writes what the tills need — books, events, the customer
//! categories they pull — and leaves the owner's rows ([`super::record::event_stmts`]:
//! `customer_stats`, `sale_facts`, `return_facts`, `member_days`, `daily_stats`, and the
//! book summaries) to a projection that follows `events` in gseq order, a page per
//! transaction, with its position in `analytics_state.projected_gseq`. Each event is
//! projected exactly once: its rows and the new position commit together.
//!
//! When it runs (`sqlite::projector`): while the tills' sync (uploads, and pulls that
//! bring accounts) pauses, and whenever more than
//! [`MAX_LAG`] events wait; and always to the end before anything reads the owner's tables
//! or writes rows that depend on them (dashboard, trigger lists, segments, the expiry
//! sweep, a server batch), so every read sees every applied event, as before.
//!
//! The summary of a book (`customer_stats.outstanding / shortfall / next_expiry`) is
//! computed from the account's current book at the time of the page's last event on it:
//! the value the applying transaction would have written last.

use std::collections::BTreeMap;

use super::backfill::EventRow;
use super::{Rows, Stmt, Val};
use crate::backend::Result;
use chrono::{DateTime, Utc};

/// Events projected per transaction.
pub const PAGE: i64 = 1_000;

/// Events allowed to wait while the tills' sync keeps the server busy: past this the
/// projection runs between uploads anyway. The first owner read during a burst projects
/// what waits itself (≈ 45 µs an event here: up to ≈ 4.5 s); below it, tills coming back
/// from an outage have the writer and the CPU to themselves (25 000, the value before,
/// put the projection's pages between every group of uploads after the first 2.5 s of
/// ten tills reconnecting).
pub const MAX_LAG: u64 = 100_000;

/// `value`: the last gseq whose owner's rows are written.
pub fn position_query() -> Stmt {
    Stmt::new(
        "SELECT value FROM analytics_state WHERE name = 'projected_gseq'",
        vec![],
    )
}

/// Moves the position to `gseq`.
pub fn advance(gseq: i64) -> Stmt {
    Stmt::new(
        "UPDATE analytics_state SET value = $1 WHERE name = 'projected_gseq'",
        vec![Val::Int(gseq)],
    )
}

/// The position after every applied event (a server batch writes its own rows).
pub fn advance_to_end() -> Stmt {
    Stmt::new(
        "UPDATE analytics_state SET value = (SELECT COALESCE(MAX(gseq), 0) FROM events)
         WHERE name = 'projected_gseq'",
        vec![],
    )
}

/// The next page of events after `after`, as the backfill reads them, the fact as it was
/// applied (a fact naming a merged account: redirected to the survivor).
pub fn events_query(after: i64, limit: i64) -> Stmt {
    super::backfill::events_page(after, limit, "COALESCE(e.applied_fact, e.fact)")
}

/// `book` of an account (no row: merged away or unknown).
pub fn book_query(account_uid: &str) -> Stmt {
    Stmt::new(
        "SELECT book FROM accounts WHERE uid = $1",
        vec![Val::text(account_uid)],
    )
}

/// What a page of [`events_query`] rows adds.
#[derive(Debug, Default)]
pub struct Page {
    /// The events' owner rows, in gseq order.
    pub stmts: Vec<Stmt>,
    /// The accounts whose books the events changed, each with the time of its last event
    /// in the page (for its summary).
    pub accounts: BTreeMap<String, DateTime<Utc>>,
    /// The page's last gseq (0: empty page).
    pub last_gseq: i64,
}

/// Plans a page of [`events_query`] rows.
pub fn plan(rows: &Rows) -> Result<Page> {
    let mut page = Page::default();
    for row in rows {
        let e = EventRow::parse(row)?;
        super::record::event_stmts(&e.info(), &mut page.stmts);
        for uid in crate::backend::apply::needs(&e.fact).accounts {
            let at = page.accounts.entry(uid).or_insert(e.event_time);
            *at = (*at).max(e.event_time);
        }
        page.last_gseq = e.gseq;
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use loyalty_domain::Fact;

    fn row(gseq: i64, at: &str, fact: &Fact) -> Vec<Val> {
        vec![
            Val::Int(gseq),
            Val::text(format!("op-{gseq}")),
            Val::text("till-1"),
            Val::text("store-1"),
            Val::text(at),
            Val::text(at),
            Val::text(serde_json::to_string(fact).unwrap()),
        ]
    }

    #[test]
    fn a_page_names_each_changed_account_once_with_its_latest_event_time() {
        let adjust = |account: &str| Fact::Adjust {
            account_uid: account.into(),
            points: 5,
            reason: "test".into(),
            author: "owner".into(),
            expiry_months: None,
        };
        let rows = vec![
            row(7, "2026-03-02T10:00:00Z", &adjust("a")),
            row(9, "2026-03-01T10:00:00Z", &adjust("b")),
            row(12, "2026-03-03T10:00:00Z", &adjust("a")),
        ];
        let page = plan(&rows).unwrap();
        assert_eq!(page.last_gseq, 12);
        assert_eq!(page.stmts.len(), 3, "one daily_stats row per adjustment");
        let a: Vec<(&str, String)> = page
            .accounts
            .iter()
            .map(|(k, v)| (k.as_str(), crate::backend::hash::ts(*v)))
            .collect();
        assert_eq!(a[0].0, "a");
        assert!(a[0].1.starts_with("2026-03-03T10:00:00"), "{a:?}");
        assert_eq!(a[1].0, "b");
    }

    #[test]
    fn a_broken_fact_is_reported_not_skipped() {
        let mut r = row(
            3,
            "2026-03-01T10:00:00Z",
            &Fact::Adjust {
                account_uid: "a".into(),
                points: 1,
                reason: "x".into(),
                author: "owner".into(),
                expiry_months: None,
            },
        );
        r[6] = Val::text("{not json");
        assert_eq!(plan(&vec![r]).unwrap_err().code(), "DB_CORRUPT");
    }
}
