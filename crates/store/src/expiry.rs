//! Expiry sweep: lots past `expires_at` go to zero with one negative ledger entry each.
//!
//! The sweep is local: expiry is not a fact (the server expires lots by its own clock), so
//! it appends no outbox event and the per-till `seq` stays gap-free over facts. Accounts
//! holding a deferred server book (`books`) are left alone: their rows are not their state,
//! and the balance read from the book already leaves out lots past their expiry.

use chrono::{DateTime, Utc};
use loyalty_domain::Points;
use rusqlite::params;
use uuid::Uuid;

use crate::error::Result;
use crate::ledger::{post, Posting};
use crate::ops::{self, ms, Done};
use crate::Store;

impl Store {
    /// Sweeps every lot whose `expires_at <= now` and that still has points: its remaining
    /// goes to 0 (kept in `lots.expired`) with a negative `expire` ledger entry. Returns the
    /// points expired. Idempotent on `op_id`; a later sweep finds nothing already swept.
    /// Not a fact: no outbox event (the server expires lots by its own clock).
    pub fn expire(&mut self, op_id: Uuid, now: DateTime<Utc>) -> Result<Points> {
        ops::run(
            &mut self.conn,
            &self.programs.at(now).tiers.window,
            op_id,
            "expire",
            &(),
            now,
            |tx, op| {
                let lots: Vec<(i64, i64, i64)> = {
                    let mut st = tx.prepare_cached(
                        "SELECT l.id, l.account_id, l.remaining FROM lots l
                     WHERE l.remaining > 0 AND l.expires_at IS NOT NULL AND l.expires_at <= ?1
                       AND NOT EXISTS (SELECT 1 FROM accounts a
                                       WHERE a.id = l.account_id AND a.server_book IS NOT NULL)
                     ORDER BY l.account_id, l.id",
                    )?;
                    let rows =
                        st.query_map([ms(now)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
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
                for (lot, account, remaining) in lots {
                    tx.prepare_cached(
                    "UPDATE lots SET expired = expired + remaining, remaining = 0 WHERE id = ?1",
                )?
                .execute(params![lot])?;
                    post(tx, account, &p, -remaining, Some(lot))?;
                    total += remaining;
                }
                Ok(Done {
                    result: total,
                    event: None,
                })
            },
        )
    }
}
