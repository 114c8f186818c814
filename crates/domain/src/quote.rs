//! The quote: what the cashier screen shows and checkout commits.
//!
//! # Combination rules
//!
//! A quote is computed in this fixed order, with integers only (money in minor units,
//! rates in basis points, 10 000 = 100 %):
//!
//! 1. **Subtotal** = Σ line amounts. An empty basket, a line with `amount <= 0` or
//!    `qty <= 0`, or a negative `requested_spend` is `INVALID_AMOUNT`. The program is
//!    validated first (`INVALID_CONFIG`).
//! 2. **Tier** = [`tier_for`]: the highest level whose threshold the customer reaches
//!    (re-evaluated now, so a rolling window that no longer qualifies downgrades), or
//!    the active club's tier if higher.
//! 3. **Percentage discounts** — the candidates, in this order: the cumulative ladder
//!    step for `lifetime_spend` (`Cumulative`), the tier's `discount_bp` (`Tier`), the
//!    active club membership's `discount_bp` (`Club`), the birthday `discount_bp` while
//!    in the birthday window (`Birthday`). Candidates with 0 bp are dropped.
//!    * `Stacking::discounts = Best`: only the largest one applies (on a tie, the first
//!      in the order above).
//!    * `Sum`: the percentages add up.
//!    * Either way the applied total is capped at `max_total_discount_bp`; under `Sum`
//!      the cap trims the later candidates first (a trimmed one shows its reduced bp).
//!    * Every discount is computed on the subtotal: `amount = floor(subtotal × bp /
//!      10 000)`, each rounded down separately. As the total is at most 100 %,
//!      `after_discounts = subtotal − discount_total >= 0`.
//! 4. **Points spending** (points as a discount, after the percentage discounts):
//!    `max_redeemable = min(available, floor(floor(after_discounts × max_share_bp /
//!    10 000) / point_value))`, so the points' value never exceeds the allowed share nor
//!    the remaining amount, and `to_pay >= 0`. It is 0 when spending is disabled, when
//!    the check has a discount and `points_with_discount` is false, or when `available
//!    < spend.min_balance`. A positive request is checked in this order:
//!    `SPEND_DISABLED`, `INSUFFICIENT_POINTS` (`> available`), `BELOW_MIN_BALANCE`,
//!    `SPEND_OVER_CAP` (`> max_redeemable`). `spend_value = points × point_value`,
//!    `to_pay = after_discounts − spend_value`.
//! 5. **Earning** is on `to_pay` only (money actually paid, not the part paid with
//!    points): `points = round(to_pay × rate_bp / (10 000 × point_value))` with
//!    `earn.rounding` (default down), once per check; `rate_bp` is the tier's effective
//!    rate (its `earn_bp`, else the base `earn.rate_bp`). No purchase points when `to_pay
//!    < earn.min_check`, or when the check had a percentage discount and
//!    `earn_on_discounted` is false. The bonuses below are added independently of the
//!    discounts and of each other.
//! 6. **Threshold gift**: `to_pay >= min_amount` → `bonus_points` and the gift text.
//! 7. **Stamps**: a purchase with `to_pay >= min_amount` (and a line of `category` when
//!    set) adds one stamp; reaching `every` grants `reward_points` and resets progress
//!    to 0 (`stamps_after`).
//! 8. **Birthday bonus**: in the window `[birthday − days_before, birthday + days_after]`
//!    (29 Feb → 28 Feb in non-leap years), once per birthday year — the year of the
//!    birthday occurrence whose window contains today (a 28 Dec purchase for a 2 Jan
//!    birthday counts for the next year); the store records `birthday_bonus_year`.
//! 9. **Referral**: on the referee's first purchase (`referral_pending`), the referee
//!    earns `referee_points` (an earn item) and the referrer `referrer_points` (reported
//!    in `referrer_points`, not in `earn` / `earn_total`).
//!
//! `earn_total` = Σ `earn` items (saturating). Earned points become available at `now +
//! hold_days` and expire `expiry_months` after `now`. Settling a shortfall from these
//! earnings is the store's job.

