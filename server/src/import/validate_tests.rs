use super::*;
use chrono::TimeZone;

fn ctx(header: &[&str]) -> RowContext {
    let (header, errs) = Header::map(header.iter().map(|s| s.to_string()).collect(), false);
    assert!(errs.is_empty(), "{errs:?}");
    RowContext {
        header,
        region: "RU".into(),
        default_store: Some("S1".into()),
        now: Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap(),
    }
}

fn rec(fields: &[&str]) -> StringRecord {
    StringRecord::from(fields.to_vec())
}

const HEADER: &[&str] = &[
    "Карта",
    "Телефон",
    "Фамилия",
    "Имя",
    "Email",
    "Дата рождения",
    "Согласие",
    "Канал",
    "Баллы",
    "Теги",
];

#[test]
fn a_good_row_becomes_a_member() {
    let c = ctx(HEADER);
    let row = check_row(
        &c,
        2,
        &rec(&[
            "4006381333931",
            "8 916 123-45-67",
            "Иванова",
            "Анна",
            "anna@example.com",
            "07.03.1990",
            "да",
            "SMS",
            "1 500",
            "vip, кофе",
        ]),
    );
    let Row::Member(m) = row else {
        panic!("{row:?}")
    };
    assert_eq!(m.card.as_deref(), Some("4006381333931"));
    assert_eq!(m.profile.phone.as_deref(), Some("+79161234567"));
    assert_eq!(m.profile.name, "Иванова Анна");
    assert_eq!(m.profile.preferred_channel, "sms");
    assert!(m.profile.marketing_consent);
    assert_eq!(m.profile.home_store.as_deref(), Some("S1"));
    assert_eq!(m.points, 1500);
    assert_eq!(m.profile.tags, ["vip", "кофе"]);
    assert_eq!(m.event_count(), 2);
}

#[test]
fn every_bad_field_is_reported_with_its_column() {
    let c = ctx(HEADER);
    let row = check_row(
        &c,
        9,
        &rec(&[
            "4006381333932",
            "12",
            "",
            "Анна",
            "anna@",
            "31.02.1990",
            "может",
            "голубь",
            "-5",
            "",
        ]),
    );
    let Row::Bad(errs) = row else {
        panic!("{row:?}")
    };
    let got: Vec<(u64, &str, &str)> = errs
        .iter()
        .map(|e| (e.line, e.column.as_str(), e.code))
        .collect();
    assert_eq!(
        got,
        [
            (9, "Карта", "CARD_BAD_CHECK_DIGIT"),
            (9, "Телефон", "PHONE_INVALID"),
            (9, "Email", "EMAIL_INVALID"),
            (9, "Дата рождения", "DATE_INVALID"),
            (9, "Согласие", "CONSENT_INVALID"),
            (9, "Канал", "CHANNEL_INVALID"),
            (9, "Баллы", "POINTS_NEGATIVE"),
        ]
    );
    assert_eq!(errs[0].value, "4006381333932");
}

#[test]
fn blank_short_long_and_keyless_rows() {
    let c = ctx(HEADER);
    assert_eq!(check_row(&c, 3, &rec(&["", " ", ""])), Row::Blank);
    // Missing trailing fields are empty.
    assert!(matches!(
        check_row(&c, 3, &rec(&["", "89161234567"])),
        Row::Member(_)
    ));
    let Row::Bad(errs) = check_row(&c, 4, &rec(&["", "", "", "", "", "", "", "", "", "", "x"]))
    else {
        panic!()
    };
    assert_eq!(errs[0].code, "TOO_MANY_FIELDS");
    assert_eq!(errs[0].column, "#11");
    let Row::Bad(errs) = check_row(&c, 5, &rec(&["", "", "", "", "", "", "да"])) else {
        panic!()
    };
    assert_eq!(errs[0].code, "ROW_NO_KEY");
}

#[test]
fn the_tally_finds_duplicates_with_the_first_line() {
    let c = ctx(&["card", "family_cards", "phone", "name"]);
    let mut t = Tally::default();
    for (line, fields) in [
        (2, ["4006381333931", "", "89161234567", "A"]),
        (3, ["", "4006381333931", "", "B"]),
        (4, ["", "", "+7 916 123 45 67", "C"]),
        (5, ["", "", "", "D"]),
        (6, ["2000000000015", "2000000000015", "", "E"]),
    ] {
        t.add(&c, check_row(&c, line, &rec(&fields)));
    }
    let got: Vec<(u64, &str, &str)> = t
        .errors
        .errors
        .iter()
        .map(|e| (e.line, e.code, e.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (3, "CARD_DUPLICATE", "card already on line 2"),
            (4, "PHONE_DUPLICATE", "phone already on line 2"),
            (
                6,
                "CARD_DUPLICATE",
                "the member's card is listed again as a family card"
            ),
        ]
    );
    assert_eq!((t.rows, t.members, t.cards_to_generate), (5, 2, 1));
    assert_eq!(t.events, 2);
}
