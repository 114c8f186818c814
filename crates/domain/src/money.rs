//! Integer arithmetic helpers: money, points and basis points. No floats anywhere.

use serde::{Deserialize, Serialize};

/// Money in minor units (kopecks, stotinki, cents).
pub type Money = i64;
/// Loyalty points (whole points).
pub type Points = i64;
/// Basis points: 10 000 = 100 %.
pub type Bp = u32;

/// 100 % in basis points.
pub const BP_100: Bp = 10_000;

/// How a fractional number of points (or money) is turned into a whole one.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Towards zero for non-negative values (floor). The default: never over-award.
    #[default]
    Down,
    /// To nearest, halves away from zero.
    HalfUp,
    /// Away from zero (ceiling for non-negative values).
    Up,
}

/// `value * num / den` with `rounding`, computed in `i128`; the result saturates to the
/// `i64` range. `den <= 0` yields 0 (callers validate configuration first).
pub fn mul_div(value: i64, num: i64, den: i64, rounding: Rounding) -> i64 {
    if den <= 0 {
        return 0;
    }
    let n = i128::from(value) * i128::from(num);
    let d = i128::from(den);
    let neg = n < 0;
    let a = n.unsigned_abs();
    let d = d.unsigned_abs();
    let q = a / d;
    let r = a % d;
    let q = match rounding {
        Rounding::Down => q,
        Rounding::Up => {
            if r > 0 {
                q + 1
            } else {
                q
            }
        }
        Rounding::HalfUp => {
            if r * 2 >= d {
                q + 1
            } else {
                q
            }
        }
    };
    let q = i128::try_from(q).unwrap_or(i128::MAX);
    let signed = if neg { -q } else { q };
    i64::try_from(signed).unwrap_or(if neg { i64::MIN } else { i64::MAX })
}

/// `amount * bp / 10 000`, rounded down (towards zero).
pub fn apply_bp(amount: Money, bp: Bp) -> Money {
    mul_div(amount, i64::from(bp), i64::from(BP_100), Rounding::Down)
}

/// Formats minor units as `1234.56` (for reasons shown to the cashier).
pub fn fmt_money(m: Money) -> String {
    let sign = if m < 0 { "-" } else { "" };
    let a = m.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// Formats basis points as a percentage: 500 → `5%`, 350 → `3.5%`, 1 → `0.01%`.
pub fn fmt_bp(bp: Bp) -> String {
    let (whole, frac) = (bp / 100, bp % 100);
    match frac {
        0 => format!("{whole}%"),
        f if f % 10 == 0 => format!("{whole}.{}%", f / 10),
        f => format!("{whole}.{f:02}%"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_div_rounds_as_stated() {
        assert_eq!(mul_div(7, 1, 2, Rounding::Down), 3);
        assert_eq!(mul_div(7, 1, 2, Rounding::HalfUp), 4);
        assert_eq!(mul_div(7, 1, 2, Rounding::Up), 4);
        assert_eq!(mul_div(6, 1, 4, Rounding::HalfUp), 2); // 1.5 -> 2
        assert_eq!(mul_div(5, 1, 4, Rounding::HalfUp), 1); // 1.25 -> 1
        assert_eq!(mul_div(8, 1, 4, Rounding::Up), 2);
        assert_eq!(mul_div(-7, 1, 2, Rounding::Down), -3);
        assert_eq!(mul_div(1, 1, 0, Rounding::Down), 0);
    }

    #[test]
    fn mul_div_does_not_overflow() {
        assert_eq!(mul_div(i64::MAX, 10_000, 10_000, Rounding::Down), i64::MAX);
        assert_eq!(mul_div(i64::MAX, 2, 1, Rounding::Down), i64::MAX);
        assert_eq!(mul_div(i64::MIN, 2, 1, Rounding::Down), i64::MIN);
    }

    #[test]
    fn formatting() {
        assert_eq!(fmt_money(1_000_000), "10000.00");
        assert_eq!(fmt_money(5), "0.05");
        assert_eq!(fmt_money(-1_234), "-12.34");
        assert_eq!(fmt_bp(500), "5%");
        assert_eq!(fmt_bp(350), "3.5%");
        assert_eq!(fmt_bp(1), "0.01%");
        assert_eq!(fmt_bp(1_025), "10.25%");
    }

    #[test]
    fn apply_bp_floors() {
        assert_eq!(apply_bp(999, 300), 29); // 29.97 -> 29
        assert_eq!(apply_bp(100_000, 10_000), 100_000);
        assert_eq!(apply_bp(100_000, 0), 0);
    }
}
