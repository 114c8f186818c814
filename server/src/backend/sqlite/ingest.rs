//! A till's upload: in-order, exactly-once. The rules are shared
//! ([`crate::backend::batch`]); a fact is rejected (settled as a conflict) only by the
//! shared planner, before anything of it is written, so no savepoint is needed per event.
//!
//! Group commit: the uploads waiting for the connection are applied together in ONE
//! IMMEDIATE transaction ([`ingest_group`]) and answered only after it committed. So
//! concurrent tills share one commit (one WAL fsync under `synchronous=FULL`) instead of
//! queueing for one each. If any of them fails, the group is rolled back and each upload
//! is run again in a transaction of its own: a failing upload never takes others down.

use super::apply::apply_event;
use crate::backend::apply::ApplyError;
use crate::backend::batch::{self, Answer, Prepared, SettledRows, Step};
use crate::backend::hash::ts;
use crate::backend::{BackendError, Result};
use chrono::{DateTime, Utc};
use loyalty_wire::{Conflict, EventEnvelope, ShortfallNote, UploadResponse};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

/// One till's upload, its events already checked and hashed ([`batch::prepare`]).
pub struct Upload {
    pub till_id: String,
    pub events: Vec<Prepared>,
    pub received_at: DateTime<Utc>,
}

/// Applies `uploads` in one transaction; one answer per upload, in order.
pub fn ingest_group(c: &mut Connection, uploads: Vec<Upload>) -> Vec<Result<UploadResponse>> {
    match in_one_transaction(c, &uploads) {
        Ok(answers) => answers.into_iter().map(Ok).collect(),
        Err(e) if uploads.len() == 1 => vec![Err(e)],
        Err(_) => uploads
            .iter()
            .map(|u| in_one_transaction(c, std::slice::from_ref(u)).map(|mut a| a.remove(0)))
            .collect(),
    }
}

/// Every upload of `uploads` in one IMMEDIATE transaction, committed only if all succeeded.
fn in_one_transaction(c: &mut Connection, uploads: &[Upload]) -> Result<Vec<UploadResponse>> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let answers = uploads
        .iter()
        .map(|u| ingest_in(&tx, u))
        .collect::<Result<Vec<_>>>()?;
    tx.commit()?;
    Ok(answers)
}

fn ingest_in(tx: &Connection, u: &Upload) -> Result<UploadResponse> {
    let (till_id, received_at) = (u.till_id.as_str(), u.received_at);
    let mut last: i64 = tx
        .prepare_cached("SELECT last_seq FROM till_cursors WHERE till_id = ?1")?
        .query_row([till_id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| BackendError::TillNotFound(till_id.to_string()))?;
    let start = last;
    let mut conflicts = Vec::new();
    let mut shortfalls = Vec::new();
    for p in &u.events {
        match batch::step(p.env.seq, last) {
            Step::Invalid => conflicts.push(batch::invalid_seq(&p.env)),
            Step::Settled => match settled(tx, till_id, p)? {
                Answer::Duplicate => shortfalls.extend(shortfalls_of(tx, &p.env)?),
                Answer::Conflict(c) => conflicts.push(c),
            },
            Step::Gap => break,
            Step::Next => {
                match apply_one(tx, till_id, p, received_at)? {
                    Ok(notes) => shortfalls.extend(notes),
                    Err(c) => conflicts.push(c),
                }
                last = p.env.seq;
            }
        }
    }
    if last != start {
        tx.prepare_cached("UPDATE till_cursors SET last_seq = ?2 WHERE till_id = ?1")?
            .execute(params![till_id, last])?;
    }
    Ok(UploadResponse {
        applied_upto: last,
        server_time: received_at,
        conflicts,
        shortfalls,
    })
}

/// The stored rows of a settled seq, answered by the shared rule.
fn settled(tx: &Connection, till_id: &str, p: &Prepared) -> Result<Answer> {
    let applied = tx
        .prepare_cached("SELECT op_id, hash FROM events WHERE till_id = ?1 AND seq = ?2")?
        .query_row(params![till_id, p.env.seq], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let rejected = if applied.is_some() {
        None
    } else {
        tx.prepare_cached(
            "SELECT op_id, hash, code, message FROM rejected_events
             WHERE till_id = ?1 AND seq = ?2",
        )?
        .query_row(params![till_id, p.env.seq], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?
    };
    Ok(batch::settled_answer(p, SettledRows { applied, rejected }))
}

fn shortfalls_of(tx: &Connection, e: &EventEnvelope) -> Result<Vec<ShortfallNote>> {
    let mut st = tx.prepare_cached(
        "SELECT account_uid, points FROM shortfalls WHERE op_id = ?1 ORDER BY account_uid",
    )?;
    let rows = st.query_map([e.op_id.to_string()], |r| {
        Ok((r.get::<_, String>(0)?, r.get(1)?))
    })?;
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
/// a re-upload gets it again). Either way the seq is settled. A rejection comes from the
/// planner, before any write ([`apply_event`]); a database error fails the whole upload.
fn apply_one(
    tx: &Connection,
    till_id: &str,
    p: &Prepared,
    received_at: DateTime<Utc>,
) -> Result<std::result::Result<Vec<ShortfallNote>, Conflict>> {
    let e = &p.env;
    let op = e.op_id.to_string();
    let elsewhere: Option<(String, i64)> = tx
        .prepare_cached("SELECT till_id, seq FROM events WHERE op_id = ?1")?
        .query_row([&op], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (code, message) = if let Some((t, s)) = elsewhere {
        batch::op_reused(e, &t, s)
    } else {
        match apply_event(tx, till_id, e, &p.json, &p.hash, received_at) {
            Ok(notes) => return Ok(Ok(notes)),
            Err(ApplyError::Backend(err)) => return Err(err),
            Err(ApplyError::Reject { code, message }) => (code.to_string(), message),
        }
    };
    tracing::warn!(till_id, seq = e.seq, op_id = %op, code, %message, "event rejected");
    tx.prepare_cached(
        "INSERT INTO rejected_events
            (till_id, seq, op_id, hash, code, message, recorded_at, received_at, fact)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        till_id,
        e.seq,
        op,
        p.hash,
        code,
        message,
        ts(e.recorded_at),
        ts(received_at),
        p.json
    ])?;
    Ok(Err(batch::conflict(e, &code, message)))
}
