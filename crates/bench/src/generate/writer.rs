//! Inserts a batch of members' rows, table by table, with multi-row `INSERT ... VALUES
//! (...), (...)` prepared statements (explicit ids, so every table's rowid grows in order)
//! inside the caller's transaction. One statement per 64 rows instead of per row cuts
//! SQLite's per-statement overhead, which dominates a bulk load.

use rusqlite::{Connection, Statement, ToSql};

use super::member::{STORE_ID, TILL_ID};
use super::rows::{CardRow, LedgerRow, LineRow, LotRow, MemberRows, SaleRow};

/// Rows per statement.
const CHUNK: usize = 64;

pub struct Writer<'c> {
    conn: &'c Connection,
    /// Last ledger id written.
    pub ledger_id: i64,
    pub rows: u64,
    /// Seconds spent inserting into each table.
    pub per_table: std::collections::BTreeMap<String, f64>,
}

/// `INSERT INTO <head> VALUES (?,?,..), ... ` for `rows` rows of `cols` columns.
fn values_sql(head: &str, cols: usize, rows: usize) -> String {
    let one = format!("({})", vec!["?"; cols].join(","));
    format!("INSERT INTO {head} VALUES {}", vec![one; rows].join(","))
}

/// Binds the columns of one row starting at parameter `base + 1`.
struct Binder<'s, 'c> {
    st: &'s mut Statement<'c>,
    at: usize,
}

impl Binder<'_, '_> {
    fn v<T: ToSql>(&mut self, value: T) -> rusqlite::Result<&mut Self> {
        self.at += 1;
        self.st.raw_bind_parameter(self.at, value)?;
        Ok(self)
    }
}

