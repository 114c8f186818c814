//! Harness of `tests/model.rs`: operations, the store ↔ model driver and the checks.

mod model;

use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};
use loyalty_domain::{
    quote, Basket, BasketLine, EarnKind, ProgramConfig, ReferralRule, StampRule, ThresholdGift,
    TierWindow,
};
use loyalty_store::{
    Adjusted, CheckoutRequest, Enrolled, NewCustomer, Receipt, ReturnItems, ReturnLine,
    ReturnReceipt, ReturnRequest, Store, StoreError, StoreOptions, EXPIRING_SOON_DAYS,
};
use uuid::Uuid;

use model::{share, MAccount, MCard, MLine, MSale, Model, Ts};

/// How a checkout picks its spend (resolved against the model's quote at run time).
#[derive(Clone, Debug)]
pub enum SpendPick {
    Zero,
    /// Percent of the maximum redeemable.
    Frac(u8),
    Max,
    OverCap(i64),
    OverAvailable(i64),
    Negative,
}

/// What a return asks for.
#[derive(Clone, Debug)]
pub enum RetPick {
    All,
    /// Percent of the sale's subtotal (over 100 = an over-return).
    Pct(u8),
    Zero,
    Line {
        line: u8,
        qty: i64,
    },
    Unknown,
}

/// A generated step. Indices pick among what exists at run time (modulo; one past the end
/// = something unknown).
#[derive(Clone, Debug)]
pub enum Op {
    Enrol {
        phone: Option<u8>,
        referrer: Option<u16>,
    },
    FamilyCard {
        account: u16,
    },
    Checkout {
        card: u16,
        lines: Vec<(u8, i64, i64)>,
        spend: SpendPick,
        dup_receipt: Option<u16>,
    },
    Return {
        sale: u16,
        what: RetPick,
    },
    SaleAndFullReturn {
        card: u16,
        lines: Vec<(u8, i64, i64)>,
        spend: SpendPick,
    },
    Adjust {
        account: u16,
        points: i64,
    },
    Reissue {
        card: u16,
    },
    /// Sale A; hold passes; sale B spends the maximum; A is returned (`pct` of it, 100 =
    /// all): the earned points of A are gone, so the return creates a shortfall that the
    /// next earnings (sale C) settle.
    Shortfall {
        card: u16,
        lines: Vec<(u8, i64, i64)>,
        pct: u8,
    },
    Expire,
    /// Hours.
    Advance(i64),
    Replay {
        idx: u16,
        conflict: bool,
    },
}

/// One store call.
#[derive(Clone, Debug)]
enum Call {
    Enrol(NewCustomer),
    Checkout(CheckoutRequest),
    Return(ReturnRequest),
    Adjust { account: i64, points: i64 },
    Reissue(String),
    Family(i64),
    Expire,
}

