//! The personal offer on the customer panel: one line the cashier can say out loud, chosen
//! from the customer's figures and the program in force (pure; no I/O).
//!
//! Priority: points expiring within 30 days (use them today) > the next tier within reach
//! (the customer is at least [`REACH_PERCENT`] % of the way from the current level to the
//! next, measured as the program measures tiers) > birthday window.

use loyalty_domain::{fmt_bp, fmt_money, ProgramConfig, TierBasis};
use loyalty_store::CustomerView;

use crate::dto::Offer;

/// "Within reach": at least this share of the gap to the next level is already covered.
pub const REACH_PERCENT: i64 = 75;

pub fn offer_for(v: &CustomerView, p: &ProgramConfig) -> Option<Offer> {
    expiring(v)
        .or_else(|| next_tier(v, p))
        .or_else(|| birthday(v))
}

fn expiring(v: &CustomerView) -> Option<Offer> {
    let b = &v.balance;
    let when = b.next_expiry?;
    (b.expiring_soon > 0 && b.available > 0).then(|| Offer {
        kind: "expiring_points".into(),
        text: format!(
            "{} points expire on {}: suggest spending them today",
            b.expiring_soon,
            when.format("%Y-%m-%d")
        ),
        figures: vec![b.expiring_soon],
    })
}

fn next_tier(v: &CustomerView, p: &ProgramConfig) -> Option<Offer> {
    let have = v.tier_measure;
    let levels = &p.tiers.levels;
    let next_idx = levels.iter().position(|t| t.threshold > have)?;
    let next = &levels[next_idx];
    let floor = next_idx
        .checked_sub(1)
        .map(|i| levels[i].threshold)
        .unwrap_or(0);
    let gap = next.threshold - floor;
    let missing = next.threshold - have;
    if gap <= 0 || (have - floor) * 100 < gap * REACH_PERCENT {
        return None;
    }
    let text = match p.tiers.basis {
        TierBasis::Spend => format!(
            "{} more to reach {} (discount {})",
            fmt_money(missing),
            next.name,
            fmt_bp(next.discount_bp)
        ),
        TierBasis::Purchases => format!(
            "{missing} more purchase(s) to reach {} (discount {})",
            next.name,
            fmt_bp(next.discount_bp)
        ),
    };
    Some(Offer {
        kind: "next_tier".into(),
        text,
        figures: vec![missing, i64::from(next.discount_bp)],
    })
}

fn birthday(v: &CustomerView) -> Option<Offer> {
    v.birthday_window.then(|| Offer {
        kind: "birthday".into(),
        text: "birthday week: the birthday discount and bonus apply today".into(),
        figures: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use loyalty_store::{Balance, Channel, Customer};

    fn view(spend: i64) -> CustomerView {
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        CustomerView {
            customer: Customer {
                id: 1,
                uid: "u".into(),
                name: "A".into(),
                phone: None,
                email: None,
                birthday: None,
                gender: None,
                age_group: None,
                home_store: None,
                preferred_channel: Channel::None,
                marketing_consent: false,
                consent_at: None,
                tags: vec![],
                referrer_id: None,
                enrolled_at: t,
                enrolled_store: "S".into(),
                enrolled_till: "T".into(),
            },
            account_id: 1,
            card: "c".into(),
            cards: vec![],
            tier: None,
            balance: Balance::default(),
            lifetime_spend: spend,
            lifetime_purchases: 0,
            tier_measure: spend,
            stamps: 0,
            club_until: None,
            birthday_window: false,
        }
    }

    #[test]
    fn next_tier_only_when_within_reach() {
        let p = ProgramConfig::default();
        assert_eq!(p.tiers.basis, TierBasis::Spend, "demo program");
        let next = p.tiers.levels.iter().find(|t| t.threshold > 0).unwrap();
        let floor = p
            .tiers
            .levels
            .iter()
            .rev()
            .find(|t| t.threshold < next.threshold)
            .map_or(0, |t| t.threshold);
        let near = next.threshold - (next.threshold - floor) / 10;
        let o = offer_for(&view(near), &p).expect("90 % of the way: offered");
        assert_eq!(o.kind, "next_tier");
        assert_eq!(o.figures[0], next.threshold - near);
        assert!(o.text.contains(&next.name));
        assert_eq!(offer_for(&view(floor), &p), None, "just reached a level");
    }

    #[test]
    fn expiring_points_come_first() {
        let mut v = view(0);
        v.birthday_window = true;
        assert_eq!(
            offer_for(&v, &ProgramConfig::default()).unwrap().kind,
            "birthday"
        );
        v.balance.available = 300;
        v.balance.expiring_soon = 120;
        v.balance.next_expiry = Some(Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap());
        let o = offer_for(&v, &ProgramConfig::default()).unwrap();
        assert_eq!((o.kind.as_str(), o.figures[0]), ("expiring_points", 120));
    }
}
