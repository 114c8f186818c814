//! Applying one fact to the PostgreSQL tables: reads (locking the accounts) the rows the
//! shared planner ([`crate::backend::apply`]) needs, plans, writes the plan under the next
//! gseq. The caller holds the gseq counter row lock already (see `ingest`), so appliers
//! are serialised and gseq order is commit order.

use super::tx::{col, Tx};
use crate::backend::analytics::record;
use crate::backend::apply::{self, parse_book, Applying, Loaded, Plan};
use crate::backend::batch::Prepared;
use crate::backend::hash::ts;
use crate::backend::{BackendError, Result};
use chrono::{DateTime, Utc};
use loyalty_domain::{AccountBook, Fact};
use loyalty_wire::ShortfallNote;
use std::collections::HashMap;

/// Takes the next global sequence number (the counter row serialises appliers).
async fn next_gseq(t: &Tx<'_>) -> Result<i64> {
    let row = t
        .query_one(
            "UPDATE counters SET value = value + 1 WHERE name = 'gseq' RETURNING value",
            &[],
        )
        .await?;
    col(&row, 0)
}

/// Locks the gseq counter row until the transaction ends.
pub async fn lock_counter(t: &Tx<'_>) -> Result<()> {
    t.query_one(
        "SELECT value FROM counters WHERE name = 'gseq' FOR UPDATE",
        &[],
    )
    .await?;
    Ok(())
}

/// The book of an account, locked (`FOR UPDATE`) until the transaction ends.
pub async fn lock_book(t: &Tx<'_>, account_uid: &str) -> Result<Option<AccountBook>> {
    let stmt = t
        .prepare_cached("SELECT book FROM accounts WHERE uid = $1 FOR UPDATE")
        .await?;
    match t.query_opt(&stmt, &[&account_uid]).await? {
        None => Ok(None),
        Some(row) => parse_book(account_uid, &col::<String>(&row, 0)?).map(Some),
    }
}

