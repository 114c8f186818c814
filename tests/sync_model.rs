//! Model-based property test of sync: random schedules on 2–3 tills (sales spending within
//! the offline limit, returns, syncs under injected faults — request dropped, response
//! dropped after the server applied it, request duplicated —, partitions, till restarts)
//! against the REAL server router in-process (SQLite backend, no sockets). At the end,
//! with the network healed, every till shows every account exactly as the server does, the
//! server agrees with the plain ledger model (Σ signed movements), nothing is lost (each
//! till's outbox fully settled, no conflict), nothing doubled, nothing negative. The owner
//! also merges customers on the server at random moments (tills offline or not, with
//! pending sales on the duplicate): the model adds the two sums.
//!
//! 1000 cases by default (two shards of 500 the harness runs in parallel), on template
//! databases copied per world on a RAM disk (`sync_support::template`);
//! `SYNC_MODEL_CASES=10000 cargo test -p loyalty --test sync_model` for a long run.

mod sync_support;

use std::sync::Arc;

use loyalty_server::config::Config;
use loyalty_server::http::{router, AppState};
use loyalty_sync::{InProcessTransport, Transport};
use proptest::prelude::*;
use sync_support::fault::{Fault, Faulty};
use sync_support::model::Model;
use sync_support::server::{Db, Server};
use sync_support::template::TILL_NAMES;
use sync_support::till::Till;

/// Cases of a plain `cargo test` (and so of `make test`), in all shards together.
const DEFAULT_CASES: u32 = 1000;
/// The cases run as this many tests, which the test harness runs in parallel.
const SHARDS: u32 = 2;

#[derive(Clone, Debug)]
enum Op {
    /// `spend_pct` of what the till can spend offline.
    Sale {
        till: usize,
        cust: usize,
        amount: i64,
        spend_pct: i64,
    },
    /// Returns the `nth` (mod count) sale of the till.
    Return {
        till: usize,
        nth: usize,
    },
    /// One sync cycle with `fault` on its first call.
    Sync {
        till: usize,
        fault: Fault,
    },
    Partition {
        till: usize,
        on: bool,
    },
    Restart {
        till: usize,
    },
    /// The owner merges customer `dup` into customer `keep` on the server.
    Merge {
        keep: usize,
        dup: usize,
    },
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        3 => Just(Fault::None),
        1 => Just(Fault::DropRequest),
        2 => Just(Fault::DropResponse),
        2 => Just(Fault::Duplicate),
    ]
}

fn op(tills: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..tills, 0..3usize, 500i64..150_000, 0i64..=100).prop_map(
            |(till, cust, amount, spend_pct)| Op::Sale { till, cust, amount, spend_pct }
        ),
        2 => (0..tills, 0..8usize).prop_map(|(till, nth)| Op::Return { till, nth }),
        4 => (0..tills, fault()).prop_map(|(till, fault)| Op::Sync { till, fault }),
        1 => (0..tills, any::<bool>()).prop_map(|(till, on)| Op::Partition { till, on }),
        1 => (0..tills).prop_map(|till| Op::Restart { till }),
        1 => (0..3usize, 0..3usize).prop_map(|(keep, dup)| Op::Merge { keep, dup }),
    ]
}

fn schedule() -> impl Strategy<Value = (usize, Vec<Op>)> {
    (2usize..=3).prop_flat_map(|n| (Just(n), prop::collection::vec(op(n), 5..40)))
}

struct World {
    server: Server,
    tills: Vec<Till>,
    nets: Vec<Faulty>,
    model: Model,
    cards: Vec<String>,
    /// Receipt numbers and cards of each till's sales.
    sales: Vec<Vec<(String, String)>>,
    conflicts: usize,
}

async fn world(n: usize) -> World {
    let server = Server::from_template(Db::Sqlite).await;
    // One server: one router (and one auth limiter) shared by its tills.
    let router = router(AppState::new(server.backend.clone(), Config::default()));
    let mut tills = Vec::new();
    let mut nets = Vec::new();
    for name in &TILL_NAMES[..n] {
        let (id, tok) = server.register("Main St").await;
        let inner = InProcessTransport::with_router(router.clone(), &tok);
        nets.push(Faulty::new(Arc::new(inner)));
        tills.push(Till::from_template(server.dir.path(), name, id, tok).await);
    }
    let mut model = Model::default();
    let mut cards = Vec::new();
    for (i, name) in ["Anna", "Boris", "Clara"].iter().enumerate() {
        let phone = format!("+7916111000{i}");
        cards.push(tills[i % n].enrol(&mut model, name, &phone));
    }
    let mut w = World {
        server,
        sales: vec![Vec::new(); n],
        tills,
        nets,
        model,
        cards,
        conflicts: 0,
    };
    w.settle().await;
    w
}

