//! An owner's merge of duplicate customers ([`crate::backend::merge`]) in one transaction:
//! the server till's cursor row locked, then the gseq counter (appliers serialised), the
//! shared planner, the next gseq.

use super::apply::{apply_event, lock_counter};
use super::tx::{col, Tx};
use crate::backend::apply::parse_book;
use crate::backend::batch::Prepared;
use crate::backend::hash::{event_hash, fact_json};
use crate::backend::merge;
use crate::backend::server_batch::SERVER_TILL;
use crate::backend::{BackendError, Result};
use chrono::{DateTime, Utc};
use loyalty_wire::{EventEnvelope, MergeRequest, MergeResponse};

async fn points_of(t: &Tx<'_>, uid: &str) -> Result<i64> {
    match t
        .query_opt("SELECT book FROM accounts WHERE uid = $1", &[&uid])
        .await?
    {
        Some(row) => Ok(parse_book(uid, &col::<String>(&row, 0)?)?.total_signed()),
        None => Ok(0),
    }
}

async fn survivor_of(t: &Tx<'_>, duplicate: &str) -> Result<Option<String>> {
    match t
        .query_opt(
            "SELECT merged_into FROM accounts WHERE uid = $1",
            &[&duplicate],
        )
        .await?
    {
        Some(row) => col(&row, 0),
        None => Ok(None),
    }
}

pub async fn merge(
    t: &mut Tx<'_>,
    req: &MergeRequest,
    now: DateTime<Utc>,
) -> Result<MergeResponse> {
    let fact = merge::fact(req)?;
    let duplicate_uid = &merge::duplicate(req);
    let op = req.op_id.to_string();
    let row = t
        .query_opt(
            "SELECT last_seq FROM till_cursors WHERE till_id = $1 FOR UPDATE",
            &[&SERVER_TILL],
        )
        .await?
        .ok_or_else(|| BackendError::TillNotFound(SERVER_TILL.to_string()))?;
    let seq: i64 = col::<i64>(&row, 0)? + 1;
    lock_counter(t).await?;
    let earlier = t
        .query_opt(
            "SELECT till_id, gseq, fact FROM events WHERE op_id = $1",
            &[&op],
        )
        .await?;
    if let Some(row) = earlier {
        let (till, gseq, stored): (String, i64, String) =
            (col(&row, 0)?, col(&row, 1)?, col(&row, 2)?);
        merge::repeated(req, &fact, &till, &stored)?;
        let survivor = survivor_of(t, duplicate_uid).await?.unwrap_or_default();
        return Ok(merge::Outcome {
            survivor_points: points_of(t, &survivor).await?,
            survivor,
            gseq,
            already_applied: true,
            points_moved: 0,
            cards_moved: Vec::new(),
        }
        .response(req));
    }
    let points_moved = points_of(t, duplicate_uid).await?;
    let cards = t
        .query(
            "SELECT number FROM cards WHERE account_uid = $1 ORDER BY created_at, number",
            &[&duplicate_uid],
        )
        .await?
        .iter()
        .map(|r| col::<String>(r, 0))
        .collect::<Result<Vec<_>>>()?;
    let json = fact_json(&fact)?;
    let prepared = Prepared {
        hash: event_hash(now, &json),
        json,
        env: EventEnvelope {
            seq,
            op_id: req.op_id,
            recorded_at: now,
            fact,
        },
    };
    apply_event(t, SERVER_TILL, &prepared, now)
        .await
        .map_err(merge::rejected)?;
    t.execute(
        "UPDATE till_cursors SET last_seq = $2 WHERE till_id = $1",
        &[&SERVER_TILL, &seq],
    )
    .await?;
    let gseq: i64 = col(
        &t.query_one("SELECT gseq FROM events WHERE op_id = $1", &[&op])
            .await?,
        0,
    )?;
    let survivor = survivor_of(t, duplicate_uid)
        .await?
        .ok_or_else(|| BackendError::Corrupt(format!("merge {op} left no survivor")))?;
    let survivor_points = points_of(t, &survivor).await?;
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
