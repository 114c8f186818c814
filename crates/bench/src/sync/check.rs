//! Is every till's view of an account the server's? Compared on the balance a till shows
//! (available, pending, shortfall) at one instant, for every account given.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};

use super::server;
use super::till::BenchTill;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The outcome of a comparison.
#[derive(Debug, Default, Clone)]
pub struct Checked {
    /// (account, till) pairs compared.
    pub compared: usize,
    pub mismatches: usize,
    /// A few of them, for the log.
    pub examples: Vec<String>,
}

/// `(available, pending, shortfall)` of an account as a till shows it (`None`: unknown).
pub fn till_balance(
    t: &BenchTill,
    account_uid: &str,
    now: DateTime<Utc>,
) -> Result<Option<(i64, i64, i64)>, String> {
    let s = t.lock();
    let id: Option<i64> = s
        .connection()
        .prepare_cached("SELECT id FROM accounts WHERE uid = ?1")
        .map_err(err)?
        .query_row([account_uid], |r| r.get(0))
        .optional()
        .map_err(err)?;
    let Some(id) = id else {
        return Ok(None);
    };
    let b = s.balance(id, now).map_err(err)?;
    Ok(Some((b.available, b.pending, b.shortfall)))
}

/// Compares the server's book of each account with every till's view at `now`.
pub fn compare(
    server: &Connection,
    tills: &[&BenchTill],
    accounts: &[String],
    now: DateTime<Utc>,
) -> Result<Checked, String> {
    let mut c = Checked::default();
    for uid in accounts {
        let on_server = server::book(server, uid)?.map(|b| {
            let x = b.balance(now);
            (x.available, x.pending, x.shortfall)
        });
        for t in tills {
            let here = till_balance(t, uid, now)?;
            c.compared += 1;
            if here != on_server || here.is_none() {
                c.mismatches += 1;
                if c.examples.len() < 5 {
                    c.examples.push(format!(
                        "account {uid}: server {on_server:?}, till {} {here:?}",
                        t.name
                    ));
                }
            }
        }
    }
    Ok(c)
}
