//! Helpers of the import/export tests: files, an import run, a real till that syncs.
#![allow(dead_code)]

use crate::support::{TestServer, Till};
use chrono::Utc;
use loyalty_server::import::input::{DelimiterChoice, EncodingChoice};
use loyalty_server::import::{self, ImportOptions, ImportOutcome};
use loyalty_store::{CustomerView, Store, StoreOptions};
use loyalty_sync::{HttpTransport, StoreAccess, SyncConfig, Syncer, Transport};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

pub fn options(path: &Path) -> ImportOptions {
    ImportOptions {
        path: path.to_path_buf(),
        encoding: EncodingChoice::Auto,
        delimiter: DelimiterChoice::Auto,
        store: None,
        region: "RU".into(),
        dry_run: false,
        ignore_unknown_columns: false,
        progress: false,
        watch: None,
    }
}

pub async fn import_file(s: &TestServer, path: &Path) -> ImportOutcome {
    import::run(s.backend.clone(), options(path), Utc::now())
        .await
        .expect("import runs")
}

/// `(accounts, customers, cards, events)` on the server.
pub async fn counts(s: &TestServer) -> (i64, i64, i64, i64) {
    (
        s.count("accounts").await,
        s.count("customers").await,
        s.count("cards").await,
        s.count("events").await,
    )
}

/// A till with its own SQLite store that bootstraps from the server over HTTP.
pub struct SyncedTill {
    pub store: Arc<Mutex<Store>>,
    syncer: Syncer,
}

impl SyncedTill {
    pub async fn new(s: &TestServer, dir: &Path, till: &Till) -> SyncedTill {
        let opts = StoreOptions {
            till_id: "T01".into(),
            store_id: "S1".into(),
            default_region: "RU".into(),
            qr_seed: [7; 32],
        };
        let store = Arc::new(Mutex::new(
            Store::open(dir.join("till.db"), opts).expect("till store"),
        ));
        let transport: Arc<dyn Transport> =
            Arc::new(HttpTransport::new(&s.base, &till.token).expect("transport"));
        let syncer = Syncer::new(
            StoreAccess::shared(store.clone()),
            transport,
            SyncConfig::new(&till.id),
        );
        SyncedTill { store, syncer }
    }

    pub async fn sync(&self) {
        self.syncer.sync_once().await.expect("sync");
    }

    /// What the till shows for a card, phone or name typed at the till.
    pub fn lookup(&self, input: &str) -> CustomerView {
        let store = self.store.lock().unwrap();
        store
            .lookup(input, Utc::now())
            .unwrap_or_else(|e| panic!("lookup {input}: {e}"))
    }
}
