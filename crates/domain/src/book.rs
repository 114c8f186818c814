//! The per-account ledger as a pure value: lots, FIFO, hold, expiry, shortfall, counters.
//!
//! The server and the till apply [`Fact`]s to an [`AccountBook`] with the same function,
//! [`AccountBook::apply`], so balances cannot drift between them. The semantics are those
//! of the till's store (`crates/store`: `ledger.rs`, `checkout.rs`, `returns.rs`,
//! `adjust.rs`), movement by movement:
//!
//! - **Credit** (an earn item, welcome, a positive adjustment, restored spent points, the
//!   referrer's points): settles the shortfall first, the rest becomes one new lot. One
//!   movement `+points` (with the lot id, if a lot was made).
//! - **Debit** (a sale's spend, a negative adjustment): takes FIFO from the lots available
//!   at the event time (earliest `expires_at` first, never-expiring last, then the oldest
//!   `earned_at`, then the oldest lot), then FIFO from the lots not yet available at that
//!   time (in hold, or earned later by a fact the server applied first); what no unexpired
//!   lot can cover becomes shortfall — an offline spend is never rejected. One movement
//!   `−points`. (A till's own debits never reach the second step: it spends only what is
//!   available.)
//! - **Take back** (a return's earned points): first from the sale's own lots (those with
//!   `source_op == sale_op_id`, oldest first, whatever their state), then from the other
//!   unexpired lots — available ones FIFO, then pending ones FIFO — and the rest becomes
//!   shortfall. One movement `−points`.
//! - **Return**: the restored spent points are credited first (settling the shortfall, the
//!   rest a `return_restore` lot available at the event time, expiring `expiry_months` from
//!   it, with `source_op` = the sale, as the store links it to the sale), then the earned
//!   points are taken back; lifetime spend drops by `spend_returned`, lifetime purchases by
//!   one when `fully_returned`.
//! - **Sale** counters: `lifetime_spend += after_discounts`, `lifetime_purchases += 1`,
//!   `stamps = stamps_after`, `birthday_bonus_year` if given, `referral_pending = false`.
//! - **Expiry** is not a fact: [`AccountBook::expire`] zeroes lots past `expires_at`.
//!
//! Lot ids are `"{op_id}:{n}"` (n = 0, 1, ... per op and book) and "oldest lot" is the
//! position in `lots`, so replaying the same facts gives identical books everywhere.
//! Invariant: `Σ movements = Σ remaining − shortfall` ([`AccountBook::total_signed`]), and
//! no lot's `remaining` is ever negative.

use crate::facts::Fact;
use crate::lots::{available_at, expires_at};
use crate::money::{Money, Points};
use crate::quote::EarnKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use thiserror::Error;

mod merge;
mod query;
mod validate;

/// The largest points value a single fact field may carry (10^15).
pub const MAX_FACT_POINTS: Points = 1_000_000_000_000_000;

/// One lot of points.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct BookLot {
    /// `"{op_id}:{n}"`.
    pub id: String,
    /// `welcome | earn | threshold | stamp | birthday | referral_referee |
    /// referral_referrer | return_restore | adjust` (the store's ledger kinds).
    pub kind: String,
    #[serde(with = "crate::time_json")]
    pub earned_at: DateTime<Utc>,
    #[serde(with = "crate::time_json")]
    pub available_at: DateTime<Utc>,
    /// `None` = never expires.
    #[serde(with = "crate::time_json::option", default)]
    pub expires_at: Option<DateTime<Utc>>,
    pub original: Points,
    pub remaining: Points,
    /// Points this lot lost to expiry and that no return has claimed back yet (a return of
    /// the lot's sale takes its earned points from here first, for free: points that
    /// already expired are not taken a second time).
    #[serde(default)]
    pub expired: Points,
    /// The op the lot belongs to: the sale for its earn lots and for spent points a return
    /// of that sale restored (so a later return of the sale takes from them first), the
    /// referee's sale for a referrer lot, the op itself otherwise.
    pub source_op: String,
}

impl BookLot {
    fn expired(&self, now: DateTime<Utc>) -> bool {
        matches!(self.expires_at, Some(e) if e <= now)
    }

    /// Spendable at `now`: points left, matured, not expired.
    pub fn is_available(&self, now: DateTime<Utc>) -> bool {
        self.remaining > 0 && self.available_at <= now && !self.expired(now)
    }

    /// In hold at `now` (points left, not yet matured, not expired).
    pub fn is_pending(&self, now: DateTime<Utc>) -> bool {
        self.remaining > 0 && self.available_at > now && !self.expired(now)
    }
}