use crate::basket::Basket;
use crate::birthday::birthday_occurrence;
use crate::config::{DiscountStacking, ProgramConfig, Stacking};
use crate::customer::CustomerSnapshot;
use crate::error::RuleError;
use crate::lots::{available_at, expires_at};
use crate::money::{apply_bp, fmt_bp, fmt_money, mul_div, Bp, Money, Points, BP_100};
use crate::tiers::{tier_for, TierInfo, TierSource};
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

/// Where a percentage discount comes from.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DiscountKind {
    Cumulative,
    Tier,
    Club,
    Birthday,
}

impl DiscountKind {
    /// Stable lowercase code (for storage).
    pub fn as_str(self) -> &'static str {
        match self {
            DiscountKind::Cumulative => "cumulative",
            DiscountKind::Tier => "tier",
            DiscountKind::Club => "club",
            DiscountKind::Birthday => "birthday",
        }
    }
}

/// One discount applied to the check.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AppliedDiscount {
    pub kind: DiscountKind,
    /// Human-readable explanation for the cashier.
    pub reason: String,
    /// Applied rate (after the stacking cap).
    pub bp: Bp,
    pub amount: Money,
}

/// Why points are earned.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EarnKind {
    Purchase,
    Threshold,
    Stamp,
    Birthday,
    ReferralReferee,
    /// Not used in `Quote::earn` (the referrer's points are `Quote::referrer_points`);
    /// available to the store for the referrer's ledger entry.
    ReferralReferrer,
}

impl EarnKind {
    /// Stable lowercase code (for storage).
    pub fn as_str(self) -> &'static str {
        match self {
            EarnKind::Purchase => "purchase",
            EarnKind::Threshold => "threshold",
            EarnKind::Stamp => "stamp",
            EarnKind::Birthday => "birthday",
            EarnKind::ReferralReferee => "referral_referee",
            EarnKind::ReferralReferrer => "referral_referrer",
        }
    }
}

/// Points earned by this check, by reason.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct EarnItem {
    pub kind: EarnKind,
    pub reason: String,
    pub points: Points,
}

/// The result of [`quote`].
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    pub program_version: u32,
    pub subtotal: Money,
    pub tier: Option<TierInfo>,
    pub discounts: Vec<AppliedDiscount>,
    pub discount_total: Money,
    pub after_discounts: Money,
    pub max_redeemable: Points,
    /// `== requested_spend` (validated).
    pub points_spent: Points,
    /// `points_spent × point_value`.
    pub spend_value: Money,
    /// `after_discounts − spend_value`, never negative.
    pub to_pay: Money,
    pub earn: Vec<EarnItem>,
    /// Points for this customer (Σ `earn`).
    pub earn_total: Points,
    /// Points for the referrer (first purchase of a referred customer).
    pub referrer_points: Points,
    /// `now + hold_days`.
    pub available_at: DateTime<Utc>,
    /// `now + expiry_months`; `None` = never.
    pub expires_at: Option<DateTime<Utc>>,
    pub stamps_after: u32,
    pub gift: Option<String>,
    /// `now` is in the birthday window.
    pub birthday_today: bool,
    /// When the quote grants the birthday bonus: the birthday year to record in
    /// `CustomerSnapshot::birthday_bonus_year`; `None` otherwise.
    pub birthday_bonus_year: Option<i32>,
}

/// The percentage discount candidates, in the documented order.
fn discount_candidates(
    c: &CustomerSnapshot,
    p: &ProgramConfig,
    tier: Option<&TierInfo>,
    in_birthday_window: bool,
    now: DateTime<Utc>,
) -> Vec<(DiscountKind, Bp, String)> {
    let mut out = Vec::new();
    if let Some(step) = p
        .cumulative
        .iter()
        .rev()
        .find(|s| s.from_spend <= c.lifetime_spend)
    {
        out.push((
            DiscountKind::Cumulative,
            step.discount_bp,
            format!(
                "cumulative discount {} (lifetime spend from {})",
                fmt_bp(step.discount_bp),
                fmt_money(step.from_spend)
            ),
        ));
    }
    if let Some(t) = tier {
        let via = match t.source {
            TierSource::Earned => "",
            TierSource::Club => " via club",
        };
        out.push((
            DiscountKind::Tier,
            t.discount_bp,
            format!("{} tier{via} discount {}", t.name, fmt_bp(t.discount_bp)),
        ));
    }
    if let Some(club) = p.club.as_ref().filter(|_| c.club_active(now)) {
        out.push((
            DiscountKind::Club,
            club.discount_bp,
            format!("club member discount {}", fmt_bp(club.discount_bp)),
        ));
    }
    if let Some(b) = p.birthday.as_ref().filter(|_| in_birthday_window) {
        out.push((
            DiscountKind::Birthday,
            b.discount_bp,
            format!("birthday discount {}", fmt_bp(b.discount_bp)),
        ));
    }
    out.retain(|(_, bp, _)| *bp > 0);
    out
}

