//! Returns (refunds), full or partial, by lines or by amount, linked to the original receipt.
//!
//! Proportions are cumulative: after returns totalling `R` of a subtotal `S`, exactly
//! `return_share(S, R, x)` of each quantity `x` (earned points, spent points, paid money,
//! spend) has been taken back, so partial returns always sum to the full return.

use chrono::{DateTime, Utc};
use loyalty_domain::{expires_at, return_share, Fact, Money, Points};
use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::ledger::{credit, take_back, NewLot, Posting};
use crate::ops::{self, ms, Done};
use crate::types::{ReturnItems, ReturnReceipt, ReturnRequest};
use crate::Store;

struct Sale {
    id: i64,
    op_id: String,
    account_id: i64,
    account_uid: String,
    subtotal: Money,
    after_discounts: Money,
    to_pay: Money,
    points_spent: Points,
    earned: Points,
    returned_amount: Money,
}

struct Line {
    line_no: i64,
    sku: String,
    qty: i64,
    amount: Money,
    returned_qty: i64,
}

fn load_sale(conn: &Connection, receipt_no: &str) -> Result<(Sale, Vec<Line>)> {
    let sale = conn
        .prepare_cached(
            "SELECT s.id, s.account_id, s.subtotal, s.after_discounts, s.to_pay, s.points_spent,
                    s.earned, s.returned_amount, s.op_id,
                    COALESCE(a.uid, (SELECT uid FROM customers WHERE id = a.customer_id))
             FROM sales s JOIN accounts a ON a.id = s.account_id WHERE s.receipt_no = ?1",
        )?
        .query_row([receipt_no], |r| {
            Ok(Sale {
                id: r.get(0)?,
                account_id: r.get(1)?,
                subtotal: r.get(2)?,
                after_discounts: r.get(3)?,
                to_pay: r.get(4)?,
                points_spent: r.get(5)?,
                earned: r.get(6)?,
                returned_amount: r.get(7)?,
                op_id: r.get(8)?,
                account_uid: r.get(9)?,
            })
        })
        .optional()?
        .ok_or_else(|| StoreError::UnknownReceipt(receipt_no.to_string()))?;
    let mut st = conn.prepare_cached(
        "SELECT line_no, sku, qty, amount, returned_qty FROM sale_lines
         WHERE sale_id = ?1 ORDER BY line_no",
    )?;
    let lines = st
        .query_map([sale.id], |r| {
            Ok(Line {
                line_no: r.get(0)?,
                sku: r.get(1)?,
                qty: r.get(2)?,
                amount: r.get(3)?,
                returned_qty: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((sale, lines))
}

/// Money value of `qty_returned` units of a line (cumulative, exact at the full quantity).
fn line_value(l: &Line, qty_returned: i64) -> Money {
    let v = i128::from(l.amount) * i128::from(qty_returned) / i128::from(l.qty.max(1));
    Money::try_from(v).unwrap_or(Money::MAX)
}

/// `return_share` delta between two cumulative returned amounts.
fn delta(original: Money, before: Money, after: Money, x: i64) -> i64 {
    return_share(original, after, x) - return_share(original, before, x)
}

/// `(line_no, qty, amount)` of each returned line.
type LinePlan = Vec<(i64, i64, Money)>;

/// Works out which line quantities a request returns: `(line_no, qty, amount)` plus the
/// returned part of the subtotal. Validates everything against what is still returnable.
fn plan(sale: &Sale, lines: &[Line], items: &ReturnItems) -> Result<(LinePlan, Money)> {
    let left = sale.subtotal - sale.returned_amount;
    let exceeds = |msg: String| Err(StoreError::ReturnExceedsSale(msg));
    let mut out: LinePlan = Vec::new();
    let amount = match items {
        ReturnItems::All => {
            if left <= 0 {
                return exceeds("the sale is already fully returned".into());
            }
            for l in lines.iter().filter(|l| l.returned_qty < l.qty) {
                let q = l.qty - l.returned_qty;
                out.push((
                    l.line_no,
                    q,
                    line_value(l, l.qty) - line_value(l, l.returned_qty),
                ));
            }
            left
        }
        ReturnItems::Amount(m) => {
            if *m <= 0 {
                return Err(StoreError::InvalidInput(
                    "return amount must be positive".into(),
                ));
            }
            if *m > left {
                return exceeds(format!(
                    "amount {m} is more than the {left} not yet returned"
                ));
            }
            *m
        }
        ReturnItems::Lines(req) => {
            if req.is_empty() {
                return Err(StoreError::InvalidInput("no lines to return".into()));
            }
            let mut taken: Vec<i64> = lines.iter().map(|l| l.returned_qty).collect();
            for r in req {
                if r.qty <= 0 {
                    return Err(StoreError::InvalidInput(format!(
                        "return quantity of {} must be positive",
                        r.sku
                    )));
                }
                let mut want = r.qty;
                for (i, l) in lines.iter().enumerate().filter(|(_, l)| l.sku == r.sku) {
                    let n = want.min(l.qty - taken[i]);
                    taken[i] += n;
                    want -= n;
                }
                if want > 0 {
                    return exceeds(format!(
                        "{} more of {} than sold and not yet returned",
                        want, r.sku
                    ));
                }
            }
            let mut total = 0;
            for (i, l) in lines.iter().enumerate() {
                if taken[i] > l.returned_qty {
                    let v = line_value(l, taken[i]) - line_value(l, l.returned_qty);
                    out.push((l.line_no, taken[i] - l.returned_qty, v));
                    total += v;
                }
            }
            if total > left {
                return exceeds(format!(
                    "lines worth {total} but only {left} not yet returned"
                ));
            }
            total
        }
    };
    Ok((out, amount))
}

impl Store {
    /// Returns all or part of a sale. Spent points come back in proportion as a new lot
    /// (available now, expiry counted from now); earned points are taken back in proportion:
    /// first from the sale's own lots, then other lots FIFO, the rest becomes shortfall.
    /// Lifetime spend drops by the returned share (and purchases by one on a full return).
    /// Errors: `UNKNOWN_RECEIPT`, `RETURN_EXCEEDS_SALE` (more than sold or already returned).
    pub fn return_sale(
        &mut self,
        op_id: Uuid,
        req: ReturnRequest,
        now: DateTime<Utc>,
    ) -> Result<ReturnReceipt> {
        let program = self.programs.at(now);
        ops::run(
            &mut self.conn,
            &self.programs.at(now).tiers.window,
            op_id,
            "return",
            &req,
            now,
            |tx, op| {
                let receipt_no = req.receipt_no.trim();
                let (sale, lines) = load_sale(tx, receipt_no)?;
                let (plan, amount) = plan(&sale, &lines, &req.items)?;
                let (before, after) = (sale.returned_amount, sale.returned_amount + amount);
                let s = sale.subtotal;
                let earned_back = delta(s, before, after, sale.earned);
                let spent_back = delta(s, before, after, sale.points_spent);
                let refund = delta(s, before, after, sale.to_pay);
                let spend_back = delta(s, before, after, sale.after_discounts);
                let full = after == sale.subtotal;
                let posting = |kind| Posting {
                    op,
                    kind,
                    sale_id: Some(sale.id),
                    reason: receipt_no,
                    now,
                };
                if spent_back > 0 {
                    let lot = NewLot {
                        kind: "return_restore",
                        earned_at: now,
                        available_at: now,
                        expires_at: program.expiry_months.map(|m| expires_at(now, m)),
                        sale_id: Some(sale.id),
                    };
                    credit(
                        tx,
                        sale.account_id,
                        spent_back,
                        &lot,
                        &posting("return_restore"),
                    )?;
                }
                let (taken, short) = take_back(
                    tx,
                    sale.account_id,
                    sale.id,
                    earned_back,
                    &posting("return_take"),
                )?;
                tx.prepare_cached(
                    "UPDATE sales SET returned_amount = ?2, returned_spend = returned_spend + ?3,
                    earned_taken = earned_taken + ?4, spent_restored = spent_restored + ?5
                 WHERE id = ?1",
                )?
                .execute(params![
                    sale.id,
                    after,
                    spend_back,
                    earned_back,
                    spent_back
                ])?;
                tx.prepare_cached(
                    "UPDATE accounts SET lifetime_spend = lifetime_spend - ?2,
                    lifetime_purchases = MAX(lifetime_purchases - ?3, 0) WHERE id = ?1",
                )?
                .execute(params![sale.account_id, spend_back, full])?;
                tx.prepare_cached(
                "INSERT INTO returns (op_id, sale_id, returned_at, amount, refund, earned_taken,
                    shortfall, spent_restored) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                op,
                sale.id,
                ms(now),
                amount,
                refund,
                taken,
                short,
                spent_back
            ])?;
                let return_id = tx.last_insert_rowid();
                for (line_no, qty, value) in &plan {
                    tx.prepare_cached(
                        "UPDATE sale_lines SET returned_qty = returned_qty + ?3
                     WHERE sale_id = ?1 AND line_no = ?2",
                    )?
                    .execute(params![sale.id, line_no, qty])?;
                    tx.prepare_cached(
                        "INSERT INTO return_lines (return_id, line_no, qty, amount)
                     VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![return_id, line_no, qty, value])?;
                }
                Ok(Done {
                    result: ReturnReceipt {
                        return_id,
                        receipt_no: receipt_no.to_string(),
                        amount,
                        refund,
                        earned_taken: taken,
                        shortfall_added: short,
                        spent_restored: spent_back,
                        fully_returned: full,
                    },
                    // earned_taken = everything this return takes back: from lots and as
                    // shortfall (the book splits it the same way).
                    event: Some(Fact::Return {
                        receipt_no: receipt_no.to_string(),
                        sale_op_id: sale.op_id.clone(),
                        account_uid: sale.account_uid.clone(),
                        amount,
                        refund,
                        earned_taken: earned_back,
                        spent_restored: spent_back,
                        expiry_months: program.expiry_months,
                        spend_returned: spend_back,
                        fully_returned: full,
                    }),
                })
            },
        )
    }
}
