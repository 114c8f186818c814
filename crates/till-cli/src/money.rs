//! Money as typed by a cashier ("12.50", "12,5", "1 234") to minor units and back.
//! Integers only: amounts never pass through a float.

use loyalty_domain::Money;

/// Why a typed amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an amount: {0:?} (expected e.g. 12.50)")]
pub struct BadAmount(pub String);

/// Parses a decimal amount with at most two decimals into minor units.
pub fn parse_amount(input: &str) -> Result<Money, BadAmount> {
    let bad = || BadAmount(input.to_string());
    let s: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    let s = s.replace(',', ".");
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s.as_str(), ""),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (!frac.is_empty() && !digits(frac)) || frac.len() > 2 {
        return Err(bad());
    }
    let whole: Money = whole.parse().map_err(|_| bad())?;
    let frac: Money = match frac.len() {
        0 => 0,
        1 => frac.parse::<Money>().map_err(|_| bad())? * 10,
        _ => frac.parse().map_err(|_| bad())?,
    };
    whole
        .checked_mul(100)
        .and_then(|m| m.checked_add(frac))
        .ok_or_else(bad)
}

/// Formats minor units as `1 234.50 RUB`.
pub fn format_money(minor: Money, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let whole = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{:02} {currency}", abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cashier_amounts() {
        assert_eq!(parse_amount("12.50"), Ok(1250));
        assert_eq!(parse_amount("12,5"), Ok(1250));
        assert_eq!(parse_amount("1 234"), Ok(123_400));
        assert_eq!(parse_amount("0.07"), Ok(7));
        for bad in [
            "",
            "abc",
            "1.234",
            "-5",
            "1.2.3",
            ".5",
            "99999999999999999999",
        ] {
            assert!(parse_amount(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn formats_with_groups() {
        assert_eq!(format_money(123_456_789, "RUB"), "1 234 567.89 RUB");
        assert_eq!(format_money(5, "EUR"), "0.05 EUR");
        assert_eq!(format_money(-1250, "BGN"), "-12.50 BGN");
    }
}
