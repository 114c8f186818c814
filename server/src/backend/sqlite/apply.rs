//! Applying one fact to the server's tables: the account's book (through the pure
//! `AccountBook::apply`), customers, cards, reservations, shortfalls, the event row, gseq.

use crate::backend::hash::ts;
use crate::backend::BackendError;
use chrono::{DateTime, Utc};
use loyalty_domain::{AccountBook, Applied, ApplyCtx, Fact, Profile};
use loyalty_wire::{EventEnvelope, ShortfallNote};
use rusqlite::{params, Connection, OptionalExtension};

/// Why a fact was not applied.
pub enum ApplyError {
    /// The fact cannot be applied (settled as a conflict, nothing written).
    Reject { code: &'static str, message: String },
    /// The database failed (the whole batch fails).
    Backend(BackendError),
}

impl From<rusqlite::Error> for ApplyError {
    fn from(e: rusqlite::Error) -> Self {
        ApplyError::Backend(e.into())
    }
}

impl From<BackendError> for ApplyError {
    fn from(e: BackendError) -> Self {
        ApplyError::Backend(e)
    }
}

fn reject(code: &'static str, message: String) -> ApplyError {
    ApplyError::Reject { code, message }
}

type Applying<T> = std::result::Result<T, ApplyError>;

/// Takes the next global sequence number (the counter row serialises appliers).
pub fn next_gseq(c: &Connection) -> rusqlite::Result<i64> {
    c.execute(
        "UPDATE counters SET value = value + 1 WHERE name = 'gseq'",
        [],
    )?;
    c.query_row("SELECT value FROM counters WHERE name = 'gseq'", [], |r| {
        r.get(0)
    })
}

/// The stored book of an account, `None` if there is no such account.
pub fn load_book(c: &Connection, account_uid: &str) -> Result<Option<AccountBook>, BackendError> {
    let json: Option<String> = c
        .query_row(
            "SELECT book FROM accounts WHERE uid = ?1",
            [account_uid],
            |r| r.get(0),
        )
        .optional()?;
    match json {
        None => Ok(None),
        Some(j) => serde_json::from_str(&j)
            .map(Some)
            .map_err(|e| BackendError::Corrupt(format!("book of account {account_uid}: {e}"))),
    }
}

fn save_book(c: &Connection, book: &mut AccountBook, gseq: i64, now: &str) -> Applying<()> {
    book.prune_empty();
    let json = serde_json::to_string(book).map_err(BackendError::from)?;
    c.execute(
        "UPDATE accounts SET book = ?2, gseq = ?3, updated_at = ?4 WHERE uid = ?1",
        params![book.account_uid, json, gseq, now],
    )?;
    Ok(())
}

fn existing_book(c: &Connection, account_uid: &str) -> Applying<AccountBook> {
    load_book(c, account_uid)?.ok_or_else(|| {
        reject(
            "ACCOUNT_NOT_FOUND",
            format!("account {account_uid} not found"),
        )
    })
}

fn book_apply(book: &mut AccountBook, fact: &Fact, ctx: ApplyCtx<'_>) -> Applying<Applied> {
    book.apply(fact, ctx)
        .map_err(|e| reject(e.code(), e.to_string()))
}

fn card_owner(c: &Connection, card: &str) -> rusqlite::Result<Option<String>> {
    c.query_row(
        "SELECT account_uid FROM cards WHERE number = ?1",
        [card],
        |r| r.get(0),
    )
    .optional()
}

/// Adds a card to an account (already this account's: kept as is; another's: rejected).
fn add_card(c: &Connection, account_uid: &str, card: &str, kind: &str, now: &str) -> Applying<()> {
    match card_owner(c, card)? {
        Some(owner) if owner == account_uid => Ok(()),
        Some(owner) => Err(reject(
            "CARD_TAKEN",
            format!("card {card} already belongs to account {owner}"),
        )),
        None => {
            c.execute(
                "INSERT INTO cards (number, account_uid, status, kind, created_at)
                 VALUES (?1, ?2, 'active', ?3, ?4)",
                params![card, account_uid, kind, now],
            )?;
            Ok(())
        }
    }
}

/// Applies one in-order event; returns its shortfall notes.
pub fn apply_event(
    c: &Connection,
    till_id: &str,
    e: &EventEnvelope,
    fact_json: &str,
    hash: &str,
    received_at: DateTime<Utc>,
) -> Applying<Vec<ShortfallNote>> {
    let op = e.op_id.to_string();
    let event_time = e.recorded_at.min(received_at);
    let ctx = ApplyCtx {
        op_id: &op,
        event_time,
    };
    let now = ts(received_at);
    let gseq = next_gseq(c)?;
    let account = e.fact.account_uid().to_string();
    let mut touched: Vec<(AccountBook, Applied)> = Vec::new();
    match &e.fact {
        Fact::Enrol {
            customer_uid,
            card,
            profile,
            referrer_uid,
            ..
        } => {
            if load_book(c, &account)?.is_some() {
                return Err(reject(
                    "ACCOUNT_EXISTS",
                    format!("account {account} already exists"),
                ));
            }
            let mut book = AccountBook::new(account.clone());
            let applied = book_apply(&mut book, &e.fact, ctx)?;
            enrol_rows(c, &account, customer_uid, profile, referrer_uid, &now)?;
            add_card(c, &account, card, "primary", &now)?;
            touched.push((book, applied));
        }
        Fact::Sale {
            referrer,
            hold_days,
            expiry_months,
            reservation_id,
            ..
        } => {
            let mut book = existing_book(c, &account)?;
            let applied = book_apply(&mut book, &e.fact, ctx)?;
            touched.push((book, applied));
            if let Some((ref_uid, points)) = referrer.as_ref().filter(|(_, p)| *p > 0) {
                match load_book(c, ref_uid)? {
                    Some(mut rbook) => {
                        let applied = rbook
                            .credit_referral(&op, *points, event_time, *hold_days, *expiry_months)
                            .map_err(|e| reject(e.code(), e.to_string()))?;
                        touched.push((rbook, applied));
                    }
                    None => tracing::warn!(
                        op_id = %op, referrer = %ref_uid,
                        "referrer account not found: referral points not credited"
                    ),
                }
            }
            if let Some(rid) = reservation_id {
                c.execute(
                    "UPDATE reservations SET status = 'consumed', consumed_by = ?3, closed_at = ?4
                     WHERE id = ?1 AND account_uid = ?2 AND status = 'active'",
                    params![rid, account, op, now],
                )?;
            }
        }
        Fact::Return { .. } | Fact::Adjust { .. } => {
            let mut book = existing_book(c, &account)?;
            let applied = book_apply(&mut book, &e.fact, ctx)?;
            touched.push((book, applied));
        }
        Fact::CardBlock {
            old_card, new_card, ..
        } => {
            let mut book = existing_book(c, &account)?;
            let applied = book_apply(&mut book, &e.fact, ctx)?;
            if card_owner(c, old_card)?.as_deref() != Some(account.as_str()) {
                return Err(reject(
                    "CARD_NOT_FOUND",
                    format!("card {old_card} is not a card of account {account}"),
                ));
            }
            c.execute(
                "UPDATE cards SET status = 'blocked' WHERE number = ?1",
                [old_card],
            )?;
            add_card(c, &account, new_card, "primary", &now)?;
            touched.push((book, applied));
        }
        Fact::FamilyCard { card, .. } => {
            let mut book = existing_book(c, &account)?;
            let applied = book_apply(&mut book, &e.fact, ctx)?;
            add_card(c, &account, card, "family", &now)?;
            touched.push((book, applied));
        }
    }
    let mut notes = Vec::new();
    for (mut book, applied) in touched {
        save_book(c, &mut book, gseq, &now)?;
        if applied.shortfall_added > 0 {
            c.execute(
                "INSERT INTO shortfalls (op_id, account_uid, till_id, seq, points, gseq, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    op,
                    book.account_uid,
                    till_id,
                    e.seq,
                    applied.shortfall_added,
                    gseq,
                    ts(e.recorded_at)
                ],
            )?;
            notes.push(ShortfallNote {
                seq: e.seq,
                op_id: e.op_id,
                account_uid: book.account_uid.clone(),
                points: applied.shortfall_added,
            });
        }
    }
    c.execute(
        "INSERT INTO events (till_id, seq, op_id, hash, gseq, recorded_at, received_at, fact)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            till_id,
            e.seq,
            op,
            hash,
            gseq,
            ts(e.recorded_at),
            now,
            fact_json
        ],
    )?;
    Ok(notes)
}

/// The account and customer rows of an enrolment (the book is saved afterwards).
fn enrol_rows(
    c: &Connection,
    account: &str,
    customer_uid: &str,
    profile: &Profile,
    referrer_uid: &Option<String>,
    now: &str,
) -> Applying<()> {
    let exists: Option<String> = c
        .query_row(
            "SELECT account_uid FROM customers WHERE uid = ?1",
            [customer_uid],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(other) = exists {
        return Err(reject(
            "CUSTOMER_EXISTS",
            format!("customer {customer_uid} already has account {other}"),
        ));
    }
    c.execute(
        "INSERT INTO accounts (uid, gseq, book, created_at, updated_at)
         VALUES (?1, 0, '{}', ?2, ?2)",
        params![account, now],
    )?;
    let profile = serde_json::to_string(profile).map_err(BackendError::from)?;
    c.execute(
        "INSERT INTO customers (uid, account_uid, profile, referrer_uid, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![customer_uid, account, profile, referrer_uid, now],
    )?;
    Ok(())
}
