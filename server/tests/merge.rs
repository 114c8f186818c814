//! Merging duplicate customers (`POST /api/v1/accounts/merge`, a `merge` fact of the
//! server's till): the survivor absorbs points, counters, cards, categories and active
//! reservations; facts recorded on the duplicate before the till heard of the merge —
//! a sale, a return of the duplicate's own sale, a sale naming it as referrer — are
//! applied to the survivor; not a point is created or lost. On every backend.

mod owner_support;
mod support;

use loyalty_domain::Fact;
use loyalty_wire::{AccountState, ChangesResponse, MergeResponse};
use owner_support::*;
use serde_json::{json, Value};
use support::*;
use uuid::Uuid;

backend_tests!(
    a_merge_moves_everything_and_redirects_later_facts,
    merge_requests_are_checked,
);

async fn states(s: &TestServer, till: &Till) -> Vec<AccountState> {
    let (st, changes) = s.get(till, "/api/v1/changes?since=0&limit=1000").await;
    assert_eq!(st, 200, "{changes}");
    let changes: ChangesResponse = serde_json::from_value(changes).unwrap();
    changes.accounts
}

fn state<'a>(all: &'a [AccountState], uid: &str) -> &'a AccountState {
    all.iter().find(|a| a.account_uid == uid).unwrap()
}

fn merge_body(op: Uuid, survivor: &str, duplicate: &str) -> Value {
    json!({"op_id": op, "survivor_account_uid": survivor, "duplicate_account_uid": duplicate,
           "reason": "same person enrolled twice", "author": "Owner"})
}

/// Posts a merge as the owner; `(status, body)`.
async fn merge(s: &TestServer, owner: &str, body: &Value) -> (u16, Value) {
    post_as(s, owner, "/api/v1/accounts/merge", body).await
}

/// Posts a merge that must be refused with `status` and `code`.
async fn refused(s: &TestServer, owner: &str, body: Value, status: u16, code: &str) {
    let (st, answer) = merge(s, owner, &body).await;
    assert_eq!(
        (st, answer["code"].as_str()),
        (status, Some(code)),
        "{answer}"
    );
}

fn with_category(mut f: Fact, category: &str) -> Fact {
    if let Fact::Sale { lines, .. } = &mut f {
        lines[0].category = Some(category.into());
    }
    f
}

fn total(a: &AccountState) -> i64 {
    a.book.total_signed()
}

