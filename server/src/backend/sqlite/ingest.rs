//! A till's upload: in-order, exactly-once, one IMMEDIATE transaction per batch; each
//! event in a savepoint so a rejected fact leaves nothing behind.

use super::apply::{apply_event, ApplyError};
use crate::backend::hash::{event_hash, fact_json, ts};
use crate::backend::{BackendError, Result};
use chrono::{DateTime, Utc};
use loyalty_wire::{Conflict, EventEnvelope, ShortfallNote, UploadResponse, MAX_BATCH};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

/// `EVENT_CONFLICT`: a seq or op id already settled with other content.
pub const EVENT_CONFLICT: &str = "EVENT_CONFLICT";

pub fn ingest(
    c: &mut Connection,
    till_id: &str,
    mut events: Vec<EventEnvelope>,
    received_at: DateTime<Utc>,
) -> Result<UploadResponse> {
    if events.len() > MAX_BATCH {
        return Err(BackendError::BatchTooLarge {
            max: MAX_BATCH,
            got: events.len(),
        });
    }
    events.sort_by_key(|e| e.seq);
    let mut tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut last: i64 = tx
        .query_row(
            "SELECT last_seq FROM till_cursors WHERE till_id = ?1",
            [till_id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| BackendError::TillNotFound(till_id.to_string()))?;
    let start = last;
    let mut conflicts = Vec::new();
    let mut shortfalls = Vec::new();
    for e in &events {
        let json = fact_json(&e.fact)?;
        let hash = event_hash(e.recorded_at, &json);
        if e.seq <= 0 {
            conflicts.push(conflict(e, "INVALID_SEQ", "seq must be 1 or more".into()));
        } else if e.seq <= last {
            settled(&tx, till_id, e, &hash, &mut conflicts, &mut shortfalls)?;
        } else if e.seq > last + 1 {
            break; // a gap: the till resends from applied_upto + 1
        } else {
            let outcome = apply_one(&mut tx, till_id, e, &json, &hash, received_at)?;
            match outcome {
                Ok(notes) => shortfalls.extend(notes),
                Err(c) => conflicts.push(c),
            }
            last = e.seq;
        }
    }
    if last != start {
        tx.execute(
            "UPDATE till_cursors SET last_seq = ?2 WHERE till_id = ?1",
            params![till_id, last],
        )?;
    }
    tx.commit()?;
    Ok(UploadResponse {
        applied_upto: last,
        server_time: received_at,
        conflicts,
        shortfalls,
    })
}

fn conflict(e: &EventEnvelope, code: &str, message: String) -> Conflict {
    Conflict {
        seq: e.seq,
        op_id: e.op_id,
        code: code.to_string(),
        message,
    }
}

/// An event at an already settled seq: a duplicate gets the same answer as the first time
/// (its shortfalls, or its rejection); other content is a conflict.
fn settled(
    tx: &Transaction<'_>,
    till_id: &str,
    e: &EventEnvelope,
    hash: &str,
    conflicts: &mut Vec<Conflict>,
    shortfalls: &mut Vec<ShortfallNote>,
) -> Result<()> {
    let op = e.op_id.to_string();
    let applied: Option<(String, String)> = tx
        .query_row(
            "SELECT op_id, hash FROM events WHERE till_id = ?1 AND seq = ?2",
            params![till_id, e.seq],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((op_id, h)) = applied {
        if op_id == op && h == hash {
            shortfalls.extend(shortfalls_of(tx, &op, e)?);
        } else {
            conflicts.push(conflict(
                e,
                EVENT_CONFLICT,
                format!("seq {} was already applied with other content", e.seq),
            ));
        }
        return Ok(());
    }
    let rejected: Option<(String, String, String, String)> = tx
        .query_row(
            "SELECT op_id, hash, code, message FROM rejected_events WHERE till_id = ?1 AND seq = ?2",
            params![till_id, e.seq],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    match rejected {
        Some((op_id, h, code, message)) if op_id == op && h == hash => {
            conflicts.push(conflict(e, &code, message));
        }
        _ => conflicts.push(conflict(
            e,
            EVENT_CONFLICT,
            format!("seq {} was already settled with other content", e.seq),
        )),
    }
    Ok(())
}

fn shortfalls_of(tx: &Transaction<'_>, op: &str, e: &EventEnvelope) -> Result<Vec<ShortfallNote>> {
    let mut st = tx.prepare(
        "SELECT account_uid, points FROM shortfalls WHERE op_id = ?1 ORDER BY account_uid",
    )?;
    let rows = st.query_map([op], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
    rows.map(|r| {
        let (account_uid, points) = r?;
        Ok(ShortfallNote {
            seq: e.seq,
            op_id: e.op_id,
            account_uid,
            points,
        })
    })
    .collect()
}

/// The next event in order: applied (its shortfalls) or rejected (a conflict, recorded so
/// a re-upload gets it again). Either way the seq is settled.
fn apply_one(
    tx: &mut Transaction<'_>,
    till_id: &str,
    e: &EventEnvelope,
    json: &str,
    hash: &str,
    received_at: DateTime<Utc>,
) -> Result<std::result::Result<Vec<ShortfallNote>, Conflict>> {
    let op = e.op_id.to_string();
    let elsewhere: Option<(String, i64)> = tx
        .query_row(
            "SELECT till_id, seq FROM events WHERE op_id = ?1",
            [&op],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let rejection = if let Some((t, s)) = elsewhere {
        (
            EVENT_CONFLICT.to_string(),
            format!("op id {op} was already applied as seq {s} of till {t}"),
        )
    } else {
        let sp = tx.savepoint()?;
        match apply_event(&sp, till_id, e, json, hash, received_at) {
            Ok(notes) => {
                sp.commit()?;
                return Ok(Ok(notes));
            }
            Err(ApplyError::Backend(err)) => return Err(err),
            Err(ApplyError::Reject { code, message }) => {
                drop(sp); // rolls the savepoint back
                (code.to_string(), message)
            }
        }
    };
    let (code, message) = rejection;
    tracing::warn!(till_id, seq = e.seq, op_id = %op, code, %message, "event rejected");
    tx.execute(
        "INSERT INTO rejected_events
            (till_id, seq, op_id, hash, code, message, recorded_at, received_at, fact)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            till_id,
            e.seq,
            op,
            hash,
            code,
            message,
            ts(e.recorded_at),
            ts(received_at),
            json
        ],
    )?;
    Ok(Err(conflict(e, &code, message)))
}