impl World {
    fn transport(&self, i: usize) -> Arc<dyn Transport> {
        Arc::new(self.nets[i].clone())
    }

    async fn sync(&mut self, i: usize) -> bool {
        let r = self.tills[i].syncer(self.transport(i)).sync_once().await;
        match r {
            Ok(rep) => {
                self.conflicts += rep.conflicts.len();
                true
            }
            Err(_) => false,
        }
    }

    /// Heals the network and syncs every till until all are settled and up to date.
    async fn settle(&mut self) {
        for net in &self.nets {
            net.partition(false);
            net.clear();
        }
        for _round in 0..2 {
            for i in 0..self.tills.len() {
                assert!(self.sync(i).await, "sync without faults succeeds");
            }
        }
    }

    async fn run(&mut self, op: &Op) {
        match *op {
            Op::Sale {
                till,
                cust,
                amount,
                spend_pct,
            } => {
                let t = &self.tills[till];
                let card = &self.cards[cust];
                if !t.knows(card) {
                    return;
                }
                let now = t.now();
                let limit = t
                    .store
                    .lock()
                    .expect("lock")
                    .program_at(now)
                    .offline_spend_limit;
                let spend = t.balance(card).0.min(limit) * spend_pct / 100;
                // Over the spend cap of the basket: the store refuses and records nothing.
                if let Ok(r) = t.sale(&mut self.model, card, amount, spend) {
                    self.sales[till].push((r.receipt_no, card.clone()));
                }
            }
            Op::Return { till, nth } => {
                let list = &self.sales[till];
                if list.is_empty() {
                    return;
                }
                let (no, card) = list[nth % list.len()].clone();
                // Already returned: refused, nothing recorded.
                let _ = self.tills[till].return_all(&mut self.model, &card, &no);
            }
            Op::Sync { till, fault } => {
                self.nets[till].push(fault);
                self.sync(till).await;
                self.nets[till].clear();
            }
            Op::Partition { till, on } => self.nets[till].partition(on),
            Op::Restart { till } => self.tills[till].reopen(),
            Op::Merge { keep, dup } => {
                let (k, d) = (&self.cards[keep], &self.cards[dup]);
                if self.model.same_account(k, d) {
                    return;
                }
                let probe = &self.tills[0].server_id;
                let keep_uid = self.server.book(probe, k).await.account_uid;
                let dup_uid = self.server.book(probe, d).await.account_uid;
                self.server
                    .backend
                    .merge_accounts(
                        loyalty_wire::MergeRequest {
                            op_id: uuid::Uuid::now_v7(),
                            survivor_account_uid: keep_uid,
                            duplicate_account_uid: dup_uid,
                            reason: "enrolled twice".into(),
                            author: "Owner".into(),
                        },
                        chrono::Utc::now(),
                    )
                    .await
                    .expect("merge");
                self.model.merge(k, d);
            }
        }
    }
}

/// All cases: `SYNC_MODEL_CASES`, else `PROPTEST_CASES`, else [`DEFAULT_CASES`].
fn total_cases() -> u32 {
    ["SYNC_MODEL_CASES", "PROPTEST_CASES"]
        .iter()
        .find_map(|v| std::env::var(v).ok()?.trim().parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// One shard's share (each shard draws its own random schedules).
fn shard_cases() -> u32 {
    total_cases().div_ceil(SHARDS).max(1)
}

/// One schedule on a fresh world: run it, heal the network, check convergence.
fn check(n: usize, ops: &[Op]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut w = world(n).await;
        for op in ops {
            w.run(op).await;
        }
        w.settle().await;
        let all: Vec<&Till> = w.tills.iter().collect();
        sync_support::assert_converged(&w.server, &all, &w.model).await;
        assert_eq!(w.conflicts, 0, "no event conflicts");
        w.server.shutdown().await;
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: shard_cases(), max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_schedules_converge_shard_1((n, ops) in schedule()) {
        check(n, &ops);
    }

    #[test]
    fn random_schedules_converge_shard_2((n, ops) in schedule()) {
        check(n, &ops);
    }
}