impl Call {
    fn kind(&self) -> &'static str {
        match self {
            Call::Enrol(_) => "enrol",
            Call::Checkout(_) => "sale",
            Call::Return(_) => "return",
            Call::Adjust { .. } => "adjust",
            Call::Reissue(_) => "reissue",
            Call::Family(_) => "family_card",
            Call::Expire => "expire",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Res {
    Enrolled(Enrolled),
    Receipt(Receipt),
    Returned(ReturnReceipt),
    Adjusted(Adjusted),
    Card(String),
    Expired(i64),
}

fn exec(s: &mut Store, op: Uuid, call: &Call, now: Ts) -> Result<Res, StoreError> {
    Ok(match call {
        Call::Enrol(c) => Res::Enrolled(s.enrol(op, c.clone(), now)?),
        Call::Checkout(r) => Res::Receipt(s.checkout(op, r.clone(), now)?),
        Call::Return(r) => Res::Returned(s.return_sale(op, r.clone(), now)?),
        Call::Adjust { account, points } => {
            Res::Adjusted(s.adjust(op, *account, *points, "model correction", "owner", now)?)
        }
        Call::Reissue(c) => Res::Card(s.block_card_and_reissue(op, c, now)?),
        Call::Family(a) => Res::Card(s.add_family_card(op, *a, now)?),
        Call::Expire => Res::Expired(s.expire(op, now)?),
    })
}

pub fn t0() -> Ts {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0)
        .single()
        .expect("t0")
}

/// The program under test: short hold and expiry so that both happen within a sequence.
pub fn program() -> ProgramConfig {
    let base = ProgramConfig::default();
    ProgramConfig {
        version: 7,
        effective_from: t0() - Duration::days(1),
        welcome_bonus: 10,
        hold_days: 2,
        expiry_months: Some(1),
        tiers: loyalty_domain::TierRule {
            window: TierWindow::Lifetime,
            ..base.tiers.clone()
        },
        birthday: None,
        referral: Some(ReferralRule {
            referrer_points: 70,
            referee_points: 30,
        }),
        threshold_gift: Some(ThresholdGift {
            min_amount: 80_000,
            bonus_points: 25,
            gift: None,
        }),
        stamps: Some(StampRule {
            every: 3,
            min_amount: 5_000,
            category: None,
            reward_points: 40,
        }),
        ..base
    }
}

/// Every row of every table, as text: equal fingerprints = nothing changed.
pub fn fingerprint(s: &Store) -> String {
    let conn = s.connection();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("tables")
        .query_map([], |r| r.get(0))
        .expect("tables")
        .map(|r| r.expect("table"))
        .collect();
    let mut out = String::new();
    for table in tables {
        out.push_str(&format!("## {table}\n"));
        let mut st = conn
            .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY 1"))
            .expect("select");
        let n = st.column_count();
        let mut rows = st.query([]).expect("rows");
        while let Some(row) = rows.next().expect("row") {
            for i in 0..n {
                let v: rusqlite::types::Value = row.get(i).expect("value");
                out.push_str(&format!("{v:?}|"));
            }
            out.push('\n');
        }
    }
    out
}

/// (id, shortfall, Σ ledger, Σ lots, lifetime spend, purchases, stamps, referral pending).
type AccountRow = (i64, i64, i64, i64, i64, i64, i64, bool);

struct DoneOp {
    op: Uuid,
    call: Call,
    res: Res,
}

struct Harness {
    _dir: tempfile::TempDir,
    store: Store,
    model: Model,
    now: Ts,
    done: Vec<DoneOp>,
    /// (op id, kind) of every event the outbox must hold, in order.
    events: Vec<(String, &'static str)>,
    trace: Vec<String>,
    /// Outcome counts ("sale ok", "return RETURN_EXCEEDS_SALE", ...) for LOYALTY_MODEL_STATS.
    stats: BTreeMap<String, usize>,
}

fn code(r: &Result<Res, StoreError>) -> Option<&'static str> {
    r.as_ref().err().map(StoreError::code)
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = StoreOptions {
            till_id: "T01".into(),
            store_id: "S1".into(),
            default_region: "RU".into(),
            qr_seed: [3; 32],
        };
        let mut store = Store::open(dir.path().join("till.db"), opts).expect("open");
        let prog = program();
        store.set_program(&prog, t0()).expect("set_program");
        assert_eq!(store.program_at(t0()), &prog, "our program is in force");
        Harness {
            _dir: dir,
            store,
            model: Model::new(prog),
            now: t0(),
            done: Vec::new(),
            events: Vec::new(),
            trace: Vec::new(),
            stats: BTreeMap::new(),
        }
    }

    fn stat(&mut self, key: String) {
        *self.stats.entry(key).or_default() += 1;
    }

    fn ctx(&self) -> String {
        format!(
            "at {} after:\n  {}",
            self.now,
            self.trace[self.trace.len().saturating_sub(12)..].join("\n  ")
        )
    }

