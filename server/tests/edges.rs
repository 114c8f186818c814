//! Authentication, hostile requests, reservations.

mod support;

use serde_json::{json, Value};
use support::*;

backend_tests!(
    health_and_openapi_need_no_token,
    wrong_tokens_are_401_then_429_and_valid_tokens_still_pass,
    revoked_tokens_stop_working,
    a_till_uploads_only_for_itself,
    hostile_bodies_are_4xx_with_a_code,
    racing_reservations_cannot_hold_the_same_points,
    a_sale_consumes_its_reservation,
);
use uuid::Uuid;

async fn health_and_openapi_need_no_token(db: Db) {
    let s = start(db).await;
    let r = s.client.get(s.url("/api/v1/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["protocol_version"], loyalty_wire::PROTOCOL_VERSION);
    let r = s
        .client
        .get(s.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    for p in [
        "/api/v1/events",
        "/api/v1/changes",
        "/api/v1/snapshot",
        "/api/v1/reservations",
        "/api/v1/me",
    ] {
        assert!(v["paths"][p].is_object(), "{p} documented");
    }
    assert!(v["components"]["schemas"]["UploadRequest"].is_object());
    s.stop().await;
}

async fn wrong_tokens_are_401_then_429_and_valid_tokens_still_pass(db: Db) {
    let s = start_with(db, |c| c.auth_failures_per_minute = 5).await;
    let till = s.till("Main St").await;
    let bad = Till {
        id: till.id.clone(),
        token: "ltk_wrong".into(),
    };
    for _ in 0..5 {
        let (st, v) = s.get(&bad, "/api/v1/changes").await;
        assert_eq!(st, 401);
        assert_eq!(v["code"], "UNAUTHORIZED");
    }
    let (st, v) = s.get(&bad, "/api/v1/changes").await;
    assert_eq!(st, 429);
    assert_eq!(v["code"], "TOO_MANY_AUTH_FAILURES");
    // No header at all counts as a failure too.
    let r = s.client.get(s.url("/api/v1/changes")).send().await.unwrap();
    assert_eq!(r.status(), 429);
    // A valid till behind the same address is not locked out.
    let (st, _) = s.get(&till, "/api/v1/changes").await;
    assert_eq!(st, 200);
    s.stop().await;
}

async fn revoked_tokens_stop_working(db: Db) {
    let s = start(db).await;
    let till = s.till("Main St").await;
    assert_eq!(s.get(&till, "/api/v1/changes").await.0, 200);
    let (st, me) = s.get(&till, "/api/v1/me").await;
    assert_eq!(st, 200);
    assert_eq!(me["till_id"], till.id.as_str(), "the token names its till");
    assert_eq!(me["store_name"], "Main St");
    s.backend
        .revoke_till(&till.id, chrono::Utc::now())
        .await
        .unwrap();
    let (st, v) = s.get(&till, "/api/v1/changes").await;
    assert_eq!(st, 401);
    assert_eq!(v["code"], "TILL_REVOKED");
    assert_eq!(s.get(&till, "/api/v1/me").await.0, 401);
    s.stop().await;
}

async fn a_till_uploads_only_for_itself(db: Db) {
    let s = start(db).await;
    let a = s.till("Main St").await;
    let b = s.till("Main St").await;
    let r = s.upload_raw(&a, &b.id, &[env(1, enrol("x", "c", 1))]).await;
    assert_eq!(r.status(), 403);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "FORBIDDEN_TILL");
    let (_, v) = s.get(&b, "/api/v1/changes").await;
    assert_eq!(v["accounts"], json!([]), "nothing applied");
    s.stop().await;
}

async fn raw_post(
    s: &TestServer,
    till: &Till,
    path: &str,
    ctype: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let r = s
        .client
        .post(s.url(path))
        .bearer_auth(&till.token)
        .header("content-type", ctype)
        .body(body)
        .send()
        .await
        .unwrap();
    let st = r.status().as_u16();
    (st, r.json().await.unwrap_or(Value::Null))
}

async fn hostile_bodies_are_4xx_with_a_code(db: Db) {
    let s = start_with(db, |c| c.body_limit_bytes = 64 * 1024).await;
    let till = s.till("Main St").await;
    let json = "application/json";
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("/api/v1/events", b"{not json".to_vec(), 400, "BAD_JSON"),
        ("/api/v1/events", b"".to_vec(), 400, "BAD_JSON"),
        ("/api/v1/events", b"[]".to_vec(), 400, "INVALID_BODY"),
        (
            "/api/v1/events",
            format!(r#"{{"till_id":"{}","events":[],"admin":true}}"#, till.id).into_bytes(),
            400,
            "INVALID_BODY",
        ),
        (
            "/api/v1/events",
            format!(r#"{{"till_id":"{}","events":[{{"seq":1,"op_id":"nope","recorded_at":"x","fact":{{}}}}]}}"#, till.id).into_bytes(),
            400,
            "INVALID_BODY",
        ),
        ("/api/v1/events", vec![b' '; 100 * 1024], 413, "BODY_TOO_LARGE"),
        ("/api/v1/reservations", b"{\"op_id\":1}".to_vec(), 400, "INVALID_BODY"),
        ("/api/v1/reservations/not-a-uuid/void", Vec::new(), 400, "BAD_ID"),
    ];
    for (path, body, status, code) in cases {
        let (st, v) = raw_post(&s, &till, path, json, body).await;
        assert_eq!((st, v["code"].as_str()), (status, Some(code)), "{path}");
    }
    let (st, v) = raw_post(&s, &till, "/api/v1/events", "text/plain", b"{}".to_vec()).await;
    assert_eq!(
        (st, v["code"].as_str()),
        (415, Some("UNSUPPORTED_MEDIA_TYPE"))
    );
    let (st, v) = s.get(&till, "/api/v1/changes?since=abc").await;
    assert_eq!((st, v["code"].as_str()), (400, Some("BAD_QUERY")));
    let (st, v) = s.get(&till, "/api/v1/changes?since=-1").await;
    assert_eq!((st, v["code"].as_str()), (400, Some("BAD_QUERY")));
    let (st, v) = s.get(&till, "/api/v1/nowhere").await;
    assert_eq!((st, v["code"].as_str()), (404, Some("NOT_FOUND")));
    let (st, v) = s.get(&till, "/api/v1/events").await;
    assert_eq!((st, v["code"].as_str()), (405, Some("METHOD_NOT_ALLOWED")));
    // Too many events in one upload.
    let events: Vec<_> = (1..=(loyalty_wire::MAX_BATCH as i64 + 1))
        .map(|i| env(i, adjust("a", 1)))
        .collect();
    let r = s.upload_raw(&till, &till.id, &events).await;
    // (over the 64 KiB limit of this server, or over MAX_BATCH: a 4xx either way)
    assert!(r.status().is_client_error());
    // The server is still fine. (On a new connection: the server may close the one it
    // refused the oversized body on while the client still holds it in its pool.)
    let fresh = reqwest::Client::new()
        .get(s.url("/api/v1/changes"))
        .bearer_auth(&till.token)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 200);
    s.stop().await;
}

fn reservation(card: &str, points: i64) -> Value {
    json!({ "op_id": Uuid::now_v7(), "card": card, "points": points })
}

async fn racing_reservations_cannot_hold_the_same_points(db: Db) {
    let s = start(db).await;
    let a = s.till("Main St").await;
    let b = s.till("Harbour").await;
    s.upload(&a, &[env(1, enrol("acc-1", "card-1", 100))]).await;

    let ra = reservation("card-1", 80);
    let rb = reservation("card-1", 80);
    let (x, y) = tokio::join!(
        s.post(&a, "/api/v1/reservations", &ra),
        s.post(&b, "/api/v1/reservations", &rb)
    );
    let mut statuses = [x.0, y.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "exactly one wins: {x:?} {y:?}");
    let (winner_till, won, lost) = if x.0 == 200 {
        (&a, x.1, y.1)
    } else {
        (&b, y.1, x.1)
    };
    assert_eq!(lost["code"], "INSUFFICIENT_POINTS");
    assert_eq!(won["status"], "active");
    assert_eq!(won["points"], 80);

    // Same op id again: the same reservation (idempotent); other content: a conflict.
    let same = if x.0 == 200 { &ra } else { &rb };
    let (st, again) = s.post(winner_till, "/api/v1/reservations", same).await;
    assert_eq!(
        (st, &again["reservation_id"]),
        (200, &won["reservation_id"])
    );
    let mut changed = same.clone();
    changed["points"] = json!(1);
    let (st, v) = s.post(winner_till, "/api/v1/reservations", &changed).await;
    assert_eq!((st, v["code"].as_str()), (409, Some("OP_CONFLICT")));

    // The rest is still reservable; the held points show on the account.
    assert_eq!(
        s.post(&b, "/api/v1/reservations", &reservation("card-1", 20))
            .await
            .0,
        200
    );
    assert_eq!(
        s.post(&b, "/api/v1/reservations", &reservation("card-1", 1))
            .await
            .0,
        409
    );
    let (_, ch) = s.get(&a, "/api/v1/changes?since=0").await;
    assert_eq!(ch["accounts"][0]["reserved"], 100);

    // Only the owning till may void; voiding frees the points; voiding twice is fine.
    let id = won["reservation_id"].as_str().unwrap();
    let other = if std::ptr::eq(winner_till, &a) {
        &b
    } else {
        &a
    };
    let path = format!("/api/v1/reservations/{id}/void");
    let (st, v) = s.post(other, &path, &json!({})).await;
    assert_eq!(
        (st, v["code"].as_str()),
        (403, Some("RESERVATION_FORBIDDEN"))
    );
    let (st, v) = s.post(winner_till, &path, &json!({})).await;
    assert_eq!((st, v["status"].as_str()), (200, Some("void")));
    assert_eq!(s.post(winner_till, &path, &json!({})).await.0, 200);
    assert_eq!(
        s.post(&b, "/api/v1/reservations", &reservation("card-1", 80))
            .await
            .0,
        200
    );

    let unknown = format!("/api/v1/reservations/{}/void", Uuid::now_v7());
    assert_eq!(s.post(&a, &unknown, &json!({})).await.0, 404);
    let (st, v) = s
        .post(&a, "/api/v1/reservations", &reservation("no-card", 1))
        .await;
    assert_eq!((st, v["code"].as_str()), (404, Some("CARD_NOT_FOUND")));
    let (st, v) = s
        .post(&a, "/api/v1/reservations", &reservation("card-1", 0))
        .await;
    assert_eq!((st, v["code"].as_str()), (400, Some("INVALID_POINTS")));
    s.stop().await;
}

async fn a_sale_consumes_its_reservation(db: Db) {
    let s = start(db).await;
    let till = s.till("Main St").await;
    s.upload(&till, &[env(1, enrol("acc-1", "card-1", 100))])
        .await;
    let (st, r) = s
        .post(&till, "/api/v1/reservations", &reservation("card-1", 60))
        .await;
    assert_eq!(st, 200);
    let id = r["reservation_id"].as_str().unwrap().to_string();
    let mut fact = sale("acc-1", "card-1", 10_000, 60, 0);
    if let loyalty_domain::Fact::Sale { reservation_id, .. } = &mut fact {
        *reservation_id = Some(id.clone());
    }
    s.upload(&till, &[env(2, fact)]).await;
    let (_, ch) = s.get(&till, "/api/v1/changes?since=0").await;
    assert_eq!(ch["accounts"][0]["reserved"], 0);
    let (st, v) = s
        .post(
            &till,
            &format!("/api/v1/reservations/{id}/void"),
            &json!({}),
        )
        .await;
    assert_eq!(
        (st, v["code"].as_str()),
        (409, Some("RESERVATION_CONSUMED"))
    );
    // 40 left and free.
    assert_eq!(
        s.post(&till, "/api/v1/reservations", &reservation("card-1", 40))
            .await
            .0,
        200
    );
    s.stop().await;
}
