//! One member's life, simulated with the demo program's rules (5 % earn on the money paid,
//! 30 % spend cap, 14-day hold, 12-month expiry, 3/5/10 % cumulative discount, every 6th
//! purchase from 100.00 rewarded, welcome 100, referral 200/200): enrolment, cards, sales
//! with FIFO spending, a few full returns (with shortfall), and the weekly expiry sweeps.
//! Every movement is a ledger entry, so `Σ ledger = Σ lots.remaining − shortfall` holds.

use chrono::{DateTime, Datelike, Months, NaiveDate};

use super::names::{age_group, person, phone_e164};
use super::rows::*;

pub const TILL_ID: &str = "T01";
pub const STORE_ID: &str = "S01";
/// What the store derives from till "T01": `2` + the till number on 4 digits.
pub const CARD_PREFIX: &str = "20001";

pub const DAY: i64 = 86_400_000;
const HOLD: i64 = 14 * DAY;
const WELCOME: i64 = 100;
const STAMP_EVERY: i64 = 6;
const STAMP_MIN: i64 = 10_000;
const STAMP_REWARD: i64 = 200;
const REFERRAL: i64 = 200;
const CATEGORIES: &[&str] = &[
    "grocery",
    "dairy",
    "bakery",
    "drinks",
    "household",
    "cosmetics",
    "snacks",
    "frozen",
];
const CHANNELS: &[&str] = &[
    "sms",
    "sms",
    "sms",
    "messenger",
    "messenger",
    "email",
    "none",
];

/// The last ids handed out (rows are written with explicit ids, in increasing order).
#[derive(Debug, Default, Clone, Copy)]
pub struct Ids {
    pub sale: i64,
    pub lot: i64,
    pub ret: i64,
    pub card_serial: u64,
}

/// The simulation state shared by all members.
pub struct Sim {
    pub rng: fastrand::Rng,
    pub now: i64,
    pub start: i64,
    pub members: u64,
    pub ids: Ids,
}

/// `t + months`, at the same time of day (end of month clamps, like chrono).
fn add_months(t: i64, months: u32) -> i64 {
    DateTime::from_timestamp_millis(t)
        .and_then(|d| d.checked_add_months(Months::new(months)))
        .map_or(t + i64::from(months) * 30 * DAY, |d| d.timestamp_millis())
}

/// Cumulative discount of the demo program by lifetime spend, basis points.
fn cumulative_bp(lifetime_spend: i64) -> i64 {
    match lifetime_spend {
        s if s >= 5_000_000 => 1_000,
        s if s >= 1_000_000 => 500,
        _ => 300,
    }
}

/// Own lots spendable at `t`, FIFO: soonest expiry, then oldest.
fn spendable(lots: &[LotRow], account: i64, t: i64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..lots.len())
        .filter(|&i| {
            let l = &lots[i];
            l.account_id == account && l.remaining > 0 && l.available_at <= t && l.expires_at > t
        })
        .collect();
    v.sort_by_key(|&i| (lots[i].expires_at, lots[i].earned_at, lots[i].id));
    v
}

impl Sim {
    /// A UUIDv7 (hyphenated) carrying the time `at`.
    pub fn op(&mut self, at: i64) -> String {
        let mut bytes = [0u8; 10];
        self.rng.fill(&mut bytes);
        uuid_at(at, bytes)
    }

