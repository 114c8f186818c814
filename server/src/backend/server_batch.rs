//! Server-origin batches (`loyalty-server import`): facts the server itself originates,
//! planned with the same rules as a till's ([`super::apply::plan_values`]) and recorded
//! under the server's own till ([`SERVER_TILL`], migration 0002): each fact takes the next
//! seq of that till and the next gseq, so tills receive the result through changes and
//! snapshots exactly like a till-made fact.
//!
//! A batch is applied in ONE transaction, chunk by chunk as a [`ServerEventSource`] hands
//! them out (a million facts never sit in memory at once). Every fact must apply: the first
//! rejection rolls the whole batch back ([`BackendError::BatchRejected`]). The batch id is
//! recorded in `server_batches`: applying the same id again changes nothing and reports
//! the first application ([`ServerBatchOutcome::AlreadyApplied`]).
//!
//! This module is SQL-free: a backend reads [`ChunkNeeds`] into [`ChunkLoaded`] (locking
//! existing accounts), calls [`plan_chunk`], and writes the [`ChunkPlan`] with its own SQL.

use super::apply::{self, ApplyError, Loaded};
use super::hash::{event_hash, fact_json, ts};
use super::{BackendError, Result};
use chrono::{DateTime, Utc};
use loyalty_domain::{AccountBook, Fact, Points};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// The till id of server-origin facts (a revoked till without a device token).
pub const SERVER_TILL: &str = "server";

/// The store of [`SERVER_TILL`] (migration 0002).
pub const SERVER_STORE: &str = "server";

/// Events per chunk a source should hand out (a backend accepts any size).
pub const CHUNK_EVENTS: usize = 1000;

/// One server-origin fact.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerEvent {
    /// Stable for the same input (e.g. a UUIDv5), so a rerun cannot apply it twice.
    pub op_id: Uuid,
    /// The fact's time; its event time is `min(recorded_at, received_at)`.
    pub recorded_at: DateTime<Utc>,
    pub fact: Fact,
    /// Where the fact comes from, for error messages (e.g. `line 17`).
    pub label: String,
}

/// What a batch is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerBatch {
    /// Stable id (an import: the file's SHA-256).
    pub id: String,
    /// `"import"`.
    pub kind: String,
    /// Human label (an import: the file name).
    pub label: String,
    pub received_at: DateTime<Utc>,
}

/// Hands out a batch's events in order, in chunks.
pub trait ServerEventSource: Send {
    /// The next chunk (`None`: no more).
    fn next_chunk(&mut self) -> Result<Option<Vec<ServerEvent>>>;
    /// Back to the first chunk: the backend reruns a transaction that conflicted.
    fn rewind(&mut self) -> Result<()>;
    /// `n` more events are written (for a progress display; not yet committed).
    fn written(&mut self, _n: usize) {}
}

/// A batch as recorded in `server_batches`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchRecord {
    pub id: String,
    pub kind: String,
    pub label: String,
    pub events: i64,
    /// Seq range of the server till (`first_seq > last_seq` when empty).
    pub first_seq: i64,
    pub last_seq: i64,
    pub first_gseq: i64,
    pub last_gseq: i64,
    pub applied_at: DateTime<Utc>,
}

/// The answer to [`super::Backend::apply_server_batch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerBatchOutcome {
    /// Applied and committed now.
    Applied(BatchRecord),
    /// This batch id was applied before: nothing changed.
    AlreadyApplied(BatchRecord),
}

impl ServerBatchOutcome {
    pub fn record(&self) -> &BatchRecord {
        match self {
            ServerBatchOutcome::Applied(r) | ServerBatchOutcome::AlreadyApplied(r) => r,
        }
    }
}

/// The rows a chunk reads before it is planned (each listed once).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ChunkNeeds {
    /// Lock these (sorted, so concurrent writers lock in one order).
    pub accounts: Vec<String>,
    pub cards: Vec<String>,
    pub customers: Vec<String>,
    pub op_ids: Vec<String>,
}

/// What the backend found for [`ChunkNeeds`] (only rows that exist).
#[derive(Debug, Default)]
pub struct ChunkLoaded {
    pub books: HashMap<String, AccountBook>,
    /// Card number → owning account.
    pub card_owners: HashMap<String, String>,
    /// Customer uid → account.
    pub customer_accounts: HashMap<String, String>,
    /// Op ids already applied (by any till).
    pub existing_ops: HashSet<String>,
}

