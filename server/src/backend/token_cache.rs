//! Recently looked-up device tokens, so a till's every request does not cost a database
//! read (and, for SQLite, a hop to a blocking worker). An entry is trusted for [`TTL`]:
//! a revocation made in this process evicts at once; one made by another process (the
//! `loyalty-server till revoke` command) takes effect within [`TTL`].

use super::TillRecord;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a looked-up token is trusted without asking the database again.
pub const TTL: Duration = Duration::from_secs(1);
/// Entries kept before expired ones are dropped.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct TokenCache {
    map: Mutex<HashMap<String, (TillRecord, Instant)>>,
}

impl TokenCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (TillRecord, Instant)>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The till of a token hash looked up less than [`TTL`] ago.
    pub fn get(&self, token_hash: &str, now: Instant) -> Option<TillRecord> {
        let map = self.lock();
        let (rec, at) = map.get(token_hash)?;
        (now.duration_since(*at) < TTL).then(|| rec.clone())
    }

    pub fn put(&self, token_hash: &str, rec: TillRecord, now: Instant) {
        let mut map = self.lock();
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, (_, at)| now.duration_since(*at) < TTL);
        }
        map.insert(token_hash.to_string(), (rec, now));
    }

    /// Forgets every token of a till (it was revoked).
    pub fn evict_till(&self, till_id: &str) {
        self.lock().retain(|_, (rec, _)| rec.id != till_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn till(id: &str) -> TillRecord {
        TillRecord {
            id: id.into(),
            store_id: "s".into(),
            store_name: "S".into(),
            revoked: false,
            created_at: chrono::Utc::now(),
            last_seq: 0,
        }
    }

    #[test]
    fn entries_expire_and_revocation_evicts() {
        let c = TokenCache::default();
        let t = Instant::now();
        assert_eq!(c.get("h", t), None);
        c.put("h", till("a"), t);
        c.put("k", till("b"), t);
        assert_eq!(c.get("h", t + TTL / 2).map(|r| r.id), Some("a".into()));
        assert_eq!(c.get("h", t + TTL), None, "stale after the TTL");
        c.evict_till("a");
        assert_eq!(c.get("h", t), None);
        assert_eq!(c.get("k", t).map(|r| r.id), Some("b".into()));
    }
}
