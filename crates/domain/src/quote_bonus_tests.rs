//! Quote tests of tiers, club, stamps, threshold gift, birthday, referral, errors, serde.
use super::*;
use crate::basket::BasketLine;
use crate::config::{ClubRule, StampRule, ThresholdGift};
use chrono::{Duration, NaiveDate, TimeZone};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 9, 0, 0).unwrap()
}

/// Only earn/spend (5 %, 30 %), no ladder, tiers, stamps, birthday, referral.
fn plain() -> ProgramConfig {
    let mut p = ProgramConfig::default();
    p.cumulative.clear();
    p.tiers.levels.clear();
    p.stamps = None;
    p.birthday = None;
    p.referral = None;
    p
}

fn run(
    c: &CustomerSnapshot,
    b: &Basket,
    p: &ProgramConfig,
    t: DateTime<Utc>,
    spend: Points,
) -> Quote {
    quote(c, b, p, t, spend).unwrap()
}

fn kinds(q: &Quote) -> Vec<(EarnKind, Points)> {
    q.earn.iter().map(|e| (e.kind, e.points)).collect()
}

#[test]
fn tier_earn_rate_and_downgrade() {
    let p = ProgramConfig {
        birthday: None,
        stamps: None,
        referral: None,
        ..ProgramConfig::default()
    };
    let silver = CustomerSnapshot {
        window_spend: 3_000_000,
        ..Default::default()
    };
    let r = run(&silver, &Basket::single(100_000), &p, now(), 0);
    let t = r.tier.clone().unwrap();
    assert_eq!(
        (t.code.as_str(), t.earn_bp, t.source),
        ("SILVER", 700, TierSource::Earned)
    );
    // Ladder 3 % (lifetime 0): pays 970.00, earns 7 % = 67.9 -> 67.
    assert_eq!(
        (r.discount_total, r.to_pay, r.earn_total),
        (3_000, 97_000, 67)
    );
    // The rolling window no longer qualifies: back to Base at 5 % = 48.5 -> 48.
    let lapsed = CustomerSnapshot {
        window_spend: 2_999_999,
        ..silver
    };
    let r = run(&lapsed, &Basket::single(100_000), &p, now(), 0);
    assert_eq!(r.tier.unwrap().code, "BASE");
    assert_eq!(r.earn_total, 48);
}

#[test]
fn club_membership_tier_and_discount_until_it_expires() {
    let mut p = plain();
    p.tiers = ProgramConfig::default().tiers;
    p.club = Some(ClubRule {
        fee: 99_900,
        period_days: 30,
        tier_code: Some("GOLD".into()),
        discount_bp: 500,
    });
    let member = CustomerSnapshot {
        club_until: Some(now() + Duration::seconds(1)),
        ..Default::default()
    };
    let r = run(&member, &Basket::single(100_000), &p, now(), 0);
    let t = r.tier.clone().unwrap();
    assert_eq!((t.code.as_str(), t.source), ("GOLD", TierSource::Club));
    assert_eq!(r.discounts.len(), 1);
    assert_eq!(
        (r.discounts[0].kind, r.discounts[0].amount),
        (DiscountKind::Club, 5_000)
    );
    assert_eq!(r.earn_total, 95); // Gold 10 % of 950.00
                                  // Expired at club_until (not after).
    let expired = CustomerSnapshot {
        club_until: Some(now()),
        ..member
    };
    let r = run(&expired, &Basket::single(100_000), &p, now(), 0);
    assert_eq!(r.tier.unwrap().code, "BASE");
    assert!(r.discounts.is_empty());
    assert_eq!(r.earn_total, 50);
}

fn stamps_program(category: Option<&str>) -> ProgramConfig {
    ProgramConfig {
        stamps: Some(StampRule {
            every: 6,
            min_amount: 10_000,
            category: category.map(str::to_string),
            reward_points: 200,
        }),
        ..plain()
    }
}

