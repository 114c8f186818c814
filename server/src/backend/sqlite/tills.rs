//! Stores and tills: registration, listing, revocation, token lookup.

use crate::backend::hash::ts;
use crate::backend::till_rows::{record, RawTill, SELECT_TILL};
use crate::backend::{BackendError, Result, TillRecord};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use uuid::Uuid;

fn raw(r: &Row<'_>) -> rusqlite::Result<RawTill> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn by_id(c: &Connection, id: &str) -> Result<Option<TillRecord>> {
    let sql = format!("{SELECT_TILL} WHERE t.id = ?1");
    c.prepare_cached(&sql)?
        .query_row([id], raw)
        .optional()?
        .map(record)
        .transpose()
}

pub fn register(
    c: &mut Connection,
    store_name: &str,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<TillRecord> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let store_id: Option<String> = tx
        .prepare_cached("SELECT id FROM stores WHERE name = ?1")?
        .query_row([store_name], |r| r.get(0))
        .optional()?;
    let store_id = match store_id {
        Some(id) => id,
        None => {
            let id = Uuid::now_v7().to_string();
            tx.prepare_cached("INSERT INTO stores (id, name, created_at) VALUES (?1, ?2, ?3)")?
                .execute(params![id, store_name, ts(now)])?;
            id
        }
    };
    let till_id = Uuid::now_v7().to_string();
    tx.prepare_cached(
        "INSERT INTO tills (id, store_id, token_hash, revoked, created_at)
         VALUES (?1, ?2, ?3, FALSE, ?4)",
    )?
    .execute(params![till_id, store_id, token_hash, ts(now)])?;
    tx.prepare_cached("INSERT INTO till_cursors (till_id, last_seq) VALUES (?1, 0)")?
        .execute([&till_id])?;
    let rec = by_id(&tx, &till_id)?
        .ok_or_else(|| BackendError::Db("registered till vanished".to_string()))?;
    tx.commit()?;
    Ok(rec)
}

pub fn list(c: &mut Connection) -> Result<Vec<TillRecord>> {
    // The server's own till (server-origin facts, migration 0002) is not a device.
    let sql = format!("{SELECT_TILL} WHERE t.id <> 'server' ORDER BY s.name, t.created_at, t.id");
    let mut st = c.prepare_cached(&sql)?;
    let rows = st.query_map([], raw)?;
    rows.map(|r| record(r?)).collect()
}

pub fn revoke(c: &mut Connection, till_id: &str, now: DateTime<Utc>) -> Result<TillRecord> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let n = tx
        .prepare_cached(
            "UPDATE tills SET revoked = TRUE, revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
        )?
        .execute(params![till_id, ts(now)])?;
    if n == 0 {
        return Err(BackendError::TillNotFound(till_id.to_string()));
    }
    let rec = by_id(&tx, till_id)?.ok_or_else(|| BackendError::TillNotFound(till_id.into()))?;
    tx.commit()?;
    Ok(rec)
}

pub fn by_token_hash(c: &mut Connection, token_hash: &str) -> Result<Option<TillRecord>> {
    let sql = format!("{SELECT_TILL} WHERE t.token_hash = ?1");
    c.prepare_cached(&sql)?
        .query_row([token_hash], raw)
        .optional()?
        .map(record)
        .transpose()
}
