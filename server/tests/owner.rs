//! The owner's back-office over HTTP: authentication, trigger lists and consent, program
//! versions reaching a real till store, the expiry sweep, the backfill of old databases.

mod import_support;
mod owner_support;
mod support;

use chrono::{Duration, Utc};
use loyalty_domain::{Fact, ProgramConfig};
use loyalty_server::backend;
use loyalty_server::backend::analytics::Val;
use loyalty_wire::{Dashboard, EventEnvelope};
use owner_support::*;
use serde_json::{json, Value};
use support::*;
use uuid::Uuid;

backend_tests!(
    owner_endpoints_need_the_owner_token,
    trigger_lists_leave_out_customers_without_consent,
    a_published_program_reaches_a_till_store,
    the_expiry_sweep_records_expired_points_once,
    an_old_database_is_backfilled_from_its_events,
);

const OWNER_PATHS: [&str; 4] = [
    "/api/v1/dashboard",
    "/api/v1/triggers?kind=lapsed",
    "/api/v1/program",
    "/api/v1/tills",
];

async fn owner_endpoints_need_the_owner_token(db: Db) {
    let s = start_with(db, |c| c.auth_failures_per_minute = 20).await;
    let till = s.till("Main").await;
    for p in OWNER_PATHS {
        assert_eq!(get_as(&s, None, p).await.0, 401, "{p} without a token");
        assert_eq!(
            get_as(&s, Some("lok_wrong"), p).await.0,
            401,
            "{p} wrong token"
        );
    }
    let old = owner_token(&s).await;
    for p in OWNER_PATHS {
        assert_eq!(get_as(&s, Some(&old), p).await.0, 200, "{p}");
        assert_eq!(
            get_as(&s, Some(&till.token), p).await.0,
            401,
            "a device token is not the owner's"
        );
    }
    let new = owner_token(&s).await;
    assert_eq!(
        get_as(&s, Some(&old), "/api/v1/tills").await.0,
        401,
        "a new token revokes the old"
    );
    assert_eq!(get_as(&s, Some(&new), "/api/v1/tills").await.0, 200);
    // The owner registers and revokes tills.
    let (st, reg) = post_as(&s, &new, "/api/v1/tills", &json!({"store": "Second"})).await;
    assert_eq!(st, 200, "{reg}");
    let token = reg["token"].as_str().unwrap().to_string();
    let id = reg["till"]["id"].as_str().unwrap().to_string();
    assert_eq!(get_as(&s, Some(&token), "/api/v1/me").await.0, 200);
    let (st, t) = post_as(&s, &new, &format!("/api/v1/tills/{id}/revoke"), &json!({})).await;
    assert_eq!((st, &t["revoked"]), (200, &json!(true)));
    let list = get_json(&s, &new, "/api/v1/tills").await;
    assert_eq!(
        list["tills"].as_array().unwrap().len(),
        2,
        "Main, Second: {list}"
    );
    let (st, _) = post_as(&s, &new, "/api/v1/tills/nope/revoke", &json!({})).await;
    assert_eq!(st, 404);
    // Wrong tokens are rate-limited like device tokens.
    let mut last = 0;
    for _ in 0..25 {
        last = get_as(&s, Some("lok_guess"), "/api/v1/dashboard").await.0;
    }
    assert_eq!(last, 429);
    s.stop().await;
}

fn member(i: usize, consent: bool, birthday_in_days: i64) -> Fact {
    let mut f = enrol(&format!("acc-{i}"), &format!("27{i:011}"), 0);
    if let Fact::Enrol { profile, .. } = &mut f {
        profile.marketing_consent = consent;
        profile.preferred_channel = "sms".into();
        profile.email = Some(format!("c{i}@example.com"));
        profile.birthday = Some(
            (Utc::now() + Duration::days(birthday_in_days)).date_naive()
                - chrono::Months::new(12 * 30),
        );
    }
    f
}

