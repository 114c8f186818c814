use super::*;
use chrono::TimeZone;
use loyalty_domain::Basket;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap()
}

fn draft(config: ProgramConfig, amount: i64) -> ProgramDraft {
    ProgramDraft {
        config,
        effective_from: None,
        sample: SampleCheck {
            basket: Basket::single(amount),
            available: 1_000,
            ..SampleCheck::default()
        },
    }
}

#[test]
fn every_invalid_setting_is_a_field_error() {
    let mut p = ProgramConfig::default();
    p.earn.rate_bp = 12_000;
    p.spend.max_share_bp = 10_001;
    let late = now() - Duration::days(2);
    let errors = field_errors(&p, Some(late), now());
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["earn.rate_bp", "spend.max_share_bp", "effective_from"]
    );
    assert_eq!(errors[0].code, INVALID_CONFIG);
    assert!(errors[0].message.contains("12000"), "{}", errors[0].message);
    assert_eq!(errors[2].code, EFFECTIVE_IN_PAST);
    // A few minutes ago (picked when the screen opened) and the future are fine.
    let ok = ProgramConfig::default();
    assert!(field_errors(&ok, Some(now() - Duration::minutes(5)), now()).is_empty());
    assert!(field_errors(&ok, Some(now() + Duration::days(5)), now()).is_empty());
}

#[test]
fn the_preview_compares_the_draft_with_the_version_in_force() {
    let current = ProgramConfig::default();
    let mut p = current.clone();
    p.earn.rate_bp = 1_000; // 5 % -> 10 %
    p.spend.max_share_bp = 5_000; // 30 % -> 50 %
    let c = check(&draft(p, 100_000), &current, now());
    assert!(c.errors.is_empty());
    let (d, cur) = (c.draft.quote.unwrap(), c.current.quote.unwrap());
    // 1000.00 with the 3 % ladder step: 970.00 to pay; 5 % = 48 points, 10 % = 97.
    assert_eq!(
        (cur.discount_total, cur.to_pay, cur.earn_total),
        (3_000, 97_000, 48)
    );
    assert_eq!((d.to_pay, d.earn_total), (97_000, 97));
    assert_eq!((cur.max_redeemable, d.max_redeemable), (291, 485));
    let diff = c.diff.unwrap();
    assert_eq!((diff.earn_total, diff.max_redeemable), (49, 194));
    assert_eq!((diff.discount_total, diff.to_pay), (0, 0));
}

#[test]
fn an_invalid_draft_has_errors_and_no_quote() {
    let mut p = ProgramConfig::default();
    p.earn.rate_bp = 20_000;
    let c = check(&draft(p, 100_000), &ProgramConfig::default(), now());
    assert_eq!(c.errors[0].field, "earn.rate_bp");
    assert_eq!(c.draft.error.unwrap().code, "INVALID_CONFIG");
    assert!(c.current.quote.is_some() && c.diff.is_none());
    // An empty sample check: neither side quotes.
    let mut d = draft(ProgramConfig::default(), 1);
    d.sample.basket = Basket::default();
    let c = check(&d, &ProgramConfig::default(), now());
    assert!(c.errors.is_empty());
    assert_eq!(c.current.error.unwrap().code, "INVALID_AMOUNT");
}

#[test]
fn the_sample_customer_reaches_the_chosen_tier_and_bonuses() {
    let p = ProgramConfig::default();
    let mut s = SampleCheck {
        basket: Basket::single(100_000),
        tier_code: Some("GOLD".into()),
        birthday: true,
        ..SampleCheck::default()
    };
    let c = sample_customer(&s, &p, now());
    assert_eq!(c.window_spend, 10_000_000, "Gold by rolling spend");
    let q = quote(&c, &s.basket, &p, now(), 0).unwrap();
    assert_eq!(q.tier.unwrap().code, "GOLD");
    assert!(q.birthday_today);
    // The same sample under a program that counts purchases.
    let mut by_count = p.clone();
    by_count.tiers.basis = TierBasis::Purchases;
    for (i, t) in by_count.tiers.levels.iter_mut().enumerate() {
        t.threshold = i as i64 * 10;
    }
    let c = sample_customer(&s, &by_count, now());
    assert_eq!(c.window_purchases, 20);
    s.tier_code = Some("NOPE".into());
    s.club = true;
    let c = sample_customer(&s, &p, now());
    assert_eq!(c.window_spend, 0);
    assert!(c.club_active(now()));
}

#[test]
fn the_version_in_force_follows_the_store_rule() {
    let t = |d: i64| now() + Duration::days(d);
    assert_eq!(in_force(&[(1, t(-100)), (2, t(-1)), (3, t(5))], now()), 2);
    assert_eq!(in_force(&[(1, t(-100)), (2, t(-1)), (3, t(-2))], now()), 3);
    assert_eq!(in_force(&[(2, t(3)), (3, t(2))], now()), 3);
}
