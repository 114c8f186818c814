//! The SQLite executor of the shared analytics statements ([`crate::backend::analytics`]),
//! the backfill of a database older than migration 0003 (or 0004), and the expiry sweep.

use super::apply::{load_book, next_gseq};
use crate::backend::analytics::expiry::{self, SweepOutcome};
use crate::backend::analytics::{backfill, Rows, Stmt, Val};
use crate::backend::hash::ts;
use crate::backend::Result;
use chrono::{DateTime, Utc};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{params, params_from_iter, Connection, TransactionBehavior};

fn bind(v: &Val, gseq: &mut Option<i64>, c: &Connection) -> rusqlite::Result<Value> {
    Ok(match v {
        Val::Int(i) => Value::Integer(*i),
        Val::Text(t) => Value::Text(t.clone()),
        Val::Bool(b) => Value::Integer(i64::from(*b)),
        Val::NullText | Val::NullInt | Val::Null => Value::Null,
        Val::Gseq => Value::Integer(match gseq {
            Some(g) => *g,
            None => *gseq.insert(next_gseq(c)?),
        }),
    })
}

/// Runs `stmts` in order (in the caller's transaction); `gseq`: the value of
/// [`Val::Gseq`] (None: taken from the counter on first use). Rows changed per statement
/// (0 for a skipped `if_changed` one).
pub fn exec(c: &Connection, stmts: &[Stmt], mut gseq: Option<i64>) -> rusqlite::Result<Vec<usize>> {
    let mut changed = Vec::with_capacity(stmts.len());
    for s in stmts {
        if s.if_changed && changed.last().copied().unwrap_or(0) == 0 {
            changed.push(0);
            continue;
        }
        let values = s
            .params
            .iter()
            .map(|v| bind(v, &mut gseq, c))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let n = c
            .prepare_cached(&s.sqlite_sql())?
            .execute(params_from_iter(values))?;
        changed.push(n);
    }
    Ok(changed)
}

/// The rows of one query.
pub fn query(c: &Connection, s: &Stmt) -> rusqlite::Result<Rows> {
    let mut gseq = None;
    let values = s
        .params
        .iter()
        .map(|v| bind(v, &mut gseq, c))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut st = c.prepare_cached(&s.sqlite_sql())?;
    let n = st.column_count();
    let rows = st.query_map(params_from_iter(values), |r| {
        (0..n)
            .map(|i| {
                Ok(match r.get_ref(i)? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(i) => Val::Int(i),
                    ValueRef::Real(f) => Val::Int(f as i64),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Val::Text(String::from_utf8_lossy(t).into_owned())
                    }
                })
            })
            .collect::<rusqlite::Result<Vec<Val>>>()
    })?;
    rows.collect()
}

/// Runs `row` over every applied event, a page at a time; returns how many.
fn walk_events(tx: &Connection, row: fn(&[Val], &mut Vec<Stmt>) -> Result<i64>) -> Result<u64> {
    let (mut after, mut n) = (0i64, 0u64);
    loop {
        let rows = query(tx, &backfill::events_query(after))?;
        if rows.is_empty() {
            return Ok(n);
        }
        let mut stmts = Vec::new();
        for r in &rows {
            after = row(r, &mut stmts)?;
        }
        exec(tx, &stmts, None)?;
        n += rows.len() as u64;
    }
}

/// Derives the analytics rows from the events applied before migration 0003 (once), and
/// `customer_categories` from those applied before 0004 (once).
pub fn backfill(c: &mut Connection, now: DateTime<Utc>) -> Result<()> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let marker =
        |s: Stmt| -> Result<Option<i64>> { Ok(query(&tx, &s)?.first().map(|r| r[0].int())) };
    if marker(backfill::pending_query())? == Some(0) {
        let n = walk_events(&tx, backfill::event_row)?;
        let mut uid = String::new();
        loop {
            let rows = query(&tx, &backfill::accounts_query(&uid))?;
            if rows.is_empty() {
                break;
            }
            let mut stmts = Vec::new();
            for r in &rows {
                uid = backfill::account_row(r, now, &mut stmts)?;
            }
            exec(&tx, &stmts, None)?;
        }
        exec(&tx, &[backfill::mark_done()], None)?;
        if n > 0 {
            tracing::info!(events = n, "analytics backfilled from the applied events");
        }
    } else if marker(backfill::categories_pending_query())? == Some(0) {
        let n = walk_events(&tx, backfill::category_row)?;
        exec(&tx, &[backfill::categories_mark_done()], None)?;
        if n > 0 {
            tracing::info!(
                events = n,
                "customer categories backfilled from the applied events"
            );
        }
    }
    tx.commit()?;
    Ok(())
}

/// Expires every book with a lot past `now`, [`expiry::SWEEP_BATCH`] accounts per
/// transaction.
pub fn sweep(c: &mut Connection, now: DateTime<Utc>) -> Result<SweepOutcome> {
    let mut out = SweepOutcome::default();
    loop {
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let due = query(&tx, &expiry::due_query(now))?;
        for r in &due {
            let (uid, store) = (r[0].as_text().unwrap_or(""), r[1].as_text().unwrap_or(""));
            let Some(mut book) = load_book(&tx, uid)? else {
                tx.execute(
                    "UPDATE customer_stats SET next_expiry = NULL WHERE account_uid = ?1",
                    [uid],
                )?;
                continue;
            };
            let expired = expiry::expire(&mut book, now);
            if expired.total > 0 {
                let gseq = next_gseq(&tx)?;
                tx.prepare_cached(
                    "UPDATE accounts SET book = ?2, gseq = ?3, updated_at = ?4 WHERE uid = ?1",
                )?
                .execute(params![
                    uid,
                    serde_json::to_string(&book)?,
                    gseq,
                    ts(now)
                ])?;
                out.accounts += 1;
                out.points += expired.total;
            }
            exec(
                &tx,
                &expiry::expired_stmts(&book, store, &expired, now),
                None,
            )?;
        }
        tx.commit()?;
        if (due.len() as i64) < expiry::SWEEP_BATCH {
            return Ok(out);
        }
    }
}
