//! Merging duplicate customers end to end: the real server in-process (SQLite; PostgreSQL
//! too when `LOYALTY_TEST_PG_URL` is set) and two tills with their own SQLite files.
//! Anna enrolled twice (once per shop); the owner merges the duplicate while the corner
//! till is offline and still selling on the duplicate's card. After syncing, both tills
//! show one customer with every point (the offline sale included, nothing doubled): the
//! duplicate's card and phone find the survivor, its sales are in the survivor's history,
//! a return of one of them takes the points back from the survivor, and an operation on
//! the duplicate's stale account id is refused with `ACCOUNT_MERGED`.

mod sync_support;

use chrono::Utc;
use loyalty_store::StoreError;
use loyalty_wire::MergeRequest;
use sync_support::model::Model;
use sync_support::server::{Db, Server};
use sync_support::till::Till;
use uuid::Uuid;

db_tests!(a_duplicate_merged_while_a_till_is_offline_loses_nothing);

async fn sync(t: &Till, s: &Server) {
    t.syncer(t.http(&s.base()))
        .sync_once()
        .await
        .expect("sync cycle");
}

/// Σ remaining − shortfall of the account behind `card` as the till shows it.
fn net(t: &Till, card: &str) -> i64 {
    let (available, pending, shortfall) = t.balance(card);
    available + pending - shortfall
}

async fn a_duplicate_merged_while_a_till_is_offline_loses_nothing(db: Db) {
    let mut s = Server::new(db).await;
    s.start().await;
    let mut m = Model::default();
    let (id1, tok1) = s.register("Main St").await;
    let (id2, tok2) = s.register("Corner").await;
    let main = Till::new(s.dir.path(), "T01", id1, tok1);
    let corner = Till::new(s.dir.path(), "T02", id2, tok2);
    let keep = main.enrol(&mut m, "Anna Smith", "+79161110001");
    main.sale(&mut m, &keep, 40_000, 0).expect("sale");
    let dup = corner.enrol(&mut m, "Anna Smith", "+79161110002");
    let dup_sale = corner.sale(&mut m, &dup, 100_000, 0).expect("sale");
    sync(&main, &s).await;
    sync(&corner, &s).await;
    sync(&main, &s).await;
    let keep_uid = s.book(&main.server_id, &keep).await.account_uid;
    let dup_uid = s.book(&main.server_id, &dup).await.account_uid;
    let dup_account = {
        let now = corner.now();
        corner
            .store
            .lock()
            .unwrap()
            .lookup(&dup, now)
            .unwrap()
            .account_id
    };

    // The corner till goes offline and sells on the duplicate's card; meanwhile the owner
    // merges the duplicate into the main shop's Anna.
    let offline = corner.sale(&mut m, &dup, 20_000, 0).expect("offline sale");
    assert!(offline.earned > 0);
    let r = s
        .backend
        .merge_accounts(
            MergeRequest {
                op_id: Uuid::now_v7(),
                survivor_account_uid: keep_uid.clone(),
                duplicate_account_uid: dup_uid.clone(),
                reason: "enrolled twice".into(),
                author: "Owner".into(),
            },
            Utc::now(),
        )
        .await
        .expect("merge");
    assert_eq!(r.cards_moved, std::slice::from_ref(&dup));
    let expected = m.net(&keep) + m.net(&dup);

    // The main till hears of it: the duplicate's card and phone show the survivor.
    sync(&main, &s).await;
    let now = main.now();
    let by_card = main.store.lock().unwrap().lookup(&dup, now).unwrap();
    let by_phone = main
        .store
        .lock()
        .unwrap()
        .lookup("+79161110002", now)
        .unwrap();
    let survivor = main.store.lock().unwrap().lookup(&keep, now).unwrap();
    assert_eq!(by_card.account_id, survivor.account_id);
    assert_eq!(by_phone.account_id, survivor.account_id);
    assert_eq!(by_card.card, dup, "the scanned card is shown");
    assert_eq!(survivor.cards.len(), 2);
    let hits = main.store.lock().unwrap().search_name("anna", 10).unwrap();
    assert_eq!(
        hits.len(),
        1,
        "the merged duplicate is not listed: {hits:?}"
    );
    // Without the corner's offline sale yet (the server has not got it).
    assert_eq!(net(&main, &keep), expected - offline.earned);

    // The corner till comes back and first pulls (its upload has not gone through yet):
    // its offline sale, still pending, is rebased onto the survivor at once.
    let since = corner.store.lock().unwrap().sync_cursor().unwrap();
    let page = corner
        .http(&s.base())
        .changes(since, 1000)
        .await
        .expect("changes");
    assert!(page
        .accounts
        .iter()
        .any(|a| a.merged_into.as_deref() == Some(keep_uid.as_str())));
    corner
        .store
        .lock()
        .unwrap()
        .apply_changes(&page, Utc::now())
        .expect("apply");
    assert_eq!(corner.pending(), 1);
    assert_eq!(
        net(&corner, &dup),
        expected,
        "the pending sale counted once"
    );
    assert_eq!(net(&corner, &keep), expected);
    corner.invariants();
    // Then the full cycle: the offline sale lands on the survivor on the server too.
    sync(&corner, &s).await;
    sync(&main, &s).await;
    let server = s.balance(&main.server_id, &keep, Utc::now()).await;
    assert_eq!(
        server.0 + server.1 - server.2,
        expected,
        "server: every point, once"
    );
    for t in [&main, &corner] {
        assert_eq!(net(t, &keep), expected, "{}", t.name);
        assert_eq!(net(t, &dup), expected, "{}", t.name);
        t.invariants();
    }
    assert_eq!(corner.pending(), 0);
    let now = corner.now();
    let view = corner.store.lock().unwrap().lookup(&dup, now).unwrap();
    let history = corner
        .store
        .lock()
        .unwrap()
        .history(view.customer.id)
        .unwrap();
    assert_eq!(history.account_id, view.account_id);
    assert_eq!(
        history.sales.len(),
        2,
        "the duplicate's sales moved to the survivor"
    );
    assert_eq!(view.lifetime_purchases, 3, "both shops' purchases count");

    // A stale screen still holding the duplicate's account: refused, nothing written.
    let err = corner
        .store
        .lock()
        .unwrap()
        .adjust(Uuid::now_v7(), dup_account, 10, "goodwill", "Owner", now)
        .unwrap_err();
    assert!(matches!(err, StoreError::AccountMerged { .. }), "{err:?}");

    // Returning the duplicate's first sale takes its points back from the survivor.
    corner
        .return_all(&mut m, &dup, &dup_sale.receipt_no)
        .expect("return");
    let expected = m.net(&keep) + m.net(&dup);
    assert_eq!(net(&corner, &keep), expected, "at once, offline");
    sync(&corner, &s).await;
    sync(&main, &s).await;
    let server = s.balance(&main.server_id, &keep, Utc::now()).await;
    assert_eq!(server.0 + server.1 - server.2, expected);
    for t in [&main, &corner] {
        assert_eq!(net(t, &keep), expected, "{}", t.name);
        t.invariants();
    }
    s.shutdown().await;
}
