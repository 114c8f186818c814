//! Pulled server state that is not points: customers, accounts and cards enrolled or
//! issued on other tills (so they are found by card and phone here), and program versions.
//! Runs inside the transaction of [`Store::apply_changes`](crate::Store::apply_changes).

use chrono::{DateTime, Utc};
use loyalty_domain::{Points, ProgramConfig};
use loyalty_wire::{AccountState, CardState, CustomerState};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use crate::error::{Result, StoreError};
use crate::ops::ms;
use crate::rebase::SyncReport;

fn bad(msg: String) -> StoreError {
    StoreError::SyncData(msg)
}

/// Stores a server program version: the server's content wins over a local one of the same
/// version (e.g. the default program a till inserts on first open). Validated first.
pub(crate) fn upsert_program(tx: &Connection, p: &ProgramConfig, now: DateTime<Utc>) -> Result<()> {
    p.validate()?;
    let json = serde_json::to_string(p)?;
    tx.prepare_cached(
        "INSERT INTO program_versions (version, effective_from, json, created_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(version) DO UPDATE SET effective_from = excluded.effective_from,
            json = excluded.json WHERE json <> excluded.json",
    )?
    .execute(params![p.version, ms(p.effective_from), json, ms(now)])?;
    Ok(())
}

fn channel(s: &str) -> &'static str {
    match s {
        "sms" => "sms",
        "email" => "email",
        "messenger" => "messenger",
        _ => "none",
    }
}

