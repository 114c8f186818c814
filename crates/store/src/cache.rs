//! The scan's figures cached on the account row (migration 0003): what a scan shows that
//! depends on lots and sales, valid for `[cache_from, cache_until)`.
//!
//! Triggers mark an account's cache stale on any write to its sales and on any update or
//! delete of its lots; the code that inserts lots calls `mark_stale` itself (migration
//! 0009: a trigger on that hot insert cost a statement journal per lot); each operation
//! refreshes the stale caches before it commits ([`refresh_stale`]); readers use a cache only
//! when it is fresh, covers `now` and was computed for the program's tier window
//! ([`CachedFigures::usable`]), and read the lots and sales themselves otherwise.

use chrono::Duration;
use loyalty_domain::{Money, Points, TierWindow};
use rusqlite::{params, Connection};

use crate::error::Result;
use crate::ops::opt_from_ms;
use crate::types::{Balance, EXPIRING_SOON_DAYS};

const DAY_MS: i64 = 86_400_000;
const SOON_MS: i64 = EXPIRING_SOON_DAYS * DAY_MS;
/// At most this many stale caches are refreshed per operation (bounds the work after a
/// migration marked every account stale; the rest are refreshed by later operations).
const REFRESH_PER_OP: i64 = 8;

/// An open lot as the cache needs it (times in unix ms).
#[derive(Debug, Clone, Copy)]
pub struct CacheLot {
    pub available_at: i64,
    pub expires_at: Option<i64>,
    pub remaining: Points,
}

/// A sale as the tier window needs it (times in unix ms).
#[derive(Debug, Clone, Copy)]
pub struct CacheSale {
    pub sold_at: i64,
    /// `after_discounts - returned_spend`.
    pub net_spend: Money,
    /// Not fully returned (`returned_amount < subtotal`).
    pub counts: bool,
}

/// The cached figures of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CachedFigures {
    pub from: i64,
    pub until: i64,
    /// Tier window in days the window figures are for; 0 = no rolling window.
    pub window: i64,
    pub available: Points,
    pub pending: Points,
    pub soon: Points,
    pub next_expiry: Option<i64>,
    pub win_spend: Money,
    pub win_purchases: i64,
}

impl CachedFigures {
    /// Whether these figures hold at `now_ms` for a program with tier window `window`.
    pub fn usable(&self, now_ms: i64, window: &TierWindow) -> bool {
        self.from <= now_ms && now_ms < self.until && self.window == window_days(window)
    }

    /// The lots part of the balance (shortfall left at 0: it is an account column).
    pub(crate) fn balance(&self) -> Result<Balance> {
        Ok(Balance {
            available: self.available,
            pending: self.pending,
            shortfall: 0,
            expiring_soon: self.soon,
            next_expiry: opt_from_ms(self.next_expiry)?,
        })
    }
}

/// Days of a rolling tier window, 0 for a lifetime one.
pub fn window_days(w: &TierWindow) -> i64 {
    match w {
        TierWindow::Lifetime => 0,
        TierWindow::RollingDays(d) => i64::from(*d),
    }
}

/// Computes the figures at `now` and until when they hold: the first later moment a lot
/// matures or expires, enters the 30-day "expiring soon" horizon, or a sale enters or
/// leaves the tier window. Pure: the store and the benchmark generator share it.
pub fn compute(lots: &[CacheLot], sales: &[CacheSale], now: i64, window: i64) -> CachedFigures {
    let mut f = CachedFigures {
        from: now,
        until: i64::MAX,
        window,
        ..CachedFigures::default()
    };
    let mut next = |t: i64| {
        if t > now && t < f.until {
            f.until = t;
        }
    };
    for l in lots.iter().filter(|l| l.remaining > 0) {
        next(l.available_at);
        if let Some(e) = l.expires_at {
            next(e);
            next(e.saturating_sub(SOON_MS));
        }
    }
    if window > 0 {
        let span = window.saturating_mul(DAY_MS);
        for s in sales {
            next(s.sold_at);
            next(s.sold_at.saturating_add(span));
        }
    }
    for l in lots.iter().filter(|l| l.remaining > 0) {
        if matches!(l.expires_at, Some(e) if e <= now) {
            continue;
        }
        if l.available_at <= now {
            f.available += l.remaining;
        } else {
            f.pending += l.remaining;
        }
        if let Some(e) = l.expires_at {
            if e <= now.saturating_add(SOON_MS) {
                f.soon += l.remaining;
            }
            f.next_expiry = Some(f.next_expiry.map_or(e, |n| n.min(e)));
        }
    }
    if window > 0 {
        let since = now.saturating_sub(window.saturating_mul(DAY_MS));
        for s in sales
            .iter()
            .filter(|s| s.sold_at > since && s.sold_at <= now)
        {
            f.win_spend += s.net_spend;
            f.win_purchases += i64::from(s.counts);
        }
    }
    f
}

/// Marks `account`'s cache stale: to be called in the transaction that inserts lots of it
/// (the one write to lots no trigger covers).
pub(crate) fn mark_stale(conn: &Connection, account: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE accounts SET cache_until = NULL WHERE id = ?1 AND cache_until IS NOT NULL",
    )?
    .execute([account])?;
    Ok(())
}