    pub(super) fn lot(
        &mut self,
        rows: &mut MemberRows,
        spec: (i64, &'static str, i64, i64),
        op: &str,
    ) -> i64 {
        let (account_id, kind, at, points) = spec;
        self.ids.lot += 1;
        let available_at = if kind == "welcome" || kind == "return_restore" {
            at
        } else {
            at + HOLD
        };
        let sale_id = rows
            .sales
            .last()
            .map(|s| s.id)
            .filter(|_| kind != "welcome");
        rows.lots.push(LotRow {
            id: self.ids.lot,
            account_id,
            kind,
            earned_at: at,
            available_at,
            expires_at: add_months(at, 12),
            original: points,
            remaining: points,
            expired: 0,
            sale_id,
            op_id: op.to_string(),
        });
        self.ids.lot
    }

    fn card(&mut self, issued_at: i64, family: bool, op_id: String) -> Result<CardRow, String> {
        self.ids.card_serial += 1;
        let number = loyalty_cards::card::generate(CARD_PREFIX, self.ids.card_serial)
            .map_err(|e| format!("card serial {}: {e}", self.ids.card_serial))?;
        Ok(CardRow {
            number,
            family,
            blocked_at: None,
            replaced_by: None,
            issued_at,
            op_id,
        })
    }

    /// Member `serial` (1-based; also its customer and account id).
    pub fn member(&mut self, serial: u64) -> Result<MemberRows, String> {
        let id = i64::try_from(serial).map_err(|e| e.to_string())?;
        let span = (self.now - self.start).max(DAY);
        let slot = span / i64::try_from(self.members).unwrap_or(i64::MAX).max(1);
        let enrolled = self.start
            + (span as i128 * (id - 1) as i128 / self.members as i128) as i64
            + self.rng.i64(0..slot.max(1));
        let enrolled = enrolled.min(self.now - 1);
        let uid = self.op(enrolled);
        let p = person(&mut self.rng, serial);
        let rng = &mut self.rng;
        let birthday = (rng.u8(..100) < 85)
            .then(|| NaiveDate::from_yo_opt(rng.i32(1950..=2006), rng.u32(1..=365)))
            .flatten();
        let now_year = DateTime::from_timestamp_millis(self.now).map_or(2025, |d| d.year());
        let customer = CustomerRow {
            id,
            uid: uid.clone(),
            name_norm: p.name.to_lowercase(),
            name: p.name,
            phone: (rng.u8(..100) < 93).then(|| phone_e164(serial)),
            email: p.email,
            birthday: birthday.map(|d| format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())),
            gender: (rng.u8(..100) < 90).then_some(if p.female { "female" } else { "male" }),
            age_group: birthday.map(|d| age_group(d.year(), now_year)),
            channel: CHANNELS[rng.usize(..CHANNELS.len())],
            consent: rng.u8(..100) < 65,
            tags: match rng.u8(..100) {
                0..=2 => r#"["vip"]"#,
                3..=4 => r#"["staff"]"#,
                _ => "[]",
            },
            referrer_id: (id > 10 && rng.u8(..100) < 5).then(|| rng.i64(1..id)),
            enrolled_at: enrolled,
        };
        let mut rows = MemberRows {
            customer,
            account: AccountRow::default(),
            cards: Vec::with_capacity(3),
            sales: Vec::new(),
            lots: Vec::new(),
            ledger: Vec::new(),
            ret: None,
        };
        self.cards(&mut rows, enrolled)?;
        let welcome = self.lot(&mut rows, (id, "welcome", enrolled, WELCOME), &uid);
        rows.ledger.push(LedgerRow {
            account_id: id,
            op_id: uid.clone(),
            kind: "welcome",
            points: WELCOME,
            lot_id: Some(welcome),
            sale_id: None,
            reason: "welcome bonus".into(),
            at: enrolled,
        });
        let n_sales = match self.rng.u8(..100) {
            0..=24 => 0,
            25..=49 => 1,
            50..=69 => 2,
            70..=81 => 3,
            82..=89 => 4,
            _ => self.rng.usize(5..=8),
        };
        let mut times: Vec<i64> = (0..n_sales)
            .map(|_| self.rng.i64(enrolled + 1..self.now.max(enrolled + 2)))
            .collect();
        times.sort_unstable();
        for t in times {
            self.sale(&mut rows, t)?;
        }
        rows.account.referral_pending = rows.customer.referrer_id.is_some() && n_sales == 0;
        if !rows.sales.is_empty() && self.rng.u8(..100) < 2 {
            self.full_return(&mut rows);
        }
        self.sweep(&mut rows);
        rows.account.cache = self.cache(&rows);
        for s in &mut rows.sales {
            s.quote = quote_json(s);
        }
        rows.ledger.sort_by_key(|e| e.at);
        Ok(rows)
    }

