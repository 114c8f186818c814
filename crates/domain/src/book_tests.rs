//! Unit tests of the account book: each fact kind and its edges.

use super::*;
use crate::facts::Profile;
use crate::quote::EarnItem;
use chrono::{Duration, TimeZone};

pub(super) fn day(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 31, 12, 0, 0).unwrap() + Duration::days(d)
}

fn cx(op: &str, d: i64) -> ApplyCtx<'_> {
    ApplyCtx {
        op_id: op,
        event_time: day(d),
    }
}

pub(super) fn enrol(welcome: Points, months: Option<u32>, referrer: bool) -> Fact {
    Fact::Enrol {
        customer_uid: "cust".into(),
        account_uid: "acc".into(),
        card: "2000000000015".into(),
        profile: Profile {
            name: "Ann".into(),
            ..Profile::default()
        },
        referrer_uid: referrer.then(|| "ref-cust".to_string()),
        welcome_points: welcome,
        expiry_months: months,
    }
}

pub(super) fn sale(spent: Points, earn: &[Points], hold: u32, months: Option<u32>) -> Fact {
    Fact::Sale {
        receipt_no: "R1".into(),
        card: "2000000000015".into(),
        account_uid: "acc".into(),
        program_version: 1,
        lines: vec![],
        subtotal: 10_000,
        discount_total: 0,
        after_discounts: 10_000,
        points_spent: spent,
        to_pay: 10_000 - spent * 100,
        earn: earn
            .iter()
            .map(|p| EarnItem {
                kind: EarnKind::Purchase,
                reason: "test".into(),
                points: *p,
            })
            .collect(),
        referrer: None,
        hold_days: hold,
        expiry_months: months,
        stamps_after: 3,
        birthday_bonus_year: None,
        reservation_id: None,
        offline: false,
    }
}

pub(super) fn ret(sale_op: &str, taken: Points, restored: Points, full: bool) -> Fact {
    Fact::Return {
        receipt_no: "R1".into(),
        sale_op_id: sale_op.into(),
        account_uid: "acc".into(),
        amount: 10_000,
        refund: 5_000,
        earned_taken: taken,
        spent_restored: restored,
        expiry_months: Some(12),
        spend_returned: 10_000,
        fully_returned: full,
    }
}

pub(super) fn adjust(points: Points, months: Option<u32>) -> Fact {
    Fact::Adjust {
        account_uid: "acc".into(),
        points,
        reason: "fix".into(),
        author: "owner".into(),
        expiry_months: months,
    }
}

fn bal(a: Points, p: Points, s: Points) -> BookBalance {
    BookBalance {
        available: a,
        pending: p,
        shortfall: s,
    }
}

fn remaining(b: &AccountBook) -> Vec<(&str, Points)> {
    b.lots
        .iter()
        .map(|l| (l.id.as_str(), l.remaining))
        .collect()
}

#[test]
fn enrol_credits_a_welcome_lot_available_at_once() {
    let mut b = AccountBook::new("acc");
    let a = b.apply(&enrol(100, Some(12), true), cx("e", 0)).unwrap();
    assert_eq!(a.movements.len(), 1);
    assert_eq!(a.movements[0].kind, "welcome");
    assert_eq!(a.movements[0].lot_id.as_deref(), Some("e:0"));
    assert_eq!(b.balance(day(0)), bal(100, 0, 0));
    assert_eq!(b.balance(day(-1)), bal(0, 100, 0));
    // 31 Jan + 12 months.
    assert_eq!(b.lots[0].expires_at, Some(day(365)));
    assert!(b.referral_pending);
    let mut b = AccountBook::new("acc");
    let a = b.apply(&enrol(0, None, false), cx("e", 0)).unwrap();
    assert_eq!(a, Applied::default());
    assert!(b.lots.is_empty() && !b.referral_pending);
}

