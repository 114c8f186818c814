//! Model-based property tests of the till's points ledger.
//!
//! Random operation sequences (enrolments with referrers and family cards, checkouts with
//! random baskets and valid/invalid spends, partial/full/over returns, owner adjustments,
//! card block + reissue, expiry sweeps, time travel, replays and conflicting re-uses of
//! earlier op ids) run against a real [`Store`] on a temporary SQLite file AND against a
//! small in-memory model of lots / FIFO / holds / expiry / shortfall written here. The model
//! uses `loyalty_domain::quote` only for what a check earns (the rules engine is tested in
//! its own crate); everything about balances and lots is modelled independently.
//!
//! After every step: balances (available, pending, shortfall, expiring soon, next expiry)
//! equal the model; open lots grouped by (earned, available, expires) equal the model (this
//! pins FIFO spending and expiry); `Σ ledger = Σ lots.remaining − shortfall` per account
//! (`check_invariants` and our own SQL) and equals the model's ledger sum; the outbox is
//! `1..=n` with exactly one event per successful, non-replayed operation (none for the
//! local expiry sweep, which is not a fact), in order; failed operations and replays leave
//! every table byte-for-byte unchanged.
//!
//! `PROPTEST_CASES` overrides the default case count (64).

mod support_model;

use proptest::prelude::*;
use support_model::{run_case, Op, RetPick, SpendPick};

fn spend_pick() -> impl Strategy<Value = SpendPick> {
    prop_oneof![
        4 => Just(SpendPick::Zero),
        4 => (1u8..=100).prop_map(SpendPick::Frac),
        5 => Just(SpendPick::Max),
        1 => (1i64..50).prop_map(SpendPick::OverCap),
        1 => (1i64..50).prop_map(SpendPick::OverAvailable),
        1 => Just(SpendPick::Negative),
    ]
}

fn ret_pick() -> impl Strategy<Value = RetPick> {
    prop_oneof![
        3 => Just(RetPick::All),
        4 => (1u8..=130).prop_map(RetPick::Pct),
        1 => Just(RetPick::Zero),
        4 => (any::<u8>(), 1i64..=4).prop_map(|(line, qty)| RetPick::Line { line, qty }),
        1 => Just(RetPick::Unknown),
    ]
}

fn basket() -> impl Strategy<Value = Vec<(u8, i64, i64)>> {
    proptest::collection::vec(
        (
            0u8..4,
            1i64..=4,
            prop_oneof![1 => Just(0i64), 40 => 100i64..60_000],
        ),
        1..=4,
    )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (proptest::option::of(0u8..6), proptest::option::weighted(0.4, any::<u16>()))
            .prop_map(|(phone, referrer)| Op::Enrol { phone, referrer }),
        1 => any::<u16>().prop_map(|account| Op::FamilyCard { account }),
        9 => (any::<u16>(), basket(), spend_pick(), proptest::option::weighted(0.05, any::<u16>()))
            .prop_map(|(card, lines, spend, dup_receipt)| Op::Checkout { card, lines, spend, dup_receipt }),
        6 => (any::<u16>(), ret_pick()).prop_map(|(sale, what)| Op::Return { sale, what }),
        2 => (any::<u16>(), basket(), spend_pick())
            .prop_map(|(card, lines, spend)| Op::SaleAndFullReturn { card, lines, spend }),
        2 => (any::<u16>(), prop_oneof![3 => 1i64..300, 3 => -300i64..0, 1 => Just(0i64)])
            .prop_map(|(account, points)| Op::Adjust { account, points }),
        1 => any::<u16>().prop_map(|card| Op::Reissue { card }),
        2 => (any::<u16>(), basket(), 1u8..=100)
            .prop_map(|(card, lines, pct)| Op::Shortfall { card, lines, pct }),
        2 => Just(Op::Expire),
        7 => prop_oneof![
            5 => 1i64..48,
            4 => (1i64..12).prop_map(|d| d * 24),
            1 => (10i64..40).prop_map(|d| d * 24),
        ].prop_map(Op::Advance),
        3 => (any::<u16>(), any::<bool>()).prop_map(|(idx, conflict)| Op::Replay { idx, conflict }),
    ]
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_shrink_iters: 2_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn store_matches_model(ops in proptest::collection::vec(op(), 5..=40)) {
        run_case(&ops);
    }
}

/// The moment the expiry sweep runs must not change what a customer ends up with. Two
/// customers do exactly the same (a sale whose points expire unspent, a later credit, then a
/// full return of the sale after the expiry); for one the sweep runs before the return, for
/// the other after it. Both must end with the same balance: points that already expired are
/// not taken back a second time (regression: the sweep-first customer used to lose them twice).
#[test]
fn return_after_expiry_does_not_depend_on_when_the_sweep_ran() {
    use chrono::Duration;
    use loyalty_domain::Basket;
    use loyalty_store::{CheckoutRequest, NewCustomer, ReturnItems, ReturnRequest, Store};
    use uuid::Uuid;

    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = Store::open(dir.path().join("till.db"), support_model::options()).expect("open");
    let t0 = support_model::t0();
    s.set_program(&support_model::program(), t0)
        .expect("program");
    let mut customer = |name: &str| {
        let e = s
            .enrol(
                Uuid::now_v7(),
                NewCustomer {
                    name: name.into(),
                    ..NewCustomer::default()
                },
                t0,
            )
            .expect("enrol");
        let sale = s
            .checkout(
                Uuid::now_v7(),
                CheckoutRequest {
                    card: e.card.clone(),
                    basket: Basket::single(100_000),
                    spend: 0,
                    receipt: None,
                },
                t0,
            )
            .expect("sale");
        assert!(sale.earned > 0);
        s.adjust(
            Uuid::now_v7(),
            e.account_id,
            1_000,
            "goodwill",
            "owner",
            t0 + Duration::days(20),
        )
        .expect("credit");
        (e.account_id, sale.receipt_no)
    };
    let (swept_first, receipt_a) = customer("Swept first");
    let (returned_first, receipt_b) = customer("Returned first");
    let later = t0 + Duration::days(40); // the sale's lots expired at t0 + 1 month
    let full = |receipt_no: String| ReturnRequest {
        receipt_no,
        items: ReturnItems::All,
    };
    s.return_sale(Uuid::now_v7(), full(receipt_b), later)
        .expect("return b");
    s.expire(Uuid::now_v7(), later).expect("sweep");
    s.return_sale(Uuid::now_v7(), full(receipt_a), later)
        .expect("return a");
    let a = s.balance(swept_first, later).expect("balance");
    let b = s.balance(returned_first, later).expect("balance");
    assert_eq!(
        (a.available, a.pending, a.shortfall),
        (b.available, b.pending, b.shortfall),
        "same history, different balances depending on when the sweep ran"
    );
}
