use super::*;
use crate::config::ClubRule;
use crate::money::Rounding;
use chrono::{Duration, NaiveDate, TimeZone};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

/// Default program minus everything but earn/spend: the mechanics are switched on per test.
fn plain() -> ProgramConfig {
    ProgramConfig {
        cumulative: vec![],
        tiers: crate::config::TierRule {
            levels: vec![],
            ..ProgramConfig::default().tiers
        },
        stamps: None,
        birthday: None,
        referral: None,
        ..ProgramConfig::default()
    }
}

fn cust(available: Points) -> CustomerSnapshot {
    CustomerSnapshot {
        available,
        ..Default::default()
    }
}

fn q(c: &CustomerSnapshot, amount: Money, p: &ProgramConfig, spend: Points) -> Quote {
    quote(c, &Basket::single(amount), p, now(), spend).unwrap()
}

fn err(c: &CustomerSnapshot, amount: Money, p: &ProgramConfig, spend: Points) -> RuleError {
    quote(c, &Basket::single(amount), p, now(), spend).unwrap_err()
}

fn kinds(q: &Quote) -> Vec<(EarnKind, Points)> {
    q.earn.iter().map(|e| (e.kind, e.points)).collect()
}

fn discounts(q: &Quote) -> Vec<(DiscountKind, Bp, Money)> {
    q.discounts
        .iter()
        .map(|d| (d.kind, d.bp, d.amount))
        .collect()
}

#[test]
fn earn_is_on_to_pay_not_on_the_part_paid_with_points() {
    let r = q(&cust(500), 100_000, &plain(), 200);
    assert_eq!(r.subtotal, 100_000);
    assert_eq!(r.discount_total, 0);
    assert_eq!(r.max_redeemable, 300); // 30 % of 1000.00 = 300.00 = 300 points
    assert_eq!(
        (r.points_spent, r.spend_value, r.to_pay),
        (200, 20_000, 80_000)
    );
    assert_eq!(kinds(&r), vec![(EarnKind::Purchase, 40)]); // 5 % of 800.00
    assert_eq!(r.earn_total, 40);
    assert_eq!(r.earn[0].reason, "5% of 800.00 paid");
    assert_eq!(r.program_version, 1);
    assert_eq!(r.available_at, now() + Duration::days(14));
    assert_eq!(
        r.expires_at,
        Some(Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap())
    );
    assert_eq!(r.tier, None);
    assert!(!r.birthday_today);
}

#[test]
fn earn_rounding_modes_and_point_value() {
    let mut p = plain();
    // 5 % of 999.99 = 49.9995 points.
    assert_eq!(q(&cust(0), 99_999, &p, 0).earn_total, 49);
    p.earn.rounding = Rounding::HalfUp;
    assert_eq!(q(&cust(0), 99_999, &p, 0).earn_total, 50);
    assert_eq!(q(&cust(0), 10_010, &p, 0).earn_total, 5); // 5.005
    p.earn.rounding = Rounding::Up;
    assert_eq!(q(&cust(0), 10_010, &p, 0).earn_total, 6);
    p.earn.rounding = Rounding::Down;
    p.point_value = 50; // 1 point = 0.50
    assert_eq!(q(&cust(0), 100_000, &p, 0).earn_total, 100);
    assert_eq!(q(&cust(0), 1_999, &p, 0).earn_total, 1); // 99.95 / 0.50 * 5 % = 1.999
                                                         // Tiny check: nothing earned, no zero item listed.
    assert!(q(&cust(0), 1_999, &plain(), 0).earn.is_empty());
    // Minimum check to earn.
    p.earn.min_check = 50_000;
    assert_eq!(q(&cust(0), 49_999, &p, 0).earn_total, 0);
    assert_eq!(q(&cust(0), 50_000, &p, 0).earn_total, 50);
}

