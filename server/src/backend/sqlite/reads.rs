//! Reads for tills: account states changed since a gseq, and the paged full snapshot.

use super::apply::load_book;
use crate::backend::hash::ts;
use crate::backend::pages;
use crate::backend::stored_book::{StoredChanges, StoredSnapshot, StoredState};
use crate::backend::{BackendError, Result};
use chrono::{DateTime, Utc};
use loyalty_domain::{AccountBook, Points, ProgramConfig};
use loyalty_wire::{CardState, CustomerState};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;

/// The accounts of a page, as the page's reads select their rows.
enum Page {
    /// A snapshot page: every account between two uids (the rows sorted by uid).
    Range,
    /// A changes page: the accounts named (in gseq order, anywhere in the uid order).
    Named,
}

impl Page {
    /// The `WHERE` condition on `account_uid` and its values for `rows`.
    fn select(&self, rows: &[pages::AccountRow]) -> Result<(&'static str, Vec<String>)> {
        Ok(match self {
            Page::Range => (
                "account_uid BETWEEN ?1 AND ?2",
                vec![rows[0].0.clone(), rows[rows.len() - 1].0.clone()],
            ),
            Page::Named => (
                "account_uid IN (SELECT value FROM json_each(?1))",
                vec![serde_json::to_string(
                    &rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
                )?],
            ),
        })
    }
}

/// Everything a till needs about each account of `rows` (in their order), with four
/// reads for the whole page — customers, cards, reserved points, categories — instead of
/// four look-ups per account.
fn states_of(
    c: &Connection,
    rows: Vec<pages::AccountRow>,
    page: Page,
    now: DateTime<Utc>,
) -> Result<Vec<StoredState>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let (which, values) = page.select(&rows)?;
    let ids = || rusqlite::params_from_iter(values.iter());
    let mut customers: HashMap<String, CustomerState> = HashMap::with_capacity(rows.len());
    {
        let mut st = c.prepare_cached(&format!(
            "SELECT account_uid, uid, profile, referrer_uid FROM customers WHERE {which}"
        ))?;
        let mut q = st.query(ids())?;
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
        let mut st = c.prepare_cached(&format!(
            "SELECT account_uid, number, status, kind FROM cards
             WHERE {which} ORDER BY account_uid, created_at, number"
        ))?;
        let mut q = st.query(ids())?;
        while let Some(r) = q.next()? {
            cards.entry(r.get(0)?).or_default().push(CardState {
                number: r.get(1)?,
                status: r.get(2)?,
                kind: r.get(3)?,
            });
        }
    }
    let now_at = values.len() + 1;
    let reserved: HashMap<String, Points> = c
        .prepare_cached(&format!(
            "SELECT account_uid, SUM(points) FROM reservations
             WHERE {which} AND status = 'active' AND expires_at > ?{now_at}
             GROUP BY account_uid"
        ))?
        .query_map(
            rusqlite::params_from_iter(values.iter().cloned().chain([ts(now)])),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<rusqlite::Result<_>>()?;
    let mut stats = Vec::new();
    {
        let mut st = c.prepare_cached(&format!(
            "SELECT account_uid, {} FROM customer_categories WHERE {which}",
            pages::CATEGORY_COLUMNS
        ))?;
        let mut q = st.query(ids())?;
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
    let accounts = states_of(&tx, rows, Page::Named, now)?;
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
    let accounts = states_of(&tx, rows, Page::Range, now)?;
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