impl<'c> Writer<'c> {
    pub fn new(conn: &'c Connection) -> Writer<'c> {
        conn.set_prepared_statement_cache_capacity(64);
        Writer {
            conn,
            ledger_id: 0,
            rows: 0,
            per_table: Default::default(),
        }
    }

    /// Inserts `items` into `head` (`table (cols)`), `CHUNK` rows per statement.
    fn insert<T>(
        &mut self,
        head: &str,
        cols: usize,
        items: &[T],
        bind: impl Fn(&mut Binder<'_, 'c>, &T) -> rusqlite::Result<()>,
    ) -> rusqlite::Result<()> {
        let t0 = std::time::Instant::now();
        let full = values_sql(head, cols, CHUNK.min(items.len()));
        for chunk in items.chunks(CHUNK) {
            let mut st = if chunk.len() == CHUNK.min(items.len()) {
                self.conn.prepare_cached(&full)?
            } else {
                self.conn
                    .prepare_cached(&values_sql(head, cols, chunk.len()))?
            };
            let mut b = Binder { st: &mut st, at: 0 };
            for item in chunk {
                bind(&mut b, item)?;
            }
            st.raw_execute()?;
        }
        self.rows += items.len() as u64;
        let name = head.split_whitespace().next().unwrap_or("").to_string();
        *self.per_table.entry(name).or_default() += t0.elapsed().as_secs_f64();
        Ok(())
    }

    pub fn write(&mut self, batch: &[MemberRows]) -> rusqlite::Result<()> {
        self.insert(
            "customers (id, uid, name, name_norm, phone, email, birthday, gender, age_group,
                home_store, preferred_channel, marketing_consent, consent_at, tags, referrer_id,
                enrolled_at, enrolled_store, enrolled_till, op_id)",
            19,
            batch,
            |b, m| {
                let c = &m.customer;
                b.v(c.id)?
                    .v(&c.uid)?
                    .v(&c.name)?
                    .v(&c.name_norm)?
                    .v(&c.phone)?;
                b.v(&c.email)?.v(&c.birthday)?.v(c.gender)?.v(c.age_group)?;
                b.v(STORE_ID)?.v(c.channel)?.v(c.consent)?;
                b.v(c.consent.then_some(c.enrolled_at))?
                    .v(c.tags)?
                    .v(c.referrer_id)?;
                b.v(c.enrolled_at)?.v(STORE_ID)?.v(TILL_ID)?.v(&c.uid)?;
                Ok(())
            },
        )?;
        self.insert(
            "accounts (id, customer_id, shortfall, lifetime_spend, lifetime_purchases, stamps,
                referral_pending, created_at, cache_from, cache_until, cache_window, c_available,
                c_pending, c_soon, c_next_expiry, c_win_spend, c_win_purchases)",
            17,
            batch,
            |b, m| {
                let (c, a) = (&m.customer, &m.account);
                b.v(c.id)?.v(c.id)?.v(a.shortfall)?.v(a.lifetime_spend)?;
                b.v(a.lifetime_purchases)?
                    .v(a.stamps)?
                    .v(a.referral_pending)?;
                b.v(c.enrolled_at)?;
                let k = &a.cache;
                b.v(k.from)?.v(k.until)?.v(k.window)?.v(k.available)?;
                b.v(k.pending)?.v(k.soon)?.v(k.next_expiry)?;
                b.v(k.win_spend)?.v(k.win_purchases)?;
                Ok(())
            },
        )?;
        let cards: Vec<(i64, &CardRow)> = batch
            .iter()
            .flat_map(|m| m.cards.iter().map(move |k| (m.customer.id, k)))
            .collect();
        self.insert(
            "cards (number, account_id, kind, status, replaced_by, issued_at, blocked_at, op_id)",
            8,
            &cards,
            |b, (account, k)| {
                b.v(&k.number)?.v(account)?;
                b.v(if k.family { "family" } else { "primary" })?;
                b.v(if k.blocked_at.is_some() {
                    "blocked"
                } else {
                    "active"
                })?;
                b.v(&k.replaced_by)?
                    .v(k.issued_at)?
                    .v(k.blocked_at)?
                    .v(&k.op_id)?;
                Ok(())
            },
        )?;
        let sales: Vec<(i64, &SaleRow)> = batch
            .iter()
            .flat_map(|m| m.sales.iter().map(move |s| (m.customer.id, s)))
            .collect();
        self.insert(
            "sales (id, receipt_no, op_id, account_id, card_number, sold_at, program_version,
                subtotal, discount_total, after_discounts, points_spent, spend_value, to_pay,
                earned, referrer_points, returned_amount, returned_spend, earned_taken,
                spent_restored, quote_json)",
            20,
            &sales,
            |b, (account, s)| {
                b.v(s.id)?
                    .v(&s.receipt)?
                    .v(&s.op_id)?
                    .v(account)?
                    .v(&s.card)?;
                b.v(s.sold_at)?.v(1)?.v(s.subtotal)?.v(s.discount_total)?;
                b.v(s.after_discounts)?
                    .v(s.points_spent)?
                    .v(s.points_spent * 100)?;
                b.v(s.to_pay)?
                    .v(s.earned)?
                    .v(s.referrer_points)?
                    .v(s.returned_amount)?;
                b.v(s.returned_spend)?
                    .v(s.earned_taken)?
                    .v(s.spent_restored)?
                    .v(&s.quote)?;
                Ok(())
            },
        )?;
        let lines: Vec<(i64, i64, &LineRow)> = sales
            .iter()
            .flat_map(|(_, s)| {
                s.lines
                    .iter()
                    .enumerate()
                    .map(move |(i, l)| (s.id, i as i64, l))
            })
            .collect();
        self.insert(
            "sale_lines (sale_id, line_no, sku, category, qty, amount, returned_qty)",
            7,
            &lines,
            |b, (sale, no, l)| {
                b.v(sale)?
                    .v(no)?
                    .v(&l.sku)?
                    .v(l.category)?
                    .v(l.qty)?
                    .v(l.amount)?;
                b.v(l.returned_qty)?;
                Ok(())
            },
        )?;
        let lots: Vec<&LotRow> = batch.iter().flat_map(|m| m.lots.iter()).collect();
        self.insert(
            "lots (id, account_id, kind, earned_at, available_at, expires_at, original, remaining,
                expired, source_sale_id, op_id)",
            11,
            &lots,
            |b, l| {
                b.v(l.id)?
                    .v(l.account_id)?
                    .v(l.kind)?
                    .v(l.earned_at)?
                    .v(l.available_at)?;
                b.v(l.expires_at)?
                    .v(l.original)?
                    .v(l.remaining)?
                    .v(l.expired)?;
                b.v(l.sale_id)?.v(&l.op_id)?;
                Ok(())
            },
        )?;
        let first = self.ledger_id;
        let ledger: Vec<(i64, &LedgerRow)> = batch
            .iter()
            .flat_map(|m| m.ledger.iter())
            .enumerate()
            .map(|(i, e)| (first + 1 + i as i64, e))
            .collect();
        self.ledger_id += ledger.len() as i64;
        self.insert(
            "ledger (id, account_id, op_id, kind, points, lot_id, sale_id, reason, created_at)",
            9,
            &ledger,
            |b, (id, e)| {
                b.v(id)?
                    .v(e.account_id)?
                    .v(&e.op_id)?
                    .v(e.kind)?
                    .v(e.points)?;
                b.v(e.lot_id)?.v(e.sale_id)?.v(&e.reason)?.v(e.at)?;
                Ok(())
            },
        )?;
        let rets: Vec<_> = batch.iter().filter_map(|m| m.ret.as_ref()).collect();
        self.insert(
            "returns (id, op_id, sale_id, returned_at, amount, refund, earned_taken, shortfall,
                spent_restored)",
            9,
            &rets,
            |b, r| {
                b.v(r.id)?
                    .v(&r.op_id)?
                    .v(r.sale_id)?
                    .v(r.returned_at)?
                    .v(r.amount)?;
                b.v(r.refund)?
                    .v(r.earned_taken)?
                    .v(r.shortfall)?
                    .v(r.spent_restored)?;
                Ok(())
            },
        )?;
        let ret_lines: Vec<(i64, &(i64, i64, i64))> = rets
            .iter()
            .flat_map(|r| r.lines.iter().map(move |l| (r.id, l)))
            .collect();
        self.insert(
            "return_lines (return_id, line_no, qty, amount)",
            4,
            &ret_lines,
            |b, (id, (no, qty, amount))| {
                b.v(id)?.v(no)?.v(qty)?.v(amount)?;
                Ok(())
            },
        )?;
        Ok(())
    }
}
