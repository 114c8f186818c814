//! One field's text → a typed value, or a coded error. Empty text is "not given" (`None`,
//! `false`, 0) everywhere; surrounding whitespace never matters.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use loyalty_cards::{card, phone};
use loyalty_domain::{Points, MAX_FACT_POINTS};

/// Why a field is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub code: &'static str,
    pub message: String,
}

pub type Parsed<T> = Result<T, FieldError>;

fn err<T>(code: &'static str, message: impl Into<String>) -> Parsed<T> {
    Err(FieldError {
        code,
        message: message.into(),
    })
}

/// Longest text field kept (names, emails, tags, stores).
pub const MAX_TEXT_CHARS: usize = 200;

/// Trimmed text with line breaks, tabs and runs of spaces made one space, `None` when
/// empty; other control characters and over-long text are refused.
pub fn text(s: &str) -> Parsed<Option<String>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let s = if s.contains(['\n', '\r', '\t', '\u{a0}']) || s.contains("  ") {
        s.split(|c: char| c.is_whitespace())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        s.to_string()
    };
    if s.chars().any(char::is_control) {
        return err("TEXT_INVALID", "control characters are not allowed");
    }
    if s.chars().nth(MAX_TEXT_CHARS).is_some() {
        return err(
            "TEXT_TOO_LONG",
            format!("at most {MAX_TEXT_CHARS} characters"),
        );
    }
    Ok(Some(s))
}

/// An EAN-13 card number (check digit verified); spaces inside are allowed.
pub fn card_number(s: &str) -> Parsed<Option<String>> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Ok(None);
    }
    card::normalize(&compact)
        .map(Some)
        .or_else(|e| err(e.code(), e.to_string()))
}

/// Several card numbers separated by `,`, `;`, `|` or spaces... of 13 digits each.
pub fn card_list(s: &str) -> Parsed<Vec<String>> {
    let mut out = Vec::new();
    for part in s.split([',', ';', '|', ' ', '\t']) {
        if let Some(c) = card_number(part)? {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    Ok(out)
}

/// A phone number in any usual format → E.164 (`region`: for numbers without a country
/// code).
pub fn phone_number(s: &str, region: &str) -> Parsed<Option<String>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    phone::normalize(s, region)
        .map(Some)
        .or_else(|e| err(e.code(), e.to_string()))
}

/// A plausible e-mail address (one `@`, a dotted domain, no spaces), lower-cased domain.
pub fn email(s: &str) -> Parsed<Option<String>> {
    let Some(s) = text(s).or_else(|_| err("EMAIL_INVALID", "not an e-mail address"))? else {
        return Ok(None);
    };
    let bad = || err("EMAIL_INVALID", "not an e-mail address (name@domain.tld)");
    let Some((local, domain)) = s.split_once('@') else {
        return bad();
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if local.is_empty() || domain.contains('@') || !domain_ok || s.contains(char::is_whitespace) {
        return bad();
    }
    Ok(Some(format!("{local}@{}", domain.to_lowercase())))
}

/// `YYYY-MM-DD` or `DD.MM.YYYY` (also `D.M.YYYY`, `DD/MM/YYYY`).
pub fn date(s: &str) -> Parsed<Option<NaiveDate>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    for f in ["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return Ok(Some(d));
        }
    }
    err("DATE_INVALID", "not a date: write YYYY-MM-DD or DD.MM.YYYY")
}

/// A birthday: a date from 1900 up to `today`.
pub fn birthday(s: &str, today: NaiveDate) -> Parsed<Option<NaiveDate>> {
    let Some(d) = date(s)? else {
        return Ok(None);
    };
    let first = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    if d < first || d > today {
        return err("DATE_INVALID", "a birthday is between 1900 and today");
    }
    Ok(Some(d))
}

/// An instant: RFC 3339, `YYYY-MM-DD HH:MM[:SS]` (UTC) or a date (midnight UTC); not
/// after `now`, not before 1970.
pub fn instant(s: &str, now: DateTime<Utc>) -> Parsed<Option<DateTime<Utc>>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let parsed = DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            [
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%d %H:%M",
                "%d.%m.%Y %H:%M:%S",
                "%d.%m.%Y %H:%M",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
            .map(|t| t.and_utc())
        });
    let t = match parsed {
        Some(t) => t,
        None => match date(s) {
            Ok(Some(d)) => d.and_time(NaiveTime::MIN).and_utc(),
            _ => {
                return err(
                    "DATE_INVALID",
                    "not a time: write YYYY-MM-DD, YYYY-MM-DD HH:MM or RFC 3339",
                )
            }
        },
    };
    if t > now || t < DateTime::UNIX_EPOCH {
        return err("DATE_INVALID", "a time between 1970 and now");
    }
    Ok(Some(t))
}

/// Marketing consent: yes/no, 1/0, true/false, да/нет, y/n, д/н, +/- (empty: no).
pub fn consent(s: &str) -> Parsed<bool> {
    match s.trim().to_lowercase().as_str() {
        "" | "0" | "no" | "n" | "false" | "нет" | "н" | "-" => Ok(false),
        "1" | "yes" | "y" | "true" | "да" | "д" | "+" => Ok(true),
        _ => err("CONSENT_INVALID", "write yes or no (да / нет, 1 / 0)"),
    }
}

/// The preferred channel: `sms`, `email`, `messenger` or `none` (empty), with aliases.
pub fn channel(s: &str) -> Parsed<&'static str> {
    match s.trim().to_lowercase().as_str() {
        "" | "none" | "no" | "нет" | "-" => Ok("none"),
        "sms" | "смс" | "phone" | "телефон" => Ok("sms"),
        "email" | "e-mail" | "mail" | "почта" | "эл. почта" | "эл.почта" => {
            Ok("email")
        }
        "messenger"
        | "мессенджер"
        | "whatsapp"
        | "telegram"
        | "viber"
        | "вотсап"
        | "телеграм"
        | "вайбер" => Ok("messenger"),
        _ => err("CHANNEL_INVALID", "write sms, email, messenger or none"),
    }
}

/// Whole points ≥ 0: spaces as thousands separators and a zero fraction (`1 500,00`) are
/// accepted; anything else is refused, never rounded.
pub fn points(s: &str) -> Parsed<Points> {
    let compact: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\''))
        .collect();
    if compact.is_empty() {
        return Ok(0);
    }
    let whole = match compact.split_once(['.', ',']) {
        Some((w, frac)) if !frac.is_empty() && frac.bytes().all(|b| b == b'0') => w,
        Some(_) => return err("POINTS_INVALID", "points are whole numbers"),
        None => compact.as_str(),
    };
    let (negative, digits) = match whole.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, whole.strip_prefix('+').unwrap_or(whole)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return err("POINTS_INVALID", "not a whole number");
    }
    if negative && digits.bytes().any(|b| b != b'0') {
        return err("POINTS_NEGATIVE", "points cannot be negative");
    }
    match digits.parse::<Points>() {
        Ok(p) if p <= MAX_FACT_POINTS => Ok(p),
        _ => err(
            "POINTS_TOO_LARGE",
            format!("at most {MAX_FACT_POINTS} points"),
        ),
    }
}

/// Tags separated by `,`, `;` or `|`, trimmed, without empties and repeats.
pub fn tags(s: &str) -> Parsed<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for part in s.split([',', ';', '|']) {
        if let Some(t) = text(part)? {
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
#[path = "fields_tests.rs"]
mod tests;
