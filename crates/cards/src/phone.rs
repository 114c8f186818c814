//! Phone numbers, normalised to E.164 (`+79161234567`) with libphonenumber's metadata
//! (the `phonenumber` crate), so one customer is found whichever way the cashier types it.

use std::str::FromStr;

use phonenumber::country::{self, Source};
use phonenumber::{Mode, PhoneNumber};

use crate::CardError;

/// Longer input is refused before parsing.
const MAX_INPUT_CHARS: usize = 40;
/// E.164 allows 15 digits; an international prefix such as `00` or `810` adds up to 3.
const MAX_DIGITS: usize = 18;
const MIN_DIGITS: usize = 6;

/// Normalise `input` to E.164. `default_region` (ISO 3166 alpha-2: `"RU"`, `"BG"`, …, any
/// case) is used for numbers written without a country code; `""` accepts only numbers with
/// one (`+…` or `00…`).
///
/// Accepts digits, spaces and `+ - ( ) . /` separators, with `+` only in front. Letters,
/// too short/long numbers and numbers that are well formed but not valid in their country
/// give [`CardError::InvalidPhone`], as does an unknown `default_region`.
pub fn normalize(input: &str, default_region: &str) -> Result<String, CardError> {
    let region = parse_region(default_region)?;
    let input = input.trim();
    let digits = prefilter(input)?;

    // With a country code the default region is irrelevant, and must not be passed: the
    // parser would apply its national-prefix rules (RU's "8" turns "+359 888 123 456" into
    // "+3598123456"). "00" is the international prefix almost everywhere, and people type
    // it even where the official one differs (Russia's is "8 10"), so it counts as "+".
    let international = if input.starts_with('+') {
        Some(format!("+{digits}"))
    } else {
        digits.strip_prefix("00").map(|rest| format!("+{rest}"))
    };
    let found = match international {
        Some(number) => parse(&number, None).as_ref().and_then(e164_if_valid),
        None => parse(input, region).and_then(|number| national_or_idd(&number, &digits)),
    };
    if let Some(e164) = found {
        return Ok(e164);
    }
    Err(CardError::InvalidPhone(
        "not a valid phone number for its country".into(),
    ))
}

/// Shape only, to route scanner/keyboard input: after trimming, only digits, spaces and
/// `+ - ( ) .` (a `+` only in front) with 6 to 18 digits. A 13-digit card number matches
/// too, so try [`crate::card`] first.
pub fn looks_like_phone(input: &str) -> bool {
    let s = input.trim();
    s.chars().count() <= MAX_INPUT_CHARS && prefilter(s).is_ok()
}

fn parse_region(region: &str) -> Result<Option<country::Id>, CardError> {
    let region = region.trim();
    if region.is_empty() {
        return Ok(None);
    }
    if region.len() != 2 || !region.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(CardError::InvalidPhone(
            "default region must be a two-letter country code".into(),
        ));
    }
    country::Id::from_str(&region.to_ascii_uppercase())
        .map(Some)
        .map_err(|_| CardError::InvalidPhone("unknown default region".into()))
}

/// Character-level check before handing text to the parser; returns the digits.
fn prefilter(input: &str) -> Result<String, CardError> {
    if input.chars().nth(MAX_INPUT_CHARS).is_some() {
        return Err(CardError::InvalidPhone("too long".into()));
    }
    let mut digits = String::new();
    for (i, c) in input.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => {}
            ' ' | '-' | '(' | ')' | '.' | '/' => {}
            _ => {
                return Err(CardError::InvalidPhone(
                    "only digits, spaces and + - ( ) . / are allowed".into(),
                ))
            }
        }
    }
    if digits.len() < MIN_DIGITS {
        return Err(CardError::InvalidPhone("too few digits".into()));
    }
    if digits.len() > MAX_DIGITS {
        return Err(CardError::InvalidPhone("too many digits".into()));
    }
    Ok(digits)
}

/// A number parsed against the default region. When the parser found a country code in
/// the digits themselves (an international prefix such as RU's "8 10", or the bare country
/// code), the region's national-prefix rules may have mangled the rest, so the number is
/// re-read as "+<country code>…" from the typed digits.
fn national_or_idd(number: &PhoneNumber, digits: &str) -> Option<String> {
    match number.code().source() {
        Source::Default | Source::Plus => e164_if_valid(number),
        Source::Idd | Source::Number => {
            let cc = number.code().value().to_string();
            (0..=4)
                .filter_map(|skip| digits.get(skip..))
                .filter(|rest| rest.starts_with(&cc))
                .find_map(|rest| {
                    parse(&format!("+{rest}"), None)
                        .as_ref()
                        .and_then(e164_if_valid)
                })
        }
    }
}

