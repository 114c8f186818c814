//! What a member buys, per product category: the server's summary (every till of the
//! chain, `loyalty_wire::AccountState.categories`) kept as JSON on the account (migration
//! 0006), plus this till's own sales the summary does not include yet — so a sale made a
//! minute ago, offline, counts at the next scan.
//!
//! **Which local sales are added** (the rebase's rule, `rebase.rs`): those whose outbox
//! event has a `seq` above the `included_upto_seq` the summary was read with
//! (`accounts.categories_upto`); the server's summary holds exactly this till's facts up
//! to that seq. Sales and outbox events are written in the same transactions, so sales
//! ids grow with their outbox seqs: the not-included sales are those from the first
//! not-included `sale` event on — one outbox probe (an index search of the sale events,
//! migration 0011, however many other events lie in between), then the account's sales
//! from that id (none at all when every event is included, the usual case online).
//!
//! The rules are the server's (`customer_categories`): one purchase per sale and category
//! of its lines ([`loyalty_wire::category_key`]), the lines' amounts, the latest sale's
//! time; returns change nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use loyalty_wire::{category_key, rank_categories, AccountState, CategoryStat, MAX_CATEGORIES};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Result, StoreError};
use crate::ops::from_ms;

/// Stores the server's summary of `s` on the local account `account` (read with
/// `included_upto_seq`); writes nothing when the row already holds it.
pub(crate) fn store(
    tx: &Connection,
    account: i64,
    s: &AccountState,
    included_upto_seq: i64,
) -> Result<()> {
    write(tx, account, columns(s, included_upto_seq)?)
}

/// Stores a summary's [`columns`] on the account (not rewritten when equal).
pub(crate) fn write(
    tx: &Connection,
    account: i64,
    (json, upto): (Option<String>, i64),
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE accounts SET categories = ?2, categories_upto = ?3
         WHERE id = ?1 AND (categories IS NOT ?2 OR categories_upto IS NOT ?3)",
    )?
    .execute(params![account, json, upto])?;
    Ok(())
}

/// The column values of `s`'s summary: its JSON (NULL when it has none) and the seq it
/// includes. With no summary every local sale above the seq may be added: none the server
/// included had a category.
pub(crate) fn columns(s: &AccountState, included_upto_seq: i64) -> Result<(Option<String>, i64)> {
    let json = match s.categories.is_empty() {
        true => None,
        false => Some(serde_json::to_string(&s.categories)?),
    };
    Ok((json, included_upto_seq))
}

/// The first sale whose outbox event lies above `?1`: an index search (`outbox_sales`).
const FIRST_PENDING_SALE: &str = "SELECT s.id FROM outbox o JOIN sales s ON s.op_id = o.op_id
     WHERE o.seq > ?1 AND o.kind = 'sale' ORDER BY o.seq LIMIT 1";

/// The account's categories for a scan: the stored summary merged with this till's sales
/// not included in it, most purchases first, at most [`MAX_CATEGORIES`].
pub(crate) fn merged(
    conn: &Connection,
    account: i64,
    stored: Option<&str>,
    upto: i64,
) -> Result<Vec<CategoryStat>> {
    let mut stats: Vec<CategoryStat> = match stored {
        Some(json) => serde_json::from_str(json)
            .map_err(|e| StoreError::Corrupt(format!("account {account}: categories JSON: {e}")))?,
        None => Vec::new(),
    };
    // The first sale not included; none (the usual case online): nothing to add.
    let first: Option<i64> = conn
        .prepare_cached(FIRST_PENDING_SALE)?
        .query_row([upto], |r| r.get(0))
        .optional()?;
    // (sale id, category) → (amount, sold_at ms)
    let mut local: BTreeMap<(i64, String), (i64, i64)> = BTreeMap::new();
    if let Some(first) = first {
        let mut st = conn.prepare_cached(
            "SELECT s.id, sl.category, sl.amount, s.sold_at
             FROM sales s JOIN sale_lines sl ON sl.sale_id = s.id
             WHERE s.account_id = ?1 AND s.id >= ?2 AND sl.category IS NOT NULL",
        )?;
        let mut rows = st.query(params![account, first])?;
        while let Some(r) = rows.next()? {
            let raw: Option<String> = r.get(1)?;
            let Some(category) = category_key(raw.as_deref()) else {
                continue;
            };
            let (amount, at): (i64, i64) = (r.get(2)?, r.get(3)?);
            let e = local.entry((r.get(0)?, category)).or_insert((0, at));
            e.0 = e.0.saturating_add(amount.max(0));
        }
    }
    for ((_, category), (amount, at)) in local {
        add(&mut stats, category, amount, from_ms(at)?);
    }
    rank_categories(&mut stats);
    stats.truncate(MAX_CATEGORIES);
    Ok(stats)
}

/// One more purchase of `category`.
fn add(stats: &mut Vec<CategoryStat>, category: String, amount: i64, at: DateTime<Utc>) {
    match stats.iter_mut().find(|s| s.category == category) {
        Some(s) => {
            s.purchases += 1;
            s.amount = s.amount.saturating_add(amount);
            s.last_at = s.last_at.max(at);
        }
        None => stats.push(CategoryStat {
            category,
            purchases: 1,
            amount,
            last_at: at,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The probe runs on every scan: it must search the sale events' index, not walk the
    /// outbox from `?1` (thousands of enrolments would be read one by one).
    #[test]
    fn the_pending_sale_probe_searches_the_sale_index() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_connection(&dir.path().join("till.db")).unwrap();
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {FIRST_PENDING_SALE}"))
            .unwrap()
            .query_map([0], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            plan.iter().any(|p| p.contains("USING INDEX outbox_sales")),
            "{plan:?}"
        );
    }
}
