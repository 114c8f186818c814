//! The owner merges duplicate customers through the core against a real server on
//! 127.0.0.1 (SQLite): the same person enrolled twice on a till, both earn; the owner sees
//! the pair side by side, merges the duplicate into the survivor (refused to a cashier, for
//! the same customer twice, without a reason, while the duplicate is not on the server yet,
//! twice); after the till's sync the survivor holds the sum of the points, both cards and
//! both histories, and the duplicate's phone and card find the survivor. Offline, a merge
//! fails clearly and changes nothing.

use std::time::{Duration, Instant};

use loyalty_app::*;
use loyalty_store::Channel;
use uuid::Uuid;

mod support;
use support::{server, Server};

const OWNER_PIN: &str = "1357";
const CASHIER_PIN: &str = "2468";

async fn till(s: &Server, dir: &std::path::Path) -> TillApp {
    let app = TillApp::open(dir, None).unwrap();
    app.setup(SetupRequest {
        server_url: s.url.clone(),
        device_token: s.till_token().await,
        owner_pin: OWNER_PIN.into(),
        cashier_pin: CASHIER_PIN.into(),
        owner_token: Some(s.owner_token().await),
    })
    .await
    .unwrap();
    app
}

fn op() -> String {
    Uuid::now_v7().to_string()
}

/// Enrols `name` with `phone` and sells them `amount` (minor units): the enrolment.
async fn member(app: &TillApp, name: &str, phone: &str, amount: i64) -> EnrolView {
    let e = app
        .enrol(EnrolInput {
            op_id: op(),
            name: name.into(),
            phone: Some(phone.into()),
            email: None,
            birthday: None,
            marketing_consent: false,
            preferred_channel: Channel::None,
            referrer: None,
        })
        .unwrap();
    let r = app
        .checkout(CheckoutInput {
            op_id: op(),
            card: e.card.clone(),
            basket: loyalty_domain::Basket::single(amount),
            spend: 0,
        })
        .await
        .unwrap();
    assert!(r.earned > 0, "the sale earns points");
    e
}

