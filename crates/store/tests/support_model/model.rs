//! The in-memory model: accounts, lots, FIFO, holds, expiry, shortfall, sales and returns.
//! Deliberately naive (vectors, linear scans) so that it is obviously right.

use std::collections::BTreeMap;

use chrono::{DateTime, Months, Utc};
use loyalty_domain::{CustomerSnapshot, ProgramConfig};

pub type Ts = DateTime<Utc>;

#[derive(Clone, Debug)]
pub struct MLot {
    pub account: i64,
    pub earned_at: Ts,
    pub available_at: Ts,
    pub expires_at: Option<Ts>,
    pub remaining: i64,
    /// Swept by expiry and not yet claimed back by a return of its sale.
    pub expired: i64,
    /// Index (in `Model::sales`) of the sale whose checkout or return created the lot.
    pub sale: Option<usize>,
}

impl MLot {
    fn expired(&self, now: Ts) -> bool {
        matches!(self.expires_at, Some(e) if e <= now)
    }
    pub fn is_available(&self, now: Ts) -> bool {
        self.remaining > 0 && self.available_at <= now && !self.expired(now)
    }
    pub fn is_pending(&self, now: Ts) -> bool {
        self.remaining > 0 && self.available_at > now && !self.expired(now)
    }
}

#[derive(Clone, Debug, Default)]
pub struct MAccount {
    pub shortfall: i64,
    /// Σ of the ledger entries the model expects for this account.
    pub ledger: i64,
    pub lifetime_spend: i64,
    pub purchases: u32,
    pub stamps: u32,
    pub referral_pending: bool,
    pub referrer_account: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct MLine {
    pub sku: String,
    pub qty: i64,
    pub amount: i64,
    pub returned_qty: i64,
}

#[derive(Clone, Debug)]
pub struct MSale {
    pub receipt: String,
    pub account: i64,
    pub subtotal: i64,
    pub after_discounts: i64,
    pub to_pay: i64,
    pub spent: i64,
    pub earned: i64,
    pub returned: i64,
    pub lines: Vec<MLine>,
}

#[derive(Clone, Debug)]
pub struct MCard {
    pub number: String,
    pub account: i64,
    pub active: bool,
}

/// Expected effects of one return (compared with the store's `ReturnReceipt`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReturnPlan {
    pub lines: Vec<(usize, i64)>,
    pub amount: i64,
}

pub struct Model {
    pub prog: ProgramConfig,
    pub accounts: BTreeMap<i64, MAccount>,
    pub lots: Vec<MLot>,
    pub cards: Vec<MCard>,
    pub sales: Vec<MSale>,
    pub phones: Vec<String>,
}

/// `floor(points × part / whole)`, exact (`points`) for a full part: the proportional share.
pub fn share(whole: i64, part: i64, points: i64) -> i64 {
    if part <= 0 {
        return 0;
    }
    if part >= whole {
        return points;
    }
    i64::try_from(i128::from(points) * i128::from(part) / i128::from(whole)).expect("share")
}

/// Money of `qty` units of a line (floor, exact for the whole line).
fn line_value(l: &MLine, qty: i64) -> i64 {
    share(l.qty, qty, l.amount)
}

impl Model {
    pub fn new(prog: ProgramConfig) -> Model {
        Model {
            prog,
            accounts: BTreeMap::new(),
            lots: Vec::new(),
            cards: Vec::new(),
            sales: Vec::new(),
            phones: Vec::new(),
        }
    }

    pub fn expiry(&self, from: Ts) -> Option<Ts> {
        self.prog
            .expiry_months
            .map(|m| from.checked_add_months(Months::new(m)).expect("expiry"))
    }

    pub fn hold(&self, from: Ts) -> Ts {
        from + chrono::Duration::days(i64::from(self.prog.hold_days))
    }

    pub fn acct(&mut self, account: i64) -> &mut MAccount {
        self.accounts.get_mut(&account).expect("model account")
    }