    /// The primary card; 8 % add a family card, 1.5 % lost their first card (blocked and
    /// replaced by a new primary card).
    fn cards(&mut self, rows: &mut MemberRows, enrolled: i64) -> Result<(), String> {
        let uid = rows.customer.uid.clone();
        let mut primary = self.card(enrolled, false, uid)?;
        let later = |sim: &mut Sim| (enrolled + sim.rng.i64(DAY..400 * DAY)).min(sim.now - 1);
        if self.rng.u8(..100) < 8 {
            let at = later(self);
            let op = self.op(at);
            let family = self.card(at, true, op)?;
            rows.cards.push(family);
        }
        if self.rng.u16(..1000) < 15 {
            let at = later(self);
            let op = self.op(at);
            let new = self.card(at, false, op)?;
            primary.blocked_at = Some(at);
            primary.replaced_by = Some(new.number.clone());
            rows.cards.push(new);
        }
        rows.cards.insert(0, primary);
        Ok(())
    }

    /// The card scanned at `t`: sometimes the family card, else the primary in use then.
    fn card_at(&mut self, rows: &MemberRows, t: i64) -> String {
        let usable = |c: &&CardRow| c.issued_at <= t && !matches!(c.blocked_at, Some(b) if b <= t);
        let family = rows.cards.iter().filter(|c| c.family).find(usable);
        if let Some(f) = family.filter(|_| self.rng.u8(..100) < 20) {
            return f.number.clone();
        }
        let primary = rows.cards.iter().filter(|c| !c.family).find(usable);
        primary.unwrap_or(&rows.cards[0]).number.clone()
    }

    fn sale(&mut self, rows: &mut MemberRows, t: i64) -> Result<(), String> {
        let account = rows.customer.id;
        let card = self.card_at(rows, t);
        let lines: Vec<LineRow> = (0..self.rng.usize(1..=4))
            .map(|_| {
                let qty = [1, 1, 1, 2, 2, 3][self.rng.usize(..6)];
                LineRow {
                    sku: format!("SKU-{:05}", self.rng.u32(..20_000)),
                    category: CATEGORIES[self.rng.usize(..CATEGORIES.len())],
                    qty,
                    amount: qty * self.rng.i64(39..=1_499) * 100,
                    returned_qty: 0,
                }
            })
            .collect();
        let subtotal: i64 = lines.iter().map(|l| l.amount).sum();
        let discount = subtotal * cumulative_bp(rows.account.lifetime_spend) / 10_000;
        let after = subtotal - discount;
        let takes = spendable(&rows.lots, account, t);
        let available: i64 = takes.iter().map(|&i| rows.lots[i].remaining).sum();
        let max_redeemable = available.min(after * 3_000 / 10_000 / 100);
        let spend = if max_redeemable > 0 && self.rng.u8(..100) < 25 {
            (max_redeemable * self.rng.i64(30..=100) / 100).max(1)
        } else {
            0
        };
        let mut left = spend;
        for i in takes {
            let n = rows.lots[i].remaining.min(left);
            rows.lots[i].remaining -= n;
            left -= n;
        }
        let to_pay = after - spend * 100;
        // A till writes sales in time order, so its op ids grow with the sale id; the loader
        // writes member by member, so it gives op ids in sale-id order to get the same
        // (append-only) unique index.
        let op = self.op(self.start + self.ids.sale);
        self.ids.sale += 1;
        let (sale_id, receipt) = (self.ids.sale, format!("{TILL_ID}-{:06}", self.ids.sale));
        let mut earn: Vec<(&'static str, i64, &'static str)> = Vec::with_capacity(3);
        earn.push(("earn", to_pay * 500 / 1_000_000, "purchase 5%"));
        if to_pay >= STAMP_MIN {
            rows.account.stamps += 1;
            if rows.account.stamps == STAMP_EVERY {
                rows.account.stamps = 0;
                earn.push(("stamp", STAMP_REWARD, "every 6th purchase"));
            }
        }
        let first_referred = rows.sales.is_empty() && rows.customer.referrer_id.is_some();
        if first_referred {
            earn.push(("referral_referee", REFERRAL, "referral bonus"));
        }
        let earned: i64 = earn.iter().map(|e| e.1).sum();
        rows.sales.push(SaleRow {
            id: sale_id,
            receipt: receipt.clone(),
            quote: String::new(),
            op_id: op.clone(),
            card,
            sold_at: t,
            subtotal,
            discount_total: discount,
            after_discounts: after,
            points_spent: spend,
            to_pay,
            earned,
            referrer_points: if first_referred { REFERRAL } else { 0 },
            returned_amount: 0,
            returned_spend: 0,
            earned_taken: 0,
            spent_restored: 0,
            lines,
        });
        let entry = |account_id, kind, points, lot_id, reason: String| LedgerRow {
            account_id,
            op_id: op.clone(),
            kind,
            points,
            lot_id,
            sale_id: Some(sale_id),
            reason,
            at: t,
        };
        if spend > 0 {
            rows.ledger
                .push(entry(account, "spend", -spend, None, receipt.clone()));
        }
        for (kind, points, reason) in earn.into_iter().filter(|e| e.1 > 0) {
            let lot = self.lot(rows, (account, kind, t, points), &op);
            rows.ledger
                .push(entry(account, kind, points, Some(lot), reason.into()));
        }
        if let Some(referrer) = rows.customer.referrer_id.filter(|_| first_referred) {
            let kind = "referral_referrer";
            let lot = self.lot(rows, (referrer, kind, t, REFERRAL), &op);
            let reason = format!("referral: first purchase of {}", rows.customer.name);
            rows.ledger
                .push(entry(referrer, kind, REFERRAL, Some(lot), reason));
        }
        rows.account.lifetime_spend += after;
        rows.account.lifetime_purchases += 1;
        Ok(())
    }
}

