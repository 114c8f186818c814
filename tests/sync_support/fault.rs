//! A [`Transport`] wrapper that injects faults from a script: drop the request (the server
//! never sees it), drop the response (the server applied it, the till hears nothing),
//! duplicate it (sent twice), or a partition (everything fails until healed).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use loyalty_sync::{Transport, TransportError};
use loyalty_wire::{
    ChangesResponse, Health, ReservationRequest, ReservationResponse, SnapshotPage, UploadRequest,
    UploadResponse, VoidResponse,
};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    None,
    DropRequest,
    DropResponse,
    Duplicate,
}

#[derive(Default)]
struct Script {
    faults: VecDeque<Fault>,
    partitioned: bool,
    calls: u64,
}

/// Faults apply to calls in order (each call takes the next one; none left = no fault).
#[derive(Clone)]
pub struct Faulty {
    inner: Arc<dyn Transport>,
    script: Arc<Mutex<Script>>,
}

fn lost(what: &str) -> TransportError {
    TransportError::Unreachable(format!("injected: {what}"))
}

impl Faulty {
    pub fn new(inner: Arc<dyn Transport>) -> Faulty {
        Faulty {
            inner,
            script: Arc::new(Mutex::new(Script::default())),
        }
    }

    pub fn push(&self, f: Fault) {
        self.script.lock().expect("lock").faults.push_back(f);
    }

    pub fn clear(&self) {
        self.script.lock().expect("lock").faults.clear();
    }

    pub fn partition(&self, on: bool) {
        self.script.lock().expect("lock").partitioned = on;
    }

    pub fn calls(&self) -> u64 {
        self.script.lock().expect("lock").calls
    }

    fn next(&self) -> Fault {
        let mut s = self.script.lock().expect("lock");
        s.calls += 1;
        if s.partitioned {
            return Fault::DropRequest;
        }
        s.faults.pop_front().unwrap_or(Fault::None)
    }

    /// Runs `call` under the next fault.
    async fn run<T, F, Fut>(&self, what: &str, call: F) -> Result<T, TransportError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, TransportError>>,
    {
        match self.next() {
            Fault::None => call().await,
            Fault::DropRequest => Err(lost(what)),
            Fault::DropResponse => {
                let _ = call().await;
                Err(lost(what))
            }
            Fault::Duplicate => {
                let _ = call().await;
                call().await
            }
        }
    }
}

#[async_trait]
impl Transport for Faulty {
    async fn upload(&self, req: UploadRequest) -> Result<UploadResponse, TransportError> {
        self.run("upload", || self.inner.upload(req.clone())).await
    }
    async fn changes(&self, since: i64, limit: u32) -> Result<ChangesResponse, TransportError> {
        self.run("changes", || self.inner.changes(since, limit))
            .await
    }
    async fn snapshot(
        &self,
        after: Option<String>,
        limit: u32,
    ) -> Result<SnapshotPage, TransportError> {
        self.run("snapshot", || self.inner.snapshot(after.clone(), limit))
            .await
    }
    async fn reserve(
        &self,
        req: ReservationRequest,
    ) -> Result<ReservationResponse, TransportError> {
        self.run("reserve", || self.inner.reserve(req.clone()))
            .await
    }
    async fn void(&self, id: Uuid) -> Result<VoidResponse, TransportError> {
        self.run("void", || self.inner.void(id)).await
    }
    async fn health(&self) -> Result<Health, TransportError> {
        self.run("health", || self.inner.health()).await
    }
}