/// Applies the stacking rule and the cap; computes the amounts on `subtotal`.
pub(crate) fn combine_discounts(
    candidates: Vec<(DiscountKind, Bp, String)>,
    subtotal: Money,
    s: &Stacking,
) -> Vec<AppliedDiscount> {
    let chosen: Vec<(DiscountKind, Bp, String)> = match s.discounts {
        DiscountStacking::Best => {
            let mut best: Option<(DiscountKind, Bp, String)> = None;
            for cand in candidates {
                let better = match &best {
                    Some(b) => cand.1 > b.1,
                    None => true,
                };
                if better {
                    best = Some(cand);
                }
            }
            best.into_iter().collect()
        }
        DiscountStacking::Sum => candidates,
    };
    let mut room = s.max_total_discount_bp.min(BP_100);
    let mut out = Vec::new();
    for (kind, bp, reason) in chosen {
        let applied = bp.min(room);
        if applied == 0 {
            continue;
        }
        room -= applied;
        let reason = if applied < bp {
            format!("{reason}, capped at {}", fmt_bp(applied))
        } else {
            reason
        };
        out.push(AppliedDiscount {
            kind,
            reason,
            bp: applied,
            amount: apply_bp(subtotal, applied),
        });
    }
    out
}

/// Points spendable on a check of `after_discounts` (see rule 4).
pub fn max_redeemable(
    c: &CustomerSnapshot,
    p: &ProgramConfig,
    after_discounts: Money,
    has_discount: bool,
) -> Points {
    if !p.spend.enabled
        || (has_discount && !p.stacking.points_with_discount)
        || c.available <= 0
        || c.available < p.spend.min_balance
        || p.point_value <= 0
    {
        return 0;
    }
    let cap_money = apply_bp(after_discounts.max(0), p.spend.max_share_bp);
    (cap_money / p.point_value).min(c.available).max(0)
}

fn check_spend(
    c: &CustomerSnapshot,
    p: &ProgramConfig,
    has_discount: bool,
    max: Points,
    requested: Points,
) -> Result<(), RuleError> {
    if requested < 0 {
        return Err(RuleError::amount(format!(
            "points to spend must not be negative, got {requested}"
        )));
    }
    if requested == 0 {
        return Ok(());
    }
    if !p.spend.enabled {
        return Err(RuleError::SpendDisabled {
            reason: "the program does not allow spending points".into(),
        });
    }
    if has_discount && !p.stacking.points_with_discount {
        return Err(RuleError::SpendDisabled {
            reason: "points cannot be combined with a discount on this check".into(),
        });
    }
    if requested > c.available {
        return Err(RuleError::InsufficientPoints {
            available: c.available.max(0),
            requested,
        });
    }
    if c.available < p.spend.min_balance {
        return Err(RuleError::BelowMinBalance {
            min_balance: p.spend.min_balance,
            available: c.available,
        });
    }
    if requested > max {
        return Err(RuleError::SpendOverCap { max });
    }
    Ok(())
}

