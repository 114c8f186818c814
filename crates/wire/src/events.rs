//! `POST /api/v1/events`: a till uploads its facts in `seq` order.

use chrono::{DateTime, Utc};
use loyalty_domain::{Fact, Points};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// One fact as the till recorded it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventEnvelope {
    /// The till's gap-free sequence number (1, 2, 3, ...).
    pub seq: i64,
    /// UUIDv7 of the operation; the same operation always has the same op id.
    #[schema(value_type = String, format = Uuid)]
    pub op_id: Uuid,
    /// When the till recorded it (its clock, corrected by the last known server offset).
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: DateTime<Utc>,
    /// What happened (`loyalty_domain::Fact`, tagged by `type`).
    #[schema(value_type = Object)]
    pub fact: Fact,
}

/// Body of `POST /api/v1/events`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    /// Must be the id of the till the bearer token belongs to.
    pub till_id: String,
    /// In `seq` order, starting at most at `applied_upto + 1` of the previous answer.
    pub events: Vec<EventEnvelope>,
}

/// An uploaded event the server did not apply, and will never apply.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Conflict {
    pub seq: i64,
    #[schema(value_type = String, format = Uuid)]
    pub op_id: Uuid,
    /// Stable code: `EVENT_CONFLICT` (seq or op id already used by other content), or the
    /// code of the reason the fact cannot be applied (e.g. `ACCOUNT_NOT_FOUND`).
    pub code: String,
    pub message: String,
}

/// Points an account could not cover (offline spend or a return of spent points): the
/// account now owes them, settled from future earnings. Reported for the owner.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShortfallNote {
    pub seq: i64,
    #[schema(value_type = String, format = Uuid)]
    pub op_id: Uuid,
    pub account_uid: String,
    /// Points that could not be covered by this fact (> 0).
    pub points: Points,
}

/// Answer to an upload. Uploading the same batch again gives the same answer (except
/// `server_time`): duplicates are no-ops.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadResponse {
    /// Every event of this till with `seq <= applied_upto` is settled (applied, or rejected
    /// and listed in `conflicts` when it was in this batch). Resend from `applied_upto + 1`.
    pub applied_upto: i64,
    #[schema(value_type = String, format = DateTime)]
    pub server_time: DateTime<Utc>,
    pub conflicts: Vec<Conflict>,
    pub shortfalls: Vec<ShortfallNote>,
}
