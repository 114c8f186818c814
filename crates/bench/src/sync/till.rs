//! A till in the benchmark: the real store (`loyalty-store` on its own SQLite file) shared
//! with its sync task behind a mutex, the device token the server registered, and the real
//! HTTP transport.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::Utc;
use loyalty_domain::Basket;
use loyalty_store::{CheckoutRequest, NewCustomer, Store, StoreError, StoreOptions};
use loyalty_sync::{HttpTransport, StoreAccess, SyncConfig, Syncer, Transport};
use uuid::Uuid;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

pub struct BenchTill {
    pub name: String,
    pub path: PathBuf,
    pub store: Arc<Mutex<Store>>,
    /// The till id the server registered.
    pub server_id: String,
    pub token: String,
}

pub fn options(name: &str) -> StoreOptions {
    StoreOptions {
        till_id: name.to_string(),
        store_id: "S01".into(),
        default_region: "RU".into(),
        qr_seed: [42u8; 32],
    }
}

impl BenchTill {
    /// Opens (creating) `<dir>/<name>.db`.
    pub fn open(
        dir: &Path,
        name: &str,
        (server_id, token): (String, String),
    ) -> Result<BenchTill, String> {
        let path = dir.join(format!("{name}.db"));
        let store = Store::open(&path, options(name)).map_err(err)?;
        Ok(BenchTill {
            name: name.to_string(),
            path,
            store: Arc::new(Mutex::new(store)),
            server_id,
            token,
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `synchronous=OFF` while the benchmark prepares offline sales (setup speed only; the
    /// measured sync runs with the product's `synchronous=FULL`).
    pub fn fast_writes(&self, fast: bool) -> Result<(), String> {
        let mode = if fast { "OFF" } else { "FULL" };
        self.lock()
            .connection()
            .execute_batch(&format!("PRAGMA synchronous={mode}"))
            .map_err(err)
    }

    pub fn http(&self, base: &str) -> Result<Arc<HttpTransport>, String> {
        HttpTransport::new(base, &self.token)
            .map(Arc::new)
            .map_err(err)
    }

    pub fn config(&self) -> SyncConfig {
        SyncConfig::new(&self.server_id)
    }

    pub fn access(&self) -> StoreAccess {
        StoreAccess::shared(self.store.clone())
    }

    pub fn syncer(&self, transport: Arc<dyn Transport>) -> Syncer {
        Syncer::new(self.access(), transport, self.config())
    }

    /// Enrols customer `serial` of this till; returns its card.
    pub fn enrol(&self, serial: u64, phone: String) -> Result<String, String> {
        let mut s = self.lock();
        let now = s.clock_now(Utc::now());
        let e = s
            .enrol(
                Uuid::now_v7(),
                NewCustomer {
                    name: format!("Покупатель {} {serial}", self.name),
                    phone: Some(phone),
                    ..NewCustomer::default()
                },
                now,
            )
            .map_err(err)?;
        Ok(e.card)
    }

    /// A sale of `amount` (minor units) spending up to `spend` points: spends what the till
    /// believes is available (the offline rule caps it), retries without points when the
    /// program refuses the spend.
    pub fn sale(&self, card: &str, amount: i64, spend: i64) -> Result<(), String> {
        let mut s = self.lock();
        let now = s.clock_now(Utc::now());
        let spend = if spend > 0 {
            let available = s.lookup(card, now).map_err(err)?.balance.available;
            spend.min(available)
        } else {
            0
        };
        let req = |spend| CheckoutRequest {
            card: card.to_string(),
            basket: Basket::single(amount),
            spend,
            receipt: None,
        };
        match s.checkout(Uuid::now_v7(), req(spend), now) {
            Ok(_) => Ok(()),
            Err(StoreError::Rule(_)) if spend > 0 => s
                .checkout(Uuid::now_v7(), req(0), now)
                .map(|_| ())
                .map_err(err),
            Err(e) => Err(err(e)),
        }
    }

    pub fn pending(&self) -> Result<i64, String> {
        self.lock().outbox_pending_count().map_err(err)
    }

    pub fn cursor(&self) -> Result<i64, String> {
        self.lock().sync_cursor().map_err(err)
    }
}
