//! Planning server-origin chunks without a database.

use super::*;
use chrono::TimeZone;
use loyalty_domain::Profile;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
}

fn ev(n: u128, fact: Fact) -> ServerEvent {
    ServerEvent {
        op_id: Uuid::from_u128(n),
        recorded_at: t0(),
        fact,
        label: format!("line {n}"),
    }
}

fn enrol(account: &str, card: &str) -> Fact {
    Fact::Enrol {
        customer_uid: format!("c-{account}"),
        account_uid: account.into(),
        card: card.into(),
        profile: Profile {
            name: account.into(),
            ..Profile::default()
        },
        referrer_uid: None,
        welcome_points: 0,
        expiry_months: None,
    }
}

fn adjust(account: &str, points: Points) -> Fact {
    Fact::Adjust {
        account_uid: account.into(),
        points,
        reason: "import".into(),
        author: "import".into(),
        expiry_months: None,
    }
}

#[test]
fn an_enrolment_and_its_balance_make_one_new_account_row() {
    let events = vec![
        ev(1, enrol("a", "2000000000015")),
        ev(2, adjust("a", 70)),
        ev(3, enrol("b", "2000000000022")),
    ];
    let needs = chunk_needs(&events);
    assert_eq!(needs.accounts, ["a", "b"]);
    assert_eq!(needs.cards.len(), 2);
    let p = plan_chunk(&events, ChunkLoaded::default(), 11, 101, t0()).unwrap();
    assert_eq!(p.new_accounts.len(), 2);
    assert!(p.changed_accounts.is_empty());
    let a = &p.new_accounts[0];
    assert_eq!((a.uid.as_str(), a.gseq), ("a", 102));
    let book: AccountBook = serde_json::from_str(&a.book).unwrap();
    assert_eq!(book.balance(t0()).available, 70);
    assert_eq!(p.events.len(), 3);
    assert_eq!(
        p.events.iter().map(|e| (e.seq, e.gseq)).collect::<Vec<_>>(),
        [(11, 101), (12, 102), (13, 103)]
    );
    assert_eq!(p.customers.len(), 2);
    assert_eq!(p.new_cards.len(), 2);
}

#[test]
fn any_rejection_rejects_the_chunk_with_its_label() {
    // A card already on the server.
    let mut loaded = ChunkLoaded::default();
    loaded
        .card_owners
        .insert("2000000000015".into(), "other".into());
    let err = plan_chunk(&[ev(7, enrol("a", "2000000000015"))], loaded, 1, 1, t0()).unwrap_err();
    assert_eq!(err.code(), "CARD_TAKEN");
    assert!(err.to_string().contains("line 7"), "{err}");

    // The same card twice in one chunk.
    let events = [
        ev(1, enrol("a", "2000000000015")),
        ev(2, enrol("b", "2000000000015")),
    ];
    let err = plan_chunk(&events, ChunkLoaded::default(), 1, 1, t0()).unwrap_err();
    assert_eq!(err.code(), "CARD_TAKEN");

    // An op id used twice, or already applied.
    let events = [ev(1, enrol("a", "2000000000015")), ev(1, adjust("a", 1))];
    let err = plan_chunk(&events, ChunkLoaded::default(), 1, 1, t0()).unwrap_err();
    assert_eq!(err.code(), "EVENT_CONFLICT");
    let mut loaded = ChunkLoaded::default();
    loaded.existing_ops.insert(Uuid::from_u128(1).to_string());
    let err = plan_chunk(&[ev(1, adjust("a", 1))], loaded, 1, 1, t0()).unwrap_err();
    assert_eq!(err.code(), "EVENT_CONFLICT");

    // An adjustment of an unknown account.
    let err = plan_chunk(
        &[ev(1, adjust("zz", 1))],
        ChunkLoaded::default(),
        1,
        1,
        t0(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "ACCOUNT_NOT_FOUND");
}

#[test]
fn existing_accounts_are_updated_not_inserted() {
    let mut loaded = ChunkLoaded::default();
    loaded.books.insert("a".into(), AccountBook::new("a"));
    let p = plan_chunk(&[ev(1, adjust("a", -5))], loaded, 1, 9, t0()).unwrap();
    assert!(p.new_accounts.is_empty());
    assert_eq!(p.changed_accounts.len(), 1);
    assert_eq!(p.changed_accounts[0].gseq, 9);
    assert_eq!(p.shortfalls.len(), 1);
    assert_eq!(p.shortfalls[0].points, 5);
}
