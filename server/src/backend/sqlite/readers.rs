//! The reading connections of the SQLite backend: under WAL each reads the last commit
//! without waiting for the writer or for each other, so tills pulling changes, bootstrapping
//! and looking up tokens at the same time are not queued on one connection.

use super::lock;
use rusqlite::Connection;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

/// Reading connections kept open (each with its own page cache).
pub const READERS: usize = 4;

pub struct Readers {
    conns: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl Readers {
    /// `conns` must not be empty.
    pub fn new(conns: Vec<Connection>) -> Readers {
        assert!(!conns.is_empty(), "a reader pool needs a connection");
        Readers {
            conns: conns.into_iter().map(Mutex::new).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// A free connection if there is one (starting from the next in turn), else waits for
    /// the next in turn.
    pub fn get(&self) -> MutexGuard<'_, Connection> {
        let n = self.conns.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        for i in 0..n {
            match self.conns[(start + i) % n].try_lock() {
                Ok(c) => return c,
                // A panic cannot leave a read transaction open (see `lock`).
                Err(TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        lock(&self.conns[start])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_busy_connection_is_passed_over_and_all_busy_waits() {
        let pool = Readers::new(
            (0..2)
                .map(|_| Connection::open_in_memory().unwrap())
                .collect(),
        );
        let a = pool.get();
        let b = pool.get();
        assert!(
            !std::ptr::eq(&*a, &*b),
            "the second reader is not the busy first"
        );
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                pool.get()
                    .query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                    .unwrap()
            });
            std::thread::sleep(Duration::from_millis(50));
            assert!(!waiter.is_finished(), "both busy: the third waits");
            drop((a, b));
            assert_eq!(waiter.join().unwrap(), 1);
        });
    }
}