    /// Runs one call on the store and the model, then checks everything.
    fn call(&mut self, call: Call) -> Option<Res> {
        let op = Uuid::now_v7();
        let before = fingerprint(&self.store);
        let got = exec(&mut self.store, op, &call, self.now);
        self.trace.push(format!(
            "{call:?} -> {}",
            match &got {
                Ok(r) => format!("{r:?}"),
                Err(e) => format!("ERR {} {e}", e.code()),
            }
        ));
        self.apply(&call, &got);
        self.stat(format!("{} {}", call.kind(), code(&got).unwrap_or("ok")));
        if let Ok(Res::Returned(r)) = &got {
            if r.shortfall_added > 0 {
                self.stat("return with shortfall".into());
            }
        }
        if let Ok(Res::Expired(n)) = &got {
            if *n > 0 {
                self.stat("expire > 0".into());
            }
        }
        if let Ok(Res::Receipt(r)) = &got {
            if r.settled_shortfall > 0 {
                self.stat("sale settling shortfall".into());
            }
            if r.points_spent > 0 {
                self.stat("sale spending points".into());
            }
        }
        let out = match got {
            Ok(res) => {
                self.events.push((op.hyphenated().to_string(), call.kind()));
                self.done.push(DoneOp {
                    op,
                    call,
                    res: res.clone(),
                });
                Some(res)
            }
            Err(_) => {
                assert!(
                    before == fingerprint(&self.store),
                    "a failed operation changed the database {}",
                    self.ctx()
                );
                None
            }
        };
        self.check();
        out
    }

    fn expect_err(&self, got: &Result<Res, StoreError>, want: &str) {
        assert_eq!(code(got), Some(want), "expected {want} {}", self.ctx());
    }

    fn card(&self, number: &str) -> Option<&MCard> {
        self.model.cards.iter().find(|c| c.number == number)
    }

    /// Checks the store's answer against the model and applies the effects to the model.
    fn apply(&mut self, call: &Call, got: &Result<Res, StoreError>) {
        let now = self.now;
        match call {
            Call::Enrol(c) => {
                if let Some(p) = &c.phone {
                    if self.model.phones.contains(p) {
                        return self.expect_err(got, "DUPLICATE_PHONE");
                    }
                }
                let mut referrer_account = None;
                if let Some(r) = &c.referrer {
                    match self.card(r) {
                        None => return self.expect_err(got, "UNKNOWN_CARD"),
                        Some(card) if !card.active => return self.expect_err(got, "CARD_BLOCKED"),
                        Some(card) => referrer_account = Some(card.account),
                    }
                }
                let Ok(Res::Enrolled(e)) = got else {
                    panic!("enrol should succeed: {got:?} {}", self.ctx())
                };
                assert!(!self.model.accounts.contains_key(&e.account_id));
                assert!(self.card(&e.card).is_none(), "card number reused");
                let welcome = self.model.prog.welcome_bonus;
                assert_eq!(e.welcome_points, welcome);
                self.model.accounts.insert(
                    e.account_id,
                    MAccount {
                        referral_pending: referrer_account.is_some(),
                        referrer_account,
                        ..MAccount::default()
                    },
                );
                if welcome > 0 {
                    let exp = self.model.expiry(now);
                    self.model
                        .credit(e.account_id, welcome, now, now, exp, None);
                }
                self.model.cards.push(MCard {
                    number: e.card.clone(),
                    account: e.account_id,
                    active: true,
                });
                self.model.phones.extend(c.phone.clone());
            }
            Call::Checkout(req) => self.apply_checkout(req, got),
            Call::Return(req) => self.apply_return(req, got),
            Call::Adjust { account, points } => {
                if *points == 0 {
                    return self.expect_err(got, "INVALID_INPUT");
                }
                if !self.model.accounts.contains_key(account) {
                    return self.expect_err(got, "UNKNOWN_ACCOUNT");
                }
                let mut settled = 0;
                if *points > 0 {
                    let exp = self.model.expiry(now);
                    settled = self.model.credit(*account, *points, now, now, exp, None);
                } else if -*points > self.model.available(*account, now) {
                    return self.expect_err(got, "INSUFFICIENT_POINTS");
                } else {
                    self.model.debit_fifo(*account, -*points, now);
                }
                let Ok(Res::Adjusted(a)) = got else {
                    panic!("adjust should succeed: {got:?} {}", self.ctx())
                };
                assert_eq!(
                    (a.account_id, a.points, a.settled_shortfall),
                    (*account, *points, settled),
                    "{}",
                    self.ctx()
                );
            }
            Call::Reissue(old) => {
                let account = match self.card(old) {
                    None => return self.expect_err(got, "UNKNOWN_CARD"),
                    Some(c) if !c.active => return self.expect_err(got, "CARD_BLOCKED"),
                    Some(c) => c.account,
                };
                let Ok(Res::Card(new)) = got else {
                    panic!("reissue should succeed: {got:?} {}", self.ctx())
                };
                assert!(self.card(new).is_none(), "card number reused");
                for c in self.model.cards.iter_mut().filter(|c| &c.number == old) {
                    c.active = false;
                }
                self.model.cards.push(MCard {
                    number: new.clone(),
                    account,
                    active: true,
                });
            }
            Call::Family(account) => {
                if !self.model.accounts.contains_key(account) {
                    return self.expect_err(got, "UNKNOWN_ACCOUNT");
                }
                let Ok(Res::Card(new)) = got else {
                    panic!("family card should succeed: {got:?} {}", self.ctx())
                };
                assert!(self.card(new).is_none(), "card number reused");
                self.model.cards.push(MCard {
                    number: new.clone(),
                    account: *account,
                    active: true,
                });
            }
            Call::Expire => {
                let total = self.model.sweep(now);
                assert_eq!(
                    got.as_ref().ok(),
                    Some(&Res::Expired(total)),
                    "expired points {}",
                    self.ctx()
                );
            }
        }
    }