fn e164_if_valid(number: &PhoneNumber) -> Option<String> {
    phonenumber::is_valid(number).then(|| number.format().mode(Mode::E164).to_string())
}

/// The parser, guarded against panics (it has had fuzz-found ones upstream): a panic there
/// counts as "not a number".
fn parse(input: &str, region: Option<country::Id>) -> Option<PhoneNumber> {
    std::panic::catch_unwind(|| phonenumber::parse(region, input).ok())
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str, region: &str, want: &str) {
        assert_eq!(
            normalize(input, region).as_deref(),
            Ok(want),
            "{input:?} in {region}"
        );
    }

    #[test]
    fn russian_formats() {
        for input in [
            "8 916 123-45-67",
            "+7 (916) 123 45 67",
            "89161234567",
            "9161234567",
            "+79161234567",
            "7 916 123 45 67",
            "8 (916) 123-45-67",
            "  +7 916 123-45-67\n",
            "8.916.123.45.67",
        ] {
            ok(input, "RU", "+79161234567");
        }
        ok("8 495 123-45-67", "RU", "+74951234567");
        ok("8 916 123-45-67", "ru", "+79161234567");
    }

    #[test]
    fn bulgarian_formats() {
        for input in [
            "0888 123 456",
            "+359 888 123 456",
            "00359888123456",
            "888 123 456",
        ] {
            ok(input, "BG", "+359888123456");
        }
        // A Bulgarian number typed with its country code from a Russian till.
        ok("+359 888 123 456", "RU", "+359888123456");
        ok("00359888123456", "RU", "+359888123456");
    }

    #[test]
    fn international_formats() {
        ok("+44 20 7946 0958", "RU", "+442079460958");
        ok("+44 20 7946 0958", "BG", "+442079460958");
        ok("+49 30 123456", "BG", "+4930123456");
        ok("0044 20 7946 0958", "BG", "+442079460958");
        ok("+44 20 7946 0958", "", "+442079460958");
        ok("020 7946 0958", "GB", "+442079460958");
        ok("+44 (0) 20 7946 0958", "RU", "+442079460958");
        ok("8 10 359 888 123 456", "RU", "+359888123456");
    }

    #[test]
    fn invalid_numbers() {
        let long = "9".repeat(10_000);
        for (input, region) in [
            ("", "RU"),
            ("   ", "RU"),
            ("12345", "RU"),
            ("8 916", "RU"),
            ("8 916 CALL-ME", "RU"),
            ("+7 916 123 45 6x", "RU"),
            ("abcdefghij", "BG"),
            ("+7 (916) 123 45 67 89 01 23", "RU"),
            ("+7 000 000 00 00", "RU"), // right length, not a Russian range
            ("+359 123", "BG"),
            ("1111111111", "BG"),
            ("+999 123 456 789", "RU"), // no such country code
            ("++79161234567", "RU"),
            ("7+9161234567", "RU"),
            ("9161234567", ""),                 // no region, no country code
            ("＋７９１６１２３４５６７", "RU"), // full-width
            ("٩١٦١٢٣٤٥٦٧", "RU"),
            ("\u{0}\u{202e}9161234567", "RU"),
            (long.as_str(), "RU"),
            ("9161234567", "XX"),
            ("9161234567", "RUS"),
            ("9161234567", "R\u{0}"),
        ] {
            let got = normalize(input, region);
            assert!(
                matches!(got, Err(CardError::InvalidPhone(_))),
                "{:?} in {region:?} -> {got:?}",
                &input.chars().take(40).collect::<String>()
            );
        }
        assert_eq!(normalize("123", "RU").unwrap_err().code(), "PHONE_INVALID");
    }

    #[test]
    fn looks_like_phone_shape() {
        for s in [
            "+7 (916) 123-45-67",
            "0888 123 456",
            "123456",
            " 89161234567 ",
        ] {
            assert!(looks_like_phone(s), "{s}");
        }
        for s in [
            "",
            "12345",
            "+7 916 CALL",
            "LC1.4006381333931.1.2.x",
            "Ivanov",
            "7+916123456",
        ] {
            assert!(!looks_like_phone(s), "{s}");
        }
    }
}
