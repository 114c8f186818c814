//! Transactions with a bounded retry on serialization failures (40001) and deadlocks
//! (40P01), which [`BackendError::Busy`] stands for; typed column reads.

use crate::backend::{BackendError, Result};
use deadpool_postgres::Pool;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio_postgres::types::FromSql;
use tokio_postgres::{IsolationLevel, Row};

/// The transaction the backend's functions work in.
pub type Tx<'t> = deadpool_postgres::Transaction<'t>;

/// The future of one attempt.
pub type TxFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'c>>;

/// How often and how patiently a conflicting transaction is rerun.
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    /// Attempts in all (the first included).
    pub attempts: u32,
    /// Backoff before the second attempt (doubling, full jitter, up to `cap`).
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 12,
            base: Duration::from_millis(4),
            cap: Duration::from_millis(250),
        }
    }
}

impl Retry {
    fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.cap);
        let mut b = [0u8; 4];
        let r = match getrandom::getrandom(&mut b) {
            Ok(()) => u32::from_le_bytes(b),
            Err(_) => u32::MAX / 2,
        };
        ceiling.mul_f64(f64::from(r) / f64::from(u32::MAX))
    }
}

/// What a transaction does: writes (the database's default isolation, row locks) or
/// reads one consistent snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Write,
    Snapshot,
}

/// Runs `f` in a transaction and commits; reruns it from scratch while it fails with
/// [`BackendError::Busy`] (at most `retry.attempts` times, then that error).
pub async fn run<T, F>(pool: &Pool, retry: Retry, mode: Mode, mut f: F) -> Result<T>
where
    T: Send,
    F: for<'c> FnMut(&'c mut Tx<'_>) -> TxFuture<'c, T> + Send,
{
    let mut attempt = 1;
    loop {
        match once(pool, mode, &mut f).await {
            Err(BackendError::Busy(msg)) if attempt < retry.attempts => {
                tracing::debug!(attempt, %msg, "transaction conflict: retrying");
                tokio::time::sleep(retry.delay(attempt)).await;
                attempt += 1;
            }
            Err(BackendError::Busy(msg)) => {
                return Err(BackendError::Busy(format!(
                    "{msg} (after {attempt} attempts)"
                )))
            }
            other => return other,
        }
    }
}

async fn once<T, F>(pool: &Pool, mode: Mode, f: &mut F) -> Result<T>
where
    F: for<'c> FnMut(&'c mut Tx<'_>) -> TxFuture<'c, T>,
{
    let mut client = pool.get().await?;
    let builder = client.build_transaction();
    let builder = match mode {
        Mode::Write => builder,
        Mode::Snapshot => builder
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true),
    };
    // Dropped on error (or cancellation): tokio-postgres rolls it back.
    let mut tx = builder.start().await?;
    let out = f(&mut tx).await?;
    tx.commit().await?;
    Ok(out)
}

/// Column `idx` of a row, a typed error (never a panic) when it does not fit.
pub fn col<'a, T: FromSql<'a>>(row: &'a Row, idx: usize) -> Result<T> {
    row.try_get(idx)
        .map_err(|e| BackendError::Corrupt(format!("column {idx}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded() {
        let r = Retry::default();
        for a in 1..40 {
            assert!(r.delay(a) <= r.cap);
        }
    }
}