/// Computes the quote for `c` buying `b` under program `p` at `now`, spending
/// `requested_spend` points. Pure: the store commits what it returns. See the module
/// documentation for the exact rules.
pub fn quote(
    c: &CustomerSnapshot,
    b: &Basket,
    p: &ProgramConfig,
    now: DateTime<Utc>,
    requested_spend: Points,
) -> Result<Quote, RuleError> {
    p.validate()?;
    if requested_spend < 0 {
        return Err(RuleError::amount(format!(
            "points to spend must not be negative, got {requested_spend}"
        )));
    }
    let subtotal = b.checked_total()?;
    let tier = tier_for(c, p, now);
    let birthday_day = match (c.birthday, p.birthday.as_ref()) {
        (Some(day), Some(rule)) => birthday_occurrence(day, now, rule),
        _ => None,
    };
    let candidates = discount_candidates(c, p, tier.as_ref(), birthday_day.is_some(), now);
    let discounts = combine_discounts(candidates, subtotal, &p.stacking);
    let discount_total = discounts
        .iter()
        .fold(0i64, |a, d| a.saturating_add(d.amount))
        .min(subtotal);
    let after_discounts = subtotal - discount_total;
    let has_discount = discount_total > 0;

    let max = max_redeemable(c, p, after_discounts, has_discount);
    check_spend(c, p, has_discount, max, requested_spend)?;
    let spend_value = requested_spend
        .checked_mul(p.point_value)
        .filter(|v| *v <= after_discounts)
        .ok_or(RuleError::SpendOverCap { max })?;
    let to_pay = after_discounts - spend_value;

    let mut earn = Vec::new();
    let rate = tier.as_ref().map_or(p.earn.rate_bp, |t| t.earn_bp);
    if to_pay >= p.earn.min_check && (p.stacking.earn_on_discounted || !has_discount) {
        let den = i64::from(BP_100).saturating_mul(p.point_value);
        let pts = mul_div(to_pay, i64::from(rate), den, p.earn.rounding);
        if pts > 0 {
            earn.push(EarnItem {
                kind: EarnKind::Purchase,
                reason: format!("{} of {} paid", fmt_bp(rate), fmt_money(to_pay)),
                points: pts,
            });
        }
    }

    let mut gift = None;
    if let Some(g) = p.threshold_gift.as_ref().filter(|g| to_pay >= g.min_amount) {
        gift = g.gift.clone();
        if g.bonus_points > 0 {
            earn.push(EarnItem {
                kind: EarnKind::Threshold,
                reason: format!("purchase of at least {}", fmt_money(g.min_amount)),
                points: g.bonus_points,
            });
        }
    }

    let mut stamps_after = c.stamps;
    if let Some(s) = &p.stamps {
        let in_category = match s.category.as_deref() {
            Some(cat) => b.has_category(cat),
            None => true,
        };
        let qualifies = to_pay >= s.min_amount && in_category;
        if qualifies {
            let progress = c.stamps.saturating_add(1);
            if progress >= s.every {
                stamps_after = 0;
                if s.reward_points > 0 {
                    earn.push(EarnItem {
                        kind: EarnKind::Stamp,
                        reason: format!("stamp card: purchase {} of {}", s.every, s.every),
                        points: s.reward_points,
                    });
                }
            } else {
                stamps_after = progress;
            }
        }
    }

    let mut birthday_bonus_year = None;
    if let (Some(day), Some(rule)) = (birthday_day, p.birthday.as_ref()) {
        if rule.bonus_points > 0 && c.birthday_bonus_year != Some(day.year()) {
            birthday_bonus_year = Some(day.year());
            earn.push(EarnItem {
                kind: EarnKind::Birthday,
                reason: format!("birthday bonus {}", day.year()),
                points: rule.bonus_points,
            });
        }
    }

    let mut referrer_points = 0;
    if let Some(r) = p.referral.as_ref().filter(|_| c.referral_pending) {
        referrer_points = r.referrer_points;
        if r.referee_points > 0 {
            earn.push(EarnItem {
                kind: EarnKind::ReferralReferee,
                reason: "first purchase of a referred customer".into(),
                points: r.referee_points,
            });
        }
    }

    let earn_total = earn.iter().fold(0i64, |a, e| a.saturating_add(e.points));
    Ok(Quote {
        program_version: p.version,
        subtotal,
        tier,
        discounts,
        discount_total,
        after_discounts,
        max_redeemable: max,
        points_spent: requested_spend,
        spend_value,
        to_pay,
        earn,
        earn_total,
        referrer_points,
        available_at: available_at(now, p.hold_days),
        expires_at: p.expiry_months.map(|m| expires_at(now, m)),
        stamps_after,
        gift,
        birthday_today: birthday_day.is_some(),
        birthday_bonus_year,
    })
}

#[cfg(test)]
#[path = "quote_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "quote_bonus_tests.rs"]
mod bonus_tests;

#[cfg(test)]
#[path = "quote_props.rs"]
mod props;
