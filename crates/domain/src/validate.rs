//! `ProgramConfig::validate`: every setting checked, first problem reported as
//! `RuleError::InvalidConfig { field, reason }`; `ProgramConfig::problems` lists them all
//! (the owner's settings editor shows each next to its field).

use crate::config::{ProgramConfig, TierWindow};
use crate::error::RuleError;
use crate::money::{Bp, BP_100};

/// Longest hold period accepted (10 years).
pub const MAX_HOLD_DAYS: u32 = 3_650;
/// Longest expiry accepted (100 years).
pub const MAX_EXPIRY_MONTHS: u32 = 1_200;
/// Longest club period / rolling window accepted (10 years).
pub const MAX_PERIOD_DAYS: u32 = 3_650;

/// The problems found so far, in the order of the settings.
#[derive(Default)]
struct Problems(Vec<RuleError>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(RuleError::config(field, reason));
    }

    fn bp(&mut self, field: &str, v: Bp) {
        if v > BP_100 {
            self.add(
                field,
                format!("must be at most 10000 basis points (100 %), got {v}"),
            );
        }
    }

    fn non_negative(&mut self, field: &str, v: i64) {
        if v < 0 {
            self.add(field, format!("must not be negative, got {v}"));
        }
    }
}

impl ProgramConfig {
    /// Checks the configuration: thresholds ascending, basis points <= 10000, stamp
    /// `every >= 2`, positive point value, non-negative amounts, sane periods, a club
    /// tier that exists, a birthday window shorter than a year. The first problem of
    /// [`ProgramConfig::problems`].
    pub fn validate(&self) -> Result<(), RuleError> {
        match self.problems().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Every problem of the configuration (each an `InvalidConfig` naming its field), in
    /// the order of the settings; empty when it is valid.
    pub fn problems(&self) -> Vec<RuleError> {
        let mut p = Problems::default();
        if self.version == 0 {
            p.add("version", "must be at least 1");
        }
        let cur = &self.currency;
        if cur.len() != 3 || !cur.chars().all(|c| c.is_ascii_uppercase()) {
            p.add(
                "currency",
                format!("must be a 3-letter ISO 4217 code, got {cur:?}"),
            );
        }
        if self.point_value <= 0 {
            p.add(
                "point_value",
                format!("must be positive, got {}", self.point_value),
            );
        }
        p.bp("earn.rate_bp", self.earn.rate_bp);
        p.non_negative("earn.min_check", self.earn.min_check);
        p.bp("spend.max_share_bp", self.spend.max_share_bp);
        p.non_negative("spend.min_balance", self.spend.min_balance);
        self.check_cumulative(&mut p);
        self.check_tiers(&mut p);
        self.check_bonuses(&mut p);
        if self.hold_days > MAX_HOLD_DAYS {
            p.add(
                "hold_days",
                format!("must be at most {MAX_HOLD_DAYS}, got {}", self.hold_days),
            );
        }
        if let Some(m) = self.expiry_months {
            if m == 0 || m > MAX_EXPIRY_MONTHS {
                p.add(
                    "expiry_months",
                    format!("must be 1..={MAX_EXPIRY_MONTHS} (or absent = never), got {m}"),
                );
            }
        }
        p.non_negative("offline_spend_limit", self.offline_spend_limit);
        p.bp(
            "stacking.max_total_discount_bp",
            self.stacking.max_total_discount_bp,
        );
        p.0
    }

    fn check_cumulative(&self, p: &mut Problems) {
        let mut prev: Option<i64> = None;
        for (i, s) in self.cumulative.iter().enumerate() {
            let f = format!("cumulative[{i}]");
            p.non_negative(&format!("{f}.from_spend"), s.from_spend);
            p.bp(&format!("{f}.discount_bp"), s.discount_bp);
            if prev.is_some_and(|pv| s.from_spend <= pv) {
                p.add(
                    format!("{f}.from_spend"),
                    "steps must be in strictly ascending order of from_spend",
                );
            }
            prev = Some(s.from_spend);
        }
    }

    fn check_tiers(&self, p: &mut Problems) {
        if let TierWindow::RollingDays(d) = self.tiers.window {
            if d == 0 || d > MAX_PERIOD_DAYS {
                p.add(
                    "tiers.window",
                    format!("rolling window must be 1..={MAX_PERIOD_DAYS} days, got {d}"),
                );
            }
        }
        let mut prev: Option<i64> = None;
        for (i, t) in self.tiers.levels.iter().enumerate() {
            let f = format!("tiers.levels[{i}]");
            if t.code.trim().is_empty() {
                p.add(format!("{f}.code"), "must not be empty");
            } else if self.tiers.levels[..i].iter().any(|o| o.code == t.code) {
                p.add(
                    format!("{f}.code"),
                    format!("duplicate tier code {:?}", t.code),
                );
            }
            p.non_negative(&format!("{f}.threshold"), t.threshold);
            if prev.is_some_and(|pv| t.threshold <= pv) {
                p.add(
                    format!("{f}.threshold"),
                    "levels must be in strictly ascending order of threshold",
                );
            }
            prev = Some(t.threshold);
            if let Some(e) = t.earn_bp {
                p.bp(&format!("{f}.earn_bp"), e);
            }
            p.bp(&format!("{f}.discount_bp"), t.discount_bp);
        }
        if let Some(c) = &self.club {
            p.non_negative("club.fee", c.fee);
            if c.period_days == 0 || c.period_days > MAX_PERIOD_DAYS {
                p.add(
                    "club.period_days",
                    format!("must be 1..={MAX_PERIOD_DAYS}, got {}", c.period_days),
                );
            }
            if let Some(code) = &c.tier_code {
                if self.tier_index(code).is_none() {
                    p.add("club.tier_code", format!("no tier with code {code:?}"));
                }
            }
            p.bp("club.discount_bp", c.discount_bp);
        }
    }

    fn check_bonuses(&self, p: &mut Problems) {
        if let Some(s) = &self.stamps {
            if s.every < 2 {
                p.add(
                    "stamps.every",
                    format!("must be at least 2, got {}", s.every),
                );
            }
            p.non_negative("stamps.min_amount", s.min_amount);
            p.non_negative("stamps.reward_points", s.reward_points);
            if s.category.as_deref().is_some_and(|c| c.trim().is_empty()) {
                p.add("stamps.category", "must be a category name or absent");
            }
        }
        if let Some(g) = &self.threshold_gift {
            if g.min_amount <= 0 {
                p.add(
                    "threshold_gift.min_amount",
                    format!("must be positive, got {}", g.min_amount),
                );
            }
            p.non_negative("threshold_gift.bonus_points", g.bonus_points);
        }
        p.non_negative("welcome_bonus", self.welcome_bonus);
        if let Some(b) = &self.birthday {
            if u64::from(b.days_before) + u64::from(b.days_after) >= 365 {
                p.add("birthday", "days_before + days_after must be less than 365");
            }
            p.non_negative("birthday.bonus_points", b.bonus_points);
            p.bp("birthday.discount_bp", b.discount_bp);
        }
        if let Some(r) = &self.referral {
            p.non_negative("referral.referrer_points", r.referrer_points);
            p.non_negative("referral.referee_points", r.referee_points);
        }
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
