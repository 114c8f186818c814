//! Merged duplicate customers, as the server reports them (`AccountState::merged_into`),
//! inside the transaction of [`Store::apply_changes`](crate::Store::apply_changes):
//!
//! - the duplicate's row is marked `merged_into` the survivor ([`mark`]), so lookups by
//!   its customer's phone show the survivor and operations on it are refused;
//! - this till's facts not yet included by the server that name the duplicate are rebased
//!   onto the survivor ([`redirect_pending`]), exactly as the server applies them;
//! - once both accounts are here, the duplicate's cards and sales move to the survivor
//!   ([`move_rows`]): its history, tier window and returns follow. Its lots are emptied by
//!   the rebase (its server book is empty) and the survivor's hold them; both sides post a
//!   `merge` ledger entry, so `Σ ledger = Σ remaining − shortfall` holds for each.

use std::collections::HashMap;

use loyalty_domain::Fact;
use loyalty_wire::AccountState;
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Result, StoreError};
use crate::facts::OwnFact;

/// Longest chain of merges followed.
const MAX_CHAIN: usize = 16;

/// Marks every merged account of the batch that exists here (again: no write).
pub(crate) fn mark(tx: &Connection, states: &[AccountState]) -> Result<()> {
    for s in states {
        if let Some(into) = &s.merged_into {
            tx.prepare_cached(
                "UPDATE accounts SET merged_into = ?2 WHERE uid = ?1 AND merged_into IS NOT ?2",
            )?
            .execute(params![s.account_uid, into])?;
        }
    }
    Ok(())
}

/// Was any account here merged? (One probe of the partial index `accounts_merged_into`.)
fn any(tx: &Connection) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM accounts WHERE merged_into IS NOT NULL LIMIT 1")?
        .exists([])?)
}

/// The account `uid` stands for here: its survivor (chains followed), or itself.
fn survivor(tx: &Connection, uid: &str) -> Result<String> {
    let mut at = uid.to_string();
    for _ in 0..MAX_CHAIN {
        let next: Option<String> = tx
            .prepare_cached("SELECT merged_into FROM accounts WHERE uid = ?1")?
            .query_row([&at], |r| r.get(0))
            .optional()?
            .flatten();
        match next {
            Some(n) => at = n,
            None => return Ok(at),
        }
    }
    Err(StoreError::SyncData(format!(
        "account {uid}: merge chain longer than {MAX_CHAIN}"
    )))
}

/// `pending` with every fact naming a merged account (its own, a sale's referrer) naming
/// the survivor instead.
pub(crate) fn redirect_pending(tx: &Connection, pending: Vec<OwnFact>) -> Result<Vec<OwnFact>> {
    if pending.is_empty() || !any(tx)? {
        return Ok(pending);
    }
    let mut known: HashMap<String, String> = HashMap::new();
    let mut out = Vec::with_capacity(pending.len());
    for mut f in pending {
        let mut names = vec![f.fact.account_uid().to_string()];
        if let Fact::Sale {
            referrer: Some((r, _)),
            ..
        } = &f.fact
        {
            names.push(r.clone());
        }
        for name in names {
            let to = match known.get(&name) {
                Some(to) => to.clone(),
                None => {
                    let to = survivor(tx, &name)?;
                    known.insert(name.clone(), to.clone());
                    to
                }
            };
            if to != name {
                if let Some(moved) = f.fact.redirected(&name, &to) {
                    f.fact = moved;
                }
            }
        }
        out.push(f);
    }
    Ok(out)
}

/// The local id of account `uid`, if known here.
fn account_id(tx: &Connection, uid: &str) -> Result<Option<i64>> {
    Ok(tx
        .prepare_cached("SELECT id FROM accounts WHERE uid = ?1")?
        .query_row([uid], |r| r.get(0))
        .optional()?)
}

/// Moves the cards and sales of every account merged into an account of the batch (or
/// merged by it) to its survivor, once both are here. Returns the number of rows moved.
pub(crate) fn move_rows(tx: &Connection, states: &[AccountState]) -> Result<usize> {
    // The usual page (a bootstrap's million accounts): nothing merged here at all, one
    // probe of the partial index instead of two look-ups per account.
    if !any(tx)? {
        return Ok(0);
    }
    let mut pairs: Vec<(i64, i64)> = Vec::new();
    for s in states {
        let Some(here) = account_id(tx, &s.account_uid)? else {
            continue;
        };
        match &s.merged_into {
            Some(_) => {
                if let Some(to) = account_id(tx, &survivor(tx, &s.account_uid)?)? {
                    pairs.push((here, to));
                }
            }
            None => {
                let mut st = tx.prepare_cached(
                    "SELECT id FROM accounts WHERE merged_into = ?1 AND id <> ?2",
                )?;
                let merged: Vec<i64> = st
                    .query_map(params![s.account_uid, here], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                pairs.extend(merged.into_iter().map(|m| (m, here)));
            }
        }
    }
    let mut moved = 0;
    for (from, to) in pairs.into_iter().filter(|(f, t)| f != t) {
        moved += tx
            .prepare_cached("UPDATE cards SET account_id = ?2 WHERE account_id = ?1")?
            .execute(params![from, to])?;
        moved += tx
            .prepare_cached("UPDATE sales SET account_id = ?2 WHERE account_id = ?1")?
            .execute(params![from, to])?;
    }
    Ok(moved)
}
