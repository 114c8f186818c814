//! Applying one fact to the SQLite tables: reads the rows the shared planner
//! ([`crate::backend::apply`]) needs, plans, writes the plan under the next gseq.

use crate::backend::analytics::record;
use crate::backend::apply::{self, parse_book, ApplyError, Applying, Loaded, Plan};
use crate::backend::hash::ts;
use crate::backend::BackendError;
use chrono::{DateTime, Utc};
use loyalty_domain::{AccountBook, Fact};
use loyalty_wire::{EventEnvelope, ShortfallNote};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;

impl From<rusqlite::Error> for ApplyError {
    fn from(e: rusqlite::Error) -> Self {
        ApplyError::Backend(e.into())
    }
}

/// Takes the next global sequence number (the counter row serialises appliers).
pub fn next_gseq(c: &Connection) -> rusqlite::Result<i64> {
    c.prepare_cached("UPDATE counters SET value = value + 1 WHERE name = 'gseq'")?
        .execute([])?;
    c.prepare_cached("SELECT value FROM counters WHERE name = 'gseq'")?
        .query_row([], |r| r.get(0))
}

/// The stored book of an account, `None` if there is no such account.
pub fn load_book(c: &Connection, account_uid: &str) -> Result<Option<AccountBook>, BackendError> {
    let json: Option<String> = c
        .prepare_cached("SELECT book FROM accounts WHERE uid = ?1")?
        .query_row([account_uid], |r| r.get(0))
        .optional()?;
    json.map(|j| parse_book(account_uid, &j)).transpose()
}

/// The survivor `account_uid` was merged into (`None`: not merged, or no such account).
fn merged_into(c: &Connection, account_uid: &str) -> rusqlite::Result<Option<String>> {
    Ok(
        c.prepare_cached("SELECT merged_into FROM accounts WHERE uid = ?1")?
            .query_row([account_uid], |r| r.get(0))
            .optional()?
            .flatten(),
    )
}

/// The merged accounts `fact` names, each to its final survivor (chains followed).
fn merges_of(c: &Connection, fact: &Fact) -> Result<HashMap<String, String>, BackendError> {
    let mut map = HashMap::new();
    for uid in apply::redirect_targets(fact) {
        let mut at = uid.to_string();
        let mut steps = 0;
        while let Some(next) = merged_into(c, &at)? {
            steps += 1;
            if steps > apply::MAX_MERGE_CHAIN {
                return Err(BackendError::Corrupt(format!(
                    "account {uid}: merge chain longer than {}",
                    apply::MAX_MERGE_CHAIN
                )));
            }
            at = next;
        }
        if at != uid {
            map.insert(uid.to_string(), at);
        }
    }
    Ok(map)
}

/// Reads what the fact needs (the IMMEDIATE transaction already excludes other writers).
fn load(c: &Connection, fact: &Fact) -> Result<Loaded, BackendError> {
    let needs = apply::needs(fact);
    let mut loaded = Loaded::default();
    for uid in &needs.accounts {
        let row: Option<(String, Option<String>)> = c
            .prepare_cached("SELECT book, merged_into FROM accounts WHERE uid = ?1")?
            .query_row([uid], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((json, merged)) = row {
            loaded.books.insert(uid.clone(), parse_book(uid, &json)?);
            if merged.is_some() {
                loaded.merged.insert(uid.clone());
            }
        }
    }
    for card in &needs.cards {
        let owner: Option<String> = c
            .prepare_cached("SELECT account_uid FROM cards WHERE number = ?1")?
            .query_row([card], |r| r.get(0))
            .optional()?;
        if let Some(owner) = owner {
            loaded.card_owners.insert(card.clone(), owner);
        }
    }
    if let Some(customer) = &needs.customer {
        loaded.customer_account = c
            .prepare_cached("SELECT account_uid FROM customers WHERE uid = ?1")?
            .query_row([customer], |r| r.get(0))
            .optional()?;
    }
    Ok(loaded)
}

/// Applies one in-order event; returns its shortfall notes. Rejects (`ApplyError::Reject`)
/// only from the planner, before anything is written: the caller needs no savepoint.
/// A fact naming a merged account is applied to its survivor ([`apply::redirect`]); the
/// event row keeps the fact as the till sent it.
pub fn apply_event(
    c: &Connection,
    till_id: &str,
    e: &EventEnvelope,
    fact_json: &str,
    hash: &str,
    received_at: DateTime<Utc>,
) -> Applying<Vec<ShortfallNote>> {
    let op = e.op_id.to_string();
    apply::check_text(fact_json)?;
    apply::check_origin(till_id, &e.fact)?;
    let mut loaded = load(c, &e.fact)?;
    let fact = if apply::names_merged(&e.fact, &loaded) {
        let fact = apply::redirect(&e.fact, &merges_of(c, &e.fact)?);
        loaded = load(c, &fact)?;
        fact
    } else {
        std::borrow::Cow::Borrowed(&e.fact)
    };
    let plan = apply::plan(&fact, &op, e.recorded_at.min(received_at), loaded)?;
    let applied = match &fact {
        std::borrow::Cow::Owned(f) => Some(serde_json::to_string(f).map_err(BackendError::from)?),
        std::borrow::Cow::Borrowed(_) => None,
    };
    let event = EventText {
        fact: fact_json,
        applied: applied.as_deref(),
        hash,
    };
    write(c, till_id, e, &fact, &event, received_at, &plan)?;
    Ok(plan.notes(e))
}

/// The stored texts of an event: the fact as sent, as applied (if redirected), its hash.
struct EventText<'a> {
    fact: &'a str,
    applied: Option<&'a str>,
    hash: &'a str,
}

