//! The server's expiry sweep, SQL-free part. Expiry is not a fact: the server expires
//! lots by its own clock (`AccountBook::expire`). A backend picks the accounts whose
//! `customer_stats.next_expiry` has passed ([`due_query`]), locks and loads each book,
//! calls [`expire`], and — when points expired — stores the book under a new gseq (so
//! tills receive it through `changes`) with [`expired_stmts`]. The summary is rewritten
//! either way, so `next_expiry` moves on and an account is swept once per expiry: points
//! are recorded once, and a restart finds nothing left to expire.

use super::record::{daily, summarize, summary_stmt};
use super::{day, Stmt, Val};
use crate::backend::hash::ts;
use chrono::{DateTime, Utc};
use loyalty_domain::{AccountBook, Points};
use std::collections::BTreeMap;

/// Accounts swept per transaction.
pub const SWEEP_BATCH: i64 = 500;

/// Lots are swept this many days after they expire, not at once. A till that was offline
/// may still send a sale dated before the expiry that spent those points (the book takes
/// them at the sale's time); once swept, the points would be gone and that legitimate
/// spend would become a shortfall. Until then an expired lot is already out of every
/// balance: available and pending use the time of asking, and the sweep takes it out of
/// the dashboard's liability when it expires (see `record::summarize`); only the
/// breakage figure of its expiry day is recorded this much later.
pub const SWEEP_GRACE_DAYS: i64 = 14;

/// Lots that expired at or before this instant are swept at `now`.
pub fn cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::days(SWEEP_GRACE_DAYS)
}

/// What one book lost.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expired {
    /// Points by the day their lots expired.
    pub by_day: BTreeMap<String, Points>,
    pub total: Points,
}

/// What a sweep did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepOutcome {
    /// Accounts whose points expired (and got a new gseq).
    pub accounts: u64,
    pub points: Points,
}

/// Up to [`SWEEP_BATCH`] accounts the sweep has work on at `now` (a lot that expired since
/// the summary was written, or one past the grace): `(account_uid, store_id)`.
pub fn due_query(now: DateTime<Utc>) -> Stmt {
    Stmt::new(
        "SELECT account_uid, store_id FROM customer_stats
         WHERE next_expiry IS NOT NULL AND next_expiry <= $1
         ORDER BY next_expiry, account_uid LIMIT $2",
        vec![Val::text(ts(now)), Val::Int(SWEEP_BATCH)],
    )
}

/// Expires the book's lots past [`cutoff`]`(now)` (no pruning: a lot keeps its `expired`
/// count for a later return of its sale).
pub fn expire(book: &mut AccountBook, now: DateTime<Utc>) -> Expired {
    let upto = cutoff(now);
    let mut out = Expired::default();
    for l in &book.lots {
        if let Some(e) = l.expires_at.filter(|e| *e <= upto && l.remaining > 0) {
            *out.by_day.entry(day(e)).or_insert(0) += l.remaining;
        }
    }
    out.total = book.expire(upto);
    debug_assert_eq!(out.total, out.by_day.values().sum::<Points>());
    out
}

/// The rows a swept book changes besides its `accounts` row: expired points per day on
/// the member's store, and the summary.
pub fn expired_stmts(
    book: &AccountBook,
    store_id: &str,
    expired: &Expired,
    now: DateTime<Utc>,
) -> Vec<Stmt> {
    let mut out: Vec<Stmt> = expired
        .by_day
        .iter()
        .map(|(d, p)| daily(d, store_id, &[("points_expired", *p)]))
        .collect();
    out.push(summary_stmt(&summarize(book, now)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use loyalty_domain::{ApplyCtx, Fact};

    /// A book with one lot of 70 points adjusted in at `t`, expiring a month later.
    fn book_at(t: DateTime<Utc>) -> AccountBook {
        let mut book = AccountBook::new("a");
        let fact = Fact::Adjust {
            account_uid: "a".into(),
            points: 70,
            reason: "r".into(),
            author: "o".into(),
            expiry_months: Some(1),
        };
        let ctx = ApplyCtx {
            op_id: "op1",
            event_time: t,
        };
        book.apply(&fact, ctx).unwrap();
        book
    }

    #[test]
    fn expires_by_lot_day_once() {
        let mut book = book_at(Utc.with_ymd_and_hms(2024, 1, 10, 12, 0, 0).unwrap());
        // Expired on 2024-02-10, swept from 14 days later on.
        let within_grace = Utc.with_ymd_and_hms(2024, 2, 23, 0, 0, 0).unwrap();
        assert_eq!(expire(&mut book, within_grace).total, 0);
        assert_eq!(
            book.lots[0].remaining, 70,
            "a late sale may still spend them"
        );
        let later = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap();
        let e = expire(&mut book, later);
        assert_eq!(e.total, 70);
        assert_eq!(e.by_day.get("2024-02-10"), Some(&70));
        assert_eq!(expire(&mut book, later).total, 0);
        let s = summarize(&book, later);
        assert_eq!((s.outstanding, s.next_expiry), (0, None));
    }

    #[test]
    fn the_summary_drops_an_expired_lot_at_once_and_asks_for_the_sweep_after_the_grace() {
        let t = Utc.with_ymd_and_hms(2024, 1, 10, 12, 0, 0).unwrap();
        let book = book_at(t);
        let before = summarize(&book, t);
        assert_eq!(before.outstanding, 70);
        assert_eq!(
            before.next_expiry.as_deref(),
            Some("2024-02-10T12:00:00.000000Z")
        );
        let after = summarize(&book, Utc.with_ymd_and_hms(2024, 2, 11, 0, 0, 0).unwrap());
        assert_eq!(after.outstanding, 0);
        assert_eq!(
            after.next_expiry.as_deref(),
            Some("2024-02-24T12:00:00.000000Z")
        );
    }
}
