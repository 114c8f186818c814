//! Side records (migration 0005): sales to customers without a loyalty card and NPS
//! answers. They move no points, so they are not facts of an account and not in the
//! outbox; the sync engine sends the unsent ones to the server (which is idempotent on
//! their ids) and marks them sent. Both are idempotent here too: the same id again returns
//! what was recorded; the same id with other content is `OP_CONFLICT`.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use crate::error::{Result, StoreError};
use crate::ops::{from_ms, ms, next_counter};
use crate::Store;

/// A sale without a card, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnonymousSaleRecord {
    pub op_id: String,
    pub receipt_no: String,
    pub amount: i64,
    pub recorded_at: DateTime<Utc>,
}

/// An NPS answer, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpsRecord {
    pub id: String,
    pub sale_op_id: Option<String>,
    pub score: u8,
    pub recorded_at: DateTime<Utc>,
}

fn conflict(op_id: &str, kind: &str) -> StoreError {
    StoreError::OpConflict {
        op_id: op_id.to_string(),
        kind: kind.to_string(),
    }
}

impl Store {
    /// Records a sale without a card of `amount` (minor units, ≥ 0) under `op_id`; its
    /// receipt number comes from the same sequence as card sales.
    pub fn record_anonymous_sale(
        &mut self,
        op_id: &str,
        amount: i64,
        now: DateTime<Utc>,
    ) -> Result<AnonymousSaleRecord> {
        if amount < 0 {
            return Err(StoreError::InvalidInput(format!(
                "the amount of a sale must not be negative, got {amount}"
            )));
        }
        let till = self.opts.till_id.clone();
        let tx = self.conn.transaction()?;
        if let Some(r) = anonymous_sale(&tx, op_id)? {
            return if r.amount == amount {
                Ok(r)
            } else {
                Err(conflict(op_id, "anonymous_sale"))
            };
        }
        let receipt_no = format!("{till}-{:06}", next_counter(&tx, "receipt_seq")?);
        tx.execute(
            "INSERT INTO anonymous_sales (op_id, receipt_no, amount, recorded_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![op_id, receipt_no, amount, ms(now)],
        )?;
        tx.commit()?;
        Ok(AnonymousSaleRecord {
            op_id: op_id.to_string(),
            receipt_no,
            amount,
            recorded_at: from_ms(ms(now))?,
        })
    }

    /// Records a 0–10 NPS answer under `id`.
    pub fn record_nps(
        &mut self,
        id: &str,
        sale_op_id: Option<&str>,
        score: u8,
        now: DateTime<Utc>,
    ) -> Result<NpsRecord> {
        if score > 10 {
            return Err(StoreError::InvalidInput(format!(
                "an NPS score is 0 to 10, got {score}"
            )));
        }
        let tx = self.conn.transaction()?;
        let old = tx
            .prepare_cached("SELECT sale_op_id, score, recorded_at FROM nps_answers WHERE id = ?1")?
            .query_row([id], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .optional()?;
        if let Some((sale, s, at)) = old {
            return if sale.as_deref() == sale_op_id && s == i64::from(score) {
                Ok(NpsRecord {
                    id: id.to_string(),
                    sale_op_id: sale,
                    score,
                    recorded_at: from_ms(at)?,
                })
            } else {
                Err(conflict(id, "nps"))
            };
        }
        tx.execute(
            "INSERT INTO nps_answers (id, sale_op_id, score, recorded_at) VALUES (?1, ?2, ?3, ?4)",
            params![id, sale_op_id, score, ms(now)],
        )?;
        tx.commit()?;
        Ok(NpsRecord {
            id: id.to_string(),
            sale_op_id: sale_op_id.map(String::from),
            score,
            recorded_at: from_ms(ms(now))?,
        })
    }

    /// Up to `limit` sales without a card not sent yet, oldest first.
    pub fn unsent_anonymous_sales(&self, limit: u32) -> Result<Vec<AnonymousSaleRecord>> {
        let mut st = self.conn.prepare_cached(
            "SELECT op_id, receipt_no, amount, recorded_at FROM anonymous_sales
             WHERE sent_at IS NULL ORDER BY recorded_at, op_id LIMIT ?1",
        )?;
        let rows = st.query_map([limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (op_id, receipt_no, amount, at) = row?;
            out.push(AnonymousSaleRecord {
                op_id,
                receipt_no,
                amount,
                recorded_at: from_ms(at)?,
            });
        }
        Ok(out)
    }

    /// Up to `limit` NPS answers not sent yet, oldest first.
    pub fn unsent_nps(&self, limit: u32) -> Result<Vec<NpsRecord>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, sale_op_id, score, recorded_at FROM nps_answers
             WHERE sent_at IS NULL ORDER BY recorded_at, id LIMIT ?1",
        )?;
        let rows = st.query_map([limit], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, sale_op_id, score, at) = row?;
            out.push(NpsRecord {
                id,
                sale_op_id,
                score: u8::try_from(score).unwrap_or(0),
                recorded_at: from_ms(at)?,
            });
        }
        Ok(out)
    }

    /// Marks sales without a card as sent (the server acknowledged them).
    pub fn mark_anonymous_sales_sent(
        &mut self,
        op_ids: &[String],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        for id in op_ids {
            tx.prepare_cached("UPDATE anonymous_sales SET sent_at = ?2 WHERE op_id = ?1")?
                .execute(params![id, ms(now)])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Marks an NPS answer as sent.
    pub fn mark_nps_sent(&mut self, id: &str, now: DateTime<Utc>) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE nps_answers SET sent_at = ?2 WHERE id = ?1")?
            .execute(params![id, ms(now)])?;
        Ok(())
    }

    /// Side records waiting to be sent (sales without a card + NPS answers).
    pub fn side_pending(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT (SELECT COUNT(*) FROM anonymous_sales WHERE sent_at IS NULL)
                  + (SELECT COUNT(*) FROM nps_answers WHERE sent_at IS NULL)",
            [],
            |r| r.get(0),
        )?)
    }
}

