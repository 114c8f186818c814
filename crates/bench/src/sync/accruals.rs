//! `accruals_per_s`, `accrual_p99_ms`: online accruals as a till sends them right after
//! each checkout — one sale event per `POST /api/v1/events` — from `clients` tills at once
//! (each its own device token and seq, one request in flight per till, the next sent as
//! soon as the answer arrives). The events were made by the real store beforehand
//! ([`super::prepare`]); the timed part is the upload alone. Every answer must settle its
//! event without conflict. Latency = request sent → answer decoded, at the client.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use loyalty_sync::Transport;
use loyalty_wire::{EventEnvelope, UploadRequest};

use super::args::SyncArgs;
use super::load::{self, Load};
use super::prepare;
use super::server::EmbeddedServer;
use crate::stats::{Samples, Summary};

#[derive(Debug, Clone, Default)]
pub struct Accruals {
    pub clients: usize,
    pub requests: usize,
    pub seconds: f64,
    pub per_s: f64,
    pub latency: Summary,
    /// Machine load while timed.
    pub load: Load,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

pub fn run(dir: &Path, a: &SyncArgs) -> Result<Accruals, String> {
    // One warm-up request per till (connection set up) is not measured.
    let per_till = a.accruals.div_ceil(a.clients) + 1;
    let mut srv = EmbeddedServer::open(dir, "accruals-server")?;
    srv.start()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tills")
        .enable_all()
        .build()
        .map_err(err)?;
    let t = Instant::now();
    let tills = prepare::tills(
        &srv,
        &rt,
        dir,
        a.clients,
        ((per_till / 4).max(10), per_till),
        a.seed,
    )?;
    eprintln!(
        "accruals: {} tills with {per_till} sales each ready in {:.1} s",
        a.clients,
        t.elapsed().as_secs_f64()
    );
    let send = |till_id: String, transport: Arc<dyn Transport>, e: EventEnvelope| async move {
        let seq = e.seq;
        let t = Instant::now();
        let resp = transport
            .upload(UploadRequest {
                till_id,
                events: vec![e],
            })
            .await
            .map_err(err)?;
        if resp.applied_upto != seq || !resp.conflicts.is_empty() {
            return Err(format!("accrual {seq} not applied: {:?}", resp.conflicts));
        }
        Ok::<_, String>(t.elapsed())
    };
    let (seconds, samples, load) = rt.block_on(async {
        let mut warm = Vec::new();
        for t in &tills {
            let e = t.sales[0].clone();
            warm.push(tokio::spawn(send(
                t.till.server_id.clone(),
                t.transport.clone(),
                e,
            )));
        }
        for h in warm {
            h.await.map_err(err)??;
        }
        let mark = load::mark();
        let started = Instant::now();
        let clients: Vec<_> = tills
            .iter()
            .map(|t| {
                let (id, tr) = (t.till.server_id.clone(), t.transport.clone());
                let events = t.sales[1..].to_vec();
                tokio::spawn(async move {
                    let mut lat = Vec::with_capacity(events.len());
                    for e in events {
                        lat.push(send(id.clone(), tr.clone(), e).await?);
                    }
                    Ok::<_, String>(lat)
                })
            })
            .collect();
        let mut samples = Samples::with_capacity(a.accruals);
        for h in clients {
            for d in h.await.map_err(err)?? {
                samples.push(d);
            }
        }
        Ok::<_, String>((started.elapsed().as_secs_f64(), samples, load::since(mark)))
    })?;
    drop(tills);
    rt.shutdown_timeout(Duration::from_secs(5));
    srv.shutdown()?;
    let latency = samples.summary();
    Ok(Accruals {
        clients: a.clients,
        requests: latency.n,
        seconds,
        per_s: latency.n as f64 / seconds,
        latency,
        load,
    })
}
