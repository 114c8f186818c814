use chrono::{TimeZone, Utc};
use loyalty_store::{Balance, CardInfo, CardStatus, Channel, Customer, CustomerView};

use super::*;

fn view(
    customer_id: i64,
    account_id: i64,
    name: &str,
    balance: Balance,
    cards: &[&str],
) -> CustomerView {
    let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    CustomerView {
        customer: Customer {
            id: customer_id,
            uid: format!("uid-{customer_id}"),
            name: name.into(),
            phone: Some(format!("+7916000000{customer_id}")),
            email: None,
            birthday: None,
            gender: None,
            age_group: None,
            home_store: None,
            preferred_channel: Channel::None,
            marketing_consent: false,
            consent_at: None,
            tags: Vec::new(),
            referrer_id: None,
            enrolled_at: at,
            enrolled_store: "S1".into(),
            enrolled_till: "T1".into(),
        },
        account_id,
        account_uid: format!("acc-{account_id}"),
        card: cards[0].into(),
        cards: cards
            .iter()
            .map(|n| CardInfo {
                number: n.to_string(),
                family: false,
                status: CardStatus::Active,
                replaced_by: None,
                issued_at: at,
            })
            .collect(),
        tier: None,
        balance,
        lifetime_spend: 150_000,
        lifetime_purchases: 3,
        tier_measure: 150_000,
        stamps: 0,
        club_until: None,
        birthday_window: false,
        categories: Vec::new(),
    }
}

fn bal(available: i64, pending: i64, shortfall: i64) -> Balance {
    Balance {
        available,
        pending,
        shortfall,
        ..Balance::default()
    }
}

#[test]
fn preview_adds_both_nets_and_cards() {
    let s = view(1, 10, "Anna", bal(300, 20, 0), &["2000100000014"]);
    let d = view(
        2,
        20,
        "Anna S.",
        bal(150, 0, 40),
        &["2000100000021", "2000100000038"],
    );
    let p = preview_of(s, d).unwrap();
    assert_eq!(p.survivor.net_points, 320);
    assert_eq!(
        p.duplicate.net_points, 110,
        "a shortfall is owed: it moves too"
    );
    assert_eq!(p.points_after, 430);
    assert_eq!(p.cards_after, 3);
    assert_eq!((p.survivor.customer_id, p.duplicate.customer_id), (1, 2));
    assert_eq!(p.duplicate.card, "2000100000021");
    assert_eq!(p.duplicate.lifetime_purchases, 3);
}

#[test]
fn a_customer_is_not_merged_into_itself() {
    let a = view(1, 10, "Anna", bal(300, 0, 0), &["2000100000014"]);
    let e = preview_of(a.clone(), a).unwrap_err();
    assert_eq!(e.code, INVALID_MERGE);
    assert!(e.message.contains("already merged"), "{}", e.message);
}

#[test]
fn reason_is_trimmed_and_bounded_in_characters() {
    assert_eq!(
        clean_text("reason", "  enrolled twice ").unwrap(),
        "enrolled twice"
    );
    assert_eq!(clean_text("reason", "   ").unwrap_err().code, INVALID_MERGE);
    let cyr = "я".repeat(MERGE_TEXT_MAX); // 400 bytes, 200 characters: accepted
    assert_eq!(clean_text("reason", &cyr).unwrap(), cyr);
    let e = clean_text("reason", &"x".repeat(MERGE_TEXT_MAX + 1)).unwrap_err();
    assert_eq!(e.code, INVALID_MERGE);
    assert!(e.message.contains("201"), "{}", e.message);
}

#[test]
fn server_refusals_keep_their_code_and_message_offline_says_what_to_do() {
    let e = merge_error(TransportError::Api {
        status: 409,
        code: "ALREADY_MERGED".into(),
        message: "account b was merged into a".into(),
    });
    assert_eq!(
        e,
        AppError::new("ALREADY_MERGED", "account b was merged into a")
    );
    let e = merge_error(TransportError::Unreachable("connection refused".into()));
    assert_eq!(e.code, "NET_UNREACHABLE");
    assert!(e.message.contains("nothing changed"), "{}", e.message);
    let e = merge_error(TransportError::from_answer(503, b"busy"));
    assert_eq!(e.code, "HTTP_503");
    assert!(e.message.contains("merge again"), "{}", e.message);
}

#[test]
fn a_merge_asked_again_after_a_lost_answer_keeps_its_op_id() {
    let dir = tempfile::tempdir().unwrap();
    let app = TillApp::open(dir.path(), None).unwrap();
    let first = app.merge_op("a", "b", "twice");
    assert_eq!(first.get_version_num(), 7);
    assert_eq!(
        app.merge_op("a", "b", "twice"),
        first,
        "the same merge again"
    );
    let other = app.merge_op("a", "b", "enrolled twice");
    assert_ne!(other, first, "another request, another op id");
    assert_ne!(app.merge_op("a", "c", "enrolled twice"), other);

    let lost: Result<(), _> = Err(TransportError::Timeout("30 s".into()));
    assert!(!is_final(&lost));
    assert!(!is_final::<()>(&Err(TransportError::from_answer(503, b""))));
    assert!(!is_final::<()>(&Err(TransportError::Decode("eof".into()))));
    let refused = TransportError::from_answer(409, br#"{"code":"ALREADY_MERGED","message":"m"}"#);
    assert!(is_final::<()>(&Err(refused)));
    assert!(is_final(&Ok(())));
}
