//! The till's background sync with the central server (see `docs/design/sync.md`).
//!
//! * [`Transport`]: the server's API ([`HttpTransport`]: reqwest + rustls, bearer device
//!   token, connect 2 s / request 10 s; `InProcessTransport` with feature `in-process`:
//!   the real server router without sockets).
//! * [`Syncer::sync_once`]: one cycle — upload the outbox in batches of 200 and ack up to
//!   the server's `applied_upto` (conflicts and shortfalls reported), record the server
//!   clock offset, bootstrap from snapshot pages when the store never synced, pull changes
//!   since the cursor and rebase ([`loyalty_store::Store::apply_changes`]).
//! * [`SyncEngine::spawn`]: the task looping over cycles with [`Backoff`] (full jitter,
//!   250 ms .. 30 s) and a 1 s health probe while offline; [`SyncHandle::nudge`] /
//!   [`SyncHandle::shutdown`]; [`SyncStatus`] on a `tokio::sync::watch` channel.
//!
//! All durable state (outbox, acks, cursor, clock offset) is in the till's SQLite store;
//! the task keeps none, so either side can restart at any moment.

mod backoff;
mod bootstrap;
mod engine;
mod error;
mod http;
#[cfg(feature = "in-process")]
mod in_process;
mod pull;
mod side;
mod status;
mod store_access;
mod syncer;
mod transport;

pub use backoff::Backoff;
pub use engine::{SyncEngine, SyncHandle};
pub use error::{SyncError, TransportError};
pub use http::{reqwest_failure, HttpOptions, HttpTransport};
#[cfg(feature = "in-process")]
pub use in_process::InProcessTransport;
pub use status::{SyncStatus, KEEP_NOTES};
pub use store_access::{StoreAccess, StoreOpener};
pub use syncer::{Clock, CycleReport, SyncConfig, Syncer, PULL_GROUP, SNAPSHOT_GROUP};
pub use transport::Transport;
