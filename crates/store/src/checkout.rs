//! Quote and checkout: the customer snapshot from the database, the domain's quote, and the
//! sale committed with its spend, earnings, referral and counters in one transaction.

use chrono::{DateTime, Utc};
use loyalty_domain::{
    quote, Basket, CustomerSnapshot, EarnKind, Fact, Points, ProgramConfig, Quote, TierWindow,
};
use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::ledger::{credit, debit_fifo, NewLot, Posting};
use crate::lookup::{by_customer, resolve, AccountRow};
use crate::ops::{self, ms, next_counter, Done};
use crate::types::{Balance, CheckoutRequest, Receipt};
use crate::Store;

/// Builds the domain's snapshot of an account (and its balance) at `now`.
pub(crate) fn snapshot(
    conn: &Connection,
    row: &AccountRow,
    program: &ProgramConfig,
    now: DateTime<Utc>,
) -> Result<(CustomerSnapshot, Balance)> {
    let now_ms = ms(now);
    // The figures cached on the account when they hold now (one row read per scan), else
    // read from the lots and sales themselves.
    let window = &program.tiers.window;
    let figures = match row.cache.filter(|c| c.usable(now_ms, window)) {
        Some(c) => c,
        None => crate::cache::live(conn, row.account_id, now_ms, window)?,
    };
    let mut balance = figures.balance()?;
    balance.shortfall = row.shortfall;
    let lifetime_purchases = u32::try_from(row.lifetime_purchases).unwrap_or(u32::MAX);
    let (window_spend, window_purchases) = match window {
        TierWindow::Lifetime => (row.lifetime_spend, lifetime_purchases),
        TierWindow::RollingDays(_) => (
            figures.win_spend,
            u32::try_from(figures.win_purchases).unwrap_or(u32::MAX),
        ),
    };
    let snap = CustomerSnapshot {
        available: balance.available,
        pending: balance.pending,
        shortfall: row.shortfall,
        lifetime_spend: row.lifetime_spend,
        lifetime_purchases,
        window_spend,
        window_purchases,
        club_until: row.club_until,
        stamps: u32::try_from(row.stamps).unwrap_or(0),
        birthday: row.customer.birthday,
        birthday_bonus_year: row.birthday_bonus_year,
        referral_pending: row.referral_pending,
    };
    Ok((snap, balance))
}

/// Ledger/lot kind of an earn item.
fn earn_kind(k: &EarnKind) -> &'static str {
    match k {
        EarnKind::Purchase => "earn",
        EarnKind::Threshold => "threshold",
        EarnKind::Stamp => "stamp",
        EarnKind::Birthday => "birthday",
        EarnKind::ReferralReferee => "referral_referee",
        EarnKind::ReferralReferrer => "referral_referrer",
    }
}

impl Store {
    /// The quote the cashier screen shows for `card` (card number, QR payload or phone):
    /// builds the snapshot from the database and calls `loyalty_domain::quote` with the
    /// program in force at `now`. Reads only.
    pub fn quote(
        &self,
        card: &str,
        basket: &Basket,
        requested_spend: Points,
        now: DateTime<Utc>,
    ) -> Result<Quote> {
        let (row, _) = resolve(
            &self.conn,
            &self.verifier,
            &self.opts.default_region,
            card,
            now,
        )?;
        let program = self.programs.at(now);
        let (snap, _) = snapshot(&self.conn, &row, program, now)?;
        Ok(quote(&snap, basket, program, now, requested_spend)?)
    }

    /// Commits a sale: the quote is recomputed inside the transaction; spent points are taken
    /// FIFO from available lots; each earn item settles the shortfall first and becomes a lot
    /// (hold and expiry per program); the referrer is credited on a referred customer's first
    /// purchase; lifetime spend/purchases, stamps and the birthday-bonus year are updated.
    /// One transaction, one commit, one `sale` outbox event. Idempotent on `op_id`.
    pub fn checkout(
        &mut self,
        op_id: Uuid,
        req: CheckoutRequest,
        now: DateTime<Utc>,
    ) -> Result<Receipt> {
        self.checkout_reserved(op_id, req, None, now)
    }

