//! `GET /api/v1/dashboard` (owner): the program's figures for a period and a store.
//!
//! Money is minor units (`i64`), points `i64`. Rates are basis points (`_bp`, 10 000 =
//! 100 %), rounded down; a rate whose base is zero is `null`. Every figure's one-line
//! definition is in [`DEFINITIONS`] (the single source of truth; the response repeats it
//! as `definitions` so a UI can show it on hover). Periods are whole UTC days, `from` and
//! `to` inclusive.

use chrono::{DateTime, NaiveDate, Utc};
use loyalty_domain::{Money, Points};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// RFM segment thresholds (days before the request time).
pub mod segment_days {
    /// "new": first purchase within this many days.
    pub const NEW_WITHIN: i64 = 30;
    /// "loyal": at least [`LOYAL_MIN_PURCHASES`] purchases and the last within this many days.
    pub const LOYAL_WITHIN: i64 = 60;
    pub const LOYAL_MIN_PURCHASES: i64 = 3;
    /// "at risk": last purchase between [`LOYAL_WITHIN`] and this many days ago.
    pub const AT_RISK_WITHIN: i64 = 120;
}

/// Query of `GET /api/v1/dashboard`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// A store id or name (`GET /api/v1/tills` lists them); absent = the whole chain.
    pub store: Option<String>,
    /// First day (YYYY-MM-DD, UTC); default: `to` − 29 days.
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD, UTC), inclusive; default: today.
    pub to: Option<String>,
}

/// One day of the charts.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DailyPoint {
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    pub member_sales: i64,
    pub anonymous_sales: i64,
    pub member_revenue: Money,
    pub anonymous_revenue: Money,
    pub new_members: i64,
    pub points_earned: Points,
    pub points_spent: Points,
    pub points_expired: Points,
}

/// Members by RFM segment, as of the request time (see [`segment_days`]); every member
/// is in exactly one segment.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Segments {
    pub new: i64,
    pub loyal: i64,
    pub at_risk: i64,
    pub lapsed: i64,
    /// Bought within 60 days but neither new nor loyal.
    pub active: i64,
    /// Never bought.
    pub no_purchase: i64,
}

/// NPS answers in the period.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Nps {
    pub answers: i64,
    /// Scores 9–10.
    pub promoters: i64,
    /// Scores 7–8.
    pub passives: i64,
    /// Scores 0–6.
    pub detractors: i64,
    /// −100..100: (promoters − detractors) × 100 ÷ answers, truncated; null without answers.
    pub score: Option<i64>,
}

/// The program's return on its cost (method in [`DEFINITIONS`]).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Roi {
    /// (member AOV − non-member AOV) × member purchases; null without non-member sales.
    pub incremental_revenue: Option<Money>,
    /// Money value of the points earned + discounts given on member sales.
    pub cost: Money,
    /// (incremental − cost) ÷ cost in bp; null when either is unknown or cost is 0.
    pub roi_bp: Option<i64>,
}

/// `GET /api/v1/dashboard` answer.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Dashboard {
    /// The store filter (its id), null = the whole chain.
    pub store: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    #[schema(value_type = String, format = DateTime)]
    pub as_of: DateTime<Utc>,
    pub currency: String,
    /// Money value of one point (program in force at `as_of`).
    pub point_value: Money,
    pub new_members: i64,
    pub member_sales: i64,
    pub anonymous_sales: i64,
    pub member_revenue: Money,
    pub anonymous_revenue: Money,
    pub card_share_bp: Option<i64>,
    pub aov_member: Option<Money>,
    pub aov_non_member: Option<Money>,
    pub active_members: i64,
    pub purchase_frequency_x100: Option<i64>,
    pub retention_base: i64,
    pub retained: i64,
    pub retention_bp: Option<i64>,
    pub members_total: i64,
    pub buyers_total: i64,
    pub repeat_buyers_total: i64,
    pub repeat_purchase_rate_bp: Option<i64>,
    pub ltv: Option<Money>,
    pub points_liability: Points,
    pub points_liability_value: Money,
    pub points_earned: Points,
    pub points_spent: Points,
    pub points_expired: Points,
    pub breakage_rate_bp: Option<i64>,
    pub discounts_given: Money,
    pub returns: i64,
    pub returned_amount: Money,
    pub roi: Roi,
    pub nps: Nps,
    pub segments: Segments,
    pub daily: Vec<DailyPoint>,
    /// Figure name → one-line definition ([`DEFINITIONS`]).
    pub definitions: BTreeMap<String, String>,
}

/// One line per figure of [`Dashboard`]: what it counts and how.
pub const DEFINITIONS: &[(&str, &str)] = &[
    ("new_members", "Members enrolled in the period (at the store's tills when a store is chosen)."),
    ("member_sales", "Sales made with a loyalty card in the period."),
    ("anonymous_sales", "Sales without a card reported by the tills in the period."),
    ("member_revenue", "Sum of the checks after discounts of member sales in the period."),
    ("anonymous_revenue", "Sum of the checks of sales without a card in the period."),
    ("card_share_bp", "Share of sales made with a card: member sales ÷ all sales."),
    ("aov_member", "Average check of members: member revenue ÷ member sales."),
    ("aov_non_member", "Average check without a card: anonymous revenue ÷ anonymous sales."),
    ("active_members", "Members who bought at least once in the period."),
    ("purchase_frequency_x100", "Purchases per active member in the period (× 100)."),
    ("retention_bp", "Retention: members who bought in the previous period of equal length and again in this one ÷ members who bought in the previous period."),
    ("repeat_purchase_rate_bp", "Repeat purchase rate: members with ≥ 2 purchases ever ÷ members with ≥ 1 (as of now; fully returned sales do not count)."),
    ("ltv", "Lifetime value: mean net spend (sales after discounts minus returns) over all members, their whole history."),
    ("points_liability", "Points outstanding now (available + pending, not expired): a debt to customers."),
    ("points_liability_value", "Points liability × the money value of a point of the program in force."),
    ("points_earned", "Points credited in the period: purchases and bonuses, welcome and referral points."),
    ("points_spent", "Points spent on sales in the period."),
    ("points_expired", "Points that expired in the period (by their lots' expiry day)."),
    ("breakage_rate_bp", "Breakage: points expired ÷ points earned in the period."),
    ("discounts_given", "Percentage discounts given on member sales in the period (money)."),
    ("returns", "Returns of member sales in the period."),
    ("returned_amount", "Money returned on member sales in the period."),
    ("roi", "ROI = (incremental revenue − cost) ÷ cost; incremental revenue = (member AOV − non-member AOV) × member sales; cost = points earned × point value + discounts given."),
    ("nps", "Net Promoter Score: % promoters (9–10) − % detractors (0–6) of the 0–10 answers collected at the tills in the period."),
    ("segments", "RFM as of now: new = first purchase ≤ 30 days ago; loyal = ≥ 3 purchases and last ≤ 60 days ago; at risk = last purchase 61–120 days ago; lapsed = > 120 days ago; active = other buyers; no purchase = never bought."),
    ("daily", "Per day: sales with and without a card, revenue, new members, points earned, spent and expired."),
];

/// [`DEFINITIONS`] as the response's map.
pub fn definitions() -> BTreeMap<String, String> {
    DEFINITIONS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
