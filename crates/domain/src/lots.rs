//! Point lots: hold period, expiry, FIFO spending, and "what expires when".

use crate::error::RuleError;
use crate::money::Points;
use chrono::{DateTime, Duration, Months, Utc};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// What `fifo_take` and `expiry_schedule` need to know about one lot.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LotView {
    pub id: i64,
    pub earned_at: DateTime<Utc>,
    pub available_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub remaining: Points,
}

impl LotView {
    /// Spendable at `now`: matured (`available_at <= now`), not expired
    /// (`expires_at` absent or `> now`), with points left.
    pub fn is_available(&self, now: DateTime<Utc>) -> bool {
        self.remaining > 0
            && self.available_at <= now
            && !matches!(self.expires_at, Some(e) if e <= now)
    }

    /// Still in hold at `now`.
    pub fn is_pending(&self, now: DateTime<Utc>) -> bool {
        self.remaining > 0 && self.available_at > now
    }
}

/// When points earned at `earned_at` become spendable.
pub fn available_at(earned_at: DateTime<Utc>, hold_days: u32) -> DateTime<Utc> {
    earned_at
        .checked_add_signed(Duration::days(i64::from(hold_days)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// When points earned at `earned_at` expire: `months` calendar months later (the day is
/// clamped to the month's end, e.g. 31 Jan + 1 month = 28/29 Feb). For a program with
/// `expiry_months: None` (never) use `program.expiry_months.map(|m| expires_at(t, m))`.
pub fn expires_at(earned_at: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    earned_at
        .checked_add_months(Months::new(months))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// FIFO order: the earliest `expires_at` first (never-expiring last), then the oldest
/// `earned_at`, then the lowest id.
fn fifo_order(a: &LotView, b: &LotView) -> Ordering {
    let exp = match (a.expires_at, b.expires_at) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    exp.then(a.earned_at.cmp(&b.earned_at))
        .then(a.id.cmp(&b.id))
}

/// Takes `amount` points from the lots available at `now`, in FIFO order. Returns
/// `(lot id, points taken)` pairs in the order taken; their sum is exactly `amount`.
/// `amount == 0` takes nothing. Errors: negative amount → `InvalidAmount`; not enough
/// available points → `InsufficientPoints` (nothing is taken).
pub fn fifo_take(
    lots: &[LotView],
    now: DateTime<Utc>,
    amount: Points,
) -> Result<Vec<(i64, Points)>, RuleError> {
    if amount < 0 {
        return Err(RuleError::amount(format!(
            "points to take must not be negative, got {amount}"
        )));
    }
    let mut usable: Vec<&LotView> = lots.iter().filter(|l| l.is_available(now)).collect();
    let available = usable
        .iter()
        .fold(0i64, |acc, l| acc.saturating_add(l.remaining));
    if available < amount {
        return Err(RuleError::InsufficientPoints {
            available,
            requested: amount,
        });
    }
    usable.sort_by(|a, b| fifo_order(a, b));
    let mut left = amount;
    let mut taken = Vec::new();
    for lot in usable {
        if left == 0 {
            break;
        }
        let t = lot.remaining.min(left);
        taken.push((lot.id, t));
        left -= t;
    }
    Ok(taken)
}

/// What expires when: for every future expiry instant (`> now`), the total remaining
/// points of lots expiring then, ascending. Pending lots are included (they expire
/// too); never-expiring and empty lots are not.
pub fn expiry_schedule(lots: &[LotView], now: DateTime<Utc>) -> Vec<(DateTime<Utc>, Points)> {
    let mut by_time: BTreeMap<DateTime<Utc>, Points> = BTreeMap::new();
    for l in lots.iter().filter(|l| l.remaining > 0) {
        if let Some(e) = l.expires_at.filter(|e| *e > now) {
            let slot = by_time.entry(e).or_insert(0);
            *slot = slot.saturating_add(l.remaining);
        }
    }
    by_time.into_iter().collect()
}

#[cfg(test)]
#[path = "lots_tests.rs"]
mod tests;
