//! The SQLite backend: one writing connection behind a mutex, used from `spawn_blocking`;
//! WAL, `synchronous=FULL`. Every method is one IMMEDIATE transaction, except uploads:
//! those waiting for the connection share one (group commit, see `ingest`). The reads
//! tills make all the time (token lookups, changes, snapshot pages) go through a pool of
//! reading connections ([`readers`]): under WAL they see the last commit and never wait
//! for the writer's fsync or for each other; token lookups are also cached for a second
//! ([`TokenCache`]). The owner's analytics rows follow the event log on the same writer
//! ([`projector`]): an upload's transaction leaves them out, owner reads catch them up
//! first.
//! The SQL is kept to what PostgreSQL runs too (`?N` placeholders aside), so the Postgres
//! module can mirror it statement by statement.

mod analytics;
mod apply;
mod background;
mod ingest;
mod members;
mod merge;
mod migrate;
mod projector;
mod readers;
mod reads;
mod reserve;
mod server_batch;
mod tills;

use super::analytics::expiry::SweepOutcome;
use super::analytics::{Rows, Stmt};
use super::token_cache::TokenCache;
use super::{
    batch, Backend, BackendError, BatchRecord, MembersPage, MigrationStatus, Result, ServerBatch,
    ServerBatchOutcome, ServerEventSource, TillRecord,
};
use async_trait::async_trait;
use background::Background;
use chrono::{DateTime, Utc};
use loyalty_wire::{
    EventEnvelope, ReservationRequest, ReservationResponse, UploadResponse, VoidResponse,
};
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use uuid::Uuid;

pub use migrate::MIGRATIONS;

/// SQLite page cache in KiB.
const CACHE_SIZE_KIB: i64 = 32_000;

/// WAL pages (4 KiB) the writer lets accumulate before it copies them into the database
/// itself: a backstop only — the checkpointer thread ([`Checkpointer`]) copies them every
/// [`CHECKPOINT_EVERY`] without holding up a commit.
const CHECKPOINT_BACKSTOP_PAGES: i64 = 16_384;
/// How often the checkpointer copies the WAL into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Events applied in one group commit at most (more uploads wait for the next one).
const GROUP_MAX_EVENTS: usize = 2_000;

/// An upload waiting for the next group commit, and where its answer goes.
type Queued = (ingest::Upload, oneshot::Sender<Result<UploadResponse>>);

/// The SQLite implementation of [`Backend`].
pub struct SqliteBackend {
    conn: Arc<Mutex<Connection>>,
    readers: Arc<readers::Readers>,
    /// Device tokens looked up in the last second (see [`TokenCache`]).
    tokens: TokenCache,
    uploads: Arc<Mutex<Vec<Queued>>>,
    /// Events applied and not yet in the owner's analytics ([`projector`]).
    lag: Arc<projector::Lag>,
    _projector: Background,
    _checkpointer: Background,
}

/// Copies the WAL into the database on a thread and connection of its own (`PRAGMA
/// wal_checkpoint(PASSIVE)`: it never waits for, nor blocks, the writer or the readers),
/// so a commit never pays for the copy: with SQLite's automatic checkpoint, the commit that
/// crosses 1 000 WAL pages copies them all before its upload is answered, and a page
/// rewritten by every commit (an account's book, a day's totals) is copied every time.
/// Stops when dropped.
fn checkpointer(path: &Path) -> Result<Background> {
    let conn = connect(path)?;
    Background::start("sqlite-checkpoint", CHECKPOINT_EVERY, move || {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!("WAL checkpoint failed (the writer's backstop remains): {e}");
        }
    })
}

impl SqliteBackend {
    /// Opens (creating the file and its directory if needed) without migrating: call
    /// [`Backend::migrate`] next.
    pub async fn open(path: &Path) -> Result<Self> {
        let path = path.to_path_buf();
        let (conn, readers, checkpointer) = tokio::task::spawn_blocking(move || {
            let conn = connect(&path)?;
            conn.execute_batch(&format!(
                "PRAGMA wal_autocheckpoint={CHECKPOINT_BACKSTOP_PAGES}"
            ))?;
            let readers = (0..readers::READERS)
                .map(|_| connect(&path))
                .collect::<Result<Vec<_>>>()?;
            Ok::<_, BackendError>((conn, readers, checkpointer(&path)?))
        })
        .await
        .map_err(|e| BackendError::Db(format!("opening worker failed: {e}")))??;
        let conn = Arc::new(Mutex::new(conn));
        let lag = Arc::new(projector::Lag::new());
        Ok(SqliteBackend {
            _projector: projector::start(conn.clone(), lag.clone())?,
            conn,
            readers: Arc::new(readers::Readers::new(readers)),
            tokens: TokenCache::default(),
            uploads: Arc::new(Mutex::new(Vec::new())),
            lag,
            _checkpointer: checkpointer,
        })
    }

