//! A customer's history: sales with their lines and returns, the ledger with a running
//! balance, lots with their expiry, adjustments with author and reason.

use chrono::{DateTime, Utc};
use loyalty_domain::{Money, Points};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::lookup::by_customer;
use crate::ops::{from_ms, opt_from_ms};
use crate::types::Customer;
use crate::Store;
use rusqlite::OptionalExtension;

/// Everything on file about a customer's account, oldest first.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub customer: Customer,
    pub account_id: i64,
    pub shortfall: Points,
    pub sales: Vec<SaleRecord>,
    pub ledger: Vec<LedgerRecord>,
    pub lots: Vec<LotRecord>,
    pub adjustments: Vec<AdjustmentRecord>,
}

/// A sale (any card of the account) with its lines and returns.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaleRecord {
    pub sale_id: i64,
    pub receipt_no: String,
    pub card: String,
    pub sold_at: DateTime<Utc>,
    pub subtotal: Money,
    pub discount_total: Money,
    pub to_pay: Money,
    pub points_spent: Points,
    pub earned: Points,
    pub returned_amount: Money,
    /// `(sku, qty, amount, returned_qty)`.
    pub lines: Vec<(String, i64, Money, i64)>,
    pub returns: Vec<ReturnRecord>,
}

/// One return of a sale.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnRecord {
    pub return_id: i64,
    pub returned_at: DateTime<Utc>,
    pub amount: Money,
    pub refund: Money,
    pub earned_taken: Points,
    pub shortfall: Points,
    pub spent_restored: Points,
}

/// A ledger entry; `balance` = running Σ points (= lots remaining − shortfall afterwards).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub points: Points,
    pub balance: Points,
    pub reason: String,
    pub op_id: String,
}

/// A lot of points.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotRecord {
    pub id: i64,
    pub kind: String,
    pub earned_at: DateTime<Utc>,
    pub available_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub original: Points,
    pub remaining: Points,
    pub expired: Points,
}

/// An owner adjustment.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub points: Points,
    pub reason: String,
    pub author: String,
}

fn sales(conn: &Connection, account: i64) -> Result<Vec<SaleRecord>> {
    let mut st = conn.prepare_cached(
        "SELECT id, receipt_no, card_number, sold_at, subtotal, discount_total, to_pay,
                points_spent, earned, returned_amount
         FROM sales WHERE account_id = ?1 ORDER BY sold_at, id",
    )?;
    let raw = st
        .query_map([account], |r| {
            Ok((
                (
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ),
                r.get::<_, i64>(3)?,
                (
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ),
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut lines_st = conn.prepare_cached(
        "SELECT sku, qty, amount, returned_qty FROM sale_lines WHERE sale_id = ?1 ORDER BY line_no",
    )?;
    let mut ret_st = conn.prepare_cached(
        "SELECT id, returned_at, amount, refund, earned_taken, shortfall, spent_restored
         FROM returns WHERE sale_id = ?1 ORDER BY id",
    )?;
    let mut out = Vec::with_capacity(raw.len());
    for ((id, receipt_no, card), sold, (subtotal, discount_total, to_pay, spent, earned, ret)) in
        raw
    {
        let lines = lines_st
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut returns = Vec::new();
        for r in ret_st.query_map([id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?),
            ))
        })? {
            let (return_id, at, (amount, refund, earned_taken, shortfall, spent_restored)) = r?;
            returns.push(ReturnRecord {
                return_id,
                returned_at: from_ms(at)?,
                amount,
                refund,
                earned_taken,
                shortfall,
                spent_restored,
            });
        }
        out.push(SaleRecord {
            sale_id: id,
            receipt_no,
            card,
            sold_at: from_ms(sold)?,
            subtotal,
            discount_total,
            to_pay,
            points_spent: spent,
            earned,
            returned_amount: ret,
            lines,
            returns,
        });
    }
    Ok(out)
}

fn ledger(conn: &Connection, account: i64) -> Result<Vec<LedgerRecord>> {
    let mut st = conn.prepare_cached(
        "SELECT id, created_at, kind, points, reason, op_id FROM ledger
         WHERE account_id = ?1 ORDER BY id",
    )?;
    let rows = st.query_map([account], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
        ))
    })?;
    let mut balance: Points = 0;
    let mut out = Vec::new();
    for row in rows {
        let (id, at, kind, points, reason, op_id) = row?;
        balance += points;
        out.push(LedgerRecord {
            id,
            at: from_ms(at)?,
            kind,
            points,
            balance,
            reason,
            op_id,
        });
    }
    Ok(out)
}

