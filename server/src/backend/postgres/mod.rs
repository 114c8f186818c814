//! The PostgreSQL backend (also meant for Postgres-wire distributed engines: CockroachDB,
//! YugabyteDB): a deadpool of tokio-postgres connections (no TLS to the database), the
//! same tables and SQL shapes as the SQLite module, the same shared rules
//! ([`crate::backend::apply`], [`crate::backend::batch`], [`crate::backend::reservation`]).
//!
//! Concurrency: every method is one transaction at the database's default isolation,
//! correct under READ COMMITTED through row locks (`SELECT ... FOR UPDATE` on the till
//! cursor, the gseq counter and the account rows, always in that order) and under
//! SERIALIZABLE through [`tx::Retry`]: serialization failures (40001) and deadlocks
//! (40P01) rerun the whole transaction, a bounded number of times, then `DB_BUSY`.

mod analytics;
mod apply;
mod ingest;
mod members;
mod merge;
mod migrate;
mod reads;
mod reserve;
mod server_batch;
mod tills;
mod tx;

use super::analytics::expiry::SweepOutcome;
use super::analytics::{Rows, Stmt};
use super::{
    Backend, BackendError, BatchRecord, MembersPage, MigrationStatus, Result, ServerBatch,
    ServerBatchOutcome, ServerEventSource, TillRecord,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use loyalty_wire::{
    EventEnvelope, ReservationRequest, ReservationResponse, UploadResponse, VoidResponse,
};
use std::time::Duration;
use tokio_postgres::NoTls;
use uuid::Uuid;

pub use migrate::MIGRATIONS;

/// Connections in the pool.
const POOL_SIZE: usize = 16;
/// How long a request waits for a connection (or for one to be made).
const POOL_TIMEOUT: Duration = Duration::from_secs(10);

/// The PostgreSQL implementation of [`Backend`].
pub struct PostgresBackend {
    pool: Pool,
    retry: tx::Retry,
}

impl PostgresBackend {
    /// Parses the URL (`postgres://user:password@host:port/db?options=...`) and makes the
    /// pool; connects lazily (call [`Backend::migrate`] or [`Backend::ping`] next).
    pub fn open(url: &str) -> Result<Self> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| BackendError::Unsupported(format!("bad PostgreSQL url: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(POOL_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("loyalty-server");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| BackendError::Db(format!("connection pool: {e}")))?;
        Ok(PostgresBackend {
            pool,
            retry: tx::Retry::default(),
        })
    }
}

#[async_trait]
impl Backend for PostgresBackend {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> Result<Vec<MigrationStatus>> {
        let out = {
            let mut client = self.pool.get().await?;
            migrate::migrate(&mut client, MIGRATIONS).await?
        };
        let now = Utc::now();
        tx::run(&self.pool, self.retry, tx::Mode::Write, move |t| {
            Box::pin(async move { analytics::backfill(t, now).await })
        })
        .await?;
        Ok(out)
    }

    async fn ping(&self) -> Result<()> {
        let client = self.pool.get().await?;
        client.simple_query("SELECT 1").await?;
        Ok(())
    }

    async fn register_till(
        &self,
        store_name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<TillRecord> {
        let (store, hash) = (store_name.to_string(), token_hash.to_string());
        tx::run(&self.pool, self.retry, tx::Mode::Write, move |t| {
            let (store, hash) = (store.clone(), hash.clone());
            Box::pin(async move { tills::register(t, &store, &hash, now).await })
        })
        .await
    }

    async fn list_tills(&self) -> Result<Vec<TillRecord>> {
        let client = self.pool.get().await?;
        tills::list(&**client).await
    }

    async fn revoke_till(&self, till_id: &str, now: DateTime<Utc>) -> Result<TillRecord> {
        let id = till_id.to_string();
        tx::run(&self.pool, self.retry, tx::Mode::Write, move |t| {
            let id = id.clone();
            Box::pin(async move { tills::revoke(t, &id, now).await })
        })
        .await
    }

    async fn till_by_token_hash(&self, token_hash: &str) -> Result<Option<TillRecord>> {
        let client = self.pool.get().await?;
        tills::by_token_hash(&**client, token_hash).await
    }

    async fn ingest(
        &self,
        till_id: &str,
        events: Vec<EventEnvelope>,
        received_at: DateTime<Utc>,
    ) -> Result<UploadResponse> {
        let events = super::batch::prepare(events)?;
        let id = till_id.to_string();
        let events = std::sync::Arc::new(events);
        tx::run(&self.pool, self.retry, tx::Mode::Write, move |t| {
            let (id, events) = (id.clone(), events.clone());
            Box::pin(async move { ingest::ingest(t, &id, &events, received_at).await })
        })
        .await
    }

    async fn changes_since(
        &self,
        since: i64,
        limit: u32,
        till_id: &str,
        now: DateTime<Utc>,
    ) -> Result<super::stored_book::StoredChanges> {
        let id = till_id.to_string();
        tx::run(&self.pool, self.retry, tx::Mode::Snapshot, move |t| {
            let id = id.clone();
            Box::pin(async move { reads::changes_since(t, since, limit, &id, now).await })
        })
        .await
    }

    async fn snapshot_page(
        &self,
        after: Option<&str>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<super::stored_book::StoredSnapshot> {
        let after = after.map(str::to_string);
        tx::run(&self.pool, self.retry, tx::Mode::Snapshot, move |t| {
            let after = after.clone();
            Box::pin(async move { reads::snapshot_page(t, after.as_deref(), limit, now).await })
        })
        .await
    }

    async fn reserve(
        &self,
        till_id: &str,
        req: ReservationRequest,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<ReservationResponse> {
        super::reservation::check_request(&req)?;
        let id = till_id.to_string();
        tx::run(&self.pool, self.retry, tx::Mode::Write, move |t| {
            let (id, req) = (id.clone(), req.clone());
            Box::pin(async move { reserve::reserve(t, &id, &req, now, ttl).await })
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
        tx::run(&self.pool, self.retry, tx::Mode::Write, move |t| {
            let id = id.clone();
            Box::pin(async move { reserve::void(t, &id, reservation_id, now).await })
        })
        .await
    }

    async fn merge_accounts(
        &self,
        req: loyalty_wire::MergeRequest,
        now: DateTime<Utc>,
    ) -> Result<loyalty_wire::MergeResponse> {
        tx::run(&self.pool, self.retry, tx::Mode::Write, move |t| {
            let req = req.clone();
            Box::pin(async move { merge::merge(t, &req, now).await })
        })
        .await
    }

    async fn apply_server_batch(
        &self,
        batch: ServerBatch,
        source: Box<dyn ServerEventSource>,
    ) -> Result<ServerBatchOutcome> {
        let source: server_batch::SharedSource = std::sync::Arc::new(std::sync::Mutex::new(source));
        tx::run(&self.pool, self.retry, tx::Mode::Write, move |t| {
            let (batch, source) = (batch.clone(), source.clone());
            Box::pin(async move { server_batch::apply(t, &batch, &source).await })
        })
        .await
    }

    async fn server_batch(&self, id: &str) -> Result<Option<BatchRecord>> {
        let client = self.pool.get().await?;
        server_batch::record(&**client, id).await
    }

    async fn members_page(&self, after: Option<&str>, limit: u32) -> Result<MembersPage> {
        let after = after.map(str::to_string);
        tx::run(&self.pool, self.retry, tx::Mode::Snapshot, move |t| {
            let after = after.clone();
            Box::pin(async move { members::page(t, after.as_deref(), limit).await })
        })
        .await
    }

    async fn query(&self, queries: Vec<Stmt>) -> Result<Vec<Rows>> {
        let queries = std::sync::Arc::new(queries);
        tx::run(&self.pool, self.retry, tx::Mode::Snapshot, move |t| {
            let queries = queries.clone();
            Box::pin(async move {
                let mut out = Vec::with_capacity(queries.len());
                for q in queries.iter() {
                    out.push(analytics::query(t, q).await?);
                }
                Ok(out)
            })
        })
        .await
    }

    async fn execute(&self, stmts: Vec<Stmt>) -> Result<Vec<u64>> {
        let stmts = std::sync::Arc::new(stmts);
        tx::run(&self.pool, self.retry, tx::Mode::Write, move |t| {
            let stmts = stmts.clone();
            Box::pin(async move { analytics::exec(t, &stmts, None).await })
        })
        .await
    }

    async fn expire_due(&self, now: DateTime<Utc>) -> Result<SweepOutcome> {
        let mut total = SweepOutcome::default();
        loop {
            let (more, part) = tx::run(&self.pool, self.retry, tx::Mode::Write, move |t| {
                Box::pin(async move {
                    let mut part = SweepOutcome::default();
                    let more = analytics::sweep_batch(t, now, &mut part).await?;
                    Ok((more, part))
                })
            })
            .await?;
            total.accounts += part.accounts;
            total.points += part.points;
            if !more {
                return Ok(total);
            }
        }
    }
}
