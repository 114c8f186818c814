//! Hashes shared by every backend: event content hashes, token hashes, time text.

use chrono::{DateTime, SecondsFormat, Utc};
use loyalty_domain::Fact;
use sha2::{Digest, Sha256};

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex SHA-256 of a text.
pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Times as stored: RFC 3339 UTC with exactly 6 fractional digits, so text order = time
/// order and the same instant always gives the same text.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses a stored time.
pub fn parse_ts(s: &str) -> Result<DateTime<Utc>, super::BackendError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| super::BackendError::Corrupt(format!("bad time {s:?}: {e}")))
}

/// The content hash of an event: what must be identical for a re-upload to be a
/// duplicate. Covers `recorded_at` and the fact (canonical serde JSON), not `seq`/`op_id`
/// (those are compared separately).
pub fn event_hash(recorded_at: DateTime<Utc>, fact_json: &str) -> String {
    sha256_hex(&format!("{}\n{}", ts(recorded_at), fact_json))
}

/// The fact as stored and hashed.
pub fn fact_json(fact: &Fact) -> Result<String, super::BackendError> {
    serde_json::to_string(fact).map_err(|e| super::BackendError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ts_sorts_and_roundtrips() {
        let a = Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap();
        let b = a + chrono::Duration::microseconds(1);
        assert!(ts(a) < ts(b));
        assert_eq!(ts(a), "2025-01-02T03:04:05.000000Z");
        assert_eq!(parse_ts(&ts(b)).unwrap(), b);
        assert!(parse_ts("yesterday").is_err());
    }

    #[test]
    fn hash_depends_on_time_and_fact() {
        let a = Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap();
        let h = event_hash(a, "{}");
        assert_eq!(h.len(), 64);
        assert_eq!(h, event_hash(a, "{}"));
        assert_ne!(h, event_hash(a, "{ }"));
        assert_ne!(h, event_hash(a + chrono::Duration::seconds(1), "{}"));
    }
}
