//! Rebase on the server: `displayed state = server-confirmed book + this till's own facts
//! the server has not included yet`, materialised as the account's lots.
//!
//! [`Store::apply_changes`] runs in ONE transaction:
//! 1. program versions of the page are stored (the server's content wins);
//! 2. customers, accounts and cards of the page are upserted (enrolled on other tills →
//!    found here by card and phone; blocked on the server → blocked here);
//! 3. for each account of the page: its server [`AccountBook`], then — with
//!    [`AccountBook::apply`] / [`AccountBook::credit_referral`] — every fact of this till's
//!    outbox with `seq > included_upto_seq` that touches the account (its own facts, and a
//!    referee's sale crediting it as referrer), in `seq` order at their `recorded_at`;
//!    own facts the book rejects are skipped and reported (the server will reject them too);
//! 4. the result replaces the account's lots (matched by `book_lot_id`: updated in place,
//!    new ones inserted in book order, lots the book no longer has set to 0 — lot rows stay
//!    because ledger entries reference them), shortfall and counters, and ONE `sync` ledger
//!    entry posts the net difference, so `Σ ledger = Σ remaining − shortfall` still holds
//!    (`books::materialise`); an account none of this till's facts touch (and no merge
//!    names) keeps the server's book as it came instead, its lots written on first use
//!    (`books::defer`, migration 0010);
//! 5. the cursor (`next`), `included_upto_seq`, the server clock offset and the sync time
//!    are stored.
//!
//! Merged duplicate customers (`AccountState::merged_into`) are handled by `merges.rs`:
//! marked before step 3, pending facts on a duplicate rebased onto its survivor, its cards
//! and sales moved after it; the rebase's entries of both accounts are `merge` entries.
//!
//! Applying the same page twice gives the same state (the second time posts nothing).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use loyalty_domain::{AccountBook, ApplyCtx, Fact, Points, ProgramConfig};
use loyalty_wire::{AccountState, ChangesResponse};
use rusqlite::TransactionBehavior;

use crate::books::{defer, materialise, MERGE_POSTING, SYNC_POSTING};
use crate::error::{Result, StoreError};
use crate::facts::{facts_after, OwnFact};
use crate::ops::ms;
use crate::sync_state::{self, offset_ms};
use crate::sync_upsert::{insert_new_account, link_referrers, upsert_account, upsert_program};
use crate::Store;

/// WAL pages (4 KiB) a bootstrap lets accumulate before it copies them into the database:
/// the indexes' pages, rewritten by page after page, are copied once per 200 MiB instead of
/// once per snapshot page.
pub const SNAPSHOT_CHECKPOINT_PAGES: i64 = 50_000;

/// WAL pages (4 KiB) pulls let accumulate before a commit copies them into the database.
/// A till catching up rewrites the same account pages group after group; copied every
/// 1 000 pages (SQLite's default) each group's pages were copied again, the database file
/// synced each time. Raised by a pull of more than one page, it stays raised — for sales
/// too, so none pays for copying what the pulls wrote — until a sync cycle pulls less than
/// a page (the catch-up is over) and copies the WAL ([`Store::checkpoint_after_pulls`]).
/// Measured in the convergence run (three alternated pairs): converge 11.5 → 10.3 s
/// (means), the tills' CPU 10.2 → 9.4 s; copying after each pull's last page instead
/// gained nothing.
pub const PULL_CHECKPOINT_PAGES: i64 = 20_000;

/// Page cache (KiB) while a first start's snapshot is applied: the pages a transaction of
/// 50 000 members dirties (≈ 40 MB) fit, and with the phone and name indexes built after
/// the last page (`bulk.rs`) nothing else needs to stay. Measured at a million members:
/// 16 MiB 25.8 s, 64 MiB 20.8 – 24.3 s, 128 MiB 28.0 s, 1 GiB 28.4 s (a larger cache costs
/// the allocation of its pages). Back to the usual 16 MiB after the last page
/// ([`Store::end_snapshot`]).
pub const SNAPSHOT_CACHE_KIB: i64 = 64 * 1024;

