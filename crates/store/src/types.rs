//! Public request and result types of the store.

use chrono::{DateTime, NaiveDate, Utc};
use loyalty_domain::{Basket, Money, Points, TierInfo};
use serde::{Deserialize, Serialize};

/// Preferred contact channel of a customer.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Email,
    Messenger,
    #[default]
    None,
}

impl Channel {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
            Channel::Messenger => "messenger",
            Channel::None => "none",
        }
    }
    pub(crate) fn parse(s: &str) -> Channel {
        match s {
            "sms" => Channel::Sms,
            "email" => Channel::Email,
            "messenger" => Channel::Messenger,
            _ => Channel::None,
        }
    }
}

/// A customer to enrol. `phone` is normalised to E.164 with the till's default region.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewCustomer {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub birthday: Option<NaiveDate>,
    pub gender: Option<String>,
    pub age_group: Option<String>,
    /// Home store id; defaults to the till's store.
    pub home_store: Option<String>,
    pub preferred_channel: Channel,
    pub marketing_consent: bool,
    pub tags: Vec<String>,
    /// Who brought this customer: a card number or a phone (any format).
    pub referrer: Option<String>,
}

/// Result of [`crate::Store::enrol`].
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolled {
    pub customer_id: i64,
    pub account_id: i64,
    /// The new primary card number (EAN-13).
    pub card: String,
    pub welcome_points: Points,
}

/// A stored customer.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: i64,
    /// Global id (the enrol op id): stable across tills for sync.
    pub uid: String,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub birthday: Option<NaiveDate>,
    pub gender: Option<String>,
    pub age_group: Option<String>,
    pub home_store: Option<String>,
    pub preferred_channel: Channel,
    pub marketing_consent: bool,
    pub consent_at: Option<DateTime<Utc>>,
    pub tags: Vec<String>,
    pub referrer_id: Option<i64>,
    pub enrolled_at: DateTime<Utc>,
    pub enrolled_store: String,
    pub enrolled_till: String,
}

/// Status of a card.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CardStatus {
    Active,
    Blocked,
}

/// A card of an account (primary or family).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardInfo {
    pub number: String,
    /// `true` for a family card added with [`crate::Store::add_family_card`].
    pub family: bool,
    pub status: CardStatus,
    pub replaced_by: Option<String>,
    pub issued_at: DateTime<Utc>,
}

/// Points of an account at a moment.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Balance {
    /// Spendable now (matured, unexpired lots). Never negative.
    pub available: Points,
    /// Earned but still on hold.
    pub pending: Points,
    /// Owed; settled from future earnings first.
    pub shortfall: Points,
    /// Points of the soonest-expiring lots expiring within [`EXPIRING_SOON_DAYS`].
    pub expiring_soon: Points,
    /// When the next points expire (any horizon), if any.
    pub next_expiry: Option<DateTime<Utc>>,
}

/// Horizon of [`Balance::expiring_soon`].
pub const EXPIRING_SOON_DAYS: i64 = 30;

/// What the cashier sees after a scan.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerView {
    pub customer: Customer,
    pub account_id: i64,
    /// The account's global uid (the facts' and the server's `account_uid`).
    pub account_uid: String,
    /// The card that was scanned (or the account's active primary card for a phone lookup).
    pub card: String,
    /// All cards of the account, family cards and blocked ones included.
    pub cards: Vec<CardInfo>,
    pub tier: Option<TierInfo>,
    pub balance: Balance,
    pub lifetime_spend: Money,
    pub lifetime_purchases: u32,
    /// What the program's tiers are measured on now (spend or purchases, lifetime or in
    /// the rolling window): the figure to compare with the next tier's threshold.
    pub tier_measure: i64,
    pub stamps: u32,
    pub club_until: Option<DateTime<Utc>>,
    /// Today is in the program's birthday window.
    pub birthday_window: bool,
    /// What the customer buys, per product category: the server's summary (every till)
    /// with this till's sales it does not include yet; most purchases first, at most
    /// [`loyalty_wire::MAX_CATEGORIES`] (see `categories.rs`).
    pub categories: Vec<loyalty_wire::CategoryStat>,
}

/// A hit of [`crate::Store::search_name`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CustomerHit {
    pub customer_id: i64,
    pub account_id: i64,
    pub name: String,
    pub phone: Option<String>,
}

/// A sale to commit.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckoutRequest {
    /// Card number (or QR payload) scanned.
    pub card: String,
    pub basket: Basket,
    /// Points the customer spends on this check.
    pub spend: Points,
    /// Receipt number of the POS; generated as `<till>-<seq>` when `None`.
    pub receipt: Option<String>,
}

/// A committed sale.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub receipt_no: String,
    pub sale_id: i64,
    pub account_id: i64,
    pub card: String,
    pub sold_at: DateTime<Utc>,
    pub program_version: u32,
    pub subtotal: Money,
    pub discount_total: Money,
    pub after_discounts: Money,
    pub points_spent: Points,
    pub spend_value: Money,
    pub to_pay: Money,
    /// Points earned by this customer on this check (all earn items).
    pub earned: Points,
    /// Part of `earned` that settled an earlier shortfall instead of creating a lot.
    pub settled_shortfall: Points,
    /// Points credited to the referrer (first purchase of a referred customer).
    pub referrer_points: Points,
    pub available_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub stamps_after: u32,
    pub gift: Option<String>,
    pub tier_code: Option<String>,
}

/// What is returned.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReturnItems {
    /// Everything not yet returned.
    All,
    /// `(sku, qty)` pairs.
    Lines(Vec<ReturnLine>),
    /// An amount of the sale's subtotal (pre-discount line amounts), minor units.
    Amount(Money),
}

/// One returned line.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLine {
    pub sku: String,
    pub qty: i64,
}

/// A return (refund) request, linked to the original receipt.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnRequest {
    pub receipt_no: String,
    pub items: ReturnItems,
}

/// A committed return.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnReceipt {
    pub return_id: i64,
    pub receipt_no: String,
    /// Returned part of the subtotal.
    pub amount: Money,
    /// Money to give back (proportional part of what was paid).
    pub refund: Money,
    /// Earned points taken back from lots.
    pub earned_taken: Points,
    /// Earned points that could not be taken back (already spent): added to the shortfall.
    pub shortfall_added: Points,
    /// Spent points given back as a new lot.
    pub spent_restored: Points,
    /// The whole sale is now returned.
    pub fully_returned: bool,
}

/// Result of [`crate::Store::adjust`].
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjusted {
    pub adjustment_id: i64,
    pub account_id: i64,
    pub points: Points,
    /// Part of a positive adjustment that settled the shortfall.
    pub settled_shortfall: Points,
}

/// One event of the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEvent {
    pub seq: i64,
    pub op_id: String,
    pub kind: String,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub acked: bool,
}
