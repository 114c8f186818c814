//! A first start on an empty store writes its new accounts [`CHUNK`] at a time: one
//! multi-row `INSERT` each for their customers, accounts and cards, with the row ids the
//! store assigns (the next after the largest), instead of three statements per member.
//! Each statement opens a cursor on its table and every index of it; one statement per
//! chunk opens them once and appends row after row (a third of the first start's write
//! time was statements starting and finishing).
//!
//! Only accounts the general path would insert as they are take it: new here, none of
//! this till's facts on them, no merge (the caller checks those), a customer, valid and
//! distinct cards ([`eligible`]). The rows are the ones `sync_upsert::insert_new_account` writes with
//! `books::defer`'s columns: the same values, from the same functions.

use chrono::{DateTime, Utc};
use loyalty_domain::Points;
use loyalty_wire::AccountState;
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

use crate::error::Result;
use crate::ops::ms;
use crate::rebase::SyncReport;
use crate::sync_upsert::{clean_phone, customer_row, distinct_cards};

/// Accounts per multi-row statement (at most 17 × 64 bound values).
pub(crate) const CHUNK: usize = 64;

const CUSTOMERS: &str = "INSERT INTO customers (id, uid, name, name_norm, phone, email,
    birthday, gender, age_group, home_store, preferred_channel, marketing_consent,
    consent_at, tags, enrolled_at, enrolled_store, enrolled_till, op_id)";
const ACCOUNTS: &str = "INSERT INTO accounts (id, customer_id, created_at, uid, categories,
    categories_upto, shortfall, lifetime_spend, lifetime_purchases, stamps,
    birthday_bonus_year, referral_pending, club_until, server_book, server_book_op,
    server_book_at)";
const CARDS: &str =
    "INSERT INTO cards (number, account_id, kind, status, issued_at, blocked_at, op_id)";

/// Whether `s` can be written by [`write`]: a customer, and cards that are valid and
/// distinct (anything else takes the general path, which decides it).
pub(crate) fn eligible(s: &AccountState) -> bool {
    s.customer.is_some() && matches!(distinct_cards(s), Ok(Some(_)))
}

/// Inserts the customers, accounts (their server books deferred under `op`) and cards of
/// `states` (each [`eligible`]); returns the points they bring.
pub(crate) fn write(
    tx: &Connection,
    states: &[&AccountState],
    included_upto_seq: i64,
    op: &str,
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<Points> {
    let next = |table: &str| -> Result<i64> {
        Ok(tx
            .prepare_cached(&format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"))?
            .query_row([], |r| r.get(0))?)
    };
    let (first_customer, first_account) = (next("customers")?, next("accounts")?);
    let (mut customers, mut accounts, mut cards) = (Vec::new(), Vec::new(), Vec::new());
    let mut points: Points = 0;
    for (s, i) in states.iter().zip(0i64..) {
        let Some(c) = &s.customer else {
            continue;
        };
        let (customer, account) = (first_customer + i, first_account + i);
        customers.push(Value::from(customer));
        customers.extend(customer_row(c, clean_phone(&c.profile), now)?);
        let (categories, upto) = crate::categories::columns(s, included_upto_seq)?;
        accounts.extend([
            Value::from(account),
            Value::from(customer),
            Value::from(ms(now)),
            Value::from(s.account_uid.clone()),
            categories.map_or(Value::Null, Value::from),
            Value::from(upto),
        ]);
        accounts.extend(crate::books::deferred_values(&s.book, op, now)?);
        for (number, kind, blocked) in distinct_cards(s)?.unwrap_or_default() {
            cards.push([
                Value::from(number.to_string()),
                Value::from(account),
                Value::from(kind.to_string()),
                Value::from(if blocked { "blocked" } else { "active" }.to_string()),
                Value::from(ms(now)),
                if blocked {
                    Value::from(ms(now))
                } else {
                    Value::Null
                },
                Value::from(s.account_uid.clone()),
            ]);
        }
        points = points.saturating_add(crate::books::net(&s.book));
    }
    let n = customers.len() / 18;
    insert(tx, CUSTOMERS, 18, customers)?;
    insert(tx, ACCOUNTS, 16, accounts)?;
    report.customers_added += n;
    report.cards_added += cards.len();
    insert(tx, CARDS, 7, cards.into_iter().flatten().collect())?;
    Ok(points)
}

/// Inserts `values`, rows of `columns` values (`head` names the columns): [`CHUNK`] rows
/// per statement, the rest one by one (two statement texts per table, both cached).
fn insert(tx: &Connection, head: &str, columns: usize, values: Vec<Value>) -> Result<()> {
    let sql = |rows: usize| {
        let row = format!("({})", vec!["?"; columns].join(", "));
        format!("{head} VALUES {}", vec![row.as_str(); rows].join(", "))
    };
    let mut values = values.into_iter();
    let rows = values.len() / columns;
    let (full, single) = (sql(CHUNK), sql(1));
    for _ in 0..rows / CHUNK {
        let chunk = values.by_ref().take(CHUNK * columns);
        tx.prepare_cached(&full)?.execute(params_from_iter(chunk))?;
    }
    for _ in 0..rows % CHUNK {
        let row = values.by_ref().take(columns);
        tx.prepare_cached(&single)?.execute(params_from_iter(row))?;
    }
    Ok(())
}