#[test]
fn spend_errors() {
    let p = plain();
    let c = cust(500);
    assert_eq!(err(&c, 100_000, &p, -1).code(), "INVALID_AMOUNT");
    assert_eq!(
        err(&c, 100_000, &p, 501),
        RuleError::InsufficientPoints {
            available: 500,
            requested: 501
        }
    );
    assert_eq!(
        err(&c, 100_000, &p, 301),
        RuleError::SpendOverCap { max: 300 }
    );
    assert_eq!(q(&c, 100_000, &p, 300).to_pay, 70_000);

    let mut p2 = plain();
    p2.spend.min_balance = 1_000;
    assert_eq!(q(&c, 100_000, &p2, 0).max_redeemable, 0);
    assert_eq!(
        err(&c, 100_000, &p2, 10),
        RuleError::BelowMinBalance {
            min_balance: 1_000,
            available: 500
        }
    );
    assert_eq!(q(&cust(1_000), 100_000, &p2, 300).points_spent, 300);

    let mut p3 = plain();
    p3.spend.enabled = false;
    assert_eq!(q(&c, 100_000, &p3, 0).max_redeemable, 0);
    assert_eq!(err(&c, 100_000, &p3, 1).code(), "SPEND_DISABLED");
}

#[test]
fn max_redeemable_never_exceeds_the_remaining_amount() {
    let mut p = plain();
    p.spend.max_share_bp = 10_000;
    let c = cust(1_000);
    let r = q(&c, 12_345, &p, 0);
    assert_eq!(r.max_redeemable, 123); // 123.00 <= 123.45; 124 points would be 124.00
    let r = q(&c, 12_345, &p, 123);
    assert_eq!((r.spend_value, r.to_pay), (12_300, 45));
    assert_eq!(
        err(&c, 12_345, &p, 124),
        RuleError::SpendOverCap { max: 123 }
    );
    // Limited by the balance.
    assert_eq!(q(&cust(7), 12_345, &p, 0).max_redeemable, 7);
    // A check smaller than one point's value.
    assert_eq!(q(&c, 99, &p, 0).max_redeemable, 0);
}

#[test]
fn cumulative_ladder_by_lifetime_spend() {
    let p = ProgramConfig {
        cumulative: ProgramConfig::default().cumulative,
        ..plain()
    };
    let at = |lifetime: Money| {
        let c = CustomerSnapshot {
            lifetime_spend: lifetime,
            ..Default::default()
        };
        discounts(&q(&c, 10_001, &p, 0))
    };
    assert_eq!(at(0), vec![(DiscountKind::Cumulative, 300, 300)]); // 300.03 -> 300
    assert_eq!(at(999_999), vec![(DiscountKind::Cumulative, 300, 300)]);
    assert_eq!(at(1_000_000), vec![(DiscountKind::Cumulative, 500, 500)]);
    assert_eq!(
        at(5_000_000),
        vec![(DiscountKind::Cumulative, 1_000, 1_000)]
    );
    let r = q(
        &CustomerSnapshot {
            lifetime_spend: 5_000_000,
            ..Default::default()
        },
        10_001,
        &p,
        0,
    );
    assert_eq!(
        (r.discount_total, r.after_discounts, r.to_pay),
        (1_000, 9_001, 9_001)
    );
    assert_eq!(r.earn_total, 4); // 5 % of 90.01 = 4.5005
    assert_eq!(
        r.discounts[0].reason,
        "cumulative discount 10% (lifetime spend from 50000.00)"
    );
}

/// Cumulative 5 %, tier 7 %, club 4 %, birthday 10 %.
fn all_discounts() -> (ProgramConfig, CustomerSnapshot) {
    let mut p = ProgramConfig::default();
    p.tiers.levels[1].discount_bp = 700;
    p.club = Some(ClubRule {
        fee: 99_900,
        period_days: 30,
        tier_code: None,
        discount_bp: 400,
    });
    let c = CustomerSnapshot {
        lifetime_spend: 1_000_000,
        window_spend: 3_000_000,
        club_until: Some(now() + Duration::days(3)),
        birthday: NaiveDate::from_ymd_opt(1990, 6, 3),
        birthday_bonus_year: Some(2025),
        ..Default::default()
    };
    (p, c)
}

