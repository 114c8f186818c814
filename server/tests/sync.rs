//! Upload/changes/snapshot against the real server over HTTP.

mod support;

use serde_json::{json, Value};
use support::*;

backend_tests!(
    upload_is_idempotent_and_in_order,
    a_gap_stops_the_batch_and_a_resend_continues,
    same_seq_or_op_id_with_other_content_is_a_conflict,
    offline_overdraw_is_a_reported_shortfall_never_a_rejection,
    changes_follow_gseq_across_tills_and_pages,
    snapshot_pages_every_account_once,
    card_block_and_family_card_update_cards,
    a_referees_sale_credits_the_referrer_under_the_same_gseq,
);

fn available(account: &Value) -> i64 {
    // Σ remaining of the book's lots (all available at once in these tests).
    account["book"]["lots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["remaining"].as_i64().unwrap())
        .sum()
}

async fn upload_is_idempotent_and_in_order(db: Db) {
    let s = start(db).await;
    let till = s.till("Main St").await;
    let batch = vec![
        env(1, enrol("acc-1", "2000000000015", 100)),
        env(2, adjust("acc-1", 50)),
        env(3, sale("acc-1", "2000000000015", 10_000, 0, 5)),
    ];
    let first = s.upload(&till, &batch).await;
    assert_eq!(first["applied_upto"], 3);
    assert_eq!(first["conflicts"], json!([]));

    // Re-upload: a no-op with the same answer; nothing applied twice.
    let again = s.upload(&till, &batch).await;
    assert_eq!(again, first);
    let (st, changes) = s.get(&till, "/api/v1/changes?since=0").await;
    assert_eq!(st, 200);
    let accounts = changes["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(available(&accounts[0]), 155);
    assert_eq!(changes["included_upto_seq"], 3);
    assert_eq!(accounts[0]["customer"]["customer_uid"], "cust-acc-1");
    assert_eq!(accounts[0]["cards"][0]["number"], "2000000000015");
    assert_eq!(accounts[0]["cards"][0]["status"], "active");
    s.stop().await;
}

async fn a_gap_stops_the_batch_and_a_resend_continues(db: Db) {
    let s = start(db).await;
    let till = s.till("Main St").await;
    let e1 = env(1, enrol("acc-1", "2000000000015", 10));
    let e2 = env(2, adjust("acc-1", 1));
    let e3 = env(3, adjust("acc-1", 2));
    let e4 = env(4, adjust("acc-1", 3));

    // Reordered batch: sorted server-side, applied 1..2, stopped at the gap before 4.
    let r = s.upload(&till, &[e4.clone(), e2.clone(), e1.clone()]).await;
    assert_eq!(r["applied_upto"], 2);
    assert_eq!(r["conflicts"], json!([]));

    // The till resends from applied_upto + 1.
    let r = s.upload(&till, &[e3.clone(), e4.clone()]).await;
    assert_eq!(r["applied_upto"], 4);
    // Starting past the cursor applies nothing.
    let r = s.upload(&till, &[env(6, adjust("acc-1", 100))]).await;
    assert_eq!(r["applied_upto"], 4);

    let (_, changes) = s.get(&till, "/api/v1/changes?since=0").await;
    assert_eq!(available(&changes["accounts"][0]), 16);
    s.stop().await;
}

async fn same_seq_or_op_id_with_other_content_is_a_conflict(db: Db) {
    let s = start(db).await;
    let till = s.till("Main St").await;
    let e1 = env(1, enrol("acc-1", "2000000000015", 10));
    let e2 = env(2, adjust("acc-1", 5));
    s.upload(&till, &[e1.clone(), e2.clone()]).await;

    // Same op id and seq, different content.
    let mut changed = e2.clone();
    changed.fact = adjust("acc-1", 500);
    let r = s.upload(&till, &[changed]).await;
    assert_eq!(r["applied_upto"], 2);
    assert_eq!(r["conflicts"][0]["code"], "EVENT_CONFLICT");
    assert_eq!(r["conflicts"][0]["seq"], 2);

    // An op id already applied, resent under a new seq: a conflict that settles the seq.
    let mut reused = e2.clone();
    reused.seq = 3;
    let r = s.upload(&till, &[reused.clone()]).await;
    assert_eq!(r["applied_upto"], 3);
    assert_eq!(r["conflicts"][0]["code"], "EVENT_CONFLICT");
    // ... and re-uploading it gets the same conflict again.
    let again = s.upload(&till, &[reused]).await;
    assert_eq!(again, r);

    // A fact the book refuses (unknown account) is settled as a conflict too.
    let r = s.upload(&till, &[env(4, adjust("nobody", 5))]).await;
    assert_eq!(r["applied_upto"], 4);
    assert_eq!(r["conflicts"][0]["code"], "ACCOUNT_NOT_FOUND");

    let (_, changes) = s.get(&till, "/api/v1/changes?since=0").await;
    assert_eq!(
        available(&changes["accounts"][0]),
        15,
        "nothing applied twice"
    );
    s.stop().await;
}

async fn offline_overdraw_is_a_reported_shortfall_never_a_rejection(db: Db) {
    let s = start(db).await;
    let till = s.till("Main St").await;
    let batch = vec![
        env(1, enrol("acc-1", "2000000000015", 10)),
        env(2, sale("acc-1", "2000000000015", 10_000, 30, 0)),
    ];
    let r = s.upload(&till, &batch).await;
    assert_eq!(r["applied_upto"], 2);
    assert_eq!(r["shortfalls"][0]["points"], 20);
    assert_eq!(r["shortfalls"][0]["account_uid"], "acc-1");
    assert_eq!(
        s.upload(&till, &batch).await,
        r,
        "duplicate reports it again"
    );
    let (_, changes) = s.get(&till, "/api/v1/changes?since=0").await;
    assert_eq!(changes["accounts"][0]["book"]["shortfall"], 20);
    s.stop().await;
}

async fn changes_follow_gseq_across_tills_and_pages(db: Db) {
    let s = start(db).await;
    let a = s.till("Main St").await;
    let b = s.till("Harbour").await;
    s.upload(&a, &[env(1, enrol("acc-1", "2000000000015", 1))])
        .await;
    s.upload(&b, &[env(1, enrol("acc-2", "2000000000022", 2))])
        .await;
    s.upload(&a, &[env(2, enrol("acc-3", "2000000000039", 3))])
        .await;

    let (_, p1) = s.get(&b, "/api/v1/changes?since=0&limit=2").await;
    assert_eq!(p1["accounts"].as_array().unwrap().len(), 2);
    assert_eq!(p1["has_more"], true);
    assert_eq!(p1["included_upto_seq"], 1);
    let next = p1["next"].as_i64().unwrap();
    let (_, p2) = s
        .get(&b, &format!("/api/v1/changes?since={next}&limit=2"))
        .await;
    assert_eq!(p2["accounts"][0]["account_uid"], "acc-3");
    assert_eq!(p2["has_more"], false);
    let last = p2["next"].as_i64().unwrap();
    let (_, p3) = s.get(&b, &format!("/api/v1/changes?since={last}")).await;
    assert_eq!(p3["accounts"], json!([]));
    assert_eq!(p3["next"], last);

    // A later fact moves the account past the cursor again.
    s.upload(&a, &[env(3, adjust("acc-1", 7))]).await;
    let (_, p4) = s.get(&b, &format!("/api/v1/changes?since={last}")).await;
    assert_eq!(p4["accounts"][0]["account_uid"], "acc-1");
    assert_eq!(available(&p4["accounts"][0]), 8);
    s.stop().await;
}

async fn snapshot_pages_every_account_once(db: Db) {
    let s = start(db).await;
    let till = s.till("Main St").await;
    let events: Vec<_> = (1..=5)
        .map(|i| env(i, enrol(&format!("acc-{i}"), &format!("card-{i}"), i)))
        .collect();
    s.upload(&till, &events).await;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut first_cursor = None;
    loop {
        let path = match &after {
            None => "/api/v1/snapshot?limit=2".to_string(),
            Some(a) => format!("/api/v1/snapshot?limit=2&after={a}"),
        };
        let (st, page) = s.get(&till, &path).await;
        assert_eq!(st, 200);
        // Counted with the first page only.
        assert_eq!(page["total"], if after.is_none() { 5 } else { 0 });
        first_cursor.get_or_insert(page["cursor"].as_i64().unwrap());
        for a in page["accounts"].as_array().unwrap() {
            seen.push(a["account_uid"].as_str().unwrap().to_string());
        }
        match page["next_after"].as_str() {
            Some(n) => after = Some(n.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ["acc-1", "acc-2", "acc-3", "acc-4", "acc-5"]);
    assert_eq!(first_cursor, Some(5));
    s.stop().await;
}

async fn card_block_and_family_card_update_cards(db: Db) {
    let s = start(db).await;
    let till = s.till("Main St").await;
    let batch = vec![
        env(1, enrol("acc-1", "card-1", 0)),
        env(
            2,
            loyalty_domain::Fact::CardBlock {
                account_uid: "acc-1".into(),
                old_card: "card-1".into(),
                new_card: "card-2".into(),
            },
        ),
        env(
            3,
            loyalty_domain::Fact::FamilyCard {
                account_uid: "acc-1".into(),
                card: "card-3".into(),
            },
        ),
        env(4, enrol("acc-2", "card-2", 0)),
    ];
    let r = s.upload(&till, &batch).await;
    assert_eq!(r["applied_upto"], 4);
    assert_eq!(r["conflicts"][0]["code"], "CARD_TAKEN");
    let (_, changes) = s.get(&till, "/api/v1/changes?since=0").await;
    assert_eq!(
        changes["accounts"].as_array().unwrap().len(),
        1,
        "acc-2 rolled back"
    );
    let cards: Vec<(String, String)> = changes["accounts"][0]["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["number"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(cards.contains(&("card-1".into(), "blocked".into())));
    assert!(cards.contains(&("card-2".into(), "active".into())));
    assert!(cards.contains(&("card-3".into(), "active".into())));
    s.stop().await;
}

async fn a_referees_sale_credits_the_referrer_under_the_same_gseq(db: Db) {
    let s = start(db).await;
    let till = s.till("Main St").await;
    let mut referee = enrol("acc-2", "card-2", 0);
    if let loyalty_domain::Fact::Enrol { referrer_uid, .. } = &mut referee {
        *referrer_uid = Some("cust-acc-1".into());
    }
    let mut first_sale = sale("acc-2", "card-2", 10_000, 0, 5);
    if let loyalty_domain::Fact::Sale { referrer, .. } = &mut first_sale {
        *referrer = Some(("acc-1".into(), 200));
    }
    let batch = vec![
        env(1, enrol("acc-1", "card-1", 0)),
        env(2, referee),
        env(3, first_sale),
    ];
    let r = s.upload(&till, &batch).await;
    assert_eq!(
        (r["applied_upto"].as_i64(), &r["conflicts"]),
        (Some(3), &json!([]))
    );
    // A page of 2 never splits the two accounts changed by gseq 3.
    let (_, p) = s.get(&till, "/api/v1/changes?since=0&limit=2").await;
    let accounts = p["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    assert!(accounts.iter().all(|a| a["gseq"] == 3));
    let referrer = accounts
        .iter()
        .find(|a| a["account_uid"] == "acc-1")
        .unwrap();
    assert_eq!(available(referrer), 200);
    assert_eq!(referrer["book"]["lots"][0]["kind"], "referral_referrer");
    s.stop().await;
}