    pub fn available(&self, account: i64, now: Ts) -> i64 {
        self.lots
            .iter()
            .filter(|l| l.account == account && l.is_available(now))
            .map(|l| l.remaining)
            .sum()
    }

    pub fn pending(&self, account: i64, now: Ts) -> i64 {
        self.lots
            .iter()
            .filter(|l| l.account == account && l.is_pending(now))
            .map(|l| l.remaining)
            .sum()
    }

    /// Σ remaining of lots expiring in `(now, now + days]`, and the next expiry after `now`.
    pub fn expiring(&self, account: i64, now: Ts, days: i64) -> (i64, Option<Ts>) {
        let horizon = now + chrono::Duration::days(days);
        let mut soon = 0;
        let mut next: Option<Ts> = None;
        for l in self
            .lots
            .iter()
            .filter(|l| l.account == account && l.remaining > 0)
        {
            if let Some(e) = l.expires_at.filter(|e| *e > now) {
                if e <= horizon {
                    soon += l.remaining;
                }
                next = Some(next.map_or(e, |n| n.min(e)));
            }
        }
        (soon, next)
    }

    pub fn snapshot(&self, account: i64, now: Ts) -> CustomerSnapshot {
        let a = &self.accounts[&account];
        CustomerSnapshot {
            available: self.available(account, now),
            pending: self.pending(account, now),
            shortfall: a.shortfall,
            lifetime_spend: a.lifetime_spend,
            lifetime_purchases: a.purchases,
            window_spend: a.lifetime_spend,
            window_purchases: a.purchases,
            stamps: a.stamps,
            referral_pending: a.referral_pending,
            ..CustomerSnapshot::default()
        }
    }

    /// Credits `points`: the shortfall is settled first, the rest becomes a new lot.
    /// Returns the settled part.
    pub fn credit(
        &mut self,
        account: i64,
        points: i64,
        earned_at: Ts,
        available_at: Ts,
        expires_at: Option<Ts>,
        sale: Option<usize>,
    ) -> i64 {
        assert!(points > 0);
        let a = self.acct(account);
        let settled = points.min(a.shortfall);
        a.shortfall -= settled;
        a.ledger += points;
        if points > settled {
            self.lots.push(MLot {
                account,
                earned_at,
                available_at,
                expires_at,
                remaining: points - settled,
                expired: 0,
                sale,
            });
        }
        settled
    }

    /// Spends `points` from available lots: soonest expiry first (never-expiring last), then
    /// oldest earned, then oldest lot. The caller checked that enough is available.
    pub fn debit_fifo(&mut self, account: i64, points: i64, now: Ts) {
        assert!(points > 0 && points <= self.available(account, now));
        let mut order: Vec<usize> = (0..self.lots.len())
            .filter(|&i| self.lots[i].account == account && self.lots[i].is_available(now))
            .collect();
        order.sort_by_key(|&i| {
            let l = &self.lots[i];
            (l.expires_at.is_none(), l.expires_at, l.earned_at, i)
        });
        let mut left = points;
        for i in order {
            let n = self.lots[i].remaining.min(left);
            self.lots[i].remaining -= n;
            left -= n;
        }
        assert_eq!(left, 0);
        self.acct(account).ledger -= points;
    }