#[test]
fn stacking_best_takes_only_the_largest() {
    let (p, c) = all_discounts();
    let r = q(&c, 33_333, &p, 0);
    assert_eq!(discounts(&r), vec![(DiscountKind::Birthday, 1_000, 3_333)]);
    assert_eq!((r.discount_total, r.after_discounts), (3_333, 30_000));
    assert!(r.birthday_today);
    // Cap applies to the best one too.
    let mut capped = p.clone();
    capped.stacking.max_total_discount_bp = 800;
    let r = q(&c, 33_333, &capped, 0);
    assert_eq!(discounts(&r), vec![(DiscountKind::Birthday, 800, 2_666)]);
    assert!(r.discounts[0].reason.ends_with("capped at 8%"));
}

#[test]
fn stacking_sum_adds_up_and_is_capped() {
    let (mut p, c) = all_discounts();
    p.stacking.discounts = DiscountStacking::Sum;
    let r = q(&c, 33_333, &p, 0);
    assert_eq!(
        discounts(&r),
        vec![
            (DiscountKind::Cumulative, 500, 1_666),
            (DiscountKind::Tier, 700, 2_333),
            (DiscountKind::Club, 400, 1_333),
            (DiscountKind::Birthday, 1_000, 3_333),
        ]
    );
    assert_eq!((r.discount_total, r.after_discounts), (8_665, 24_668));
    // Earn at the Silver rate on what is paid: 7 % of 246.68 = 17.2676.
    assert_eq!(kinds(&r), vec![(EarnKind::Purchase, 17)]);
    // The cap trims the later ones first.
    p.stacking.max_total_discount_bp = 2_000;
    let r = q(&c, 33_333, &p, 0);
    assert_eq!(
        discounts(&r),
        vec![
            (DiscountKind::Cumulative, 500, 1_666),
            (DiscountKind::Tier, 700, 2_333),
            (DiscountKind::Club, 400, 1_333),
            (DiscountKind::Birthday, 400, 1_333),
        ]
    );
    p.stacking.max_total_discount_bp = 1_000;
    let r = q(&c, 33_333, &p, 0);
    assert_eq!(
        discounts(&r),
        vec![
            (DiscountKind::Cumulative, 500, 1_666),
            (DiscountKind::Tier, 500, 1_666),
        ]
    );
    // A 100 % total never makes to_pay negative.
    p.stacking.max_total_discount_bp = 10_000;
    p.cumulative[1].discount_bp = 10_000;
    let c100 = CustomerSnapshot { available: 50, ..c };
    let r = q(&c100, 33_333, &p, 0);
    assert_eq!((r.after_discounts, r.to_pay, r.max_redeemable), (0, 0, 0));
    assert_eq!(
        err(&c100, 33_333, &p, 1),
        RuleError::SpendOverCap { max: 0 }
    );
}

#[test]
fn points_with_discount_and_earn_on_discounted() {
    let p = ProgramConfig {
        cumulative: ProgramConfig::default().cumulative,
        ..plain()
    };
    let c = cust(500);
    assert_eq!(q(&c, 100_000, &p, 0).max_redeemable, 291); // 30 % of 970.00
    let mut no_mix = p.clone();
    no_mix.stacking.points_with_discount = false;
    assert_eq!(q(&c, 100_000, &no_mix, 0).max_redeemable, 0);
    assert_eq!(err(&c, 100_000, &no_mix, 1).code(), "SPEND_DISABLED");
    // Without any discount, spending is fine.
    assert_eq!(
        q(
            &c,
            100_000,
            &ProgramConfig {
                stacking: no_mix.stacking.clone(),
                ..plain()
            },
            300
        )
        .to_pay,
        70_000
    );

    let mut no_earn = p.clone();
    no_earn.stacking.earn_on_discounted = false;
    assert_eq!(q(&c, 100_000, &p, 0).earn_total, 48); // 5 % of 970.00
    assert_eq!(q(&c, 100_000, &no_earn, 0).earn_total, 0);
    let mut undiscounted = no_earn.clone();
    undiscounted.cumulative.clear();
    assert_eq!(q(&c, 100_000, &undiscounted, 0).earn_total, 50);
}
