//! The outbox as facts: [`loyalty_wire::EventEnvelope`]s for upload, and this till's own
//! facts the server has not included yet (for the rebase).
//!
//! Every operation that is a fact appends one outbox row whose `payload` is the JSON of its
//! [`Fact`] and whose `created_at` is the operation's `now` (the till's corrected clock, the
//! envelope's `recorded_at`).

use chrono::{DateTime, Utc};
use loyalty_domain::Fact;
use loyalty_wire::EventEnvelope;
use rusqlite::{params, Connection};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::ops::from_ms;
use crate::Store;

/// One outbox row decoded.
pub(crate) struct OwnFact {
    pub seq: i64,
    pub op_id: String,
    pub recorded_at: DateTime<Utc>,
    pub fact: Fact,
}

fn decode(seq: i64, payload: &str) -> Result<Fact> {
    serde_json::from_str(payload).map_err(|e| {
        StoreError::Corrupt(format!(
            "outbox event {seq} is not a fact (written before migration 0002?): {e}"
        ))
    })
}

/// Outbox rows with `seq > after` (acked or not), in `seq` order, at most `limit`.
pub(crate) fn facts_after(conn: &Connection, after: i64, limit: u32) -> Result<Vec<OwnFact>> {
    let mut st = conn.prepare_cached(
        "SELECT seq, op_id, payload, created_at FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = st.query_map(params![after, limit], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, op_id, payload, created) = row?;
        out.push(OwnFact {
            seq,
            op_id,
            recorded_at: from_ms(created)?,
            fact: decode(seq, &payload)?,
        });
    }
    Ok(out)
}

impl Store {
    /// Up to `limit` unacknowledged outbox events in `seq` order, as the envelopes the sync
    /// task uploads (`POST /api/v1/events`). Errors with `DB_CORRUPT` on an event that is
    /// not a fact (written by a build before migration 0002).
    pub fn pending_events(&self, limit: u32) -> Result<Vec<EventEnvelope>> {
        let mut st = self.conn.prepare_cached(
            "SELECT seq, op_id, payload, created_at FROM outbox
             WHERE acked = 0 ORDER BY seq LIMIT ?1",
        )?;
        let rows = st.query_map([limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, op, payload, created) = row?;
            let op_id = Uuid::parse_str(&op)
                .map_err(|_| StoreError::Corrupt(format!("outbox event {seq}: op id {op}")))?;
            out.push(EventEnvelope {
                seq,
                op_id,
                recorded_at: from_ms(created)?,
                fact: decode(seq, &payload)?,
            });
        }
        Ok(out)
    }

    /// Marks every outbox event with `seq <= upto_seq` as delivered (the server's
    /// `applied_upto`); returns how many were newly acknowledged. Same as
    /// [`Store::outbox_ack`].
    pub fn ack_upto(&mut self, upto_seq: i64) -> Result<usize> {
        self.outbox_ack(upto_seq)
    }
}
