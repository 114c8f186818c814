//! Points movements: the append-only ledger and the lots it keeps in step with.
//!
//! Every helper keeps the per-account invariant
//! `Σ ledger.points = Σ lots.remaining − accounts.shortfall` inside the caller's transaction.

use chrono::{DateTime, Utc};
use loyalty_domain::{fifo_take, LotView, Points};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Result, StoreError};
use crate::ops::{from_ms, ms, opt_from_ms};
use crate::types::Balance;

/// Who/what a movement belongs to.
pub(crate) struct Posting<'a> {
    pub op: &'a str,
    pub kind: &'a str,
    pub sale_id: Option<i64>,
    pub reason: &'a str,
    pub now: DateTime<Utc>,
}

/// Appends one ledger entry (the account's deferred server book, if any, materialised before).
pub(crate) fn post(
    conn: &Connection,
    account: i64,
    p: &Posting<'_>,
    points: Points,
    lot_id: Option<i64>,
) -> Result<()> {
    // A deferred server book is caught up before anything is posted on top of it: the
    // entry points (`credit`, `debit_fifo`, `take_back`) call `books::ensure` first,
    // `materialise` clears it, the expiry sweep skips such accounts.
    debug_assert!(
        !crate::books::is_deferred(conn, account).unwrap_or(false),
        "a ledger entry posted on top of a deferred book: call books::ensure first"
    );
    conn.prepare_cached(
        "INSERT INTO ledger (account_id, op_id, kind, points, lot_id, sale_id, reason, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        account,
        p.op,
        p.kind,
        points,
        lot_id,
        p.sale_id,
        p.reason,
        ms(p.now)
    ])?;
    Ok(())
}

/// The balance of an account at `now`: one aggregate over its open lots plus the shortfall.
pub(crate) fn balance(conn: &Connection, account: i64, now: DateTime<Utc>) -> Result<Balance> {
    let shortfall: Option<i64> = conn
        .prepare_cached("SELECT shortfall FROM accounts WHERE id = ?1")?
        .query_row([account], |r| r.get(0))
        .optional()?;
    let shortfall = shortfall.ok_or(StoreError::UnknownAccount(account))?;
    let mut b = lots_balance(conn, account, now)?;
    b.shortfall = shortfall;
    Ok(b)
}

/// Available / pending / expiring-soon of an account's open lots (shortfall left at 0).
pub(crate) fn lots_balance(conn: &Connection, account: i64, now: DateTime<Utc>) -> Result<Balance> {
    crate::cache::live(
        conn,
        account,
        ms(now),
        &loyalty_domain::TierWindow::Lifetime,
    )?
    .balance()
}

/// The open lots (remaining > 0) of an account, as the domain sees them.
pub(crate) fn open_lots(conn: &Connection, account: i64) -> Result<Vec<LotView>> {
    let mut st = conn.prepare_cached(
        "SELECT id, earned_at, available_at, expires_at, remaining
         FROM lots WHERE account_id = ?1 AND remaining > 0",
    )?;
    let rows = st.query_map([account], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, Option<i64>>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    let mut lots = Vec::new();
    for row in rows {
        let (id, earned, avail, exp, remaining) = row?;
        lots.push(LotView {
            id,
            earned_at: from_ms(earned)?,
            available_at: from_ms(avail)?,
            expires_at: opt_from_ms(exp)?,
            remaining,
        });
    }
    Ok(lots)
}

fn take_from_lot(conn: &Connection, lot: i64, points: Points) -> Result<()> {
    conn.prepare_cached("UPDATE lots SET remaining = remaining - ?2 WHERE id = ?1")?
        .execute(params![lot, points])?;
    Ok(())
}

/// A new lot of points (no ledger entry: callers post it).
pub(crate) struct NewLot<'a> {
    pub kind: &'a str,
    pub earned_at: DateTime<Utc>,
    pub available_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub sale_id: Option<i64>,
}