#[test]
fn sale_spends_fifo_and_earns_a_held_lot_per_item() {
    let mut b = AccountBook::new("acc");
    b.apply(&enrol(100, Some(12), true), cx("e", 0)).unwrap();
    b.apply(&adjust(50, None), cx("a", 1)).unwrap();
    let mut f = sale(120, &[10, 0, 5], 14, Some(1));
    if let Fact::Sale {
        birthday_bonus_year,
        ..
    } = &mut f
    {
        *birthday_bonus_year = Some(2025);
    }
    let a = b.apply(&f, cx("s", 2)).unwrap();
    // The expiring welcome lot goes first, the never-expiring one last.
    assert_eq!(
        remaining(&b),
        vec![("e:0", 0), ("a:0", 30), ("s:0", 10), ("s:1", 5)]
    );
    assert_eq!(a.net(), -120 + 15);
    assert_eq!(a.movements[0].points, -120);
    assert_eq!(a.movements.len(), 3, "zero-point items make no movement");
    assert_eq!(b.lots[2].available_at, day(16));
    assert_eq!(b.lots[2].expires_at, Some(day(2 + 28))); // 2 Feb + 1 month = 2 Mar
    assert_eq!(b.balance(day(15)), bal(30, 15, 0));
    assert_eq!(b.balance(day(16)), bal(45, 0, 0));
    assert_eq!(
        (b.lifetime_spend, b.lifetime_purchases, b.stamps),
        (10_000, 1, 3)
    );
    assert_eq!(b.birthday_bonus_year, Some(2025));
    assert!(!b.referral_pending);
    // A later sale without a birthday year keeps the recorded one.
    b.apply(&sale(0, &[], 0, None), cx("s2", 3)).unwrap();
    assert_eq!(b.birthday_bonus_year, Some(2025));
}

#[test]
fn overdraw_becomes_shortfall_and_the_next_earnings_settle_it() {
    let mut b = AccountBook::new("acc");
    b.apply(&enrol(20, None, false), cx("e", 0)).unwrap();
    let a = b.apply(&sale(50, &[10], 0, None), cx("s1", 1)).unwrap();
    assert_eq!((a.shortfall_added, a.shortfall_settled), (30, 10));
    assert_eq!(
        a.movements[1].lot_id, None,
        "all of it settled the shortfall"
    );
    assert_eq!(b.balance(day(1)), bal(0, 0, 20));
    let a = b.apply(&sale(0, &[25], 14, None), cx("s2", 2)).unwrap();
    assert_eq!((a.shortfall_added, a.shortfall_settled), (0, 20));
    assert_eq!(b.balance(day(2)), bal(0, 5, 0));
    assert_eq!(b.lots.last().unwrap().original, 5);
    assert_eq!(b.total_signed(), 20 - 50 + 10 + 25);
}

#[test]
fn an_overdraw_takes_held_points_before_it_becomes_a_shortfall() {
    let mut b = AccountBook::new("acc");
    b.apply(&sale(0, &[40], 14, None), cx("s1", 0)).unwrap();
    assert_eq!(b.balance(day(13)), bal(0, 40, 0), "held until day 14");
    // A spend (only ever an overdraw: no till spends held points) before they mature takes
    // them, as a shortfall would have been settled by them had they come after it.
    let mut early = b.clone();
    let a = early.apply(&sale(10, &[], 0, None), cx("s2", 13)).unwrap();
    assert_eq!(a.shortfall_added, 0);
    assert_eq!(early.balance(day(13)), bal(0, 30, 0));
    assert_eq!(early.balance(day(14)), bal(30, 0, 0));
    // Beyond them: shortfall.
    let a = early.apply(&sale(50, &[], 0, None), cx("s3", 13)).unwrap();
    assert_eq!(a.shortfall_added, 20);
    assert_eq!(early.balance(day(14)), bal(0, 0, 20));
    let a = b.apply(&sale(10, &[], 0, None), cx("s2", 14)).unwrap();
    assert_eq!(a.shortfall_added, 0);
    assert_eq!(b.balance(day(14)), bal(30, 0, 0));
}

#[test]
fn spend_takes_the_earliest_expiry_then_the_oldest_earned() {
    let mut b = AccountBook::new("acc");
    b.apply(&adjust(10, None), cx("never", 0)).unwrap();
    b.apply(&adjust(10, Some(1)), cx("b", 0)).unwrap(); // 31 Jan -> 28 Feb
    b.apply(&adjust(10, Some(1)), cx("a", -3)).unwrap(); // 28 Jan -> 28 Feb, earned earlier
    b.apply(&adjust(10, Some(1)), cx("soon", -10)).unwrap(); // 21 Jan -> 21 Feb
    b.apply(&sale(25, &[], 0, None), cx("s", 1)).unwrap();
    assert_eq!(
        remaining(&b),
        vec![("never:0", 10), ("b:0", 5), ("a:0", 0), ("soon:0", 0)]
    );
}

