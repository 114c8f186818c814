//! A till's upload: in-order, exactly-once, one transaction per batch (rules shared in
//! [`crate::backend::batch`]). Locks, always in this order: the till's cursor row (one
//! batch of a till at a time), the gseq counter row (before the first event to apply:
//! appliers are serialised), the touched account rows.

use super::apply::{apply_event, lock_counter};
use super::tx::{col, Tx};
use crate::backend::apply::ApplyError;
use crate::backend::batch::{self, Answer, Prepared, SettledRows, Step};
use crate::backend::hash::ts;
use crate::backend::{BackendError, Result};
use chrono::{DateTime, Utc};
use loyalty_wire::{Conflict, EventEnvelope, ShortfallNote, UploadResponse};

pub async fn ingest(
    t: &mut Tx<'_>,
    till_id: &str,
    events: &[Prepared],
    received_at: DateTime<Utc>,
) -> Result<UploadResponse> {
    let row = t
        .query_opt(
            "SELECT last_seq FROM till_cursors WHERE till_id = $1 FOR UPDATE",
            &[&till_id],
        )
        .await?
        .ok_or_else(|| BackendError::TillNotFound(till_id.to_string()))?;
    let mut last: i64 = col(&row, 0)?;
    let start = last;
    let mut counter_locked = false;
    let mut conflicts = Vec::new();
    let mut shortfalls = Vec::new();
    for p in events {
        match batch::step(p.env.seq, last) {
            Step::Invalid => conflicts.push(batch::invalid_seq(&p.env)),
            Step::Settled => match settled(t, till_id, p).await? {
                Answer::Duplicate => shortfalls.extend(shortfalls_of(t, &p.env).await?),
                Answer::Conflict(c) => conflicts.push(c),
            },
            Step::Gap => break,
            Step::Next => {
                if !counter_locked {
                    lock_counter(t).await?;
                    counter_locked = true;
                }
                match apply_one(t, till_id, p, received_at).await? {
                    Ok(notes) => shortfalls.extend(notes),
                    Err(c) => conflicts.push(c),
                }
                last = p.env.seq;
            }
        }
    }
    if last != start {
        t.execute(
            "UPDATE till_cursors SET last_seq = $2 WHERE till_id = $1",
            &[&till_id, &last],
        )
        .await?;
    }
    Ok(UploadResponse {
        applied_upto: last,
        server_time: received_at,
        conflicts,
        shortfalls,
    })
}

/// The stored rows of a settled seq, answered by the shared rule.
async fn settled(t: &Tx<'_>, till_id: &str, p: &Prepared) -> Result<Answer> {
    let applied = t
        .query_opt(
            "SELECT op_id, hash FROM events WHERE till_id = $1 AND seq = $2",
            &[&till_id, &p.env.seq],
        )
        .await?
        .map(|r| Ok::<_, BackendError>((col(&r, 0)?, col(&r, 1)?)))
        .transpose()?;
    let rejected = if applied.is_some() {
        None
    } else {
        t.query_opt(
            "SELECT op_id, hash, code, message FROM rejected_events WHERE till_id = $1 AND seq = $2",
            &[&till_id, &p.env.seq],
        )
        .await?
        .map(|r| Ok::<_, BackendError>((col(&r, 0)?, col(&r, 1)?, col(&r, 2)?, col(&r, 3)?)))
        .transpose()?
    };
    Ok(batch::settled_answer(p, SettledRows { applied, rejected }))
}

async fn shortfalls_of(t: &Tx<'_>, e: &EventEnvelope) -> Result<Vec<ShortfallNote>> {
    let rows = t
        .query(
            "SELECT account_uid, points FROM shortfalls WHERE op_id = $1 ORDER BY account_uid",
            &[&e.op_id.to_string()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(ShortfallNote {
                seq: e.seq,
                op_id: e.op_id,
                account_uid: col(r, 0)?,
                points: col(r, 1)?,
            })
        })
        .collect()
}

/// The next event in order: applied (its shortfalls) or rejected (a conflict, recorded so
/// a re-upload gets it again). Either way the seq is settled.
async fn apply_one(
    t: &Tx<'_>,
    till_id: &str,
    p: &Prepared,
    received_at: DateTime<Utc>,
) -> Result<std::result::Result<Vec<ShortfallNote>, Conflict>> {
    let e = &p.env;
    let op = e.op_id.to_string();
    let elsewhere = t
        .query_opt("SELECT till_id, seq FROM events WHERE op_id = $1", &[&op])
        .await?;
    let (code, message) = match elsewhere {
        Some(r) => batch::op_reused(e, &col::<String>(&r, 0)?, col(&r, 1)?),
        None => match apply_event(t, till_id, p, received_at).await {
            Ok(notes) => return Ok(Ok(notes)),
            Err(ApplyError::Backend(err)) => return Err(err),
            Err(ApplyError::Reject { code, message }) => (code.to_string(), message),
        },
    };
    tracing::warn!(till_id, seq = e.seq, op_id = %op, code, %message, "event rejected");
    t.execute(
        "INSERT INTO rejected_events
            (till_id, seq, op_id, hash, code, message, recorded_at, received_at, fact)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &till_id,
            &e.seq,
            &op,
            &p.hash,
            &code,
            &message,
            &ts(e.recorded_at),
            &ts(received_at),
            &p.json,
        ],
    )
    .await?;
    Ok(Err(batch::conflict(e, &code, message)))
}