pub fn chunk_needs(events: &[ServerEvent]) -> ChunkNeeds {
    let mut accounts = HashSet::new();
    let mut cards = HashSet::new();
    let mut customers = HashSet::new();
    let mut op_ids = Vec::with_capacity(events.len());
    for e in events {
        let n = apply::needs(&e.fact);
        accounts.extend(n.accounts);
        cards.extend(n.cards);
        customers.extend(n.customer);
        op_ids.push(e.op_id.to_string());
    }
    let sorted = |set: HashSet<String>| {
        let mut v: Vec<String> = set.into_iter().collect();
        v.sort();
        v
    };
    op_ids.sort();
    op_ids.dedup();
    ChunkNeeds {
        accounts: sorted(accounts),
        cards: sorted(cards),
        customers: sorted(customers),
        op_ids,
    }
}

/// An `events` row.
#[derive(Debug, PartialEq, Eq)]
pub struct EventRow {
    pub seq: i64,
    pub op_id: String,
    pub hash: String,
    pub gseq: i64,
    pub recorded_at: String,
    pub fact: String,
}

/// An `accounts` row to insert (new) or update (book, gseq).
#[derive(Debug, PartialEq, Eq)]
pub struct AccountRow {
    pub uid: String,
    pub gseq: i64,
    pub book: String,
    /// New accounts: the enrolment's event time.
    pub created_at: String,
}

#[derive(Debug, PartialEq, Eq)]
pub struct CustomerRow {
    pub uid: String,
    pub account_uid: String,
    pub profile: String,
    pub referrer_uid: Option<String>,
    pub created_at: String,
}

#[derive(Debug, PartialEq, Eq)]
pub struct CardRow {
    pub number: String,
    pub account_uid: String,
    pub kind: &'static str,
    pub created_at: String,
}

#[derive(Debug, PartialEq, Eq)]
pub struct ShortfallRow {
    pub op_id: String,
    pub account_uid: String,
    pub seq: i64,
    pub points: Points,
    pub gseq: i64,
    pub recorded_at: String,
}

/// Everything a chunk writes, in the order to write it: accounts, customers, cards, card
/// blocks, reservations, account updates, shortfalls, events.
#[derive(Debug, Default)]
pub struct ChunkPlan {
    pub new_accounts: Vec<AccountRow>,
    pub customers: Vec<CustomerRow>,
    pub new_cards: Vec<CardRow>,
    pub blocked_cards: Vec<String>,
    /// `(reservation id, account uid, consuming op id)`.
    pub consumed: Vec<(String, String, String)>,
    pub changed_accounts: Vec<AccountRow>,
    pub shortfalls: Vec<ShortfallRow>,
    pub events: Vec<EventRow>,
    /// The analytics rows of the chunk's facts and its books' summaries (written last).
    pub analytics: Vec<super::analytics::Stmt>,
}

/// A touched account: its book, last gseq, whether this chunk created it (and when).
struct Touched {
    book: AccountBook,
    gseq: i64,
    created_at: Option<String>,
}

fn rejected(e: &ServerEvent, code: &'static str, message: String) -> BackendError {
    BackendError::BatchRejected {
        label: e.label.clone(),
        code,
        message,
    }
}

