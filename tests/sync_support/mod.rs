//! Shared by the sync end-to-end tests and the model-based property test: the real server
//! ([`server`]), tills with their own SQLite files ([`till`]), the plain ledger model
//! ([`model`]), a fault-injecting transport ([`fault`]), a fault-injecting TCP proxy for
//! the real HTTP path ([`proxy`]) and migrated template databases on
//! a RAM disk for the tests that build many worlds ([`template`]).
#![allow(dead_code)]

pub mod fault;
pub mod model;
pub mod proxy;
pub mod server;
pub mod template;
pub mod till;

use std::time::{Duration, Instant};

use chrono::Utc;
use model::Model;
use server::Server;
use till::Till;

/// Polls `check` every 50 ms until it holds; the elapsed time, or `None` after `timeout`.
pub async fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if check() {
            return Some(start.elapsed());
        }
        if start.elapsed() > timeout {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every till shows every card exactly as the server does, whose balance agrees with the
/// model's signed sum; nothing is negative; every till's invariants hold and its outbox is empty.
pub async fn assert_converged(server: &Server, tills: &[&Till], model: &Model) {
    let probe = &tills[0].server_id;
    for card in model.cards() {
        let on_server = server.balance(probe, &card, Utc::now()).await;
        assert!(
            model.agrees(&card, on_server),
            "server {on_server:?} vs model net {}, card {card}",
            model.net(&card)
        );
        for t in tills {
            assert_eq!(
                t.balance(&card),
                on_server,
                "till {} vs server, card {card}",
                t.name
            );
        }
    }
    for t in tills {
        t.invariants();
        assert_eq!(t.pending(), 0, "till {} has unsent events", t.name);
        let last = t
            .store
            .lock()
            .expect("lock")
            .outbox_last_seq()
            .expect("seq");
        assert_eq!(
            server.last_seq(&t.server_id).await,
            last,
            "till {} seq",
            t.name
        );
    }
}

/// Do the tills' views all agree with the model and with each other (no assertion)?
pub fn tills_match(tills: &[&Till], model: &Model) -> bool {
    tills.iter().all(|t| t.pending() == 0)
        && model.cards().iter().all(|c| {
            tills.iter().all(|t| t.knows(c))
                && tills.iter().all(|t| {
                    let b = t.balance(c);
                    model.agrees(c, b) && b == tills[0].balance(c)
                })
        })
}
