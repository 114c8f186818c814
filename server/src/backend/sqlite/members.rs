//! Member pages (export, import checks) on SQLite: one deferred read transaction.

use crate::backend::members::{build_page, MembersPage, RawMember};
use crate::backend::Result;
use loyalty_wire::CardState;
use rusqlite::{params, Connection};

pub fn page(c: &mut Connection, after: Option<&str>, limit: u32) -> Result<MembersPage> {
    let limit = limit.max(1) as usize;
    let tx = c.transaction()?;
    let total: Option<i64> = match after {
        None => Some(tx.query_row("SELECT COUNT(*) FROM accounts", [], |r| r.get(0))?),
        Some(_) => None,
    };
    let after = after.unwrap_or("");
    let rows: Vec<RawMember> = {
        let mut st = tx.prepare_cached(
            "SELECT a.uid, a.created_at, a.book, cu.uid, cu.profile, cu.referrer_uid,
                a.merged_into
             FROM accounts a LEFT JOIN customers cu ON cu.account_uid = a.uid
             WHERE a.uid > ?1 ORDER BY a.uid LIMIT ?2",
        )?;
        let rows = st.query_map(params![after, limit as i64 + 1], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let cards: Vec<(String, CardState)> = {
        let mut st = tx.prepare_cached(
            "SELECT account_uid, number, status, kind FROM cards
             WHERE account_uid IN
                (SELECT uid FROM accounts WHERE uid > ?1 ORDER BY uid LIMIT ?2)
             ORDER BY account_uid, created_at, number",
        )?;
        let rows = st.query_map(params![after, limit as i64], |r| {
            Ok((
                r.get(0)?,
                CardState {
                    number: r.get(1)?,
                    status: r.get(2)?,
                    kind: r.get(3)?,
                },
            ))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let programs = super::reads::programs(&tx, 0)?;
    tx.commit()?;
    build_page(rows, limit, cards, total, programs)
}
