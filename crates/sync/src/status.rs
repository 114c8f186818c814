//! What the sync task reports on its `watch` channel.

use chrono::{DateTime, Utc};
use loyalty_wire::{Conflict, ShortfallNote};

/// Most recent conflicts / shortfalls kept in the status.
pub const KEEP_NOTES: usize = 100;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncStatus {
    /// The last call to the server succeeded.
    pub online: bool,
    /// What is still to send: outbox events not yet acknowledged by the server, and side
    /// records (sales without a card, NPS answers) not sent yet.
    pub pending: i64,
    /// Server time of the last applied changes page.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// `(code, message)` of the last failure; `None` after a successful cycle.
    pub last_error: Option<(String, String)>,
    /// Server time − till time, ms (0 before the first contact).
    pub server_offset_ms: i64,
    /// `(accounts done, total)` while bootstrapping from snapshot pages.
    pub bootstrap_progress: Option<(u64, u64)>,
    /// Events the server reported as conflicts (most recent [`KEEP_NOTES`]).
    pub conflicts: Vec<Conflict>,
    /// Offline overdraws the server turned into shortfalls (most recent [`KEEP_NOTES`]).
    pub shortfalls: Vec<ShortfallNote>,
    /// Completed successful cycles since the task started.
    pub cycles: u64,
}

pub(crate) fn keep_last<T>(v: &mut Vec<T>, extra: impl IntoIterator<Item = T>) {
    v.extend(extra);
    if v.len() > KEEP_NOTES {
        let cut = v.len() - KEEP_NOTES;
        v.drain(..cut);
    }
}
