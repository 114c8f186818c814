//! Returns: points taken back (or restored) in proportion to the money returned.

use crate::money::{mul_div, Money, Points, Rounding};

/// The points attributable to `returned_amount` out of a sale of `original_amount` that
/// involved `points` points: `floor(points * returned / original)`, computed in `i128`.
///
/// `returned_amount` is **cumulative** (everything returned from this sale so far), so a
/// full return (`returned >= original`) yields exactly `points`. For the points a single
/// partial return takes, use [`return_share_delta`] (= share after − share before): the
/// sum over any sequence of partial returns never exceeds `points` and a full return
/// takes exactly `points`. `returned_amount` is clamped to `0..=original_amount`; a sale
/// with `original_amount <= 0` returns everything on any positive return.
pub fn return_share(original_amount: Money, returned_amount: Money, points: Points) -> Points {
    if returned_amount <= 0 {
        return 0;
    }
    if original_amount <= 0 || returned_amount >= original_amount {
        return points;
    }
    mul_div(points, returned_amount, original_amount, Rounding::Down)
}

/// The points one partial return takes: `return_share(original, already + now) −
/// return_share(original, already)`, where `already_returned` is the money returned by
/// earlier returns of the same sale and `returned_now` the money of this return.
pub fn return_share_delta(
    original_amount: Money,
    already_returned: Money,
    returned_now: Money,
    points: Points,
) -> Points {
    let before = return_share(original_amount, already_returned, points);
    let after = return_share(
        original_amount,
        already_returned.saturating_add(returned_now.max(0)),
        points,
    );
    after.saturating_sub(before)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn proportional_and_rounded_down() {
        assert_eq!(return_share(10_000, 5_000, 50), 25);
        assert_eq!(return_share(10_000, 3_333, 50), 16); // 16.665 -> 16
        assert_eq!(return_share(10_000, 10_000, 50), 50);
        assert_eq!(return_share(10_000, 20_000, 50), 50); // clamped
        assert_eq!(return_share(10_000, 0, 50), 0);
        assert_eq!(return_share(10_000, -5, 50), 0);
        assert_eq!(return_share(0, 1, 50), 50);
        assert_eq!(return_share(i64::MAX, i64::MAX - 1, i64::MAX), i64::MAX - 1);
    }

    #[test]
    fn three_thirds_take_everything() {
        // 100 points, sale 300.00 returned in three equal parts: 33 + 33 + 34.
        let parts: Vec<Points> = (0..3)
            .map(|i| return_share_delta(30_000, i * 10_000, 10_000, 100))
            .collect();
        assert_eq!(parts, vec![33, 33, 34]);
        assert_eq!(parts.iter().sum::<i64>(), 100);
    }

    proptest! {
        #[test]
        fn partial_returns_sum_exactly_to_points_for_a_full_return(
            original in 1i64..10_000_000_000,
            points in 0i64..10_000_000,
            cuts in proptest::collection::vec(0u32..=10_000, 0..8),
        ) {
            // Split the sale into parts at arbitrary fractions.
            let mut marks: Vec<i64> = cuts
                .iter()
                .map(|c| mul_div(original, i64::from(*c), 10_000, Rounding::Down))
                .collect();
            marks.push(0);
            marks.push(original);
            marks.sort_unstable();
            let mut total = 0i64;
            for w in marks.windows(2) {
                let part = return_share_delta(original, w[0], w[1] - w[0], points);
                prop_assert!(part >= 0);
                total += part;
                prop_assert!(total <= points);
            }
            prop_assert_eq!(total, points);
        }
    }
}