#[test]
fn expire_zeroes_expired_lots_once_and_the_schedule_lists_the_rest() {
    let mut b = AccountBook::new("acc");
    b.apply(&enrol(100, Some(1), false), cx("e", 0)).unwrap(); // expires 28 Feb (day 28)
    b.apply(&sale(0, &[40], 30, Some(2)), cx("s", 1)).unwrap(); // 1 Feb -> 1 Apr
    b.apply(&adjust(7, None), cx("a", 1)).unwrap();
    assert_eq!(
        b.expiry_schedule(day(0)),
        vec![(day(28), 100), (day(60), 40)]
    );
    assert_eq!(b.balance(day(27)), bal(107, 40, 0));
    assert_eq!(b.balance(day(28)), bal(7, 40, 0), "expired = neither");
    assert_eq!(b.total_signed(), 147, "not swept yet");
    let moves = b.clone().expire_movements(day(28));
    assert_eq!(
        moves,
        vec![Movement {
            kind: "expire".into(),
            points: -100,
            lot_id: Some("e:0".into())
        }]
    );
    assert_eq!(b.expire(day(28)), 100);
    assert_eq!(b.expire(day(28)), 0, "idempotent");
    assert_eq!(b.total_signed(), 47);
    assert_eq!(b.expiry_schedule(day(28)), vec![(day(60), 40)]);
    assert_eq!(b.expire(day(1000)), 40);
}

#[test]
fn return_takes_back_from_the_sales_own_lots_first() {
    let mut b = AccountBook::new("acc");
    b.apply(&sale(0, &[20], 0, Some(1)), cx("old", 0)).unwrap();
    b.apply(&sale(0, &[10], 0, Some(12)), cx("new", 1)).unwrap();
    let a = b.apply(&ret("new", 8, 0, false), cx("r", 2)).unwrap();
    assert_eq!(remaining(&b), vec![("old:0", 20), ("new:0", 2)]);
    assert_eq!(a.movements[0].kind, "return_take");
    assert_eq!(a.net(), -8);
    assert_eq!(b.lifetime_spend, 10_000);
    assert_eq!(b.lifetime_purchases, 2);
}

#[test]
fn return_of_spent_earnings_takes_other_lots_available_then_pending_then_shortfall() {
    let mut b = AccountBook::new("acc");
    b.apply(&sale(0, &[30], 0, None), cx("s1", 0)).unwrap();
    b.apply(&sale(25, &[], 0, None), cx("s2", 1)).unwrap(); // spends s1's lot down to 5
    b.apply(&sale(0, &[6], 14, None), cx("s3", 2)).unwrap(); // pending
    b.apply(&adjust(4, Some(12)), cx("a", 3)).unwrap(); // available

    // Own 5, then the available adjustment 4, then 3 of the pending lot.
    let a = b.apply(&ret("s1", 12, 0, false), cx("r1", 4)).unwrap();
    assert_eq!(remaining(&b), vec![("s1:0", 0), ("s3:0", 3), ("a:0", 0)]);
    assert_eq!(a.shortfall_added, 0);
    // The rest of the pending lot, then 15 shortfall.
    let a = b.apply(&ret("s1", 18, 0, true), cx("r", 4)).unwrap();
    assert_eq!(remaining(&b), vec![("s1:0", 0), ("s3:0", 0), ("a:0", 0)]);
    assert_eq!((a.shortfall_added, a.shortfall_settled), (15, 0));
    assert_eq!(b.balance(day(4)), bal(0, 0, 15));
    assert_eq!(
        b.lifetime_purchases, 2,
        "a full return uncounts the purchase"
    );
}

#[test]
fn return_restores_spent_points_as_a_lot_available_now_after_settling_shortfall() {
    let mut b = AccountBook::new("acc");
    b.apply(&enrol(100, Some(1), false), cx("e", 0)).unwrap();
    b.apply(&sale(60, &[10], 14, None), cx("s", 1)).unwrap();
    // 40 available, the 10 held from "s", 10 short.
    let a = b.apply(&sale(60, &[], 0, None), cx("s2", 2)).unwrap();
    assert_eq!(a.shortfall_added, 10);
    let a = b.apply(&ret("s", 10, 60, true), cx("r", 3)).unwrap();
    assert_eq!(a.shortfall_settled, 10);
    let r = b.lots.iter().find(|l| l.id == "r:0").unwrap();
    assert_eq!((r.kind.as_str(), r.original), ("return_restore", 50));
    assert_eq!((r.available_at, r.expires_at), (day(3), Some(day(3 + 365))));
    assert_eq!(r.source_op, "s");
    // The earned 10: the sale's own lot went to "s2", so they come from the restored lot.
    assert_eq!(b.lots.iter().find(|l| l.id == "r:0").unwrap().remaining, 40);
    assert_eq!(b.balance(day(3)), bal(40, 0, 0));
    assert_eq!(a.net(), 60 - 10);
    assert_eq!((b.lifetime_spend, b.lifetime_purchases), (10_000, 1));
}

