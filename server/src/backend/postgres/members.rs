//! Member pages (export, import checks) on PostgreSQL: one read-only snapshot.

use super::tx::{col, Tx};
use crate::backend::members::{build_page, MembersPage, RawMember};
use crate::backend::Result;
use loyalty_wire::CardState;

pub async fn page(t: &Tx<'_>, after: Option<&str>, limit: u32) -> Result<MembersPage> {
    let limit = limit.max(1) as i64;
    let total = match after {
        None => {
            let row = t.query_one("SELECT COUNT(*) FROM accounts", &[]).await?;
            Some(col::<i64>(&row, 0)?)
        }
        Some(_) => None,
    };
    let after = after.unwrap_or("");
    let rows = t
        .query(
            "SELECT a.uid, a.created_at, a.book, cu.uid, cu.profile, cu.referrer_uid,
                a.merged_into
             FROM accounts a LEFT JOIN customers cu ON cu.account_uid = a.uid
             WHERE a.uid > $1 ORDER BY a.uid LIMIT $2",
            &[&after, &(limit + 1)],
        )
        .await?;
    let rows: Vec<RawMember> = rows
        .iter()
        .map(|r| {
            Ok((
                col(r, 0)?,
                col(r, 1)?,
                col(r, 2)?,
                col(r, 3)?,
                col(r, 4)?,
                col(r, 5)?,
                col(r, 6)?,
            ))
        })
        .collect::<Result<_>>()?;
    let cards = t
        .query(
            "SELECT account_uid, number, status, kind FROM cards
             WHERE account_uid IN
                (SELECT uid FROM accounts WHERE uid > $1 ORDER BY uid LIMIT $2)
             ORDER BY account_uid, created_at, number",
            &[&after, &limit],
        )
        .await?;
    let cards: Vec<(String, CardState)> = cards
        .iter()
        .map(|r| {
            Ok((
                col(r, 0)?,
                CardState {
                    number: col(r, 1)?,
                    status: col(r, 2)?,
                    kind: col(r, 3)?,
                },
            ))
        })
        .collect::<Result<_>>()?;
    let programs = super::reads::programs(t, 0).await?;
    build_page(rows, limit as usize, cards, total, programs)
}