fn kinds(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["account_uid"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

async fn trigger_lists_leave_out_customers_without_consent(db: Db) {
    let s = start(db).await;
    let till = s.till("Main").await;
    let owner = owner_token(&s).await;
    let long_ago = Utc::now() - Duration::days(100);
    let at = |seq: i64, t, f| EventEnvelope {
        seq,
        op_id: Uuid::now_v7(),
        recorded_at: t,
        fact: f,
    };
    let events = vec![
        at(1, long_ago, member(1, true, 2)),
        at(2, long_ago, member(2, false, 3)),
        at(3, long_ago, member(3, true, 40)),
        at(4, Utc::now() - Duration::days(1), member(4, true, 100)),
        at(5, Utc::now() - Duration::days(1), member(5, false, 100)),
        at(
            6,
            long_ago + Duration::days(1),
            sale("acc-1", "2700000000001", 1000, 0, 1),
        ),
        at(
            7,
            long_ago + Duration::days(1),
            sale("acc-2", "2700000000002", 1000, 0, 1),
        ),
        at(
            8,
            long_ago + Duration::days(1),
            sale("acc-3", "2700000000003", 1000, 0, 0),
        ),
        at(
            9,
            Utc::now() - Duration::days(2),
            sale("acc-3", "2700000000003", 1000, 0, 0),
        ),
        at(10, long_ago, adjust("acc-2", -30)),
    ];
    let r = s.upload(&till, &events).await;
    assert_eq!(r["conflicts"], json!([]), "{r}");
    let list = |q: &str| {
        let path = format!("/api/v1/triggers?{q}");
        let (s, owner) = (&s, owner.clone());
        async move { get_json(s, &owner, &path).await }
    };
    assert_eq!(
        kinds(&list("kind=birthdays&days=7").await),
        ["acc-1"],
        "acc-2 has no consent"
    );
    assert_eq!(
        kinds(&list("kind=birthdays&days=60").await),
        ["acc-1", "acc-3"]
    );
    assert_eq!(
        kinds(&list("kind=lapsed&days=30").await),
        ["acc-1"],
        "acc-3 came back, acc-2 no consent"
    );
    assert_eq!(kinds(&list("kind=welcome&days=7").await), ["acc-4"]);
    let short = list("kind=shortfalls").await;
    assert_eq!(
        kinds(&short),
        ["acc-2"],
        "operational: consent does not matter"
    );
    let row = &short["rows"][0];
    assert_eq!(
        (
            row["shortfall"].as_i64(),
            row["marketing_consent"].as_bool()
        ),
        (Some(29), Some(false))
    );
    assert_eq!(row["card"], "2700000000002");
    let (st, csv) = get_as(
        &s,
        Some(&owner),
        "/api/v1/triggers?kind=welcome&days=7&format=csv",
    )
    .await;
    assert_eq!(st, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("account_uid,card,name,phone,email,preferred_channel"));
    assert!(lines[1]
        .starts_with("acc-4,2700000000004,Customer acc-4,+79161234567,c4@example.com,sms,true"));
    assert_eq!(
        get_as(&s, Some(&owner), "/api/v1/triggers?kind=nope")
            .await
            .0,
        400
    );
    assert_eq!(
        get_as(&s, Some(&owner), "/api/v1/triggers?kind=lapsed&days=0")
            .await
            .0,
        400
    );
    s.stop().await;
}

async fn a_published_program_reaches_a_till_store(db: Db) {
    let s = start(db).await;
    let till = s.till("Main").await;
    let owner = owner_token(&s).await;
    let from = Utc::now() + Duration::days(3);
    let mut config = ProgramConfig::default();
    config.earn.rate_bp = 700;
    let bad = {
        let mut c = config.clone();
        c.point_value = 0;
        c
    };
    let (st, v) = post_as(
        &s,
        &owner,
        "/api/v1/program",
        &json!({"effective_from": from, "config": bad}),
    )
    .await;
    assert_eq!(
        (st, v["code"].as_str()),
        (400, Some("INVALID_PROGRAM")),
        "{v}"
    );
    let (st, v) = post_as(
        &s,
        &owner,
        "/api/v1/program",
        &json!({"effective_from": from, "config": config}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["version"], 2, "version 1 is the built-in default");
    let (st, v2) = post_as(
        &s,
        &owner,
        "/api/v1/program",
        &json!({"effective_from": from + Duration::days(30), "config": config}),
    )
    .await;
    assert_eq!((st, v2["version"].as_i64()), (200, Some(3)));
    assert!(v2["gseq"].as_i64() > v["gseq"].as_i64());
    let listed = get_json(&s, &owner, "/api/v1/program").await;
    assert_eq!(listed["versions"].as_array().unwrap().len(), 2);
    // A real till store receives both through sync; a sale then uses the one in force.
    let dir = tempfile::tempdir().unwrap();
    let t = import_support::SyncedTill::new(&s, dir.path(), &till).await;
    t.sync().await;
    {
        let store = t.store.lock().unwrap();
        assert_eq!(
            store.program_at(Utc::now()).earn.rate_bp,
            ProgramConfig::default().earn.rate_bp
        );
        let p = store.program_at(from + Duration::days(1));
        assert_eq!((p.version, p.earn.rate_bp), (2, 700));
        assert_eq!(store.program_at(from + Duration::days(31)).version, 3);
    }
    // And through changes after the till's cursor.
    let (_, ch) = s.get(&till, "/api/v1/changes?since=0").await;
    assert_eq!(ch["programs"].as_array().unwrap().len(), 2);
    s.stop().await;
}

async fn the_expiry_sweep_records_expired_points_once(db: Db) {
    let s = start(db.clone()).await;
    let till = s.till("Main").await;
    let owner = owner_token(&s).await;
    let t = Utc::now() - Duration::days(70);
    let mut f = enrol("acc-1", "2700000000001", 80);
    if let Fact::Enrol { expiry_months, .. } = &mut f {
        *expiry_months = Some(1);
    }
    let keep = {
        let mut a = adjust("acc-1", 5);
        if let Fact::Adjust { expiry_months, .. } = &mut a {
            *expiry_months = Some(12);
        }
        a
    };
    let events = vec![
        EventEnvelope {
            seq: 1,
            op_id: Uuid::now_v7(),
            recorded_at: t,
            fact: f,
        },
        EventEnvelope {
            seq: 2,
            op_id: Uuid::now_v7(),
            recorded_at: t,
            fact: keep,
        },
    ];
    s.upload(&till, &events).await;
    let (_, before) = s.get(&till, "/api/v1/changes?since=0").await;
    let gseq = before["accounts"][0]["gseq"].as_i64().unwrap();
    let q = "/api/v1/dashboard?from=".to_string()
        + &(Utc::now() - Duration::days(100)).date_naive().to_string();
    let d: Dashboard = serde_json::from_value(get_json(&s, &owner, &q).await).unwrap();
    assert_eq!(
        (d.points_liability, d.points_expired),
        (85, 0),
        "not swept yet"
    );
    // Within the sweep's grace after the expiry (a late offline sale dated before it may
    // still spend the points): out of the liability, the book keeps them.
    let expired_at = t + chrono::Months::new(1);
    let o = s
        .backend
        .expire_due(expired_at + Duration::days(1))
        .await
        .unwrap();
    assert_eq!((o.accounts, o.points), (0, 0), "within the grace");
    let d: Dashboard = serde_json::from_value(get_json(&s, &owner, &q).await).unwrap();
    assert_eq!((d.points_liability, d.points_expired), (5, 0));
    let o = s.backend.expire_due(Utc::now()).await.unwrap();
    assert_eq!((o.accounts, o.points), (1, 80));
    let (_, after) = s.get(&till, &format!("/api/v1/changes?since={gseq}")).await;
    assert_eq!(
        after["accounts"].as_array().unwrap().len(),
        1,
        "the book has a new gseq"
    );
    let d: Dashboard = serde_json::from_value(get_json(&s, &owner, &q).await).unwrap();
    assert_eq!(
        (d.points_liability, d.points_expired, d.points_earned),
        (85 - 80, 80, 80)
    );
    assert_eq!(d.breakage_rate_bp, Some(10_000));
    let day = (t + chrono::Months::new(1)).date_naive().to_string();
    assert_eq!(
        d.daily
            .iter()
            .find(|p| p.day.to_string() == day)
            .map(|p| p.points_expired),
        Some(80)
    );
    assert_eq!(
        s.backend.expire_due(Utc::now()).await.unwrap().points,
        0,
        "once"
    );
    // A restart (a new backend on the same database) finds nothing left to expire.
    let again = backend::open(&s.db_url).await.unwrap();
    again.migrate().await.unwrap();
    assert_eq!(again.expire_due(Utc::now()).await.unwrap().points, 0);
    drop(again);
    let expired = scalar(
        &s,
        "SELECT CAST(SUM(points_expired) AS BIGINT) FROM daily_stats",
        vec![],
    )
    .await;
    assert_eq!(expired, 80);
    s.stop().await;
}

async fn an_old_database_is_backfilled_from_its_events(db: Db) {
    let s = start(db).await;
    let till = s.till("Main").await;
    let owner = owner_token(&s).await;
    let t = Utc::now() - Duration::days(5);
    let mut seq = 0;
    let mut ev = |f: Fact| {
        seq += 1;
        EventEnvelope {
            seq,
            op_id: Uuid::now_v7(),
            recorded_at: t + Duration::minutes(seq),
            fact: f,
        }
    };
    let events = vec![
        ev(enrol("acc-1", "2700000000001", 50)),
        ev(enrol("acc-2", "2700000000002", 0)),
        ev(sale("acc-1", "2700000000001", 5000, 10, 5)),
        ev(sale("acc-2", "2700000000002", 7000, 0, 7)),
        ev(sale("acc-2", "2700000000002", 1000, 0, 1)),
        ev(adjust("acc-1", -100)),
    ];
    s.upload(&till, &events).await;
    let path = "/api/v1/dashboard?from=".to_string()
        + &(Utc::now() - Duration::days(10)).date_naive().to_string();
    let mut before: Dashboard = serde_json::from_value(get_json(&s, &owner, &path).await).unwrap();
    assert_eq!(
        (
            before.member_sales,
            before.new_members,
            before.points_earned
        ),
        (3, 2, 63)
    );
    // As if migration 0003 had just been applied to a database with these events.
    for table in [
        "sale_facts",
        "return_facts",
        "customer_stats",
        "daily_stats",
    ] {
        exec(&s, &format!("DELETE FROM {table}")).await;
    }
    exec(
        &s,
        "UPDATE analytics_state SET value = 0 WHERE name = 'backfilled'",
    )
    .await;
    assert_eq!(
        scalar(&s, "SELECT COUNT(*) FROM customer_stats", vec![]).await,
        0
    );
    let b = backend::open(&s.db_url).await.unwrap();
    b.migrate().await.unwrap();
    drop(b);
    let mut after: Dashboard = serde_json::from_value(get_json(&s, &owner, &path).await).unwrap();
    after.as_of = before.as_of;
    before.definitions.clear();
    after.definitions.clear();
    assert_eq!(after, before);
    let shortfall = scalar(
        &s,
        "SELECT shortfall FROM customer_stats WHERE account_uid = $1",
        vec![Val::text("acc-1")],
    )
    .await;
    assert_eq!(shortfall, 100 - (50 - 10 + 5));
    s.stop().await;
}