/// The ledger state of one account.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct AccountBook {
    pub account_uid: String,
    /// In creation order (the order is part of the state: it breaks FIFO ties).
    pub lots: Vec<BookLot>,
    /// Points owed (offline overdraw, returns of spent earnings); settled by new credits.
    pub shortfall: Points,
    /// Net of returns.
    pub lifetime_spend: Money,
    pub lifetime_purchases: u32,
    pub stamps: u32,
    pub birthday_bonus_year: Option<i32>,
    pub referral_pending: bool,
    #[serde(with = "crate::time_json::option", default)]
    pub club_until: Option<DateTime<Utc>>,
}

/// The op being applied and its time as the server believes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApplyCtx<'a> {
    pub op_id: &'a str,
    pub event_time: DateTime<Utc>,
}

/// One signed points movement (a ledger entry).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Movement {
    /// `spend | earn | threshold | stamp | birthday | referral_referee | referral_referrer |
    /// return_restore | return_take | adjust | welcome | expire`.
    pub kind: String,
    pub points: Points,
    /// The lot a credit created (`None` when it all went to the shortfall, and for debits),
    /// or the lot an expiry zeroed.
    pub lot_id: Option<String>,
}

/// What applying one fact did.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct Applied {
    pub movements: Vec<Movement>,
    /// Debits the lots could not cover (to report to the owner).
    pub shortfall_added: Points,
    /// Credits that went to the shortfall instead of a lot.
    pub shortfall_settled: Points,
}

impl Applied {
    /// Σ signed movements.
    pub fn net(&self) -> Points {
        self.movements
            .iter()
            .fold(0, |a: Points, m| a.saturating_add(m.points))
    }
}

/// The balance at an instant.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct BookBalance {
    pub available: Points,
    pub pending: Points,
    pub shortfall: Points,
}

/// A fact the book cannot apply (malformed). The book is left unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BookError {
    #[error("fact for account {fact} applied to the book of account {book}")]
    WrongAccount { book: String, fact: String },
    #[error("invalid points in {field}: {value} (must be 0..={max})", max = MAX_FACT_POINTS)]
    InvalidPoints { field: &'static str, value: Points },
    #[error("invalid fact: {reason}")]
    InvalidFact { reason: String },
}

impl BookError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            BookError::WrongAccount { .. } => "WRONG_ACCOUNT",
            BookError::InvalidPoints { .. } => "INVALID_POINTS",
            BookError::InvalidFact { .. } => "INVALID_FACT",
        }
    }

    pub(crate) fn fact(reason: impl Into<String>) -> Self {
        BookError::InvalidFact {
            reason: reason.into(),
        }
    }
}

/// The store's ledger/lot kind of an earn item.
fn earn_kind(k: EarnKind) -> &'static str {
    match k {
        EarnKind::Purchase => "earn",
        other => other.as_str(),
    }
}

/// Lot ids of one op in one book: `"{op}:{n}"`, n continuing after any existing ones.
struct LotIds<'a> {
    op: &'a str,
    next: usize,
}

impl<'a> LotIds<'a> {
    fn new(book: &AccountBook, op: &'a str) -> Self {
        let next = book
            .lots
            .iter()
            .filter_map(|l| {
                l.id.strip_prefix(op)?
                    .strip_prefix(':')?
                    .parse::<usize>()
                    .ok()
            })
            .map(|n| n + 1)
            .max()
            .unwrap_or(0);
        LotIds { op, next }
    }

    fn take(&mut self) -> String {
        let id = format!("{}:{}", self.op, self.next);
        self.next += 1;
        id
    }
}

/// A lot to create (id and amounts are filled in by `credit`).
struct NewLot<'a> {
    kind: &'a str,
    at: DateTime<Utc>,
    available_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    source_op: &'a str,
}

