use super::*;
use chrono::TimeZone;
use loyalty_domain::{AccountBook, ApplyCtx, Fact, Profile, Tier};
use loyalty_wire::{CardState, CustomerState};

fn member() -> MemberRow {
    let t = Utc.with_ymd_and_hms(2025, 2, 3, 4, 5, 6).unwrap();
    let mut book = AccountBook::new("a");
    let adjust = Fact::Adjust {
        account_uid: "a".into(),
        points: 120,
        reason: "import".into(),
        author: "import".into(),
        expiry_months: None,
    };
    book.apply(
        &adjust,
        ApplyCtx {
            op_id: "op1",
            event_time: t,
        },
    )
    .unwrap();
    book.lifetime_spend = 5_000_000;
    let card = |n: &str, status: &str, kind: &str| CardState {
        number: n.into(),
        status: status.into(),
        kind: kind.into(),
    };
    MemberRow {
        account_uid: "a".into(),
        created_at: t,
        customer: Some(CustomerState {
            customer_uid: "c".into(),
            profile: Profile {
                name: "Анна; Иванова".into(),
                phone: Some("+79161234567".into()),
                birthday: chrono::NaiveDate::from_ymd_opt(1990, 3, 7),
                preferred_channel: "sms".into(),
                marketing_consent: true,
                tags: vec!["vip".into(), "кофе".into()],
                ..Profile::default()
            },
            referrer_uid: None,
        }),
        cards: vec![
            card("2000000000015", "blocked", "primary"),
            card("4006381333931", "active", "primary"),
            card("2000000000022", "active", "family"),
        ],
        book,
        merged_into: None,
    }
}

#[test]
fn a_row_in_header_order() {
    let now = Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap();
    let r = row(&member(), None, now);
    assert_eq!(r.len(), HEADER.len());
    assert_eq!(r[0], "4006381333931", "the active primary card");
    assert_eq!(r[1], "2000000000022", "blocked cards are not exported");
    assert_eq!(r[2], "+79161234567");
    assert_eq!(r[5], "1990-03-07");
    assert_eq!((r[6].as_str(), r[7].as_str()), ("yes", "sms"));
    assert_eq!(
        (r[8].as_str(), r[9].as_str(), r[10].as_str()),
        ("120", "0", "0")
    );
    assert_eq!(r[11], "", "no program: no tier");
    assert_eq!(r[12], "vip, кофе");
    assert_eq!(r[15], "2025-02-03T04:05:06Z");

    // A lifetime-spend program ranks the member.
    let mut p = ProgramConfig::default();
    p.tiers.window = TierWindow::Lifetime;
    p.tiers.levels = vec![
        Tier {
            code: "base".into(),
            name: "Base".into(),
            threshold: 0,
            earn_bp: None,
            discount_bp: 0,
        },
        Tier {
            code: "gold".into(),
            name: "Gold".into(),
            threshold: 1_000_000,
            earn_bp: None,
            discount_bp: 0,
        },
    ];
    p.effective_from = now - chrono::Duration::days(1);
    assert_eq!(row(&member(), program_at(&[p], now), now)[11], "Gold");
}

#[test]
fn quoting_and_windows_1251() {
    let now = Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap();
    let text = csv_text(&[row(&member(), None, now)], b';').unwrap();
    assert!(text.contains("\"Анна; Иванова\""), "{text}");
    let mut replaced = 0;
    let bytes = encode("Анна 😀", Encoding::Windows1251, &mut replaced);
    assert_eq!(replaced, 1);
    let (back, _, _) = WINDOWS_1251.decode(&bytes);
    assert_eq!(back, "Анна ?");
}
