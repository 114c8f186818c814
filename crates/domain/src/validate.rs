//! `ProgramConfig::validate`: every setting checked, first problem reported as
//! `RuleError::InvalidConfig { field, reason }`.

use crate::config::{ProgramConfig, TierWindow};
use crate::error::RuleError;
use crate::money::{Bp, BP_100};

/// Longest hold period accepted (10 years).
pub const MAX_HOLD_DAYS: u32 = 3_650;
/// Longest expiry accepted (100 years).
pub const MAX_EXPIRY_MONTHS: u32 = 1_200;
/// Longest club period / rolling window accepted (10 years).
pub const MAX_PERIOD_DAYS: u32 = 3_650;

fn bp(field: &str, v: Bp) -> Result<(), RuleError> {
    if v > BP_100 {
        return Err(RuleError::config(
            field,
            format!("must be at most 10000 basis points (100 %), got {v}"),
        ));
    }
    Ok(())
}

fn non_negative(field: &str, v: i64) -> Result<(), RuleError> {
    if v < 0 {
        return Err(RuleError::config(
            field,
            format!("must not be negative, got {v}"),
        ));
    }
    Ok(())
}

impl ProgramConfig {
    /// Checks the configuration: thresholds ascending, basis points <= 10000, stamp
    /// `every >= 2`, positive point value, non-negative amounts, sane periods, a club
    /// tier that exists, a birthday window shorter than a year.
    pub fn validate(&self) -> Result<(), RuleError> {
        if self.version == 0 {
            return Err(RuleError::config("version", "must be at least 1"));
        }
        let cur = &self.currency;
        if cur.len() != 3 || !cur.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(RuleError::config(
                "currency",
                format!("must be a 3-letter ISO 4217 code, got {cur:?}"),
            ));
        }
        if self.point_value <= 0 {
            return Err(RuleError::config(
                "point_value",
                format!("must be positive, got {}", self.point_value),
            ));
        }
        bp("earn.rate_bp", self.earn.rate_bp)?;
        non_negative("earn.min_check", self.earn.min_check)?;
        bp("spend.max_share_bp", self.spend.max_share_bp)?;
        non_negative("spend.min_balance", self.spend.min_balance)?;

        let mut prev: Option<i64> = None;
        for (i, s) in self.cumulative.iter().enumerate() {
            let f = format!("cumulative[{i}]");
            non_negative(&format!("{f}.from_spend"), s.from_spend)?;
            bp(&format!("{f}.discount_bp"), s.discount_bp)?;
            if prev.is_some_and(|p| s.from_spend <= p) {
                return Err(RuleError::config(
                    format!("{f}.from_spend"),
                    "steps must be in strictly ascending order of from_spend",
                ));
            }
            prev = Some(s.from_spend);
        }

        if let TierWindow::RollingDays(d) = self.tiers.window {
            if d == 0 || d > MAX_PERIOD_DAYS {
                return Err(RuleError::config(
                    "tiers.window",
                    format!("rolling window must be 1..={MAX_PERIOD_DAYS} days, got {d}"),
                ));
            }
        }
        let mut prev: Option<i64> = None;
        for (i, t) in self.tiers.levels.iter().enumerate() {
            let f = format!("tiers.levels[{i}]");
            if t.code.trim().is_empty() {
                return Err(RuleError::config(format!("{f}.code"), "must not be empty"));
            }
            if self.tiers.levels[..i].iter().any(|o| o.code == t.code) {
                return Err(RuleError::config(
                    format!("{f}.code"),
                    format!("duplicate tier code {:?}", t.code),
                ));
            }
            non_negative(&format!("{f}.threshold"), t.threshold)?;
            if prev.is_some_and(|p| t.threshold <= p) {
                return Err(RuleError::config(
                    format!("{f}.threshold"),
                    "levels must be in strictly ascending order of threshold",
                ));
            }
            prev = Some(t.threshold);
            if let Some(e) = t.earn_bp {
                bp(&format!("{f}.earn_bp"), e)?;
            }
            bp(&format!("{f}.discount_bp"), t.discount_bp)?;
        }

        if let Some(c) = &self.club {
            non_negative("club.fee", c.fee)?;
            if c.period_days == 0 || c.period_days > MAX_PERIOD_DAYS {
                return Err(RuleError::config(
                    "club.period_days",
                    format!("must be 1..={MAX_PERIOD_DAYS}, got {}", c.period_days),
                ));
            }
            if let Some(code) = &c.tier_code {
                if self.tier_index(code).is_none() {
                    return Err(RuleError::config(
                        "club.tier_code",
                        format!("no tier with code {code:?}"),
                    ));
                }
            }
            bp("club.discount_bp", c.discount_bp)?;
        }

        if let Some(s) = &self.stamps {
            if s.every < 2 {
                return Err(RuleError::config(
                    "stamps.every",
                    format!("must be at least 2, got {}", s.every),
                ));
            }
            non_negative("stamps.min_amount", s.min_amount)?;
            non_negative("stamps.reward_points", s.reward_points)?;
            if s.category.as_deref().is_some_and(|c| c.trim().is_empty()) {
                return Err(RuleError::config(
                    "stamps.category",
                    "must be a category name or absent",
                ));
            }
        }

        if let Some(g) = &self.threshold_gift {
            if g.min_amount <= 0 {
                return Err(RuleError::config(
                    "threshold_gift.min_amount",
                    format!("must be positive, got {}", g.min_amount),
                ));
            }
            non_negative("threshold_gift.bonus_points", g.bonus_points)?;
        }

        non_negative("welcome_bonus", self.welcome_bonus)?;

        if let Some(b) = &self.birthday {
            if u64::from(b.days_before) + u64::from(b.days_after) >= 365 {
                return Err(RuleError::config(
                    "birthday",
                    "days_before + days_after must be less than 365",
                ));
            }
            non_negative("birthday.bonus_points", b.bonus_points)?;
            bp("birthday.discount_bp", b.discount_bp)?;
        }

        if let Some(r) = &self.referral {
            non_negative("referral.referrer_points", r.referrer_points)?;
            non_negative("referral.referee_points", r.referee_points)?;
        }

        if self.hold_days > MAX_HOLD_DAYS {
            return Err(RuleError::config(
                "hold_days",
                format!("must be at most {MAX_HOLD_DAYS}, got {}", self.hold_days),
            ));
        }
        if let Some(m) = self.expiry_months {
            if m == 0 || m > MAX_EXPIRY_MONTHS {
                return Err(RuleError::config(
                    "expiry_months",
                    format!("must be 1..={MAX_EXPIRY_MONTHS} (or absent = never), got {m}"),
                ));
            }
        }
        non_negative("offline_spend_limit", self.offline_spend_limit)?;
        bp(
            "stacking.max_total_discount_bp",
            self.stacking.max_total_discount_bp,
        )?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
