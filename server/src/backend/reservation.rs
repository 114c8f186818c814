//! The SQL-agnostic rules of online reservations, shared by every backend.

use super::hash::parse_ts;
use super::{BackendError, Result};
use chrono::{DateTime, Utc};
use loyalty_domain::Points;
use loyalty_wire::{ReservationRequest, ReservationResponse, ReservationStatus};
use std::time::Duration;
use uuid::Uuid;

/// The columns every backend selects, in this order.
pub const SELECT: &str =
    "SELECT id, till_id, account_uid, card, points, status, expires_at FROM reservations";

/// A stored reservation.
pub struct Stored {
    pub id: String,
    pub till_id: String,
    pub account_uid: String,
    pub card: String,
    pub points: i64,
    pub status: String,
    pub expires_at: String,
}

pub fn status_of(s: &str) -> Result<ReservationStatus> {
    ReservationStatus::parse(s)
        .ok_or_else(|| BackendError::Corrupt(format!("reservation status {s:?}")))
}

fn id_of(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| BackendError::Corrupt(format!("reservation id {s:?}: {e}")))
}

pub fn response(s: &Stored) -> Result<ReservationResponse> {
    Ok(ReservationResponse {
        reservation_id: id_of(&s.id)?,
        account_uid: s.account_uid.clone(),
        points: s.points,
        expires_at: parse_ts(&s.expires_at)?,
        status: status_of(&s.status)?,
    })
}

/// Points must be positive; a card number with a NUL is no card (PostgreSQL could not
/// even look it up).
pub fn check_request(req: &ReservationRequest) -> Result<()> {
    if req.points <= 0 {
        return Err(BackendError::InvalidPoints(req.points));
    }
    if req.card.contains('\0') {
        return Err(BackendError::CardNotFound(
            req.card.escape_default().to_string(),
        ));
    }
    Ok(())
}

/// The op id was used before: the same request gets the same answer, other content is
/// `OP_CONFLICT`.
pub fn replay(s: &Stored, till_id: &str, req: &ReservationRequest) -> Result<ReservationResponse> {
    if s.till_id == till_id && s.card == req.card && s.points == req.points {
        return response(s);
    }
    Err(BackendError::OpConflict(req.op_id.to_string()))
}

/// What is available minus what active reservations hold must cover the request.
pub fn check_free(available: Points, reserved: Points, requested: Points) -> Result<()> {
    let free = available.saturating_sub(reserved).max(0);
    if requested > free {
        return Err(BackendError::InsufficientPoints {
            available: free,
            requested,
        });
    }
    Ok(())
}

/// When a reservation made `now` with `ttl` expires (10 minutes if `ttl` is absurd).
pub fn expires_at(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(ttl).unwrap_or_else(|_| chrono::Duration::minutes(10))
}

/// Whether a void must change the row (`false`: already void); errors for another
/// till's or a consumed reservation.
pub fn void_needs_update(s: &Stored, till_id: &str) -> Result<bool> {
    if s.till_id != till_id {
        return Err(BackendError::ReservationForbidden(s.id.clone()));
    }
    match status_of(&s.status)? {
        ReservationStatus::Consumed => Err(BackendError::ReservationConsumed(s.id.clone())),
        ReservationStatus::Void => Ok(false),
        ReservationStatus::Active => Ok(true),
    }
}
