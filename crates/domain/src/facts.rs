//! Facts: what happened at a till, as it is sent to the server and applied to an
//! [`AccountBook`](crate::AccountBook). A till never sends balances, only facts.
//!
//! JSON shape: internally tagged, `{"type": "sale", ...}` (`rename_all = "snake_case"`).
//! Ids (`op_id`, `customer_uid`, `account_uid`, `reservation_id`) are UUIDv7 strings; the
//! domain does not parse them. Money is `i64` minor units, points `i64`.
//!
//! Additions to the first draft of the sync contract (all `#[serde(default)]`, so a fact
//! without them still reads): `Enrol::expiry_months` and `Adjust::expiry_months` (the
//! expiry of the welcome / adjustment lot, as the till's store computes it from the program),
//! `Return::spend_returned` (how much lifetime spend the return takes back: the returned
//! share of the sale's `after_discounts`) and `Return::fully_returned` (the sale is now
//! fully returned: the purchase no longer counts).

use crate::basket::BasketLine;
use crate::money::{Money, Points};
use crate::quote::EarnItem;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The customer's profile as captured at enrolment (phone already E.164).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(default)]
pub struct Profile {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub birthday: Option<NaiveDate>,
    pub gender: Option<String>,
    pub age_group: Option<String>,
    pub home_store: Option<String>,
    /// `"sms" | "email" | "messenger" | "none"`.
    pub preferred_channel: String,
    pub marketing_consent: bool,
    pub tags: Vec<String>,
}

/// One thing that happened at a till to one account.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Fact {
    /// A new customer with a new account and a primary card; the welcome bonus.
    Enrol {
        customer_uid: String,
        account_uid: String,
        card: String,
        profile: Profile,
        /// The referrer's customer uid: the account's first purchase triggers the referral.
        referrer_uid: Option<String>,
        welcome_points: Points,
        /// Expiry of the welcome lot in months from the event time (`None` = never).
        #[serde(default)]
        expiry_months: Option<u32>,
    },
    /// A purchase: what it spent and earned (the till's quote), and the counters after it.
    Sale {
        receipt_no: String,
        card: String,
        account_uid: String,
        program_version: u32,
        lines: Vec<BasketLine>,
        subtotal: Money,
        discount_total: Money,
        after_discounts: Money,
        points_spent: Points,
        to_pay: Money,
        /// The customer's earn items (a `ReferralReferrer` item is ignored: the referrer's
        /// points are `referrer`).
        earn: Vec<EarnItem>,
        /// `(referrer account uid, points)`: credited to the referrer's book with
        /// [`AccountBook::credit_referral`](crate::AccountBook::credit_referral).
        referrer: Option<(String, Points)>,
        hold_days: u32,
        expiry_months: Option<u32>,
        stamps_after: u32,
        birthday_bonus_year: Option<i32>,
        reservation_id: Option<String>,
        offline: bool,
    },
    /// A (partial) return of the sale `sale_op_id`.
    Return {
        receipt_no: String,
        sale_op_id: String,
        account_uid: String,
        /// Money returned by this return.
        amount: Money,
        refund: Money,
        /// The earned points this return takes back (from lots, the rest becomes shortfall).
        earned_taken: Points,
        /// The spent points this return gives back (a new lot, available at once).
        spent_restored: Points,
        /// Expiry of the restored lot in months from the event time (`None` = never).
        expiry_months: Option<u32>,
        /// Lifetime spend taken back (the returned share of the sale's `after_discounts`).
        #[serde(default)]
        spend_returned: Money,
        /// After this return the sale is fully returned (lifetime purchases − 1).
        #[serde(default)]
        fully_returned: bool,
    },
    /// An owner's manual correction (non-zero, ±).
    Adjust {
        account_uid: String,
        points: Points,
        reason: String,
        author: String,
        /// Expiry of a credit's lot in months from the event time (`None` = never).
        #[serde(default)]
        expiry_months: Option<u32>,
    },
    /// A lost card blocked and a new one issued on the same account.
    CardBlock {
        account_uid: String,
        old_card: String,
        new_card: String,
    },
    /// An extra card on the same account.
    FamilyCard { account_uid: String, card: String },
    /// The owner merged `duplicate_uid` (the same person enrolled twice) into this account:
    /// it absorbs the duplicate's lots, shortfall, counters and cards
    /// ([`AccountBook::absorb`](crate::AccountBook::absorb)), and every later fact on the
    /// duplicate, also one a till recorded offline before it heard of the merge, is applied
    /// to this account ([`Fact::redirected`]). Originated by the server (an owner's request
    /// while online), never by a till's outbox.
    Merge {
        account_uid: String,
        duplicate_uid: String,
        reason: String,
        author: String,
    },
}

impl Fact {
    /// The account this fact belongs to.
    pub fn account_uid(&self) -> &str {
        match self {
            Fact::Enrol { account_uid, .. }
            | Fact::Sale { account_uid, .. }
            | Fact::Return { account_uid, .. }
            | Fact::Adjust { account_uid, .. }
            | Fact::CardBlock { account_uid, .. }
            | Fact::FamilyCard { account_uid, .. }
            | Fact::Merge { account_uid, .. } => account_uid,
        }
    }

