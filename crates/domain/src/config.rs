//! The program configuration an owner sets: versioned, serde-serializable.
//! Validation lives in `validate.rs`.

use crate::money::{Bp, Money, Points, Rounding};
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// A complete, versioned loyalty program. Every quote records the `version` it used.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProgramConfig {
    pub version: u32,
    pub effective_from: DateTime<Utc>,
    /// ISO 4217 code: "RUB", "BGN", "EUR", ...
    pub currency: String,
    /// Money value of 1 point, minor units (100 = 1.00).
    pub point_value: Money,
    pub earn: EarnRule,
    pub spend: SpendRule,
    /// Cumulative discount ladder by lifetime spend, ascending `from_spend`.
    pub cumulative: Vec<CumulativeStep>,
    pub tiers: TierRule,
    pub club: Option<ClubRule>,
    pub stamps: Option<StampRule>,
    pub threshold_gift: Option<ThresholdGift>,
    /// Points granted by the store at enrolment.
    pub welcome_bonus: Points,
    pub birthday: Option<BirthdayRule>,
    pub referral: Option<ReferralRule>,
    /// Earned points are pending for N days (0 = available immediately).
    pub hold_days: u32,
    /// Points expire N months after being earned; `None` = never.
    pub expiry_months: Option<u32>,
    /// How many points a till may let a customer spend while offline (used by sync).
    pub offline_spend_limit: Points,
    pub stacking: Stacking,
}

/// Earning points on purchases.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct EarnRule {
    /// Base earn rate (500 = 5 %) of the amount actually paid; a tier's `earn_bp` overrides it.
    pub rate_bp: Bp,
    /// Rounding of the per-check earn (default `Down`).
    pub rounding: Rounding,
    /// No purchase points when `to_pay` is below this amount (0 = always).
    pub min_check: Money,
}

/// Spending points as a discount.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SpendRule {
    pub enabled: bool,
    /// Share of the check after discounts payable with points (3000 = 30 %).
    pub max_share_bp: Bp,
    /// Minimum available balance required to start spending.
    pub min_balance: Points,
}

/// One step of the cumulative discount ladder.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CumulativeStep {
    /// Lifetime spend (minor units, net of returns) from which the step applies.
    pub from_spend: Money,
    pub discount_bp: Bp,
}

/// What a tier threshold measures.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TierBasis {
    /// Money spent (minor units).
    Spend,
    /// Number of purchases.
    Purchases,
}

/// Over which period a tier threshold is measured.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TierWindow {
    /// Since enrolment (uses `lifetime_spend` / `lifetime_purchases`).
    Lifetime,
    /// The last N days (uses `window_spend` / `window_purchases`, computed by the store).
    RollingDays(u32),
}

/// Multi-level status.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TierRule {
    pub basis: TierBasis,
    pub window: TierWindow,
    /// Ascending by `threshold`; empty = no tiers.
    pub levels: Vec<Tier>,
}

/// One status level.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Tier {
    pub code: String,
    pub name: String,
    /// Minor units for `TierBasis::Spend`, a count for `TierBasis::Purchases`.
    pub threshold: i64,
    /// Overrides `earn.rate_bp` for members of this tier.
    pub earn_bp: Option<Bp>,
    /// Percentage discount for members of this tier (0 = none).
    pub discount_bp: Bp,
}

/// Paid membership: a fee buys a tier and/or a discount for a period.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ClubRule {
    pub fee: Money,
    pub period_days: u32,
    /// Tier granted while the membership is active (if higher than the earned one).
    pub tier_code: Option<String>,
    /// Discount granted while the membership is active (0 = none).
    pub discount_bp: Bp,
}

/// Stamp card: every `every`-th qualifying purchase is rewarded.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StampRule {
    pub every: u32,
    /// A purchase qualifies when `to_pay >= min_amount` ...
    pub min_amount: Money,
    /// ... and, when set, the basket has a line of this category.
    pub category: Option<String>,
    pub reward_points: Points,
}

/// Gift or bonus for a purchase of at least `min_amount` (compared with `to_pay`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ThresholdGift {
    pub min_amount: Money,
    pub bonus_points: Points,
    /// Text shown to the cashier ("a free tote bag").
    pub gift: Option<String>,
}

