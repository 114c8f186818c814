//! Sync over a faulty network on the REAL HTTP path: every till's background `SyncEngine`
//! talks through its `HttpTransport` to a fault-injecting TCP proxy
//! (`sync_support::proxy`) in front of a real `loyalty-server` listener on 127.0.0.1
//! (SQLite, or PostgreSQL when `LOYALTY_TEST_PG_URL` is set: `make test-pg`). The proxy
//! drops requests before the server sees them, cuts responses after the server handled
//! them, delays, and sends requests twice (in turn or at once). The tills sell, redeem
//! (within what they can spend offline), return, enrol and restart meanwhile; then the
//! network heals and every till = the server = a plain model (nothing lost, nothing
//! doubled, nothing negative, every outbox settled).
//!
//! `tills_converge_through_a_faulty_proxy`: a seeded random schedule on both backends
//! (`SYNC_PROXY_SEED=N` replays one). `random_faults_and_schedules_converge`: proptest
//! over fault rates and schedules (SQLite; 6 cases, `SYNC_PROXY_CASES=N` for more).

mod sync_support;

use std::sync::Arc;
use std::time::Duration;

use loyalty_sync::{HttpOptions, HttpTransport, SyncConfig, SyncEngine, SyncHandle, SyncStatus};
use proptest::prelude::*;
use sync_support::model::Model;
use sync_support::proxy::{FaultProxy, Faults, Rng};
use sync_support::server::{Db, Server};
use sync_support::template::TILL_NAMES;
use sync_support::till::Till;
use sync_support::{assert_converged, eventually, tills_match};
use tokio::sync::watch;

db_tests!(tills_converge_through_a_faulty_proxy);

const DEFAULT_CASES: u32 = 6;
/// Customers at most (3 enrolled at the start).
const MAX_CUSTOMERS: usize = 6;

#[derive(Clone, Debug)]
enum Step {
    Enrol {
        till: usize,
    },
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
    /// Lets the engines work.
    Pause {
        ms: u64,
    },
    /// A crash: the till's store is opened again from its file under the running engine.
    Restart {
        till: usize,
    },
}

struct Net {
    server: Server,
    proxy: FaultProxy,
    tills: Vec<Till>,
    engines: Vec<(SyncHandle, watch::Receiver<SyncStatus>)>,
    model: Model,
    cards: Vec<String>,
    /// Receipt numbers and cards of each till's sales.
    sales: Vec<Vec<(String, String)>>,
}

/// Short periods and small pages: many requests, so many faults, in little time.
fn sync_config(t: &Till) -> SyncConfig {
    let mut c = t.config();
    c.poll_interval = Duration::from_millis(150);
    c.probe_interval = Duration::from_millis(100);
    c.reconnect_probe_interval = Duration::from_millis(100);
    c.backoff_base = Duration::from_millis(50);
    c.backoff_max = Duration::from_millis(500);
    c.upload_batch = 4;
    c.page_size = 3;
    c
}

async fn net(db: Db, n: usize, faults: Faults, seed: u64) -> Net {
    let mut server = Server::from_template(db).await;
    server.start().await;
    let proxy = FaultProxy::start(server.addr, faults, seed).await;
    let mut tills = Vec::new();
    for name in &TILL_NAMES[..n] {
        let (id, tok) = server.register("Main St").await;
        tills.push(Till::from_template(server.dir.path(), name, id, tok).await);
    }
    let opts = HttpOptions {
        request_timeout: Duration::from_secs(5),
        ..HttpOptions::default()
    };
    let engines = tills
        .iter()
        .map(|t| {
            let http = HttpTransport::with_options(&proxy.base(), &t.token, opts.clone())
                .expect("transport");
            SyncEngine::spawn(t.access(), Arc::new(http), sync_config(t))
        })
        .collect();
    let mut net = Net {
        server,
        proxy,
        sales: vec![Vec::new(); n],
        tills,
        engines,
        model: Model::default(),
        cards: Vec::new(),
    };
    for i in 0..3 {
        net.run(&Step::Enrol { till: i % n }).await;
    }
    net
}

impl Net {
    async fn run(&mut self, step: &Step) {
        match *step {
            Step::Enrol { till } => {
                if self.cards.len() < MAX_CUSTOMERS {
                    let i = self.cards.len();
                    let phone = format!("+791622200{i:02}");
                    let card = self.tills[till].enrol(&mut self.model, &format!("C{i}"), &phone);
                    self.cards.push(card);
                }
            }
            Step::Sale {
                till,
                cust,
                amount,
                spend_pct,
            } => {
                let t = &self.tills[till];
                let card = &self.cards[cust % self.cards.len()];
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
                // Over the spend cap of the basket: refused, nothing recorded.
                if let Ok(r) = t.sale(&mut self.model, card, amount, spend) {
                    self.sales[till].push((r.receipt_no, card.clone()));
                }
            }
            Step::Return { till, nth } => {
                let list = &self.sales[till];
                if let Some((no, card)) = list.get(nth % list.len().max(1)).cloned() {
                    // Already returned: refused, nothing recorded.
                    let _ = self.tills[till].return_all(&mut self.model, &card, &no);
                }
            }
            Step::Pause { ms } => tokio::time::sleep(Duration::from_millis(ms)).await,
            Step::Restart { till } => self.tills[till].reopen(),
        }
    }

