//! One sync cycle ([`Syncer::sync_once`]): upload the outbox in batches and acknowledge what
//! the server applied; bootstrap from snapshot pages when the store never synced; pull
//! changes since the cursor and rebase. Every durable step is in the store (SQLite), so a
//! cycle cut anywhere (crash, lost answer, shutdown) is simply repeated: the server ignores
//! duplicates, applying a page twice changes nothing.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use loyalty_wire::{Conflict, ShortfallNote, UploadRequest};
use tokio::sync::watch;

use crate::error::SyncError;
use crate::status::{keep_last, SyncStatus};
use crate::store_access::StoreAccess;
use crate::transport::Transport;

/// Accounts a first start writes per store transaction by default: a million members in
/// twenty transactions, each holding some 50 MB of decoded pages.
pub const SNAPSHOT_GROUP: u32 = 50_000;

/// Accounts a till catching up writes per store transaction at most by default: about a
/// tenth of a second of the store (a checkout waits at most that long for it).
pub const PULL_GROUP: u32 = 1_000;

/// The till's raw clock (tests skew it).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

#[derive(Clone)]
pub struct SyncConfig {
    /// The till id the server registered (`POST /events` carries it).
    pub till_id: String,
    /// Outbox events per upload (≤ `loyalty_wire::MAX_BATCH`).
    pub upload_batch: u32,
    /// Accounts per changes page.
    pub page_size: u32,
    /// Accounts a till catching up applies per store transaction at most: the pages that
    /// already arrived, whole (see `pull.rs`; small, so a checkout never waits long for
    /// the store).
    pub pull_group: u32,
    /// Accounts per snapshot page of a first start (the till serves nobody yet: large pages
    /// mean fewer requests; the server caps it at `loyalty_wire::MAX_PAGE`).
    pub snapshot_page_size: u32,
    /// Accounts a first start writes per store transaction at least (whole pages; see
    /// `bootstrap.rs`).
    pub snapshot_group: u32,
    /// Backoff after a failure: full jitter from `backoff_base` doubling to `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Health probe period while the server answers with errors or times out (a server
    /// under load gets at most one probe per period from each till).
    pub probe_interval: Duration,
    /// Health probe period while the server cannot be reached at all (a refused connection
    /// costs it nothing): how soon a till resumes once the server is back.
    pub reconnect_probe_interval: Duration,
    /// Sync period when nothing nudges the task.
    pub poll_interval: Duration,
    /// Period instead of `poll_interval` right after a cycle that uploaded or received
    /// something (after a reconnect, while the server is catching up with other tills).
    pub catch_up_interval: Duration,
    /// The till's raw clock.
    pub clock: Clock,
}

impl SyncConfig {
    pub fn new(till_id: &str) -> SyncConfig {
        SyncConfig {
            till_id: till_id.to_string(),
            upload_batch: 200,
            page_size: 200,
            pull_group: PULL_GROUP,
            snapshot_page_size: loyalty_wire::MAX_PAGE,
            snapshot_group: SNAPSHOT_GROUP,
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            probe_interval: Duration::from_secs(1),
            reconnect_probe_interval: Duration::from_millis(250),
            poll_interval: Duration::from_secs(10),
            catch_up_interval: Duration::from_secs(1),
            clock: Arc::new(Utc::now),
        }
    }
}

impl std::fmt::Debug for SyncConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncConfig")
            .field("till_id", &self.till_id)
            .field("upload_batch", &self.upload_batch)
            .field("page_size", &self.page_size)
            .field("pull_group", &self.pull_group)
            .field("snapshot_page_size", &self.snapshot_page_size)
            .field("snapshot_group", &self.snapshot_group)
            .finish_non_exhaustive()
    }
}

/// What one cycle did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CycleReport {
    pub uploaded: usize,
    pub acked: usize,
    pub conflicts: Vec<Conflict>,
    pub shortfalls: Vec<ShortfallNote>,
    pub bootstrapped: bool,
    pub pages: usize,
    pub accounts: usize,
    pub pending: i64,
    /// Side records sent (sales without a card, NPS answers).
    pub side_sent: usize,
}

/// The store, the transport and the settings of one till's sync.
#[derive(Clone)]
pub struct Syncer {
    pub store: StoreAccess,
    pub transport: Arc<dyn Transport>,
    pub config: SyncConfig,
}

