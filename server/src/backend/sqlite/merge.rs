//! An owner's merge of duplicate customers ([`crate::backend::merge`]) in one IMMEDIATE
//! transaction: the next seq of the server's till, the shared planner, the next gseq.

use super::apply::{apply_event, load_book};
use crate::backend::hash::{event_hash, fact_json};
use crate::backend::merge;
use crate::backend::server_batch::SERVER_TILL;
use crate::backend::{BackendError, Result};
use chrono::{DateTime, Utc};
use loyalty_wire::{EventEnvelope, MergeRequest, MergeResponse};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

fn points_of(c: &Connection, uid: &str) -> Result<i64> {
    Ok(load_book(c, uid)?.map_or(0, |b| b.total_signed()))
}

fn survivor_of(c: &Connection, duplicate: &str) -> Result<Option<String>> {
    Ok(
        c.prepare_cached("SELECT merged_into FROM accounts WHERE uid = ?1")?
            .query_row([duplicate], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten(),
    )
}

pub fn merge(c: &mut Connection, req: &MergeRequest, now: DateTime<Utc>) -> Result<MergeResponse> {
    let fact = merge::fact(req)?;
    let duplicate_uid = &merge::duplicate(req);
    let op = req.op_id.to_string();
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let earlier: Option<(String, i64, String)> = tx
        .prepare_cached("SELECT till_id, gseq, fact FROM events WHERE op_id = ?1")?
        .query_row([&op], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    if let Some((till, gseq, stored)) = earlier {
        merge::repeated(req, &fact, &till, &stored)?;
        let survivor = survivor_of(&tx, duplicate_uid)?.unwrap_or_default();
        return Ok(merge::Outcome {
            survivor_points: points_of(&tx, &survivor)?,
            survivor,
            gseq,
            already_applied: true,
            points_moved: 0,
            cards_moved: Vec::new(),
        }
        .response(req));
    }
    let points_moved = points_of(&tx, duplicate_uid)?;
    let cards: Vec<String> = tx
        .prepare_cached(
            "SELECT number FROM cards WHERE account_uid = ?1 ORDER BY created_at, number",
        )?
        .query_map([duplicate_uid], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let seq: i64 = tx
        .prepare_cached("SELECT last_seq FROM till_cursors WHERE till_id = ?1")?
        .query_row([SERVER_TILL], |r| r.get::<_, i64>(0))
        .optional()?
        .ok_or_else(|| BackendError::TillNotFound(SERVER_TILL.to_string()))?
        + 1;
    let json = fact_json(&fact)?;
    let env = EventEnvelope {
        seq,
        op_id: req.op_id,
        recorded_at: now,
        fact,
    };
    apply_event(&tx, SERVER_TILL, &env, &json, &event_hash(now, &json), now)
        .map_err(merge::rejected)?;
    tx.prepare_cached("UPDATE till_cursors SET last_seq = ?2 WHERE till_id = ?1")?
        .execute(params![SERVER_TILL, seq])?;
    let gseq: i64 = tx
        .prepare_cached("SELECT gseq FROM events WHERE op_id = ?1")?
        .query_row([&op], |r| r.get(0))?;
    let survivor = survivor_of(&tx, duplicate_uid)?
        .ok_or_else(|| BackendError::Corrupt(format!("merge {op} left no survivor")))?;
    let survivor_points = points_of(&tx, &survivor)?;
    tx.commit()?;
    Ok(merge::Outcome {
        survivor,
        gseq,
        already_applied: false,
        points_moved,
        survivor_points,
        cards_moved: cards,
    }
    .response(req))
}
