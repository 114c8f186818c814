//! The SQLite backend: one connection behind a mutex, used from `spawn_blocking`; WAL,
//! `synchronous=FULL`. Every method is one IMMEDIATE transaction (reads: a deferred one).
//! The SQL is kept to what PostgreSQL runs too (`?N` placeholders aside), so the Postgres
//! module can mirror it statement by statement.

mod apply;
mod ingest;
mod members;
mod migrate;
mod reads;
mod reserve;
mod server_batch;
mod tills;

use super::{
    Backend, BackendError, BatchRecord, MembersPage, MigrationStatus, Result, ServerBatch,
    ServerBatchOutcome, ServerEventSource, TillRecord,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use loyalty_wire::{
    ChangesResponse, EventEnvelope, ReservationRequest, ReservationResponse, SnapshotPage,
    UploadResponse, VoidResponse,
};
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

pub use migrate::MIGRATIONS;

/// SQLite page cache in KiB.
const CACHE_SIZE_KIB: i64 = 32_000;

/// The SQLite implementation of [`Backend`].
pub struct SqliteBackend {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteBackend {
    /// Opens (creating the file and its directory if needed) without migrating: call
    /// [`Backend::migrate`] next.
    pub async fn open(path: &Path) -> Result<Self> {
        let path = path.to_path_buf();
        let conn = tokio::task::spawn_blocking(move || connect(&path))
            .await
            .map_err(|e| BackendError::Db(format!("opening worker failed: {e}")))??;
        Ok(SqliteBackend {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection in a blocking worker.
    async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave a transaction open (rusqlite
            // rolls back on drop), so a poisoned lock is safe to reuse.
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| BackendError::Db(format!("database worker failed: {e}")))?
    }
}

fn connect(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            BackendError::Db(format!("cannot create directory {}: {e}", dir.display()))
        })?;
    }
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(BackendError::Db(format!(
            "cannot enable WAL (journal_mode={mode})"
        )));
    }
    conn.execute_batch(&format!(
        "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-{CACHE_SIZE_KIB};"
    ))?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

#[async_trait]
impl Backend for SqliteBackend {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<Vec<MigrationStatus>> {
        self.run(|c| migrate::migrate(c, MIGRATIONS)).await
    }

    async fn ping(&self) -> Result<()> {
        self.run(|c| {
            c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?;
            Ok(())
        })
        .await
    }

    async fn register_till(
        &self,
        store_name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<TillRecord> {
        let (store, hash) = (store_name.to_string(), token_hash.to_string());
        self.run(move |c| tills::register(c, &store, &hash, now))
            .await
    }

    async fn list_tills(&self) -> Result<Vec<TillRecord>> {
        self.run(tills::list).await
    }

    async fn revoke_till(&self, till_id: &str, now: DateTime<Utc>) -> Result<TillRecord> {
        let id = till_id.to_string();
        self.run(move |c| tills::revoke(c, &id, now)).await
    }

    async fn till_by_token_hash(&self, token_hash: &str) -> Result<Option<TillRecord>> {
        let hash = token_hash.to_string();
        self.run(move |c| tills::by_token_hash(c, &hash)).await
    }

    async fn ingest(
        &self,
        till_id: &str,
        events: Vec<EventEnvelope>,
        received_at: DateTime<Utc>,
    ) -> Result<UploadResponse> {
        let id = till_id.to_string();
        self.run(move |c| ingest::ingest(c, &id, events, received_at))
            .await
    }

    async fn changes_since(
        &self,
        since: i64,
        limit: u32,
        till_id: &str,
        now: DateTime<Utc>,
    ) -> Result<ChangesResponse> {
        let id = till_id.to_string();
        self.run(move |c| reads::changes_since(c, since, limit, &id, now))
            .await
    }

    async fn snapshot_page(
        &self,
        after: Option<&str>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<SnapshotPage> {
        let after = after.map(str::to_string);
        self.run(move |c| reads::snapshot_page(c, after.as_deref(), limit, now))
            .await
    }

    async fn reserve(
        &self,
        till_id: &str,
        req: ReservationRequest,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<ReservationResponse> {
        let id = till_id.to_string();
        self.run(move |c| reserve::reserve(c, &id, &req, now, ttl))
            .await
    }

    async fn void_reservation(
        &self,
        till_id: &str,
        reservation_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<VoidResponse> {
        let id = till_id.to_string();
        self.run(move |c| reserve::void(c, &id, reservation_id, now))
            .await
    }

    async fn apply_server_batch(
        &self,
        batch: ServerBatch,
        mut source: Box<dyn ServerEventSource>,
    ) -> Result<ServerBatchOutcome> {
        self.run(move |c| server_batch::apply(c, &batch, source.as_mut()))
            .await
    }

    async fn server_batch(&self, id: &str) -> Result<Option<BatchRecord>> {
        let id = id.to_string();
        self.run(move |c| server_batch::record(c, &id)).await
    }

    async fn members_page(&self, after: Option<&str>, limit: u32) -> Result<MembersPage> {
        let after = after.map(str::to_string);
        self.run(move |c| members::page(c, after.as_deref(), limit))
            .await
    }
}