/// The merged accounts `fact` names, each to its final survivor (chains followed). The
/// caller holds the gseq counter lock: no merge commits meanwhile.
async fn merges_of(t: &Tx<'_>, fact: &Fact) -> Result<HashMap<String, String>> {
    let stmt = t
        .prepare_cached("SELECT merged_into FROM accounts WHERE uid = $1")
        .await?;
    let mut map = HashMap::new();
    for uid in apply::redirect_targets(fact) {
        let mut at = uid.to_string();
        let mut steps = 0;
        loop {
            let next: Option<String> = match t.query_opt(&stmt, &[&at]).await? {
                Some(row) => col(&row, 0)?,
                None => None,
            };
            let Some(next) = next else { break };
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

async fn load(t: &Tx<'_>, fact: &Fact) -> Result<Loaded> {
    let needs = apply::needs(fact);
    let mut loaded = Loaded::default();
    let stmt = t
        .prepare_cached("SELECT book, merged_into FROM accounts WHERE uid = $1 FOR UPDATE")
        .await?;
    for uid in &needs.accounts {
        if let Some(row) = t.query_opt(&stmt, &[uid]).await? {
            loaded
                .books
                .insert(uid.clone(), parse_book(uid, &col::<String>(&row, 0)?)?);
            if col::<Option<String>>(&row, 1)?.is_some() {
                loaded.merged.insert(uid.clone());
            }
        }
    }
    for card in &needs.cards {
        let row = t
            .query_opt("SELECT account_uid FROM cards WHERE number = $1", &[card])
            .await?;
        if let Some(row) = row {
            loaded.card_owners.insert(card.clone(), col(&row, 0)?);
        }
    }
    if let Some(customer) = &needs.customer {
        let row = t
            .query_opt(
                "SELECT account_uid FROM customers WHERE uid = $1",
                &[customer],
            )
            .await?;
        loaded.customer_account = row.map(|r| col(&r, 0)).transpose()?;
    }
    Ok(loaded)
}

/// Applies one in-order event; returns its shortfall notes. A rejection writes nothing
/// (the plan is made before any write).
pub async fn apply_event(
    t: &Tx<'_>,
    till_id: &str,
    p: &Prepared,
    received_at: DateTime<Utc>,
) -> Applying<Vec<ShortfallNote>> {
    let e = &p.env;
    let op = e.op_id.to_string();
    apply::check_text(&p.json)?;
    apply::check_origin(till_id, &e.fact)?;
    let mut loaded = load(t, &e.fact).await?;
    let fact = if apply::names_merged(&e.fact, &loaded) {
        let fact = apply::redirect(&e.fact, &merges_of(t, &e.fact).await?);
        loaded = load(t, &fact).await?;
        fact
    } else {
        std::borrow::Cow::Borrowed(&e.fact)
    };
    let plan = apply::plan(&fact, &op, e.recorded_at.min(received_at), loaded)?;
    write(t, till_id, p, &fact, received_at, &plan).await?;
    Ok(plan.notes(e))
}

async fn write(
    t: &Tx<'_>,
    till_id: &str,
    p: &Prepared,
    fact: &Fact,
    received_at: DateTime<Utc>,
    plan: &Plan,
) -> Result<()> {
    let e = &p.env;
    let op = e.op_id.to_string();
    let now = ts(received_at);
    let recorded_at = ts(e.recorded_at);
    let gseq = next_gseq(t).await?;
    if let Some(a) = &plan.new_account {
        t.execute(
            "INSERT INTO accounts (uid, gseq, book, created_at, updated_at)
             VALUES ($1, $2, '{}', $3, $3)",
            &[&a.account_uid, &gseq, &now],
        )
        .await?;
        t.execute(
            "INSERT INTO customers (uid, account_uid, profile, referrer_uid, created_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &a.customer_uid,
                &a.account_uid,
                &a.profile,
                &a.referrer_uid,
                &now,
            ],
        )
        .await?;
    }
    if let Some(card) = &plan.block_card {
        t.execute(
            "UPDATE cards SET status = 'blocked' WHERE number = $1",
            &[card],
        )
        .await?;
    }
    let account = fact.account_uid();
    if let Some(dup) = &plan.merge_duplicate {
        t.execute(
            "UPDATE accounts SET merged_into = $2 WHERE uid = $1",
            &[dup, &account],
        )
        .await?;
        t.execute(
            "UPDATE cards SET account_uid = $2 WHERE account_uid = $1",
            &[dup, &account],
        )
        .await?;
        t.execute(
            "UPDATE reservations SET account_uid = $2 WHERE account_uid = $1 AND status = 'active'",
            &[dup, &account],
        )
        .await?;
    }
    for (card, kind) in &plan.new_cards {
        t.execute(
            "INSERT INTO cards (number, account_uid, status, kind, created_at)
             VALUES ($1, $2, 'active', $3, $4)",
            &[card, &account, kind, &now],
        )
        .await?;
    }
    if let Some(rid) = &plan.consume_reservation {
        t.execute(
            "UPDATE reservations SET status = 'consumed', consumed_by = $3, closed_at = $4
             WHERE id = $1 AND account_uid = $2 AND status = 'active'",
            &[rid, &account, &op, &now],
        )
        .await?;
    }
    let save = t
        .prepare_cached("UPDATE accounts SET book = $2, gseq = $3, updated_at = $4 WHERE uid = $1")
        .await?;
    for (uid, book) in &plan.books {
        t.execute(&save, &[uid, book, &gseq, &now]).await?;
    }
    for (uid, points) in &plan.shortfalls {
        t.execute(
            "INSERT INTO shortfalls (op_id, account_uid, till_id, seq, points, gseq, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&op, uid, &till_id, &e.seq, points, &gseq, &recorded_at],
        )
        .await?;
    }
    let insert = t
        .prepare_cached(
            "INSERT INTO events (till_id, seq, op_id, hash, gseq, recorded_at, received_at, fact)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .await?;
    t.execute(
        &insert,
        &[
            &till_id,
            &e.seq,
            &op,
            &p.hash,
            &gseq,
            &recorded_at,
            &now,
            &p.json,
        ],
    )
    .await
    .map_err(BackendError::from)?;
    let store = t
        .prepare_cached("SELECT store_id FROM tills WHERE id = $1")
        .await?;
    let store_id: String = col(&t.query_one(&store, &[&till_id]).await?, 0)?;
    let stmts = record::applied_stmts(
        &record::EventInfo {
            op_id: &op,
            till_id,
            store_id: &store_id,
            gseq,
            event_time: e.recorded_at.min(received_at),
            fact,
        },
        &plan.summaries,
    );
    super::analytics::exec(t, &stmts, Some(gseq)).await?;
    Ok(())
}