/// FIFO order: earliest `expires_at` first (never-expiring last), then oldest `earned_at`,
/// then position (same order as `lots::fifo_take`).
fn fifo_cmp(lots: &[BookLot], a: usize, b: usize) -> Ordering {
    let (x, y) = (&lots[a], &lots[b]);
    let exp = match (x.expires_at, y.expires_at) {
        (Some(p), Some(q)) => p.cmp(&q),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    exp.then(x.earned_at.cmp(&y.earned_at)).then(a.cmp(&b))
}

pub(crate) fn sum(it: impl Iterator<Item = Points>) -> Points {
    it.fold(0, |a: Points, p| a.saturating_add(p))
}

impl AccountBook {
    /// An empty book of `account_uid`.
    pub fn new(account_uid: impl Into<String>) -> Self {
        AccountBook {
            account_uid: account_uid.into(),
            ..AccountBook::default()
        }
    }

    /// Applies one fact at `ctx.event_time`. Validates first: on error nothing changes.
    /// A `Sale`'s referrer points are not applied here (see [`Self::credit_referral`]).
    pub fn apply(&mut self, fact: &Fact, ctx: ApplyCtx<'_>) -> Result<Applied, BookError> {
        if fact.account_uid() != self.account_uid {
            return Err(BookError::WrongAccount {
                book: self.account_uid.clone(),
                fact: fact.account_uid().to_string(),
            });
        }
        validate::op_id(ctx.op_id)?;
        validate::fact(fact)?;
        let t = ctx.event_time;
        let op = ctx.op_id;
        let mut ids = LotIds::new(self, op);
        let mut out = Applied::default();
        let now_lot = |kind, months: Option<u32>, source_op| NewLot {
            kind,
            at: t,
            available_at: t,
            expires_at: months.map(|m| expires_at(t, m)),
            source_op,
        };
        match fact {
            Fact::Enrol {
                referrer_uid,
                welcome_points,
                expiry_months,
                ..
            } => {
                let lot = now_lot("welcome", *expiry_months, op);
                self.credit(*welcome_points, &lot, &mut ids, &mut out);
                self.referral_pending = referrer_uid.is_some();
            }
            Fact::Sale {
                after_discounts,
                points_spent,
                earn,
                hold_days,
                expiry_months,
                stamps_after,
                birthday_bonus_year,
                ..
            } => {
                self.debit(*points_spent, t, "spend", &mut out);
                let (avail, exp) = (
                    available_at(t, *hold_days),
                    expiry_months.map(|m| expires_at(t, m)),
                );
                for item in earn.iter().filter(|e| e.kind != EarnKind::ReferralReferrer) {
                    let lot = NewLot {
                        kind: earn_kind(item.kind),
                        at: t,
                        available_at: avail,
                        expires_at: exp,
                        source_op: op,
                    };
                    self.credit(item.points, &lot, &mut ids, &mut out);
                }
                self.lifetime_spend = self.lifetime_spend.saturating_add(*after_discounts);
                self.lifetime_purchases = self.lifetime_purchases.saturating_add(1);
                self.stamps = *stamps_after;
                if birthday_bonus_year.is_some() {
                    self.birthday_bonus_year = *birthday_bonus_year;
                }
                self.referral_pending = false;
            }
            Fact::Return {
                sale_op_id,
                earned_taken,
                spent_restored,
                expiry_months,
                spend_returned,
                fully_returned,
                ..
            } => {
                let lot = now_lot("return_restore", *expiry_months, sale_op_id);
                self.credit(*spent_restored, &lot, &mut ids, &mut out);
                self.take_back(sale_op_id, *earned_taken, t, &mut out);
                self.lifetime_spend = self.lifetime_spend.saturating_sub(*spend_returned);
                if *fully_returned {
                    self.lifetime_purchases = self.lifetime_purchases.saturating_sub(1);
                }
            }
            Fact::Adjust {
                points,
                expiry_months,
                ..
            } => {
                if *points > 0 {
                    let lot = now_lot("adjust", *expiry_months, op);
                    self.credit(*points, &lot, &mut ids, &mut out);
                } else {
                    self.debit(points.saturating_neg(), t, "adjust", &mut out);
                }
            }
            Fact::CardBlock { .. } | Fact::FamilyCard { .. } => {}
            Fact::Merge { .. } => {
                return Err(BookError::fact(
                    "a merge changes two books: it is applied with AccountBook::absorb",
                ))
            }
        }
        Ok(out)
    }

    /// Credits the referrer's points of a referee's first purchase (`op_id` = the sale's op)
    /// to this (the referrer's) book: settles the shortfall first, the rest is a
    /// `referral_referrer` lot with the sale's hold and expiry from `event_time`.
    pub fn credit_referral(
        &mut self,
        op_id: &str,
        points: Points,
        event_time: DateTime<Utc>,
        hold_days: u32,
        expiry_months: Option<u32>,
    ) -> Result<Applied, BookError> {
        validate::op_id(op_id)?;
        validate::points("referrer points", points)?;
        validate::hold_expiry(hold_days, expiry_months)?;
        let mut ids = LotIds::new(self, op_id);
        let mut out = Applied::default();
        let lot = NewLot {
            kind: "referral_referrer",
            at: event_time,
            available_at: available_at(event_time, hold_days),
            expires_at: expiry_months.map(|m| expires_at(event_time, m)),
            source_op: op_id,
        };
        self.credit(points, &lot, &mut ids, &mut out);
        Ok(out)
    }

    /// Settles the shortfall first, puts the rest in a new lot; one `+points` movement.
    fn credit(&mut self, points: Points, lot: &NewLot<'_>, ids: &mut LotIds, out: &mut Applied) {
        if points <= 0 {
            return;
        }
        let settled = points.min(self.shortfall.max(0));
        self.shortfall -= settled;
        out.shortfall_settled = out.shortfall_settled.saturating_add(settled);
        let rest = points - settled;
        let lot_id = (rest > 0).then(|| {
            let id = ids.take();
            self.lots.push(BookLot {
                id: id.clone(),
                kind: lot.kind.to_string(),
                earned_at: lot.at,
                available_at: lot.available_at,
                expires_at: lot.expires_at,
                original: rest,
                remaining: rest,
                expired: 0,
                source_op: lot.source_op.to_string(),
            });
            id
        });
        out.movements.push(Movement {
            kind: lot.kind.to_string(),
            points,
            lot_id,
        });
    }

    /// Takes `points` from the lots at `order`, in that order; returns what is left.
    fn take_from(&mut self, order: &[usize], points: Points) -> Points {
        let mut left = points;
        for &i in order {
            if left == 0 {
                break;
            }
            let n = self.lots[i].remaining.min(left);
            self.lots[i].remaining -= n;
            left -= n;
        }
        left
    }

    /// Indices of the lots `keep` selects, in FIFO order.
    fn fifo(&self, keep: impl Fn(&BookLot) -> bool) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.lots.len())
            .filter(|&i| keep(&self.lots[i]))
            .collect();
        idx.sort_by(|&a, &b| fifo_cmp(&self.lots, a, b));
        idx
    }

    fn owe(&mut self, left: Points, out: &mut Applied) {
        if left > 0 {
            self.shortfall = self.shortfall.saturating_add(left);
            out.shortfall_added = out.shortfall_added.saturating_add(left);
        }
    }

    /// FIFO from the lots available at `t`, then from the lots not yet available at `t`
    /// (in hold, or earned after `t` by a fact applied earlier); only what no unexpired lot
    /// can cover becomes shortfall. The second step makes the result independent of the
    /// order the server receives facts in: had the later earning been applied after this
    /// debit, it would have settled the shortfall at once (a credit settles first), so an
    /// account never shows a shortfall next to points it could pay it with.
    fn debit(&mut self, points: Points, t: DateTime<Utc>, kind: &str, out: &mut Applied) {
        if points <= 0 {
            return;
        }
        let mut order = self.fifo(|l| l.is_available(t));
        order.extend(self.fifo(|l| l.is_pending(t)));
        let left = self.take_from(&order, points);
        self.owe(left, out);
        out.movements.push(Movement {
            kind: kind.to_string(),
            points: -points,
            lot_id: None,
        });
    }

    /// A return's earned points: first what the sale's own lots lost to expiry (already
    /// gone: costs nothing, whether the sweep ran before the return or not), then the sale's
    /// own lots, then other unexpired lots (available FIFO, then pending FIFO), the rest
    /// becomes shortfall.
    fn take_back(&mut self, sale_op: &str, points: Points, t: DateTime<Utc>, out: &mut Applied) {
        if points <= 0 {
            return;
        }
        let mut free = 0;
        for l in self.lots.iter_mut().filter(|l| l.source_op == sale_op) {
            let n = l.expired.min(points - free);
            l.expired -= n;
            free += n;
        }
        let points = points - free;
        if points == 0 {
            return;
        }
        let mut order: Vec<usize> = (0..self.lots.len())
            .filter(|&i| self.lots[i].source_op == sale_op && self.lots[i].remaining > 0)
            .collect();
        let other = |l: &BookLot| l.source_op != sale_op && l.remaining > 0 && !l.expired(t);
        order.extend(self.fifo(|l| other(l) && l.available_at <= t));
        order.extend(self.fifo(|l| other(l) && l.available_at > t));
        let left = self.take_from(&order, points);
        self.owe(left, out);
        out.movements.push(Movement {
            kind: "return_take".to_string(),
            points: -points,
            lot_id: None,
        });
    }
}

#[cfg(test)]
#[path = "book_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "book_props.rs"]
mod props;
