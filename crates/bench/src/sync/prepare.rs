//! Tills with facts ready to upload (setup of the ingest and accrual runs, not timed):
//! each till enrols its own customers with the real store API and sends those enrolments
//! through the real sync (so the server knows the accounts), then makes sales offline. The
//! sales' outbox envelopes are what the measurements upload.

use std::path::Path;
use std::sync::Arc;

use loyalty_sync::Transport;
use loyalty_wire::{EventEnvelope, UploadRequest};

use super::server::EmbeddedServer;
use super::till::BenchTill;
use crate::generate::names::phone_e164;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A till and its sale envelopes, in seq order, not yet uploaded.
pub struct Loaded {
    pub till: BenchTill,
    pub transport: Arc<dyn Transport>,
    pub sales: Vec<EventEnvelope>,
}

/// `n` tills (`T11`, `T12`, ...) with `customers` enrolled (and uploaded) and `sales`
/// offline sales each.
pub fn tills(
    srv: &EmbeddedServer,
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    n: usize,
    (customers, sales): (usize, usize),
    seed: u64,
) -> Result<Vec<Loaded>, String> {
    let mut tills = Vec::with_capacity(n);
    for i in 1..=n {
        let name = format!("T{:02}", 10 + i);
        let id = srv.register(&format!("Store {}", i.div_ceil(2)))?;
        tills.push(BenchTill::open(dir, &name, id)?);
    }
    std::thread::scope(|scope| {
        let workers: Vec<_> = tills
            .iter()
            .enumerate()
            .map(|(i, t)| scope.spawn(move || fill(t, i as u64, customers, sales, seed)))
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().unwrap_or_else(|_| Err("a till panicked".into())))
    })?;
    let mut out = Vec::with_capacity(n);
    for till in tills {
        let transport: Arc<dyn Transport> = till.http(&srv.base())?;
        let mut events = till
            .lock()
            .pending_events(u32::try_from(customers + sales).map_err(err)?)
            .map_err(err)?;
        let rest = events.split_off(customers);
        for chunk in events.chunks(200) {
            let req = UploadRequest {
                till_id: till.server_id.clone(),
                events: chunk.to_vec(),
            };
            let resp = rt.block_on(transport.upload(req)).map_err(err)?;
            if !resp.conflicts.is_empty() {
                return Err(format!("enrolment conflicts: {:?}", resp.conflicts));
            }
            till.lock().ack_upto(resp.applied_upto).map_err(err)?;
        }
        out.push(Loaded {
            till,
            transport,
            sales: rest,
        });
    }
    Ok(out)
}

fn fill(t: &BenchTill, i: u64, customers: usize, sales: usize, seed: u64) -> Result<(), String> {
    t.fast_writes(true)?;
    let mut cards = Vec::with_capacity(customers);
    for c in 0..customers as u64 {
        // Phones far above the generated members' serials.
        cards.push(t.enrol(c, phone_e164(500_000_000 + i * 1_000_000 + c))?);
    }
    let mut rng = fastrand::Rng::with_seed(seed ^ (0xacc0 + i));
    for _ in 0..sales {
        let card = &cards[rng.usize(..cards.len())];
        let spend = if rng.u8(..100) < 20 { 100 } else { 0 };
        t.sale(card, rng.i64(5_000..300_000), spend)?;
    }
    t.fast_writes(false)
}
