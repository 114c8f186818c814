//! Balances and invariant checks (for the UI, tests and the crash/property tests).

use crate::error::Result;
use crate::Store;

impl Store {
    /// Points of an account at `now` (available, pending, shortfall, expiring soon).
    pub fn balance(
        &self,
        account_id: i64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::Balance> {
        crate::ledger::balance(&self.conn, account_id, now)
    }

    /// Checks the ledger invariant of every account:
    /// `Σ ledger.points = Σ lots.remaining − shortfall`, and that no lot or shortfall is
    /// negative. Returns the ids of the accounts that violate it (empty = all good). An
    /// account holding a deferred server book (`books`) is checked once materialised: its
    /// shortfall is the book's already, its lots and ledger the last materialised ones.
    pub fn check_invariants(&self) -> Result<Vec<i64>> {
        let mut st = self.conn.prepare_cached(
            "SELECT a.id FROM accounts a
             WHERE a.shortfall < 0
                OR a.server_book IS NULL AND COALESCE((SELECT SUM(points) FROM ledger WHERE account_id = a.id), 0)
                   <> COALESCE((SELECT SUM(remaining) FROM lots WHERE account_id = a.id), 0)
                      - a.shortfall
                OR EXISTS (SELECT 1 FROM lots WHERE account_id = a.id AND remaining < 0)
             ORDER BY a.id",
        )?;
        let rows = st.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
