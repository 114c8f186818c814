//! Pure loyalty rules (no I/O): program configuration, quotes, tiers, lots, and the
//! per-account book that applies till facts (`facts`, `book`).
//!
//! Money and points are `i64` integers (money in minor units), rates are basis points
//! (`u32`, 10 000 = 100 %); no floats anywhere. Everything public is re-exported at the
//! crate root: `loyalty_domain::{ProgramConfig, CustomerSnapshot, Basket, quote, ...}`.
//! The combination rules are documented on the [`quote`](mod@quote) module.

pub mod basket;
pub mod birthday;
pub mod book;
pub mod config;
pub mod customer;
pub mod error;
pub mod facts;
pub mod lots;
pub mod money;
pub mod quote;
pub mod returns;
pub mod tiers;
pub mod time_json;
mod validate;

pub use basket::{Basket, BasketLine};
pub use birthday::{birthday_in_year, birthday_occurrence, birthday_window};
pub use book::{
    AccountBook, Applied, ApplyCtx, BookBalance, BookError, BookLot, Movement, MAX_FACT_POINTS,
};
pub use config::{
    BirthdayRule, ClubRule, CumulativeStep, DiscountStacking, EarnRule, ProgramConfig,
    ReferralRule, SpendRule, Stacking, StampRule, ThresholdGift, Tier, TierBasis, TierRule,
    TierWindow,
};
pub use customer::CustomerSnapshot;
pub use error::{RuleError, RuleResult};
pub use facts::{Fact, Profile};
pub use lots::{available_at, expires_at, expiry_schedule, fifo_take, LotView};
pub use money::{apply_bp, fmt_bp, fmt_money, mul_div, Bp, Money, Points, Rounding, BP_100};
pub use quote::{max_redeemable, quote, AppliedDiscount, DiscountKind, EarnItem, EarnKind, Quote};
pub use returns::{return_share, return_share_delta};
pub use tiers::{club_extend, tier_for, tier_measure, TierInfo, TierSource};
pub use validate::{MAX_EXPIRY_MONTHS, MAX_HOLD_DAYS, MAX_PERIOD_DAYS};