    /// [`Store::checkout`] of a sale whose spent points the server reserved online
    /// (two-phase spend): the `sale` fact names the reservation, which the server consumes,
    /// and is not `offline`. `None` = an offline sale (spent from the till's known balance).
    pub fn checkout_reserved(
        &mut self,
        op_id: Uuid,
        req: CheckoutRequest,
        reservation: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Receipt> {
        let Store {
            conn,
            opts,
            verifier,
            programs,
            ..
        } = self;
        let program = programs.at(now);
        ops::run(
            conn,
            &program.tiers.window,
            op_id,
            "sale",
            &req,
            now,
            |tx, op| {
                let (row, card) = resolve(tx, verifier, &opts.default_region, &req.card, now)?;
                let (snap, _) = snapshot(tx, &row, program, now)?;
                let q = quote(&snap, &req.basket, program, now, req.spend)?;
                let receipt_no = match req.receipt.as_deref().map(str::trim) {
                    Some(r) if !r.is_empty() => {
                        let used: Option<i64> = tx
                            .prepare_cached("SELECT id FROM sales WHERE receipt_no = ?1")?
                            .query_row([r], |x| x.get(0))
                            .optional()?;
                        if used.is_some() {
                            return Err(StoreError::DuplicateReceipt(r.to_string()));
                        }
                        r.to_string()
                    }
                    _ => format!("{}-{:06}", opts.till_id, next_counter(tx, "receipt_seq")?),
                };
                let customer_earn: Points = q
                    .earn
                    .iter()
                    .filter(|e| !matches!(e.kind, EarnKind::ReferralReferrer))
                    .map(|e| e.points.max(0))
                    .sum();
                tx.prepare_cached(
                    "INSERT INTO sales (receipt_no, op_id, account_id, card_number, sold_at,
                    program_version, subtotal, discount_total, after_discounts, points_spent,
                    spend_value, to_pay, earned, referrer_points, quote_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                )?
                .execute(params![
                    receipt_no,
                    op,
                    row.account_id,
                    card,
                    ms(now),
                    q.program_version,
                    q.subtotal,
                    q.discount_total,
                    q.after_discounts,
                    q.points_spent,
                    q.spend_value,
                    q.to_pay,
                    customer_earn,
                    q.referrer_points,
                    serde_json::to_string(&q)?,
                ])?;
                let sale_id = tx.last_insert_rowid();
                {
                    let mut ins = tx.prepare_cached(
                        "INSERT INTO sale_lines (sale_id, line_no, sku, category, qty, amount)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )?;
                    for (i, l) in req.basket.lines.iter().enumerate() {
                        ins.execute(params![
                            sale_id, i as i64, l.sku, l.category, l.qty, l.amount
                        ])?;
                    }
                }
                let posting = |kind, reason| Posting {
                    op,
                    kind,
                    sale_id: Some(sale_id),
                    reason,
                    now,
                };
                debit_fifo(
                    tx,
                    row.account_id,
                    q.points_spent,
                    &posting("spend", &receipt_no),
                )?;
                let lot = |kind| NewLot {
                    kind,
                    earned_at: now,
                    available_at: q.available_at,
                    expires_at: q.expires_at,
                    sale_id: Some(sale_id),
                };
                let mut settled = 0;
                for item in q.earn.iter().filter(|e| e.points > 0) {
                    if matches!(item.kind, EarnKind::ReferralReferrer) {
                        continue;
                    }
                    let kind = earn_kind(&item.kind);
                    let (s, _) = credit(
                        tx,
                        row.account_id,
                        item.points,
                        &lot(kind),
                        &posting(kind, &item.reason),
                    )?;
                    settled += s;
                }
                let mut referrer_uid = None;
                if q.referrer_points > 0 {
                    if let Some(referrer) = row.customer.referrer_id {
                        let r = by_customer(tx, referrer)?;
                        let reason = format!("referral: first purchase of {}", row.customer.name);
                        credit(
                            tx,
                            r.account_id,
                            q.referrer_points,
                            &lot("referral_referrer"),
                            &posting("referral_referrer", &reason),
                        )?;
                        referrer_uid = Some(r.account_uid);
                    }
                }
                tx.prepare_cached(
                    "UPDATE accounts SET lifetime_spend = lifetime_spend + ?2,
                    lifetime_purchases = lifetime_purchases + 1, stamps = ?3,
                    birthday_bonus_year = COALESCE(?4, birthday_bonus_year),
                    referral_pending = 0
                 WHERE id = ?1",
                )?
                .execute(params![
                    row.account_id,
                    q.after_discounts,
                    q.stamps_after,
                    q.birthday_bonus_year,
                ])?;
                let receipt = Receipt {
                    receipt_no: receipt_no.clone(),
                    sale_id,
                    account_id: row.account_id,
                    card: card.clone(),
                    sold_at: now,
                    program_version: q.program_version,
                    subtotal: q.subtotal,
                    discount_total: q.discount_total,
                    after_discounts: q.after_discounts,
                    points_spent: q.points_spent,
                    spend_value: q.spend_value,
                    to_pay: q.to_pay,
                    earned: customer_earn,
                    settled_shortfall: settled,
                    referrer_points: if referrer_uid.is_some() {
                        q.referrer_points
                    } else {
                        0
                    },
                    available_at: q.available_at,
                    expires_at: q.expires_at,
                    stamps_after: q.stamps_after,
                    gift: q.gift.clone(),
                    tier_code: q.tier.as_ref().map(|t| t.code.clone()),
                };
                let event = Fact::Sale {
                    receipt_no,
                    card,
                    account_uid: row.account_uid.clone(),
                    program_version: q.program_version,
                    lines: req.basket.lines.clone(),
                    subtotal: q.subtotal,
                    discount_total: q.discount_total,
                    after_discounts: q.after_discounts,
                    points_spent: q.points_spent,
                    to_pay: q.to_pay,
                    earn: q.earn.clone(),
                    referrer: referrer_uid.map(|uid| (uid, q.referrer_points)),
                    hold_days: program.hold_days,
                    expiry_months: program.expiry_months,
                    stamps_after: q.stamps_after,
                    birthday_bonus_year: q.birthday_bonus_year,
                    reservation_id: reservation.map(|r| r.to_string()),
                    offline: reservation.is_none(),
                };
                Ok(Done {
                    result: receipt,
                    event: Some(event),
                })
            },
        )
    }
}
