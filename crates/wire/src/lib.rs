//! The till <-> server protocol (JSON over HTTP(S)), `PROTOCOL_VERSION = 1`.
//!
//! See `docs/design/sync.md`. Tills send facts, never balances: [`UploadRequest`] carries
//! [`EventEnvelope`]s in the till's gap-free `seq` order; the server answers how far it
//! applied ([`UploadResponse::applied_upto`]). Tills pull [`ChangesResponse`] (accounts
//! changed since a global server sequence `gseq`) and, on first start, [`SnapshotPage`]s.
//! Points are reserved online with [`ReservationRequest`]. Every error body is an
//! [`ApiError`] `{ code, message }`.
//!
//! All request types reject unknown fields. Every type derives `utoipa::ToSchema`; domain
//! types (the `Fact`, the `AccountBook`, the program) are described as free-form objects.

pub mod admin;
pub mod changes;
pub mod dashboard;
pub mod error;
pub mod events;
pub mod members;
pub mod merge;
pub mod reservations;

pub use admin::{
    AnonymousSale, AnonymousSalesRequest, AnonymousSalesResponse, NpsRequest, NpsResponse,
    ProgramVersionInfo, ProgramVersions, PublishProgramRequest, RegisterTillRequest,
    RegisteredTill, TillInfo, TillList, TriggerKind, TriggerList, TriggerRow, TriggersQuery,
};
pub use changes::{
    category_key, rank_categories, AccountState, CardState, CategoryStat, ChangesQuery,
    ChangesResponse, CustomerState, SnapshotPage, SnapshotQuery, MAX_CATEGORIES,
    MAX_CATEGORY_CHARS,
};
pub use dashboard::{DailyPoint, Dashboard, DashboardQuery, Nps, Roi, Segments};
pub use error::ApiError;
pub use events::{Conflict, EventEnvelope, ShortfallNote, UploadRequest, UploadResponse};
pub use members::{
    ImportFailure, ImportJob, ImportPhase, ImportReport, ImportRowError, ImportStatus,
    MembersExportQuery, MembersImportQuery, IMPORT_ERRORS_LISTED, MEMBERS_IMPORT_MAX_BYTES,
};
pub use merge::{MergeRequest, MergeResponse, MERGE_TEXT_MAX};
pub use reservations::{ReservationRequest, ReservationResponse, ReservationStatus, VoidResponse};

/// Version of this protocol. The server reports it on `/api/v1/health`; a till refuses to
/// talk to a server with a different major protocol.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest number of events accepted in one upload.
pub const MAX_BATCH: usize = 1000;

/// Default and largest page sizes of `changes` and `snapshot`.
pub const DEFAULT_PAGE: u32 = 200;
pub const MAX_PAGE: u32 = 5000;

/// `GET /api/v1/health` answer.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq, utoipa::ToSchema)]
pub struct Health {
    /// Always "ok" when the server and its database answer.
    pub status: String,
    pub protocol_version: u32,
    #[schema(value_type = String, format = DateTime)]
    pub server_time: chrono::DateTime<chrono::Utc>,
    /// The server build's version.
    pub version: String,
}

/// `GET /api/v1/me` answer: who the presented device token belongs to (a till's first-run
/// setup asks only for the server URL and the token).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq, utoipa::ToSchema)]
pub struct TillIdentity {
    pub till_id: String,
    pub store_id: String,
    pub store_name: String,
    #[schema(value_type = String, format = DateTime)]
    pub server_time: chrono::DateTime<chrono::Utc>,
}

#[cfg(test)]
mod tests;