    fn apply_checkout(&mut self, req: &CheckoutRequest, got: &Result<Res, StoreError>) {
        let now = self.now;
        let account = match self.card(&req.card) {
            None => return self.expect_err(got, "UNKNOWN_CARD"),
            Some(c) if !c.active => return self.expect_err(got, "CARD_BLOCKED"),
            Some(c) => c.account,
        };
        let snap = self.model.snapshot(account, now);
        let q = match quote(&snap, &req.basket, &self.model.prog, now, req.spend) {
            Ok(q) => q,
            Err(e) => return self.expect_err(got, e.code()),
        };
        if let Some(r) = &req.receipt {
            if self.model.sales.iter().any(|s| &s.receipt == r) {
                return self.expect_err(got, "DUPLICATE_RECEIPT");
            }
        }
        let Ok(Res::Receipt(r)) = got else {
            panic!("checkout should succeed: {got:?} {}", self.ctx())
        };
        let sale = self.model.sales.len();
        if q.points_spent > 0 {
            self.model.debit_fifo(account, q.points_spent, now);
        }
        let (avail, exp) = (self.model.hold(now), self.model.expiry(now));
        let mut earned = 0;
        let mut settled = 0;
        for item in q.earn.iter().filter(|e| e.points > 0) {
            if item.kind == EarnKind::ReferralReferrer {
                continue;
            }
            earned += item.points;
            settled += self
                .model
                .credit(account, item.points, now, avail, exp, Some(sale));
        }
        let mut referrer_points = 0;
        if q.referrer_points > 0 {
            if let Some(ra) = self.model.accounts[&account].referrer_account {
                referrer_points = q.referrer_points;
                self.model
                    .credit(ra, referrer_points, now, avail, exp, Some(sale));
            }
        }
        let a = self.model.acct(account);
        a.lifetime_spend += q.after_discounts;
        a.purchases += 1;
        a.stamps = q.stamps_after;
        a.referral_pending = false;
        let got_fields = (
            r.account_id,
            r.sold_at,
            r.subtotal,
            r.after_discounts,
            r.points_spent,
            r.to_pay,
            r.earned,
            r.settled_shortfall,
            r.referrer_points,
            r.available_at,
            r.expires_at,
        );
        let want = (
            account,
            now,
            req.basket.total(),
            q.after_discounts,
            req.spend,
            q.to_pay,
            earned,
            settled,
            referrer_points,
            avail,
            exp,
        );
        assert_eq!(got_fields, want, "receipt {}", self.ctx());
        assert_eq!(
            q.earn_total, earned,
            "quote earn_total = Σ customer earn items"
        );
        self.model.sales.push(MSale {
            receipt: r.receipt_no.clone(),
            account,
            subtotal: q.subtotal,
            after_discounts: q.after_discounts,
            to_pay: q.to_pay,
            spent: q.points_spent,
            earned,
            returned: 0,
            lines: req
                .basket
                .lines
                .iter()
                .map(|l| MLine {
                    sku: l.sku.clone(),
                    qty: l.qty,
                    amount: l.amount,
                    returned_qty: 0,
                })
                .collect(),
        });
    }