    /// This fact as it applies once account `from` was merged into `to`: its own account
    /// and a sale's referrer account `from` become `to` (a merge's duplicate does not: it
    /// names the account merged). `None` when the fact does not name `from`.
    pub fn redirected(&self, from: &str, to: &str) -> Option<Fact> {
        let mut f = self.clone();
        let mut changed = false;
        if f.account_uid() == from {
            *f.account_uid_mut() = to.to_string();
            changed = true;
        }
        if let Fact::Sale {
            referrer: Some((r, _)),
            ..
        } = &mut f
        {
            if r == from {
                *r = to.to_string();
                changed = true;
            }
        }
        changed.then_some(f)
    }

    fn account_uid_mut(&mut self) -> &mut String {
        match self {
            Fact::Enrol { account_uid, .. }
            | Fact::Sale { account_uid, .. }
            | Fact::Return { account_uid, .. }
            | Fact::Adjust { account_uid, .. }
            | Fact::CardBlock { account_uid, .. }
            | Fact::FamilyCard { account_uid, .. }
            | Fact::Merge { account_uid, .. } => account_uid,
        }
    }

    /// The fact's type tag, as in the JSON `type` field.
    pub fn kind(&self) -> &'static str {
        match self {
            Fact::Enrol { .. } => "enrol",
            Fact::Sale { .. } => "sale",
            Fact::Return { .. } => "return",
            Fact::Adjust { .. } => "adjust",
            Fact::CardBlock { .. } => "card_block",
            Fact::FamilyCard { .. } => "family_card",
            Fact::Merge { .. } => "merge",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quote::EarnKind;

    fn sale() -> Fact {
        Fact::Sale {
            receipt_no: "T1-000001".into(),
            card: "2000000000015".into(),
            account_uid: "acc".into(),
            program_version: 1,
            lines: vec![BasketLine {
                sku: "CHECK".into(),
                category: None,
                qty: 1,
                amount: 10_000,
            }],
            subtotal: 10_000,
            discount_total: 0,
            after_discounts: 10_000,
            points_spent: 0,
            to_pay: 10_000,
            earn: vec![EarnItem {
                kind: EarnKind::Purchase,
                reason: "5 %".into(),
                points: 5,
            }],
            referrer: Some(("ref".into(), 200)),
            hold_days: 14,
            expiry_months: Some(12),
            stamps_after: 1,
            birthday_bonus_year: None,
            reservation_id: None,
            offline: true,
        }
    }

    #[test]
    fn json_is_tagged_snake_case_and_round_trips() {
        let f = sale();
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["type"], "sale");
        assert_eq!(v["referrer"], serde_json::json!(["ref", 200]));
        let back: Fact = serde_json::from_value(v).unwrap();
        assert_eq!(back, f);
        let cb = Fact::CardBlock {
            account_uid: "a".into(),
            old_card: "1".into(),
            new_card: "2".into(),
        };
        let v = serde_json::to_value(&cb).unwrap();
        assert_eq!(v["type"], "card_block");
        assert_eq!(serde_json::from_value::<Fact>(v).unwrap(), cb);
    }

    #[test]
    fn optional_additions_default_when_absent() {
        let v = serde_json::json!({
            "type": "return", "receipt_no": "r", "sale_op_id": "s", "account_uid": "a",
            "amount": 100, "refund": 100, "earned_taken": 5, "spent_restored": 0,
            "expiry_months": null
        });
        let f: Fact = serde_json::from_value(v).unwrap();
        assert!(matches!(
            f,
            Fact::Return {
                spend_returned: 0,
                fully_returned: false,
                ..
            }
        ));
        let v = serde_json::json!({"type": "adjust", "account_uid": "a", "points": -3,
            "reason": "x", "author": "owner"});
        let f: Fact = serde_json::from_value(v).unwrap();
        assert_eq!(f.kind(), "adjust");
        assert_eq!(f.account_uid(), "a");
    }

    #[test]
    fn unknown_type_is_an_error() {
        let v = serde_json::json!({"type": "teleport", "account_uid": "a"});
        assert!(serde_json::from_value::<Fact>(v).is_err());
    }

    #[test]
    fn kinds_and_accounts() {
        let f = sale();
        assert_eq!((f.kind(), f.account_uid()), ("sale", "acc"));
        let f = Fact::FamilyCard {
            account_uid: "x".into(),
            card: "c".into(),
        };
        assert_eq!((f.kind(), f.account_uid()), ("family_card", "x"));
    }

    #[test]
    fn redirected_names_the_survivor() {
        let f = sale();
        let moved = f.redirected("acc", "s").unwrap();
        assert_eq!(moved.account_uid(), "s");
        let via_referrer = f.redirected("ref", "s").unwrap();
        assert!(matches!(
            via_referrer,
            Fact::Sale { referrer: Some((ref r, 200)), ref account_uid, .. } if r == "s" && account_uid == "acc"
        ));
        assert!(f.redirected("other", "s").is_none());
        let m = Fact::Merge {
            account_uid: "a".into(),
            duplicate_uid: "d".into(),
            reason: "twice".into(),
            author: "owner".into(),
        };
        assert!(m.redirected("d", "a").is_none());
        assert_eq!(m.redirected("a", "z").unwrap().account_uid(), "z");
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["type"], "merge");
        assert_eq!(serde_json::from_value::<Fact>(v).unwrap(), m);
    }
}
