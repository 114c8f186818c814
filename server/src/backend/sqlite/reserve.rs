//! Online points reservations: what is available minus what other tills hold (rules in
//! [`crate::backend::reservation`]).

use super::reads::{book_by_card, reserved};
use crate::backend::hash::{parse_ts, ts};
use crate::backend::reservation::{self as rules, Stored, SELECT};
use crate::backend::{BackendError, Result};
use chrono::{DateTime, Utc};
use loyalty_wire::{ReservationRequest, ReservationResponse, ReservationStatus, VoidResponse};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use std::time::Duration;
use uuid::Uuid;

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

pub fn reserve(
    c: &mut Connection,
    till_id: &str,
    req: &ReservationRequest,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<ReservationResponse> {
    rules::check_request(req)?;
    let op = req.op_id.to_string();
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let sql = format!("{SELECT} WHERE op_id = ?1");
    if let Some(s) = tx.query_row(&sql, [&op], stored).optional()? {
        return rules::replay(&s, till_id, req);
    }
    // PostgreSQL: SELECT ... FROM accounts WHERE uid = $1 FOR UPDATE here.
    let (account_uid, book) = book_by_card(&tx, &req.card)?
        .ok_or_else(|| BackendError::CardNotFound(req.card.clone()))?;
    let available = book.balance(now).available;
    rules::check_free(available, reserved(&tx, &account_uid, now)?, req.points)?;
    let expires_at = rules::expires_at(now, ttl);
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
    if rules::void_needs_update(&s, till_id)? {
        tx.execute(
            "UPDATE reservations SET status = 'void', closed_at = ?2 WHERE id = ?1",
            params![id, ts(now)],
        )?;
    }
    tx.commit()?;
    Ok(VoidResponse {
        reservation_id,
        status: ReservationStatus::Void,
    })
}