#[test]
fn stamps_count_qualifying_purchases_and_reset_at_every() {
    let p = stamps_program(None);
    let mut c = CustomerSnapshot {
        available: 1_000,
        ..Default::default()
    };
    let b = Basket::single(20_000);
    c.stamps = 4;
    let r = run(&c, &b, &p, now(), 0);
    assert_eq!((r.stamps_after, r.earn_total), (5, 10));
    c.stamps = 5; // the 6th purchase is rewarded
    let r = run(&c, &b, &p, now(), 0);
    assert_eq!(r.stamps_after, 0);
    assert_eq!(
        kinds(&r),
        vec![(EarnKind::Purchase, 10), (EarnKind::Stamp, 200)]
    );
    assert_eq!(r.earn_total, 210);
    // Paying with points below the minimum: to_pay 140.00 >= 100.00 still counts...
    let r = run(&c, &b, &p, now(), 60);
    assert_eq!(r.stamps_after, 0);
    // ... but a check of 99.99 does not.
    let r = run(&c, &Basket::single(9_999), &p, now(), 0);
    assert_eq!(r.stamps_after, 5);
    assert!(!kinds(&r).iter().any(|(k, _)| *k == EarnKind::Stamp));
    // Points bring to_pay under the minimum: 120.00 - 29 points = 91.00.
    let r = run(&c, &Basket::single(12_000), &p, now(), 29);
    assert_eq!((r.to_pay, r.stamps_after), (9_100, 5));
}

#[test]
fn stamps_of_a_category() {
    let p = stamps_program(Some("coffee"));
    let c = CustomerSnapshot {
        stamps: 2,
        ..Default::default()
    };
    let no_coffee = Basket::new(vec![BasketLine {
        sku: "TEA".into(),
        category: Some("tea".into()),
        qty: 1,
        amount: 30_000,
    }]);
    assert_eq!(run(&c, &no_coffee, &p, now(), 0).stamps_after, 2);
    let mut with_coffee = no_coffee.clone();
    with_coffee.lines.push(BasketLine {
        sku: "LATTE".into(),
        category: Some("coffee".into()),
        qty: 2,
        amount: 500,
    });
    assert_eq!(run(&c, &with_coffee, &p, now(), 0).stamps_after, 3);
}

#[test]
fn threshold_gift_and_bonus() {
    let p = ProgramConfig {
        threshold_gift: Some(ThresholdGift {
            min_amount: 500_000,
            bonus_points: 1_000,
            gift: Some("a tote bag".into()),
        }),
        ..plain()
    };
    let c = CustomerSnapshot::default();
    let r = run(&c, &Basket::single(499_999), &p, now(), 0);
    assert_eq!((r.gift.clone(), r.earn_total), (None, 249));
    let r = run(&c, &Basket::single(500_000), &p, now(), 0);
    assert_eq!(r.gift.as_deref(), Some("a tote bag"));
    assert_eq!(
        kinds(&r),
        vec![(EarnKind::Purchase, 250), (EarnKind::Threshold, 1_000)]
    );
    assert_eq!(r.earn_total, 1_250);
}

fn birthday_program() -> ProgramConfig {
    ProgramConfig {
        birthday: ProgramConfig::default().birthday, // ±7 days, 300 points, 10 %
        ..plain()
    }
}

#[test]
fn birthday_bonus_once_per_year_and_discount_in_window() {
    let p = birthday_program();
    let mut c = CustomerSnapshot {
        birthday: NaiveDate::from_ymd_opt(1990, 1, 2),
        birthday_bonus_year: Some(2024),
        ..Default::default()
    };
    let b = Basket::single(10_000);
    // 28 Dec 2024 is in the window of the 2 Jan 2025 birthday.
    let r = run(&c, &b, &p, at(2024, 12, 28), 0);
    assert!(r.birthday_today);
    assert_eq!(r.birthday_bonus_year, Some(2025));
    assert_eq!(
        kinds(&r),
        vec![(EarnKind::Purchase, 4), (EarnKind::Birthday, 300)]
    );
    assert_eq!(
        (r.discounts[0].kind, r.discount_total),
        (DiscountKind::Birthday, 1_000)
    );
    // Recorded: no second bonus on 3 Jan 2025, but the discount still applies.
    c.birthday_bonus_year = Some(2025);
    let r = run(&c, &b, &p, at(2025, 1, 3), 0);
    assert!(r.birthday_today);
    assert_eq!(r.birthday_bonus_year, None);
    assert_eq!(kinds(&r), vec![(EarnKind::Purchase, 4)]);
    assert_eq!(r.discount_total, 1_000);
    // Outside the window: nothing.
    let r = run(&c, &b, &p, at(2025, 1, 10), 0);
    assert!(!r.birthday_today);
    assert_eq!((r.discount_total, r.earn_total), (0, 5));
    // Next year's window grants again.
    let r = run(&c, &b, &p, at(2025, 12, 26), 0);
    assert_eq!(r.birthday_bonus_year, Some(2026));
    assert_eq!(r.earn_total, 304);
}