fn anonymous_sale(c: &rusqlite::Connection, op_id: &str) -> Result<Option<AnonymousSaleRecord>> {
    let row = c
        .prepare_cached(
            "SELECT receipt_no, amount, recorded_at FROM anonymous_sales WHERE op_id = ?1",
        )?
        .query_row([op_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .optional()?;
    row.map(|(receipt_no, amount, at)| {
        Ok(AnonymousSaleRecord {
            op_id: op_id.to_string(),
            receipt_no,
            amount,
            recorded_at: from_ms(at)?,
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use crate::Store;
    use chrono::{Duration, TimeZone, Utc};

    fn store(dir: &tempfile::TempDir) -> Store {
        crate::test_store(dir)
    }

    #[test]
    fn a_sale_without_a_card_is_kept_once_and_sent_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(&dir);
        let t = Utc.with_ymd_and_hms(2026, 5, 1, 10, 0, 0).unwrap();
        let a = s.record_anonymous_sale("op-1", 12_50, t).unwrap();
        assert_eq!(a.receipt_no, "T01-000001");
        // A retried confirm: the same sale, the same receipt.
        let again = s
            .record_anonymous_sale("op-1", 12_50, t + Duration::seconds(5))
            .unwrap();
        assert_eq!(again, a);
        assert_eq!(
            s.record_anonymous_sale("op-1", 99, t).unwrap_err().code(),
            "OP_CONFLICT"
        );
        assert_eq!(
            s.record_anonymous_sale("op-2", -1, t).unwrap_err().code(),
            "INVALID_INPUT"
        );
        let b = s
            .record_anonymous_sale("op-2", 0, t + Duration::seconds(1))
            .unwrap();
        assert_eq!(b.receipt_no, "T01-000002");
        assert_eq!(s.side_pending().unwrap(), 2);
        // The status bar's pending count includes them (no outbox events here).
        assert_eq!(s.sync_pending_count().unwrap(), 2);
        let unsent = s.unsent_anonymous_sales(10).unwrap();
        assert_eq!(unsent, vec![a.clone(), b]);
        s.mark_anonymous_sales_sent(std::slice::from_ref(&a.op_id), t)
            .unwrap();
        assert_eq!(s.unsent_anonymous_sales(10).unwrap().len(), 1);
        assert_eq!(s.side_pending().unwrap(), 1);
        // Kept across a restart.
        drop(s);
        let s = store(&dir);
        assert_eq!(s.unsent_anonymous_sales(10).unwrap()[0].op_id, "op-2");
    }

    #[test]
    fn an_nps_answer_is_kept_once_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(&dir);
        let t = Utc.with_ymd_and_hms(2026, 5, 1, 10, 0, 0).unwrap();
        let a = s.record_nps("n-1", Some("op-1"), 9, t).unwrap();
        assert_eq!(s.record_nps("n-1", Some("op-1"), 9, t).unwrap(), a);
        assert_eq!(
            s.record_nps("n-1", Some("op-1"), 3, t).unwrap_err().code(),
            "OP_CONFLICT"
        );
        assert_eq!(
            s.record_nps("n-2", None, 11, t).unwrap_err().code(),
            "INVALID_INPUT"
        );
        s.record_nps("n-2", None, 0, t).unwrap();
        assert_eq!(s.unsent_nps(10).unwrap().len(), 2);
        s.mark_nps_sent("n-1", t).unwrap();
        assert_eq!(s.unsent_nps(10).unwrap()[0].id, "n-2");
        assert_eq!(s.side_pending().unwrap(), 1);
    }
}
