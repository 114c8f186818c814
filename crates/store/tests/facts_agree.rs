//! The outbox facts, applied in order to fresh pure `AccountBook`s (one per account uid,
//! `credit_referral` for a sale's referrer, `expire` where the till swept), reproduce EXACTLY
//! the store's SQL state of every account after every operation: each lot (book lot id,
//! kind, times, original, remaining), shortfall and counters, and the balance (available,
//! pending, shortfall) at several times. This pins that the pure book the server uses and
//! the till's SQL ledger agree.

mod support_sync;

use chrono::{DateTime, Duration, Utc};
use loyalty_domain::{Basket, BasketLine, Fact};
use loyalty_store::{CheckoutRequest, NewCustomer, ReturnItems, ReturnLine, ReturnRequest, Store};
use support_sync::{assert_store_matches_books, open, replay, t, t0, Sweep};
use uuid::Uuid;

struct Run {
    _dir: tempfile::TempDir,
    s: Store,
    sweeps: Vec<Sweep>,
    now: DateTime<Utc>,
    step: usize,
}

impl Run {
    fn new() -> Run {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = open(&dir.path().join("till.db"), "T01");
        Run {
            _dir: dir,
            s,
            sweeps: Vec::new(),
            now: t0(),
            step: 0,
        }
    }

    fn check(&mut self, what: &str) {
        self.step += 1;
        let books = replay(&self.s, &self.sweeps);
        let ctx = format!("step {} {what} at {}", self.step, self.now);
        assert_store_matches_books(&self.s, &books, self.now, &ctx);
    }

    fn enrol(&mut self, name: &str, phone: &str, referrer: Option<&str>) -> (i64, String) {
        let e = self
            .s
            .enrol(
                Uuid::now_v7(),
                NewCustomer {
                    name: name.into(),
                    phone: Some(phone.into()),
                    referrer: referrer.map(str::to_string),
                    ..NewCustomer::default()
                },
                self.now,
            )
            .expect("enrol");
        self.check("enrol");
        (e.account_id, e.card)
    }

    fn sale(&mut self, card: &str, lines: &[(&str, i64, i64)], spend: i64) -> String {
        let basket = Basket {
            lines: lines
                .iter()
                .map(|(sku, qty, amount)| BasketLine {
                    sku: sku.to_string(),
                    category: None,
                    qty: *qty,
                    amount: *amount,
                })
                .collect(),
        };
        let r = self
            .s
            .checkout(
                Uuid::now_v7(),
                CheckoutRequest {
                    card: card.into(),
                    basket,
                    spend,
                    receipt: None,
                },
                self.now,
            )
            .expect("checkout");
        self.check("sale");
        r.receipt_no
    }

    fn ret(&mut self, receipt: &str, items: ReturnItems) {
        let req = ReturnRequest {
            receipt_no: receipt.into(),
            items,
        };
        self.s
            .return_sale(Uuid::now_v7(), req, self.now)
            .expect("return");
        self.check("return");
    }

    fn sweep(&mut self) {
        self.s.expire(Uuid::now_v7(), self.now).expect("expire");
        let after_seq = self.s.outbox_last_seq().expect("seq");
        self.sweeps.push(Sweep {
            after_seq,
            at: self.now,
        });
        self.check("sweep");
    }

    fn at(&mut self, day: i64) {
        self.now = t(day);
    }
}

