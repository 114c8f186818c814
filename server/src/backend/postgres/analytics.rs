//! The PostgreSQL executor of the shared analytics statements
//! ([`crate::backend::analytics`]), the backfill of a database older than migration 0003
//! (or 0004), and the expiry sweep (account rows locked `FOR UPDATE`, after the gseq counter, the
//! order ingest takes them in).

use super::apply::{lock_book, lock_counter};
use super::tx::Tx;
use crate::backend::analytics::expiry::{self, SweepOutcome};
use crate::backend::analytics::{backfill, member_days, Rows, Stmt, Val};
use crate::backend::hash::ts;
use crate::backend::{BackendError, Result};
use chrono::{DateTime, Utc};
use tokio_postgres::types::{ToSql, Type};

type Boxed = Box<dyn ToSql + Sync + Send>;

async fn next_gseq(c: &Tx<'_>) -> Result<i64> {
    let row = c
        .query_one(
            "UPDATE counters SET value = value + 1 WHERE name = 'gseq' RETURNING value",
            &[],
        )
        .await?;
    super::tx::col(&row, 0)
}

async fn bind(c: &Tx<'_>, s: &Stmt, gseq: &mut Option<i64>) -> Result<Vec<Boxed>> {
    let mut out: Vec<Boxed> = Vec::with_capacity(s.params.len());
    for v in &s.params {
        out.push(match v {
            Val::Int(i) => Box::new(*i),
            Val::Text(t) => Box::new(t.clone()),
            Val::Bool(b) => Box::new(*b),
            Val::NullText | Val::Null => Box::new(None::<String>),
            Val::NullInt => Box::new(None::<i64>),
            Val::Gseq => Box::new(match gseq {
                Some(g) => *g,
                None => *gseq.insert(next_gseq(c).await?),
            }),
        });
    }
    Ok(out)
}