/// One page of server state to apply: a `changes` answer, or a snapshot page.
#[derive(Debug, Clone, Copy)]
pub struct SyncBatch<'a> {
    pub accounts: &'a [AccountState],
    pub programs: &'a [ProgramConfig],
    /// The gseq cursor to store (`changes.next`; for snapshot pages the first page's
    /// `cursor`, given with the last page); `None` leaves the stored one.
    pub cursor: Option<i64>,
    /// The highest `seq` of this till the server's states include.
    pub included_upto_seq: i64,
    pub server_time: DateTime<Utc>,
}

/// What [`Store::apply_changes`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Accounts rebased.
    pub accounts: usize,
    pub customers_added: usize,
    pub cards_added: usize,
    /// Cards active here that the server reports blocked.
    pub cards_blocked: usize,
    /// Own pending facts applied on top of server books (a referee's sale counts once per
    /// book it touches).
    pub pending_applied: usize,
    /// Own pending facts a server book rejected: `(seq, BookError code)`.
    pub pending_rejected: Vec<(i64, String)>,
    /// Customer uids stored without their phone: another local customer has it.
    pub phone_conflicts: Vec<String>,
    /// Σ of the `sync` ledger entries posted (net points change of the rebase).
    pub points_delta: Points,
}

impl Store {
    /// Applies a `GET /api/v1/changes` answer: see the module doc. `local_now` is the till's
    /// raw clock when the answer arrived (the server clock offset is recorded from it).
    ///
    /// Committed without waiting for the disk (`synchronous=NORMAL` for this commit only):
    /// a page holds nothing but server state and the cursor that goes with it, so a power
    /// cut that loses it loses nothing the next pull does not bring back, and under WAL the
    /// next durable commit (any till operation) makes it durable with itself. Ten tills
    /// catching up after an outage pull hundreds of pages each: one disk flush per page was
    /// most of their time. The WAL is copied into the database only past
    /// [`PULL_CHECKPOINT_PAGES`] until [`Store::checkpoint_after_pulls`].
    pub fn apply_changes(
        &mut self,
        changes: &ChangesResponse,
        local_now: DateTime<Utc>,
    ) -> Result<SyncReport> {
        self.apply_changes_pages(&[(changes, local_now)])
    }

