//! What the store knows about an account at quote time.

use crate::money::{Money, Points};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A read-only snapshot of the account, assembled by the store for `quote`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct CustomerSnapshot {
    /// Spendable now (matured, unexpired lots); never negative.
    pub available: Points,
    /// In hold.
    pub pending: Points,
    /// Owed from an earlier return / offline overdraw, settled from future earnings.
    pub shortfall: Points,
    /// Net of returns.
    pub lifetime_spend: Money,
    pub lifetime_purchases: u32,
    /// Within the tier window (the store computes it for `tiers.window`).
    pub window_spend: Money,
    pub window_purchases: u32,
    pub club_until: Option<DateTime<Utc>>,
    /// Progress towards the next stamp reward (0..every).
    pub stamps: u32,
    pub birthday: Option<NaiveDate>,
    /// Year in which the birthday bonus was last granted (the year of the birthday
    /// occurrence, see `birthday_occurrence`).
    pub birthday_bonus_year: Option<i32>,
    /// Has a referrer and no purchase yet: the first purchase triggers referral bonuses.
    pub referral_pending: bool,
}

impl CustomerSnapshot {
    /// Whether a paid club membership is active at `now` (`club_until > now`).
    pub fn club_active(&self, now: DateTime<Utc>) -> bool {
        self.club_until.is_some_and(|until| until > now)
    }
}
