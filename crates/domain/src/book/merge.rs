//! Merging a duplicate account (the same person enrolled twice) into a survivor.
//!
//! [`AccountBook::absorb`] moves every lot of the duplicate to the survivor as it is (same
//! amounts, dates, hold, expiry, `source_op`: a later return of one of the duplicate's
//! sales still takes back from that sale's own lots first), adds the shortfalls and the
//! counters, and then settles the combined shortfall from the combined lots (what a credit
//! would have done had the two accounts always been one): nobody shows a debt next to
//! points that could pay it. Not a point is created or lost:
//! `survivor.total_signed() + duplicate.total_signed()` is the same before and after.
//!
//! Movements: the survivor gets one `merge_in` of the duplicate's net
//! (`Σ remaining − shortfall`), the duplicate one `merge_out` of its negation (none when
//! the net is 0), so `Σ movements = Σ remaining − shortfall` holds for both books.
//!
//! Lot ids stay as they are unless the survivor has the same id already (a sale of one
//! crediting the other as its referrer makes `"{op}:0"` in both books): such a lot takes
//! the next id of the merge op (`"{merge op}:{n}"`), so replaying gives identical books.

use super::{validate, AccountBook, Applied, ApplyCtx, BookError, LotIds, Movement};
use crate::facts::Fact;
use chrono::{DateTime, Utc};

impl AccountBook {
    /// Applies the [`Fact::Merge`] `fact` (op `ctx.op_id` at `ctx.event_time`): absorbs
    /// `duplicate` into this book; the duplicate is left empty (no lots, no shortfall,
    /// counters zero). Returns what it did to this book and to the duplicate. Errors
    /// (nothing changed): not a merge of these two books, a malformed fact or op id.
    pub fn absorb(
        &mut self,
        duplicate: &mut AccountBook,
        fact: &Fact,
        ctx: ApplyCtx<'_>,
    ) -> Result<(Applied, Applied), BookError> {
        let Fact::Merge {
            account_uid,
            duplicate_uid,
            ..
        } = fact
        else {
            return Err(BookError::fact(format!(
                "absorb applies a merge, not a {}",
                fact.kind()
            )));
        };
        if *account_uid != self.account_uid || *duplicate_uid != duplicate.account_uid {
            return Err(BookError::WrongAccount {
                book: format!("{} + {}", self.account_uid, duplicate.account_uid),
                fact: format!("{account_uid} + {duplicate_uid}"),
            });
        }
        validate::op_id(ctx.op_id)?;
        validate::fact(fact)?;
        let (op_id, event_time) = (ctx.op_id, ctx.event_time);
        let net = duplicate.total_signed();
        let mut ids = LotIds::new(self, op_id);
        let taken: std::collections::HashSet<String> =
            self.lots.iter().map(|l| l.id.clone()).collect();
        for mut lot in std::mem::take(&mut duplicate.lots) {
            if taken.contains(&lot.id) {
                lot.id = ids.take();
            }
            self.lots.push(lot);
        }
        self.shortfall = self.shortfall.saturating_add(duplicate.shortfall);
        self.settle_from_lots(event_time);
        self.lifetime_spend = self.lifetime_spend.saturating_add(duplicate.lifetime_spend);
        self.lifetime_purchases = self
            .lifetime_purchases
            .saturating_add(duplicate.lifetime_purchases);
        self.stamps = self.stamps.saturating_add(duplicate.stamps);
        self.birthday_bonus_year = self.birthday_bonus_year.max(duplicate.birthday_bonus_year);
        self.club_until = self.club_until.max(duplicate.club_until);
        self.referral_pending =
            (self.referral_pending || duplicate.referral_pending) && self.lifetime_purchases == 0;
        let duplicate_uid = std::mem::take(&mut duplicate.account_uid);
        *duplicate = AccountBook::new(duplicate_uid);
        let movement = |kind: &str, points| Applied {
            movements: (points != 0)
                .then(|| Movement {
                    kind: kind.to_string(),
                    points,
                    lot_id: None,
                })
                .into_iter()
                .collect(),
            ..Applied::default()
        };
        Ok((movement("merge_in", net), movement("merge_out", -net)))
    }

    /// Pays the shortfall from unexpired lots: available ones FIFO, then pending ones FIFO
    /// (a debit's order). `Σ remaining − shortfall` does not change.
    fn settle_from_lots(&mut self, t: DateTime<Utc>) {
        if self.shortfall <= 0 {
            return;
        }
        let mut order = self.fifo(|l| l.is_available(t));
        order.extend(self.fifo(|l| l.is_pending(t)));
        let owed = self.shortfall;
        let left = self.take_from(&order, owed);
        self.shortfall = left;
    }
}

#[cfg(test)]
mod tests {
    use crate::facts::Fact;
    use crate::{AccountBook, ApplyCtx};
    use chrono::{Duration, TimeZone, Utc};

    fn adjust(account: &str, points: i64) -> Fact {
        Fact::Adjust {
            account_uid: account.into(),
            points,
            reason: "r".into(),
            author: "o".into(),
            expiry_months: None,
        }
    }

    #[test]
    fn absorb_moves_everything_and_settles_the_debt() {
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut s = AccountBook::new("s");
        let mut d = AccountBook::new("d");
        s.apply(
            &adjust("s", 300),
            ApplyCtx {
                op_id: "op1",
                event_time: t,
            },
        )
        .unwrap();
        d.apply(
            &adjust("d", -50),
            ApplyCtx {
                op_id: "op2",
                event_time: t,
            },
        )
        .unwrap();
        d.apply(
            &adjust("d", 120),
            ApplyCtx {
                op_id: "op1",
                event_time: t,
            },
        )
        .unwrap();
        d.lifetime_spend = 9_000;
        d.lifetime_purchases = 3;
        d.stamps = 2;
        s.stamps = 1;
        let before = s.total_signed() + d.total_signed();
        let later = t + Duration::days(1);
        let merge = |s: &str, d: &str| Fact::Merge {
            account_uid: s.into(),
            duplicate_uid: d.into(),
            reason: "twice".into(),
            author: "owner".into(),
        };
        let ctx = ApplyCtx {
            op_id: "m",
            event_time: later,
        };
        assert!(s.absorb(&mut d, &merge("x", "d"), ctx).is_err());
        assert!(s.absorb(&mut d, &adjust("s", 5), ctx).is_err());
        let (in_, out) = s.absorb(&mut d, &merge("s", "d"), ctx).unwrap();
        assert_eq!(s.total_signed() + d.total_signed(), before);
        assert_eq!(s.total_signed(), 370);
        assert_eq!(in_.net(), 70);
        assert_eq!(out.net(), -70);
        assert_eq!(s.balance(later).available, 370);
        assert_eq!(s.shortfall, 0);
        assert_eq!(
            (s.lifetime_spend, s.lifetime_purchases, s.stamps),
            (9_000, 3, 3)
        );
        assert!(d.lots.is_empty() && d.shortfall == 0 && d.lifetime_purchases == 0);
        // "op1:0" existed in both books: the duplicate's lot took the merge op's id.
        let ids: Vec<&str> = s.lots.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, ["op1:0", "m:0"]);
        assert!(s
            .absorb(&mut AccountBook::new("s"), &merge("s", "s"), ctx)
            .is_err());
    }
}
