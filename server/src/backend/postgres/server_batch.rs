//! Server-origin batches on PostgreSQL: one transaction for the whole batch. Locks, in the
//! order `ingest` takes them: the server till's cursor row (one batch at a time; the batch
//! record is checked after it), the gseq counter row, the existing accounts a chunk
//! touches. Each chunk is read with `= ANY($1)` queries and written with multi-row
//! INSERTs, so a chunk of a thousand facts costs a handful of round trips.

use super::tx::{col, Tx};
use crate::backend::apply::parse_book;
use crate::backend::hash::{parse_ts, ts};
use crate::backend::server_batch::{
    check_batch, chunk_needs, plan_chunk, BatchRecord, ChunkLoaded, ChunkNeeds, ChunkPlan,
    ServerBatch, ServerBatchOutcome, ServerEventSource, SERVER_TILL,
};
use crate::backend::{BackendError, Result};
use std::sync::{Arc, Mutex};
use tokio_postgres::types::ToSql;
use tokio_postgres::GenericClient;

/// The source, shared by the attempts of a rerun transaction.
pub type SharedSource = Arc<Mutex<Box<dyn ServerEventSource>>>;

/// Parameters per statement stay far below PostgreSQL's 65 535.
const MAX_PARAMS: usize = 16_000;

type Param<'a> = &'a (dyn ToSql + Sync);

pub async fn record<C: GenericClient>(c: &C, id: &str) -> Result<Option<BatchRecord>> {
    let row = c
        .query_opt(
            "SELECT id, kind, label, events, first_seq, last_seq, first_gseq, last_gseq,
                applied_at
             FROM server_batches WHERE id = $1",
            &[&id],
        )
        .await?;
    row.map(|r| {
        Ok(BatchRecord {
            id: col(&r, 0)?,
            kind: col(&r, 1)?,
            label: col(&r, 2)?,
            events: col(&r, 3)?,
            first_seq: col(&r, 4)?,
            last_seq: col(&r, 5)?,
            first_gseq: col(&r, 6)?,
            last_gseq: col(&r, 7)?,
            applied_at: parse_ts(&col::<String>(&r, 8)?)?,
        })
    })
    .transpose()
}

fn next_chunk(source: &SharedSource) -> Result<Option<Vec<crate::backend::ServerEvent>>> {
    let mut s = source.lock().unwrap_or_else(|p| p.into_inner());
    s.next_chunk()
}

pub async fn apply(
    t: &Tx<'_>,
    batch: &ServerBatch,
    source: &SharedSource,
) -> Result<ServerBatchOutcome> {
    check_batch(batch)?;
    source.lock().unwrap_or_else(|p| p.into_inner()).rewind()?;
    let row = t
        .query_opt(
            "SELECT last_seq FROM till_cursors WHERE till_id = $1 FOR UPDATE",
            &[&SERVER_TILL],
        )
        .await?
        .ok_or_else(|| BackendError::Corrupt("the server till is missing: migrate".into()))?;
    let start_seq: i64 = col(&row, 0)?;
    if let Some(r) = record(&**t, &batch.id).await? {
        return Ok(ServerBatchOutcome::AlreadyApplied(r));
    }
    let row = t
        .query_one(
            "SELECT value FROM counters WHERE name = 'gseq' FOR UPDATE",
            &[],
        )
        .await?;
    let start_gseq: i64 = col(&row, 0)?;
    let now = ts(batch.received_at);
    let (mut seq, mut gseq) = (start_seq, start_gseq);
    while let Some(chunk) = next_chunk(source)? {
        if chunk.is_empty() {
            continue;
        }
        let loaded = load(t, &chunk_needs(&chunk)).await?;
        let plan = plan_chunk(&chunk, loaded, seq + 1, gseq + 1, batch.received_at)?;
        write(t, &plan, &now).await?;
        seq += chunk.len() as i64;
        gseq += chunk.len() as i64;
        source
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .written(chunk.len());
    }
    t.execute(
        "UPDATE counters SET value = $1 WHERE name = 'gseq'",
        &[&gseq],
    )
    .await?;
    t.execute(
        "UPDATE till_cursors SET last_seq = $2 WHERE till_id = $1",
        &[&SERVER_TILL, &seq],
    )
    .await?;
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
    t.execute(
        "INSERT INTO server_batches
            (id, kind, label, events, first_seq, last_seq, first_gseq, last_gseq, applied_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &rec.id,
            &rec.kind,
            &rec.label,
            &rec.events,
            &rec.first_seq,
            &rec.last_seq,
            &rec.first_gseq,
            &rec.last_gseq,
            &now,
        ],
    )
    .await?;
    Ok(ServerBatchOutcome::Applied(rec))
}

/// Reads what the chunk needs, locking the existing accounts (in uid order).
async fn load(t: &Tx<'_>, needs: &ChunkNeeds) -> Result<ChunkLoaded> {
    let mut loaded = ChunkLoaded::default();
    if !needs.accounts.is_empty() {
        let rows = t
            .query(
                "SELECT uid, book FROM accounts WHERE uid = ANY($1) ORDER BY uid FOR UPDATE",
                &[&needs.accounts],
            )
            .await?;
        for r in &rows {
            let uid: String = col(r, 0)?;
            let book = parse_book(&uid, &col::<String>(r, 1)?)?;
            loaded.books.insert(uid, book);
        }
    }
    if !needs.cards.is_empty() {
        let rows = t
            .query(
                "SELECT number, account_uid FROM cards WHERE number = ANY($1)",
                &[&needs.cards],
            )
            .await?;
        for r in &rows {
            loaded.card_owners.insert(col(r, 0)?, col(r, 1)?);
        }
    }
    if !needs.customers.is_empty() {
        let rows = t
            .query(
                "SELECT uid, account_uid FROM customers WHERE uid = ANY($1)",
                &[&needs.customers],
            )
            .await?;
        for r in &rows {
            loaded.customer_accounts.insert(col(r, 0)?, col(r, 1)?);
        }
    }
    if !needs.op_ids.is_empty() {
        let rows = t
            .query(
                "SELECT op_id FROM events WHERE op_id = ANY($1)",
                &[&needs.op_ids],
            )
            .await?;
        for r in &rows {
            loaded.existing_ops.insert(col(r, 0)?);
        }
    }
    Ok(loaded)
}

