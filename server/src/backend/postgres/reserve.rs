//! Online points reservations (rules in [`crate::backend::reservation`]). The account row
//! is locked (`FOR UPDATE`) before its reservations are summed, so two tills racing for
//! the same points queue on it (READ COMMITTED) or one is rerun (SERIALIZABLE): exactly
//! one wins.

use super::apply::lock_book;
use super::reads::reserved;
use super::tx::{col, Tx};
use crate::backend::hash::{parse_ts, ts};
use crate::backend::reservation::{self as rules, Stored, SELECT};
use crate::backend::{BackendError, Result};
use chrono::{DateTime, Utc};
use loyalty_wire::{ReservationRequest, ReservationResponse, ReservationStatus, VoidResponse};
use std::time::Duration;
use tokio_postgres::Row;
use uuid::Uuid;

fn stored(r: &Row) -> Result<Stored> {
    Ok(Stored {
        id: col(r, 0)?,
        till_id: col(r, 1)?,
        account_uid: col(r, 2)?,
        card: col(r, 3)?,
        points: col(r, 4)?,
        status: col(r, 5)?,
        expires_at: col(r, 6)?,
    })
}

async fn by_op(t: &Tx<'_>, op: &str) -> Result<Option<Stored>> {
    let sql = format!("{SELECT} WHERE op_id = $1");
    t.query_opt(&sql, &[&op])
        .await?
        .as_ref()
        .map(stored)
        .transpose()
}

pub async fn reserve(
    t: &Tx<'_>,
    till_id: &str,
    req: &ReservationRequest,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<ReservationResponse> {
    rules::check_request(req)?;
    let op = req.op_id.to_string();
    if let Some(s) = by_op(t, &op).await? {
        return rules::replay(&s, till_id, req);
    }
    let card = t
        .query_opt(
            "SELECT account_uid, status FROM cards WHERE number = $1",
            &[&req.card],
        )
        .await?
        .ok_or_else(|| BackendError::CardNotFound(req.card.clone()))?;
    let (account_uid, status): (String, String) = (col(&card, 0)?, col(&card, 1)?);
    if status != "active" {
        return Err(BackendError::CardBlocked(req.card.clone()));
    }
    let book = lock_book(t, &account_uid)
        .await?
        .ok_or_else(|| BackendError::Corrupt(format!("card {} has no account", req.card)))?;
    // The same op id may have won the lock just before us.
    if let Some(s) = by_op(t, &op).await? {
        return rules::replay(&s, till_id, req);
    }
    let available = book.balance(now).available;
    rules::check_free(available, reserved(t, &account_uid, now).await?, req.points)?;
    let expires_at = rules::expires_at(now, ttl);
    let id = Uuid::now_v7();
    t.execute(
        "INSERT INTO reservations
            (id, op_id, till_id, account_uid, card, points, status, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8)",
        &[
            &id.to_string(),
            &op,
            &till_id,
            &account_uid,
            &req.card,
            &req.points,
            &ts(now),
            &ts(expires_at),
        ],
    )
    .await?;
    Ok(ReservationResponse {
        reservation_id: id,
        account_uid,
        points: req.points,
        expires_at: parse_ts(&ts(expires_at))?,
        status: ReservationStatus::Active,
    })
}

pub async fn void(
    t: &Tx<'_>,
    till_id: &str,
    reservation_id: Uuid,
    now: DateTime<Utc>,
) -> Result<VoidResponse> {
    let id = reservation_id.to_string();
    // Locked: a sale consuming it at the same time is either before (consumed) or after.
    let sql = format!("{SELECT} WHERE id = $1 FOR UPDATE");
    let s = t
        .query_opt(&sql, &[&id])
        .await?
        .as_ref()
        .map(stored)
        .transpose()?
        .ok_or_else(|| BackendError::ReservationNotFound(id.clone()))?;
    if rules::void_needs_update(&s, till_id)? {
        t.execute(
            "UPDATE reservations SET status = 'void', closed_at = $2 WHERE id = $1",
            &[&id, &ts(now)],
        )
        .await?;
    }
    Ok(VoidResponse {
        reservation_id,
        status: ReservationStatus::Void,
    })
}
