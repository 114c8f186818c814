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

/// Up to [`SWEEP_BATCH`] accounts with a lot expired by `now`: `(account_uid, store_id)`.
pub fn due_query(now: DateTime<Utc>) -> Stmt {
    Stmt::new(
        "SELECT account_uid, store_id FROM customer_stats
         WHERE next_expiry IS NOT NULL AND next_expiry <= $1
         ORDER BY next_expiry, account_uid LIMIT $2",
        vec![Val::text(ts(now)), Val::Int(SWEEP_BATCH)],
    )
}

/// Expires the book's lots past `now` (no pruning: a lot keeps its `expired` count for a
/// later return of its sale).
pub fn expire(book: &mut AccountBook, now: DateTime<Utc>) -> Expired {
    let mut out = Expired::default();
    for l in &book.lots {
        if let Some(e) = l.expires_at.filter(|e| *e <= now && l.remaining > 0) {
            *out.by_day.entry(day(e)).or_insert(0) += l.remaining;
        }
    }
    out.total = book.expire(now);
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

    #[test]
    fn expires_by_lot_day_once() {
        let t = Utc.with_ymd_and_hms(2024, 1, 10, 12, 0, 0).unwrap();
        let mut book = AccountBook::new("a");
        let fact = Fact::Adjust {
            account_uid: "a".into(),
            points: 70,
            reason: "r".into(),
            author: "o".into(),
            expiry_months: Some(1),
        };
        book.apply(
            &fact,
            ApplyCtx {
                op_id: "op1",
                event_time: t,
            },
        )
        .unwrap();
        let later = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap();
        let e = expire(&mut book, later);
        assert_eq!(e.total, 70);
        assert_eq!(e.by_day.get("2024-02-10"), Some(&70));
        assert_eq!(expire(&mut book, later).total, 0);
        let s = summarize(&book, later);
        assert_eq!((s.outstanding, s.next_expiry), (0, None));
    }
}