/// Credits `points` (> 0) to an account: settles its shortfall first, puts the rest in a new
/// lot, posts `+points`. Returns `(settled, lot id)`.
pub(crate) fn credit(
    conn: &Connection,
    account: i64,
    points: Points,
    lot: &NewLot<'_>,
    p: &Posting<'_>,
) -> Result<(Points, Option<i64>)> {
    if points <= 0 {
        return Ok((0, None));
    }
    crate::books::ensure(conn, account)?;
    let shortfall: i64 = conn
        .prepare_cached("SELECT shortfall FROM accounts WHERE id = ?1")?
        .query_row([account], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::UnknownAccount(account))?;
    let settled = points.min(shortfall);
    if settled > 0 {
        conn.prepare_cached("UPDATE accounts SET shortfall = shortfall - ?2 WHERE id = ?1")?
            .execute(params![account, settled])?;
    }
    let rest = points - settled;
    let lot_id = if rest > 0 {
        // book_lot_id "{op}:{n}" and source_op as the pure AccountBook names them.
        conn.prepare_cached(
            "INSERT INTO lots (account_id, kind, earned_at, available_at, expires_at, original,
                               remaining, source_sale_id, op_id, book_lot_id, source_op)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8,
                     ?8 || ':' || (SELECT COUNT(*) FROM lots WHERE account_id = ?1 AND op_id = ?8),
                     COALESCE((SELECT op_id FROM sales WHERE id = ?7), ?8))",
        )?
        .execute(params![
            account,
            lot.kind,
            ms(lot.earned_at),
            ms(lot.available_at),
            lot.expires_at.map(ms),
            rest,
            lot.sale_id,
            p.op
        ])?;
        let id = conn.last_insert_rowid();
        crate::cache::mark_stale(conn, account)?;
        Some(id)
    } else {
        None
    };
    post(conn, account, p, points, lot_id)?;
    Ok((settled, lot_id))
}

/// Spends `points` (> 0) from the available lots, FIFO per the domain's `fifo_take`, and posts
/// `-points`. Fails with the domain's InsufficientPoints when not enough is available.
pub(crate) fn debit_fifo(
    conn: &Connection,
    account: i64,
    points: Points,
    p: &Posting<'_>,
) -> Result<()> {
    if points <= 0 {
        return Ok(());
    }
    crate::books::ensure(conn, account)?;
    let lots = open_lots(conn, account)?;
    let takes = fifo_take(&lots, p.now, points)?;
    let taken: Points = takes.iter().map(|(_, n)| *n).sum();
    if taken != points {
        return Err(StoreError::InsufficientPoints {
            available: taken,
            requested: points,
        });
    }
    for (lot, n) in takes {
        take_from_lot(conn, lot, n)?;
    }
    post(conn, account, p, -points, None)
}

/// Takes back `points` earned by `sale_id`: first what that sale's own lots lost to expiry
/// (gone already, so free: not taken a second time), then from that sale's own lots, then
/// from the account's other unexpired lots (available ones FIFO, then pending ones), and
/// whatever is left becomes shortfall. Posts minus what is not free. Returns `(taken from
/// lots, added to shortfall)`; the free part is `points` minus both.
pub(crate) fn take_back(
    conn: &Connection,
    account: i64,
    sale_id: i64,
    points: Points,
    p: &Posting<'_>,
) -> Result<(Points, Points)> {
    if points <= 0 {
        return Ok((0, 0));
    }
    crate::books::ensure(conn, account)?;
    let now = ms(p.now);
    // Points of the sale's own lots that already expired are gone: a return claims them back
    // for free (whether the sweep ran before it or not), so they are not taken twice.
    let mut free = 0;
    {
        let mut st = conn.prepare_cached(
            "SELECT id, expired FROM lots
             WHERE account_id = ?1 AND source_sale_id = ?2 AND expired > 0 ORDER BY id",
        )?;
        let expired: Vec<(i64, i64)> = st
            .query_map(params![account, sale_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (lot, n) in expired {
            let n = n.min(points - free);
            if n == 0 {
                break;
            }
            conn.prepare_cached("UPDATE lots SET expired = expired - ?2 WHERE id = ?1")?
                .execute(params![lot, n])?;
            free += n;
        }
    }
    let owed = points - free;
    if owed == 0 {
        return Ok((0, 0));
    }
    let mut candidates: Vec<(i64, i64)> = Vec::new();
    {
        let mut st = conn.prepare_cached(
            "SELECT id, remaining FROM lots
             WHERE account_id = ?1 AND source_sale_id = ?2 AND remaining > 0 ORDER BY id",
        )?;
        for row in st.query_map(params![account, sale_id], |r| Ok((r.get(0)?, r.get(1)?)))? {
            candidates.push(row?);
        }
        let mut st = conn.prepare_cached(
            "SELECT id, remaining FROM lots
             WHERE account_id = ?1 AND remaining > 0 AND source_sale_id IS NOT ?2
               AND (expires_at IS NULL OR expires_at > ?3)
             ORDER BY available_at > ?3, expires_at IS NULL, expires_at, earned_at, id",
        )?;
        for row in st.query_map(params![account, sale_id, now], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })? {
            candidates.push(row?);
        }
    }
    let mut left = owed;
    for (lot, remaining) in candidates {
        if left == 0 {
            break;
        }
        let n = remaining.min(left);
        take_from_lot(conn, lot, n)?;
        left -= n;
    }
    if left > 0 {
        conn.prepare_cached("UPDATE accounts SET shortfall = shortfall + ?2 WHERE id = ?1")?
            .execute(params![account, left])?;
    }
    post(conn, account, p, -owed, None)?;
    Ok((owed - left, left))
}
