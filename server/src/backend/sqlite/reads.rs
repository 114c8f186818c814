//! Reads for tills: account states changed since a gseq, and the paged full snapshot.

use super::apply::load_book;
use crate::backend::hash::ts;
use crate::backend::pages;
use crate::backend::stored_book::{StoredBook, StoredChanges, StoredSnapshot, StoredState};
use crate::backend::{BackendError, Result};
use chrono::{DateTime, Utc};
use loyalty_domain::{AccountBook, Points, ProgramConfig};
use loyalty_wire::{CardState, CustomerState};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;

/// Everything a till needs about one account.
pub fn account_state(
    c: &Connection,
    uid: &str,
    gseq: i64,
    book: StoredBook,
    now: DateTime<Utc>,
) -> Result<StoredState> {
    let customer: Option<(String, String, Option<String>)> = c
        .prepare_cached("SELECT uid, profile, referrer_uid FROM customers WHERE account_uid = ?1")?
        .query_row([uid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let customer = customer
        .map(|(customer_uid, profile, referrer_uid)| {
            Ok::<_, BackendError>(CustomerState {
                customer_uid,
                profile: serde_json::from_str(&profile)?,
                referrer_uid,
            })
        })
        .transpose()?;
    let mut st = c.prepare_cached(
        "SELECT number, status, kind FROM cards WHERE account_uid = ?1 ORDER BY created_at, number",
    )?;
    let cards = st
        .query_map([uid], |r| {
            Ok(CardState {
                number: r.get(0)?,
                status: r.get(1)?,
                kind: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut st = c.prepare_cached(&format!(
        "SELECT {} FROM customer_categories WHERE account_uid = ?1",
        pages::CATEGORY_COLUMNS
    ))?;
    let mut q = st.query([uid])?;
    let mut stats = Vec::new();
    while let Some(r) = q.next()? {
        let last_at: String = r.get(3)?;
        stats.push(pages::category_stat(
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            &last_at,
        )?);
    }
    pages::top(&mut stats);
    Ok(StoredState {
        account_uid: uid.to_string(),
        gseq,
        customer,
        cards,
        book,
        reserved: reserved(c, uid, now)?,
        categories: stats,
        merged_into: None,
    })
}

/// [`account_state`] of every account of `rows` (sorted by uid, as a snapshot page reads
/// them), with four range reads for the whole page instead of four look-ups per account.
fn states_of_range(
    c: &Connection,
    rows: Vec<pages::AccountRow>,
    now: DateTime<Utc>,
) -> Result<Vec<StoredState>> {
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Ok(Vec::new());
    };
    let range = params![first.0, last.0];
    let mut customers: HashMap<String, CustomerState> = HashMap::with_capacity(rows.len());
    {
        let mut st = c.prepare_cached(
            "SELECT account_uid, uid, profile, referrer_uid FROM customers
             WHERE account_uid BETWEEN ?1 AND ?2",
        )?;
        let mut q = st.query(range)?;
        while let Some(r) = q.next()? {
            let profile: String = r.get(2)?;
            customers.insert(
                r.get(0)?,
                CustomerState {
                    customer_uid: r.get(1)?,
                    profile: serde_json::from_str(&profile)?,
                    referrer_uid: r.get(3)?,
                },
            );
        }
    }
    let mut cards: HashMap<String, Vec<CardState>> = HashMap::with_capacity(rows.len());
    {
        let mut st = c.prepare_cached(
            "SELECT account_uid, number, status, kind FROM cards
             WHERE account_uid BETWEEN ?1 AND ?2 ORDER BY account_uid, created_at, number",
        )?;
        let mut q = st.query(range)?;
        while let Some(r) = q.next()? {
            cards.entry(r.get(0)?).or_default().push(CardState {
                number: r.get(1)?,
                status: r.get(2)?,
                kind: r.get(3)?,
            });
        }
    }
    let reserved: HashMap<String, Points> = c
        .prepare_cached(
            "SELECT account_uid, SUM(points) FROM reservations
             WHERE account_uid BETWEEN ?1 AND ?2 AND status = 'active' AND expires_at > ?3
             GROUP BY account_uid",
        )?
        .query_map(params![first.0, last.0, ts(now)], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut stats = Vec::new();
    {
        let mut st = c.prepare_cached(&format!(
            "SELECT account_uid, {} FROM customer_categories WHERE account_uid BETWEEN ?1 AND ?2",
            pages::CATEGORY_COLUMNS
        ))?;
        let mut q = st.query(range)?;
        while let Some(r) = q.next()? {
            let last_at: String = r.get(4)?;
            stats.push((
                r.get(0)?,
                pages::category_stat(r.get(1)?, r.get(2)?, r.get(3)?, &last_at)?,
            ));
        }
    }
    pages::PageParts {
        customers,
        cards,
        reserved,
        categories: stats,
    }
    .into_states(rows)
}

/// Points held by active, unexpired reservations of an account.
pub fn reserved(c: &Connection, account_uid: &str, now: DateTime<Utc>) -> Result<Points> {
    Ok(c.prepare_cached(
        "SELECT COALESCE(SUM(points), 0) FROM reservations
         WHERE account_uid = ?1 AND status = 'active' AND expires_at > ?2",
    )?
    .query_row(params![account_uid, ts(now)], |r| r.get(0))?)
}

pub(super) fn programs(c: &Connection, since: i64) -> Result<Vec<ProgramConfig>> {
    let mut st =
        c.prepare_cached("SELECT config FROM program_versions WHERE gseq > ?1 ORDER BY version")?;
    let rows = st.query_map([since], |r| r.get::<_, String>(0))?;
    rows.map(|r| Ok(serde_json::from_str(&r?)?)).collect()
}

pub fn changes_since(
    c: &mut Connection,
    since: i64,
    limit: u32,
    till_id: &str,
    now: DateTime<Utc>,
) -> Result<StoredChanges> {
    // One fact can change two accounts (a sale and its referrer) under one gseq: a page
    // never splits a gseq, so it holds at least 2 rows.
    let limit = pages::changes_limit(limit);
    let tx = c.transaction()?;
    let mut rows: Vec<pages::AccountRow> = {
        let mut st = tx.prepare_cached(&format!(
            "SELECT {} FROM accounts WHERE gseq > ?1 ORDER BY gseq, uid LIMIT ?2",
            pages::ACCOUNT_COLUMNS
        ))?;
        let rows = st.query_map(params![since, limit as i64 + 1], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let has_more = pages::cut_changes(&mut rows, limit);
    let next = rows.last().map(|r| r.1).unwrap_or(since);
    let mut accounts = Vec::with_capacity(rows.len());
    for (uid, gseq, json, merged_into) in rows {
        let book = StoredBook::new(&uid, json)?;
        let mut state = account_state(&tx, &uid, gseq, book, now)?;
        state.merged_into = merged_into;
        accounts.push(state);
    }
    let included_upto_seq: i64 = tx
        .prepare_cached("SELECT last_seq FROM till_cursors WHERE till_id = ?1")?
        .query_row([till_id], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let programs = programs(&tx, since)?;
    tx.commit()?;
    Ok(StoredChanges {
        accounts,
        programs,
        next,
        has_more,
        server_time: now,
        included_upto_seq,
    })
}

pub fn snapshot_page(
    c: &mut Connection,
    after: Option<&str>,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<StoredSnapshot> {
    let limit = limit.max(1) as usize;
    let tx = c.transaction()?;
    let cursor: i64 = tx
        .prepare_cached("SELECT value FROM counters WHERE name = 'gseq'")?
        .query_row([], |r| r.get(0))?;
    let total: i64 = match after {
        None => tx.query_row("SELECT COUNT(*) FROM accounts", [], |r| r.get(0))?,
        Some(_) => 0,
    };
    let mut rows: Vec<pages::AccountRow> = {
        let mut st = tx.prepare_cached(&format!(
            "SELECT {} FROM accounts WHERE uid > ?1 ORDER BY uid LIMIT ?2",
            pages::ACCOUNT_COLUMNS
        ))?;
        let rows = st.query_map(params![after.unwrap_or(""), limit as i64 + 1], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let next_after = pages::cut_snapshot(&mut rows, limit);
    let accounts = states_of_range(&tx, rows, now)?;
    let programs = programs(&tx, 0)?;
    tx.commit()?;
    Ok(StoredSnapshot {
        accounts,
        next_after,
        cursor,
        total,
        programs,
        server_time: now,
    })
}

/// The book of the account behind a card, with the card's status.
pub fn book_by_card(c: &Connection, card: &str) -> Result<Option<(String, AccountBook)>> {
    let row: Option<(String, String)> = c
        .prepare_cached("SELECT account_uid, status FROM cards WHERE number = ?1")?
        .query_row([card], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((account_uid, status)) = row else {
        return Ok(None);
    };
    if status != "active" {
        return Err(BackendError::CardBlocked(card.to_string()));
    }
    let book = load_book(c, &account_uid)?
        .ok_or_else(|| BackendError::Corrupt(format!("card {card} has no account")))?;
    Ok(Some((account_uid, book)))
}
