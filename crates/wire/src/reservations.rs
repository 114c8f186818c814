//! `POST /api/v1/reservations` and `POST /api/v1/reservations/{id}/void`: reserving
//! points online before a sale spends them, so two tills cannot spend the same points.

use chrono::{DateTime, Utc};
use loyalty_domain::Points;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Body of `POST /api/v1/reservations`. Idempotent on `op_id`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "op_id": "0190a000-0000-7000-8000-000000000001", "card": "2000100000014", "points": 10
}))]
pub struct ReservationRequest {
    #[schema(value_type = String, format = Uuid)]
    pub op_id: Uuid,
    /// Any active card of the account.
    pub card: String,
    /// Points to hold (> 0; 0 or less is 400 `INVALID_POINTS`).
    #[schema(value_type = i64, minimum = 1)]
    pub points: Points,
}

/// Lifecycle of a reservation.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    /// Holds the points until `expires_at`, a void, or the sale that consumes it.
    Active,
    Void,
    /// A sale fact carrying this `reservation_id` was applied.
    Consumed,
}

impl ReservationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Active => "active",
            ReservationStatus::Void => "void",
            ReservationStatus::Consumed => "consumed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(ReservationStatus::Active),
            "void" => Some(ReservationStatus::Void),
            "consumed" => Some(ReservationStatus::Consumed),
            _ => None,
        }
    }
}

/// A granted reservation (`INSUFFICIENT_POINTS` otherwise).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReservationResponse {
    #[schema(value_type = String, format = Uuid)]
    pub reservation_id: Uuid,
    pub account_uid: String,
    pub points: Points,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<Utc>,
    pub status: ReservationStatus,
}

/// Answer to a void (voiding twice is fine).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidResponse {
    #[schema(value_type = String, format = Uuid)]
    pub reservation_id: Uuid,
    pub status: ReservationStatus,
}
