//! Reads for tills (one REPEATABLE READ, read-only snapshot each): account states changed
//! since a gseq, and the paged full snapshot. A page's customers, cards, reservations
//! and categories are read with one query each (`= ANY($1)`), not one per account.

use super::tx::{col, Tx};
use crate::backend::hash::ts;
use crate::backend::stored_book::{StoredChanges, StoredSnapshot, StoredState};
use crate::backend::{pages, Result};
use chrono::{DateTime, Utc};
use loyalty_domain::{Points, ProgramConfig};
use loyalty_wire::{CardState, CustomerState};
use std::collections::HashMap;

use pages::AccountRow;

fn account_rows(rows: &[tokio_postgres::Row]) -> Result<Vec<AccountRow>> {
    rows.iter()
        .map(|r| Ok((col(r, 0)?, col(r, 1)?, col(r, 2)?, col(r, 3)?)))
        .collect()
}

/// Everything a till needs about these accounts, in their order.
async fn states(t: &Tx<'_>, rows: Vec<AccountRow>, now: DateTime<Utc>) -> Result<Vec<StoredState>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let uids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let mut customers: HashMap<String, CustomerState> = HashMap::new();
    for r in t
        .query(
            "SELECT account_uid, uid, profile, referrer_uid FROM customers
             WHERE account_uid = ANY($1)",
            &[&uids],
        )
        .await?
    {
        let profile: String = col(&r, 2)?;
        customers.insert(
            col(&r, 0)?,
            CustomerState {
                customer_uid: col(&r, 1)?,
                profile: serde_json::from_str(&profile)?,
                referrer_uid: col(&r, 3)?,
            },
        );
    }
    let mut cards: HashMap<String, Vec<CardState>> = HashMap::new();
    for r in t
        .query(
            "SELECT account_uid, number, status, kind FROM cards WHERE account_uid = ANY($1)
             ORDER BY account_uid, created_at, number",
            &[&uids],
        )
        .await?
    {
        cards.entry(col(&r, 0)?).or_default().push(CardState {
            number: col(&r, 1)?,
            status: col(&r, 2)?,
            kind: col(&r, 3)?,
        });
    }
    let mut reserved: HashMap<String, Points> = HashMap::new();
    for r in t
        .query(
            "SELECT account_uid, SUM(points)::BIGINT FROM reservations
             WHERE account_uid = ANY($1) AND status = 'active' AND expires_at > $2
             GROUP BY account_uid",
            &[&uids, &ts(now)],
        )
        .await?
    {
        reserved.insert(col(&r, 0)?, col(&r, 1)?);
    }
    let mut stats = Vec::new();
    for r in t
        .query(
            &format!(
                "SELECT account_uid, {} FROM customer_categories WHERE account_uid = ANY($1)",
                pages::CATEGORY_COLUMNS
            ),
            &[&uids],
        )
        .await?
    {
        let last_at: String = col(&r, 4)?;
        stats.push((
            col(&r, 0)?,
            pages::category_stat(col(&r, 1)?, col(&r, 2)?, col(&r, 3)?, &last_at)?,
        ));
    }
    pages::PageParts {
        customers,
        cards,
        reserved,
        categories: stats,
    }
    .into_states(rows)
}

pub(super) async fn programs(t: &Tx<'_>, since: i64) -> Result<Vec<ProgramConfig>> {
    let rows = t
        .query(
            "SELECT config FROM program_versions WHERE gseq > $1 ORDER BY version",
            &[&since],
        )
        .await?;
    rows.iter()
        .map(|r| Ok(serde_json::from_str(&col::<String>(r, 0)?)?))
        .collect()
}

pub async fn changes_since(
    t: &Tx<'_>,
    since: i64,
    limit: u32,
    till_id: &str,
    now: DateTime<Utc>,
) -> Result<StoredChanges> {
    let limit = pages::changes_limit(limit);
    let rows = t
        .query(
            &format!(
                "SELECT {} FROM accounts WHERE gseq > $1 ORDER BY gseq, uid LIMIT $2",
                pages::ACCOUNT_COLUMNS
            ),
            &[&since, &(limit as i64 + 1)],
        )
        .await?;
    let mut rows = account_rows(&rows)?;
    let has_more = pages::cut_changes(&mut rows, limit);
    let next = rows.last().map(|r| r.1).unwrap_or(since);
    let accounts = states(t, rows, now).await?;
    let included_upto_seq = match t
        .query_opt(
            "SELECT last_seq FROM till_cursors WHERE till_id = $1",
            &[&till_id],
        )
        .await?
    {
        Some(r) => col(&r, 0)?,
        None => 0,
    };
    Ok(StoredChanges {
        accounts,
        programs: programs(t, since).await?,
        next,
        has_more,
        server_time: now,
        included_upto_seq,
    })
}

pub async fn snapshot_page(
    t: &Tx<'_>,
    after: Option<&str>,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<StoredSnapshot> {
    let limit = limit.max(1) as usize;
    let row = t
        .query_one("SELECT value FROM counters WHERE name = 'gseq'", &[])
        .await?;
    let cursor: i64 = col(&row, 0)?;
    let total: i64 = match after {
        None => col(&t.query_one("SELECT COUNT(*) FROM accounts", &[]).await?, 0)?,
        Some(_) => 0,
    };
    let rows = t
        .query(
            &format!(
                "SELECT {} FROM accounts WHERE uid > $1 ORDER BY uid LIMIT $2",
                pages::ACCOUNT_COLUMNS
            ),
            &[&after.unwrap_or(""), &(limit as i64 + 1)],
        )
        .await?;
    let mut rows = account_rows(&rows)?;
    let next_after = pages::cut_snapshot(&mut rows, limit);
    let accounts = states(t, rows, now).await?;
    Ok(StoredSnapshot {
        accounts,
        next_after,
        cursor,
        total,
        programs: programs(t, 0).await?,
        server_time: now,
    })
}

/// Points held by active, unexpired reservations of an account.
pub async fn reserved(t: &Tx<'_>, account_uid: &str, now: DateTime<Utc>) -> Result<Points> {
    let row = t
        .query_one(
            "SELECT COALESCE(SUM(points), 0)::BIGINT FROM reservations
             WHERE account_uid = $1 AND status = 'active' AND expires_at > $2",
            &[&account_uid, &ts(now)],
        )
        .await?;
    col(&row, 0)
}