/// Birthday bonus (once per year) and/or discount in a window around the birthday.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct BirthdayRule {
    pub days_before: u32,
    pub days_after: u32,
    pub bonus_points: Points,
    pub discount_bp: Bp,
}

/// Referral: both sides get points after the referee's first purchase.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ReferralRule {
    pub referrer_points: Points,
    pub referee_points: Points,
}

/// How percentage discounts combine.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum DiscountStacking {
    /// Only the largest percentage discount applies.
    #[default]
    Best,
    /// Percentages add up (then capped by `max_total_discount_bp`).
    Sum,
}

/// Combination rules (see the doc comment of `quote.rs`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Stacking {
    pub discounts: DiscountStacking,
    /// Cap of all percentage discounts together (default 5000 = 50 %).
    pub max_total_discount_bp: Bp,
    /// May points be spent on a check that already has a discount (default true).
    pub points_with_discount: bool,
    /// Earn purchase points on a check that had a percentage discount (default true).
    pub earn_on_discounted: bool,
}

impl Default for Stacking {
    fn default() -> Self {
        Stacking {
            discounts: DiscountStacking::Best,
            max_total_discount_bp: 5_000,
            points_with_discount: true,
            earn_on_discounted: true,
        }
    }
}

impl Default for EarnRule {
    fn default() -> Self {
        EarnRule {
            rate_bp: 500,
            rounding: Rounding::Down,
            min_check: 0,
        }
    }
}

impl Default for SpendRule {
    fn default() -> Self {
        SpendRule {
            enabled: true,
            max_share_bp: 3_000,
            min_balance: 0,
        }
    }
}

fn tier(code: &str, name: &str, threshold: i64, earn_bp: Option<Bp>) -> Tier {
    Tier {
        code: code.to_string(),
        name: name.to_string(),
        threshold,
        earn_bp,
        discount_bp: 0,
    }
}

impl Default for ProgramConfig {
    /// The demo program: 5 % earn, 30 % spend cap, 1 point = 1.00, 14-day hold, 12-month
    /// expiry, ladder 3 % / 5 % from 10 000.00 / 10 % from 50 000.00, tiers Base / Silver
    /// (7 %) / Gold (10 %) by rolling 365-day spend, every 6th purchase rewarded, welcome
    /// 100, birthday ±7 days (300 points + 10 %), referral 200/200, best discount wins.
    fn default() -> Self {
        ProgramConfig {
            version: 1,
            effective_from: Utc
                .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
                .single()
                .unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
            currency: "RUB".to_string(),
            point_value: 100,
            earn: EarnRule::default(),
            spend: SpendRule::default(),
            cumulative: vec![
                CumulativeStep {
                    from_spend: 0,
                    discount_bp: 300,
                },
                CumulativeStep {
                    from_spend: 1_000_000,
                    discount_bp: 500,
                },
                CumulativeStep {
                    from_spend: 5_000_000,
                    discount_bp: 1_000,
                },
            ],
            tiers: TierRule {
                basis: TierBasis::Spend,
                window: TierWindow::RollingDays(365),
                levels: vec![
                    tier("BASE", "Base", 0, None),
                    tier("SILVER", "Silver", 3_000_000, Some(700)),
                    tier("GOLD", "Gold", 10_000_000, Some(1_000)),
                ],
            },
            club: None,
            stamps: Some(StampRule {
                every: 6,
                min_amount: 10_000,
                category: None,
                reward_points: 200,
            }),
            threshold_gift: None,
            welcome_bonus: 100,
            birthday: Some(BirthdayRule {
                days_before: 7,
                days_after: 7,
                bonus_points: 300,
                discount_bp: 1_000,
            }),
            referral: Some(ReferralRule {
                referrer_points: 200,
                referee_points: 200,
            }),
            hold_days: 14,
            expiry_months: Some(12),
            offline_spend_limit: 500,
            stacking: Stacking::default(),
        }
    }
}

impl ProgramConfig {
    /// Index of the tier with `code` in `tiers.levels`.
    pub fn tier_index(&self, code: &str) -> Option<usize> {
        self.tiers.levels.iter().position(|t| t.code == code)
    }
}
