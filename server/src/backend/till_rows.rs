//! Till rows as every backend selects them.

use super::hash::parse_ts;
use super::{Result, TillRecord};

/// A till with its store name and settled seq (append a `WHERE`/`ORDER BY`).
pub const SELECT_TILL: &str = "SELECT t.id, t.store_id, s.name, t.revoked, t.created_at,
        COALESCE(c.last_seq, 0)
    FROM tills t
    JOIN stores s ON s.id = t.store_id
    LEFT JOIN till_cursors c ON c.till_id = t.id";

/// Raw columns of a till row (times parsed afterwards).
pub type RawTill = (String, String, String, bool, String, i64);

pub fn record(raw: RawTill) -> Result<TillRecord> {
    let (id, store_id, store_name, revoked, created_at, last_seq) = raw;
    Ok(TillRecord {
        id,
        store_id,
        store_name,
        revoked,
        created_at: parse_ts(&created_at)?,
        last_seq,
    })
}
