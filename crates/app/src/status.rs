//! The background sync and the status bar: [`TillApp::start_sync`] spawns the
//! `loyalty_sync` engine over the HTTP transport; a small task turns its status into
//! [`SyncStatusView`], reading the pending count from the store itself (the truth, also
//! while offline, when the engine runs no cycles).

use loyalty_sync::{StoreAccess, SyncConfig, SyncEngine, SyncStatus};
use tokio::sync::watch;

use crate::dto::SyncStatusView;
use crate::error::{AppError, AppResult};
use crate::settings::Settings;
use crate::{lock, TillApp};

pub(crate) fn initial(s: Option<&Settings>) -> SyncStatusView {
    SyncStatusView {
        online: false,
        pending: 0,
        last_sync_at: None,
        last_error: None,
        bootstrap: None,
        till_id: s.map(|s| s.till_id.clone()).unwrap_or_default(),
        store_name: s.map(|s| s.store_name.clone()).unwrap_or_default(),
        shortfalls: 0,
        conflicts: 0,
    }
}

fn merge(v: &mut SyncStatusView, st: &SyncStatus, pending: Option<i64>) {
    v.online = st.online;
    if let Some(p) = pending {
        v.pending = p;
    }
    if st.last_sync_at.is_some() {
        v.last_sync_at = st.last_sync_at;
    }
    v.last_error = st
        .last_error
        .as_ref()
        .map(|(code, message)| AppError::new(code, message.clone()));
    v.bootstrap = st.bootstrap_progress;
    v.shortfalls = u32::try_from(st.shortfalls.len()).unwrap_or(u32::MAX);
    v.conflicts = u32::try_from(st.conflicts.len()).unwrap_or(u32::MAX);
}

impl TillApp {
    /// Starts the background sync (no-op when already running or not configured). Must be
    /// called inside a tokio runtime.
    pub fn start_sync(&self) -> AppResult<()> {
        let mut running = lock(&self.sync);
        if running.as_ref().is_some_and(|h| !h.is_finished()) {
            return Ok(());
        }
        let (store, till_id, transport) = {
            let opened = lock(&self.opened);
            let o = opened.as_ref().ok_or_else(AppError::not_configured)?;
            (
                o.store.clone(),
                o.settings.till_id.clone(),
                o.transport.clone(),
            )
        };
        let config = SyncConfig::new(&till_id);
        let (handle, mut rx) =
            SyncEngine::spawn(StoreAccess::shared(store.clone()), transport, config);
        let out = self.status.clone();
        tokio::spawn(async move {
            loop {
                let st = rx.borrow_and_update().clone();
                let pending = {
                    let s = store.clone();
                    tokio::task::spawn_blocking(move || lock(&s).sync_pending_count().ok())
                        .await
                        .ok()
                        .flatten()
                };
                out.send_if_modified(|v| {
                    let before = v.clone();
                    merge(v, &st, pending);
                    *v != before
                });
                if rx.changed().await.is_err() {
                    break;
                }
            }
        });
        *running = Some(handle);
        Ok(())
    }

    /// Stops the background sync (waits for it).
    pub async fn stop_sync(&self) {
        let handle = lock(&self.sync).take();
        if let Some(h) = handle {
            h.shutdown().await;
        }
    }

    /// The status bar now.
    pub fn status(&self) -> SyncStatusView {
        self.status.borrow().clone()
    }

    /// Status changes (the shell forwards them as the `sync-status` event).
    pub fn subscribe_status(&self) -> watch::Receiver<SyncStatusView> {
        self.status.subscribe()
    }

    /// After a local operation: the pending count grows at once and the sync is nudged.
    pub(crate) fn after_local_write(&self) -> AppResult<()> {
        let pending = self.with_store(|st, _, _| Ok(st.sync_pending_count()?))?;
        self.status.send_if_modified(|v| {
            let changed = v.pending != pending;
            v.pending = pending;
            changed
        });
        if let Some(h) = lock(&self.sync).as_ref() {
            h.nudge();
        }
        Ok(())
    }

    pub(crate) fn is_online(&self) -> bool {
        self.status.borrow().online
    }
}