    fn apply_return(&mut self, req: &ReturnRequest, got: &Result<Res, StoreError>) {
        let now = self.now;
        let Some(idx) = self
            .model
            .sales
            .iter()
            .position(|s| s.receipt == req.receipt_no)
        else {
            return self.expect_err(got, "UNKNOWN_RECEIPT");
        };
        let plan = match self.model.plan_return(&self.model.sales[idx], &req.items) {
            Ok(p) => p,
            Err(c) => return self.expect_err(got, c),
        };
        let Ok(Res::Returned(rr)) = got else {
            panic!("return should succeed: {got:?} {}", self.ctx())
        };
        let s = self.model.sales[idx].clone();
        let (before, after) = (s.returned, s.returned + plan.amount);
        let delta = |x: i64| share(s.subtotal, after, x) - share(s.subtotal, before, x);
        let (earned_back, spent_back) = (delta(s.earned), delta(s.spent));
        let (refund, spend_back) = (delta(s.to_pay), delta(s.after_discounts));
        let full = after == s.subtotal;
        if spent_back > 0 {
            let exp = self.model.expiry(now);
            self.model
                .credit(s.account, spent_back, now, now, exp, Some(idx));
        }
        let (taken, short) = self.model.take_back(s.account, idx, earned_back, now);
        let want = (
            req.receipt_no.as_str(),
            plan.amount,
            refund,
            taken,
            short,
            spent_back,
            full,
        );
        let got_fields = (
            rr.receipt_no.as_str(),
            rr.amount,
            rr.refund,
            rr.earned_taken,
            rr.shortfall_added,
            rr.spent_restored,
            rr.fully_returned,
        );
        assert_eq!(got_fields, want, "return receipt {}", self.ctx());
        let sale = &mut self.model.sales[idx];
        sale.returned = after;
        for (line, qty) in plan.lines {
            sale.lines[line].returned_qty += qty;
        }
        let a = self.model.acct(s.account);
        a.lifetime_spend -= spend_back;
        a.purchases = a.purchases.saturating_sub(u32::from(full));
    }

