//! The personal offer on the customer panel: one line the cashier can say out loud, chosen
//! from the customer's figures, purchase history and the program in force (pure; no I/O).
//!
//! Priority, the first rule that applies wins:
//! 1. **expiring points**: points expire within 30 days (use them today);
//! 2. **next tier within reach**: the customer is at least [`REACH_PERCENT`] % of the way
//!    from the current level to the next, measured as the program measures tiers;
//! 3. **birthday window**;
//! 4. **lapsed category**: a category bought at least [`LAPSED_MIN_PURCHASES`] times but
//!    not for [`LAPSED_CATEGORY_DAYS`] days or more (the most bought such one) — win it back;
//! 5. **favourite category**: the category bought most often, with at least
//!    [`FAVOURITE_MIN_PURCHASES`] purchases and strictly more than any other category.
//!
//! The categories are `CustomerView::categories`: the server's per-category summary of
//! every till's sales plus this till's sales not yet included (so they work offline and a
//! sale made a minute ago counts). `ProgramConfig` has no setting for these rules: the
//! thresholds are the constants below.

use chrono::{DateTime, Utc};
use loyalty_domain::{fmt_bp, fmt_money, ProgramConfig, TierBasis};
use loyalty_store::{CategoryStat, CustomerView};

use crate::dto::Offer;

/// "Within reach": at least this share of the gap to the next level is already covered.
pub const REACH_PERCENT: i64 = 75;
/// A category not bought for this many days (or more) is "lapsed".
pub const LAPSED_CATEGORY_DAYS: i64 = 60;
/// A lapsed category must have been a habit: bought at least this many times.
pub const LAPSED_MIN_PURCHASES: i64 = 2;
/// The favourite category needs at least this many purchases.
pub const FAVOURITE_MIN_PURCHASES: i64 = 3;

pub fn offer_for(v: &CustomerView, p: &ProgramConfig, now: DateTime<Utc>) -> Option<Offer> {
    expiring(v)
        .or_else(|| next_tier(v, p))
        .or_else(|| birthday(v))
        .or_else(|| lapsed_category(&v.categories, now))
        .or_else(|| favourite_category(&v.categories))
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
        subject: None,
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
        subject: Some(next.name.clone()),
    })
}

fn birthday(v: &CustomerView) -> Option<Offer> {
    v.birthday_window.then(|| Offer {
        kind: "birthday".into(),
        text: "birthday week: the birthday discount and bonus apply today".into(),
        figures: vec![],
        subject: None,
    })
}

/// Whole days since `s` was last bought (0 when in the future: a till clock ahead).
fn days_since(s: &CategoryStat, now: DateTime<Utc>) -> i64 {
    (now - s.last_at).num_days().max(0)
}

/// The most bought category (`cats` are ranked, most purchases first) not bought for
/// [`LAPSED_CATEGORY_DAYS`] or more.
fn lapsed_category(cats: &[CategoryStat], now: DateTime<Utc>) -> Option<Offer> {
    let c = cats.iter().find(|c| {
        c.purchases >= LAPSED_MIN_PURCHASES && days_since(c, now) >= LAPSED_CATEGORY_DAYS
    })?;
    let days = days_since(c, now);
    Some(Offer {
        kind: "lapsed_category".into(),
        text: format!(
            "No {0} for {days} days (bought {1} times before): suggest {0} today",
            c.category, c.purchases
        ),
        figures: vec![days, c.purchases],
        subject: Some(c.category.clone()),
    })
}

/// The clear favourite: the most bought category, ahead of every other one.
fn favourite_category(cats: &[CategoryStat]) -> Option<Offer> {
    let top = cats.iter().max_by_key(|c| c.purchases)?;
    let clear = cats
        .iter()
        .filter(|c| c.category != top.category)
        .all(|c| c.purchases < top.purchases);
    (clear && top.purchases >= FAVOURITE_MIN_PURCHASES).then(|| Offer {
        kind: "favourite_category".into(),
        text: format!(
            "{} is the favourite ({} purchases): suggest {} today",
            capitalised(&top.category),
            top.purchases,
            top.category
        ),
        figures: vec![top.purchases, top.amount],
        subject: Some(top.category.clone()),
    })
}

