//! Physical card numbers: 13 digits, EAN-13 compatible so they print as standard barcodes.
//!
//! Layout: `<prefix digits><zero-padded serial><check digit>`, 12 + 1 digits. Prefixes
//! `20`–`29` are the GS1 "in-store / restricted circulation" range, a good choice for
//! loyalty cards (they never collide with a real product barcode).

mod barcode;

pub use barcode::{barcode_modules, barcode_svg};

use crate::CardError;

/// Length of a card number, check digit included.
pub const CARD_LEN: usize = 13;
/// Length of the body (everything before the check digit).
pub const BODY_LEN: usize = CARD_LEN - 1;

/// EAN-13 check digit of a 12-digit body (surrounding whitespace is ignored).
///
/// Weights are 1, 3, 1, 3, … from the left; the check digit brings the sum to a multiple of 10.
pub fn check_digit(body: &str) -> Result<u8, CardError> {
    let body = body.trim();
    let digits = ascii_digits(body).ok_or_else(|| {
        CardError::Malformed("the card number body must contain digits only".into())
    })?;
    if digits.len() != BODY_LEN {
        return Err(CardError::Malformed(format!(
            "the card number body must be {BODY_LEN} digits, got {}",
            char_count_capped(body)
        )));
    }
    Ok(check_digit_of(&digits))
}

/// Build a card number: `prefix` digits, then `serial` zero-padded to fill 12 digits, then
/// the EAN-13 check digit.
///
/// Errors ([`CardError::Malformed`]): a prefix with non-digits or of 12+ digits (no room for
/// a serial), or a serial too large for the room the prefix leaves.
pub fn generate(prefix: &str, serial: u64) -> Result<String, CardError> {
    if ascii_digits(prefix).is_none() {
        return Err(CardError::Malformed(
            "card prefix must contain digits only".into(),
        ));
    }
    if prefix.len() >= BODY_LEN {
        return Err(CardError::Malformed(format!(
            "card prefix must be at most {} digits, got {}",
            BODY_LEN - 1,
            char_count_capped(prefix)
        )));
    }
    let width = BODY_LEN - prefix.len();
    // width is 1..=12, so 10^width fits easily in u64.
    let room = 10u64.pow(width as u32);
    if serial >= room {
        return Err(CardError::Malformed(format!(
            "serial {serial} does not fit in the {width} digits left by prefix {prefix:?}"
        )));
    }
    let body = format!("{prefix}{serial:0width$}");
    let digits = ascii_digits(&body)
        .ok_or_else(|| CardError::Malformed("card body must contain digits only".into()))?;
    Ok(format!("{body}{}", check_digit_of(&digits)))
}

/// Check a card number: exactly 13 ASCII digits after trimming surrounding whitespace
/// ([`CardError::Malformed`] otherwise) with a correct check digit
/// ([`CardError::BadCheckDigit`] otherwise).
pub fn validate(number: &str) -> Result<(), CardError> {
    normalize(number).map(|_| ())
}

/// [`validate`], returning the canonical form (the trimmed 13 digits) for storage and lookup.
pub fn normalize(number: &str) -> Result<String, CardError> {
    let number = number.trim();
    let digits = ascii_digits(number)
        .ok_or_else(|| CardError::Malformed("a card number contains digits only".into()))?;
    if digits.len() != CARD_LEN {
        return Err(CardError::Malformed(format!(
            "a card number has {CARD_LEN} digits, got {}",
            char_count_capped(number)
        )));
    }
    let expected = check_digit_of(&digits[..BODY_LEN]);
    let found = digits[BODY_LEN];
    if expected != found {
        return Err(CardError::BadCheckDigit { expected, found });
    }
    Ok(number.to_owned())
}

/// Shape only: 13 ASCII digits after trimming (the check digit is *not* checked, so a
/// mistyped card still routes to [`validate`] and gets a precise error).
pub fn looks_like_card(input: &str) -> bool {
    let s = input.trim();
    s.len() == CARD_LEN && s.bytes().all(|b| b.is_ascii_digit())
}

/// Digit values of an all-ASCII-digit string (empty string → empty vec); `None` otherwise.
fn ascii_digits(s: &str) -> Option<Vec<u8>> {
    s.bytes()
        .map(|b| b.is_ascii_digit().then(|| b - b'0'))
        .collect()
}

