//! Runs the analytics projection ([`crate::backend::analytics::projection`]) on the
//! SQLite writer: a page per transaction on a thread of its own while the tills' sync
//! pauses (or when more than [`MAX_LAG`] events wait), and to the end, in the caller's
//! transaction, before the owner's tables are read or written ([`catch_up`]).
//!
//! The tills' sync goes first. Uploads: the thread stops between pages as soon as an
//! upload waits for the writer (the writer's mutex is not fair: a thread taking it again
//! at once, page after page, kept uploads waiting for seconds while tills reconnected),
//! and past [`MAX_LAG`] it lets the waiting uploads in before each page. Pulls: a changes
//! page that carried accounts counts as sync activity like an upload ([`Lag::pulled`]),
//! so tills catching up after an outage do not share the CPU with the owner's figures
//! (measured with ten tills back after an outage: the projection's pages, about 1 000
//! events and 50 – 250 ms each, ran between their pulls).

use super::analytics::{exec, query};
use super::apply::load_book;
use super::background::Background;
use super::lock;
use crate::backend::analytics::projection::{self, MAX_LAG, PAGE};
use crate::backend::analytics::record::{summarize, summary_stmt};
use crate::backend::{BackendError, Result};
use rusqlite::{Connection, TransactionBehavior};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the thread looks for waiting events.
const TICK: Duration = Duration::from_millis(100);
/// Uploads and pulls paused this long: the thread projects.
const IDLE: Duration = Duration::from_millis(200);
/// Past [`MAX_LAG`], how long the thread stays off the writer before a page while an
/// upload waits for it (long enough for the waiting thread to take the mutex).
const YIELD: Duration = Duration::from_millis(2);

/// Projects the next page in the caller's transaction; returns how many events.
pub fn project_page(c: &Connection) -> Result<usize> {
    let at = query(c, &projection::position_query())?
        .first()
        .map(|r| r[0].int())
        .ok_or_else(|| BackendError::Corrupt("analytics_state has no projected_gseq".into()))?;
    let rows = query(c, &projection::events_query(at, PAGE))?;
    if rows.is_empty() {
        return Ok(0);
    }
    let page = projection::plan(&rows)?;
    let mut stmts = page.stmts;
    for (uid, at) in &page.accounts {
        if let Some(book) = load_book(c, uid)? {
            stmts.push(summary_stmt(&summarize(&book, *at)));
        }
    }
    stmts.push(projection::advance(page.last_gseq));
    exec(c, &stmts, None)?;
    Ok(rows.len())
}

/// Projects every waiting event in the caller's transaction; returns how many.
pub fn catch_up(c: &Connection) -> Result<u64> {
    let mut n = 0;
    loop {
        let k = project_page(c)?;
        n += k as u64;
        if k < PAGE as usize {
            return Ok(n);
        }
    }
}

/// Events applied and not yet projected, as the writer counts them (changed only with the
/// writer's lock held, so "0" is exact when read under it).
pub struct Lag {
    waiting: AtomicU64,
    /// The last upload applied or changes page served with accounts on it.
    last_sync: Mutex<Instant>,
    /// Uploads queued for the writer and not yet taken by a group commit.
    uploads_queued: AtomicU64,
}

impl Lag {
    /// At start: whatever a previous run left waiting is looked for once.
    pub fn new() -> Lag {
        Lag {
            waiting: AtomicU64::new(1),
            last_sync: Mutex::new(Instant::now()),
            uploads_queued: AtomicU64::new(0),
        }
    }

    /// An upload was queued for the writer.
    pub fn upload_queued(&self) {
        self.uploads_queued.fetch_add(1, Ordering::SeqCst);
    }

    /// A group commit took `n` queued uploads.
    pub fn uploads_taken(&self, n: usize) {
        let _ = self
            .uploads_queued
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |q| {
                Some(q.saturating_sub(n as u64))
            });
    }

    fn uploads_waiting(&self) -> bool {
        self.uploads_queued.load(Ordering::SeqCst) > 0
    }

    /// `n` events of an upload were applied (the writer's lock held).
    pub fn uploaded(&self, n: usize) {
        self.waiting.fetch_add(n as u64, Ordering::SeqCst);
        *lock(&self.last_sync) = Instant::now();
    }

    /// Events were applied outside uploads (a merge).
    pub fn applied(&self, n: usize) {
        self.waiting.fetch_add(n as u64, Ordering::SeqCst);
    }

    /// Everything is projected (the writer's lock held).
    pub fn caught_up(&self) {
        self.waiting.store(0, Ordering::SeqCst);
    }

    pub fn waiting(&self) -> u64 {
        self.waiting.load(Ordering::SeqCst)
    }

    fn projected(&self, n: usize) {
        let _ = self
            .waiting
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |w| {
                Some(w.saturating_sub(n as u64).max(1))
            });
    }

    /// A till pulled a changes page with accounts on it.
    pub fn pulled(&self) {
        *lock(&self.last_sync) = Instant::now();
    }

    fn idle(&self) -> bool {
        self.idle_at(Instant::now())
    }

    fn idle_at(&self, now: Instant) -> bool {
        now.saturating_duration_since(*lock(&self.last_sync)) >= IDLE
    }
}

