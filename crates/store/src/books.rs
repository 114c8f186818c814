//! Server books on the till: materialised as the account's lots and ledger, or kept as
//! they came until the account is next used here (migration 0010, "deferred").
//!
//! A page brings the server's book of many accounts this till has nothing pending on;
//! most are not touched here before the next page replaces them. [`defer`] stores such a
//! book on the account row (its shortfall and counters written at once, the scan's cache
//! marked stale); reads take the balance from it ([`deferred_cache_lots`], used by
//! `cache::live`), and anything that writes the account's points first calls [`ensure`],
//! which [`materialise`]s it: lots matched by `book_lot_id`, one `sync` ledger entry for
//! the difference. While deferred, the rows keep their last materialised state (so the
//! ledger invariant is checked on materialised accounts only).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use loyalty_domain::{AccountBook, BookLot, Money, Points};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::cache::CacheLot;
use crate::error::{Result, StoreError};
use crate::ledger::{post, Posting};
use crate::ops::{from_ms, ms, opt_from_ms};

/// The ledger entry of a rebase: `(kind, reason)`.
pub(crate) type PostingKind = (&'static str, &'static str);
pub(crate) const SYNC_POSTING: PostingKind = ("sync", "server state");
/// A merge of duplicate customers moved the points (the duplicate's entry and the
/// survivor's of the same batch).
pub(crate) const MERGE_POSTING: PostingKind = ("merge", "duplicate customer merged");

/// Stores `book` as the account's deferred server book (replacing any earlier one) and its
/// shortfall and counters; returns the net points change it brings, as [`materialise`]
/// would post it (`created`: the account is new in this batch, nothing before).
pub(crate) fn defer(
    tx: &Connection,
    account: i64,
    created: bool,
    book: &AccountBook,
    op: &str,
    now: DateTime<Utc>,
) -> Result<Points> {
    let before = if created { 0 } else { points_of(tx, account)? };
    defer_over(tx, account, before, book, op, now)
}

/// [`defer`] for an account whose points as this till last knew them (`before`: see
/// [`points_from`]) the caller has; returns the points the book brings.
pub(crate) fn defer_over(
    tx: &Connection,
    account: i64,
    before: Points,
    book: &AccountBook,
    op: &str,
    now: DateTime<Utc>,
) -> Result<Points> {
    let values = std::iter::once(Value::from(account)).chain(deferred_values(book, op, now)?);
    tx.prepare_cached(
        "UPDATE accounts SET shortfall = ?2, lifetime_spend = ?3, lifetime_purchases = ?4,
            stamps = ?5, birthday_bonus_year = ?6, referral_pending = ?7, club_until = ?8,
            server_book = ?9, server_book_op = ?10, server_book_at = ?11, cache_until = NULL
         WHERE id = ?1",
    )?
    .execute(params_from_iter(values))?;
    Ok(net(book).saturating_sub(before))
}

/// The account columns [`defer`] writes, in its order: shortfall, lifetime spend and
/// purchases, stamps, birthday bonus year, referral pending, club until, then the stored
/// book, its op and time (a new account is inserted with them in one statement:
/// `sync_upsert::insert_new_account`).
pub(crate) fn deferred_values(
    book: &AccountBook,
    op: &str,
    now: DateTime<Utc>,
) -> Result<[Value; 10]> {
    let [a, b, c, d, e, f, g] = counter_values(book);
    Ok([
        a,
        b,
        c,
        d,
        e,
        f,
        g,
        Value::from(encode_lots(book)?),
        Value::from(op.to_string()),
        Value::from(ms(now)),
    ])
}

/// Materialises the account's deferred book, if it has one: to be called before anything
/// reads or writes its lots or ledger for a change.
pub(crate) fn ensure(conn: &Connection, account: i64) -> Result<()> {
    let Some((book, op, at)) = deferred(conn, account)? else {
        return Ok(());
    };
    materialise(
        conn,
        account,
        false,
        &book,
        (&op, SYNC_POSTING),
        from_ms(at)?,
    )?;
    Ok(())
}

/// The account's deferred server book (`None`: its rows are current): its lots as stored,
/// its shortfall and counters from the account row (written from the book with it). Times
/// at the millisecond, as the lot rows keep them.
pub(crate) fn deferred_book(conn: &Connection, account: i64) -> Result<Option<AccountBook>> {
    Ok(deferred(conn, account)?.map(|(book, _, _)| book))
}