    /// Takes back `points` earned by sale `sale`: first from the lots that sale created (oldest
    /// first), then from the account's other unexpired lots (available ones FIFO, then pending
    /// ones); the rest becomes shortfall. Returns `(taken, added to shortfall)`.
    pub fn take_back(&mut self, account: i64, sale: usize, points: i64, now: Ts) -> (i64, i64) {
        if points <= 0 {
            return (0, 0);
        }
        // What the sale's own lots lost to expiry is gone already: claimed back for free.
        let mut free = 0;
        for l in self
            .lots
            .iter_mut()
            .filter(|l| l.account == account && l.sale == Some(sale))
        {
            let n = l.expired.min(points - free);
            l.expired -= n;
            free += n;
        }
        let owed = points - free;
        let mut order: Vec<usize> = (0..self.lots.len())
            .filter(|&i| {
                let l = &self.lots[i];
                l.account == account && l.remaining > 0 && l.sale == Some(sale)
            })
            .collect();
        let mut others: Vec<usize> = (0..self.lots.len())
            .filter(|&i| {
                let l = &self.lots[i];
                l.account == account && l.remaining > 0 && l.sale != Some(sale) && !l.expired(now)
            })
            .collect();
        others.sort_by_key(|&i| {
            let l = &self.lots[i];
            (
                l.available_at > now,
                l.expires_at.is_none(),
                l.expires_at,
                l.earned_at,
                i,
            )
        });
        order.extend(others);
        let mut left = owed;
        for i in order {
            let n = self.lots[i].remaining.min(left);
            self.lots[i].remaining -= n;
            left -= n;
        }
        let a = self.acct(account);
        a.shortfall += left;
        a.ledger -= owed;
        (owed - left, left)
    }

    /// Expires every lot with `expires_at <= now`; returns the points expired.
    pub fn sweep(&mut self, now: Ts) -> i64 {
        let mut total = 0;
        let mut per_account: Vec<(i64, i64)> = Vec::new();
        for l in self
            .lots
            .iter_mut()
            .filter(|l| l.remaining > 0 && l.expired(now))
        {
            total += l.remaining;
            per_account.push((l.account, l.remaining));
            l.expired += l.remaining;
            l.remaining = 0;
        }
        for (a, n) in per_account {
            self.acct(a).ledger -= n;
        }
        total
    }

    /// Which line quantities and what amount a return request takes, or the error code.
    pub fn plan_return(
        &self,
        sale: &MSale,
        items: &loyalty_store::ReturnItems,
    ) -> Result<ReturnPlan, &'static str> {
        use loyalty_store::ReturnItems;
        let left = sale.subtotal - sale.returned;
        match items {
            ReturnItems::All => {
                if left <= 0 {
                    return Err("RETURN_EXCEEDS_SALE");
                }
                let lines = sale
                    .lines
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.returned_qty < l.qty)
                    .map(|(i, l)| (i, l.qty - l.returned_qty))
                    .collect();
                Ok(ReturnPlan {
                    lines,
                    amount: left,
                })
            }
            ReturnItems::Amount(m) => {
                if *m <= 0 {
                    Err("INVALID_INPUT")
                } else if *m > left {
                    Err("RETURN_EXCEEDS_SALE")
                } else {
                    Ok(ReturnPlan {
                        lines: Vec::new(),
                        amount: *m,
                    })
                }
            }
            ReturnItems::Lines(req) => {
                if req.is_empty() {
                    return Err("INVALID_INPUT");
                }
                let mut taken: Vec<i64> = sale.lines.iter().map(|l| l.returned_qty).collect();
                for r in req {
                    if r.qty <= 0 {
                        return Err("INVALID_INPUT");
                    }
                    let mut want = r.qty;
                    for (i, l) in sale.lines.iter().enumerate() {
                        if l.sku == r.sku {
                            let n = want.min(l.qty - taken[i]);
                            taken[i] += n;
                            want -= n;
                        }
                    }
                    if want > 0 {
                        return Err("RETURN_EXCEEDS_SALE");
                    }
                }
                let mut lines = Vec::new();
                let mut amount = 0;
                for (i, l) in sale.lines.iter().enumerate() {
                    if taken[i] > l.returned_qty {
                        amount += line_value(l, taken[i]) - line_value(l, l.returned_qty);
                        lines.push((i, taken[i] - l.returned_qty));
                    }
                }
                if amount > left {
                    return Err("RETURN_EXCEEDS_SALE");
                }
                Ok(ReturnPlan { lines, amount })
            }
        }
    }
}
