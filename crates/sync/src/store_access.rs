//! How the sync task reaches the till's store: shared with the app behind a mutex, or
//! opened by the task itself. Every store call runs on `spawn_blocking` (rusqlite is sync).

use std::sync::{Arc, Mutex};

use loyalty_store::{Store, StoreError};

use crate::error::SyncError;

/// Opens the store (the task keeps the connection; reopens after an error).
pub type StoreOpener = Arc<dyn Fn() -> Result<Store, StoreError> + Send + Sync>;

#[derive(Clone)]
pub enum StoreAccess {
    /// The app's own `Store` (recommended: one connection, one cached clock offset and
    /// program table for the app and the task).
    Shared(Arc<Mutex<Store>>),
    /// A connection of the task's own, opened lazily with this closure.
    Open {
        opener: StoreOpener,
        slot: Arc<Mutex<Option<Store>>>,
    },
}

impl StoreAccess {
    pub fn shared(store: Arc<Mutex<Store>>) -> StoreAccess {
        StoreAccess::Shared(store)
    }

    pub fn opener(
        f: impl Fn() -> Result<Store, StoreError> + Send + Sync + 'static,
    ) -> StoreAccess {
        StoreAccess::Open {
            opener: Arc::new(f),
            slot: Arc::new(Mutex::new(None)),
        }
    }

    /// Runs `f` on the store on a blocking thread.
    pub async fn run<T, F>(&self, f: F) -> Result<T, SyncError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let access = self.clone();
        let joined = tokio::task::spawn_blocking(move || access.run_blocking(f)).await;
        match joined {
            Ok(r) => r,
            Err(e) => Err(SyncError::Task(e.to_string())),
        }
    }

    fn run_blocking<T, F>(&self, f: F) -> Result<T, SyncError>
    where
        F: FnOnce(&mut Store) -> Result<T, StoreError>,
    {
        match self {
            StoreAccess::Shared(m) => {
                // A panic elsewhere while holding the lock rolled its transaction back.
                let mut s = m.lock().unwrap_or_else(|p| p.into_inner());
                Ok(f(&mut s)?)
            }
            StoreAccess::Open { opener, slot } => {
                let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
                if guard.is_none() {
                    *guard = Some(opener()?);
                }
                let Some(store) = guard.as_mut() else {
                    return Err(SyncError::Task("store not open".into()));
                };
                let r = f(store);
                if r.is_err() {
                    // Reopen next time (the file may have been replaced or repaired).
                    *guard = None;
                }
                Ok(r?)
            }
        }
    }
}