/// Projects every waiting event in one IMMEDIATE transaction of `c` (the writer).
pub fn catch_up_now(c: &mut Connection, lag: &Lag) -> Result<u64> {
    if lag.waiting() == 0 {
        return Ok(0);
    }
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let n = catch_up(&tx)?;
    tx.commit()?;
    lag.caught_up();
    Ok(n)
}

/// Starts the thread projecting in the background; it stops when the handle is dropped.
pub fn start(conn: Arc<Mutex<Connection>>, lag: Arc<Lag>) -> Result<Background> {
    Background::start("analytics", TICK, move || {
        loop {
            match next(lag.waiting(), lag.idle(), lag.uploads_waiting()) {
                Next::Stop => break,
                Next::Page => {}
                // The writer was released just before: the waiting upload takes it now.
                Next::AfterUploads => std::thread::sleep(YIELD),
            }
            match one_page(&mut lock(&conn), &lag) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    tracing::warn!(
                        code = e.code(),
                        "analytics projection failed (retried; owner reads catch up \
                         themselves): {e}"
                    );
                    break;
                }
            }
        }
    })
}

/// One page in a transaction of its own; `true` if more may wait.
fn one_page(c: &mut Connection, lag: &Lag) -> Result<bool> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let n = project_page(&tx)?;
    tx.commit()?;
    if n < PAGE as usize {
        lag.caught_up();
        return Ok(false);
    }
    lag.projected(n);
    Ok(true)
}

/// What the projecting thread does next.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    Stop,
    Page,
    /// A page, once the uploads waiting for the writer had it.
    AfterUploads,
}

/// `waiting` events unprojected, the sync paused (`idle`), an upload waiting for the
/// writer: the sync goes first unless more than [`MAX_LAG`] events wait, and then they take turns.
fn next(waiting: u64, idle: bool, upload_waiting: bool) -> Next {
    match (waiting, waiting >= MAX_LAG, upload_waiting) {
        (0, _, _) => Next::Stop,
        (_, true, true) => Next::AfterUploads,
        (_, true, false) => Next::Page,
        (_, false, false) if idle => Next::Page,
        _ => Next::Stop,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_go_first_until_too_many_events_wait_then_they_take_turns() {
        assert_eq!(next(0, true, false), Next::Stop, "nothing to do");
        assert_eq!(next(10, true, false), Next::Page, "uploads paused");
        assert_eq!(next(10, false, false), Next::Stop, "uploads keep coming");
        assert_eq!(next(10, true, true), Next::Stop, "an upload waits");
        assert_eq!(next(MAX_LAG, false, false), Next::Page, "too far behind");
        assert_eq!(next(MAX_LAG, true, true), Next::AfterUploads, "in turns");
    }

    #[test]
    fn a_pull_that_brought_accounts_keeps_the_thread_off_like_an_upload() {
        let lag = Lag::new();
        let (start, ms) = (Instant::now(), Duration::from_millis(1));
        assert!(lag.idle_at(start + IDLE), "nothing since the start");
        lag.pulled();
        assert!(!lag.idle_at(start + IDLE - ms), "a pull just now");
        assert!(
            lag.idle_at(Instant::now() + IDLE),
            "idle once it is IDLE old"
        );
        let start = Instant::now();
        lag.uploaded(3);
        assert!(!lag.idle_at(start + IDLE - ms), "an upload just now");
        assert_eq!(lag.waiting(), 4, "the start's 1 and the upload's 3");
    }

    #[test]
    fn queued_uploads_are_counted_until_a_group_takes_them() {
        let lag = Lag::new();
        assert!(!lag.uploads_waiting());
        lag.upload_queued();
        lag.upload_queued();
        assert!(lag.uploads_waiting());
        lag.uploads_taken(1);
        assert!(lag.uploads_waiting());
        lag.uploads_taken(5);
        assert!(!lag.uploads_waiting(), "never below zero");
        lag.upload_queued();
        assert!(lag.uploads_waiting());
    }
}
