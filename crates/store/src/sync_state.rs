//! The sync engine's small persistent state (`sync_state` key/value table) and the till's
//! clock corrected by the last known server offset.
//!
//! Time: every caller (the app, the sync task) passes `store.clock_now(Utc::now())` as the
//! `now` of an operation, so facts are recorded in (approximately) server time and a till
//! whose clock runs ahead or behind does not make points mature or expire at the wrong time.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;
use crate::ops::{from_ms, ms};
use crate::Store;

/// Server time − local time, milliseconds.
pub(crate) const OFFSET: &str = "server_offset_ms";
/// The `next` gseq of the last applied changes page.
pub(crate) const CURSOR: &str = "cursor";
/// Server time of the last applied changes page (ms).
pub(crate) const LAST_SYNC: &str = "last_sync_at";
/// The server's `included_upto_seq` of the last applied changes page.
pub(crate) const INCLUDED: &str = "included_upto_seq";

pub(crate) fn get(conn: &Connection, key: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT value FROM sync_state WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

pub(crate) fn set(conn: &Connection, key: &str, value: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// `server_time − local_now` in milliseconds (saturating).
pub(crate) fn offset_ms(server_time: DateTime<Utc>, local_now: DateTime<Utc>) -> i64 {
    ms(server_time).saturating_sub(ms(local_now))
}

/// `local_now + offset`, clamped to chrono's range.
pub(crate) fn corrected(local_now: DateTime<Utc>, offset_ms: i64) -> DateTime<Utc> {
    local_now
        .checked_add_signed(Duration::milliseconds(offset_ms))
        .unwrap_or(if offset_ms < 0 {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        })
}

impl Store {
    /// Records the server clock offset (`server_time − local_now`, ms) in `sync_state`:
    /// from now on [`Store::clock_now`] applies it. `local_now` is the till's raw clock when
    /// `server_time` was received. Returns the offset.
    pub fn set_server_time(
        &mut self,
        server_time: DateTime<Utc>,
        local_now: DateTime<Utc>,
    ) -> Result<i64> {
        let offset = offset_ms(server_time, local_now);
        set(&self.conn, OFFSET, offset)?;
        self.clock_offset_ms = offset;
        Ok(offset)
    }

    /// The till's clock corrected by the last known server offset: pass
    /// `store.clock_now(Utc::now())` as the `now` of every operation.
    pub fn clock_now(&self, local_now: DateTime<Utc>) -> DateTime<Utc> {
        corrected(local_now, self.clock_offset_ms)
    }

    /// The last recorded server clock offset in ms (0 before the first contact).
    pub fn server_offset_ms(&self) -> i64 {
        self.clock_offset_ms
    }

    /// The gseq cursor to pull changes from (`next` of the last applied page; 0 at first).
    pub fn sync_cursor(&self) -> Result<i64> {
        Ok(get(&self.conn, CURSOR)?.unwrap_or(0))
    }

    /// Server time of the last applied changes page, if any.
    pub fn last_sync_at(&self) -> Result<Option<DateTime<Utc>>> {
        get(&self.conn, LAST_SYNC)?.map(from_ms).transpose()
    }

    /// The server's `included_upto_seq` of the last applied changes page (0 at first).
    pub fn included_upto_seq(&self) -> Result<i64> {
        Ok(get(&self.conn, INCLUDED)?.unwrap_or(0))
    }
}