/// The open lots of the account's deferred book as the scan's cache needs them (`None`:
/// its rows are current); read without building the book.
pub(crate) fn deferred_cache_lots(
    conn: &Connection,
    account: i64,
) -> Result<Option<Vec<CacheLot>>> {
    let json: Option<String> = conn
        .prepare_cached("SELECT server_book FROM accounts WHERE id = ?1")?
        .query_row([account], |r| r.get(0))
        .optional()?
        .flatten();
    let Some(json) = json else {
        return Ok(None);
    };
    Ok(Some(
        decode_lots(account, &json)?
            .into_iter()
            .filter(|l| l.6 > 0)
            .map(|l| CacheLot {
                available_at: l.3,
                expires_at: l.4,
                remaining: l.6,
            })
            .collect(),
    ))
}

/// A lot as a deferred book stores it: `(id, kind, earned_at, available_at, expires_at,
/// original, remaining, expired, source_op)`, times in unix ms, `source_op` left out
/// (`None`) when it is the op of the lot's own id — a JSON array, a third of the
/// `BookLot` object and no date formatting.
#[derive(Serialize, Deserialize)]
struct StoredLot(
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Points,
    Points,
    Points,
    Option<String>,
);

/// The op part of a lot id `"{op}:{n}"`.
fn op_of(lot_id: &str) -> &str {
    lot_id.rsplit_once(':').map_or(lot_id, |(op, _)| op)
}

fn encode_lots(book: &AccountBook) -> Result<String> {
    let lots: Vec<StoredLot> = book
        .lots
        .iter()
        .map(|l| {
            StoredLot(
                l.id.clone(),
                l.kind.clone(),
                ms(l.earned_at),
                ms(l.available_at),
                l.expires_at.map(ms),
                l.original,
                l.remaining,
                l.expired,
                (l.source_op != op_of(&l.id)).then(|| l.source_op.clone()),
            )
        })
        .collect();
    serde_json::to_string(&lots)
        .map_err(|e| StoreError::SyncData(format!("account {}: {e}", book.account_uid)))
}

fn book_lot(l: StoredLot) -> Result<BookLot> {
    let source_op = l.8.unwrap_or_else(|| op_of(&l.0).to_string());
    Ok(BookLot {
        id: l.0,
        kind: l.1,
        earned_at: from_ms(l.2)?,
        available_at: from_ms(l.3)?,
        expires_at: opt_from_ms(l.4)?,
        original: l.5,
        remaining: l.6,
        expired: l.7,
        source_op,
    })
}

fn decode_lots(account: i64, json: &str) -> Result<Vec<StoredLot>> {
    serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt(format!("deferred book of account {account}: {e}")))
}

fn deferred(conn: &Connection, account: i64) -> Result<Option<(AccountBook, String, i64)>> {
    type Row = (
        Option<String>,
        Option<String>,
        Option<i64>,
        String,
        (Points, Money, i64, i64),
        (Option<i32>, bool, Option<i64>),
    );
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT server_book, server_book_op, server_book_at, uid, shortfall, lifetime_spend,
                    lifetime_purchases, stamps, birthday_bonus_year, referral_pending, club_until
             FROM accounts WHERE id = ?1 AND server_book IS NOT NULL",
        )?
        .query_row([account], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                (r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?),
                (r.get(8)?, r.get(9)?, r.get(10)?),
            ))
        })
        .optional()?;
    let Some((Some(json), op, at, uid, counters, more)) = row else {
        return Ok(None);
    };
    let lots = decode_lots(account, &json)?
        .into_iter()
        .map(book_lot)
        .collect::<Result<Vec<_>>>()?;
    let count = |v: i64| u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("count {v}")));
    let book = AccountBook {
        account_uid: uid,
        lots,
        shortfall: counters.0,
        lifetime_spend: counters.1,
        lifetime_purchases: count(counters.2)?,
        stamps: count(counters.3)?,
        birthday_bonus_year: more.0,
        referral_pending: more.1,
        club_until: opt_from_ms(more.2)?,
    };
    Ok(Some((
        book,
        op.unwrap_or_else(|| "sync".into()),
        at.unwrap_or(0),
    )))
}

/// `Σ remaining − shortfall` of a book: what its ledger sums to once materialised.
pub(crate) fn net(book: &AccountBook) -> Points {
    book.lots
        .iter()
        .map(|l| l.remaining)
        .sum::<Points>()
        .saturating_sub(book.shortfall)
}

/// The account's points as this till last knew them: its deferred book's, else its ledger's.
fn points_of(tx: &Connection, account: i64) -> Result<Points> {
    let (json, shortfall): (Option<String>, Points) = tx
        .prepare_cached("SELECT server_book, shortfall FROM accounts WHERE id = ?1")?
        .query_row([account], |r| Ok((r.get(0)?, r.get(1)?)))?;
    points_from(tx, account, json.as_deref(), shortfall)
}

