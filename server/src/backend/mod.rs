//! Storage behind one trait, [`Backend`], with a SQLite implementation ([`sqlite`]) and a
//! PostgreSQL one ([`postgres`]) with the same tables and the same SQL shapes. What does
//! not depend on SQL is shared: applying a fact ([`apply`]), the upload rules ([`batch`]),
//! reservations ([`reservation`]), paging, migration checks, hashes.
//!
//! Every mutating method runs in ONE database transaction. `ingest` applies a till's
//! batch in `seq` order from `last_seq + 1`, exactly once: a duplicate (same op id and
//! content hash at the same seq) is a no-op, other content at a used seq or a reused op id
//! is a conflict, a gap stops the batch. Each applied event takes the next global `gseq`
//! from the `counters` row, which also serialises appliers so gseq order = commit order.

pub mod analytics;
pub mod apply;
pub mod batch;
mod error;
pub mod hash;
pub mod members;
pub mod merge;
pub mod migration;
mod pages;
pub mod postgres;
pub mod reservation;
pub mod server_batch;
pub mod sqlite;
pub mod stored_book;
mod till_rows;
pub mod token_cache;

pub use error::BackendError;
pub use members::{MemberRow, MembersPage};
pub use server_batch::{
    BatchRecord, ServerBatch, ServerBatchOutcome, ServerEvent, ServerEventSource,
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use loyalty_wire::{
    EventEnvelope, ReservationRequest, ReservationResponse, UploadResponse, VoidResponse,
};
use std::sync::Arc;
use std::time::Duration;
use stored_book::{StoredChanges, StoredSnapshot};
use uuid::Uuid;

pub type Result<T, E = BackendError> = std::result::Result<T, E>;

/// A registered till (never its token: only the token's SHA-256 is stored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TillRecord {
    pub id: String,
    pub store_id: String,
    pub store_name: String,
    pub revoked: bool,
    pub created_at: DateTime<Utc>,
    /// Highest settled `seq` of this till.
    pub last_seq: i64,
}

/// One applied migration (for `loyalty-server migrate`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationStatus {
    pub version: i64,
    pub name: String,
    /// Applied by this call (false: it already was).
    pub newly_applied: bool,
}

/// The server's storage. Implementations are cheap to share (`Arc<dyn Backend>`).
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// "sqlite" | "postgres".
    fn kind(&self) -> &'static str;

    /// Applies pending migrations (checksummed, in order); lists them all.
    async fn migrate(&self) -> Result<Vec<MigrationStatus>>;

    /// The database answers (for `/api/v1/health`).
    async fn ping(&self) -> Result<()>;

    /// Registers a new till of `store_name` (the store is created on first use).
    async fn register_till(
        &self,
        store_name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<TillRecord>;

    async fn list_tills(&self) -> Result<Vec<TillRecord>>;

    /// Revokes a till: its token stops working. `TillNotFound` when unknown.
    async fn revoke_till(&self, till_id: &str, now: DateTime<Utc>) -> Result<TillRecord>;

    /// The till owning this token hash, revoked or not (the caller refuses revoked ones).
    async fn till_by_token_hash(&self, token_hash: &str) -> Result<Option<TillRecord>>;

    /// Applies a batch of the till's events (see the module doc). Applied facts get
    /// `ctx.event_time = min(recorded_at, received_at)`.
    async fn ingest(
        &self,
        till_id: &str,
        events: Vec<EventEnvelope>,
        received_at: DateTime<Utc>,
    ) -> Result<UploadResponse>;

    /// Accounts with `gseq > since`, ascending, at most `limit`; programs published after
    /// `since`; the till's settled seq.
    async fn changes_since(
        &self,
        since: i64,
        limit: u32,
        till_id: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredChanges>;

    /// Accounts with `uid > after`, ascending, at most `limit`, with the current gseq.
    async fn snapshot_page(
        &self,
        after: Option<&str>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<StoredSnapshot>;

    /// Holds points of the card's account for `ttl` if what is available minus active
    /// reservations covers them (`InsufficientPoints` otherwise). Idempotent on `op_id`.
    async fn reserve(
        &self,
        till_id: &str,
        req: ReservationRequest,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<ReservationResponse>;

    /// Merges a duplicate account into a survivor on the owner's request ([`merge`]): a
    /// `merge` fact of the server's till. The same op id again answers `already_applied`.
    async fn merge_accounts(
        &self,
        req: loyalty_wire::MergeRequest,
        now: DateTime<Utc>,
    ) -> Result<loyalty_wire::MergeResponse>;

    /// Voids an active reservation of this till (again: no-op; consumed: error).
    async fn void_reservation(
        &self,
        till_id: &str,
        reservation_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<VoidResponse>;

    /// Applies a server-origin batch (see [`server_batch`]) in ONE transaction: all its
    /// facts or none. A batch id applied before: `AlreadyApplied`, nothing changes.
    async fn apply_server_batch(
        &self,
        batch: ServerBatch,
        source: Box<dyn ServerEventSource>,
    ) -> Result<ServerBatchOutcome>;

    /// The recorded server batch with this id, if it was applied.
    async fn server_batch(&self, id: &str) -> Result<Option<BatchRecord>>;

    /// Accounts with `uid > after`, ascending, at most `limit`, with customer and cards.
    async fn members_page(&self, after: Option<&str>, limit: u32) -> Result<MembersPage>;

    /// Runs read-only statements of the shared owner SQL ([`analytics`]) in one consistent
    /// snapshot that includes every applied event's analytics rows; their rows in order.
    async fn query(&self, queries: Vec<analytics::Stmt>) -> Result<Vec<analytics::Rows>>;

    /// Runs statements of the shared owner SQL in ONE write transaction (a [`analytics::Val::Gseq`]
    /// parameter takes the next gseq); rows changed per statement. They must not depend on
    /// the applied events' analytics rows, which the SQLite backend may still be projecting
    /// ([`analytics::projection`]): rows of their own (an NPS answer, a program version) or
    /// additions in any order (a sale without a card's day totals). Tills call it with every
    /// sync cycle, so it never waits for the projection.
    async fn execute(&self, stmts: Vec<analytics::Stmt>) -> Result<Vec<u64>>;

    /// The expiry sweep: expires every lot past `now`, records the points per day and
    /// gives each changed account a new gseq (see [`analytics::expiry`]).
    async fn expire_due(&self, now: DateTime<Utc>) -> Result<analytics::expiry::SweepOutcome>;
}

/// Opens the backend for a database URL: `sqlite://PATH`, `sqlite:PATH` or a plain path
/// (SQLite); `postgres://` / `postgresql://` (PostgreSQL, connected lazily).
pub async fn open(database_url: &str) -> Result<Arc<dyn Backend>> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        return Ok(Arc::new(postgres::PostgresBackend::open(database_url)?));
    }
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .unwrap_or(database_url);
    if path.is_empty() {
        return Err(BackendError::Unsupported(format!(
            "database url {database_url:?} names no file"
        )));
    }
    let backend = sqlite::SqliteBackend::open(std::path::Path::new(path)).await?;
    Ok(Arc::new(backend))
}

/// Clamps a requested page size to `1..=MAX_PAGE` (default when absent).
pub fn page_size(limit: Option<u32>) -> u32 {
    limit
        .unwrap_or(loyalty_wire::DEFAULT_PAGE)
        .clamp(1, loyalty_wire::MAX_PAGE)
}
