//! A new till's first start against the real server over HTTP (SQLite; PostgreSQL too when
//! `LOYALTY_TEST_PG_URL` is set): snapshot pages fetched ahead and written several per
//! store transaction; a page lost in the middle of a group stops the bootstrap with an
//! error, the till keeps what it wrote with its phone and name indexes built, and the next
//! cycle pulls every change since cursor 0 and ends equal to the server and the model.

mod sync_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use loyalty_sync::{SyncError, Transport, TransportError};
use loyalty_wire::{
    ChangesResponse, Health, ReservationRequest, ReservationResponse, SnapshotPage, UploadRequest,
    UploadResponse, VoidResponse,
};
use sync_support::model::Model;
use sync_support::server::{Db, Server};
use sync_support::till::Till;
use sync_support::tills_match;
use uuid::Uuid;

db_tests!(a_new_till_bootstraps_in_groups_and_recovers_from_a_lost_page);

/// Forwards every call; the `fail_at`-th snapshot request (1-based) fails once.
struct LoseOneSnapshot {
    inner: Arc<dyn Transport>,
    fail_at: usize,
    snapshots: AtomicUsize,
}

#[async_trait]
impl Transport for LoseOneSnapshot {
    async fn upload(&self, req: UploadRequest) -> Result<UploadResponse, TransportError> {
        self.inner.upload(req).await
    }
    async fn changes(&self, since: i64, limit: u32) -> Result<ChangesResponse, TransportError> {
        self.inner.changes(since, limit).await
    }
    async fn snapshot(
        &self,
        after: Option<String>,
        limit: u32,
    ) -> Result<SnapshotPage, TransportError> {
        if self.snapshots.fetch_add(1, Ordering::SeqCst) + 1 == self.fail_at {
            return Err(TransportError::Unreachable("injected: page lost".into()));
        }
        self.inner.snapshot(after, limit).await
    }
    async fn reserve(
        &self,
        req: ReservationRequest,
    ) -> Result<ReservationResponse, TransportError> {
        self.inner.reserve(req).await
    }
    async fn void(&self, id: Uuid) -> Result<VoidResponse, TransportError> {
        self.inner.void(id).await
    }
    async fn health(&self) -> Result<Health, TransportError> {
        self.inner.health().await
    }
}

fn indexes_built(t: &Till) -> bool {
    let s = t.store.lock().expect("store");
    let n: i64 = s
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index'
             AND name IN ('customers_phone', 'customers_name_norm')",
            [],
            |r| r.get(0),
        )
        .expect("schema");
    n == 2
}

fn customers(t: &Till) -> i64 {
    let s = t.store.lock().expect("store");
    s.connection()
        .query_row("SELECT COUNT(*) FROM customers", [], |r| r.get(0))
        .expect("count")
}

async fn a_new_till_bootstraps_in_groups_and_recovers_from_a_lost_page(db: Db) {
    let mut s = Server::new(db).await;
    s.start().await;
    let mut m = Model::default();
    let (id1, tok1) = s.register("Main St").await;
    let t1 = Till::new(s.dir.path(), "T01", id1, tok1);
    let phone = |i: i64| format!("+7916111{i:04}");
    for i in 0..13 {
        let card = t1.enrol(&mut m, &format!("Customer {i}"), &phone(i));
        t1.sale(&mut m, &card, 10_000 * (i + 1), 0).expect("sale");
    }
    t1.syncer(t1.http(&s.base()))
        .sync_once()
        .await
        .expect("T01 sync");

    let (id2, tok2) = s.register("Main St").await;
    let t2 = Till::new(s.dir.path(), "T02", id2, tok2);
    // 13 accounts in pages of 2, written in groups of 1 page, 2 pages, then at least 5
    // accounts (3 pages): the 5th page, in the third group, is lost.
    let lossy = Arc::new(LoseOneSnapshot {
        inner: t2.http(&s.base()),
        fail_at: 5,
        snapshots: AtomicUsize::new(0),
    });
    let mut syncer = t2.syncer(lossy.clone());
    syncer.config.snapshot_page_size = 2;
    syncer.config.snapshot_group = 5;
    let err = syncer.sync_once().await.expect_err("a lost page");
    assert!(matches!(err, SyncError::Transport(_)), "{err:?}");
    assert_eq!(customers(&t2), 6, "the first group is kept");
    assert!(indexes_built(&t2), "the till serves with its indexes");
    assert_eq!(
        t2.store
            .lock()
            .expect("store")
            .sync_cursor()
            .expect("cursor"),
        0
    );

    // The store has synced pages now: the next cycle pulls every change since cursor 0
    // (the first page's cursor is stored with the last page only).
    let r = syncer.sync_once().await.expect("the next cycle");
    assert!(!r.bootstrapped);
    assert_eq!(r.accounts, 13);
    assert_eq!(lossy.snapshots.load(Ordering::SeqCst), 5);
    assert!(indexes_built(&t2));
    assert_eq!(customers(&t2), 13);
    assert!(
        tills_match(&[&t1, &t2], &m),
        "both tills agree with the model"
    );
    t2.invariants();
    let now = t2.now();
    {
        let store = t2.store.lock().expect("store");
        for i in 0..13 {
            let found = store.lookup(&phone(i), now).expect("found by phone");
            assert_eq!(found.customer.name, format!("Customer {i}"));
        }
    }
    s.shutdown().await;
}