/// [`points_of`] from the account row's `server_book` and `shortfall`, read by the caller.
pub(crate) fn points_from(
    tx: &Connection,
    account: i64,
    json: Option<&str>,
    shortfall: Points,
) -> Result<Points> {
    if let Some(json) = json {
        let lots = decode_lots(account, json)?;
        return Ok(lots
            .iter()
            .map(|l| l.6)
            .sum::<Points>()
            .saturating_sub(shortfall));
    }
    Ok(tx
        .prepare_cached("SELECT COALESCE(SUM(points), 0) FROM ledger WHERE account_id = ?1")?
        .query_row([account], |r| r.get(0))?)
}

/// Whether the account holds a deferred server book.
pub(crate) fn is_deferred(conn: &Connection, account: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT server_book IS NOT NULL FROM accounts WHERE id = ?1")?
        .query_row([account], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

/// The rows are current again. The scan's cache, computed from the deferred book, is
/// marked stale: the rows may hold another state (a newer book whose lots are all spent,
/// for one, writes no lot row and so fires no trigger).
fn clear(tx: &Connection, account: i64) -> Result<()> {
    tx.prepare_cached(
        "UPDATE accounts SET server_book = NULL, server_book_op = NULL, server_book_at = NULL,
            cache_until = NULL
         WHERE id = ?1 AND server_book IS NOT NULL",
    )?
    .execute([account])?;
    Ok(())
}

/// Writes `book` as the account's lots, shortfall and counters (rows that already hold
/// the same values are not rewritten: no page dirtied, no cache-invalidating trigger);
/// posts the net difference as one `sync` (or `merge`) ledger entry (none when 0). Returns the
/// difference. An account `created`
/// by this batch has no lots and no ledger entries yet: nothing to look up or zero.
pub(crate) fn materialise(
    tx: &Connection,
    account: i64,
    created: bool,
    book: &AccountBook,
    (op, (kind, reason)): (&str, PostingKind),
    now: DateTime<Utc>,
) -> Result<Points> {
    let existing: HashMap<String, i64> = if created {
        HashMap::new()
    } else {
        let mut st = tx.prepare_cached(
            "SELECT book_lot_id, id FROM lots WHERE account_id = ?1 AND book_lot_id IS NOT NULL",
        )?;
        let rows = st.query_map([account], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut inserted = false;
    for l in &book.lots {
        let p = params![
            l.kind,
            ms(l.earned_at),
            ms(l.available_at),
            l.expires_at.map(ms),
            l.original,
            l.remaining,
            l.source_op,
            l.expired,
        ];
        if let Some(id) = existing.get(&l.id) {
            let mut v = p.to_vec();
            v.push(id);
            tx.prepare_cached(
                "UPDATE lots SET kind = ?1, earned_at = ?2, available_at = ?3, expires_at = ?4,
                    original = ?5, remaining = ?6, source_op = ?7, expired = ?8
                 WHERE id = ?9 AND (kind IS NOT ?1 OR earned_at IS NOT ?2
                    OR available_at IS NOT ?3 OR expires_at IS NOT ?4 OR original IS NOT ?5
                    OR remaining IS NOT ?6 OR source_op IS NOT ?7 OR expired IS NOT ?8)",
            )?
            .execute(v.as_slice())?;
        } else {
            let op_of_lot = op_of(&l.id);
            let mut v = p.to_vec();
            v.extend_from_slice(&[&account as &dyn rusqlite::ToSql, &op_of_lot, &l.id]);
            tx.prepare_cached(
                "INSERT INTO lots (kind, earned_at, available_at, expires_at, original, remaining,
                    source_op, expired, account_id, op_id, book_lot_id, source_sale_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,
                    (SELECT id FROM sales WHERE op_id = ?7))",
            )?
            .execute(v.as_slice())?;
            inserted = true;
        }
    }
    if inserted {
        crate::cache::mark_stale(tx, account)?;
    }
    if !created {
        let keep: std::collections::HashSet<&str> =
            book.lots.iter().map(|l| l.id.as_str()).collect();
        let gone: Vec<i64> = existing
            .iter()
            .filter(|(k, _)| !keep.contains(k.as_str()))
            .map(|(_, id)| *id)
            .collect();
        for id in gone {
            tx.prepare_cached("UPDATE lots SET remaining = 0 WHERE id = ?1 AND remaining > 0")?
                .execute([id])?;
        }
        tx.prepare_cached(
            "UPDATE lots SET remaining = 0 WHERE account_id = ?1 AND book_lot_id IS NULL
                AND remaining > 0",
        )?
        .execute([account])?;
    }
    write_counters(tx, account, book)?;
    clear(tx, account)?;
    let (ledger, lots): (i64, i64) = if created {
        (0, book.lots.iter().map(|l| l.remaining).sum())
    } else {
        tx.prepare_cached(
            "SELECT (SELECT COALESCE(SUM(points), 0) FROM ledger WHERE account_id = ?1),
                    (SELECT COALESCE(SUM(remaining), 0) FROM lots WHERE account_id = ?1)",
        )?
        .query_row([account], |r| Ok((r.get(0)?, r.get(1)?)))?
    };
    let diff = lots.saturating_sub(book.shortfall).saturating_sub(ledger);
    if diff != 0 {
        let p = Posting {
            op,
            kind,
            sale_id: None,
            reason,
            now,
        };
        post(tx, account, &p, diff, None)?;
    }
    Ok(diff)
}

/// The shortfall and counters of `book` on the account row (not rewritten when equal).
fn write_counters(tx: &Connection, account: i64, book: &AccountBook) -> Result<()> {
    let values = std::iter::once(Value::from(account)).chain(counter_values(book));
    tx.prepare_cached(
        "UPDATE accounts SET shortfall = ?2, lifetime_spend = ?3, lifetime_purchases = ?4,
            stamps = ?5, birthday_bonus_year = ?6, referral_pending = ?7, club_until = ?8
         WHERE id = ?1 AND (shortfall IS NOT ?2 OR lifetime_spend IS NOT ?3
            OR lifetime_purchases IS NOT ?4 OR stamps IS NOT ?5 OR birthday_bonus_year IS NOT ?6
            OR referral_pending IS NOT ?7 OR club_until IS NOT ?8)",
    )?
    .execute(params_from_iter(values))?;
    Ok(())
}

/// `shortfall, lifetime_spend, lifetime_purchases, stamps, birthday_bonus_year,
/// referral_pending, club_until` of a book, as the account row's columns hold them.
fn counter_values(book: &AccountBook) -> [Value; 7] {
    [
        Value::from(book.shortfall),
        Value::from(book.lifetime_spend),
        Value::from(book.lifetime_purchases),
        Value::from(book.stamps),
        book.birthday_bonus_year.map_or(Value::Null, Value::from),
        Value::from(book.referral_pending),
        book.club_until.map_or(Value::Null, |t| Value::from(ms(t))),
    ]
}

impl crate::Store {
    /// The server book an account holds deferred (`None`: its lots and ledger rows are
    /// current), as [`deferred_book`] rebuilds it.
    pub fn deferred_book(&self, account_id: i64) -> Result<Option<AccountBook>> {
        deferred_book(&self.conn, account_id)
    }

    /// Accounts holding a deferred server book.
    pub fn deferred_count(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM accounts WHERE server_book IS NOT NULL",
            [],
            |r| r.get(0),
        )?)
    }

    /// Materialises up to `limit` deferred server books (one transaction); returns how many.
    /// Not needed for correctness (every write materialises what it touches first): for
    /// maintenance when the till is idle, and for checks.
    pub fn materialise_deferred(&mut self, limit: u32) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let ids: Vec<i64> = tx
            .prepare_cached("SELECT id FROM accounts WHERE server_book IS NOT NULL LIMIT ?1")?
            .query_map([limit], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for &id in &ids {
            ensure(&tx, id)?;
        }
        tx.commit()?;
        Ok(ids.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lot(id: &str, source_op: &str, expires: Option<i64>) -> BookLot {
        BookLot {
            id: id.into(),
            kind: "earn".into(),
            earned_at: from_ms(1_740_823_200_123).unwrap(),
            available_at: from_ms(1_742_032_800_000).unwrap(),
            expires_at: expires.map(|e| from_ms(e).unwrap()),
            original: 120,
            remaining: 70,
            expired: 5,
            source_op: source_op.into(),
        }
    }

    #[test]
    fn stored_lots_give_back_the_books_lots() {
        let op = "0193a1b2-0000-7000-8000-000000000001";
        let sale = "0193a1b2-0000-7000-8000-0000000000aa";
        let book = AccountBook {
            account_uid: "a".into(),
            lots: vec![
                lot(&format!("{op}:0"), op, Some(1_771_000_000_000)),
                lot(&format!("{op}:1"), sale, None),
            ],
            ..AccountBook::default()
        };
        let json = encode_lots(&book).unwrap();
        assert!(json.len() < serde_json::to_string(&book.lots).unwrap().len() / 2);
        let back: Vec<BookLot> = decode_lots(1, &json)
            .unwrap()
            .into_iter()
            .map(book_lot)
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(back, book.lots);
        assert!(decode_lots(1, "{not json").is_err());
    }
}
