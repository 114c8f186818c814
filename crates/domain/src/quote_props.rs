//! Property tests of `quote` over random programs, customers and baskets.
use super::*;
use crate::basket::BasketLine;
use crate::money::Rounding;
use chrono::TimeZone;
use proptest::prelude::*;

fn arb_program() -> impl Strategy<Value = ProgramConfig> {
    (
        (
            1i64..1_000,
            0u32..=10_000,
            0u32..=10_000,
            0i64..1_000,
            0u8..3,
        ),
        (0u32..=10_000, 0u32..=10_000, 0u32..=10_000, 0u32..=10_000),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |((pv, earn, share, min_bal, rnd), (d1, d2, d3, cap), (sum, pwd, eod, enabled))| {
                let mut p = ProgramConfig {
                    point_value: pv,
                    ..ProgramConfig::default()
                };
                p.earn.rate_bp = earn;
                p.earn.rounding = match rnd {
                    0 => Rounding::Down,
                    1 => Rounding::HalfUp,
                    _ => Rounding::Up,
                };
                p.spend.enabled = enabled;
                p.spend.max_share_bp = share;
                p.spend.min_balance = min_bal;
                p.cumulative[0].discount_bp = d1;
                p.tiers.levels[0].discount_bp = d2;
                if let Some(b) = p.birthday.as_mut() {
                    b.discount_bp = d3;
                }
                p.stacking.discounts = if sum {
                    DiscountStacking::Sum
                } else {
                    DiscountStacking::Best
                };
                p.stacking.max_total_discount_bp = cap;
                p.stacking.points_with_discount = pwd;
                p.stacking.earn_on_discounted = eod;
                p
            },
        )
}

fn arb_customer() -> impl Strategy<Value = CustomerSnapshot> {
    (
        0i64..1_000_000,
        0i64..100_000_000,
        0u32..10,
        0u32..366,
        any::<bool>(),
    )
        .prop_map(
            |(available, spend, stamps, bday, referral_pending)| CustomerSnapshot {
                available,
                lifetime_spend: spend,
                window_spend: spend,
                stamps,
                birthday: chrono::NaiveDate::from_yo_opt(1992, bday.max(1)),
                referral_pending,
                ..Default::default()
            },
        )
}

fn arb_basket() -> impl Strategy<Value = Basket> {
    proptest::collection::vec((1i64..5, 1i64..10_000_000), 1..6).prop_map(|lines| {
        Basket::new(
            lines
                .into_iter()
                .enumerate()
                .map(|(i, (qty, amount))| BasketLine {
                    sku: format!("SKU{i}"),
                    category: None,
                    qty,
                    amount,
                })
                .collect(),
        )
    })
}

proptest! {
    #[test]
    fn to_pay_and_earn_are_never_negative(
        p in arb_program(),
        c in arb_customer(),
        b in arb_basket(),
        day in 0i64..365,
        frac in 0u32..=10_000,
    ) {
        let now = Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap() + chrono::Duration::days(day);
        let probe = quote(&c, &b, &p, now, 0).unwrap();
        let spend = mul_div(probe.max_redeemable, i64::from(frac), 10_000, crate::money::Rounding::Down);
        let r = quote(&c, &b, &p, now, spend).unwrap();
        prop_assert!(r.to_pay >= 0);
        prop_assert!(r.earn_total >= 0);
        prop_assert!(r.earn.iter().all(|e| e.points > 0));
        prop_assert_eq!(r.subtotal, b.total());
        prop_assert!(r.discount_total >= 0 && r.discount_total <= r.subtotal);
        prop_assert_eq!(r.discount_total, r.discounts.iter().map(|d| d.amount).sum::<i64>());
        let total_bp: u32 = r.discounts.iter().map(|d| d.bp).sum();
        prop_assert!(total_bp <= p.stacking.max_total_discount_bp);
        if p.stacking.discounts == DiscountStacking::Best {
            prop_assert!(r.discounts.len() <= 1);
        }
        prop_assert_eq!(r.after_discounts, r.subtotal - r.discount_total);
        prop_assert_eq!(r.spend_value, spend * p.point_value);
        prop_assert_eq!(r.to_pay, r.after_discounts - r.spend_value);
        prop_assert!(r.max_redeemable <= c.available);
        prop_assert!(r.max_redeemable * p.point_value <= apply_bp(r.after_discounts, p.spend.max_share_bp));
        prop_assert_eq!(r.earn_total, r.earn.iter().map(|e| e.points).sum::<i64>());
        // One point more than allowed is always refused.
        let over = quote(&c, &b, &p, now, r.max_redeemable + 1).unwrap_err();
        prop_assert!(matches!(
            over.code(),
            "SPEND_OVER_CAP" | "INSUFFICIENT_POINTS" | "BELOW_MIN_BALANCE" | "SPEND_DISABLED"
        ));
    }
}