    /// Every property that must hold between operations.
    fn check(&self) {
        let ctx = || self.ctx();
        let store = &self.store;
        let now = self.now;
        assert_eq!(
            store.check_invariants().expect("check_invariants"),
            Vec::<i64>::new(),
            "{}",
            ctx()
        );
        let conn = store.connection();
        // Per account: Σ ledger = Σ lots.remaining − shortfall, and both equal the model.
        let rows: Vec<AccountRow> = conn
            .prepare(
                "SELECT a.id, a.shortfall,
                        (SELECT COALESCE(SUM(points), 0) FROM ledger WHERE account_id = a.id),
                        (SELECT COALESCE(SUM(remaining), 0) FROM lots WHERE account_id = a.id),
                        a.lifetime_spend, a.lifetime_purchases, a.stamps, a.referral_pending
                 FROM accounts a ORDER BY a.id",
            )
            .expect("prepare")
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            })
            .expect("query")
            .map(|r| r.expect("row"))
            .collect();
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let model_ids: Vec<i64> = self.model.accounts.keys().copied().collect();
        assert_eq!(ids, model_ids, "accounts {}", ctx());
        for (id, shortfall, ledger, lots, spend, purchases, stamps, referral) in rows {
            let m = &self.model.accounts[&id];
            let m_lots: i64 = self
                .model
                .lots
                .iter()
                .filter(|l| l.account == id)
                .map(|l| l.remaining)
                .sum();
            assert_eq!(
                ledger,
                lots - shortfall,
                "ledger invariant of {id} {}",
                ctx()
            );
            assert_eq!(
                (shortfall, ledger, lots),
                (m.shortfall, m.ledger, m_lots),
                "account {id}: (shortfall, Σ ledger, Σ lots) {}",
                ctx()
            );
            assert_eq!(
                (spend, purchases, stamps, referral),
                (
                    m.lifetime_spend,
                    i64::from(m.purchases),
                    i64::from(m.stamps),
                    m.referral_pending
                ),
                "account {id}: (lifetime spend, purchases, stamps, referral pending) {}",
                ctx()
            );
            let b = store.balance(id, now).expect("balance");
            let (soon, next) = self.model.expiring(id, now, EXPIRING_SOON_DAYS);
            let want = (
                self.model.available(id, now),
                self.model.pending(id, now),
                m.shortfall,
                soon,
                next,
            );
            assert_eq!(
                (
                    b.available,
                    b.pending,
                    b.shortfall,
                    b.expiring_soon,
                    b.next_expiry
                ),
                want,
                "balance of account {id} (available, pending, shortfall, expiring soon, next) {}",
                ctx()
            );
            assert!(b.available >= 0 && b.pending >= 0 && b.shortfall >= 0);
        }
        // Open lots by (account, earned, available, expires): pins FIFO and expiry.
        let mut store_lots: BTreeMap<(i64, i64, i64, Option<i64>), i64> = BTreeMap::new();
        let mut st = conn
            .prepare(
                "SELECT account_id, earned_at, available_at, expires_at, SUM(remaining) FROM lots
                 WHERE remaining > 0 GROUP BY 1, 2, 3, 4",
            )
            .expect("prepare");
        for row in st
            .query_map([], |r| {
                Ok((
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?),
                    r.get::<_, i64>(4)?,
                ))
            })
            .expect("query")
        {
            let (k, v) = row.expect("row");
            store_lots.insert(k, v);
        }
        let mut model_lots: BTreeMap<(i64, i64, i64, Option<i64>), i64> = BTreeMap::new();
        for l in self.model.lots.iter().filter(|l| l.remaining > 0) {
            let k = (
                l.account,
                l.earned_at.timestamp_millis(),
                l.available_at.timestamp_millis(),
                l.expires_at.map(|e| e.timestamp_millis()),
            );
            *model_lots.entry(k).or_default() += l.remaining;
        }
        assert_eq!(store_lots, model_lots, "open lots {}", ctx());
        // Sales: what has been returned.
        let returned: BTreeMap<String, i64> = conn
            .prepare("SELECT receipt_no, returned_amount FROM sales")
            .expect("prepare")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .map(|r| r.expect("row"))
            .collect();
        let m_returned: BTreeMap<String, i64> = self
            .model
            .sales
            .iter()
            .map(|s| (s.receipt.clone(), s.returned))
            .collect();
        assert_eq!(returned, m_returned, "sales returned amounts {}", ctx());
        // Outbox: seq 1..=n, one event per successful operation, in order.
        let events = store.outbox_after(0, u32::MAX).expect("outbox");
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        let want_seqs: Vec<i64> = (1..=i64::try_from(self.events.len()).expect("n")).collect();
        assert_eq!(seqs, want_seqs, "outbox seq {}", ctx());
        let got: Vec<(String, &str)> = events
            .iter()
            .map(|e| (e.op_id.clone(), e.kind.as_str()))
            .collect();
        let want: Vec<(String, &str)> = self.events.iter().map(|(o, k)| (o.clone(), *k)).collect();
        assert_eq!(got, want, "outbox events {}", ctx());
        assert_eq!(
            store.outbox_last_seq().expect("last seq"),
            seqs.len() as i64
        );
    }

    fn pick_card(&self, i: u16) -> String {
        // One pick in 16 (or when there is no card yet) is a card nobody has.
        let n = self.model.cards.len();
        if n == 0 || i % 16 == 15 {
            loyalty_cards::card::generate("29999", 4242).expect("unknown card number")
        } else {
            self.model.cards[usize::from(i) % n].number.clone()
        }
    }

    fn pick_account(&self, i: u16) -> i64 {
        // One pick in 16 is an account that does not exist.
        let ids: Vec<i64> = self.model.accounts.keys().copied().collect();
        if ids.is_empty() || i % 16 == 15 {
            return 999_999;
        }
        ids[usize::from(i) % ids.len()]
    }

    fn checkout_call(&self, card: u16, lines: &[(u8, i64, i64)], spend: &SpendPick) -> Call {
        let card = self.pick_card(card);
        let basket = Basket {
            lines: lines
                .iter()
                .map(|(sku, qty, amount)| BasketLine {
                    sku: format!("SKU{sku}"),
                    category: None,
                    qty: *qty,
                    amount: *amount,
                })
                .collect(),
        };
        let (max, available) = match self.card(&card) {
            Some(c) => {
                let snap = self.model.snapshot(c.account, self.now);
                let max = quote(&snap, &basket, &self.model.prog, self.now, 0)
                    .map(|q| q.max_redeemable)
                    .unwrap_or(0);
                (max, snap.available)
            }
            None => (0, 0),
        };
        let spend = match spend {
            SpendPick::Zero => 0,
            SpendPick::Frac(p) => max * i64::from(*p) / 100,
            SpendPick::Max => max,
            SpendPick::OverCap(k) => max + k,
            SpendPick::OverAvailable(k) => available + k,
            SpendPick::Negative => -1,
        };
        Call::Checkout(CheckoutRequest {
            card,
            basket,
            spend,
            receipt: None,
        })
    }

    fn step(&mut self, op: &Op) {
        self.trace.push(format!("# {op:?}"));
        match op {
            Op::Enrol { phone, referrer } => {
                let n = self.model.accounts.len();
                let referrer = referrer.map(|r| self.pick_card(r));
                self.call(Call::Enrol(NewCustomer {
                    name: format!("Customer {n}"),
                    phone: phone.map(|d| format!("+7916100000{d}")),
                    referrer,
                    ..NewCustomer::default()
                }));
            }
            Op::FamilyCard { account } => {
                self.call(Call::Family(self.pick_account(*account)));
            }
            Op::Checkout {
                card,
                lines,
                spend,
                dup_receipt,
            } => {
                let mut call = self.checkout_call(*card, lines, spend);
                if let (Some(i), Call::Checkout(req)) = (dup_receipt, &mut call) {
                    if !self.model.sales.is_empty() {
                        let i = usize::from(*i) % self.model.sales.len();
                        req.receipt = Some(self.model.sales[i].receipt.clone());
                    }
                }
                self.call(call);
            }
            Op::Return { sale, what } => {
                let sale = (!self.model.sales.is_empty())
                    .then(|| &self.model.sales[usize::from(*sale) % self.model.sales.len()]);
                let (receipt_no, items) = match (sale, what) {
                    (None, _) | (_, RetPick::Unknown) => ("NOPE-1".to_string(), ReturnItems::All),
                    (Some(s), RetPick::All) => (s.receipt.clone(), ReturnItems::All),
                    (Some(s), RetPick::Pct(p)) => (
                        s.receipt.clone(),
                        ReturnItems::Amount(s.subtotal * i64::from(*p) / 100),
                    ),
                    (Some(s), RetPick::Zero) => (s.receipt.clone(), ReturnItems::Amount(0)),
                    (Some(s), RetPick::Line { line, qty }) => {
                        let l = &s.lines[usize::from(*line) % s.lines.len()];
                        (
                            s.receipt.clone(),
                            ReturnItems::Lines(vec![ReturnLine {
                                sku: l.sku.clone(),
                                qty: *qty,
                            }]),
                        )
                    }
                };
                self.call(Call::Return(ReturnRequest { receipt_no, items }));
            }
            Op::SaleAndFullReturn { card, lines, spend } => {
                let call = self.checkout_call(*card, lines, spend);
                let account = match &call {
                    Call::Checkout(req) => self.card(&req.card).map(|c| c.account),
                    _ => None,
                };
                let before = account.map(|a| self.store.balance(a, self.now).expect("balance"));
                let Some(Res::Receipt(r)) = self.call(call) else {
                    return;
                };
                let ret = self.call(Call::Return(ReturnRequest {
                    receipt_no: r.receipt_no.clone(),
                    items: ReturnItems::All,
                }));
                assert!(
                    matches!(ret, Some(Res::Returned(ref x)) if x.fully_returned),
                    "full return of a fresh sale {}",
                    self.ctx()
                );
                let before = before.expect("account of a successful sale");
                let after = self.store.balance(r.account_id, self.now).expect("balance");
                let net = |b: &loyalty_store::Balance| b.available + b.pending - b.shortfall;
                assert_eq!(net(&after), net(&before), "sale + full return: net points");
                if before.shortfall == 0 {
                    assert_eq!(
                        (after.available, after.pending, after.shortfall),
                        (before.available, before.pending, before.shortfall),
                        "sale + full return leaves the customer as before {}",
                        self.ctx()
                    );
                }
            }
            Op::Adjust { account, points } => {
                self.call(Call::Adjust {
                    account: self.pick_account(*account),
                    points: *points,
                });
            }
            Op::Reissue { card } => {
                self.call(Call::Reissue(self.pick_card(*card)));
            }
            Op::Shortfall { card, lines, pct } => {
                let Some(Res::Receipt(a)) =
                    self.call(self.checkout_call(*card, lines, &SpendPick::Zero))
                else {
                    return;
                };
                self.now +=
                    Duration::days(i64::from(self.model.prog.hold_days)) + Duration::hours(1);
                self.check();
                let card = self.model.cards.iter().position(|c| c.number == a.card);
                let card = u16::try_from(card.unwrap_or(0)).unwrap_or(0);
                self.call(self.checkout_call(card, lines, &SpendPick::Max));
                let items = if *pct >= 100 {
                    ReturnItems::All
                } else {
                    ReturnItems::Amount((a.subtotal * i64::from(*pct) / 100).max(1))
                };
                self.call(Call::Return(ReturnRequest {
                    receipt_no: a.receipt_no.clone(),
                    items,
                }));
                self.call(self.checkout_call(card, lines, &SpendPick::Zero));
            }
            Op::Expire => {
                self.call(Call::Expire);
            }
            Op::Advance(h) => {
                self.now += Duration::hours(*h);
                self.check();
            }
            Op::Replay { idx, conflict } => self.replay(*idx, *conflict),
        }
    }

    fn replay(&mut self, idx: u16, conflict: bool) {
        if self.done.is_empty() {
            return;
        }
        let d = &self.done[usize::from(idx) % self.done.len()];
        let (op, orig) = (d.op, d.call.clone());
        let before = fingerprint(&self.store);
        if conflict {
            let other = match orig {
                Call::Checkout(mut req) => {
                    req.spend += 1;
                    Call::Checkout(req)
                }
                Call::Expire => Call::Adjust {
                    account: self.pick_account(0),
                    points: 1,
                },
                _ => Call::Expire,
            };
            let got = exec(&mut self.store, op, &other, self.now);
            self.trace
                .push(format!("conflict {op} {other:?} -> {:?}", code(&got)));
            assert_eq!(code(&got), Some("OP_CONFLICT"), "{}", self.ctx());
            self.stat("conflict".into());
        } else {
            let want = d.res.clone();
            let got = exec(&mut self.store, op, &orig, self.now);
            self.trace.push(format!("replay {op} {orig:?}"));
            assert_eq!(got.ok(), Some(want), "replay result {}", self.ctx());
            self.stat("replay".into());
        }
        assert!(
            before == fingerprint(&self.store),
            "a replayed / conflicting op id changed the database {}",
            self.ctx()
        );
        self.check();
    }
}

/// One generated case: two customers (the second referred by the first), then `ops`.
pub fn run_case(ops: &[Op]) {
    let mut h = Harness::new();
    h.step(&Op::Enrol {
        phone: Some(9),
        referrer: None,
    });
    let alice = h.model.cards[0].number.clone();
    h.call(Call::Enrol(NewCustomer {
        name: "Referred".into(),
        referrer: Some(alice),
        ..NewCustomer::default()
    }));
    assert_eq!(h.model.accounts.len(), 2);
    for op in ops {
        h.step(op);
    }
    if std::env::var_os("LOYALTY_MODEL_STATS").is_some() {
        let mut all = STATS.lock().unwrap_or_else(|e| e.into_inner());
        for (k, v) in &h.stats {
            *all.entry(k.clone()).or_default() += v;
        }
        eprintln!("{all:?}");
    }
}

static STATS: std::sync::Mutex<BTreeMap<String, usize>> = std::sync::Mutex::new(BTreeMap::new());
