//! The owner's endpoints besides the dashboard (`Authorization: Bearer <owner token>`):
//! program versions, tills, trigger lists; and what tills report besides facts: NPS
//! answers and sales without a card.

use chrono::{DateTime, NaiveDate, Utc};
use loyalty_domain::{Money, Points, ProgramConfig};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// One published program version.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProgramVersionInfo {
    pub version: u32,
    #[schema(value_type = String, format = DateTime)]
    pub effective_from: DateTime<Utc>,
    /// The gseq under which tills receive it (`changes` / `snapshot`).
    pub gseq: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// `loyalty_domain::ProgramConfig` (its `version` and `effective_from` as above).
    #[schema(value_type = Object)]
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub config: ProgramConfig,
}

/// Body of `POST /api/v1/program`: a new version (the server numbers it: the highest
/// version + 1; the config's own `version` and `effective_from` are replaced).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct PublishProgramRequest {
    #[schema(value_type = String, format = DateTime)]
    pub effective_from: DateTime<Utc>,
    #[schema(value_type = Object)]
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub config: ProgramConfig,
}

/// A till as the owner sees it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TillInfo {
    pub id: String,
    pub store_id: String,
    pub store_name: String,
    pub revoked: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// Highest settled event seq of the till.
    pub last_seq: i64,
}

/// Body of `POST /api/v1/tills`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct RegisterTillRequest {
    /// Store name (created on first use).
    pub store: String,
}

/// `POST /api/v1/tills` answer: the device token is shown only this once.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RegisteredTill {
    pub till: TillInfo,
    pub token: String,
}

/// Which trigger list.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    /// Birthday within the next `days` days (today included). Marketing: consent only.
    Birthdays,
    /// Bought before, but not in the last `days` days. Marketing: consent only.
    Lapsed,
    /// Enrolled in the last `days` days. Marketing: consent only.
    Welcome,
    /// Points owed from offline overdraw or returns (operational: everyone).
    Shortfalls,
}

impl TriggerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::Birthdays => "birthdays",
            TriggerKind::Lapsed => "lapsed",
            TriggerKind::Welcome => "welcome",
            TriggerKind::Shortfalls => "shortfalls",
        }
    }

    /// Customers without marketing consent are left out.
    pub fn is_marketing(self) -> bool {
        !matches!(self, TriggerKind::Shortfalls)
    }

    pub fn parse(s: &str) -> Option<TriggerKind> {
        Some(match s {
            "birthdays" => TriggerKind::Birthdays,
            "lapsed" => TriggerKind::Lapsed,
            "welcome" => TriggerKind::Welcome,
            "shortfalls" => TriggerKind::Shortfalls,
            _ => return None,
        })
    }
}

/// Query of `GET /api/v1/triggers`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TriggersQuery {
    /// birthdays | lapsed | welcome | shortfalls
    pub kind: String,
    /// The list's window in days (1..=3660; default 7; ignored by shortfalls).
    pub days: Option<i64>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// One customer of a trigger list.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TriggerRow {
    pub account_uid: String,
    /// An active card of the account.
    pub card: Option<String>,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// `sms | email | messenger | none`.
    pub preferred_channel: String,
    pub marketing_consent: bool,
    #[schema(value_type = Option<String>, format = Date)]
    pub birthday: Option<NaiveDate>,
    #[schema(value_type = String, format = DateTime)]
    pub enrolled_at: DateTime<Utc>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_purchase: Option<DateTime<Utc>>,
    pub shortfall: Points,
}

/// `GET /api/v1/triggers` answer (JSON).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TriggerList {
    pub kind: TriggerKind,
    pub days: i64,
    pub rows: Vec<TriggerRow>,
}

/// Body of `POST /api/v1/nps` (a till): one 0–10 answer, idempotent on `id`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct NpsRequest {
    #[schema(value_type = String, format = Uuid)]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub id: Uuid,
    /// Op id of the sale it follows, if any.
    #[schema(value_type = Option<String>, format = Uuid)]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub op_id: Option<Uuid>,
    #[schema(value_type = i64, minimum = 0, maximum = 10)]
    pub score: i64,
    /// When the customer answered (default: now; never later than the server's clock).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub recorded_at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/nps` answer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NpsResponse {
    #[schema(value_type = String, format = Uuid)]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub id: Uuid,
    /// False: this id was recorded before (nothing changed).
    pub recorded: bool,
}

/// One sale made without a loyalty card.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct AnonymousSale {
    #[schema(value_type = String, format = Uuid)]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub op_id: Uuid,
    pub receipt_no: String,
    /// The check after discounts, minor units (≥ 0).
    #[schema(value_type = i64, minimum = 0)]
    pub amount: Money,
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/anonymous-sales` (a till; at most 1000; idempotent per op id).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct AnonymousSalesRequest {
    pub sales: Vec<AnonymousSale>,
}

/// `POST /api/v1/anonymous-sales` answer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AnonymousSalesResponse {
    /// Sales recorded now.
    pub recorded: u32,
    /// Op ids recorded before (nothing changed for them).
    pub duplicates: u32,
}

/// `GET /api/v1/program` answer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProgramVersions {
    pub versions: Vec<ProgramVersionInfo>,
}

/// `GET /api/v1/tills` answer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TillList {
    pub tills: Vec<TillInfo>,
}