fn check_digit_of(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .enumerate()
        .map(|(i, &d)| u32::from(d) * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Length for error messages, without walking a huge hostile string to the end.
fn char_count_capped(s: &str) -> String {
    let n = s.chars().take(1000).count();
    if n == 1000 {
        "1000+".into()
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &[&str] = &[
        "4006381333931",
        "5901234123457",
        "4600051000057",
        "0000000000000",
        "2000000000008",
    ];

    #[test]
    fn known_vectors_are_valid() {
        for n in VALID {
            assert_eq!(validate(n), Ok(()), "{n}");
            assert_eq!(normalize(n).as_deref(), Ok(*n));
        }
        assert_eq!(check_digit("400638133393"), Ok(1));
        assert_eq!(check_digit("590123412345"), Ok(7));
        assert_eq!(check_digit(" 590123412345 "), Ok(7));
    }

    #[test]
    fn trims_whitespace_but_nothing_else() {
        assert_eq!(validate("  4006381333931\n"), Ok(()));
        assert_eq!(
            normalize("\t4006381333931 ").as_deref(),
            Ok("4006381333931")
        );
        for bad in [
            "4006381 333931",
            "4006-381333931",
            "400638133393１",
            "+4006381333931",
        ] {
            assert_eq!(
                validate(bad).map_err(|e| e.code()),
                Err("CARD_MALFORMED"),
                "{bad}"
            );
        }
    }

    #[test]
    fn wrong_lengths_and_garbage_are_malformed() {
        let long = "1".repeat(100_000);
        for bad in [
            "",
            " ",
            "400638133393",
            "40063813339310",
            "abc",
            "٤٠٠٦٣٨١٣٣٣٩٣١",
            &long,
        ] {
            assert!(
                matches!(validate(bad), Err(CardError::Malformed(_))),
                "{}",
                &bad[..bad.len().min(20)]
            );
        }
        assert!(matches!(check_digit("12345"), Err(CardError::Malformed(_))));
        assert!(matches!(
            check_digit("12345678901a"),
            Err(CardError::Malformed(_))
        ));
    }

    #[test]
    fn every_single_digit_edit_is_detected() {
        for n in VALID {
            let bytes = n.as_bytes();
            for pos in 0..CARD_LEN {
                for d in b'0'..=b'9' {
                    if d == bytes[pos] {
                        continue;
                    }
                    let mut edited = bytes.to_vec();
                    edited[pos] = d;
                    let edited = String::from_utf8(edited).unwrap();
                    assert!(
                        matches!(validate(&edited), Err(CardError::BadCheckDigit { .. })),
                        "{edited} should be rejected"
                    );
                }
            }
        }
    }

    #[test]
    fn adjacent_transpositions_detected_unless_digits_differ_by_five() {
        // EAN-13 weights 1 and 3 catch swapping a, b unless |a - b| is 5 (2·5 ≡ 0 mod 10).
        for n in [
            "4006381333931",
            "5901234123457",
            "2012345678903",
            "1234567890128",
        ] {
            assert_eq!(validate(n), Ok(()), "{n}");
            let bytes = n.as_bytes();
            for pos in 0..CARD_LEN - 1 {
                let (a, b) = (bytes[pos], bytes[pos + 1]);
                if a == b {
                    continue;
                }
                let mut swapped = bytes.to_vec();
                swapped.swap(pos, pos + 1);
                let swapped = String::from_utf8(swapped).unwrap();
                let detected = validate(&swapped).is_err();
                assert_eq!(detected, a.abs_diff(b) != 5, "{n} -> {swapped}");
            }
        }
    }

    #[test]
    fn generate_pads_and_appends_check_digit() {
        assert_eq!(generate("200", 1).as_deref(), Ok("2000000000015"));
        assert_eq!(
            generate("400638133393", 0).map_err(|e| e.code()),
            Err("CARD_MALFORMED")
        );
        assert_eq!(generate("40063813339", 3).as_deref(), Ok("4006381333931"));
        assert_eq!(generate("", 590123412345).as_deref(), Ok("5901234123457"));
        assert_eq!(generate("29", 9_999_999_999).map(|s| s.len()), Ok(CARD_LEN));
        let n = generate("27", 123_456).unwrap();
        assert_eq!(n, "2700001234562");
        assert_eq!(validate(&n), Ok(()));
    }

    #[test]
    fn generate_rejects_bad_prefix_and_overflowing_serial() {
        for (prefix, serial) in [
            ("2a", 1),
            (" 2", 1),
            ("２", 1),
            ("29", 10_000_000_000),
            ("", 1_000_000_000_000),
            ("", u64::MAX),
            ("12345678901", 10),
            ("123456789012", 0),
        ] {
            assert!(
                matches!(generate(prefix, serial), Err(CardError::Malformed(_))),
                "{prefix:?} {serial}"
            );
        }
    }

    #[test]
    fn looks_like_card_is_shape_only() {
        assert!(looks_like_card("4006381333931"));
        assert!(looks_like_card(" 4006381333932 ")); // bad check digit, right shape
        for s in [
            "",
            "400638133393",
            "+79161234567",
            "LC1.4006381333931.1.2.x",
            "４００６３８１３３３９３１",
        ] {
            assert!(!looks_like_card(s), "{s}");
        }
    }
}