impl Syncer {
    pub fn new(store: StoreAccess, transport: Arc<dyn Transport>, config: SyncConfig) -> Self {
        Syncer {
            store,
            transport,
            config,
        }
    }

    /// One full cycle without status reporting.
    pub async fn sync_once(&self) -> Result<CycleReport, SyncError> {
        let (tx, _rx) = watch::channel(SyncStatus::default());
        self.cycle(&tx).await
    }

    /// One full cycle; progress goes to `status`.
    pub async fn cycle(
        &self,
        status: &watch::Sender<SyncStatus>,
    ) -> Result<CycleReport, SyncError> {
        let mut report = CycleReport::default();
        self.upload_all(&mut report, status).await?;
        self.send_side_records(&mut report).await?;
        let never_synced = self
            .store
            .run(|s| Ok(s.last_sync_at()?.is_none() && s.sync_cursor()? == 0))
            .await?;
        if never_synced {
            let done = self.bootstrap(&mut report, status).await;
            if done.is_err() {
                // The larger page cache of snapshot pages is not kept while the till serves.
                let _ = self.store.run(|s| s.end_snapshot()).await;
            }
            done?;
        }
        self.pull(&mut report).await?;
        // Not catching up (less than a page pulled, the till idle or trading): copy what
        // the pulls left in the WAL now, not in a sale's commit. A till that never idles
        // must not keep the raised auto-checkpoint (`Store::checkpoint_after_pulls`).
        let caught_up = report.accounts < self.config.page_size as usize;
        let (pending, last, offset) = self
            .store
            .run(move |s| {
                if caught_up {
                    s.checkpoint_after_pulls()?;
                }
                Ok((
                    s.sync_pending_count()?,
                    s.last_sync_at()?,
                    s.server_offset_ms(),
                ))
            })
            .await?;
        report.pending = pending;
        status.send_modify(|st| {
            st.online = true;
            st.pending = pending;
            st.last_sync_at = last;
            st.server_offset_ms = offset;
            st.last_error = None;
            st.cycles += 1;
        });
        Ok(report)
    }

    /// Uploads unacknowledged events in batches until none is left.
    async fn upload_all(
        &self,
        report: &mut CycleReport,
        status: &watch::Sender<SyncStatus>,
    ) -> Result<(), SyncError> {
        let limit = self
            .config
            .upload_batch
            .clamp(1, loyalty_wire::MAX_BATCH as u32);
        loop {
            let events = self.store.run(move |s| s.pending_events(limit)).await?;
            let (Some(first), Some(last)) = (events.first(), events.last()) else {
                return Ok(());
            };
            let (first_seq, last_seq) = (first.seq, last.seq);
            let count = events.len();
            let sent_at = (self.config.clock)();
            let resp = self
                .transport
                .upload(UploadRequest {
                    till_id: self.config.till_id.clone(),
                    events,
                })
                .await?;
            let local_now = midpoint(sent_at, (self.config.clock)());
            let (upto, server_time) = (resp.applied_upto, resp.server_time);
            let (acked, pending, offset) = self
                .store
                .run(move |s| {
                    let acked = s.ack_upto(upto)?;
                    let offset = s.set_server_time(server_time, local_now)?;
                    Ok((acked, s.sync_pending_count()?, offset))
                })
                .await?;
            for c in &resp.conflicts {
                tracing::warn!(seq = c.seq, op_id = %c.op_id, code = %c.code, "upload conflict: {}", c.message);
            }
            report.uploaded += count;
            report.acked += acked;
            report.conflicts.extend(resp.conflicts.iter().cloned());
            report.shortfalls.extend(resp.shortfalls.iter().cloned());
            status.send_modify(|st| {
                st.online = true;
                st.pending = pending;
                st.server_offset_ms = offset;
                keep_last(&mut st.conflicts, resp.conflicts);
                keep_last(&mut st.shortfalls, resp.shortfalls);
            });
            if upto < first_seq {
                return Err(SyncError::UploadStalled {
                    applied_upto: upto,
                    first_seq,
                });
            }
            if upto < last_seq {
                tracing::info!(upto, last_seq, "server stopped the batch early; resending");
            }
        }
    }
}

/// Halfway between sending a request and getting its answer (the server's clock most
/// likely read the request then).
fn midpoint(a: DateTime<Utc>, b: DateTime<Utc>) -> DateTime<Utc> {
    a + (b - a) / 2
}
