//! The SQL-agnostic rules of a till's upload, shared by every backend: batch checks,
//! what to do with each seq, and how a re-upload of a settled seq is answered.

use super::hash::{event_hash, fact_json};
use super::{BackendError, Result};
use loyalty_wire::{Conflict, EventEnvelope, MAX_BATCH};

/// `EVENT_CONFLICT`: a seq or op id already settled with other content.
pub const EVENT_CONFLICT: &str = "EVENT_CONFLICT";

/// An event with its stored JSON and content hash.
pub struct Prepared {
    pub env: EventEnvelope,
    pub json: String,
    pub hash: String,
}

/// Refuses oversized batches; sorts by seq; hashes every event.
pub fn prepare(mut events: Vec<EventEnvelope>) -> Result<Vec<Prepared>> {
    if events.len() > MAX_BATCH {
        return Err(BackendError::BatchTooLarge {
            max: MAX_BATCH,
            got: events.len(),
        });
    }
    events.sort_by_key(|e| e.seq);
    events
        .into_iter()
        .map(|env| {
            let json = fact_json(&env.fact)?;
            let hash = event_hash(env.recorded_at, &json);
            Ok(Prepared { env, json, hash })
        })
        .collect()
}

/// What an event's seq means given the till's settled seq `last`.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// seq < 1: reported, nothing else.
    Invalid,
    /// Already settled: a duplicate or a conflict.
    Settled,
    /// The next one: apply it.
    Next,
    /// Past a gap: stop the batch (the till resends from applied_upto + 1).
    Gap,
}

pub fn step(seq: i64, last: i64) -> Step {
    if seq <= 0 {
        Step::Invalid
    } else if seq <= last {
        Step::Settled
    } else if seq > last + 1 {
        Step::Gap
    } else {
        Step::Next
    }
}

pub fn conflict(e: &EventEnvelope, code: &str, message: String) -> Conflict {
    Conflict {
        seq: e.seq,
        op_id: e.op_id,
        code: code.to_string(),
        message,
    }
}

pub fn invalid_seq(e: &EventEnvelope) -> Conflict {
    conflict(e, "INVALID_SEQ", "seq must be 1 or more".into())
}

/// A settled seq's stored rows: the applied event `(op_id, hash)` or the rejected one
/// `(op_id, hash, code, message)`.
pub struct SettledRows {
    pub applied: Option<(String, String)>,
    pub rejected: Option<(String, String, String, String)>,
}

/// The answer to a re-upload of a settled seq.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// The same event, applied: report its stored shortfalls again.
    Duplicate,
    /// Its first rejection again, or a conflict (other content at the seq).
    Conflict(Conflict),
}

pub fn settled_answer(p: &Prepared, rows: SettledRows) -> Answer {
    let e = &p.env;
    let op = e.op_id.to_string();
    if let Some((op_id, h)) = rows.applied {
        if op_id == op && h == p.hash {
            return Answer::Duplicate;
        }
        return Answer::Conflict(conflict(
            e,
            EVENT_CONFLICT,
            format!("seq {} was already applied with other content", e.seq),
        ));
    }
    match rows.rejected {
        Some((op_id, h, code, message)) if op_id == op && h == p.hash => {
            Answer::Conflict(conflict(e, &code, message))
        }
        _ => Answer::Conflict(conflict(
            e,
            EVENT_CONFLICT,
            format!("seq {} was already settled with other content", e.seq),
        )),
    }
}

/// The rejection of an op id already applied as `(till, seq)`.
pub fn op_reused(e: &EventEnvelope, till: &str, seq: i64) -> (String, String) {
    (
        EVENT_CONFLICT.to_string(),
        format!(
            "op id {} was already applied as seq {seq} of till {till}",
            e.op_id
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps() {
        assert_eq!(step(0, 3), Step::Invalid);
        assert_eq!(step(3, 3), Step::Settled);
        assert_eq!(step(4, 3), Step::Next);
        assert_eq!(step(5, 3), Step::Gap);
    }
}