    /// [`Store::apply_changes`] for several answers in a row (each with the till's raw
    /// clock when it arrived), in ONE transaction: a till catching up after an outage
    /// writes the pages its accounts share (indexes, the sync state) once per group instead
    /// of once per page. An answer that brings program versions must be the last of
    /// `pages` ([`Store::apply_batches`]).
    pub fn apply_changes_pages(
        &mut self,
        pages: &[(&ChangesResponse, DateTime<Utc>)],
    ) -> Result<SyncReport> {
        // A pull of more than one page is a catch-up; a single page leaves it as it is.
        let catch_up = pages.len() > 1 || pages.iter().any(|(c, _)| c.has_more);
        if catch_up && self.pull_checkpoint.is_none() {
            self.pull_checkpoint = Some(raise_checkpoint(&self.conn, PULL_CHECKPOINT_PAGES)?);
        }
        self.conn.execute_batch("PRAGMA synchronous=NORMAL")?;
        let batches: Vec<(SyncBatch<'_>, DateTime<Utc>)> = pages
            .iter()
            .map(|(changes, local_now)| {
                let batch = SyncBatch {
                    accounts: &changes.accounts,
                    programs: &changes.programs,
                    cursor: Some(changes.next),
                    included_upto_seq: changes.included_upto_seq,
                    server_time: changes.server_time,
                };
                (batch, *local_now)
            })
            .collect();
        let applied = self.apply_batches(&batches);
        let restored = self.conn.execute_batch("PRAGMA synchronous=FULL");
        let report = applied?;
        restored?;
        Ok(report)
    }

    /// Copies what pulls left in the WAL into the database and puts the auto-checkpoint
    /// back ([`PULL_CHECKPOINT_PAGES`]); nothing to do when no pull wrote since the last
    /// call. The sync engine calls it after a cycle that pulled less than a page.
    pub fn checkpoint_after_pulls(&mut self) -> Result<()> {
        let Some(usual) = self.pull_checkpoint else {
            return Ok(());
        };
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        self.conn
            .execute_batch(&format!("PRAGMA wal_autocheckpoint={usual}"))?;
        self.pull_checkpoint = None;
        Ok(())
    }

    /// [`Store::apply_batch`] for a page of a first start's snapshot, with a larger page
    /// cache until the last page ([`SNAPSHOT_CACHE_KIB`]): the same transaction, committed
    /// without waiting for the disk (`synchronous=NORMAL` for this commit only;
    /// under WAL a power cut may lose the last commits, never corrupt the file) and without
    /// copying the WAL into the database after every page (auto-checkpoint only past
    /// [`SNAPSHOT_CHECKPOINT_PAGES`]; the last page, the one carrying the cursor,
    /// checkpoints). A lost page costs nothing but a download: pages apply idempotently,
    /// and a store that did not finish its bootstrap pulls every change since its stored
    /// cursor next time.
    pub fn apply_snapshot_page(
        &mut self,
        batch: &SyncBatch<'_>,
        local_now: DateTime<Utc>,
    ) -> Result<SyncReport> {
        if !self.snapshot_cache {
            self.conn
                .execute_batch(&format!("PRAGMA cache_size=-{SNAPSHOT_CACHE_KIB}"))?;
            self.snapshot_cache = true;
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            self.bulk = crate::bulk::begin(&tx)?;
            tx.commit()?;
        }
        let usual = raise_checkpoint(&self.conn, SNAPSHOT_CHECKPOINT_PAGES)?;
        self.conn.execute_batch("PRAGMA synchronous=NORMAL")?;
        let applied = self.apply_batch(batch, local_now);
        let restored = self.conn.execute_batch(&format!(
            "PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint={usual}"
        ));
        let mut report = applied?;
        restored?;
        if batch.cursor.is_some() {
            report.phone_conflicts.extend(self.close_snapshot()?);
            self.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(report)
    }

    /// Back to the usual page cache after snapshot pages, the customers' phone and name
    /// indexes built if the first page dropped them (`bulk.rs`; the last page does it; the
    /// sync engine calls it when a bootstrap stops half-way: the till serves with what it
    /// has, and the next cycle pulls every change since cursor 0 on a store that is no
    /// longer empty).
    pub fn end_snapshot(&mut self) -> Result<()> {
        self.close_snapshot().map(drop)
    }

    /// [`Store::end_snapshot`], returning the customers whose phone the index build cleared
    /// (`bulk::finish`).
    fn close_snapshot(&mut self) -> Result<Vec<String>> {
        let cleared = crate::bulk::restore(&mut self.conn)?;
        self.bulk = false;
        if self.snapshot_cache {
            self.conn
                .execute_batch(&format!("PRAGMA cache_size=-{}", crate::db::CACHE_SIZE_KIB))?;
            self.snapshot_cache = false;
        }
        Ok(cleared)
    }

    /// Applies one page of server state (a changes answer or a snapshot page) in one
    /// transaction; see the module doc.
    pub fn apply_batch(
        &mut self,
        batch: &SyncBatch<'_>,
        local_now: DateTime<Utc>,
    ) -> Result<SyncReport> {
        self.apply_batches(&[(*batch, local_now)])
    }

    /// Applies `batches` (each with the till's raw clock when it arrived) in order, in ONE
    /// transaction: the same rows as one transaction per batch, committed once. A batch
    /// after one that brought program versions would be applied with the programs loaded
    /// before them: the caller ends a group at such a batch (`Syncer::pull`).
    pub fn apply_batches(
        &mut self,
        batches: &[(SyncBatch<'_>, DateTime<Utc>)],
    ) -> Result<SyncReport> {
        if batches.is_empty() {
            return Ok(SyncReport::default());
        }
        let mut report = SyncReport::default();
        let bulk = self.bulk;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut offset = self.clock_offset_ms;
        for (batch, local_now) in batches {
            let window = self.programs.at(batch.server_time).tiers.window;
            offset = apply_in(&tx, batch, *local_now, &window, bulk, &mut report)?;
        }
        tx.commit()?;
        self.clock_offset_ms = offset;
        if batches.iter().any(|(b, _)| !b.programs.is_empty()) {
            self.programs = crate::program::Programs::load(&mut self.conn)?;
        }
        report.pending_rejected.sort();
        report.pending_rejected.dedup();
        Ok(report)
    }
}

/// Sets the WAL auto-checkpoint to `pages`; returns what it was.
fn raise_checkpoint(conn: &rusqlite::Connection, pages: i64) -> Result<i64> {
    let usual: i64 = conn.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))?;
    conn.execute_batch(&format!("PRAGMA wal_autocheckpoint={pages}"))?;
    Ok(usual)
}

/// One batch of [`Store::apply_batches`] in its transaction `tx`; adds to `report`.
/// Returns the server clock offset it recorded.
fn apply_in(
    tx: &rusqlite::Transaction<'_>,
    batch: &SyncBatch<'_>,
    local_now: DateTime<Utc>,
    window: &loyalty_domain::TierWindow,
    bulk: bool,
    report: &mut SyncReport,
) -> Result<i64> {
    let now = batch.server_time;
    let offset = offset_ms(batch.server_time, local_now);
    for p in batch.programs {
        upsert_program(tx, p, now)?;
    }
    for s in batch.accounts {
        check_book(s)?;
    }
    crate::merges::mark(tx, batch.accounts)?;
    let pending = facts_after(tx, batch.included_upto_seq, u32::MAX)?;
    let pending = crate::merges::redirect_pending(tx, pending)?;
    let touching = by_account(&pending);
    let op = format!("sync:{}", batch.cursor.unwrap_or(0));
    let merge_targets: std::collections::HashSet<&str> = batch
        .accounts
        .iter()
        .filter_map(|s| s.merged_into.as_deref())
        .collect();
    let mut queued: Vec<&AccountState> = Vec::new();
    for s in batch.accounts {
        let post = if s.merged_into.is_some() || merge_targets.contains(s.account_uid.as_str()) {
            MERGE_POSTING
        } else {
            SYNC_POSTING
        };
        let mine = touching.get(s.account_uid.as_str());
        // Nothing of this till's on it and no merge: the book is stored as it came,
        // its lots written when the account is next used here (`books`).
        let deferrable = mine.is_none() && post == SYNC_POSTING;
        // A first start on an empty store: new accounts many rows per statement.
        if bulk && deferrable && crate::bulk_rows::eligible(s) {
            queued.push(s);
            if queued.len() == crate::bulk_rows::CHUNK {
                flush(tx, &mut queued, batch, &op, report)?;
            }
            continue;
        }
        flush(tx, &mut queued, batch, &op, report)?;
        // An account held here whose customer and cards are as stored: three statements.
        if deferrable && !bulk {
            let upto = batch.included_upto_seq;
            if let Some(delta) = crate::known_account::refresh(tx, s, upto, &op, now)? {
                report.points_delta += delta;
                report.accounts += 1;
                continue;
            }
        }
        // An account new here that none of this till's pending facts touch: the
        // server's book as it is, written with plain inserts.
        let fresh = match mine {
            None => {
                let defer_op = deferrable.then_some(op.as_str());
                let upto = batch.included_upto_seq;
                insert_new_account(tx, s, upto, defer_op, now, report)?
            }
            Some(_) => None,
        };
        let delta = match fresh {
            Some((_, Some(delta))) => delta,
            Some((account, None)) => materialise(tx, account, true, &s.book, (&op, post), now)?,
            None => {
                let (account, created) =
                    upsert_account(tx, s, batch.included_upto_seq, now, report)?;
                if deferrable {
                    defer(tx, account, created, &s.book, &op, now)?
                } else {
                    let book = rebase(&s.book, mine.map_or(&[], Vec::as_slice), report);
                    materialise(tx, account, created, &book, (&op, post), now)?
                }
            }
        };
        report.points_delta += delta;
        report.accounts += 1;
    }
    flush(tx, &mut queued, batch, &op, report)?;
    crate::merges::mark(tx, batch.accounts)?;
    crate::merges::move_rows(tx, batch.accounts)?;
    link_referrers(tx, batch.accounts)?;
    if let Some(c) = batch.cursor {
        sync_state::set(tx, sync_state::CURSOR, c)?;
    }
    sync_state::set(tx, sync_state::INCLUDED, batch.included_upto_seq)?;
    sync_state::set(tx, sync_state::LAST_SYNC, ms(batch.server_time))?;
    sync_state::set(tx, sync_state::OFFSET, offset)?;
    crate::cache::refresh_stale(tx, ms(now), window)?;
    Ok(offset)
}

/// Writes the accounts `queued` for a first start's multi-row inserts (`bulk_rows`).
fn flush(
    tx: &rusqlite::Connection,
    queued: &mut Vec<&AccountState>,
    batch: &SyncBatch<'_>,
    op: &str,
    report: &mut SyncReport,
) -> Result<()> {
    if queued.is_empty() {
        return Ok(());
    }
    let (upto, now) = (batch.included_upto_seq, batch.server_time);
    let points = crate::bulk_rows::write(tx, queued, upto, op, now, report)?;
    report.points_delta += points;
    report.accounts += queued.len();
    queued.clear();
    Ok(())
}

/// A server book must follow its own rules before it replaces local lots.
fn check_book(s: &AccountState) -> Result<()> {
    let b = &s.book;
    let bad = |m: String| {
        Err(StoreError::SyncData(format!(
            "account {}: {m}",
            s.account_uid
        )))
    };
    if b.account_uid != s.account_uid {
        return bad(format!("book of account {}", b.account_uid));
    }
    if b.shortfall < 0 {
        return bad(format!("negative shortfall {}", b.shortfall));
    }
    let mut ids = std::collections::HashSet::new();
    for l in &b.lots {
        if l.original <= 0 || l.remaining < 0 || l.remaining > l.original {
            return bad(format!(
                "lot {}: remaining {} of {}",
                l.id, l.remaining, l.original
            ));
        }
        if !l.id.contains(':') || !ids.insert(l.id.as_str()) {
            return bad(format!("lot id {:?} malformed or repeated", l.id));
        }
    }
    Ok(())
}

/// This till's pending facts by the accounts they touch (their own account, and the
/// referrer a sale credits), each list in `seq` order.
fn by_account(pending: &[OwnFact]) -> HashMap<&str, Vec<&OwnFact>> {
    let mut map: HashMap<&str, Vec<&OwnFact>> = HashMap::new();
    for f in pending {
        let own = f.fact.account_uid();
        map.entry(own).or_default().push(f);
        if let Fact::Sale {
            referrer: Some((r, _)),
            ..
        } = &f.fact
        {
            if r != own {
                map.entry(r.as_str()).or_default().push(f);
            }
        }
    }
    map
}

/// The server's book plus this till's facts not yet included that touch it (`pending`: in
/// `seq` order; facts that do not touch the account are ignored).
pub(crate) fn rebase(
    server: &AccountBook,
    pending: &[&OwnFact],
    report: &mut SyncReport,
) -> AccountBook {
    let mut book = server.clone();
    let uid = server.account_uid.as_str();
    for f in pending {
        let result = if f.fact.account_uid() == uid {
            let ctx = ApplyCtx {
                op_id: &f.op_id,
                event_time: f.recorded_at,
            };
            Some(book.apply(&f.fact, ctx))
        } else {
            match &f.fact {
                Fact::Sale {
                    referrer: Some((r, points)),
                    hold_days,
                    expiry_months,
                    ..
                } if r == uid => Some(book.credit_referral(
                    &f.op_id,
                    *points,
                    f.recorded_at,
                    *hold_days,
                    *expiry_months,
                )),
                _ => None,
            }
        };
        match result {
            Some(Ok(_)) => report.pending_applied += 1,
            Some(Err(e)) => report.pending_rejected.push((f.seq, e.code().to_string())),
            None => {}
        }
    }
    book
}