/// Inserts or updates the customer `c` (by uid); returns its local id. A phone already used
/// by another local customer is not stored (reported in `phone_conflicts`).
fn upsert_customer(
    tx: &Connection,
    c: &CustomerState,
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<i64> {
    let p = &c.profile;
    let phone = clean_phone(p);
    let taken: Option<i64> = match phone {
        Some(ph) => tx
            .prepare_cached("SELECT id FROM customers WHERE phone = ?1 AND uid <> ?2")?
            .query_row(params![ph, c.customer_uid], |r| r.get(0))
            .optional()?,
        None => None,
    };
    let phone = if taken.is_some() {
        report.phone_conflicts.push(c.customer_uid.clone());
        None
    } else {
        phone
    };
    let tags = serde_json::to_string(&p.tags)?;
    let birthday = p.birthday.map(|d| d.format("%Y-%m-%d").to_string());
    let existing: Option<i64> = tx
        .prepare_cached("SELECT id FROM customers WHERE uid = ?1")?
        .query_row([&c.customer_uid], |r| r.get(0))
        .optional()?;
    if let Some(id) = existing {
        tx.prepare_cached(
            "UPDATE customers SET name = ?2, name_norm = ?3, phone = ?4, email = ?5,
                birthday = ?6, gender = ?7, age_group = ?8, home_store = ?9,
                preferred_channel = ?10, marketing_consent = ?11, tags = ?12
             WHERE id = ?1 AND (name IS NOT ?2 OR name_norm IS NOT ?3 OR phone IS NOT ?4
                OR email IS NOT ?5 OR birthday IS NOT ?6 OR gender IS NOT ?7
                OR age_group IS NOT ?8 OR home_store IS NOT ?9 OR preferred_channel IS NOT ?10
                OR marketing_consent IS NOT ?11 OR tags IS NOT ?12)",
        )?
        .execute(params![
            id,
            p.name,
            p.name.to_lowercase(),
            phone,
            p.email,
            birthday,
            p.gender,
            p.age_group,
            p.home_store,
            channel(&p.preferred_channel),
            p.marketing_consent,
            tags,
        ])?;
        return Ok(id);
    }
    match insert_customer(tx, c, phone, now)? {
        Some(id) => {
            report.customers_added += 1;
            Ok(id)
        }
        None => Err(bad(format!(
            "customer {} could not be stored: uid or phone taken",
            c.customer_uid
        ))),
    }
}

/// Inserts the customer row of `c` with `phone`; `None` (nothing written) when its uid or
/// phone is already taken here.
fn insert_customer(
    tx: &Connection,
    c: &CustomerState,
    phone: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let n = tx
        .prepare_cached(
            "INSERT INTO customers (uid, name, name_norm, phone, email, birthday, gender,
                age_group, home_store, preferred_channel, marketing_consent, consent_at, tags,
                enrolled_at, enrolled_store, enrolled_till, op_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params_from_iter(customer_row(c, phone, now)?))?;
    Ok((n == 1).then(|| tx.last_insert_rowid()))
}

/// The columns of a new customer row from the server, from `uid` to `op_id` in the order
/// of the table (`bulk_rows.rs` inserts many at once, with their ids before them).
pub(crate) fn customer_row(
    c: &CustomerState,
    phone: Option<&str>,
    now: DateTime<Utc>,
) -> Result<[Value; 17]> {
    let p = &c.profile;
    let text = |v: &Option<String>| v.clone().map_or(Value::Null, Value::from);
    Ok([
        Value::from(c.customer_uid.clone()),
        Value::from(p.name.clone()),
        Value::from(p.name.to_lowercase()),
        phone.map_or(Value::Null, |p| Value::from(p.to_string())),
        text(&p.email),
        p.birthday.map_or(Value::Null, |d| {
            Value::from(d.format("%Y-%m-%d").to_string())
        }),
        text(&p.gender),
        text(&p.age_group),
        text(&p.home_store),
        Value::from(channel(&p.preferred_channel).to_string()),
        Value::from(p.marketing_consent),
        if p.marketing_consent {
            Value::from(ms(now))
        } else {
            Value::Null
        },
        Value::from(serde_json::to_string(&p.tags)?),
        Value::from(ms(now)),
        Value::from(p.home_store.clone().unwrap_or_default()),
        Value::from(String::new()),
        Value::from(c.customer_uid.clone()),
    ])
}

/// The phone of a profile as stored: trimmed, `None` when empty.
pub(crate) fn clean_phone(p: &loyalty_domain::Profile) -> Option<&str> {
    p.phone.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The fast path for an account this till does not know, whose customer and cards are new
/// here too (every account of a first start): plain inserts, none of the general path's
/// look-ups. `None` — nothing written — when the account, its customer's uid or phone, or
/// one of its cards already exists here: the caller takes [`upsert_account`], which decides
/// those cases. With `defer_op` the server's book is
/// stored on the new account row as `books::defer` stores it (returned: the points it
/// brings); without, the caller writes it.
pub(crate) fn insert_new_account(
    tx: &Connection,
    s: &AccountState,
    included_upto_seq: i64,
    defer_op: Option<&str>,
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<Option<(i64, Option<Points>)>> {
    let Some(c) = &s.customer else {
        return Ok(None);
    };
    let Some(cards) = distinct_cards(s)? else {
        return Ok(None);
    };
    let known = tx
        .prepare_cached("SELECT 1 FROM accounts WHERE uid = ?1")?
        .exists([&s.account_uid])?;
    if known {
        return Ok(None);
    }
    for (number, _, _) in &cards {
        let taken = tx
            .prepare_cached("SELECT 1 FROM cards WHERE number = ?1")?
            .exists([number])?;
        if taken {
            return Ok(None);
        }
    }
    let Some(customer) = insert_customer(tx, c, clean_phone(&c.profile), now)? else {
        return Ok(None);
    };
    report.customers_added += 1;
    let (categories, upto) = crate::categories::columns(s, included_upto_seq)?;
    let row = [
        Value::from(customer),
        Value::from(ms(now)),
        Value::from(s.account_uid.clone()),
        categories.map_or(Value::Null, Value::from),
        Value::from(upto),
    ];
    let deferred = match defer_op {
        Some(op) => {
            let values = row
                .into_iter()
                .chain(crate::books::deferred_values(&s.book, op, now)?);
            tx.prepare_cached(
                "INSERT INTO accounts (customer_id, created_at, uid, categories, categories_upto,
                    shortfall, lifetime_spend, lifetime_purchases, stamps, birthday_bonus_year,
                    referral_pending, club_until, server_book, server_book_op, server_book_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?
            .execute(params_from_iter(values))?;
            Some(crate::books::net(&s.book))
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO accounts (customer_id, created_at, uid, categories, categories_upto)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params_from_iter(row))?;
            None
        }
    };
    let account = tx.last_insert_rowid();
    for card in cards {
        insert_card(tx, account, &s.account_uid, card, now, report)?;
    }
    Ok(Some((account, deferred)))
}

/// A customer row for an account the server sent without one (uid = the account uid).
fn placeholder_customer(tx: &Connection, uid: &str, now: DateTime<Utc>) -> Result<i64> {
    let c = CustomerState {
        customer_uid: uid.to_string(),
        profile: Default::default(),
        referrer_uid: None,
    };
    let existing: Option<i64> = tx
        .prepare_cached("SELECT id FROM customers WHERE uid = ?1")?
        .query_row([uid], |r| r.get(0))
        .optional()?;
    match existing {
        Some(id) => Ok(id),
        None => upsert_customer(tx, &c, now, &mut SyncReport::default()),
    }
}

/// The local account id of `s` (creating customer and account when new), its customer
/// upserted, its cards merged and its category summary (read with `included_upto_seq`)
/// stored. Returns the account id and whether it was created.
pub(crate) fn upsert_account(
    tx: &Connection,
    s: &AccountState,
    included_upto_seq: i64,
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<(i64, bool)> {
    let customer = match &s.customer {
        Some(c) => Some(upsert_customer(tx, c, now, report)?),
        None => None,
    };
    let found: Option<(i64, i64)> = tx
        .prepare_cached("SELECT id, customer_id FROM accounts WHERE uid = ?1")?
        .query_row([&s.account_uid], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let created = found.is_none();
    let account = match found {
        Some((id, cust)) => {
            if customer.is_some_and(|c| c != cust) {
                return Err(bad(format!(
                    "account {} belongs to another customer locally",
                    s.account_uid
                )));
            }
            id
        }
        None => {
            let cust = match customer {
                Some(c) => c,
                None => placeholder_customer(tx, &s.account_uid, now)?,
            };
            let other: Option<String> = tx
                .prepare_cached("SELECT uid FROM accounts WHERE customer_id = ?1")?
                .query_row([cust], |r| r.get(0))
                .optional()?;
            if let Some(other) = other {
                return Err(bad(format!(
                    "the customer of account {} already has account {other}",
                    s.account_uid
                )));
            }
            tx.prepare_cached(
                "INSERT INTO accounts (customer_id, created_at, uid) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![cust, ms(now), s.account_uid])?;
            tx.last_insert_rowid()
        }
    };
    for c in &s.cards {
        merge_card(tx, account, &s.account_uid, c, now, report)?;
    }
    crate::categories::store(tx, account, s, included_upto_seq)?;
    Ok((account, created))
}

/// Adds an unknown card; blocks a known one the server reports blocked (a card blocked
/// locally stays blocked: blocking is never undone).
fn merge_card(
    tx: &Connection,
    account: i64,
    account_uid: &str,
    c: &CardState,
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<()> {
    let (number, kind, blocked) = card_fields(c, account_uid)?;
    let local: Option<(i64, String)> = tx
        .prepare_cached("SELECT account_id, status FROM cards WHERE number = ?1")?
        .query_row([number], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match local {
        None => insert_card(
            tx,
            account,
            account_uid,
            (number, kind, blocked),
            now,
            report,
        )?,
        Some((acc, status)) if acc != account => {
            // Only a merge moves a card to another account: the owner merged the account
            // that holds it here into this one.
            let merged = tx
                .prepare_cached("SELECT 1 FROM accounts WHERE id = ?1 AND merged_into IS NOT NULL")?
                .exists([acc])?;
            if !merged {
                return Err(bad(format!(
                    "card {number} belongs to another account locally"
                )));
            }
            tx.prepare_cached("UPDATE cards SET account_id = ?2 WHERE number = ?1")?
                .execute(params![number, account])?;
            if blocked && status != "blocked" {
                tx.prepare_cached(
                    "UPDATE cards SET status = 'blocked', blocked_at = ?2 WHERE number = ?1",
                )?
                .execute(params![number, ms(now)])?;
                report.cards_blocked += 1;
            }
        }
        Some((_, status)) => {
            if blocked && status != "blocked" {
                tx.prepare_cached(
                    "UPDATE cards SET status = 'blocked', blocked_at = ?2 WHERE number = ?1",
                )?
                .execute(params![number, ms(now)])?;
                report.cards_blocked += 1;
            }
        }
    }
    Ok(())
}

/// The checked fields of the account's cards ([`card_fields`]); `None` when a number is
/// repeated (the general path decides that case).
pub(crate) fn distinct_cards(s: &AccountState) -> Result<Option<Vec<CardFields<'_>>>> {
    let cards = s
        .cards
        .iter()
        .map(|c| card_fields(c, &s.account_uid))
        .collect::<Result<Vec<_>>>()?;
    let mut numbers: Vec<&str> = cards.iter().map(|c| c.0).collect();
    numbers.sort_unstable();
    numbers.dedup();
    Ok((numbers.len() == cards.len()).then_some(cards))
}

/// A card's number, kind and whether it is blocked.
pub(crate) type CardFields<'a> = (&'a str, &'static str, bool);

/// A card's number, kind and whether it is blocked, checked.
pub(crate) fn card_fields<'a>(c: &'a CardState, account_uid: &str) -> Result<CardFields<'a>> {
    let kind = match c.kind.as_str() {
        "primary" => "primary",
        "family" => "family",
        k => return Err(bad(format!("card {}: unknown kind {k:?}", c.number))),
    };
    let blocked = match c.status.as_str() {
        "active" => false,
        "blocked" => true,
        st => return Err(bad(format!("card {}: unknown status {st:?}", c.number))),
    };
    let number = c.number.trim();
    if number.is_empty() {
        return Err(bad(format!("account {account_uid}: empty card number")));
    }
    Ok((number, kind, blocked))
}

fn insert_card(
    tx: &Connection,
    account: i64,
    account_uid: &str,
    (number, kind, blocked): (&str, &str, bool),
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO cards (number, account_id, kind, status, issued_at, blocked_at, op_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        number,
        account,
        kind,
        if blocked { "blocked" } else { "active" },
        ms(now),
        blocked.then(|| ms(now)),
        account_uid
    ])?;
    report.cards_added += 1;
    Ok(())
}

/// Links customers of the batch to their referrers (when the referrer is known here).
pub(crate) fn link_referrers(tx: &Connection, states: &[AccountState]) -> Result<()> {
    for c in states.iter().filter_map(|s| s.customer.as_ref()) {
        if let Some(r) = &c.referrer_uid {
            tx.prepare_cached(
                "UPDATE customers SET referrer_id = (SELECT id FROM customers WHERE uid = ?2)
                 WHERE uid = ?1 AND referrer_id IS NULL",
            )?
            .execute(params![c.customer_uid, r])?;
        }
    }
    Ok(())
}