fn refs(v: &[Boxed]) -> Vec<&(dyn ToSql + Sync)> {
    v.iter()
        .map(|b| b.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

/// Runs `stmts` in order in the caller's transaction (see the SQLite twin).
pub async fn exec(c: &Tx<'_>, stmts: &[Stmt], mut gseq: Option<i64>) -> Result<Vec<u64>> {
    let mut changed: Vec<u64> = Vec::with_capacity(stmts.len());
    for s in stmts {
        if s.if_changed && changed.last().copied().unwrap_or(0) == 0 {
            changed.push(0);
            continue;
        }
        let params = bind(c, s, &mut gseq).await?;
        let st = c.prepare_cached(&s.sql).await?;
        changed.push(c.execute(&st, &refs(&params)).await?);
    }
    Ok(changed)
}

/// The rows of one query.
pub async fn query(c: &Tx<'_>, s: &Stmt) -> Result<Rows> {
    let params = bind(c, s, &mut None).await?;
    let st = c.prepare_cached(&s.sql).await?;
    let rows = c.query(&st, &refs(&params)).await?;
    rows.iter()
        .map(|r| {
            (0..r.len())
                .map(|i| {
                    let ty = r.columns()[i].type_().clone();
                    let bad = |e: tokio_postgres::Error| {
                        BackendError::Corrupt(format!("column {i}: {e}"))
                    };
                    Ok(if ty == Type::INT8 {
                        r.try_get::<_, Option<i64>>(i)
                            .map_err(bad)?
                            .map_or(Val::Null, Val::Int)
                    } else if ty == Type::INT4 {
                        r.try_get::<_, Option<i32>>(i)
                            .map_err(bad)?
                            .map_or(Val::Null, |v| Val::Int(v.into()))
                    } else if ty == Type::BOOL {
                        r.try_get::<_, Option<bool>>(i)
                            .map_err(bad)?
                            .map_or(Val::Null, Val::Bool)
                    } else {
                        r.try_get::<_, Option<String>>(i)
                            .map_err(bad)?
                            .map_or(Val::Null, Val::Text)
                    })
                })
                .collect::<Result<Vec<Val>>>()
        })
        .collect()
}

/// Derives the analytics rows from the events applied before migration 0003, the customer
/// categories from those applied before 0004, then `member_days` from the `sale_facts`
/// written before migration 0005 (each once).
pub async fn backfill(t: &Tx<'_>, now: DateTime<Utc>) -> Result<()> {
    backfill_events(t, now).await?;
    backfill_member_days(t).await
}

async fn backfill_member_days(t: &Tx<'_>) -> Result<()> {
    let pending = query(
        t,
        &Stmt::new(
            "SELECT value FROM analytics_state WHERE name = 'member_days' FOR UPDATE",
            vec![],
        ),
    )
    .await?;
    if pending.first().map(|r| r[0].int()) != Some(0) {
        return Ok(());
    }
    let mut after = String::new();
    while let Some(day) =
        member_days::next_day(&query(t, &member_days::next_day_query(&after)).await?)
    {
        exec(t, &[member_days::backfill_day_stmt(day)], None).await?;
        after = crate::backend::analytics::day_of(day);
    }
    exec(t, &[member_days::mark_done()], None).await?;
    Ok(())
}

/// Runs `row` over every applied event, a page at a time.
async fn walk_events(t: &Tx<'_>, row: fn(&[Val], &mut Vec<Stmt>) -> Result<i64>) -> Result<()> {
    let mut after = 0i64;
    loop {
        let rows = query(t, &backfill::events_query(after)).await?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut stmts = Vec::new();
        for r in &rows {
            after = row(r, &mut stmts)?;
        }
        exec(t, &stmts, None).await?;
    }
}

/// Derives the analytics rows from the events applied before migration 0003 (once), and
/// `customer_categories` from those applied before 0004 (once).
async fn backfill_events(t: &Tx<'_>, now: DateTime<Utc>) -> Result<()> {
    let marker = |name: &'static str| {
        Stmt::new(
            "SELECT value FROM analytics_state WHERE name = $1 FOR UPDATE",
            vec![Val::text(name)],
        )
    };
    let pending = query(t, &marker("backfilled")).await?;
    let categories = query(t, &marker("categories_backfilled")).await?;
    let zero = |rows: &Rows| rows.first().map(|r| r[0].int()) == Some(0);
    if zero(&pending) {
        lock_counter(t).await?;
        walk_events(t, backfill::event_row).await?;
        let mut uid = String::new();
        loop {
            let rows = query(t, &backfill::accounts_query(&uid)).await?;
            if rows.is_empty() {
                break;
            }
            let mut stmts = Vec::new();
            for r in &rows {
                uid = backfill::account_row(r, now, &mut stmts)?;
            }
            exec(t, &stmts, None).await?;
        }
        exec(t, &[backfill::mark_done()], None).await?;
    } else if zero(&categories) {
        lock_counter(t).await?;
        walk_events(t, backfill::category_row).await?;
        exec(t, &[backfill::categories_mark_done()], None).await?;
    }
    Ok(())
}

/// One batch of the sweep; `true` when more accounts may be due.
pub async fn sweep_batch(t: &Tx<'_>, now: DateTime<Utc>, out: &mut SweepOutcome) -> Result<bool> {
    lock_counter(t).await?;
    let due = query(t, &expiry::due_query(now)).await?;
    for r in &due {
        let (uid, store) = (r[0].as_text().unwrap_or(""), r[1].as_text().unwrap_or(""));
        let Some(mut book) = lock_book(t, uid).await? else {
            t.execute(
                "UPDATE customer_stats SET next_expiry = NULL WHERE account_uid = $1",
                &[&uid],
            )
            .await?;
            continue;
        };
        let expired = expiry::expire(&mut book, now);
        if expired.total > 0 {
            let gseq = next_gseq(t).await?;
            t.execute(
                "UPDATE accounts SET book = $2, gseq = $3, updated_at = $4 WHERE uid = $1",
                &[&uid, &serde_json::to_string(&book)?, &gseq, &ts(now)],
            )
            .await?;
            out.accounts += 1;
            out.points += expired.total;
        }
        exec(t, &expiry::expired_stmts(&book, store, &expired, now), None).await?;
    }
    Ok(due.len() as i64 >= expiry::SWEEP_BATCH)
}
