//! The app core against a real server on 127.0.0.1 (SQLite): setup through `GET /me`, PIN
//! login and lockout, owner-only actions, two tills spending the same points online
//! (two-phase: the second is refused), the offline spend limit, sync status, the personal
//! offer from purchases made on another till.

use std::time::{Duration, Instant};

use loyalty_app::*;
use loyalty_domain::{Basket, BasketLine};
use uuid::Uuid;

mod support;
use support::{server, Server};

fn setup_req(url: &str, token: &str) -> SetupRequest {
    SetupRequest {
        server_url: url.into(),
        device_token: token.into(),
        owner_pin: "1357".into(),
        cashier_pin: "2468".into(),
        owner_token: None,
    }
}

async fn till(s: &Server, dir: &std::path::Path) -> TillApp {
    let app = TillApp::open(dir, None).unwrap();
    app.setup(setup_req(&s.url, &s.till_token().await))
        .await
        .unwrap();
    app.start_sync().unwrap();
    app
}

async fn wait(what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what}: timed out"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn op() -> String {
    Uuid::now_v7().to_string()
}

fn sale(card: &str, amount: i64, spend: i64) -> CheckoutInput {
    CheckoutInput {
        op_id: op(),
        card: card.into(),
        basket: Basket::single(amount),
        spend,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_login_and_roles() {
    let s = server().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TillApp::open(dir.path(), None).unwrap();
    assert!(!app.info().unwrap().configured);
    assert_eq!(app.login("2468").unwrap_err().code, "NOT_CONFIGURED");
    let bad = app.setup(setup_req(&s.url, "ltk_wrong")).await.unwrap_err();
    assert_eq!(bad.code, "UNAUTHORIZED", "{bad}");
    let mut same = setup_req(&s.url, &s.till_token().await);
    same.cashier_pin = same.owner_pin.clone();
    assert_eq!(app.setup(same).await.unwrap_err().code, "PIN_FORMAT");
    assert!(
        !app.info().unwrap().configured,
        "failed setups leave nothing behind"
    );

    let info = app
        .setup(setup_req(&s.url, &s.till_token().await))
        .await
        .unwrap();
    assert!(info.configured);
    assert_eq!(info.store_name.as_deref(), Some("Main St"));
    assert_eq!(app.scan("2000000000000").unwrap_err().code, "NOT_LOGGED_IN");

    let cashier = app.login("2468").unwrap();
    assert_eq!(cashier.role, loyalty_store::Role::Cashier);
    let e = app
        .enrol(EnrolInput {
            op_id: op(),
            name: "Anna".into(),
            phone: Some("8 916 111-22-33".into()),
            email: None,
            birthday: None,
            marketing_consent: true,
            preferred_channel: loyalty_store::Channel::Sms,
            referrer: None,
        })
        .unwrap();
    assert!(e.virtual_card.qr_svg.contains("<svg"));
    let by_qr = app.scan(&e.virtual_card.qr_payload).unwrap();
    assert_eq!(by_qr.customer_id, e.customer_id, "the QR scans back");
    let adjust = AdjustInput {
        op_id: op(),
        customer_id: e.customer_id,
        points: 50,
        reason: "goodwill".into(),
    };
    assert_eq!(app.adjust(adjust.clone()).unwrap_err().code, "FORBIDDEN");
    app.logout();
    let owner = app.login("1357").unwrap();
    assert_eq!(owner.role, loyalty_store::Role::Owner);
    let a = app.adjust(adjust.clone()).unwrap();
    assert_eq!(app.adjust(adjust).unwrap(), a, "same op id: applied once");
    let h = app.history(e.customer_id).unwrap();
    assert_eq!(h.adjustments[0].author, "Owner");

    // A restart keeps the settings and the lockout.
    app.logout();
    for _ in 0..4 {
        assert_eq!(app.login("0000").unwrap_err().code, "PIN_WRONG");
    }
    assert_eq!(app.login("0000").unwrap_err().code, "PIN_LOCKED");
    drop(app);
    let app = TillApp::open(dir.path(), None).unwrap();
    assert!(app.info().unwrap().configured);
    assert_eq!(app.login("1357").unwrap_err().code, "PIN_LOCKED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tills_cannot_spend_the_same_points_online_and_offline_spend_is_capped() {
    let mut s = server().await;
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = till(&s, da.path()).await;
    let b = till(&s, db.path()).await;
    a.login("1357").unwrap();
    b.login("2468").unwrap();
    let e = a
        .enrol(EnrolInput {
            op_id: op(),
            name: "Boris".into(),
            phone: None,
            email: None,
            birthday: None,
            marketing_consent: false,
            preferred_channel: loyalty_store::Channel::None,
            referrer: None,
        })
        .unwrap();
    let top_up = AdjustInput {
        op_id: op(),
        customer_id: e.customer_id,
        points: 1_900,
        reason: "test balance".into(),
    };
    a.adjust(top_up).unwrap();
    wait("till A uploads", || {
        a.status().online && a.status().pending == 0
    })
    .await;
    // Till B learns the member from the server.
    wait("till B sees the member", || b.scan(&e.card).is_ok()).await;
    let total = b.scan(&e.card).unwrap().balance.available;
    assert_eq!(total, 2_000, "welcome 100 + 1 900");

    // A reserves 1 500 points (sale of 10 000.00, 30 % cap = 3 000 points): B cannot
    // spend 1 500 of what is left.
    let ra = a.checkout(sale(&e.card, 1_000_000, 1_500)).await.unwrap();
    assert_eq!(ra.points_spent, 1_500);
    let refused = b
        .checkout(sale(&e.card, 1_000_000, 1_500))
        .await
        .unwrap_err();
    assert_eq!(refused.code, "INSUFFICIENT_POINTS", "{refused}");
    wait("till A's sale reaches the server", || {
        a.status().pending == 0
    })
    .await;
    wait("B sees the sale", || {
        b.scan(&e.card).map(|p| p.balance.available).unwrap_or(0) <= 500
    })
    .await;

    // Offline: B may spend only up to the owner's offline limit (500 in the demo program).
    s.stop().await;
    wait("B notices the outage", || !b.status().online).await;
    let limit = b.info().unwrap().offline_spend_limit;
    let available = b.scan(&e.card).unwrap().balance.available;
    let cap = available.min(limit);
    let q = b
        .quote(QuoteRequest {
            card: e.card.clone(),
            basket: Basket::single(1_000_000),
            spend: 0,
        })
        .unwrap();
    assert!(q.offline);
    assert_eq!(q.spend_limit, cap.min(q.quote.max_redeemable));
    let over = b
        .checkout(sale(&e.card, 1_000_000, cap + 1))
        .await
        .unwrap_err();
    assert_eq!(over.code, "OFFLINE_SPEND_LIMIT", "{over}");
    let before = b.status().pending;
    b.checkout(sale(&e.card, 1_000_000, cap)).await.unwrap();
    assert_eq!(
        b.status().pending,
        before + 1,
        "the pending count grows at once"
    );
}

/// A sale of one coffee (category "coffee"), with a cake or not.
fn coffee(card: &str, cake: bool) -> CheckoutInput {
    let line = |sku: &str, category: &str, amount| BasketLine {
        sku: sku.into(),
        category: Some(category.into()),
        qty: 1,
        amount,
    };
    CheckoutInput {
        op_id: op(),
        card: card.into(),
        basket: Basket::new(if cake {
            vec![line("LATTE", "coffee", 350), line("ECLAIR", "cakes", 200)]
        } else {
            vec![line("LATTE", "coffee", 350)]
        }),
        spend: 0,
    }
}

fn offer_kind(app: &TillApp, card: &str) -> Option<String> {
    app.scan(card).ok().and_then(|p| p.offer).map(|o| o.kind)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coffee_sold_on_till_a_makes_coffee_the_favourite_on_till_b() {
    let s = server().await;
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = till(&s, da.path()).await;
    let b = till(&s, db.path()).await;
    a.login("2468").unwrap();
    b.login("2468").unwrap();
    let e = a
        .enrol(EnrolInput {
            op_id: op(),
            name: "Carla".into(),
            phone: None,
            email: None,
            birthday: None,
            marketing_consent: false,
            preferred_channel: loyalty_store::Channel::None,
            referrer: None,
        })
        .unwrap();
    wait("till B sees the member", || b.scan(&e.card).is_ok()).await;
    // Two coffees on B (one of them before B has uploaded it): not a favourite yet.
    b.checkout(coffee(&e.card, true)).await.unwrap();
    b.checkout(coffee(&e.card, false)).await.unwrap();
    assert_eq!(
        offer_kind(&b, &e.card),
        None,
        "2 purchases: below the threshold"
    );
    wait("till B uploads", || b.status().pending == 0).await;
    // The third, on A: after the sync, B's scan offers coffee.
    a.checkout(coffee(&e.card, true)).await.unwrap();
    wait("B's scan shows the favourite category", || {
        offer_kind(&b, &e.card).as_deref() == Some("favourite_category")
    })
    .await;
    let offer = b.scan(&e.card).unwrap().offer.unwrap();
    assert_eq!(offer.subject.as_deref(), Some("coffee"), "{offer:?}");
    assert_eq!(offer.figures, vec![3, 3 * 350]);
    assert!(
        offer.text.starts_with("Coffee is the favourite"),
        "{}",
        offer.text
    );
}