/// Plans a chunk whose events take seqs `first_seq..` and gseqs `first_gseq..` in order.
/// Facts of the same chunk see each other's effects (an enrolment, then its opening
/// balance). The first fact that cannot apply rejects the batch.
pub fn plan_chunk(
    events: &[ServerEvent],
    mut loaded: ChunkLoaded,
    first_seq: i64,
    first_gseq: i64,
    received_at: DateTime<Utc>,
) -> Result<ChunkPlan> {
    let mut out = ChunkPlan::default();
    let mut touched: HashMap<String, Touched> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut seen_ops: HashSet<String> = HashSet::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let (seq, gseq) = (first_seq + i as i64, first_gseq + i as i64);
        let op = e.op_id.to_string();
        if loaded.existing_ops.contains(&op) || !seen_ops.insert(op.clone()) {
            return Err(rejected(
                e,
                super::batch::EVENT_CONFLICT,
                format!("op id {op} was already applied"),
            ));
        }
        let event_time = e.recorded_at.min(received_at);
        let needs = apply::needs(&e.fact);
        let mut input = Loaded::default();
        for uid in &needs.accounts {
            let book = match touched.get(uid) {
                Some(t) => Some(t.book.clone()),
                None => loaded.books.remove(uid),
            };
            if let Some(book) = book {
                input.books.insert(uid.clone(), book);
            }
        }
        for card in &needs.cards {
            if let Some(owner) = loaded.card_owners.get(card) {
                input.card_owners.insert(card.clone(), owner.clone());
            }
        }
        if let Some(c) = &needs.customer {
            input.customer_account = loaded.customer_accounts.get(c).cloned();
        }
        let (plan, books) = match apply::plan_values(&e.fact, &op, event_time, input) {
            Ok(p) => p,
            Err(ApplyError::Reject { code, message }) => return Err(rejected(e, code, message)),
            Err(ApplyError::Backend(err)) => return Err(err),
        };
        let when = ts(event_time);
        let account = e.fact.account_uid();
        if let Some(a) = plan.new_account {
            loaded
                .customer_accounts
                .insert(a.customer_uid.clone(), a.account_uid.clone());
            out.customers.push(CustomerRow {
                uid: a.customer_uid,
                account_uid: a.account_uid,
                profile: a.profile,
                referrer_uid: a.referrer_uid,
                created_at: when.clone(),
            });
            touched.insert(
                account.to_string(),
                Touched {
                    book: AccountBook::new(account),
                    gseq,
                    created_at: Some(when.clone()),
                },
            );
            order.push(account.to_string());
        }
        if let Some(card) = plan.block_card {
            out.blocked_cards.push(card);
        }
        for (number, kind) in plan.new_cards {
            loaded
                .card_owners
                .insert(number.clone(), account.to_string());
            out.new_cards.push(CardRow {
                number,
                account_uid: account.to_string(),
                kind,
                created_at: ts(received_at),
            });
        }
        if let Some(rid) = plan.consume_reservation {
            out.consumed.push((rid, account.to_string(), op.clone()));
        }
        for book in books {
            let uid = book.account_uid.clone();
            match touched.get_mut(&uid) {
                Some(t) => {
                    t.book = book;
                    t.gseq = gseq;
                }
                None => {
                    order.push(uid.clone());
                    touched.insert(
                        uid,
                        Touched {
                            book,
                            gseq,
                            created_at: None,
                        },
                    );
                }
            }
        }
        let recorded_at = ts(e.recorded_at);
        for (uid, points) in plan.shortfalls {
            out.shortfalls.push(ShortfallRow {
                op_id: op.clone(),
                account_uid: uid,
                seq,
                points,
                gseq,
                recorded_at: recorded_at.clone(),
            });
        }
        super::analytics::record::all_event_stmts(
            &super::analytics::record::EventInfo {
                op_id: &op,
                till_id: SERVER_TILL,
                store_id: SERVER_STORE,
                gseq,
                event_time,
                fact: &e.fact,
            },
            &mut out.analytics,
        );
        let json = fact_json(&e.fact)?;
        out.events.push(EventRow {
            seq,
            op_id: op,
            hash: event_hash(e.recorded_at, &json),
            gseq,
            recorded_at,
            fact: json,
        });
    }
    for uid in order {
        let Some(t) = touched.remove(&uid) else {
            continue;
        };
        let summary = super::analytics::record::summarize(&t.book, received_at);
        out.analytics
            .push(super::analytics::record::summary_stmt(&summary));
        let row = |created_at: String| -> Result<AccountRow> {
            Ok(AccountRow {
                uid: uid.clone(),
                gseq: t.gseq,
                book: serde_json::to_string(&t.book)?,
                created_at,
            })
        };
        match &t.created_at {
            Some(c) => out.new_accounts.push(row(c.clone())?),
            None => out.changed_accounts.push(row(ts(received_at))?),
        }
    }
    Ok(out)
}

/// Checks a batch before anything is read.
pub fn check_batch(batch: &ServerBatch) -> Result<()> {
    if batch.id.trim().is_empty() || batch.kind.trim().is_empty() {
        return Err(BackendError::Unsupported(
            "a server batch needs an id and a kind".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "server_batch_tests.rs"]
mod tests;