fn lots(conn: &Connection, account: i64) -> Result<Vec<LotRecord>> {
    let mut st = conn.prepare_cached(
        "SELECT id, kind, earned_at, available_at, expires_at, original, remaining, expired
         FROM lots WHERE account_id = ?1 ORDER BY id",
    )?;
    let rows = st.query_map([account], |r| {
        Ok((
            (r.get::<_, i64>(0)?, r.get::<_, String>(1)?),
            (
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?,
            ),
            (r.get(5)?, r.get(6)?, r.get(7)?),
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let ((id, kind), (earned, avail, exp), (original, remaining, expired)) = row?;
        out.push(LotRecord {
            id,
            kind,
            earned_at: from_ms(earned)?,
            available_at: from_ms(avail)?,
            expires_at: opt_from_ms(exp)?,
            original,
            remaining,
            expired,
        });
    }
    Ok(out)
}

fn adjustments(conn: &Connection, account: i64) -> Result<Vec<AdjustmentRecord>> {
    let mut st = conn.prepare_cached(
        "SELECT id, created_at, points, reason, author FROM adjustments
         WHERE account_id = ?1 ORDER BY id",
    )?;
    let rows = st.query_map([account], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, at, points, reason, author) = row?;
        out.push(AdjustmentRecord {
            id,
            at: from_ms(at)?,
            points,
            reason,
            author,
        });
    }
    Ok(out)
}

impl Store {
    /// The full history of a customer's account (all its cards). An account holding a
    /// deferred server book (`books`) is materialised first (its own short transaction), so
    /// the lots and ledger shown are the account's state.
    pub fn history(&mut self, customer_id: i64) -> Result<History> {
        let account = by_customer(&self.conn, customer_id)?.account_id;
        if crate::books::is_deferred(&self.conn, account)? {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            crate::books::ensure(&tx, account)?;
            tx.commit()?;
        }
        let row = by_customer(&self.conn, customer_id)?;
        Ok(History {
            account_id: account,
            shortfall: row.shortfall,
            sales: sales(&self.conn, account)?,
            ledger: ledger(&self.conn, account)?,
            lots: lots(&self.conn, account)?,
            adjustments: adjustments(&self.conn, account)?,
            customer: row.customer,
        })
    }

    /// A sale by its receipt number (the return screen), with the customer it belongs to.
    pub fn sale_by_receipt(&self, receipt_no: &str) -> Result<SaleLookup> {
        let receipt_no = receipt_no.trim();
        let found: Option<(i64, i64)> = self
            .conn
            .prepare_cached(
                "SELECT s.account_id, a.customer_id FROM sales s
                 JOIN accounts a ON a.id = s.account_id WHERE s.receipt_no = ?1",
            )?
            .query_row([receipt_no], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (account, customer_id) =
            found.ok_or_else(|| StoreError::UnknownReceipt(receipt_no.to_string()))?;
        let sale = sales(&self.conn, account)?
            .into_iter()
            .find(|s| s.receipt_no == receipt_no)
            .ok_or_else(|| StoreError::UnknownReceipt(receipt_no.to_string()))?;
        let customer_name = by_customer(&self.conn, customer_id)?.customer.name;
        Ok(SaleLookup {
            customer_id,
            customer_name,
            sale,
        })
    }
}

/// Result of [`Store::sale_by_receipt`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SaleLookup {
    pub customer_id: i64,
    pub customer_name: String,
    pub sale: SaleRecord,
}