/// `s` with its first letter in upper case (to start the sentence).
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use loyalty_store::{Balance, Channel, Customer};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    fn cat(name: &str, purchases: i64, days_ago: i64) -> CategoryStat {
        CategoryStat {
            category: name.into(),
            purchases,
            amount: purchases * 350,
            last_at: now() - chrono::Duration::days(days_ago),
        }
    }

    fn with(cats: Vec<CategoryStat>) -> CustomerView {
        let mut v = view(0);
        v.categories = cats;
        loyalty_wire::rank_categories(&mut v.categories);
        v
    }

    fn kind(v: &CustomerView) -> Option<String> {
        offer_for(v, &ProgramConfig::default(), now()).map(|o| o.kind)
    }

    #[test]
    fn favourite_category_needs_enough_purchases_and_a_clear_lead() {
        let o = offer_for(
            &with(vec![cat("coffee", 5, 1), cat("tea", 2, 3)]),
            &ProgramConfig::default(),
            now(),
        )
        .unwrap();
        assert_eq!(o.kind, "favourite_category");
        assert_eq!(o.subject.as_deref(), Some("coffee"));
        assert_eq!(o.figures, vec![5, 5 * 350]);
        assert_eq!(
            o.text,
            "Coffee is the favourite (5 purchases): suggest coffee today"
        );
        let thr = FAVOURITE_MIN_PURCHASES;
        assert_eq!(
            kind(&with(vec![cat("coffee", thr, 1)])).as_deref(),
            Some("favourite_category"),
            "exactly the threshold"
        );
        assert_eq!(kind(&with(vec![cat("coffee", thr - 1, 1)])), None);
        assert_eq!(
            kind(&with(vec![cat("coffee", 4, 1), cat("tea", 4, 1)])),
            None,
            "a tie is no favourite"
        );
        assert_eq!(kind(&with(vec![])), None);
    }

    #[test]
    fn lapsed_category_from_n_days_on() {
        let n = LAPSED_CATEGORY_DAYS;
        let cats = |days| vec![cat("coffee", 9, 1), cat("cakes", 3, days)];
        let o = offer_for(&with(cats(n)), &ProgramConfig::default(), now()).unwrap();
        assert_eq!(o.kind, "lapsed_category", "exactly N days: lapsed");
        assert_eq!(o.subject.as_deref(), Some("cakes"));
        assert_eq!(o.figures, vec![n, 3]);
        assert!(
            o.text.starts_with(&format!("No cakes for {n} days")),
            "{}",
            o.text
        );
        assert_eq!(
            kind(&with(cats(n - 1))).as_deref(),
            Some("favourite_category"),
            "N - 1 days: not yet lapsed, the favourite is offered"
        );
        // A category bought once is no habit.
        let once = vec![
            cat("coffee", 9, 1),
            cat("gifts", LAPSED_MIN_PURCHASES - 1, 400),
        ];
        assert_eq!(kind(&with(once)).as_deref(), Some("favourite_category"));
        // The most bought lapsed category is the one offered.
        let two = vec![cat("tea", 2, 100), cat("cakes", 4, 90), cat("coffee", 1, 1)];
        let o = offer_for(&with(two), &ProgramConfig::default(), now()).unwrap();
        assert_eq!(o.subject.as_deref(), Some("cakes"));
        // A purchase "in the future" (a till clock ahead) is not lapsed.
        assert_eq!(kind(&with(vec![cat("tea", 2, -3)])), None);
    }

    #[test]
    fn priority_expiring_tier_birthday_lapsed_favourite() {
        let mut v = with(vec![cat("coffee", 9, 1), cat("cakes", 3, 200)]);
        assert_eq!(kind(&v).as_deref(), Some("lapsed_category"));
        v.birthday_window = true;
        assert_eq!(kind(&v).as_deref(), Some("birthday"));
        let p = ProgramConfig::default();
        let next = p.tiers.levels.iter().find(|t| t.threshold > 0).unwrap();
        v.tier_measure = next.threshold - 1;
        assert_eq!(kind(&v).as_deref(), Some("next_tier"));
        v.balance.available = 300;
        v.balance.expiring_soon = 120;
        v.balance.next_expiry = Some(now() + chrono::Duration::days(3));
        assert_eq!(kind(&v).as_deref(), Some("expiring_points"));
    }

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
            account_uid: "acc".into(),
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
            categories: vec![],
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
        let o = offer_for(&view(near), &p, now()).expect("90 % of the way: offered");
        assert_eq!(o.kind, "next_tier");
        assert_eq!(o.figures[0], next.threshold - near);
        assert!(o.text.contains(&next.name));
        assert_eq!(
            offer_for(&view(floor), &p, now()),
            None,
            "just reached a level"
        );
    }

    #[test]
    fn expiring_points_come_first() {
        let mut v = view(0);
        v.birthday_window = true;
        assert_eq!(
            offer_for(&v, &ProgramConfig::default(), now())
                .unwrap()
                .kind,
            "birthday"
        );
        v.balance.available = 300;
        v.balance.expiring_soon = 120;
        v.balance.next_expiry = Some(Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap());
        let o = offer_for(&v, &ProgramConfig::default(), now()).unwrap();
        assert_eq!((o.kind.as_str(), o.figures[0]), ("expiring_points", 120));
    }
}