/// Refreshes (at most [`REFRESH_PER_OP`]) stale account caches at `now_ms` for `window`.
pub(crate) fn refresh_stale(conn: &Connection, now_ms: i64, window: &TierWindow) -> Result<()> {
    let stale: Vec<i64> = conn
        .prepare_cached("SELECT id FROM accounts WHERE cache_until IS NULL LIMIT ?1")?
        .query_map([REFRESH_PER_OP], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for account in stale {
        refresh(conn, account, now_ms, window)?;
    }
    Ok(())
}

/// The figures of an account at `now_ms` read from its lots (or its deferred server book's,
/// `books`) and sales (the one definition of them: the cache, a stale-cache scan and
/// `Store::balance` all come through here).
pub(crate) fn live(
    conn: &Connection,
    account: i64,
    now_ms: i64,
    w: &TierWindow,
) -> Result<CachedFigures> {
    let lots: Vec<CacheLot> = match crate::books::deferred_cache_lots(conn, account)? {
        Some(lots) => lots,
        None => conn
            .prepare_cached(
                "SELECT available_at, expires_at, remaining FROM lots
                 WHERE account_id = ?1 AND remaining > 0",
            )?
            .query_map([account], |r| {
                Ok(CacheLot {
                    available_at: r.get(0)?,
                    expires_at: r.get(1)?,
                    remaining: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?,
    };
    let window = window_days(w);
    let sales: Vec<CacheSale> = if window > 0 {
        // Sales that are in the window now or will enter it (sold later than now).
        let since = now_ms.saturating_sub(Duration::days(window).num_milliseconds());
        conn.prepare_cached(
            "SELECT sold_at, after_discounts - returned_spend, returned_amount < subtotal
             FROM sales WHERE account_id = ?1 AND sold_at > ?2",
        )?
        .query_map(params![account, since], |r| {
            Ok(CacheSale {
                sold_at: r.get(0)?,
                net_spend: r.get(1)?,
                counts: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?
    } else {
        Vec::new()
    };
    Ok(compute(&lots, &sales, now_ms, window))
}

/// Recomputes and stores one account's cache (also used by the benchmark's generator).
pub fn refresh(conn: &Connection, account: i64, now_ms: i64, w: &TierWindow) -> Result<()> {
    let f = live(conn, account, now_ms, w)?;
    conn.prepare_cached(
        "UPDATE accounts SET cache_from = ?2, cache_until = ?3, cache_window = ?4,
            c_available = ?5, c_pending = ?6, c_soon = ?7, c_next_expiry = ?8,
            c_win_spend = ?9, c_win_purchases = ?10
         WHERE id = ?1",
    )?
    .execute(params![
        account,
        f.from,
        f.until,
        f.window,
        f.available,
        f.pending,
        f.soon,
        f.next_expiry,
        f.win_spend,
        f.win_purchases
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: i64 = DAY_MS;

    #[test]
    fn figures_hold_until_the_next_lot_or_window_change() {
        let lots = [
            CacheLot {
                available_at: 0,
                expires_at: Some(100 * D),
                remaining: 10,
            },
            CacheLot {
                available_at: 14 * D,
                expires_at: Some(114 * D),
                remaining: 5,
            },
            CacheLot {
                available_at: 0,
                expires_at: None,
                remaining: 0,
            },
        ];
        let sales = [CacheSale {
            sold_at: D,
            net_spend: 1_000,
            counts: true,
        }];
        let f = compute(&lots, &sales, 2 * D, 365);
        assert_eq!((f.available, f.pending, f.soon), (10, 5, 0));
        assert_eq!(f.next_expiry, Some(100 * D));
        assert_eq!((f.win_spend, f.win_purchases), (1_000, 1));
        assert_eq!(f.until, 14 * D, "the second lot matures first");
        // At 80 days the first lot enters the 30-day horizon (at 70 days).
        let f = compute(&lots, &sales, 80 * D, 365);
        assert_eq!((f.available, f.soon, f.until), (15, 10, 84 * D));
        // Lifetime window: sales do not bound the validity.
        let f = compute(&lots, &sales, 200 * D, 0);
        assert_eq!((f.available, f.until, f.win_spend), (0, i64::MAX, 0));
    }

    /// No trigger covers an insert into `lots` (0009): every source file of the store
    /// that inserts lots must mark the account's cache stale itself.
    #[test]
    fn every_file_inserting_lots_marks_the_cache_stale() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut inserting = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("src dir") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("source");
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            if code.contains(concat!("INSERT INTO ", "lots")) {
                assert!(
                    code.contains("mark_stale("),
                    "{} inserts lots without cache::mark_stale",
                    path.display()
                );
                inserting.push(path);
            }
        }
        assert_eq!(inserting.len(), 2, "ledger.rs and books.rs: {inserting:?}");
    }

    #[test]
    fn usable_only_inside_its_interval_and_window() {
        let f = compute(&[], &[], 10, 365);
        assert!(f.usable(10, &TierWindow::RollingDays(365)));
        assert!(
            !f.usable(9, &TierWindow::RollingDays(365)),
            "before it was computed"
        );
        assert!(
            !f.usable(10, &TierWindow::RollingDays(30)),
            "another window"
        );
        assert!(!f.usable(10, &TierWindow::Lifetime));
    }
}