#[test]
fn adjustments_credit_after_shortfall_and_debit_into_shortfall() {
    let mut b = AccountBook::new("acc");
    b.apply(&adjust(30, Some(12)), cx("a1", 0)).unwrap();
    let a = b.apply(&adjust(-50, None), cx("a2", 1)).unwrap();
    assert_eq!((a.shortfall_added, a.net()), (20, -50));
    assert_eq!(a.movements[0].kind, "adjust");
    let a = b.apply(&adjust(25, None), cx("a3", 2)).unwrap();
    assert_eq!(a.shortfall_settled, 20);
    assert_eq!(b.balance(day(2)), bal(5, 0, 0));
    assert_eq!(b.lots[1].available_at, day(2));
}

#[test]
fn skewed_event_times_use_the_event_time_not_the_order() {
    let mut b = AccountBook::new("acc");
    // A welcome recorded "later" than the sale applied after it.
    b.apply(&enrol(50, None, false), cx("e", 5)).unwrap();
    let a = b.apply(&sale(20, &[], 0, None), cx("s", 4)).unwrap();
    // Not yet available at the sale's time, but applied first: it covers the spend rather
    // than leaving a shortfall next to it (the result of the other order).
    assert_eq!(a.shortfall_added, 0);
    assert_eq!(b.balance(day(5)), bal(30, 0, 0));
    let mut other_order = AccountBook::new("acc");
    other_order
        .apply(&sale(20, &[], 0, None), cx("s", 4))
        .unwrap();
    other_order
        .apply(&enrol(50, None, false), cx("e", 5))
        .unwrap();
    assert_eq!(other_order.balance(day(5)), b.balance(day(5)));
    // FIFO follows earned_at, not the order the lots were applied in.
    let mut b = AccountBook::new("acc");
    b.apply(&adjust(10, None), cx("later", 10)).unwrap();
    b.apply(&adjust(10, None), cx("earlier", 3)).unwrap();
    b.apply(&sale(10, &[], 0, None), cx("s", 11)).unwrap();
    assert_eq!(remaining(&b), vec![("later:0", 10), ("earlier:0", 0)]);
}

#[test]
fn referral_credit_goes_to_the_referrers_book_with_hold() {
    let mut r = AccountBook::new("ref");
    r.apply(
        &Fact::Adjust {
            account_uid: "ref".into(),
            points: -30,
            reason: "x".into(),
            author: "o".into(),
            expiry_months: None,
        },
        cx("a", 0),
    )
    .unwrap();
    let a = r.credit_referral("s", 200, day(1), 14, Some(12)).unwrap();
    assert_eq!(a.shortfall_settled, 30);
    assert_eq!(a.movements[0].kind, "referral_referrer");
    assert_eq!(r.balance(day(15)), bal(170, 0, 0));
    assert_eq!(r.lots[0].id, "s:0");
    // A second credit of the same op on the same book gets a fresh id.
    r.credit_referral("s", 1, day(1), 0, None).unwrap();
    assert_eq!(r.lots[1].id, "s:1");
    assert_eq!(
        r.credit_referral("s", -1, day(1), 0, None)
            .unwrap_err()
            .code(),
        "INVALID_POINTS"
    );
}

#[test]
fn a_sales_referrer_item_is_not_the_customers() {
    let mut b = AccountBook::new("acc");
    let mut f = sale(0, &[5], 0, None);
    if let Fact::Sale { earn, referrer, .. } = &mut f {
        earn.push(EarnItem {
            kind: EarnKind::ReferralReferrer,
            reason: "r".into(),
            points: 200,
        });
        *referrer = Some(("ref".into(), 200));
    }
    b.apply(&f, cx("s", 0)).unwrap();
    assert_eq!(b.balance(day(0)), bal(5, 0, 0));
}

