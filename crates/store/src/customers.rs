//! Enrolment of customers: customer + account + primary card + welcome bonus.

use chrono::{DateTime, Utc};
use loyalty_cards::{card, phone};
use loyalty_domain::{expires_at, Fact, Profile};
use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::ledger::{credit, NewLot, Posting};
use crate::lookup::resolve_account;
use crate::ops::{self, ms, next_counter, Done};
use crate::types::{Enrolled, NewCustomer};
use crate::Store;

/// Trimmed non-empty optional text.
pub(crate) fn clean(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Issues the next card number of this till (prefix + per-till serial + check digit).
pub(crate) fn issue_card_number(conn: &Connection, prefix: &str) -> Result<String> {
    let serial = next_counter(conn, "card_serial")?;
    let serial = u64::try_from(serial).map_err(|_| StoreError::Corrupt("card serial".into()))?;
    Ok(card::generate(prefix, serial)?)
}

/// Inserts a card row.
pub(crate) fn insert_card(
    conn: &Connection,
    number: &str,
    account: i64,
    kind: &str,
    op: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO cards (number, account_id, kind, status, issued_at, op_id)
         VALUES (?1, ?2, ?3, 'active', ?4, ?5)",
    )?
    .execute(params![number, account, kind, ms(now), op])?;
    Ok(())
}

impl Store {
    /// Enrols a customer: validates and normalises the phone (E.164, unique →
    /// `DUPLICATE_PHONE`), resolves the optional referrer (card or phone), creates customer,
    /// account and a new primary card (per-till serial, check digit), credits the program's
    /// welcome bonus as a lot (available at once), appends an `enrol` outbox event.
    pub fn enrol(&mut self, op_id: Uuid, c: NewCustomer, now: DateTime<Utc>) -> Result<Enrolled> {
        let name = c.name.trim().to_string();
        if name.is_empty() {
            return Err(StoreError::InvalidInput(
                "customer name must not be empty".into(),
            ));
        }
        let phone = match clean(&c.phone) {
            Some(p) => Some(phone::normalize(&p, &self.opts.default_region)?),
            None => None,
        };
        let tag_list: Vec<String> = c
            .tags
            .iter()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        let tags = serde_json::to_string(&tag_list)?;
        let program = self.programs.at(now).clone();
        let opts = self.opts.clone();
        let prefix = self.card_prefix.clone();
        let region = opts.default_region.clone();
        ops::run(
            &mut self.conn,
            &self.programs.at(now).tiers.window,
            op_id,
            "enrol",
            &c,
            now,
            |tx, op| {
                if let Some(p) = &phone {
                    let dup: Option<i64> = tx
                        .prepare_cached("SELECT id FROM customers WHERE phone = ?1")?
                        .query_row([p], |r| r.get(0))
                        .optional()?;
                    if dup.is_some() {
                        return Err(StoreError::DuplicatePhone(p.clone()));
                    }
                }
                let referrer = match clean(&c.referrer) {
                    Some(r) => Some(resolve_account(tx, &r, &region)?),
                    None => None,
                };
                let home = clean(&c.home_store).unwrap_or_else(|| opts.store_id.clone());
                tx.prepare_cached(
                    "INSERT INTO customers (uid, name, name_norm, phone, email, birthday, gender,
                    age_group, home_store, preferred_channel, marketing_consent, consent_at, tags,
                    referrer_id, enrolled_at, enrolled_store, enrolled_till, op_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                    ?17, ?1)",
                )?
                .execute(params![
                    op,
                    name,
                    name.to_lowercase(),
                    phone,
                    clean(&c.email),
                    c.birthday.map(|d| d.format("%Y-%m-%d").to_string()),
                    clean(&c.gender),
                    clean(&c.age_group),
                    home,
                    c.preferred_channel.as_str(),
                    c.marketing_consent,
                    c.marketing_consent.then(|| ms(now)),
                    tags,
                    referrer.as_ref().map(|r| r.customer.id),
                    ms(now),
                    opts.store_id,
                    opts.till_id,
                ])?;
                let customer_id = tx.last_insert_rowid();
                // The account uid is the enrol op id (= the customer uid).
                tx.prepare_cached(
                    "INSERT INTO accounts (customer_id, referral_pending, created_at, uid)
                 VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![customer_id, referrer.is_some(), ms(now), op])?;
                let account_id = tx.last_insert_rowid();
                let number = issue_card_number(tx, &prefix)?;
                insert_card(tx, &number, account_id, "primary", op, now)?;
                let welcome = program.welcome_bonus.max(0);
                if welcome > 0 {
                    let lot = NewLot {
                        kind: "welcome",
                        earned_at: now,
                        available_at: now,
                        expires_at: program.expiry_months.map(|m| expires_at(now, m)),
                        sale_id: None,
                    };
                    let p = Posting {
                        op,
                        kind: "welcome",
                        sale_id: None,
                        reason: "welcome bonus",
                        now,
                    };
                    credit(tx, account_id, welcome, &lot, &p)?;
                }
                Ok(Done {
                    result: Enrolled {
                        customer_id,
                        account_id,
                        card: number.clone(),
                        welcome_points: welcome,
                    },
                    event: Some(Fact::Enrol {
                        customer_uid: op.to_string(),
                        account_uid: op.to_string(),
                        card: number,
                        profile: Profile {
                            name,
                            phone: phone.clone(),
                            email: clean(&c.email),
                            birthday: c.birthday,
                            gender: clean(&c.gender),
                            age_group: clean(&c.age_group),
                            home_store: Some(home),
                            preferred_channel: c.preferred_channel.as_str().to_string(),
                            marketing_consent: c.marketing_consent,
                            tags: tag_list.clone(),
                        },
                        referrer_uid: referrer.as_ref().map(|r| r.customer.uid.clone()),
                        welcome_points: welcome,
                        expiry_months: program.expiry_months,
                    }),
                })
            },
        )
    }
}
