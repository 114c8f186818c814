//! The background task: [`SyncEngine::spawn`] runs [`Syncer`] cycles — after a nudge, every
//! `poll_interval` (every `catch_up_interval` while cycles still upload or receive
//! something), and after failures with exponential backoff and full jitter; while the
//! server cannot be reached it probes `health` every `reconnect_probe_interval` (250 ms; a
//! refused connection costs the server nothing), every `probe_interval` (1 s) while it
//! answers with errors or times out, and resumes as soon as it answers.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::error::SyncError;
use crate::status::SyncStatus;
use crate::store_access::StoreAccess;
use crate::syncer::{SyncConfig, Syncer};
use crate::transport::Transport;

/// Controls a running sync task.
pub struct SyncHandle {
    nudge: Arc<Notify>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl SyncHandle {
    /// Sync now (e.g. after a checkout); coalesces with a cycle already due.
    pub fn nudge(&self) {
        self.nudge.notify_one();
    }

    /// Stops the task (a cycle in flight is abandoned: everything it did is durable or
    /// will be redone) and waits for it.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!("sync task ended abnormally: {e}");
        }
    }

    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

pub struct SyncEngine;

impl SyncEngine {
    /// Starts the task on the current tokio runtime.
    pub fn spawn(
        store: StoreAccess,
        transport: Arc<dyn Transport>,
        config: SyncConfig,
    ) -> (SyncHandle, watch::Receiver<SyncStatus>) {
        let (status_tx, status_rx) = watch::channel(SyncStatus::default());
        let (stop_tx, stop_rx) = watch::channel(false);
        let nudge = Arc::new(Notify::new());
        let worker = Worker {
            syncer: Syncer::new(store, transport, config),
            status: status_tx,
            nudge: nudge.clone(),
            stop: stop_rx,
        };
        let task = tokio::spawn(worker.run());
        (
            SyncHandle {
                nudge,
                stop: stop_tx,
                task,
            },
            status_rx,
        )
    }
}

struct Worker {
    syncer: Syncer,
    status: watch::Sender<SyncStatus>,
    nudge: Arc<Notify>,
    stop: watch::Receiver<bool>,
}

/// The health probe period after the failure `e` (an offline one).
fn probe_every(cfg: &SyncConfig, e: &SyncError) -> Duration {
    if e.is_unreachable() {
        cfg.reconnect_probe_interval
    } else {
        cfg.probe_interval
    }
}

/// Why a wait ended.
enum Wake {
    Due,
    Stop,
}

impl Worker {
    async fn run(mut self) {
        let cfg = self.syncer.config.clone();
        let mut backoff = Backoff::new(cfg.backoff_base, cfg.backoff_max);
        self.publish_pending().await;
        loop {
            let result = tokio::select! {
                r = self.syncer.cycle(&self.status) => Some(r),
                _ = stopped(&mut self.stop) => None,
            };
            let wake = match result {
                None => Wake::Stop,
                Some(Ok(report)) => {
                    backoff.reset();
                    tracing::debug!(?report, "sync cycle done");
                    let busy = report.uploaded > 0 || report.accounts > 0;
                    let next = if busy {
                        cfg.catch_up_interval.min(cfg.poll_interval)
                    } else {
                        cfg.poll_interval
                    };
                    self.wait(next).await
                }
                Some(Err(e)) => {
                    self.report_error(&e);
                    self.publish_pending().await;
                    let delay = backoff.next_delay();
                    tracing::info!(code = e.code(), error = %e, ?delay, "sync cycle failed");
                    if e.is_offline() {
                        self.probe_until(delay, probe_every(&cfg, &e)).await
                    } else {
                        self.wait(delay).await
                    }
                }
            };
            if matches!(wake, Wake::Stop) {
                return;
            }
        }
    }

    fn report_error(&self, e: &SyncError) {
        let offline = e.is_offline();
        let err = (e.code().to_string(), e.to_string());
        self.status.send_modify(|st| {
            if offline {
                st.online = false;
            }
            st.last_error = Some(err);
            st.bootstrap_progress = None;
        });
    }

    /// The store's pending count, last sync and offset (before the first cycle, and while
    /// offline, so a UI shows them).
    async fn publish_pending(&self) {
        if let Ok((pending, last, offset)) = self
            .syncer
            .store
            .run(|s| {
                Ok((
                    s.sync_pending_count()?,
                    s.last_sync_at()?,
                    s.server_offset_ms(),
                ))
            })
            .await
        {
            self.status.send_modify(|st| {
                st.pending = pending;
                st.last_sync_at = last;
                st.server_offset_ms = offset;
            });
        }
    }

    /// Waits `d`, a nudge, or the stop signal.
    async fn wait(&mut self, d: Duration) -> Wake {
        tokio::select! {
            _ = tokio::time::sleep(d) => Wake::Due,
            _ = self.nudge.notified() => Wake::Due,
            _ = stopped(&mut self.stop) => Wake::Stop,
        }
    }

    /// Offline: probes `health` every `probe` until it answers, `delay` passes, or a nudge.
    async fn probe_until(&mut self, delay: Duration, probe: Duration) -> Wake {
        let deadline = Instant::now() + delay;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Wake::Due;
            }
            let step = probe.min(deadline - now);
            if let Wake::Stop = self.wait(step).await {
                return Wake::Stop;
            }
            // New sales keep arriving while offline: keep the count honest.
            self.publish_pending().await;
            let health = tokio::select! {
                h = self.syncer.transport.health() => h,
                _ = stopped(&mut self.stop) => return Wake::Stop,
            };
            if health.is_ok() {
                self.status.send_modify(|st| st.online = true);
                return Wake::Due;
            }
        }
    }
}

/// Resolves when the stop flag is set (or the handle is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::TransportError;

    #[test]
    fn a_server_that_cannot_be_reached_is_probed_faster_than_one_that_answers_errors() {
        let cfg = SyncConfig::new("T01");
        let err = |e: TransportError| SyncError::Transport(e);
        let refused = err(TransportError::Unreachable("connection refused".into()));
        assert_eq!(probe_every(&cfg, &refused), Duration::from_millis(250));
        let slow = err(TransportError::Timeout("timed out".into()));
        let busy = err(TransportError::from_answer(429, b""));
        let failing = err(TransportError::from_answer(503, b""));
        for e in [slow, busy, failing] {
            assert!(e.is_offline(), "{e}");
            assert_eq!(probe_every(&cfg, &e), Duration::from_secs(1), "{e}");
        }
    }
}
