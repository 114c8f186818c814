use super::*;
use chrono::TimeZone;

fn code<T: std::fmt::Debug>(r: Parsed<T>) -> &'static str {
    r.unwrap_err().code
}

#[test]
fn cards_are_checked_and_empty_is_none() {
    assert_eq!(card_number("").unwrap(), None);
    assert_eq!(
        card_number(" 4006381333931 ").unwrap().as_deref(),
        Some("4006381333931")
    );
    assert_eq!(
        card_number("4006 3813 3393 1").unwrap().as_deref(),
        Some("4006381333931")
    );
    assert_eq!(code(card_number("4006381333932")), "CARD_BAD_CHECK_DIGIT");
    assert_eq!(code(card_number("12345")), "CARD_MALFORMED");
    assert_eq!(code(card_number("4006381333931x")), "CARD_MALFORMED");
    assert_eq!(
        card_list("4006381333931, 2000000000015|4006381333931").unwrap(),
        ["4006381333931", "2000000000015"]
    );
    assert_eq!(code(card_list("4006381333931 1")), "CARD_MALFORMED");
}

#[test]
fn phones_normalise_with_the_region() {
    assert_eq!(
        phone_number("8 916 123-45-67", "RU").unwrap().as_deref(),
        Some("+79161234567")
    );
    assert_eq!(
        phone_number("+359 888 123 456", "RU").unwrap().as_deref(),
        Some("+359888123456")
    );
    assert_eq!(phone_number("  ", "RU").unwrap(), None);
    assert_eq!(code(phone_number("12", "RU")), "PHONE_INVALID");
    assert_eq!(code(phone_number("call me", "RU")), "PHONE_INVALID");
}

#[test]
fn emails_dates_and_instants() {
    assert_eq!(
        email(" Anna@Example.COM ").unwrap().as_deref(),
        Some("Anna@example.com")
    );
    assert_eq!(email("").unwrap(), None);
    for bad in [
        "anna", "anna@", "@x.ru", "a@b", "a@@b.ru", "a b@c.ru", "a@.ru",
    ] {
        assert_eq!(code(email(bad)), "EMAIL_INVALID", "{bad}");
    }
    let d = NaiveDate::from_ymd_opt(1990, 3, 7).unwrap();
    assert_eq!(date("1990-03-07").unwrap(), Some(d));
    assert_eq!(date("07.03.1990").unwrap(), Some(d));
    assert_eq!(date("7.3.1990").unwrap(), Some(d));
    assert_eq!(code(date("31.02.1990")), "DATE_INVALID");
    assert_eq!(code(date("1990/03/07")), "DATE_INVALID");
    let today = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
    assert_eq!(
        birthday("29.02.2000", today).unwrap(),
        NaiveDate::from_ymd_opt(2000, 2, 29)
    );
    assert_eq!(code(birthday("01.01.2030", today)), "DATE_INVALID");
    assert_eq!(code(birthday("01.01.1850", today)), "DATE_INVALID");

    let now = Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap();
    let t = Utc.with_ymd_and_hms(2024, 5, 2, 10, 30, 0).unwrap();
    assert_eq!(instant("2024-05-02T10:30:00Z", now).unwrap(), Some(t));
    assert_eq!(instant("2024-05-02T13:30:00+03:00", now).unwrap(), Some(t));
    assert_eq!(instant("2024-05-02 10:30", now).unwrap(), Some(t));
    assert_eq!(
        instant("02.05.2024", now).unwrap(),
        Some(Utc.with_ymd_and_hms(2024, 5, 2, 0, 0, 0).unwrap())
    );
    assert_eq!(code(instant("2026-01-01", now)), "DATE_INVALID");
    assert_eq!(code(instant("soon", now)), "DATE_INVALID");
}

#[test]
fn consent_channel_points_tags() {
    for yes in ["yes", "YES", "1", "да", "Да", "true", "+", "y"] {
        assert!(consent(yes).unwrap(), "{yes}");
    }
    for no in ["", "no", "0", "нет", "false", "-"] {
        assert!(!consent(no).unwrap(), "{no}");
    }
    assert_eq!(code(consent("maybe")), "CONSENT_INVALID");
    assert_eq!(channel("SMS").unwrap(), "sms");
    assert_eq!(channel("Telegram").unwrap(), "messenger");
    assert_eq!(channel("").unwrap(), "none");
    assert_eq!(channel("почта").unwrap(), "email");
    assert_eq!(code(channel("pigeon")), "CHANNEL_INVALID");

    assert_eq!(points("").unwrap(), 0);
    assert_eq!(points("1 500").unwrap(), 1500);
    assert_eq!(points("1\u{a0}500,00").unwrap(), 1500);
    assert_eq!(points("+7").unwrap(), 7);
    assert_eq!(points("-0").unwrap(), 0);
    assert_eq!(code(points("-5")), "POINTS_NEGATIVE");
    assert_eq!(code(points("12.5")), "POINTS_INVALID");
    assert_eq!(code(points("abc")), "POINTS_INVALID");
    assert_eq!(code(points("1e3")), "POINTS_INVALID");
    assert_eq!(code(points("99999999999999999999")), "POINTS_TOO_LARGE");

    assert_eq!(tags(" vip, кофе |vip;").unwrap(), ["vip", "кофе"]);
    assert!(tags("").unwrap().is_empty());
    assert_eq!(code(text("a\u{0}b")), "TEXT_INVALID");
    assert_eq!(
        text(" Вера\r\n  Сидорова\t").unwrap().as_deref(),
        Some("Вера Сидорова")
    );
    assert_eq!(code(text(&"x".repeat(MAX_TEXT_CHARS + 1))), "TEXT_TOO_LONG");
}
