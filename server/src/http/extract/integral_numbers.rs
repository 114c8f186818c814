//! JSON has one number type, and JSON Schema counts `516.0` or `5.16e2` an integer; serde
//! does not. A body that serde refuses is read again with every such integral number
//! rewritten as plain digits. Exact: the rewrite works on the text (no float in between),
//! and only for values an `i64` or `u64` holds.

/// The body with every integral number written with a fraction or an exponent rewritten
/// as plain digits; `None` when there was none.
pub fn rewrite(json: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(json.len());
    let mut changed = false;
    let mut i = 0;
    let mut in_string = false;
    while i < json.len() {
        let b = json[i];
        if in_string {
            out.push(b);
            match b {
                b'\\' if i + 1 < json.len() => {
                    out.push(json[i + 1]);
                    i += 1;
                }
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
        }
        if b == b'-' || b.is_ascii_digit() {
            let end = json[i..]
                .iter()
                .position(|c| !(c.is_ascii_digit() || b"+-.eE".contains(c)))
                .map_or(json.len(), |n| i + n);
            let token = &json[i..end];
            match integral(token) {
                Some(digits) => {
                    out.extend_from_slice(digits.as_bytes());
                    changed = true;
                }
                None => out.extend_from_slice(token),
            }
            i = end;
            continue;
        }
        out.push(b);
        i += 1;
    }
    changed.then_some(out)
}

/// A number token with a fraction or an exponent whose value is a whole number in the
/// `i64`/`u64` range, as plain digits.
fn integral(token: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(token).ok()?;
    if !text.contains(['.', 'e', 'E']) {
        return None;
    }
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exp) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().ok()?),
        None => (text, 0),
    };
    let (int_part, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() || !(int_part.bytes().chain(frac.bytes())).all(|c| c.is_ascii_digit()) {
        return None;
    }
    // value = digits × 10^scale
    let digits = format!("{int_part}{frac}");
    let scale = exp.checked_sub(i64::try_from(frac.len()).ok()?)?;
    let trimmed = digits.trim_end_matches('0');
    let zeros = i64::try_from(digits.len() - trimmed.len()).ok()?;
    let scale = scale.checked_add(zeros)?;
    let significant = trimmed.trim_start_matches('0');
    if significant.is_empty() {
        return Some("0".to_string());
    }
    if !(0..=20).contains(&scale) || significant.len() > 20 {
        return None;
    }
    let magnitude = significant
        .parse::<u128>()
        .ok()?
        .checked_mul(10u128.pow(scale as u32))?;
    if negative {
        let value = i128::try_from(magnitude).ok()?.checked_neg()?;
        i64::try_from(value).ok().map(|v| v.to_string())
    } else {
        u64::try_from(magnitude).ok().map(|v| v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(json: &str) -> Option<String> {
        rewrite(json.as_bytes()).map(|b| String::from_utf8(b).expect("utf-8"))
    }

    #[test]
    fn integral_numbers_become_plain_digits() {
        assert_eq!(
            text(r#"{"n": -516.0, "u": 5e2, "l": [1, 2.50e1, -0.0, 1.0E+1]}"#).as_deref(),
            Some(r#"{"n": -516, "u": 500, "l": [1, 25, 0, 10]}"#)
        );
        assert_eq!(
            text(r#"[9007199254740993.0, -9223372036854775808.0, 18446744073709551615.0]"#)
                .as_deref(),
            Some("[9007199254740993, -9223372036854775808, 18446744073709551615]")
        );
    }

    #[test]
    fn fractions_out_of_range_numbers_strings_and_plain_integers_are_left_alone() {
        assert_eq!(text(r#"{"n": 1.5, "m": 1e-3, "k": 12}"#), None);
        assert_eq!(
            text(r#"[18446744073709551616.0, -9223372036854775809.0, 1e300]"#),
            None
        );
        assert_eq!(text(r#"{"s": "2.0 \" 3.0", "2.0": true}"#), None);
        assert_eq!(
            text(r#"{"s": "a\\", "n": 2.0}"#).as_deref(),
            Some(r#"{"s": "a\\", "n": 2}"#)
        );
    }
}