/// `INSERT INTO {head} VALUES {row}, {row}, ...` in statements of at most [`MAX_PARAMS`]
/// parameters; `row` is a template whose `$n` (1-based, per row) are renumbered.
async fn insert_rows<'a>(t: &Tx<'_>, head: &str, row: &str, rows: &[Vec<Param<'a>>]) -> Result<()> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let per_row = first.len().max(1);
    for part in rows.chunks((MAX_PARAMS / per_row).max(1)) {
        let mut sql = format!("INSERT INTO {head} VALUES ");
        let mut params: Vec<Param<'a>> = Vec::with_capacity(part.len() * per_row);
        for (i, r) in part.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&renumber(row, i * per_row));
            params.extend(r.iter().copied());
        }
        t.execute(sql.as_str(), &params).await?;
    }
    Ok(())
}

/// `($1, 'x', $2)` with every `$n` shifted by `offset`.
fn renumber(template: &str, offset: usize) -> String {
    let mut out = String::with_capacity(template.len() + 8);
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let mut n = 0usize;
        while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
            n = n * 10 + d as usize;
            chars.next();
        }
        out.push('$');
        out.push_str(&(n + offset).to_string());
    }
    out
}

async fn write(t: &Tx<'_>, p: &ChunkPlan, now: &String) -> Result<()> {
    let rows: Vec<Vec<Param>> = p
        .new_accounts
        .iter()
        .map(|a| vec![&a.uid as Param, &a.gseq, &a.book, &a.created_at, now])
        .collect();
    insert_rows(
        t,
        "accounts (uid, gseq, book, created_at, updated_at)",
        "($1, $2, $3, $4, $5)",
        &rows,
    )
    .await?;
    let rows: Vec<Vec<Param>> = p
        .customers
        .iter()
        .map(|c| {
            vec![
                &c.uid as Param,
                &c.account_uid,
                &c.profile,
                &c.referrer_uid,
                &c.created_at,
            ]
        })
        .collect();
    insert_rows(
        t,
        "customers (uid, account_uid, profile, referrer_uid, created_at)",
        "($1, $2, $3, $4, $5)",
        &rows,
    )
    .await?;
    let kinds: Vec<&str> = p.new_cards.iter().map(|k| k.kind).collect();
    let rows: Vec<Vec<Param>> = p
        .new_cards
        .iter()
        .zip(&kinds)
        .map(|(k, kind)| vec![&k.number as Param, &k.account_uid, kind, &k.created_at])
        .collect();
    insert_rows(
        t,
        "cards (number, account_uid, status, kind, created_at)",
        "($1, $2, 'active', $3, $4)",
        &rows,
    )
    .await?;
    for card in &p.blocked_cards {
        t.execute(
            "UPDATE cards SET status = 'blocked' WHERE number = $1",
            &[card],
        )
        .await?;
    }
    for (rid, account, op) in &p.consumed {
        t.execute(
            "UPDATE reservations SET status = 'consumed', consumed_by = $3, closed_at = $4
             WHERE id = $1 AND account_uid = $2 AND status = 'active'",
            &[rid, account, op, now],
        )
        .await?;
    }
    for a in &p.changed_accounts {
        t.execute(
            "UPDATE accounts SET book = $2, gseq = $3, updated_at = $4 WHERE uid = $1",
            &[&a.uid, &a.book, &a.gseq, now],
        )
        .await?;
    }
    let till = SERVER_TILL.to_string();
    let rows: Vec<Vec<Param>> = p
        .shortfalls
        .iter()
        .map(|s| {
            vec![
                &s.op_id as Param,
                &s.account_uid,
                &till,
                &s.seq,
                &s.points,
                &s.gseq,
                &s.recorded_at,
            ]
        })
        .collect();
    insert_rows(
        t,
        "shortfalls (op_id, account_uid, till_id, seq, points, gseq, recorded_at)",
        "($1, $2, $3, $4, $5, $6, $7)",
        &rows,
    )
    .await?;
    let rows: Vec<Vec<Param>> = p
        .events
        .iter()
        .map(|e| {
            vec![
                &till as Param,
                &e.seq,
                &e.op_id,
                &e.hash,
                &e.gseq,
                &e.recorded_at,
                now,
                &e.fact,
            ]
        })
        .collect();
    insert_rows(
        t,
        "events (till_id, seq, op_id, hash, gseq, recorded_at, received_at, fact)",
        "($1, $2, $3, $4, $5, $6, $7, $8)",
        &rows,
    )
    .await?;
    super::analytics::exec(t, &p.analytics, None).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn renumbers_placeholders() {
        assert_eq!(
            super::renumber("($1, 'a', $2, $10)", 20),
            "($21, 'a', $22, $30)"
        );
    }
}