/// What the store keeps of the quote (compact JSON).
fn quote_json(s: &SaleRow) -> String {
    format!(
        r#"{{"program_version":1,"subtotal":{},"discount_total":{},"after_discounts":{},"points_spent":{},"spend_value":{},"to_pay":{},"earn_total":{},"referrer_points":{}}}"#,
        s.subtotal,
        s.discount_total,
        s.after_discounts,
        s.points_spent,
        s.points_spent * 100,
        s.to_pay,
        s.earned,
        s.referrer_points
    )
}

/// A UUIDv7 with the timestamp `at` (ms) and the given random bits.
pub fn uuid_at(at: i64, bytes: [u8; 10]) -> String {
    uuid::Builder::from_unix_timestamp_millis(u64::try_from(at).unwrap_or(0), &bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

impl Sim {
    /// The account's cached scan figures at `now`, as the store computes them (its own lots
    /// only: a referrer's lot written by this member invalidates the referrer's cache, which
    /// the loader refreshes afterwards).
    fn cache(&self, rows: &MemberRows) -> loyalty_store::cache::CachedFigures {
        use loyalty_store::cache::{compute, window_days, CacheLot, CacheSale};
        let own = rows.customer.id;
        let lots: Vec<CacheLot> = rows
            .lots
            .iter()
            .filter(|l| l.account_id == own)
            .map(|l| CacheLot {
                available_at: l.available_at,
                expires_at: Some(l.expires_at),
                remaining: l.remaining,
            })
            .collect();
        let sales: Vec<CacheSale> = rows
            .sales
            .iter()
            .map(|s| CacheSale {
                sold_at: s.sold_at,
                net_spend: s.after_discounts - s.returned_spend,
                counts: s.returned_amount < s.subtotal,
            })
            .collect();
        let window = window_days(&loyalty_domain::ProgramConfig::default().tiers.window);
        compute(&lots, &sales, self.now, window)
    }
}
