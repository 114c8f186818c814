//! After the sales: a few full returns (with shortfall) and the weekly expiry sweeps, the
//! way the store books them.

use super::member::{uuid_at, Sim, DAY, TILL_ID};
use super::rows::{LedgerRow, LotRow, MemberRows, ReturnRow};

const WEEK: i64 = 7 * DAY;

impl Sim {
    /// A full return of the last sale, a few days later, as the store does it: spent points
    /// restored as a new lot of that sale, earned points taken back from the sale's own
    /// lots first, then other lots FIFO; what cannot be taken becomes shortfall.
    pub(super) fn full_return(&mut self, rows: &mut MemberRows) {
        let account = rows.customer.id;
        let Some(sale) = rows.sales.last() else {
            return;
        };
        let r = sale.sold_at + self.rng.i64(DAY..=10 * DAY);
        if r >= self.now {
            return;
        }
        let (sale_id, spent, earned) = (sale.id, sale.points_spent, sale.earned);
        let receipt = format!("{TILL_ID}-{sale_id:06}");
        let op = self.op(r);
        let entry = |kind, points, lot_id| LedgerRow {
            account_id: account,
            op_id: op.clone(),
            kind,
            points,
            lot_id,
            sale_id: Some(sale_id),
            reason: receipt.clone(),
            at: r,
        };
        if spent > 0 {
            let lot = self.lot(rows, (account, "return_restore", r, spent), &op);
            rows.ledger.push(entry("return_restore", spent, Some(lot)));
        }
        let mine = |l: &LotRow| l.account_id == account && l.remaining > 0;
        let mut order: Vec<usize> = (0..rows.lots.len())
            .filter(|&i| mine(&rows.lots[i]) && rows.lots[i].sale_id == Some(sale_id))
            .collect();
        let mut others: Vec<usize> = (0..rows.lots.len())
            .filter(|&i| {
                let l = &rows.lots[i];
                mine(l) && l.sale_id != Some(sale_id) && l.expires_at > r
            })
            .collect();
        others.sort_by_key(|&i| {
            let l = &rows.lots[i];
            (l.available_at > r, l.expires_at, l.earned_at, l.id)
        });
        order.extend(others);
        let mut left = earned;
        for i in order {
            let n = rows.lots[i].remaining.min(left);
            rows.lots[i].remaining -= n;
            left -= n;
        }
        if earned > 0 {
            rows.ledger.push(entry("return_take", -earned, None));
        }
        let sale = rows.sales.last_mut().expect("checked above");
        sale.returned_amount = sale.subtotal;
        sale.returned_spend = sale.after_discounts;
        sale.earned_taken = earned;
        sale.spent_restored = spent;
        let lines = sale.lines.iter_mut().enumerate();
        let lines = lines
            .map(|(i, l)| {
                l.returned_qty = l.qty;
                (i as i64, l.qty, l.amount)
            })
            .collect();
        rows.account.lifetime_spend -= sale.after_discounts;
        rows.account.lifetime_purchases = (rows.account.lifetime_purchases - 1).max(0);
        rows.account.shortfall += left;
        self.ids.ret += 1;
        rows.ret = Some(ReturnRow {
            id: self.ids.ret,
            op_id: op,
            sale_id,
            returned_at: r,
            amount: sale.subtotal,
            refund: sale.to_pay,
            earned_taken: earned - left,
            shortfall: left,
            spent_restored: spent,
            lines,
        });
    }

    /// The till sweeps expired lots weekly; lots expired since the last sweep stay unswept.
    pub(super) fn sweep(&mut self, rows: &mut MemberRows) {
        let account = rows.customer.id;
        for l in rows.lots.iter_mut() {
            if l.account_id != account || l.remaining == 0 || l.expires_at > self.now {
                continue;
            }
            let at = (l.expires_at + WEEK - 1) / WEEK * WEEK;
            if at > self.now {
                continue;
            }
            rows.ledger.push(LedgerRow {
                account_id: account,
                op_id: uuid_at(
                    at,
                    (at as u128).to_le_bytes()[..10]
                        .try_into()
                        .unwrap_or([7; 10]),
                ),
                kind: "expire",
                points: -l.remaining,
                lot_id: Some(l.id),
                sale_id: None,
                reason: "points expired".into(),
                at,
            });
            l.expired = l.remaining;
            l.remaining = 0;
        }
    }
}
