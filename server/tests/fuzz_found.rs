//! What `scripts/fuzz-api.sh` (Schemathesis against the live server) found, kept as
//! regression tests on every backend: a NUL character in a fact, a card number or a query
//! was a 500 on PostgreSQL (it cannot store or compare one in TEXT); integral numbers
//! written as floats (`3.0`, `1e2`), which the OpenAPI document (JSON Schema) counts as
//! integers, were refused.

mod support;

use serde_json::{json, Value};
use support::*;

backend_tests!(
    nul_characters_are_refused_alike_never_a_500,
    integral_floats_are_integers,
);

async fn nul_characters_are_refused_alike_never_a_500(db: Db) {
    let s = start(db).await;
    let till = s.till("Main St").await;
    // A fact with a NUL: a conflict like any invalid fact; the seq is settled, a re-upload
    // gets the same answer, and the next event applies.
    let bad = env(1, enrol("acc-1", "card\u{0}1", 100));
    let v = s.upload(&till, std::slice::from_ref(&bad)).await;
    assert_eq!(v["applied_upto"], 1);
    assert_eq!(v["conflicts"][0]["code"], "INVALID_FACT", "{v}");
    assert_eq!(
        s.upload(&till, &[bad]).await,
        v,
        "a re-upload is answered alike"
    );
    let v = s
        .upload(&till, &[env(2, enrol("acc-1", "card-1", 100))])
        .await;
    assert_eq!(
        (v["applied_upto"].as_i64(), &v["conflicts"]),
        (Some(2), &json!([]))
    );

    let body = json!({"op_id": uuid::Uuid::now_v7(), "card": "card\u{0}1", "points": 5});
    let (st, v) = s.post(&till, "/api/v1/reservations", &body).await;
    assert_eq!((st, v["code"].as_str()), (404, Some("CARD_NOT_FOUND")));

    for path in ["/api/v1/snapshot?after=%00", "/api/v1/snapshot?after=a%00b"] {
        let (st, v) = s.get(&till, path).await;
        assert_eq!((st, v["code"].as_str()), (400, Some("BAD_QUERY")), "{path}");
    }
    let (st, v) = s.get(&till, "/api/v1/snapshot?after=acc-0").await;
    assert_eq!((st, v["accounts"].as_array().map(Vec::len)), (200, Some(1)));
    s.stop().await;
}

async fn integral_floats_are_integers(db: Db) {
    let s = start(db).await;
    let till = s.till("Main St").await;
    let mut event = serde_json::to_value(env(1, enrol("acc-1", "card-1", 100))).unwrap();
    event["seq"] = json!(1.0);
    event["fact"]["welcome_points"] = json!(1.5e2);
    let body = json!({"till_id": till.id, "events": [event]});
    let (st, v) = s.post(&till, "/api/v1/events", &body).await;
    assert_eq!((st, v["applied_upto"].as_i64()), (200, Some(1)), "{v}");
    let (_, ch) = s.get(&till, "/api/v1/changes?since=0").await;
    assert_eq!(ch["accounts"][0]["book"]["lots"][0]["original"], 150);

    let mut fractional = body.clone();
    fractional["events"][0]["seq"] = json!(2.5);
    let (st, v) = s.post(&till, "/api/v1/events", &fractional).await;
    assert_eq!((st, v["code"].as_str()), (400, Some("INVALID_BODY")));
    let points: Value = json!({"op_id": uuid::Uuid::now_v7(), "card": "card-1", "points": 1e1});
    let (st, v) = s.post(&till, "/api/v1/reservations", &points).await;
    assert_eq!((st, v["points"].as_i64()), (200, Some(10)), "{v}");
    s.stop().await;
}
