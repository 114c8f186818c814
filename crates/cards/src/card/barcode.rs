//! EAN-13 barcode of a card number, as its 95 modules and as a printable SVG.

use std::fmt::Write as _;

use super::{normalize, CARD_LEN};
use crate::CardError;

/// Number of modules (narrowest bar widths) of an EAN-13 symbol, guards included.
pub const MODULES: usize = 95;
/// Quiet zones required by the standard, in modules.
const QUIET_LEFT: usize = 11;
const QUIET_RIGHT: usize = 7;
/// Nominal module width (100 % magnification) in hundredths of a millimetre.
const MODULE_HUNDREDTHS_MM: usize = 33;
const BAR_HEIGHT: usize = 69;
const GUARD_HEIGHT: usize = 74;
const TOTAL_HEIGHT: usize = 80;

/// "L" (odd parity) patterns of the left half, bit 6 = leftmost module.
const L_CODES: [u8; 10] = [
    0b0001101, 0b0011001, 0b0010011, 0b0111101, 0b0100011, 0b0110001, 0b0101111, 0b0111011,
    0b0110111, 0b0001011,
];
/// Parity of the six left digits chosen by the first digit; bit 5 = first, 1 = "G" (even).
const PARITY: [u8; 10] = [
    0b000000, 0b001011, 0b001101, 0b001110, 0b010011, 0b011001, 0b011100, 0b010101, 0b010110,
    0b011010,
];

/// The 95 modules (`true` = dark bar) of the EAN-13 symbol of a valid card number.
pub fn barcode_modules(card: &str) -> Result<[bool; MODULES], CardError> {
    let card = normalize(card)?;
    let digits: Vec<u8> = card.bytes().map(|b| b - b'0').collect();
    debug_assert_eq!(digits.len(), CARD_LEN);
    let mut out = [false; MODULES];
    let mut pos = 0;
    let mut push = |bits: u8, width: usize| {
        for i in (0..width).rev() {
            out[pos] = (bits >> i) & 1 == 1;
            pos += 1;
        }
    };
    push(0b101, 3);
    let parity = PARITY[usize::from(digits[0])];
    for (i, &d) in digits[1..7].iter().enumerate() {
        let l = L_CODES[usize::from(d)];
        let even = (parity >> (5 - i)) & 1 == 1;
        // G = R reversed, and R = L complemented.
        let code = if even { reverse7(!l & 0x7f) } else { l };
        push(code, 7);
    }
    push(0b01010, 5);
    for &d in &digits[7..] {
        push(!L_CODES[usize::from(d)] & 0x7f, 7);
    }
    push(0b101, 3);
    Ok(out)
}

/// A printable SVG of the card's EAN-13 barcode with the human-readable digits underneath,
/// sized at the nominal 100 % magnification (0.33 mm modules, quiet zones included).
pub fn barcode_svg(card: &str) -> Result<String, CardError> {
    let modules = barcode_modules(card)?;
    let digits = normalize(card)?;
    let width = QUIET_LEFT + MODULES + QUIET_RIGHT;
    let mm = |units: usize| {
        let h = units * MODULE_HUNDREDTHS_MM;
        format!("{}.{:02}mm", h / 100, h % 100)
    };
    let mut svg = String::with_capacity(4096);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{}" height="{}" viewBox="0 0 {width} {TOTAL_HEIGHT}" shape-rendering="crispEdges">"#,
        mm(width),
        mm(TOTAL_HEIGHT),
    );
    let _ = write!(
        svg,
        r##"<rect width="{width}" height="{TOTAL_HEIGHT}" fill="#fff"/><g fill="#000">"##
    );
    let is_guard = |m: usize| m < 3 || (45..50).contains(&m) || m >= 92;
    let mut m = 0;
    while m < MODULES {
        if !modules[m] {
            m += 1;
            continue;
        }
        let start = m;
        while m < MODULES && modules[m] && is_guard(m) == is_guard(start) {
            m += 1;
        }
        let height = if is_guard(start) {
            GUARD_HEIGHT
        } else {
            BAR_HEIGHT
        };
        let _ = write!(
            svg,
            r#"<rect x="{}" y="0" width="{}" height="{height}"/>"#,
            QUIET_LEFT + start,
            m - start
        );
    }
    svg.push_str("</g>");
    let _ = write!(
        svg,
        r##"<g font-family="OCR-B, 'DejaVu Sans Mono', monospace" font-size="9" text-anchor="middle" fill="#000">"##
    );
    for (i, ch) in digits.chars().enumerate() {
        // Centre of the digit's 7 modules; the first digit sits in the left quiet zone.
        let x2 = match i {
            0 => 2 * QUIET_LEFT - 8,
            1..=6 => 2 * (QUIET_LEFT + 3 + 7 * (i - 1)) + 7,
            _ => 2 * (QUIET_LEFT + 50 + 7 * (i - 7)) + 7,
        };
        let _ = write!(
            svg,
            r#"<text x="{}.{}" y="{}">{ch}</text>"#,
            x2 / 2,
            (x2 % 2) * 5,
            TOTAL_HEIGHT - 1
        );
    }
    svg.push_str("</g></svg>");
    Ok(svg)
}

fn reverse7(bits: u8) -> u8 {
    (0..7).fold(0, |acc, i| acc | (((bits >> i) & 1) << (6 - i)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(card: &str) -> String {
        barcode_modules(card)
            .unwrap()
            .iter()
            .map(|&b| if b { '1' } else { '0' })
            .collect()
    }

    #[test]
    fn matches_reference_encodings() {
        // Reference module strings published with widely used barcode libraries' test suites.
        assert_eq!(
            bits("5901234123457"),
            "10100010110100111011001100100110111101001110101010110011011011001000010101110010011101000100101"
        );
        assert_eq!(
            bits("0380003562164"),
            "10101111010110111000110100011010001101011110101010100111010100001101100110011010100001011100101"
        );
        assert_eq!(
            bits("1234567890128"),
            "10100100110111101001110101100010000101001000101010100100011101001110010110011011011001001000101"
        );
    }

    #[test]
    fn every_first_digit_gives_a_well_formed_symbol() {
        for first in 0..10u64 {
            let card = crate::card::generate(&first.to_string(), 12_345).unwrap();
            let m = barcode_modules(&card).unwrap();
            assert_eq!(&m[..3], &[true, false, true]);
            assert_eq!(&m[45..50], &[false, true, false, true, false]);
            assert_eq!(&m[92..], &[true, false, true]);
            // Every digit occupies 7 modules with exactly two bars: starts light on the
            // left half, dark on the right half.
            for d in 0..12 {
                let start = if d < 6 { 3 + 7 * d } else { 50 + 7 * (d - 6) };
                let chunk = &m[start..start + 7];
                assert_eq!(chunk[0], d >= 6, "{card} digit {d}");
                assert_eq!(chunk[6], d < 6, "{card} digit {d}");
            }
        }
    }

    #[test]
    fn svg_is_well_formed_and_rejects_bad_cards() {
        let svg = barcode_svg("4006381333931").unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains(r#"width="37.29mm""#));
        assert_eq!(svg.matches("<text").count(), 13);
        assert!(svg.contains(">4</text>") && svg.contains(">1</text>"));
        assert_eq!(
            barcode_svg("4006381333932").map_err(|e| e.code()),
            Err("CARD_BAD_CHECK_DIGIT")
        );
        assert_eq!(
            barcode_svg("<svg>").map_err(|e| e.code()),
            Err("CARD_MALFORMED")
        );
    }
}