#[test]
fn card_facts_move_no_points() {
    let mut b = AccountBook::new("acc");
    b.apply(&enrol(10, None, false), cx("e", 0)).unwrap();
    let before = b.clone();
    for f in [
        Fact::CardBlock {
            account_uid: "acc".into(),
            old_card: "1".into(),
            new_card: "2".into(),
        },
        Fact::FamilyCard {
            account_uid: "acc".into(),
            card: "3".into(),
        },
    ] {
        assert_eq!(b.apply(&f, cx("c", 1)).unwrap(), Applied::default());
    }
    assert_eq!(b, before);
}

#[test]
fn malformed_facts_are_errors_and_change_nothing() {
    let mut b = AccountBook::new("acc");
    b.apply(&enrol(10, None, false), cx("e", 0)).unwrap();
    let before = b.clone();
    let mut bad_hold = sale(0, &[1], 0, None);
    if let Fact::Sale { hold_days, .. } = &mut bad_hold {
        *hold_days = 100_000;
    }
    let cases: Vec<(Fact, &str, &str)> = vec![
        (sale(-1, &[], 0, None), "s", "INVALID_POINTS"),
        (sale(0, &[5, -1], 0, None), "s", "INVALID_POINTS"),
        (
            sale(0, &[MAX_FACT_POINTS, 1], 0, None),
            "s",
            "INVALID_POINTS",
        ),
        (sale(0, &[1], 0, Some(0)), "s", "INVALID_FACT"),
        (bad_hold, "s", "INVALID_FACT"),
        (ret("s", -3, 0, false), "r", "INVALID_POINTS"),
        (ret("", 1, 0, false), "r", "INVALID_FACT"),
        (adjust(0, None), "a", "INVALID_FACT"),
        (adjust(Points::MIN, None), "a", "INVALID_POINTS"),
        (enrol(-5, None, false), "e2", "INVALID_POINTS"),
        (sale(1, &[], 0, None), "", "INVALID_FACT"),
        (sale(1, &[], 0, None), "x:1", "INVALID_FACT"),
    ];
    for (f, op, code) in cases {
        let e = b.apply(&f, cx(op, 1)).unwrap_err();
        assert_eq!(e.code(), code, "{f:?}: {e}");
        assert!(!e.to_string().is_empty());
    }
    let mut other = AccountBook::new("other");
    let e = other.apply(&sale(1, &[], 0, None), cx("s", 1)).unwrap_err();
    assert_eq!(e.code(), "WRONG_ACCOUNT");
    assert_eq!(b, before);
}

#[test]
fn the_book_round_trips_through_json() {
    let mut b = AccountBook::new("acc");
    b.apply(&enrol(10, Some(12), true), cx("e", 0)).unwrap();
    b.apply(&sale(4, &[3], 14, None), cx("s", 1)).unwrap();
    let json = serde_json::to_string(&b).unwrap();
    assert_eq!(serde_json::from_str::<AccountBook>(&json).unwrap(), b);
}

#[test]
fn pruning_empty_lots_keeps_balances_and_ids_unique() {
    let mut b = AccountBook::new("acc");
    b.apply(&sale(0, &[10, 5], 0, None), cx("s", 0)).unwrap();
    b.apply(&sale(10, &[], 0, None), cx("t", 1)).unwrap();
    let bal_before = b.balance(day(2));
    b.prune_empty();
    assert_eq!(remaining(&b), vec![("s:1", 5)]);
    assert_eq!(b.balance(day(2)), bal_before);
    b.credit_referral("s", 3, day(2), 0, None).unwrap();
    assert_eq!(b.lots[1].id, "s:2");
}

#[test]
fn a_return_after_expiry_does_not_take_the_expired_points_a_second_time() {
    // Same history for both books; one is swept before the return, the other is not.
    let run = |sweep_first: bool| {
        let mut b = AccountBook::new("acc");
        b.apply(&sale(0, &[70], 0, Some(1)), cx("s1", 0)).unwrap();
        b.apply(&adjust(1_000, None), cx("a1", 20)).unwrap();
        if sweep_first {
            assert_eq!(b.expire(day(40)), 70);
        }
        b.apply(&ret("s1", 70, 0, true), cx("r1", 40)).unwrap();
        b.expire(day(40));
        (b.balance(day(40)), b.total_signed())
    };
    assert_eq!(run(true), run(false));
    assert_eq!(run(true).0, bal(1_000, 0, 0));
}
