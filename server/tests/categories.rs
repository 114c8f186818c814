//! Personal offers' data: the per-customer category summary (`customer_categories`,
//! migration 0004) maintained at ingest, carried by `changes` and `snapshot` pages as
//! `AccountState.categories`, and backfilled on a database that applied sales before the
//! migration. On every backend.

mod owner_support;
mod support;

use chrono::Duration;
use loyalty_domain::{BasketLine, Fact};
use loyalty_wire::{AccountState, CategoryStat, ChangesResponse, SnapshotPage};
use owner_support::*;
use support::*;

backend_tests!(
    categories_are_summed_at_ingest_and_reach_tills,
    categories_are_backfilled_from_the_events,
);

fn line(category: Option<&str>, amount: i64) -> BasketLine {
    BasketLine {
        sku: "SKU".into(),
        category: category.map(str::to_string),
        qty: 1,
        amount,
    }
}

/// A sale of `acc-1` with these lines.
fn sale_of(lines: Vec<BasketLine>) -> Fact {
    let total: i64 = lines.iter().map(|l| l.amount).sum();
    let mut f = sale("acc-1", "2700000000001", total, 0, 0);
    if let Fact::Sale { lines: l, earn, .. } = &mut f {
        *l = lines;
        earn.clear();
    }
    f
}

fn stat(s: &AccountState, category: &str) -> CategoryStat {
    s.categories
        .iter()
        .find(|c| c.category == category)
        .unwrap_or_else(|| panic!("no {category} in {:?}", s.categories))
        .clone()
}

/// The events: `acc-1` buys coffee 3 times (one sale with two coffee lines), tea once,
/// a whole sale of it is returned; `acc-2` buys nothing with a category.
fn events() -> Vec<loyalty_wire::EventEnvelope> {
    let mut facts = vec![
        enrol("acc-1", "2700000000001", 0),
        enrol("acc-2", "2700000000002", 0),
        sale_of(vec![line(Some("coffee"), 300), line(Some("cakes"), 250)]),
        sale_of(vec![line(Some("coffee"), 300), line(Some(" coffee "), 200)]),
        sale_of(vec![
            line(Some("tea"), 150),
            line(None, 100),
            line(Some(""), 50),
        ]),
        sale("acc-2", "2700000000002", 1000, 0, 0),
    ];
    // Nine more categories, once each (the summary carries the top 8).
    for i in 0..9 {
        facts.push(sale_of(vec![line(Some(&format!("misc-{i}")), 10)]));
    }
    let mut out: Vec<_> = facts
        .into_iter()
        .enumerate()
        .map(|(i, f)| env(i as i64 + 1, f))
        .collect();
    // The third coffee sale was made earlier (an offline till's clock): last_at keeps
    // the latest one.
    let mut early = sale_of(vec![line(Some("coffee"), 400)]);
    if let Fact::Sale { receipt_no, .. } = &mut early {
        *receipt_no = "EARLY".into();
    }
    let mut e = env(out.len() as i64 + 1, early);
    e.recorded_at = t0() - Duration::days(30);
    out.push(e);
    // A whole return of the tea sale: the summary does not change.
    let tea_op = out[4].op_id.to_string();
    out.push(env(
        out.len() as i64 + 1,
        Fact::Return {
            receipt_no: "RET".into(),
            sale_op_id: tea_op,
            account_uid: "acc-1".into(),
            amount: 300,
            refund: 300,
            earned_taken: 0,
            spent_restored: 0,
            expiry_months: None,
            spend_returned: 300,
            fully_returned: true,
        },
    ));
    out
}

fn check(acc1: &AccountState, acc2: &AccountState) {
    assert_eq!(acc1.categories.len(), loyalty_wire::MAX_CATEGORIES);
    let coffee = stat(acc1, "coffee");
    assert_eq!(
        (coffee.purchases, coffee.amount),
        (3, 300 + 300 + 200 + 400),
        "one purchase per sale, every coffee line's amount"
    );
    assert_eq!(
        coffee.last_at,
        t0() + Duration::minutes(4),
        "the latest sale"
    );
    assert_eq!(
        acc1.categories[0].category, "coffee",
        "most purchases first"
    );
    let tea = stat(acc1, "tea");
    assert_eq!(
        (tea.purchases, tea.amount),
        (1, 150),
        "a return changes nothing"
    );
    assert_eq!(stat(acc1, "cakes").purchases, 1);
    assert!(
        acc1.categories
            .iter()
            .all(|c| !c.category.trim().is_empty()),
        "lines without a category are not counted"
    );
    assert!(acc2.categories.is_empty(), "{:?}", acc2.categories);
}

async fn states(s: &TestServer, till: &Till) -> (Vec<AccountState>, Vec<AccountState>) {
    let (st, changes) = s.get(till, "/api/v1/changes?since=0&limit=1000").await;
    assert_eq!(st, 200, "{changes}");
    let changes: ChangesResponse = serde_json::from_value(changes).unwrap();
    let (st, page) = s.get(till, "/api/v1/snapshot?limit=1000").await;
    assert_eq!(st, 200, "{page}");
    let page: SnapshotPage = serde_json::from_value(page).unwrap();
    let mut a = changes.accounts;
    a.sort_by(|x, y| x.account_uid.cmp(&y.account_uid));
    (a, page.accounts)
}

async fn categories_are_summed_at_ingest_and_reach_tills(db: Db) {
    let s = start(db).await;
    let till = s.till("Main").await;
    s.upload(&till, &events()).await;
    let (changes, snapshot) = states(&s, &till).await;
    assert_eq!(changes.len(), 2);
    check(&changes[0], &changes[1]);
    assert_eq!(snapshot, changes, "a snapshot page carries the same states");
    assert_eq!(
        scalar(
            &s,
            "SELECT COUNT(*) FROM customer_categories WHERE account_uid = 'acc-1'",
            vec![]
        )
        .await,
        3 + 9,
        "every category is kept, the top 8 are sent"
    );
    s.stop().await;
}

async fn categories_are_backfilled_from_the_events(db: Db) {
    let s = start(db).await;
    let till = s.till("Main").await;
    s.upload(&till, &events()).await;
    let (before, _) = states(&s, &till).await;
    // As if migration 0004 had just been applied to a database with these events.
    exec(&s, "DELETE FROM customer_categories").await;
    exec(
        &s,
        "UPDATE analytics_state SET value = 0 WHERE name = 'categories_backfilled'",
    )
    .await;
    let (emptied, _) = states(&s, &till).await;
    assert!(emptied.iter().all(|a| a.categories.is_empty()));
    let b = loyalty_server::backend::open(&s.db_url).await.unwrap();
    b.migrate().await.unwrap();
    b.migrate().await.unwrap();
    drop(b);
    let (after, _) = states(&s, &till).await;
    assert_eq!(after, before, "the same summary, once");
    check(&after[0], &after[1]);
    s.stop().await;
}