    /// Queues an upload and applies, with the connection, every upload queued so far (up
    /// to [`GROUP_MAX_EVENTS`]) in one transaction; an upload another worker took is
    /// answered by that worker. Every queued upload's own worker locks the connection
    /// after queueing, so none is left behind.
    fn ingest_queued(
        conn: &Mutex<Connection>,
        queue: &Mutex<Vec<Queued>>,
        lag: &projector::Lag,
        job: Queued,
    ) -> Result<()> {
        lag.upload_queued();
        lock(queue).push(job);
        let mut c = lock(conn);
        let jobs: Vec<Queued> = {
            let mut q = lock(queue);
            let (mut events, mut take) = (0, 0);
            for (u, _) in q.iter() {
                if take > 0 && events + u.events.len() > GROUP_MAX_EVENTS {
                    break;
                }
                events += u.events.len();
                take += 1;
            }
            q.drain(..take).collect()
        };
        lag.uploads_taken(jobs.len());
        if jobs.is_empty() {
            return Ok(());
        }
        let (uploads, answers): (Vec<_>, Vec<_>) = jobs.into_iter().unzip();
        let events = uploads.iter().map(|u| u.events.len()).sum();
        let results = ingest::ingest_group(&mut c, uploads);
        lag.uploaded(events);
        drop(c);
        for (to, r) in answers.into_iter().zip(results) {
            let _ = to.send(r);
        }
        Ok(())
    }

    /// Runs `f` on the connection in a blocking worker.
    async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || f(&mut lock(&conn)))
            .await
            .map_err(|e| BackendError::Db(format!("database worker failed: {e}")))?
    }

    /// Runs a read-only `f` on a free reading connection in a blocking worker.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || f(&mut readers.get()))
            .await
            .map_err(|e| BackendError::Db(format!("database worker failed: {e}")))?
    }

    /// Brings the owner's analytics up to the last applied event (a no-op when nothing
    /// waits).
    async fn analytics_caught_up(&self) -> Result<()> {
        if self.lag.waiting() == 0 {
            return Ok(());
        }
        let lag = self.lag.clone();
        self.run(move |c| projector::catch_up_now(c, &lag).map(drop))
            .await
    }
}

/// A panic while holding the lock cannot leave a transaction open (rusqlite rolls back on
/// drop), so a poisoned lock is safe to reuse.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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
        "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-{CACHE_SIZE_KIB};
         PRAGMA temp_store=MEMORY;"
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
        self.run(|c| {
            let out = migrate::migrate(c, MIGRATIONS)?;
            analytics::backfill(c, Utc::now())?;
            Ok(out)
        })
        .await
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
        let rec = self.run(move |c| tills::revoke(c, &id, now)).await?;
        self.tokens.evict_till(till_id);
        Ok(rec)
    }

    async fn till_by_token_hash(&self, token_hash: &str) -> Result<Option<TillRecord>> {
        if let Some(rec) = self.tokens.get(token_hash, Instant::now()) {
            return Ok(Some(rec));
        }
        let hash = token_hash.to_string();
        let found = self.read(move |c| tills::by_token_hash(c, &hash)).await?;
        if let Some(rec) = &found {
            self.tokens.put(token_hash, rec.clone(), Instant::now());
        }
        Ok(found)
    }

    async fn ingest(
        &self,
        till_id: &str,
        events: Vec<EventEnvelope>,
        received_at: DateTime<Utc>,
    ) -> Result<UploadResponse> {
        let (to, answer) = oneshot::channel();
        let (conn, queue, lag) = (self.conn.clone(), self.uploads.clone(), self.lag.clone());
        let till_id = till_id.to_string();
        tokio::task::spawn_blocking(move || {
            let upload = ingest::Upload {
                till_id,
                events: batch::prepare(events)?,
                received_at,
            };
            Self::ingest_queued(&conn, &queue, &lag, (upload, to))
        })
        .await
        .map_err(|e| BackendError::Db(format!("database worker failed: {e}")))??;
        answer
            .await
            .map_err(|_| BackendError::Db("the upload's database worker failed".into()))?
    }

    async fn changes_since(
        &self,
        since: i64,
        limit: u32,
        till_id: &str,
        now: DateTime<Utc>,
    ) -> Result<super::stored_book::StoredChanges> {
        let id = till_id.to_string();
        let changes = self
            .read(move |c| reads::changes_since(c, since, limit, &id, now))
            .await?;
        if !changes.accounts.is_empty() {
            self.lag.pulled();
        }
        Ok(changes)
    }

    async fn snapshot_page(
        &self,
        after: Option<&str>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<super::stored_book::StoredSnapshot> {
        let after = after.map(str::to_string);
        self.read(move |c| reads::snapshot_page(c, after.as_deref(), limit, now))
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

    async fn merge_accounts(
        &self,
        req: loyalty_wire::MergeRequest,
        now: DateTime<Utc>,
    ) -> Result<loyalty_wire::MergeResponse> {
        let lag = self.lag.clone();
        self.run(move |c| {
            let out = merge::merge(c, &req, now)?;
            lag.applied(1);
            Ok(out)
        })
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
        let lag = self.lag.clone();
        self.run(move |c| {
            let out = server_batch::apply(c, &batch, source.as_mut())?;
            if matches!(out, ServerBatchOutcome::Applied(_)) {
                // It projected everything before it in its transaction.
                lag.caught_up();
            }
            Ok(out)
        })
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

    async fn query(&self, queries: Vec<Stmt>) -> Result<Vec<Rows>> {
        self.analytics_caught_up().await?;
        self.read(move |c| {
            let tx = c.transaction()?;
            let out = queries
                .iter()
                .map(|q| analytics::query(&tx, q))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    async fn execute(&self, stmts: Vec<Stmt>) -> Result<Vec<u64>> {
        self.run(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let n = analytics::exec(&tx, &stmts, None)?;
            tx.commit()?;
            Ok(n.into_iter().map(|n| n as u64).collect())
        })
        .await
    }

    async fn expire_due(&self, now: DateTime<Utc>) -> Result<SweepOutcome> {
        let lag = self.lag.clone();
        self.run(move |c| {
            projector::catch_up_now(c, &lag)?;
            analytics::sweep(c, now)
        })
        .await
    }
}