async fn a_merge_moves_everything_and_redirects_later_facts(db: Db) {
    let s = start(db).await;
    let owner = owner_token(&s).await;
    let (t1, t2) = (s.till("Main").await, s.till("Corner").await);
    // `dup` enrolled at the corner shop, bought tea there; `keep` at the main shop.
    let dup_sale = env(
        3,
        with_category(sale("dup", "2700000000002", 10_000, 0, 500), "tea"),
    );
    let dup_sale_op = dup_sale.op_id.to_string();
    s.upload(
        &t2,
        &[
            env(1, enrol("dup", "2700000000002", 100)),
            env(2, adjust("dup", -150)),
            dup_sale,
        ],
    )
    .await;
    s.upload(
        &t1,
        &[
            env(1, enrol("keep", "2700000000001", 200)),
            env(
                2,
                with_category(sale("keep", "2700000000001", 4_000, 0, 200), "tea"),
            ),
        ],
    )
    .await;
    let before = states(&s, &t1).await;
    let sum = total(state(&before, "keep")) + total(state(&before, "dup"));
    assert_eq!(sum, 400 + 450);

    let op = Uuid::now_v7();
    let (st, body) = merge(&s, &owner, &merge_body(op, "keep", "dup")).await;
    assert_eq!(st, 200, "{body}");
    let r: MergeResponse = serde_json::from_value(body).unwrap();
    assert!(!r.already_applied);
    assert_eq!((r.points_moved, r.survivor_points), (450, 850));
    assert_eq!(r.cards_moved, ["2700000000002"]);

    let after = states(&s, &t1).await;
    let (keep, dup) = (state(&after, "keep"), state(&after, "dup"));
    assert_eq!(total(keep), sum, "not a point lost or made");
    assert_eq!(dup.merged_into.as_deref(), Some("keep"));
    assert!(dup.book.lots.is_empty() && dup.cards.is_empty());
    assert_eq!(keep.gseq, dup.gseq, "one fact changed both");
    assert_eq!(
        (keep.book.lifetime_spend, keep.book.lifetime_purchases),
        (14_000, 2)
    );
    let mut cards: Vec<&str> = keep.cards.iter().map(|c| c.number.as_str()).collect();
    cards.sort();
    assert_eq!(cards, ["2700000000001", "2700000000002"]);
    // The same person counts once among the members (and on trigger lists).
    let stat = |uid: &str, col: &str| {
        let sql = format!("SELECT {col} FROM customer_stats WHERE account_uid = '{uid}'");
        let s = &s;
        async move { scalar(s, &sql, vec![]).await }
    };
    assert_eq!(stat("dup", "COUNT(*)").await, 0);
    assert_eq!(
        (
            stat("keep", "purchases").await,
            stat("keep", "net_spend").await
        ),
        (2, 14_000)
    );
    assert_eq!(stat("keep", "outstanding").await, sum);
    let tea = keep
        .categories
        .iter()
        .find(|c| c.category == "tea")
        .unwrap();
    assert_eq!(
        (tea.purchases, tea.amount),
        (2, 14_000),
        "categories merged"
    );
    assert!(dup.categories.is_empty());
    assert!(keep.merged_into.is_none());

    // The members export leaves the merged duplicate out (the survivor has its card).
    let (st, csv) = get_as(&s, Some(&owner), "/api/v1/members/export").await;
    assert_eq!(st, 200, "{csv}");
    assert_eq!(
        csv.lines().count(),
        1 + 1,
        "a header and the survivor: {csv}"
    );
    assert!(csv.contains("2700000000002"), "{csv}");

    // The corner till was offline: it recorded a sale on `dup` and a return of dup's sale,
    // and a new member referred by `dup`, before it heard of the merge.
    let mut referred = sale("new", "2700000000003", 1_000, 0, 10);
    if let Fact::Sale { referrer, .. } = &mut referred {
        *referrer = Some(("dup".into(), 70));
    }
    let late = [
        env(4, sale("dup", "2700000000002", 2_000, 0, 100)),
        env(
            5,
            Fact::Return {
                receipt_no: "RET-1".into(),
                sale_op_id: dup_sale_op,
                account_uid: "dup".into(),
                amount: 10_000,
                refund: 10_000,
                earned_taken: 500,
                spent_restored: 0,
                expiry_months: None,
                spend_returned: 10_000,
                fully_returned: true,
            },
        ),
        env(6, enrol("new", "2700000000003", 0)),
        env(7, referred),
    ];
    let up = s.upload(&t2, &late).await;
    assert_eq!(up["applied_upto"], 7, "{up}");
    assert_eq!(up["conflicts"], json!([]), "{up}");
    let after = states(&s, &t1).await;
    let (keep, dup) = (state(&after, "keep"), state(&after, "dup"));
    assert_eq!(total(keep), sum + 100 - 500 + 70);
    assert!(
        dup.book.lots.is_empty() && total(dup) == 0,
        "nothing lands on the duplicate"
    );
    assert_eq!(
        (keep.book.lifetime_spend, keep.book.lifetime_purchases),
        (14_000 + 2_000 - 10_000, 2)
    );
    // The owner's figures follow the facts as applied, to the survivor.
    assert_eq!(
        (
            stat("keep", "purchases").await,
            stat("keep", "net_spend").await,
            stat("keep", "outstanding").await
        ),
        (2, 14_000 + 2_000 - 10_000, total(keep))
    );

    // The same request again: answered, nothing done twice.
    let (st, body) = merge(&s, &owner, &merge_body(op, "keep", "dup")).await;
    assert_eq!(st, 200, "{body}");
    let again: MergeResponse = serde_json::from_value(body).unwrap();
    assert!(again.already_applied);
    assert_eq!(again.gseq, r.gseq);
    assert_eq!(again.survivor_points, total(keep));
    // A new merge of the merged account is refused; the op id of another merge too.
    refused(
        &s,
        &owner,
        merge_body(Uuid::now_v7(), "new", "dup"),
        409,
        "ALREADY_MERGED",
    )
    .await;
    refused(
        &s,
        &owner,
        merge_body(op, "new", "keep"),
        409,
        "OP_CONFLICT",
    )
    .await;
    // Merging the survivor later into a third account follows the chain.
    let (st, body) = merge(&s, &owner, &merge_body(Uuid::now_v7(), "new", "keep")).await;
    assert_eq!(st, 200, "{body}");
    let up = s.upload(&t2, &[env(8, adjust("dup", 5))]).await;
    assert_eq!(up["conflicts"], json!([]), "{up}");
    let after = states(&s, &t1).await;
    let new = state(&after, "new");
    assert_eq!(new.cards.len(), 3);
    assert_eq!(total(new), sum + 100 - 500 + 70 + 10 + 5);
    s.stop().await;
}

async fn merge_requests_are_checked(db: Db) {
    let s = start(db).await;
    let owner = owner_token(&s).await;
    let till = s.till("Main").await;
    s.upload(
        &till,
        &[
            env(1, enrol("a", "2700000000001", 10)),
            env(2, enrol("b", "2700000000002", 20)),
        ],
    )
    .await;
    refused(
        &s,
        &owner,
        merge_body(Uuid::now_v7(), "a", "a"),
        400,
        "INVALID_MERGE",
    )
    .await;
    refused(
        &s,
        &owner,
        merge_body(Uuid::now_v7(), "a", "nobody"),
        404,
        "ACCOUNT_NOT_FOUND",
    )
    .await;
    refused(
        &s,
        &owner,
        merge_body(Uuid::now_v7(), "nobody", "b"),
        404,
        "ACCOUNT_NOT_FOUND",
    )
    .await;
    let mut blank = merge_body(Uuid::now_v7(), "a", "b");
    blank["reason"] = json!(" ");
    refused(&s, &owner, blank, 400, "INVALID_MERGE").await;
    let mut extra = merge_body(Uuid::now_v7(), "a", "b");
    extra["points"] = json!(1_000_000);
    let (st, _) = merge(&s, &owner, &extra).await;
    assert_eq!(st, 400, "unknown fields are refused");
    // Without the owner token: 401, nothing merged.
    let (st, _) = s
        .post(
            &till,
            "/api/v1/accounts/merge",
            &merge_body(Uuid::now_v7(), "a", "b"),
        )
        .await;
    assert_eq!(st, 401);
    // A till cannot upload a merge fact: a conflict, nothing merged.
    let up = s
        .upload(
            &till,
            &[env(
                3,
                Fact::Merge {
                    account_uid: "a".into(),
                    duplicate_uid: "b".into(),
                    reason: "r".into(),
                    author: "till".into(),
                },
            )],
        )
        .await;
    assert_eq!(up["conflicts"][0]["code"], "FACT_NOT_ALLOWED", "{up}");
    let all = states(&s, &till).await;
    assert!(all.iter().all(|a| a.merged_into.is_none()));
    assert_eq!((total(state(&all, "a")), total(state(&all, "b"))), (10, 20));
    s.stop().await;
}
