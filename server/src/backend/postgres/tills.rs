//! Stores and tills: registration, listing, revocation, token lookup.

use super::tx::{col, Tx};
use crate::backend::hash::ts;
use crate::backend::till_rows::{record, SELECT_TILL};
use crate::backend::{BackendError, Result, TillRecord};
use chrono::{DateTime, Utc};
use tokio_postgres::{GenericClient, Row};
use uuid::Uuid;

fn till(r: &Row) -> Result<TillRecord> {
    record((
        col(r, 0)?,
        col(r, 1)?,
        col(r, 2)?,
        col(r, 3)?,
        col(r, 4)?,
        col(r, 5)?,
    ))
}

async fn by_id<C: GenericClient>(c: &C, id: &str) -> Result<Option<TillRecord>> {
    let sql = format!("{SELECT_TILL} WHERE t.id = $1");
    c.query_opt(&sql, &[&id])
        .await?
        .as_ref()
        .map(till)
        .transpose()
}

pub async fn register(
    t: &mut Tx<'_>,
    store_name: &str,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<TillRecord> {
    // A store is made on first use; a concurrent twin registration just finds it.
    t.execute(
        "INSERT INTO stores (id, name, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING",
        &[&Uuid::now_v7().to_string(), &store_name, &ts(now)],
    )
    .await?;
    let row = t
        .query_one("SELECT id FROM stores WHERE name = $1", &[&store_name])
        .await?;
    let store_id: String = col(&row, 0)?;
    let till_id = Uuid::now_v7().to_string();
    t.execute(
        "INSERT INTO tills (id, store_id, token_hash, revoked, created_at)
         VALUES ($1, $2, $3, FALSE, $4)",
        &[&till_id, &store_id, &token_hash, &ts(now)],
    )
    .await?;
    t.execute(
        "INSERT INTO till_cursors (till_id, last_seq) VALUES ($1, 0)",
        &[&till_id],
    )
    .await?;
    by_id(&**t, &till_id)
        .await?
        .ok_or_else(|| BackendError::Db("registered till vanished".to_string()))
}

pub async fn list<C: GenericClient>(c: &C) -> Result<Vec<TillRecord>> {
    // The server's own till (server-origin facts, migration 0002) is not a device.
    let sql = format!("{SELECT_TILL} WHERE t.id <> 'server' ORDER BY s.name, t.created_at, t.id");
    c.query(&sql, &[]).await?.iter().map(till).collect()
}

pub async fn revoke(t: &mut Tx<'_>, till_id: &str, now: DateTime<Utc>) -> Result<TillRecord> {
    let n = t
        .execute(
            "UPDATE tills SET revoked = TRUE, revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
            &[&till_id, &ts(now)],
        )
        .await?;
    if n == 0 {
        return Err(BackendError::TillNotFound(till_id.to_string()));
    }
    by_id(&**t, till_id)
        .await?
        .ok_or_else(|| BackendError::TillNotFound(till_id.into()))
}

pub async fn by_token_hash<C: GenericClient>(
    c: &C,
    token_hash: &str,
) -> Result<Option<TillRecord>> {
    let sql = format!("{SELECT_TILL} WHERE t.token_hash = $1");
    c.query_opt(&sql, &[&token_hash])
        .await?
        .as_ref()
        .map(till)
        .transpose()
}
