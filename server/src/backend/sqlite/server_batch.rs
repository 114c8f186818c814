//! Server-origin batches on SQLite: one IMMEDIATE transaction for the whole batch; each
//! chunk read, planned by the shared rules ([`crate::backend::server_batch`]) and written
//! with cached single-row statements (cheap in SQLite: no round trips).

use super::apply::load_book;
use crate::backend::hash::{parse_ts, ts};
use crate::backend::server_batch::{
    check_batch, chunk_needs, plan_chunk, BatchRecord, ChunkLoaded, ChunkNeeds, ChunkPlan,
    ServerBatch, ServerBatchOutcome, ServerEventSource, SERVER_TILL,
};
use crate::backend::{BackendError, Result};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

pub fn record(c: &Connection, id: &str) -> Result<Option<BatchRecord>> {
    let row = c
        .query_row(
            "SELECT id, kind, label, events, first_seq, last_seq, first_gseq, last_gseq,
                applied_at
             FROM server_batches WHERE id = ?1",
            [id],
            |r| {
                let rec = BatchRecord {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    label: r.get(2)?,
                    events: r.get(3)?,
                    first_seq: r.get(4)?,
                    last_seq: r.get(5)?,
                    first_gseq: r.get(6)?,
                    last_gseq: r.get(7)?,
                    applied_at: chrono::DateTime::<chrono::Utc>::MIN_UTC,
                };
                Ok((rec, r.get::<_, String>(8)?))
            },
        )
        .optional()?;
    row.map(|(mut rec, at)| {
        rec.applied_at = parse_ts(&at)?;
        Ok(rec)
    })
    .transpose()
}

/// Page cache while a batch is applied: its random-keyed index inserts (op ids, uids)
/// slow down sharply once the indexes outgrow the connection's usual cache.
const BATCH_CACHE_KIB: i64 = 512_000;

pub fn apply(
    c: &mut Connection,
    batch: &ServerBatch,
    source: &mut dyn ServerEventSource,
) -> Result<ServerBatchOutcome> {
    check_batch(batch)?;
    let usual: i64 = c.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    c.execute_batch(&format!("PRAGMA cache_size=-{BATCH_CACHE_KIB}"))?;
    let out = apply_in_tx(c, batch, source);
    c.execute_batch(&format!("PRAGMA cache_size={usual}"))?;
    out
}

fn apply_in_tx(
    c: &mut Connection,
    batch: &ServerBatch,
    source: &mut dyn ServerEventSource,
) -> Result<ServerBatchOutcome> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(r) = record(&tx, &batch.id)? {
        return Ok(ServerBatchOutcome::AlreadyApplied(r));
    }
    // The owner's rows of every event before the batch first, in the same transaction (so
    // no other process's upload can slip in between): the batch writes its own and moves
    // the projection's position past them.
    super::projector::catch_up(&tx)?;
    let start_seq: i64 = tx
        .query_row(
            "SELECT last_seq FROM till_cursors WHERE till_id = ?1",
            [SERVER_TILL],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| BackendError::Corrupt("the server till is missing: migrate".into()))?;
    let start_gseq: i64 =
        tx.query_row("SELECT value FROM counters WHERE name = 'gseq'", [], |r| {
            r.get(0)
        })?;
    let (mut seq, mut gseq) = (start_seq, start_gseq);
    while let Some(chunk) = source.next_chunk()? {
        if chunk.is_empty() {
            continue;
        }
        let loaded = load(&tx, &chunk_needs(&chunk))?;
        let plan = plan_chunk(&chunk, loaded, seq + 1, gseq + 1, batch.received_at)?;
        write(&tx, &plan, &ts(batch.received_at))?;
        seq += chunk.len() as i64;
        gseq += chunk.len() as i64;
        source.written(chunk.len());
    }
    tx.execute("UPDATE counters SET value = ?1 WHERE name = 'gseq'", [gseq])?;
    // The batch wrote its own analytics rows (after catching the projection up, above).
    super::analytics::exec(
        &tx,
        &[crate::backend::analytics::projection::advance_to_end()],
        None,
    )?;
    tx.execute(
        "UPDATE till_cursors SET last_seq = ?2 WHERE till_id = ?1",
        params![SERVER_TILL, seq],
    )?;
    let rec = BatchRecord {
        id: batch.id.clone(),
        kind: batch.kind.clone(),
        label: batch.label.clone(),
        events: seq - start_seq,
        first_seq: start_seq + 1,
        last_seq: seq,
        first_gseq: start_gseq + 1,
        last_gseq: gseq,
        applied_at: parse_ts(&ts(batch.received_at))?,
    };
    tx.execute(
        "INSERT INTO server_batches
            (id, kind, label, events, first_seq, last_seq, first_gseq, last_gseq, applied_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            rec.id,
            rec.kind,
            rec.label,
            rec.events,
            rec.first_seq,
            rec.last_seq,
            rec.first_gseq,
            rec.last_gseq,
            ts(rec.applied_at)
        ],
    )?;
    tx.commit()?;
    Ok(ServerBatchOutcome::Applied(rec))
}

