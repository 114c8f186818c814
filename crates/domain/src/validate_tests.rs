use crate::config::*;
use crate::error::RuleError;

fn field_of(p: &ProgramConfig) -> String {
    match p.validate() {
        Err(RuleError::InvalidConfig { field, .. }) => field,
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

fn broken(f: impl FnOnce(&mut ProgramConfig)) -> String {
    let mut p = ProgramConfig::default();
    f(&mut p);
    field_of(&p)
}

#[test]
fn the_demo_program_is_valid() {
    let p = ProgramConfig::default();
    assert_eq!(p.validate(), Ok(()));
    assert_eq!(p.point_value, 100);
    assert_eq!(p.earn.rate_bp, 500);
    assert_eq!(p.spend.max_share_bp, 3_000);
    assert_eq!((p.hold_days, p.expiry_months), (14, Some(12)));
    assert_eq!(p.cumulative.len(), 3);
    assert_eq!(p.cumulative[2].from_spend, 5_000_000);
    assert_eq!(p.stamps.as_ref().map(|s| s.every), Some(6));
    assert_eq!((p.welcome_bonus, p.offline_spend_limit), (100, 500));
    assert_eq!(p.stacking.discounts, DiscountStacking::Best);
}

#[test]
fn every_invalid_setting_is_named() {
    assert_eq!(broken(|p| p.version = 0), "version");
    assert_eq!(broken(|p| p.currency = "rub".into()), "currency");
    assert_eq!(broken(|p| p.currency = "RUBL".into()), "currency");
    assert_eq!(broken(|p| p.point_value = 0), "point_value");
    assert_eq!(broken(|p| p.earn.rate_bp = 10_001), "earn.rate_bp");
    assert_eq!(broken(|p| p.earn.min_check = -1), "earn.min_check");
    assert_eq!(
        broken(|p| p.spend.max_share_bp = 20_000),
        "spend.max_share_bp"
    );
    assert_eq!(broken(|p| p.spend.min_balance = -1), "spend.min_balance");
    assert_eq!(
        broken(|p| p.cumulative[2].from_spend = 1_000_000),
        "cumulative[2].from_spend"
    );
    assert_eq!(
        broken(|p| p.cumulative[0].discount_bp = 10_001),
        "cumulative[0].discount_bp"
    );
    assert_eq!(
        broken(|p| p.tiers.window = TierWindow::RollingDays(0)),
        "tiers.window"
    );
    assert_eq!(
        broken(|p| p.tiers.levels[2].threshold = 3_000_000),
        "tiers.levels[2].threshold"
    );
    assert_eq!(
        broken(|p| p.tiers.levels[1].code = "BASE".into()),
        "tiers.levels[1].code"
    );
    assert_eq!(
        broken(|p| p.tiers.levels[0].code = " ".into()),
        "tiers.levels[0].code"
    );
    assert_eq!(
        broken(|p| p.tiers.levels[1].earn_bp = Some(10_001)),
        "tiers.levels[1].earn_bp"
    );
    let club = |tier: Option<&str>, days: u32| ClubRule {
        fee: 100,
        period_days: days,
        tier_code: tier.map(str::to_string),
        discount_bp: 0,
    };
    assert_eq!(
        broken(|p| p.club = Some(club(Some("VIP"), 30))),
        "club.tier_code"
    );
    assert_eq!(broken(|p| p.club = Some(club(None, 0))), "club.period_days");
    let ok = ProgramConfig {
        club: Some(club(Some("GOLD"), 365)),
        ..ProgramConfig::default()
    };
    assert_eq!(ok.validate(), Ok(()));
    assert_eq!(
        broken(|p| p.stamps.as_mut().into_iter().for_each(|s| s.every = 1)),
        "stamps.every"
    );
    assert_eq!(
        broken(|p| p
            .stamps
            .as_mut()
            .into_iter()
            .for_each(|s| s.category = Some(String::new()))),
        "stamps.category"
    );
    assert_eq!(
        broken(|p| p.threshold_gift = Some(ThresholdGift {
            min_amount: 0,
            bonus_points: 1,
            gift: None
        })),
        "threshold_gift.min_amount"
    );
    assert_eq!(broken(|p| p.welcome_bonus = -1), "welcome_bonus");
    assert_eq!(
        broken(|p| p
            .birthday
            .as_mut()
            .into_iter()
            .for_each(|b| b.days_after = 360)),
        "birthday"
    );
    assert_eq!(
        broken(|p| p
            .referral
            .as_mut()
            .into_iter()
            .for_each(|r| r.referrer_points = -5)),
        "referral.referrer_points"
    );
    assert_eq!(broken(|p| p.hold_days = 10_000), "hold_days");
    assert_eq!(broken(|p| p.expiry_months = Some(0)), "expiry_months");
    assert_eq!(
        broken(|p| p.offline_spend_limit = -1),
        "offline_spend_limit"
    );
    assert_eq!(
        broken(|p| p.stacking.max_total_discount_bp = 10_001),
        "stacking.max_total_discount_bp"
    );
}

#[test]
fn error_message_is_clear() {
    let mut p = ProgramConfig::default();
    p.earn.rate_bp = 12_000;
    let e = p.validate().unwrap_err();
    assert_eq!(e.code(), "INVALID_CONFIG");
    assert_eq!(
        e.to_string(),
        "invalid program configuration: earn.rate_bp: must be at most 10000 basis points (100 %), got 12000"
    );
}

#[test]
fn problems_lists_every_invalid_setting_in_order() {
    assert!(ProgramConfig::default().problems().is_empty());
    let mut p = ProgramConfig::default();
    p.earn.rate_bp = 12_000;
    p.tiers.levels[2].threshold = 1;
    p.hold_days = 10_000;
    let fields: Vec<String> = p
        .problems()
        .into_iter()
        .map(|e| match e {
            RuleError::InvalidConfig { field, .. } => field,
            other => panic!("expected InvalidConfig, got {other:?}"),
        })
        .collect();
    assert_eq!(
        fields,
        ["earn.rate_bp", "tiers.levels[2].threshold", "hold_days"]
    );
    assert_eq!(field_of(&p), "earn.rate_bp", "validate reports the first");
}