#[test]
fn every_operation_as_facts_reproduces_the_sql_ledger() {
    let mut r = Run::new();
    let (a, card_a) = r.enrol("Anna", "+79160000001", None);
    let (b, card_b) = r.enrol("Boris", "+79160000002", Some(&card_a));
    let (c, card_c) = r.enrol("Clara", "+79160000003", None);
    // Boris's first purchase: his earnings and the referral for Anna, both on hold.
    r.at(1);
    let rb = r.sale(&card_b, &[("A", 2, 40_000), ("B", 1, 20_000)], 0);
    r.sale(&card_c, &[("X", 1, 10_000)], 0);
    // Anna spends her welcome points.
    r.at(9);
    r.sale(&card_a, &[("X", 1, 100_000)], 100);
    // Boris returns one A partly, then spends, then returns everything else.
    r.at(10);
    r.ret(
        &rb,
        ReturnItems::Lines(vec![ReturnLine {
            sku: "A".into(),
            qty: 1,
        }]),
    );
    let avail_b = r.s.balance(b, r.now).expect("balance").available;
    r.sale(&card_b, &[("X", 1, 100_000)], avail_b.min(300));
    r.ret(&rb, ReturnItems::All);
    // Clara spends everything, then returns the sale that earned it: shortfall.
    r.at(11);
    let rc2 = r.sale(&card_c, &[("X", 1, 100_000)], 0);
    r.at(19);
    let avail = r.s.balance(c, r.now).expect("balance").available;
    assert!(avail > 0);
    r.s.adjust(Uuid::now_v7(), c, -avail, "spent elsewhere", "owner", r.now)
        .expect("debit all");
    r.check("adjust all");
    r.ret(&rc2, ReturnItems::Amount(60_000));
    assert!(
        r.s.balance(c, r.now).expect("balance").shortfall > 0,
        "a shortfall"
    );
    // The next earnings settle it; owner adjustments both ways.
    let rc3 = r.sale(&card_c, &[("X", 1, 200_000)], 0);
    r.sale(&card_c, &[("X", 1, 50_000)], 0);
    r.s.adjust(Uuid::now_v7(), a, 250, "goodwill", "owner", r.now)
        .expect("credit");
    r.check("adjust +");
    r.s.adjust(Uuid::now_v7(), a, -40, "correction", "owner", r.now)
        .expect("debit");
    r.check("adjust -");
    // Cards do not touch points.
    r.s.add_family_card(Uuid::now_v7(), c, r.now)
        .expect("family");
    r.check("family card");
    let card_c2 =
        r.s.block_card_and_reissue(Uuid::now_v7(), &card_c, r.now)
            .expect("reissue");
    r.check("reissue");
    // Time passes: lots expire; the sweep zeroes them locally (the books expire too).
    r.at(45);
    r.sweep();
    r.sale(&card_c2, &[("X", 1, 30_000)], 0);
    r.at(50);
    r.ret(&rc3, ReturnItems::All);
    r.at(80);
    r.sale(&card_a, &[("X", 1, 12_345)], 0);
    r.at(120);
    r.sweep();
    // Every fact kind went through the outbox; the sweeps did not.
    let kinds: std::collections::BTreeSet<String> =
        r.s.outbox_after(0, u32::MAX)
            .expect("outbox")
            .iter()
            .map(|e| {
                serde_json::from_value::<Fact>(e.payload.clone())
                    .expect("fact")
                    .kind()
                    .to_string()
            })
            .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        [
            "adjust",
            "card_block",
            "enrol",
            "family_card",
            "return",
            "sale"
        ]
    );
}

/// xorshift64*: deterministic pseudo-random numbers for the random walks.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[test]
fn random_walks_of_operations_agree_with_the_books() {
    for seed in 1..=12u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut r = Run::new();
        let mut cards: Vec<(i64, String)> = Vec::new();
        let mut receipts: Vec<String> = Vec::new();
        for i in 0..45 {
            r.now += Duration::hours(i64::try_from(rng.below(24 * 9)).unwrap_or(0));
            match rng.below(10) {
                0 | 1 if cards.len() < 5 => {
                    let referrer = (!cards.is_empty() && rng.below(2) == 0)
                        .then(|| cards[rng.below(cards.len() as u64) as usize].1.clone());
                    let phone = format!("+7916{seed:03}{i:04}");
                    cards.push(r.enrol(&format!("C{seed}-{i}"), &phone, referrer.as_deref()));
                }
                0..=4 if !cards.is_empty() => {
                    let (acc, card) = cards[rng.below(cards.len() as u64) as usize].clone();
                    let amount = 1_000 + i64::try_from(rng.below(150_000)).unwrap_or(0);
                    let basket = Basket::single(amount);
                    let q = r.s.quote(&card, &basket, 0, r.now).expect("quote");
                    let spend = if rng.below(2) == 0 {
                        0
                    } else {
                        i64::try_from(rng.below(u64::try_from(q.max_redeemable).unwrap_or(0) + 1))
                            .unwrap_or(0)
                    };
                    let _ = acc;
                    receipts.push(r.sale(&card, &[("X", 1, amount)], spend));
                }
                5 | 6 if !receipts.is_empty() => {
                    let rc = receipts[rng.below(receipts.len() as u64) as usize].clone();
                    let items = if rng.below(2) == 0 {
                        ReturnItems::All
                    } else {
                        ReturnItems::Amount(1 + i64::try_from(rng.below(40_000)).unwrap_or(0))
                    };
                    let req = ReturnRequest {
                        receipt_no: rc,
                        items,
                    };
                    // Over-returns are refused (and change nothing); the rest must agree.
                    if r.s.return_sale(Uuid::now_v7(), req, r.now).is_ok() {
                        r.check("return");
                    }
                }
                7 if !cards.is_empty() => {
                    let (acc, _) = cards[rng.below(cards.len() as u64) as usize].clone();
                    let avail = r.s.balance(acc, r.now).expect("balance").available;
                    let pts = if avail > 0 && rng.below(2) == 0 {
                        -(1 + i64::try_from(rng.below(u64::try_from(avail).unwrap_or(1)))
                            .unwrap_or(0))
                    } else {
                        1 + i64::try_from(rng.below(500)).unwrap_or(0)
                    };
                    r.s.adjust(Uuid::now_v7(), acc, pts, "random", "owner", r.now)
                        .expect("adjust");
                    r.check("adjust");
                }
                8 => r.sweep(),
                _ => {}
            }
        }
    }
}
