use super::*;
use chrono::TimeZone;
use proptest::prelude::*;

fn t(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap() + Duration::days(i64::from(day))
}

fn lot(id: i64, earned: u32, avail: u32, exp: Option<u32>, remaining: Points) -> LotView {
    LotView {
        id,
        earned_at: t(earned),
        available_at: t(avail),
        expires_at: exp.map(t),
        remaining,
    }
}

#[test]
fn hold_and_expiry_helpers() {
    let e = Utc.with_ymd_and_hms(2025, 1, 31, 15, 30, 0).unwrap();
    assert_eq!(
        available_at(e, 14),
        Utc.with_ymd_and_hms(2025, 2, 14, 15, 30, 0).unwrap()
    );
    assert_eq!(available_at(e, 0), e);
    assert_eq!(
        expires_at(e, 12),
        Utc.with_ymd_and_hms(2026, 1, 31, 15, 30, 0).unwrap()
    );
    // Month-end clamping.
    assert_eq!(
        expires_at(e, 1),
        Utc.with_ymd_and_hms(2025, 2, 28, 15, 30, 0).unwrap()
    );
    let leap = Utc.with_ymd_and_hms(2024, 2, 29, 0, 0, 0).unwrap();
    assert_eq!(
        expires_at(leap, 12),
        Utc.with_ymd_and_hms(2025, 2, 28, 0, 0, 0).unwrap()
    );
    assert_eq!(expires_at(e, u32::MAX), DateTime::<Utc>::MAX_UTC);
    assert_eq!(
        available_at(DateTime::<Utc>::MAX_UTC, 1),
        DateTime::<Utc>::MAX_UTC
    );
}

#[test]
fn availability_boundaries() {
    let l = lot(1, 0, 14, Some(365), 10);
    assert!(!l.is_available(t(13)));
    assert!(l.is_pending(t(13)));
    assert!(l.is_available(t(14))); // available_at <= now
    assert!(!l.is_pending(t(14)));
    assert!(l.is_available(t(364)));
    assert!(!l.is_available(t(365))); // expires_at <= now
    assert!(!lot(2, 0, 0, None, 0).is_available(t(1))); // empty
}

#[test]
fn fifo_takes_earliest_expiry_first_then_oldest_earned_never_expiring_last() {
    let lots = vec![
        lot(1, 0, 0, None, 100),       // never expires: last
        lot(2, 5, 5, Some(400), 30),   // expires later
        lot(3, 10, 10, Some(300), 20), // expires first
        lot(4, 1, 1, Some(400), 25),   // same expiry as 2, earned earlier
        lot(5, 2, 50, Some(200), 99),  // still pending at t(20): skipped
        lot(6, 0, 0, Some(15), 99),    // expired at t(20): skipped
    ];
    let taken = fifo_take(&lots, t(20), 90).unwrap();
    assert_eq!(taken, vec![(3, 20), (4, 25), (2, 30), (1, 15)]);
    assert_eq!(fifo_take(&lots, t(20), 0).unwrap(), vec![]);
    assert_eq!(fifo_take(&lots, t(20), 20).unwrap(), vec![(3, 20)]);
}

#[test]
fn fifo_refuses_bad_amounts() {
    let lots = vec![lot(1, 0, 0, None, 10), lot(2, 0, 30, None, 50)];
    assert_eq!(
        fifo_take(&lots, t(1), 11),
        Err(RuleError::InsufficientPoints {
            available: 10,
            requested: 11
        })
    );
    assert_eq!(
        fifo_take(&lots, t(1), -1).unwrap_err().code(),
        "INVALID_AMOUNT"
    );
    assert_eq!(
        fifo_take(&[], t(1), 1).unwrap_err().code(),
        "INSUFFICIENT_POINTS"
    );
}

#[test]
fn expiry_schedule_groups_future_expiries() {
    let lots = vec![
        lot(1, 0, 0, Some(100), 10),
        lot(2, 0, 0, Some(50), 5),
        lot(3, 0, 60, Some(100), 7), // pending, still listed
        lot(4, 0, 0, None, 1000),    // never
        lot(5, 0, 0, Some(10), 3),   // already expired
        lot(6, 0, 0, Some(70), 0),   // empty
    ];
    assert_eq!(
        expiry_schedule(&lots, t(20)),
        vec![(t(50), 5), (t(100), 17)]
    );
    assert_eq!(expiry_schedule(&[], t(20)), vec![]);
}

fn arb_lot() -> impl Strategy<Value = LotView> {
    (
        0u32..100,
        0u32..100,
        proptest::option::of(0u32..200),
        -5i64..500,
    )
        .prop_map(|(e, hold, exp, rem)| lot(0, e, e + hold, exp, rem))
}

proptest! {
    #[test]
    fn fifo_takes_exactly_the_amount_in_order(
        lots in proptest::collection::vec(arb_lot(), 0..12),
        now in 0u32..250,
        amount in 0i64..3_000,
    ) {
        // Unique ids, in shuffled-ish order relative to the input.
        let lots: Vec<LotView> = lots
            .into_iter()
            .enumerate()
            .map(|(i, l)| LotView { id: (i as i64 * 7919) % 1009, ..l })
            .collect();
        let now = t(now);
        let available: Points = lots.iter().filter(|l| l.is_available(now)).map(|l| l.remaining).sum();
        match fifo_take(&lots, now, amount) {
            Err(e) => {
                prop_assert!(amount > available);
                prop_assert_eq!(e, RuleError::InsufficientPoints { available, requested: amount });
            }
            Ok(taken) => {
                prop_assert!(amount <= available);
                prop_assert_eq!(taken.iter().map(|(_, n)| *n).sum::<Points>(), amount);
                let mut prev: Option<&LotView> = None;
                for (i, (id, n)) in taken.iter().enumerate() {
                    let l = lots.iter().filter(|l| l.is_available(now)).find(|l| l.id == *id);
                    let l = l.expect("taken lot is an available lot");
                    prop_assert!(*n > 0 && *n <= l.remaining);
                    // Every lot but the last is emptied.
                    if i + 1 < taken.len() {
                        prop_assert_eq!(*n, l.remaining);
                    }
                    if let Some(p) = prev {
                        prop_assert_ne!(fifo_order(p, l), Ordering::Greater);
                    }
                    prev = Some(l);
                }
                // No skipped lot sorts before the last taken one.
                if let Some(last) = prev {
                    for l in lots.iter().filter(|l| l.is_available(now)) {
                        if !taken.iter().any(|(id, _)| *id == l.id) {
                            prop_assert_ne!(fifo_order(l, last), Ordering::Less);
                        }
                    }
                }
            }
        }
    }
}
