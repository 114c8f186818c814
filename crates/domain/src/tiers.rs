//! Status tiers (earned by spend or purchases, lifetime or rolling window) and the
//! paid club membership.

use crate::config::{ClubRule, ProgramConfig, Tier, TierBasis, TierWindow};
use crate::customer::CustomerSnapshot;
use crate::money::Bp;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How the customer got their tier.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TierSource {
    /// Reached by spend / purchases.
    Earned,
    /// Granted by an active paid club membership.
    Club,
}

/// The customer's effective tier at quote time.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TierInfo {
    pub code: String,
    pub name: String,
    /// Effective earn rate: the tier's `earn_bp`, or the program's base `earn.rate_bp`.
    pub earn_bp: Bp,
    pub discount_bp: Bp,
    pub source: TierSource,
}

impl TierInfo {
    fn from_tier(t: &Tier, base_earn: Bp, source: TierSource) -> Self {
        TierInfo {
            code: t.code.clone(),
            name: t.name.clone(),
            earn_bp: t.earn_bp.unwrap_or(base_earn),
            discount_bp: t.discount_bp,
            source,
        }
    }
}

/// The value a tier threshold is compared with: spend or purchases, lifetime or window.
pub fn tier_measure(c: &CustomerSnapshot, p: &ProgramConfig) -> i64 {
    match (p.tiers.basis, p.tiers.window) {
        (TierBasis::Spend, TierWindow::Lifetime) => c.lifetime_spend,
        (TierBasis::Spend, TierWindow::RollingDays(_)) => c.window_spend,
        (TierBasis::Purchases, TierWindow::Lifetime) => i64::from(c.lifetime_purchases),
        (TierBasis::Purchases, TierWindow::RollingDays(_)) => i64::from(c.window_purchases),
    }
}

/// Index of the earned level: the highest whose `threshold <= measure`.
fn earned_index(c: &CustomerSnapshot, p: &ProgramConfig) -> Option<usize> {
    let m = tier_measure(c, p);
    p.tiers.levels.iter().rposition(|t| t.threshold <= m)
}

/// The customer's tier at `now`: the highest level reached (re-evaluated every time, so
/// a rolling window that no longer qualifies downgrades), or the club's tier while the
/// membership is active (`club_until > now`) if that one is higher. `None` when the
/// program has no levels or the customer reached none.
pub fn tier_for(c: &CustomerSnapshot, p: &ProgramConfig, now: DateTime<Utc>) -> Option<TierInfo> {
    let base = p.earn.rate_bp;
    let earned = earned_index(c, p);
    let club = p
        .club
        .as_ref()
        .filter(|_| c.club_active(now))
        .and_then(|club| club.tier_code.as_deref())
        .and_then(|code| p.tier_index(code));
    match (earned, club) {
        (Some(e), Some(k)) if k > e => p
            .tiers
            .levels
            .get(k)
            .map(|t| TierInfo::from_tier(t, base, TierSource::Club)),
        (None, Some(k)) => p
            .tiers
            .levels
            .get(k)
            .map(|t| TierInfo::from_tier(t, base, TierSource::Club)),
        (Some(e), _) => p
            .tiers
            .levels
            .get(e)
            .map(|t| TierInfo::from_tier(t, base, TierSource::Earned)),
        (None, None) => None,
    }
}

