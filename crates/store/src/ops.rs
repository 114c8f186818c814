//! The operation frame: one IMMEDIATE transaction, the idempotency log (`operations`), the
//! gap-free outbox, till counters and timestamp conversions.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use loyalty_domain::{Fact, TierWindow};

use crate::error::{Result, StoreError};

/// Milliseconds since the epoch (the on-disk timestamp format).
pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Back from the on-disk format.
pub(crate) fn from_ms(v: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(v).ok_or_else(|| StoreError::Corrupt(format!("timestamp {v}")))
}

pub(crate) fn opt_from_ms(v: Option<i64>) -> Result<Option<DateTime<Utc>>> {
    v.map(from_ms).transpose()
}

pub(crate) fn parse_date(s: Option<String>) -> Result<Option<NaiveDate>> {
    s.map(|s| {
        NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map_err(|_| StoreError::Corrupt(format!("date {s}")))
    })
    .transpose()
}

/// SHA-256 of the JSON of a request (the operation's content, excluding `now`).
pub(crate) fn request_hash<R: Serialize>(kind: &str, req: &R) -> Result<Vec<u8>> {
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    h.update([0u8]);
    h.update(serde_json::to_vec(req)?);
    Ok(h.finalize().to_vec())
}

/// What an operation body returns: its result and the fact it appends to the outbox
/// (`None` for a local-only operation that is not a fact: the expiry sweep).
pub(crate) struct Done<T> {
    pub result: T,
    pub event: Option<Fact>,
}

/// Runs `body` as operation `op_id` of `kind` in ONE `BEGIN IMMEDIATE` transaction:
/// a replay (same op id, same request) returns the stored result without running `body`;
/// the same op id with another request is [`StoreError::OpConflict`]. Otherwise `body` runs,
/// then the result is recorded and, when the operation is a fact, exactly one outbox event
/// appended, then one commit.
/// Any error rolls everything back.
pub(crate) fn run<T, R, F>(
    conn: &mut Connection,
    window: &TierWindow,
    op_id: Uuid,
    kind: &'static str,
    req: &R,
    now: DateTime<Utc>,
    body: F,
) -> Result<T>
where
    T: Serialize + DeserializeOwned,
    R: Serialize,
    F: FnOnce(&Transaction<'_>, &str) -> Result<Done<T>>,
{
    let hash = request_hash(kind, req)?;
    let op = op_id.hyphenated().to_string();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(result) = replay(&tx, &op, kind, &hash)? {
        return Ok(result);
    }
    let done = body(&tx, &op)?;
    let result_json = serde_json::to_string(&done.result)?;
    tx.prepare_cached(
        "INSERT INTO operations (op_id, kind, request_hash, result, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![op, kind, hash, result_json, ms(now)])?;
    if let Some(fact) = &done.event {
        append_outbox(&tx, &op, kind, fact, now)?;
    }
    crate::cache::refresh_stale(&tx, ms(now), window)?;
    tx.commit()?;
    Ok(done.result)
}

fn replay<T: DeserializeOwned>(
    tx: &Transaction<'_>,
    op: &str,
    kind: &str,
    hash: &[u8],
) -> Result<Option<T>> {
    let row: Option<(String, Vec<u8>, String)> = tx
        .prepare_cached("SELECT kind, request_hash, result FROM operations WHERE op_id = ?1")?
        .query_row([op], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    match row {
        None => Ok(None),
        Some((k, h, result)) if k == kind && h == hash => Ok(Some(serde_json::from_str(&result)?)),
        Some((k, _, _)) => Err(StoreError::OpConflict {
            op_id: op.to_string(),
            kind: k,
        }),
    }
}

/// Appends one outbox event with `seq = max(seq) + 1` (gap-free: outbox rows are never
/// deleted): `kind` = the operation's kind, `payload` = the fact's JSON, `created_at` = the
/// operation's `now` (the till's corrected clock: the envelope's `recorded_at`).
fn append_outbox(
    tx: &Transaction<'_>,
    op: &str,
    kind: &str,
    fact: &Fact,
    now: DateTime<Utc>,
) -> Result<()> {
    let payload = serde_json::to_string(fact)?;
    tx.prepare_cached(
        "INSERT INTO outbox (seq, op_id, kind, payload, created_at, acked)
         VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox), ?1, ?2, ?3, ?4, 0)",
    )?
    .execute(params![op, kind, payload, ms(now)])?;
    Ok(())
}

/// Increments and returns the till counter `key` (card serial, receipt serial).
pub(crate) fn next_counter(tx: &Connection, key: &str) -> Result<i64> {
    let v: i64 = tx
        .prepare_cached(
            "INSERT INTO till_meta (key, value) VALUES (?1, 1)
             ON CONFLICT(key) DO UPDATE SET value = value + 1 RETURNING value",
        )?
        .query_row([key], |r| r.get(0))?;
    Ok(v)
}
