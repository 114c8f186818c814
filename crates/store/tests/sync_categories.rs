//! Personal offers' data on the till: the server's per-category summary arrives with the
//! account (by changes and by a snapshot page), is stored once (a page applied twice
//! writes nothing), and a scan merges it with this till's sales the server has not
//! included yet — a sale made offline a minute ago counts, and it is not counted twice
//! once uploaded, acknowledged and pulled back.

mod support_sync;

use chrono::{DateTime, Utc};
use loyalty_domain::{Basket, BasketLine};
use loyalty_store::{CheckoutRequest, NewCustomer, Store, SyncBatch};
use support_sync::server::Server;
use support_sync::{open, t, t0};
use uuid::Uuid;

fn enrol(s: &mut Store, now: DateTime<Utc>) -> String {
    s.enrol(
        Uuid::now_v7(),
        NewCustomer {
            name: "Anna".into(),
            phone: Some("+79161110001".into()),
            ..NewCustomer::default()
        },
        now,
    )
    .expect("enrol")
    .card
}

fn sell(s: &mut Store, card: &str, lines: &[(&str, i64)], now: DateTime<Utc>) {
    let lines = lines
        .iter()
        .map(|(c, amount)| BasketLine {
            sku: format!("SKU-{c}"),
            category: (!c.is_empty()).then(|| c.to_string()),
            qty: 1,
            amount: *amount,
        })
        .collect();
    s.checkout(
        Uuid::now_v7(),
        CheckoutRequest {
            card: card.into(),
            basket: Basket::new(lines),
            spend: 0,
            receipt: None,
        },
        now,
    )
    .expect("checkout");
}

/// `(category, purchases, amount)` as a scan shows them.
fn cats(s: &Store, card: &str, now: DateTime<Utc>) -> Vec<(String, i64, i64)> {
    s.lookup(card, now)
        .expect("lookup")
        .categories
        .into_iter()
        .map(|c| (c.category, c.purchases, c.amount))
        .collect()
}

fn pull(server: &Server, till: &str, s: &mut Store, now: DateTime<Utc>) {
    let since = s.sync_cursor().expect("cursor");
    s.apply_changes(&server.changes(till, since, now), now)
        .expect("apply changes");
}

fn c(name: &str, purchases: i64, amount: i64) -> (String, i64, i64) {
    (name.to_string(), purchases, amount)
}

#[test]
fn categories_arrive_by_changes_and_snapshot_and_merge_with_unsynced_sales() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut t1 = open(&dir.path().join("t1.db"), "T01");
    let mut t2 = open(&dir.path().join("t2.db"), "T02");
    let mut server = Server::default();
    let card = enrol(&mut t1, t0());
    sell(&mut t1, &card, &[("coffee", 300), ("cakes", 250)], t(1));
    sell(
        &mut t1,
        &card,
        &[("coffee", 300), ("coffee", 200), ("", 90)],
        t(2),
    );
    // T01's own sales count before any sync (no server summary yet).
    let expected = vec![c("coffee", 2, 800), c("cakes", 1, 250)];
    assert_eq!(cats(&t1, &card, t(2)), expected);
    server.upload("T01", &mut t1);

    // By changes: T02 never sold to Anna and sees T01's purchases.
    pull(&server, "T02", &mut t2, t(3));
    assert_eq!(cats(&t2, &card, t(3)), expected);
    // Pulled again, and the same page applied again: the summary is not rewritten.
    t2.connection()
        .execute_batch(
            "CREATE TEMP TABLE cat_writes (n INTEGER);
             CREATE TEMP TRIGGER cat_w AFTER UPDATE OF categories, categories_upto
             ON main.accounts BEGIN INSERT INTO cat_writes VALUES (1); END;",
        )
        .unwrap();
    pull(&server, "T02", &mut t2, t(3));
    let page = server.changes("T02", 0, t(3));
    t2.apply_changes(&page, t(3)).expect("the same page again");
    let writes: i64 = t2
        .connection()
        .query_row("SELECT COUNT(*) FROM cat_writes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(writes, 0);
    assert_eq!(cats(&t2, &card, t(3)), expected);

    // An offline sale on T02 counts at once on T02, not on T01.
    sell(&mut t2, &card, &[("coffee", 350), ("tea", 150)], t(4));
    let merged = vec![c("coffee", 3, 1150), c("cakes", 1, 250), c("tea", 1, 150)];
    assert_eq!(cats(&t2, &card, t(4)), merged);
    pull(&server, "T01", &mut t1, t(4));
    assert_eq!(
        cats(&t1, &card, t(4)),
        expected,
        "T01 pulled its own sales back"
    );
    // Uploaded and acknowledged, not pulled yet: still counted once.
    server.upload("T02", &mut t2);
    assert_eq!(cats(&t2, &card, t(4)), merged);
    // Pulled back: the server's summary includes it; not counted twice.
    pull(&server, "T02", &mut t2, t(5));
    assert_eq!(cats(&t2, &card, t(5)), merged);
    pull(&server, "T01", &mut t1, t(5));
    assert_eq!(cats(&t1, &card, t(5)), merged, "T02's sale reached T01");

    // By a snapshot page: a new till's first start (the plain-insert path).
    let mut t3 = open(&dir.path().join("t3.db"), "T03");
    let page = server.changes("T03", 0, t(6));
    t3.apply_snapshot_page(
        &SyncBatch {
            accounts: &page.accounts,
            programs: &page.programs,
            cursor: Some(page.next),
            included_upto_seq: 0,
            server_time: page.server_time,
        },
        t(6),
    )
    .expect("snapshot page");
    assert_eq!(cats(&t3, &card, t(6)), merged);
    // And T03's own sale on top of it.
    sell(&mut t3, &card, &[("tea", 100)], t(7));
    assert_eq!(
        cats(&t3, &card, t(7)),
        vec![c("coffee", 3, 1150), c("tea", 2, 250), c("cakes", 1, 250)]
    );
}
