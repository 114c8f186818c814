//! Online points reservations: what is available minus what other tills hold.

use super::reads::{book_by_card, reserved};
use crate::backend::hash::{parse_ts, ts};
use crate::backend::{BackendError, Result};
use chrono::{DateTime, Utc};
use loyalty_wire::{ReservationRequest, ReservationResponse, ReservationStatus, VoidResponse};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use std::time::Duration;
use uuid::Uuid;

/// A stored reservation.
struct Stored {
    id: String,
    till_id: String,
    account_uid: String,
    card: String,
    points: i64,
    status: String,
    expires_at: String,
}

const SELECT: &str =
    "SELECT id, till_id, account_uid, card, points, status, expires_at FROM reservations";

fn stored(r: &Row<'_>) -> rusqlite::Result<Stored> {
    Ok(Stored {
        id: r.get(0)?,
        till_id: r.get(1)?,
        account_uid: r.get(2)?,
        card: r.get(3)?,
        points: r.get(4)?,
        status: r.get(5)?,
        expires_at: r.get(6)?,
    })
}

fn status_of(s: &str) -> Result<ReservationStatus> {
    ReservationStatus::parse(s)
        .ok_or_else(|| BackendError::Corrupt(format!("reservation status {s:?}")))
}

fn id_of(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| BackendError::Corrupt(format!("reservation id {s:?}: {e}")))
}

fn response(s: &Stored) -> Result<ReservationResponse> {
    Ok(ReservationResponse {
        reservation_id: id_of(&s.id)?,
        account_uid: s.account_uid.clone(),
        points: s.points,
        expires_at: parse_ts(&s.expires_at)?,
        status: status_of(&s.status)?,
    })
}

pub fn reserve(
    c: &mut Connection,
    till_id: &str,
    req: &ReservationRequest,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<ReservationResponse> {
    if req.points <= 0 {
        return Err(BackendError::InvalidPoints(req.points));
    }
    let op = req.op_id.to_string();
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let sql = format!("{SELECT} WHERE op_id = ?1");
    if let Some(s) = tx.query_row(&sql, [&op], stored).optional()? {
        if s.till_id == till_id && s.card == req.card && s.points == req.points {
            return response(&s);
        }
        return Err(BackendError::OpConflict(op));
    }
    // PostgreSQL: SELECT ... FROM accounts WHERE uid = $1 FOR UPDATE here.
    let (account_uid, book) = book_by_card(&tx, &req.card)?
        .ok_or_else(|| BackendError::CardNotFound(req.card.clone()))?;
    let available = book.balance(now).available;
    let free = available
        .saturating_sub(reserved(&tx, &account_uid, now)?)
        .max(0);
    if req.points > free {
        return Err(BackendError::InsufficientPoints {
            available: free,
            requested: req.points,
        });
    }
    let ttl = chrono::Duration::from_std(ttl).unwrap_or_else(|_| chrono::Duration::minutes(10));
    let expires_at = now + ttl;
    let id = Uuid::now_v7();
    tx.execute(
        "INSERT INTO reservations
            (id, op_id, till_id, account_uid, card, points, status, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'active', ?7, ?8)",
        params![
            id.to_string(),
            op,
            till_id,
            account_uid,
            req.card,
            req.points,
            ts(now),
            ts(expires_at)
        ],
    )?;
    tx.commit()?;
    Ok(ReservationResponse {
        reservation_id: id,
        account_uid,
        points: req.points,
        expires_at: parse_ts(&ts(expires_at))?,
        status: ReservationStatus::Active,
    })
}

pub fn void(
    c: &mut Connection,
    till_id: &str,
    reservation_id: Uuid,
    now: DateTime<Utc>,
) -> Result<VoidResponse> {
    let id = reservation_id.to_string();
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let sql = format!("{SELECT} WHERE id = ?1");
    let s = tx
        .query_row(&sql, [&id], stored)
        .optional()?
        .ok_or_else(|| BackendError::ReservationNotFound(id.clone()))?;
    if s.till_id != till_id {
        return Err(BackendError::ReservationForbidden(id));
    }
    match status_of(&s.status)? {
        ReservationStatus::Consumed => return Err(BackendError::ReservationConsumed(id)),
        ReservationStatus::Void => {}
        ReservationStatus::Active => {
            tx.execute(
                "UPDATE reservations SET status = 'void', closed_at = ?2 WHERE id = ?1",
                params![id, ts(now)],
            )?;
        }
    }
    tx.commit()?;
    Ok(VoidResponse {
        reservation_id,
        status: ReservationStatus::Void,
    })
}