#[test]
fn birthday_on_feb_29() {
    let mut p = birthday_program();
    if let Some(b) = p.birthday.as_mut() {
        b.days_before = 0;
        b.days_after = 0;
    }
    let c = CustomerSnapshot {
        birthday: NaiveDate::from_ymd_opt(2000, 2, 29),
        ..Default::default()
    };
    let b = Basket::single(10_000);
    let r = run(&c, &b, &p, at(2025, 2, 28), 0);
    assert_eq!(
        (r.birthday_today, r.birthday_bonus_year),
        (true, Some(2025))
    );
    assert!(!run(&c, &b, &p, at(2025, 3, 1), 0).birthday_today);
    assert!(run(&c, &b, &p, at(2024, 2, 29), 0).birthday_today);
    assert!(!run(&c, &b, &p, at(2024, 2, 28), 0).birthday_today);
}

#[test]
fn referral_on_the_first_purchase() {
    let p = ProgramConfig {
        referral: ProgramConfig::default().referral,
        ..plain()
    };
    let referee = CustomerSnapshot {
        referral_pending: true,
        ..Default::default()
    };
    let r = run(&referee, &Basket::single(10_000), &p, now(), 0);
    assert_eq!(
        kinds(&r),
        vec![(EarnKind::Purchase, 5), (EarnKind::ReferralReferee, 200)]
    );
    assert_eq!((r.earn_total, r.referrer_points), (205, 200));
    let r = run(
        &CustomerSnapshot::default(),
        &Basket::single(10_000),
        &p,
        now(),
        0,
    );
    assert_eq!((r.earn_total, r.referrer_points), (5, 0));
    // No referral program: nothing even if pending.
    let r = run(&referee, &Basket::single(10_000), &plain(), now(), 0);
    assert_eq!((r.earn_total, r.referrer_points), (5, 0));
}

#[test]
fn invalid_input_is_refused_with_codes() {
    let c = CustomerSnapshot::default();
    let p = plain();
    let code = |b: &Basket, p: &ProgramConfig| quote(&c, b, p, now(), 0).unwrap_err().code();
    assert_eq!(code(&Basket::default(), &p), "INVALID_AMOUNT");
    assert_eq!(code(&Basket::single(0), &p), "INVALID_AMOUNT");
    assert_eq!(code(&Basket::single(-100), &p), "INVALID_AMOUNT");
    let bad = ProgramConfig {
        point_value: 0,
        ..plain()
    };
    assert_eq!(code(&Basket::single(100), &bad), "INVALID_CONFIG");
    // A huge check does not overflow.
    let r = run(&c, &Basket::single(i64::MAX), &p, now(), 0);
    assert_eq!(r.earn_total, i64::MAX / 20 / 100);
}

#[test]
fn quote_and_config_serde_round_trip() {
    let p = ProgramConfig::default();
    let json = serde_json::to_string(&p).unwrap();
    assert!(json.contains("\"rolling_days\":365"));
    assert!(json.contains("\"stacking\":{\"discounts\":\"best\""));
    let back: ProgramConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
    let r = run(
        &CustomerSnapshot::default(),
        &Basket::single(10_000),
        &p,
        now(),
        0,
    );
    let back: Quote = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
}
