//! The till store: rusqlite, WAL, append-only ledger with lots, outbox.
//!
//! [`Store`] is the till's local points ledger. Every mutating operation:
//! * runs in ONE `BEGIN IMMEDIATE` transaction, committed durably (`synchronous=FULL`);
//! * is idempotent on its `op_id` (UUIDv7): a replay returns the original result and changes
//!   nothing, the same op id with a different request is [`StoreError::OpConflict`];
//! * appends exactly one outbox event (gap-free `seq`) whose payload is the
//!   `loyalty_domain::Fact` it is, for sync — every operation that is a fact appends one;
//!   the local expiry sweep is not a fact and appends none;
//! * changes nothing when it fails.
//!
//! Balances live in lots (`remaining`); the per-account invariant is
//! `Σ ledger.points = Σ lots.remaining − shortfall`. The schema is documented at the top of
//! `migrations/till/0001_init.sql`.
//!
//! Module per concept: [`db`] (open/migrate), `customers` (enrol), `lookup`, `checkout`,
//! `returns`, `adjust`, `cards`, `expiry`, `history`, `outbox`, `program`, [`error`];
//! for sync: `facts` (outbox → [`loyalty_wire::EventEnvelope`]), `sync_state` (server clock
//! offset, cursor), `rebase` ([`Store::apply_changes`]).
//!
//! Time: callers pass `store.clock_now(Utc::now())` (the till clock corrected by the last
//! known server offset, [`Store::set_server_time`]) as every operation's `now`.

pub mod cache;
pub mod db;
pub mod error;
pub mod types;

mod adjust;
mod audit;
mod books;
mod bulk;
mod bulk_rows;
mod cards;
mod categories;
mod checkout;
mod customers;
mod expiry;
mod facts;
mod history;
mod known_account;
mod ledger;
mod lookup;
mod merges;
mod ops;
mod outbox;
mod program;
mod rebase;
mod returns;
mod side;
mod staff;
mod sync_state;
mod sync_upsert;

use std::path::Path;

use loyalty_cards::{QrSigner, QrVerifier};
use rusqlite::Connection;

pub use error::{Result, StoreError};
pub use history::{
    AdjustmentRecord, History, LedgerRecord, LotRecord, ReturnRecord, SaleLookup, SaleRecord,
};
/// A category a member buys (the server's summary, merged with this till's newer sales).
pub use loyalty_wire::CategoryStat;
pub use rebase::{SyncBatch, SyncReport, PULL_CHECKPOINT_PAGES};
pub use side::{AnonymousSaleRecord, NpsRecord};
pub use staff::{LoginGuard, Role, StaffMember};
pub use types::*;

/// Identity and secrets of this till.
#[derive(Clone)]
pub struct StoreOptions {
    /// Till id, e.g. "T01". Its digits (mod 10 000) make the card prefix `2TTTT`, so tills
    /// of a chain never issue the same card number; a till id without digits is hashed.
    pub till_id: String,
    /// Store (shop) id this till belongs to.
    pub store_id: String,
    /// Region for phone normalisation ("RU", "BG", ...).
    pub default_region: String,
    /// Seed of the program's QR signing key (virtual cards are verified with its public key).
    pub qr_seed: [u8; 32],
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreOptions")
            .field("till_id", &self.till_id)
            .field("store_id", &self.store_id)
            .field("default_region", &self.default_region)
            .finish_non_exhaustive()
    }
}

/// The till's store. Not `Sync`: one per till process (SQLite's file lock guards the rest).
pub struct Store {
    conn: Connection,
    opts: StoreOptions,
    verifier: QrVerifier,
    programs: program::Programs,
    card_prefix: String,
    /// Server time − local time (ms), cached from `sync_state`.
    clock_offset_ms: i64,
    /// A first start's snapshot is being applied with the larger page cache
    /// ([`Store::apply_snapshot_page`]).
    snapshot_cache: bool,
    /// A first start's snapshot is being written into a store that had no customer
    /// (`bulk.rs`): a new account cannot collide with anything stored before it.
    bulk: bool,
    /// Pulls wrote into the WAL with the auto-checkpoint raised
    /// ([`rebase::PULL_CHECKPOINT_PAGES`]); the value to restore once the sync engine is
    /// idle and copies the WAL ([`Store::checkpoint_after_pulls`]).
    pull_checkpoint: Option<i64>,
}

impl Store {
    /// Opens (or creates) the store at `path`: WAL, `synchronous=FULL`, `foreign_keys=ON`,
    /// busy timeout, 16 MiB page cache; applies the embedded migrations in order (refusing a
    /// database whose applied migration text changed); inserts the default program on first
    /// open.
    pub fn open(path: impl AsRef<Path>, opts: StoreOptions) -> Result<Store> {
        if opts.till_id.trim().is_empty() {
            return Err(StoreError::InvalidInput("till_id must not be empty".into()));
        }
        let mut conn = db::open_connection(path.as_ref())?;
        let programs = program::Programs::load(&mut conn)?;
        let verifier = QrSigner::from_seed(&opts.qr_seed).verifier();
        let card_prefix = card_prefix(&opts.till_id);
        let clock_offset_ms = sync_state::get(&conn, sync_state::OFFSET)?.unwrap_or(0);
        Ok(Store {
            conn,
            opts,
            verifier,
            programs,
            card_prefix,
            clock_offset_ms,
            snapshot_cache: false,
            bulk: false,
            pull_checkpoint: None,
        })
    }

    /// The options this store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.opts
    }

    /// Read-only access to the connection (diagnostics, invariant checks in tests).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// `2` + the till number on 4 digits (GS1 in-store range 20–29): 7 digits of serial remain.
fn card_prefix(till_id: &str) -> String {
    let digits: String = till_id.chars().filter(char::is_ascii_digit).collect();
    let n = if digits.is_empty() {
        // FNV-1a: stable across builds and platforms.
        till_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        }) % 10_000
    } else {
        let tail = &digits[digits.len().saturating_sub(4)..];
        tail.parse::<u64>().unwrap_or(0)
    };
    format!("2{n:04}")
}

/// A store of till "T01" in `dir`, for the unit tests of the modules.
#[cfg(test)]
pub(crate) fn test_store(dir: &tempfile::TempDir) -> Store {
    Store::open(
        dir.path().join("t.db"),
        StoreOptions {
            till_id: "T01".into(),
            store_id: "S1".into(),
            default_region: "RU".into(),
            qr_seed: [7; 32],
        },
    )
    .unwrap()
}

#[cfg(test)]
mod tests {
    #[test]
    fn card_prefix_from_till_digits() {
        assert_eq!(super::card_prefix("T01"), "20001");
        assert_eq!(super::card_prefix("till-123456"), "23456");
        assert_eq!(super::card_prefix("abc").len(), 5);
    }
}
