//! Owner adjustments: manual corrections with a reason and an author, audited.

use chrono::{DateTime, Utc};
use loyalty_domain::{expires_at, Fact, Points};
use rusqlite::params;
use serde::Serialize;
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::ledger::{credit, debit_fifo, lots_balance, NewLot, Posting};
use crate::lookup::by_account;
use crate::ops::{self, ms, Done};
use crate::types::Adjusted;
use crate::Store;

#[derive(Serialize)]
struct AdjustRequest<'a> {
    account_id: i64,
    points: Points,
    reason: &'a str,
    author: &'a str,
}

impl Store {
    /// Adjusts an account by `points` (non-zero) with a `reason` and an `author` (both
    /// required), recorded in `adjustments`. A credit settles the shortfall first, the rest
    /// is a lot available at once; a debit takes FIFO from available points and may not
    /// exceed them (`INSUFFICIENT_POINTS`).
    pub fn adjust(
        &mut self,
        op_id: Uuid,
        account_id: i64,
        points: Points,
        reason: &str,
        author: &str,
        now: DateTime<Utc>,
    ) -> Result<Adjusted> {
        let (reason, author) = (reason.trim(), author.trim());
        if points == 0 {
            return Err(StoreError::InvalidInput("adjustment of 0 points".into()));
        }
        if reason.is_empty() || author.is_empty() {
            return Err(StoreError::InvalidInput(
                "an adjustment needs a reason and an author".into(),
            ));
        }
        let req = AdjustRequest {
            account_id,
            points,
            reason,
            author,
        };
        let program = self.programs.at(now);
        ops::run(
            &mut self.conn,
            &self.programs.at(now).tiers.window,
            op_id,
            "adjust",
            &req,
            now,
            |tx, op| {
                let row = by_account(tx, account_id)?;
                let p = Posting {
                    op,
                    kind: "adjust",
                    sale_id: None,
                    reason,
                    now,
                };
                let mut settled = 0;
                if points > 0 {
                    let lot = NewLot {
                        kind: "adjust",
                        earned_at: now,
                        available_at: now,
                        expires_at: program.expiry_months.map(|m| expires_at(now, m)),
                        sale_id: None,
                    };
                    settled = credit(tx, account_id, points, &lot, &p)?.0;
                } else {
                    let available = lots_balance(tx, account_id, now)?.available;
                    let requested = points.checked_neg().unwrap_or(Points::MAX);
                    if requested > available {
                        return Err(StoreError::InsufficientPoints {
                            available,
                            requested,
                        });
                    }
                    debit_fifo(tx, account_id, requested, &p)?;
                }
                tx.prepare_cached(
                "INSERT INTO adjustments (op_id, account_id, points, reason, author, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![op, account_id, points, reason, author, ms(now)])?;
                let adjustment_id = tx.last_insert_rowid();
                Ok(Done {
                    result: Adjusted {
                        adjustment_id,
                        account_id,
                        points,
                        settled_shortfall: settled,
                    },
                    event: Some(Fact::Adjust {
                        account_uid: row.account_uid,
                        points,
                        reason: reason.to_string(),
                        author: author.to_string(),
                        expiry_months: program.expiry_months,
                    }),
                })
            },
        )
    }
}