    /// Heals the network, waits until every till shows what the model says, stops the
    /// engines and checks till = server = model exactly.
    async fn converge(self, patience: Duration) {
        self.proxy.heal();
        let all: Vec<&Till> = self.tills.iter().collect();
        let nudge = || self.engines.iter().for_each(|(h, _)| h.nudge());
        let done = eventually(patience, || {
            nudge();
            tills_match(&all, &self.model)
        })
        .await;
        if done.is_none() {
            for (_, st) in &self.engines {
                eprintln!("not converged: {:?}", st.borrow());
            }
        }
        for (h, st) in self.engines {
            h.shutdown().await;
            let conflicts = st.borrow().conflicts.clone();
            assert_eq!(conflicts, Vec::new(), "no event conflicts");
        }
        assert_converged(&self.server, &all, &self.model).await;
        self.server.shutdown().await;
    }
}

/// A random schedule from `rng`.
fn random_steps(rng: &mut Rng, n: usize, len: usize) -> Vec<Step> {
    let till = |rng: &mut Rng| rng.range(0, n as i64) as usize;
    (0..len)
        .map(|_| match rng.range(0, 100) {
            0..=5 => Step::Enrol { till: till(rng) },
            6..=55 => Step::Sale {
                till: till(rng),
                cust: rng.range(0, MAX_CUSTOMERS as i64) as usize,
                amount: rng.range(500, 150_000),
                spend_pct: rng.range(0, 101),
            },
            56..=72 => Step::Return {
                till: till(rng),
                nth: rng.range(0, 8) as usize,
            },
            73..=96 => Step::Pause {
                ms: rng.range(10, 120) as u64,
            },
            _ => Step::Restart { till: till(rng) },
        })
        .collect()
}

async fn tills_converge_through_a_faulty_proxy(db: Db) {
    let seed = std::env::var("SYNC_PROXY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            u64::from(std::process::id()) ^ chrono::Utc::now().timestamp_micros() as u64
        });
    eprintln!("tills_converge_through_a_faulty_proxy: SYNC_PROXY_SEED={seed}");
    let faults = Faults {
        drop_request: 0.12,
        cut_response: 0.15,
        duplicate: 0.12,
        delay: 0.2,
        max_delay: Duration::from_millis(150),
    };
    let mut net = net(db, 3, faults, seed).await;
    let mut rng = Rng::new(seed);
    for step in random_steps(&mut rng, 3, 150) {
        net.run(&step).await;
    }
    // Keep the faults on until each kind has hit a few times (the engines keep polling).
    let hit = eventually(Duration::from_secs(30), || {
        let i = net.proxy.injected();
        i.dropped >= 3 && i.cut >= 3 && i.duplicated >= 3 && i.delayed >= 3
    })
    .await;
    let injected = net.proxy.injected();
    assert!(
        hit.is_some(),
        "every kind of fault was injected: {injected:?}"
    );
    eprintln!("injected: {injected:?}");
    net.converge(Duration::from_secs(60)).await;
}

fn step(n: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => (0..n).prop_map(|till| Step::Enrol { till }),
        6 => (0..n, 0..MAX_CUSTOMERS, 500i64..150_000, 0i64..=100).prop_map(
            |(till, cust, amount, spend_pct)| Step::Sale { till, cust, amount, spend_pct }
        ),
        2 => (0..n, 0..8usize).prop_map(|(till, nth)| Step::Return { till, nth }),
        3 => (10u64..150).prop_map(|ms| Step::Pause { ms }),
        1 => (0..n).prop_map(|till| Step::Restart { till }),
    ]
}

fn faults() -> impl Strategy<Value = Faults> {
    (
        0.0..0.3f64,
        0.0..0.3f64,
        0.0..0.3f64,
        0.0..0.4f64,
        0u64..200,
    )
        .prop_map(
            |(drop_request, cut_response, duplicate, delay, ms)| Faults {
                drop_request,
                cut_response,
                duplicate,
                delay,
                max_delay: Duration::from_millis(ms),
            },
        )
}

fn schedule() -> impl Strategy<Value = (usize, Vec<Step>, Faults, u64)> {
    (2usize..=3).prop_flat_map(|n| {
        (
            Just(n),
            prop::collection::vec(step(n), 5..30),
            faults(),
            any::<u64>(),
        )
    })
}

fn cases() -> u32 {
    std::env::var("SYNC_PROXY_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 10, ..ProptestConfig::default() })]

    #[test]
    fn random_faults_and_schedules_converge((n, steps, faults, seed) in schedule()) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut net = net(Db::Sqlite, n, faults, seed).await;
            for s in &steps {
                net.run(s).await;
            }
            // (A healed network converges within a second or two.)
            net.converge(Duration::from_secs(20)).await;
        });
    }
}
