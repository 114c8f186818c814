//! A till in a test: its own SQLite file, shared with its sync task behind a mutex, a
//! registered device token, an optional clock skew; operations record into the [`Model`].

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use loyalty_domain::{Basket, ProgramConfig};
use loyalty_store::{
    CheckoutRequest, NewCustomer, Receipt, ReturnItems, ReturnReceipt, ReturnRequest, Store,
    StoreError, StoreOptions,
};
use loyalty_sync::{StoreAccess, SyncConfig, Syncer, Transport};
use uuid::Uuid;

use super::model::Model;

/// Hold 0, no expiry: every lot is spendable at once, so the plain model is one signed
/// sum per account.
pub fn flat_program() -> ProgramConfig {
    ProgramConfig {
        version: 2,
        effective_from: Utc::now() - Duration::days(30),
        hold_days: 0,
        expiry_months: None,
        ..ProgramConfig::default()
    }
}

pub struct Till {
    pub name: String,
    pub path: PathBuf,
    pub store: Arc<Mutex<Store>>,
    /// The id the server registered.
    pub server_id: String,
    pub token: String,
    /// Added to the real clock.
    pub skew: Duration,
}

pub fn open(path: &std::path::Path, name: &str) -> Store {
    let opts = StoreOptions {
        till_id: name.to_string(),
        store_id: "S1".into(),
        default_region: "RU".into(),
        qr_seed: [7; 32],
    };
    Store::open(path, opts).expect("open store")
}

impl Till {
    pub fn new(dir: &std::path::Path, name: &str, server_id: String, token: String) -> Till {
        Till::with(
            dir,
            name,
            server_id,
            token,
            Duration::zero(),
            flat_program(),
        )
    }

    pub fn with(
        dir: &std::path::Path,
        name: &str,
        server_id: String,
        token: String,
        skew: Duration,
        program: ProgramConfig,
    ) -> Till {
        let path = dir.join(format!("{name}.db"));
        let mut s = open(&path, name);
        let now = s.clock_now(Utc::now() + skew);
        s.set_program(&program, now).expect("program");
        Till {
            name: name.to_string(),
            path,
            store: Arc::new(Mutex::new(s)),
            server_id,
            token,
            skew,
        }
    }

    /// A till whose store is a copy of the migrated template of `name` (flat program).
    pub async fn from_template(
        dir: &std::path::Path,
        name: &str,
        server_id: String,
        token: String,
    ) -> Till {
        let path = dir.join(format!("{name}.db"));
        super::template::templates()
            .await
            .write_till_db(name, &path);
        Till {
            name: name.to_string(),
            store: Arc::new(Mutex::new(open(&path, name))),
            path,
            server_id,
            token,
            skew: Duration::zero(),
        }
    }

    /// A crash: the in-memory store is thrown away and opened again from its file (in
    /// place, so a running sync task continues on the new connection).
    pub fn reopen(&mut self) {
        let mut guard = self.store.lock().expect("lock");
        *guard = open(&self.path, &self.name);
    }

    pub fn raw_now(&self) -> DateTime<Utc> {
        Utc::now() + self.skew
    }

    /// The till's clock corrected by the last known server offset.
    pub fn now(&self) -> DateTime<Utc> {
        let s = self.store.lock().expect("lock");
        s.clock_now(Utc::now() + self.skew)
    }

    pub fn clock(&self) -> loyalty_sync::Clock {
        let skew = self.skew;
        Arc::new(move || Utc::now() + skew)
    }

    pub fn config(&self) -> SyncConfig {
        let mut c = SyncConfig::new(&self.server_id);
        c.clock = self.clock();
        // Small pages: a pull here spans several, applied in groups (`pull.rs`).
        c.page_size = 3;
        c.pull_group = 7;
        c
    }

    pub fn access(&self) -> StoreAccess {
        StoreAccess::shared(self.store.clone())
    }

    pub fn syncer(&self, transport: Arc<dyn Transport>) -> Syncer {
        Syncer::new(self.access(), transport, self.config())
    }

    pub fn http(&self, base: &str) -> Arc<dyn Transport> {
        Arc::new(loyalty_sync::HttpTransport::new(base, &self.token).expect("transport"))
    }

    pub fn enrol(&self, model: &mut Model, name: &str, phone: &str) -> String {
        let now = self.now();
        let mut s = self.store.lock().expect("lock");
        let e = s
            .enrol(
                Uuid::now_v7(),
                NewCustomer {
                    name: name.into(),
                    phone: Some(phone.into()),
                    ..NewCustomer::default()
                },
                now,
            )
            .expect("enrol");
        model.credit(&e.card, e.welcome_points);
        e.card
    }

    /// A sale (recorded in the model when it commits).
    pub fn sale(
        &self,
        model: &mut Model,
        card: &str,
        amount: i64,
        spend: i64,
    ) -> Result<Receipt, StoreError> {
        let now = self.now();
        let mut s = self.store.lock().expect("lock");
        let r = s.checkout(
            Uuid::now_v7(),
            CheckoutRequest {
                card: card.into(),
                basket: Basket::single(amount),
                spend,
                receipt: None,
            },
            now,
        )?;
        model.credit(card, r.earned - r.points_spent);
        Ok(r)
    }

    /// Returns a whole sale of this till.
    pub fn return_all(
        &self,
        model: &mut Model,
        card: &str,
        receipt_no: &str,
    ) -> Result<ReturnReceipt, StoreError> {
        let now = self.now();
        let mut s = self.store.lock().expect("lock");
        let r = s.return_sale(
            Uuid::now_v7(),
            ReturnRequest {
                receipt_no: receipt_no.into(),
                items: ReturnItems::All,
            },
            now,
        )?;
        model.credit(card, r.spent_restored - r.earned_taken - r.shortfall_added);
        Ok(r)
    }

    /// `(available, pending, shortfall)` as this till shows the card now.
    pub fn balance(&self, card: &str) -> (i64, i64, i64) {
        let now = self.now();
        let s = self.store.lock().expect("lock");
        let b = s.lookup(card, now).expect("lookup").balance;
        (b.available, b.pending, b.shortfall)
    }

    pub fn knows(&self, card: &str) -> bool {
        let now = self.now();
        let s = self.store.lock().expect("lock");
        s.lookup(card, now).is_ok()
    }

    pub fn pending(&self) -> i64 {
        let s = self.store.lock().expect("lock");
        s.outbox_pending_count().expect("pending")
    }

    pub fn invariants(&self) {
        let s = self.store.lock().expect("lock");
        assert_eq!(s.check_invariants().expect("invariants"), Vec::<i64>::new());
    }
}