/// New `club_until` after paying the club fee at `now`: a running membership is extended
/// by `period_days` from its end, an expired (or absent) one starts at `now`.
pub fn club_extend(
    current: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    rule: &ClubRule,
) -> DateTime<Utc> {
    let start = match current {
        Some(until) if until > now => until,
        _ => now,
    };
    start
        .checked_add_signed(Duration::days(i64::from(rule.period_days)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
    }

    fn with_window_spend(spend: i64) -> CustomerSnapshot {
        CustomerSnapshot {
            window_spend: spend,
            lifetime_spend: 99_000_000,
            ..Default::default()
        }
    }

    #[test]
    fn highest_reached_level_by_rolling_spend() {
        let p = ProgramConfig::default();
        let t = tier_for(&with_window_spend(0), &p, now()).unwrap();
        assert_eq!((t.code.as_str(), t.earn_bp), ("BASE", 500));
        let t = tier_for(&with_window_spend(2_999_999), &p, now()).unwrap();
        assert_eq!(t.code, "BASE");
        let t = tier_for(&with_window_spend(3_000_000), &p, now()).unwrap();
        assert_eq!((t.code.as_str(), t.earn_bp), ("SILVER", 700));
        let t = tier_for(&with_window_spend(10_000_000), &p, now()).unwrap();
        assert_eq!((t.code.as_str(), t.earn_bp), ("GOLD", 1_000));
        assert_eq!(t.source, TierSource::Earned);
    }

    #[test]
    fn downgrade_when_window_no_longer_qualifies() {
        // Lifetime spend is huge, but the rolling window only has 1 000.00 now.
        let p = ProgramConfig::default();
        let gold = tier_for(&with_window_spend(12_000_000), &p, now()).unwrap();
        assert_eq!(gold.code, "GOLD");
        let later = tier_for(&with_window_spend(100_000), &p, now()).unwrap();
        assert_eq!(later.code, "BASE");
    }

    #[test]
    fn lifetime_purchases_basis() {
        let mut p = ProgramConfig::default();
        p.tiers.basis = TierBasis::Purchases;
        p.tiers.window = TierWindow::Lifetime;
        p.tiers.levels[0].threshold = 1;
        p.tiers.levels[1].threshold = 10;
        p.tiers.levels[2].threshold = 50;
        let mut c = CustomerSnapshot {
            window_purchases: 100, // ignored for a lifetime window
            ..Default::default()
        };
        assert_eq!(tier_for(&c, &p, now()), None);
        c.lifetime_purchases = 10;
        assert_eq!(tier_for(&c, &p, now()).unwrap().code, "SILVER");
        assert_eq!(tier_measure(&c, &p), 10);
    }

    #[test]
    fn club_gives_its_tier_while_active_and_only_if_higher() {
        let p = ProgramConfig {
            club: Some(ClubRule {
                fee: 99_900,
                period_days: 30,
                tier_code: Some("SILVER".into()),
                discount_bp: 0,
            }),
            ..ProgramConfig::default()
        };
        let mut c = with_window_spend(0);
        c.club_until = Some(now() + Duration::days(1));
        let t = tier_for(&c, &p, now()).unwrap();
        assert_eq!((t.code.as_str(), t.source), ("SILVER", TierSource::Club));
        // Expired (club_until == now is not active).
        c.club_until = Some(now());
        let t = tier_for(&c, &p, now()).unwrap();
        assert_eq!((t.code.as_str(), t.source), ("BASE", TierSource::Earned));
        // Active, but the earned tier is higher.
        c.club_until = Some(now() + Duration::days(1));
        c.window_spend = 10_000_000;
        let t = tier_for(&c, &p, now()).unwrap();
        assert_eq!((t.code.as_str(), t.source), ("GOLD", TierSource::Earned));
    }

    #[test]
    fn no_levels_no_tier() {
        let mut p = ProgramConfig::default();
        p.tiers.levels.clear();
        assert_eq!(tier_for(&with_window_spend(5), &p, now()), None);
    }

    #[test]
    fn club_extension() {
        let rule = ClubRule {
            fee: 1,
            period_days: 30,
            tier_code: None,
            discount_bp: 500,
        };
        assert_eq!(club_extend(None, now(), &rule), now() + Duration::days(30));
        let running = now() + Duration::days(5);
        assert_eq!(
            club_extend(Some(running), now(), &rule),
            now() + Duration::days(35)
        );
        let expired = now() - Duration::days(5);
        assert_eq!(
            club_extend(Some(expired), now(), &rule),
            now() + Duration::days(30)
        );
    }
}