async fn synced(app: &TillApp) {
    let start = Instant::now();
    while app.status().pending > 0 {
        assert!(start.elapsed() < Duration::from_secs(20), "sync timed out");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn net(p: &CustomerPanel) -> i64 {
    p.balance.available + p.balance.pending - p.balance.shortfall
}

fn merge(survivor: i64, duplicate: i64, reason: &str) -> MergeInput {
    MergeInput {
        survivor_customer_id: survivor,
        duplicate_customer_id: duplicate,
        reason: reason.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_are_merged_without_losing_a_point() {
    let mut s = server().await;
    let dir = tempfile::tempdir().unwrap();
    let app = till(&s, dir.path()).await;

    // The same person enrolled twice, buying on both cards (the sync not started yet).
    app.login(CASHIER_PIN).unwrap();
    let anna = member(&app, "Anna Smirnova", "+7 916 222-33-44", 150_000).await;
    let dup = member(&app, "Anna Smirnova", "+7 926 777-88-99", 80_000).await;
    let (a, d) = (anna.customer_id, dup.customer_id);
    // A cashier may not merge, nor see the pair.
    assert_eq!(app.merge_preview(a, d).unwrap_err().code, "FORBIDDEN");
    let e = app.merge_customers(merge(a, d, "twice")).await.unwrap_err();
    assert_eq!(e.code, "FORBIDDEN");
    app.logout();

    app.login(OWNER_PIN).unwrap();
    // Not on the server yet: the server's code, and the till says why.
    let e = app
        .merge_customers(merge(a, d, "enrolled twice"))
        .await
        .unwrap_err();
    assert_eq!(e.code, "ACCOUNT_NOT_FOUND", "{e}");
    assert!(e.message.contains("to send"), "{}", e.message);
    app.start_sync().unwrap();
    synced(&app).await;

    // Side by side, from the till's store; the same customer twice is refused.
    assert_eq!(app.merge_preview(a, a).unwrap_err().code, "INVALID_MERGE");
    let e = app.merge_customers(merge(a, a, "x")).await.unwrap_err();
    assert_eq!(e.code, "INVALID_MERGE");
    let p = app.merge_preview(a, d).unwrap();
    let (pa, pd) = (app.customer(a).unwrap(), app.customer(d).unwrap());
    assert_eq!(
        (p.survivor.net_points, p.duplicate.net_points),
        (net(&pa), net(&pd))
    );
    assert!(p.duplicate.net_points > 0);
    assert_eq!(p.points_after, net(&pa) + net(&pd));
    assert_eq!(p.duplicate.card, dup.card);
    assert_eq!(p.duplicate.phone.as_deref(), Some("+79267778899"));
    assert_eq!(p.cards_after, 2);
    assert_eq!(p.survivor.lifetime_purchases, 1);
    let e = app.merge_customers(merge(a, d, "   ")).await.unwrap_err();
    assert_eq!(e.code, "INVALID_MERGE");

    // Merged on the server: the duplicate's points and card move. (The sync paused so that
    // this till does not know of it yet when it is asked again.)
    app.stop_sync().await;
    let v = app
        .merge_customers(merge(a, d, "enrolled twice"))
        .await
        .unwrap();
    assert!(!v.already_applied);
    assert_eq!(v.survivor_customer_id, a);
    assert_eq!(v.points_moved, p.duplicate.net_points);
    assert_eq!(v.survivor_points, p.points_after);
    assert_eq!(v.cards_moved, vec![dup.card.clone()]);
    assert_eq!(Uuid::parse_str(&v.op_id).unwrap().get_version_num(), 7);
    // Merging it again is the server's refusal, with its code.
    let e = app.merge_customers(merge(a, d, "again")).await.unwrap_err();
    assert_eq!(e.code, "ALREADY_MERGED", "{e}");
    app.start_sync().unwrap();

    // The till's sync brings it: the duplicate's phone and card find the survivor, who
    // holds every point, both cards and both sales.
    let start = Instant::now();
    let by_phone = loop {
        let c = app.scan("8 926 777-88-99").unwrap();
        if c.customer_id == a {
            break c;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the duplicate's phone still shows customer {} ({})",
            c.customer_id,
            c.name
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(net(&by_phone), v.survivor_points);
    let cards: Vec<&str> = by_phone.cards.iter().map(|c| c.number.as_str()).collect();
    assert!(
        cards.contains(&anna.card.as_str()) && cards.contains(&dup.card.as_str()),
        "{cards:?}"
    );
    let by_card = app.scan(&dup.card).unwrap();
    assert_eq!((by_card.customer_id, net(&by_card)), (a, v.survivor_points));
    assert_eq!(app.history(a).unwrap().sales.len(), 2);
    // The till knows now: the duplicate is the survivor, no second merge is offered.
    let e = app.merge_preview(a, d).unwrap_err();
    assert_eq!(e.code, "INVALID_MERGE");
    assert!(e.message.contains("already merged"), "{}", e.message);

    // Offline: a clear error, nothing changes on the till.
    let c = member(&app, "Boris Petrov", "+7 916 555-66-77", 50_000).await;
    let c2 = member(&app, "Boris Petrov", "+7 926 555-66-77", 50_000).await;
    synced(&app).await;
    s.stop().await;
    let before = app.merge_preview(c.customer_id, c2.customer_id).unwrap();
    let e = app
        .merge_customers(merge(c.customer_id, c2.customer_id, "enrolled twice"))
        .await
        .unwrap_err();
    assert_eq!(e.code, "NET_UNREACHABLE", "{e}");
    assert!(e.message.contains("nothing changed"), "{}", e.message);
    assert_eq!(
        app.merge_preview(c.customer_id, c2.customer_id).unwrap(),
        before
    );
    app.logout();
    app.stop_sync().await;
}
