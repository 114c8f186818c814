//! Deriving the analytics rows of a database that applied facts before migration 0003:
//! every `events` row in gseq order through [`super::record::all_event_stmts`] (the same rows
//! ingest writes), then every account's book summary. Runs once, in one transaction, on
//! the first start after the migration (`analytics_state.backfilled` 0 → 1).
//!
//! The same for `customer_categories` (migration 0004) on a database that was already
//! backfilled: every event through [`super::record::category_stmts`] only
//! (`categories_backfilled` 0 → 1). A full backfill writes the categories too and marks
//! both done.

use super::record::{all_event_stmts, category_stmts, summarize, summary_stmt, EventInfo};
use super::{Stmt, Val};
use crate::backend::apply::parse_book;
use crate::backend::hash::parse_ts;
use crate::backend::{BackendError, Result};
use chrono::{DateTime, Utc};
use loyalty_domain::Fact;

/// Rows read per page.
pub const PAGE: i64 = 2000;

/// `value` of the marker: 0 = the backfill is still to run.
pub fn pending_query() -> Stmt {
    Stmt::new(
        "SELECT value FROM analytics_state WHERE name = 'backfilled'",
        vec![],
    )
}

/// Marks both backfills done (the full one writes the categories too).
pub fn mark_done() -> Stmt {
    Stmt::new(
        "UPDATE analytics_state SET value = 1
         WHERE name IN ('backfilled', 'categories_backfilled')",
        vec![],
    )
}

/// `value` of the categories' marker: 0 = their backfill is still to run.
pub fn categories_pending_query() -> Stmt {
    Stmt::new(
        "SELECT value FROM analytics_state WHERE name = 'categories_backfilled'",
        vec![],
    )
}

pub fn categories_mark_done() -> Stmt {
    Stmt::new(
        "UPDATE analytics_state SET value = 1 WHERE name = 'categories_backfilled'",
        vec![],
    )
}

/// Events after a gseq: `gseq, op_id, till_id, store_id, recorded_at, received_at, fact`.
pub fn events_query(after_gseq: i64) -> Stmt {
    events_page(after_gseq, PAGE, "e.fact")
}

/// At most `limit` events after a gseq, the fact read as `fact` (an SQL expression over
/// `e`), in the columns [`EventRow::parse`] reads.
pub fn events_page(after_gseq: i64, limit: i64, fact: &str) -> Stmt {
    Stmt::new(
        format!(
            "SELECT e.gseq, e.op_id, e.till_id, t.store_id, e.recorded_at, e.received_at, {fact}
             FROM events e JOIN tills t ON t.id = e.till_id
             WHERE e.gseq > $1 ORDER BY e.gseq LIMIT $2"
        ),
        vec![Val::Int(after_gseq), Val::Int(limit)],
    )
}

/// Accounts after a uid: `uid, book`.
pub fn accounts_query(after_uid: &str) -> Stmt {
    Stmt::new(
        "SELECT uid, book FROM accounts WHERE uid > $1 ORDER BY uid LIMIT $2",
        vec![Val::text(after_uid), Val::Int(PAGE)],
    )
}

fn text(row: &[Val], i: usize) -> Result<&str> {
    row.get(i)
        .and_then(Val::as_text)
        .ok_or_else(|| BackendError::Corrupt(format!("backfill: column {i} is not text")))
}

/// The rows of one `events_query` row (the customer categories too); returns its gseq.
pub fn event_row(row: &[Val], out: &mut Vec<Stmt>) -> Result<i64> {
    rows_of(row, out, all_event_stmts)
}

/// The `customer_categories` rows of one `events_query` row; returns its gseq.
pub fn category_row(row: &[Val], out: &mut Vec<Stmt>) -> Result<i64> {
    rows_of(row, out, category_stmts)
}

fn rows_of(
    row: &[Val],
    out: &mut Vec<Stmt>,
    stmts: fn(&EventInfo<'_>, &mut Vec<Stmt>),
) -> Result<i64> {
    let e = EventRow::parse(row)?;
    stmts(&e.info(), out);
    Ok(e.gseq)
}

/// One row of an events query (`gseq, op_id, till_id, store_id, recorded_at,
/// received_at, fact`), parsed.
pub struct EventRow<'a> {
    pub gseq: i64,
    pub op_id: &'a str,
    pub till_id: &'a str,
    pub store_id: &'a str,
    /// `min(recorded_at, received_at)`.
    pub event_time: DateTime<Utc>,
    pub fact: Fact,
}

impl<'a> EventRow<'a> {
    pub fn parse(row: &'a [Val]) -> Result<EventRow<'a>> {
        let gseq = row.first().map(Val::int).unwrap_or(0);
        let fact: Fact = serde_json::from_str(text(row, 6)?)
            .map_err(|e| BackendError::Corrupt(format!("event gseq {gseq}: {e}")))?;
        let recorded: DateTime<Utc> = parse_ts(text(row, 4)?)?;
        let received: DateTime<Utc> = parse_ts(text(row, 5)?)?;
        Ok(EventRow {
            gseq,
            op_id: text(row, 1)?,
            till_id: text(row, 2)?,
            store_id: text(row, 3)?,
            event_time: recorded.min(received),
            fact,
        })
    }

    pub fn info(&self) -> EventInfo<'_> {
        EventInfo {
            op_id: self.op_id,
            till_id: self.till_id,
            store_id: self.store_id,
            gseq: self.gseq,
            event_time: self.event_time,
            fact: &self.fact,
        }
    }
}

/// The summary statement of one `accounts_query` row; returns its uid.
pub fn account_row(row: &[Val], now: DateTime<Utc>, out: &mut Vec<Stmt>) -> Result<String> {
    let uid = text(row, 0)?.to_string();
    let book = parse_book(&uid, text(row, 1)?)?;
    out.push(summary_stmt(&summarize(&book, now)));
    Ok(uid)
}
