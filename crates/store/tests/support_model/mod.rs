//! Harness of `tests/model.rs`: operations, the store ↔ model driver and the checks.

mod apply;
mod check;
mod drive;
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

/// The till of the model tests.
pub fn options() -> StoreOptions {
    StoreOptions {
        till_id: "T01".into(),
        store_id: "S1".into(),
        default_region: "RU".into(),
        qr_seed: [3; 32],
    }
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path().join("till.db"), options()).expect("open");
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
                // Every operation is a fact for the outbox except the local expiry sweep.
                if !matches!(call, Call::Expire) {
                    self.events.push((op.hyphenated().to_string(), call.kind()));
                }
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
