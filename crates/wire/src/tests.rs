use super::*;
use chrono::{TimeZone, Utc};

#[test]
fn api_error_roundtrip() {
    let e = ApiError::new("BAD_JSON", "expected value");
    let s = serde_json::to_string(&e).unwrap();
    assert_eq!(s, r#"{"code":"BAD_JSON","message":"expected value"}"#);
    assert_eq!(serde_json::from_str::<ApiError>(&s).unwrap(), e);
}

#[test]
fn upload_request_rejects_unknown_fields() {
    let bad = r#"{"till_id":"t","events":[],"extra":1}"#;
    assert!(serde_json::from_str::<UploadRequest>(bad).is_err());
    let ok = r#"{"till_id":"t","events":[]}"#;
    assert_eq!(
        serde_json::from_str::<UploadRequest>(ok)
            .unwrap()
            .events
            .len(),
        0
    );
}

#[test]
fn upload_response_roundtrip() {
    let r = UploadResponse {
        applied_upto: 3,
        server_time: Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap(),
        conflicts: vec![Conflict {
            seq: 2,
            op_id: uuid::Uuid::nil(),
            code: "EVENT_CONFLICT".into(),
            message: "m".into(),
        }],
        shortfalls: vec![ShortfallNote {
            seq: 3,
            op_id: uuid::Uuid::nil(),
            account_uid: "a".into(),
            points: 5,
        }],
    };
    let s = serde_json::to_string(&r).unwrap();
    assert_eq!(serde_json::from_str::<UploadResponse>(&s).unwrap(), r);
}

#[test]
fn reservation_status_strings() {
    for s in [
        ReservationStatus::Active,
        ReservationStatus::Void,
        ReservationStatus::Consumed,
    ] {
        assert_eq!(ReservationStatus::parse(s.as_str()), Some(s));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, format!("\"{}\"", s.as_str()));
    }
    assert_eq!(ReservationStatus::parse("nope"), None);
}

#[test]
fn changes_query_defaults() {
    let q: ChangesQuery = serde_json::from_str("{}").unwrap();
    assert_eq!(q.since, 0);
    assert_eq!(q.limit, None);
}

#[test]
fn envelope_carries_a_typed_fact() {
    let json = r#"{"seq":1,"op_id":"0190a5a0-0000-7000-8000-000000000001",
        "recorded_at":"2025-03-01T10:00:00Z",
        "fact":{"type":"adjust","account_uid":"a1","points":50,"reason":"gift","author":"owner"}}"#;
    let e: EventEnvelope = serde_json::from_str(json).unwrap();
    assert_eq!(e.seq, 1);
    assert_eq!(e.fact.kind(), "adjust");
    let back: EventEnvelope = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
    assert_eq!(back, e);
    let bad = json.replace("\"seq\":1", "\"seq\":\"one\"");
    assert!(serde_json::from_str::<EventEnvelope>(&bad).is_err());
}

#[test]
fn account_state_categories_are_optional_on_the_wire() {
    let mut s = AccountState {
        account_uid: "a".into(),
        gseq: 1,
        customer: None,
        cards: vec![],
        book: loyalty_domain::AccountBook::new("a"),
        reserved: 0,
        categories: vec![],
        merged_into: None,
    };
    let json = serde_json::to_value(&s).unwrap();
    assert!(json.get("categories").is_none(), "absent when none: {json}");
    assert_eq!(serde_json::from_value::<AccountState>(json).unwrap(), s);
    s.categories.push(CategoryStat {
        category: "coffee".into(),
        purchases: 3,
        amount: 1050,
        last_at: Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap(),
    });
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["categories"][0]["last_at"], "2025-01-02T03:04:05Z");
    assert_eq!(serde_json::from_value::<AccountState>(json).unwrap(), s);
}

#[test]
fn category_keys_and_ranking() {
    assert_eq!(category_key(Some("  coffee ")).as_deref(), Some("coffee"));
    assert_eq!(category_key(Some(" ")), None);
    assert_eq!(category_key(None), None);
    let long = "я".repeat(100);
    assert_eq!(
        category_key(Some(&long)).unwrap().chars().count(),
        MAX_CATEGORY_CHARS
    );
    let t = |d| Utc.with_ymd_and_hms(2025, 1, d, 0, 0, 0).unwrap();
    let stat = |c: &str, purchases, amount, day| CategoryStat {
        category: c.into(),
        purchases,
        amount,
        last_at: t(day),
    };
    let mut v = vec![
        stat("b", 2, 10, 1),
        stat("a", 2, 10, 1),
        stat("c", 2, 10, 2),
        stat("d", 2, 20, 1),
        stat("e", 5, 1, 1),
    ];
    rank_categories(&mut v);
    let order: Vec<&str> = v.iter().map(|s| s.category.as_str()).collect();
    assert_eq!(order, ["e", "d", "c", "a", "b"]);
}
