//! Outbox reading and acknowledgement, for the sync engine.

use rusqlite::params;

use crate::error::Result;
use crate::ops::from_ms;
use crate::types::OutboxEvent;
use crate::Store;

impl Store {
    /// Up to `limit` events with `seq > after`, in `seq` order (acked ones included, so a
    /// sync engine can re-read from any point).
    pub fn outbox_after(&self, after: i64, limit: u32) -> Result<Vec<OutboxEvent>> {
        let mut st = self.conn.prepare_cached(
            "SELECT seq, op_id, kind, payload, created_at, acked FROM outbox
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = st.query_map(params![after, limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, bool>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, op_id, kind, payload, created, acked) = row?;
            out.push(OutboxEvent {
                seq,
                op_id,
                kind,
                payload: serde_json::from_str(&payload)?,
                created_at: from_ms(created)?,
                acked,
            });
        }
        Ok(out)
    }

    /// Marks every event with `seq <= upto_seq` as delivered. Returns how many were newly
    /// acknowledged. Events are never deleted (this keeps `seq` gap-free).
    pub fn outbox_ack(&mut self, upto_seq: i64) -> Result<usize> {
        Ok(self
            .conn
            .prepare_cached("UPDATE outbox SET acked = 1 WHERE seq <= ?1 AND acked = 0")?
            .execute([upto_seq])?)
    }

    /// Number of events not yet acknowledged.
    pub fn outbox_pending_count(&self) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM outbox WHERE acked = 0")?
            .query_row([], |r| r.get(0))?)
    }

    /// What the sync still has to send: unacknowledged events plus side records (sales
    /// without a card, NPS answers) not sent yet — the status bar's "pending".
    pub fn sync_pending_count(&self) -> Result<i64> {
        Ok(self.outbox_pending_count()? + self.side_pending()?)
    }

    /// The last `seq` written (0 when empty).
    pub fn outbox_last_seq(&self) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM outbox")?
            .query_row([], |r| r.get(0))?)
    }
}