/// Writes the plan and the event row, and the customer categories tills pull; the owner's
/// rows follow behind the event log ([`crate::backend::analytics::projection`]).
fn write(
    c: &Connection,
    till_id: &str,
    e: &EventEnvelope,
    fact: &Fact,
    event: &EventText<'_>,
    received_at: DateTime<Utc>,
    plan: &Plan,
) -> rusqlite::Result<()> {
    let op = e.op_id.to_string();
    let now = ts(received_at);
    let gseq = next_gseq(c)?;
    if let Some(a) = &plan.new_account {
        c.prepare_cached(
            "INSERT INTO accounts (uid, gseq, book, created_at, updated_at)
             VALUES (?1, ?2, '{}', ?3, ?3)",
        )?
        .execute(params![a.account_uid, gseq, now])?;
        c.prepare_cached(
            "INSERT INTO customers (uid, account_uid, profile, referrer_uid, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            a.customer_uid,
            a.account_uid,
            a.profile,
            a.referrer_uid,
            now
        ])?;
    }
    if let Some(card) = &plan.block_card {
        c.prepare_cached("UPDATE cards SET status = 'blocked' WHERE number = ?1")?
            .execute([card])?;
    }
    let account = fact.account_uid();
    if let Some(dup) = &plan.merge_duplicate {
        c.prepare_cached("UPDATE accounts SET merged_into = ?2 WHERE uid = ?1")?
            .execute(params![dup, account])?;
        c.prepare_cached("UPDATE cards SET account_uid = ?2 WHERE account_uid = ?1")?
            .execute(params![dup, account])?;
        c.prepare_cached(
            "UPDATE reservations SET account_uid = ?2 WHERE account_uid = ?1 AND status = 'active'",
        )?
        .execute(params![dup, account])?;
    }
    for (card, kind) in &plan.new_cards {
        c.prepare_cached(
            "INSERT INTO cards (number, account_uid, status, kind, created_at)
             VALUES (?1, ?2, 'active', ?3, ?4)",
        )?
        .execute(params![card, account, kind, now])?;
    }
    if let Some(rid) = &plan.consume_reservation {
        c.prepare_cached(
            "UPDATE reservations SET status = 'consumed', consumed_by = ?3, closed_at = ?4
             WHERE id = ?1 AND account_uid = ?2 AND status = 'active'",
        )?
        .execute(params![rid, account, op, now])?;
    }
    for (uid, book) in &plan.books {
        c.prepare_cached(
            "UPDATE accounts SET book = ?2, gseq = ?3, updated_at = ?4 WHERE uid = ?1",
        )?
        .execute(params![uid, book, gseq, now])?;
    }
    for (uid, points) in &plan.shortfalls {
        c.prepare_cached(
            "INSERT INTO shortfalls (op_id, account_uid, till_id, seq, points, gseq, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            op,
            uid,
            till_id,
            e.seq,
            points,
            gseq,
            ts(e.recorded_at)
        ])?;
    }
    c.prepare_cached(
        "INSERT INTO events (till_id, seq, op_id, hash, gseq, recorded_at, received_at, fact,
            applied_fact)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        till_id,
        e.seq,
        op,
        event.hash,
        gseq,
        ts(e.recorded_at),
        now,
        event.fact,
        event.applied
    ])?;
    let mut stmts = Vec::new();
    record::fact_category_stmts(fact, e.recorded_at.min(received_at), &mut stmts);
    super::analytics::exec(c, &stmts, Some(gseq))?;
    Ok(())
}