/// Reads what the chunk needs (the IMMEDIATE transaction already excludes other writers).
fn load(c: &Connection, needs: &ChunkNeeds) -> Result<ChunkLoaded> {
    let mut loaded = ChunkLoaded::default();
    for uid in &needs.accounts {
        if let Some(book) = load_book(c, uid)? {
            loaded.books.insert(uid.clone(), book);
        }
    }
    let mut st = c.prepare_cached("SELECT account_uid FROM cards WHERE number = ?1")?;
    for card in &needs.cards {
        let owner: Option<String> = st.query_row([card], |r| r.get(0)).optional()?;
        if let Some(owner) = owner {
            loaded.card_owners.insert(card.clone(), owner);
        }
    }
    let mut st = c.prepare_cached("SELECT account_uid FROM customers WHERE uid = ?1")?;
    for uid in &needs.customers {
        let account: Option<String> = st.query_row([uid], |r| r.get(0)).optional()?;
        if let Some(account) = account {
            loaded.customer_accounts.insert(uid.clone(), account);
        }
    }
    let mut st = c.prepare_cached("SELECT 1 FROM events WHERE op_id = ?1")?;
    for op in &needs.op_ids {
        if st.exists([op])? {
            loaded.existing_ops.insert(op.clone());
        }
    }
    Ok(loaded)
}

fn write(c: &Connection, p: &ChunkPlan, now: &str) -> rusqlite::Result<()> {
    let mut st = c.prepare_cached(
        "INSERT INTO accounts (uid, gseq, book, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for a in &p.new_accounts {
        st.execute(params![a.uid, a.gseq, a.book, a.created_at, now])?;
    }
    let mut st = c.prepare_cached(
        "INSERT INTO customers (uid, account_uid, profile, referrer_uid, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for cu in &p.customers {
        st.execute(params![
            cu.uid,
            cu.account_uid,
            cu.profile,
            cu.referrer_uid,
            cu.created_at
        ])?;
    }
    let mut st = c.prepare_cached(
        "INSERT INTO cards (number, account_uid, status, kind, created_at)
         VALUES (?1, ?2, 'active', ?3, ?4)",
    )?;
    for k in &p.new_cards {
        st.execute(params![k.number, k.account_uid, k.kind, k.created_at])?;
    }
    for card in &p.blocked_cards {
        c.execute(
            "UPDATE cards SET status = 'blocked' WHERE number = ?1",
            [card],
        )?;
    }
    for (rid, account, op) in &p.consumed {
        c.execute(
            "UPDATE reservations SET status = 'consumed', consumed_by = ?3, closed_at = ?4
             WHERE id = ?1 AND account_uid = ?2 AND status = 'active'",
            params![rid, account, op, now],
        )?;
    }
    let mut st = c.prepare_cached(
        "UPDATE accounts SET book = ?2, gseq = ?3, updated_at = ?4 WHERE uid = ?1",
    )?;
    for a in &p.changed_accounts {
        st.execute(params![a.uid, a.book, a.gseq, now])?;
    }
    let mut st = c.prepare_cached(
        "INSERT INTO shortfalls (op_id, account_uid, till_id, seq, points, gseq, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for s in &p.shortfalls {
        st.execute(params![
            s.op_id,
            s.account_uid,
            SERVER_TILL,
            s.seq,
            s.points,
            s.gseq,
            s.recorded_at
        ])?;
    }
    let mut st = c.prepare_cached(
        "INSERT INTO events (till_id, seq, op_id, hash, gseq, recorded_at, received_at, fact)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for e in &p.events {
        st.execute(params![
            SERVER_TILL,
            e.seq,
            e.op_id,
            e.hash,
            e.gseq,
            e.recorded_at,
            now,
            e.fact
        ])?;
    }
    super::analytics::exec(c, &p.analytics, None)?;
    Ok(())
}
