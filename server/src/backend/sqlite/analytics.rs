//! The SQLite executor of the shared analytics statements ([`crate::backend::analytics`]),
//! the backfills of a database older than migrations 0003, 0004 and 0005, and the expiry
//! sweep.

use super::apply::{load_book, next_gseq};
use crate::backend::analytics::expiry::{self, SweepOutcome};
use crate::backend::analytics::{backfill, member_days, Rows, Stmt, Val};
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

/// Derives the analytics rows from the events applied before migration 0003, the customer
/// categories from those applied before 0004, then `member_days` from the `sale_facts`
/// written before migration 0005 (each once).
pub fn backfill(c: &mut Connection, now: DateTime<Utc>) -> Result<()> {
    backfill_events(c, now)?;
    backfill_member_days(c)
}

fn backfill_member_days(c: &mut Connection) -> Result<()> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let pending = query(&tx, &member_days::pending_query())?;
    if pending.first().map(|r| r[0].int()) != Some(0) {
        return Ok(());
    }
    let (mut after, mut days) = (String::new(), 0u64);
    while let Some(day) = member_days::next_day(&query(&tx, &member_days::next_day_query(&after))?)
    {
        exec(&tx, &[member_days::backfill_day_stmt(day)], None)?;
        after = crate::backend::analytics::day_of(day);
        days += 1;
    }
    exec(&tx, &[member_days::mark_done()], None)?;
    tx.commit()?;
    if days > 0 {
        tracing::info!(days, "member_days backfilled from sale_facts");
    }
    Ok(())
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
fn backfill_events(c: &mut Connection, now: DateTime<Utc>) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::analytics::member_days as md;
    use chrono::{Duration, NaiveDate};
    use std::collections::{BTreeSet, HashSet};

    /// The chain's buyers from `member_days` (ingest's upserts and the backfill's) against
    /// the sales themselves, for periods within one era and spanning several.
    #[test]
    fn member_days_buyers_equal_the_sales() {
        let mut c = Connection::open_in_memory().unwrap();
        super::super::migrate::migrate(&mut c, super::super::migrate::MIGRATIONS).unwrap();
        let day0 = NaiveDate::from_ymd_opt(2019, 1, 1).unwrap();
        let mut seed = 11u64;
        let mut rnd = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut sales: Vec<(i64, NaiveDate)> = Vec::new();
        for m in 1..=40i64 {
            exec(
                &c,
                &[Stmt::new(
                    "INSERT INTO customer_stats (account_uid, member_no, customer_uid,
                        store_id, enrolled_at, consent, purchases, net_spend, outstanding,
                        shortfall) VALUES ($1, $2, $1, 's', '2019-01-01', FALSE, 0, 0, 0, 0)",
                    vec![Val::text(format!("a{m}")), Val::Int(m)],
                )],
                None,
            )
            .unwrap();
            for _ in 0..rnd(12) {
                let d = day0 + Duration::days(rnd(3000) as i64);
                sales.push((m, d));
                // half through ingest's statement, half through the backfill below
                if m % 2 == 0 {
                    exec(&c, &[md::sale_stmt(&format!("a{m}"), d)], None).unwrap();
                }
                exec(
                    &c,
                    &[Stmt::new(
                        "INSERT INTO sale_facts (op_id, member_no, account_uid, store_id,
                            till_id, day, at, amount, discount, points_spent, points_earned,
                            categories) VALUES ('x', $1, 'a', 's', 't', $2, '', 0, 0, 0, 0, '')",
                        vec![Val::Int(m), Val::text(d.to_string())],
                    )],
                    None,
                )
                .unwrap();
            }
        }
        exec(
            &c,
            &[Stmt::new(
                "UPDATE analytics_state SET value = 0 WHERE name = 'member_days'",
                vec![],
            )],
            None,
        )
        .unwrap();
        backfill_member_days(&mut c).unwrap();
        let first = sales.iter().map(|s| s.1).min();
        let set = |a: NaiveDate, b: NaiveDate| -> HashSet<i64> {
            sales
                .iter()
                .filter(|s| s.1 >= a && s.1 <= b)
                .map(|s| s.0)
                .collect()
        };
        let mut spans = BTreeSet::new();
        for _ in 0..150 {
            let len = 1 + rnd(md::HALF_DAYS as u64) as i64;
            let from = day0 + Duration::days(rnd(4000) as i64 - 500);
            let (to, pf) = (from + Duration::days(len - 1), from - Duration::days(len));
            let pt = from - Duration::days(1);
            let (cur, prev) = (set(from, to), set(pf, pt));
            let want = vec![
                cur.len() as i64,
                prev.len() as i64,
                cur.intersection(&prev).count() as i64,
            ];
            let q = md::buyers_query((from, to), (pf, pt), first);
            spans.insert(q.sql.contains("GROUP BY"));
            let got: Vec<i64> = query(&c, &q).unwrap()[0].iter().map(Val::int).collect();
            assert_eq!(got, want, "{from}..{to}");
        }
        assert_eq!(spans.len(), 2, "both the one-era and the grouped query ran");
    }
}
