//! Expiry sweep: lots past `expires_at` go to zero with one negative ledger entry each.

use chrono::{DateTime, Utc};
use loyalty_domain::Points;
use rusqlite::params;
use serde_json::json;
use uuid::Uuid;

use crate::error::Result;
use crate::ledger::{post, Posting};
use crate::ops::{self, ms, Done};
use crate::Store;

impl Store {
    /// Sweeps every lot whose `expires_at <= now` and that still has points: its remaining
    /// goes to 0 (kept in `lots.expired`) with a negative `expire` ledger entry. Returns the
    /// points expired. Idempotent on `op_id`; a later sweep finds nothing already swept.
    pub fn expire(&mut self, op_id: Uuid, now: DateTime<Utc>) -> Result<Points> {
        ops::run(&mut self.conn, op_id, "expire", &(), now, |tx, op| {
            let lots: Vec<(i64, i64, i64, String)> = {
                let mut st = tx.prepare_cached(
                    "SELECT l.id, l.account_id, l.remaining, cu.uid FROM lots l
                     JOIN accounts a ON a.id = l.account_id
                     JOIN customers cu ON cu.id = a.customer_id
                     WHERE l.remaining > 0 AND l.expires_at IS NOT NULL AND l.expires_at <= ?1
                     ORDER BY l.account_id, l.id",
                )?;
                let rows = st.query_map([ms(now)], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let p = Posting {
                op,
                kind: "expire",
                sale_id: None,
                reason: "points expired",
                now,
            };
            let mut total: Points = 0;
            let mut facts = Vec::with_capacity(lots.len());
            for (lot, account, remaining, uid) in lots {
                tx.prepare_cached(
                    "UPDATE lots SET expired = expired + remaining, remaining = 0 WHERE id = ?1",
                )?
                .execute(params![lot])?;
                post(tx, account, &p, -remaining, Some(lot))?;
                total += remaining;
                facts.push(json!({"customer_uid": uid, "lot_id": lot, "points": remaining}));
            }
            Ok(Done {
                result: total,
                event: json!({"at": now, "total": total, "lots": facts}),
            })
        })
    }
}
