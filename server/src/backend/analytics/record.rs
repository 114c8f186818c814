//! What an applied fact adds to the analytics tables, and the per-account summary of a
//! changed book (`customer_stats.outstanding / shortfall / next_expiry`). Called by both
//! backends' appliers (a till's upload, a server batch) and by the backfill, so the rows
//! are the same whichever way the fact arrived.

use super::{day, Stmt, Val};
use crate::backend::hash::ts;
use chrono::{DateTime, Utc};
use loyalty_domain::{AccountBook, EarnKind, Fact, Points};

/// Largest magnitude of one amount or points figure the analytics record: a fact with
/// more (a till's bug, a fuzzer) is recorded clamped, so sums over millions of rows can
/// never overflow a BIGINT and fail the upload that carries it.
pub const MAX_FIGURE: i64 = 1 << 40;

fn n(v: i64) -> Val {
    Val::Int(v.clamp(-MAX_FIGURE, MAX_FIGURE))
}

/// One applied fact and where it happened.
pub struct EventInfo<'a> {
    pub op_id: &'a str,
    pub till_id: &'a str,
    /// The till's store.
    pub store_id: &'a str,
    pub gseq: i64,
    /// `min(recorded_at, received_at)`.
    pub event_time: DateTime<Utc>,
    pub fact: &'a Fact,
}

/// What `customer_stats` keeps of a book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookSummary {
    pub account_uid: String,
    /// Σ remaining of the lots not expired at `now` (available + pending).
    pub outstanding: Points,
    pub shortfall: Points,
    /// When the sweep next has work on this book (its key): the earliest of, over the lots
    /// with points left, `expires_at` when still ahead (to drop it from `outstanding`),
    /// else `expires_at` + the sweep's grace (to expire it in the book).
    pub next_expiry: Option<String>,
}

/// The summary of a book at `now`.
pub fn summarize(book: &AccountBook, now: DateTime<Utc>) -> BookSummary {
    let live = book.lots.iter().filter(|l| l.remaining > 0);
    let outstanding = live
        .clone()
        .filter(|l| l.expires_at.is_none_or(|e| e > now))
        .fold(0i64, |a, l| a.saturating_add(l.remaining));
    let grace = chrono::Duration::days(super::expiry::SWEEP_GRACE_DAYS);
    let next_expiry = live
        .filter_map(|l| l.expires_at)
        .map(|e| if e > now { e } else { e + grace })
        .min()
        .map(ts);
    BookSummary {
        account_uid: book.account_uid.clone(),
        outstanding,
        shortfall: book.shortfall,
        next_expiry,
    }
}

/// `UPDATE customer_stats` with a book summary.
pub fn summary_stmt(s: &BookSummary) -> Stmt {
    Stmt::new(
        "UPDATE customer_stats SET outstanding = $2, shortfall = $3, next_expiry = $4
         WHERE account_uid = $1",
        vec![
            Val::text(&s.account_uid),
            n(s.outstanding),
            n(s.shortfall),
            Val::opt_text(s.next_expiry.clone()),
        ],
    )
}

/// Adds `cols` to the `(day, store)` row of `daily_stats` (creating it).
pub fn daily(day: &str, store_id: &str, cols: &[(&'static str, i64)]) -> Stmt {
    let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
    let marks: Vec<String> = (0..cols.len()).map(|i| format!("${}", i + 3)).collect();
    let sets: Vec<String> = names
        .iter()
        .map(|n| format!("{n} = daily_stats.{n} + excluded.{n}"))
        .collect();
    let sql = format!(
        "INSERT INTO daily_stats (day, store_id, {}) VALUES ($1, $2, {})
         ON CONFLICT (day, store_id) DO UPDATE SET {}",
        names.join(", "),
        marks.join(", "),
        sets.join(", ")
    );
    let mut params = vec![Val::text(day), Val::text(store_id)];
    params.extend(cols.iter().map(|c| n(c.1)));
    Stmt::new(sql, params)
}

/// Points a sale credits: its earn items (not a `ReferralReferrer` item) and the
/// referrer's points.
pub fn sale_points_earned(fact: &Fact) -> Points {
    let Fact::Sale { earn, referrer, .. } = fact else {
        return 0;
    };
    let own: Points = earn
        .iter()
        .filter(|e| e.kind != EarnKind::ReferralReferrer)
        .map(|e| e.points.max(0))
        .sum();
    own + referrer.as_ref().map(|r| r.1.max(0)).unwrap_or(0)
}

/// Every analytics row of one applied fact: [`all_event_stmts`], then the summaries of the
/// books it changed.
pub fn applied_stmts(e: &EventInfo<'_>, summaries: &[BookSummary]) -> Vec<Stmt> {
    let mut out = Vec::new();
    all_event_stmts(e, &mut out);
    out.extend(summaries.iter().map(summary_stmt));
    out
}

/// The rows an applied fact adds: the tills' ([`category_stmts`], pulled with the
/// account) and the owner's ([`event_stmts`]). Summaries of the changed books come
/// separately.
pub fn all_event_stmts(e: &EventInfo<'_>, out: &mut Vec<Stmt>) {
    category_stmts(e, out);
    event_stmts(e, out);
}

/// The owner's rows of an applied fact (`customer_stats`, `sale_facts`, `return_facts`,
/// `member_days`, `daily_stats`): everything but the customer categories, which tills
/// pull ([`category_stmts`]). The SQLite backend writes these behind the event log
/// ([`super::projection`]).
pub fn event_stmts(e: &EventInfo<'_>, out: &mut Vec<Stmt>) {
    let d = day(e.event_time);
    let at = ts(e.event_time);
    match e.fact {
        Fact::Enrol {
            customer_uid,
            account_uid,
            profile,
            welcome_points,
            ..
        } => {
            out.push(Stmt::new(
                "INSERT INTO customer_stats (account_uid, member_no, customer_uid, store_id,
                    enrolled_at, birthday_md, consent, first_purchase, last_purchase, purchases,
                    net_spend, outstanding, shortfall, next_expiry)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, 0, 0, 0, 0, NULL)",
                vec![
                    Val::text(account_uid),
                    Val::Int(e.gseq),
                    Val::text(customer_uid),
                    Val::text(e.store_id),
                    Val::text(&at),
                    Val::opt_text(profile.birthday.map(|b| b.format("%m-%d").to_string())),
                    Val::Bool(profile.marketing_consent),
                ],
            ));
            out.push(daily(
                &d,
                e.store_id,
                &[
                    ("new_members", 1),
                    ("points_earned", (*welcome_points).max(0)),
                ],
            ));
        }
        Fact::Sale {
            account_uid,
            lines,
            discount_total,
            after_discounts,
            points_spent,
            ..
        } => {
            let earned = sale_points_earned(e.fact);
            let mut cats: Vec<&str> = lines
                .iter()
                .filter_map(|l| l.category.as_deref())
                .filter(|c| !c.is_empty())
                .collect();
            cats.sort_unstable();
            cats.dedup();
            out.push(Stmt::new(
                "INSERT INTO sale_facts (op_id, member_no, account_uid, store_id, till_id, day,
                    at, amount, discount, points_spent, points_earned, categories)
                 VALUES ($1, (SELECT member_no FROM customer_stats WHERE account_uid = $2), $2,
                    $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                vec![
                    Val::text(e.op_id),
                    Val::text(account_uid),
                    Val::text(e.store_id),
                    Val::text(e.till_id),
                    Val::text(&d),
                    Val::text(&at),
                    n(*after_discounts),
                    n(*discount_total),
                    n(*points_spent),
                    n(earned),
                    Val::text(cats.join(",")),
                ],
            ));
            out.push(super::member_days::sale_stmt(
                account_uid,
                e.event_time.date_naive(),
            ));
            out.push(Stmt::new(
                "UPDATE customer_stats SET purchases = purchases + 1,
                    net_spend = net_spend + $2,
                    first_purchase = CASE WHEN first_purchase IS NULL OR first_purchase > $3
                        THEN $3 ELSE first_purchase END,
                    last_purchase = CASE WHEN last_purchase IS NULL OR last_purchase < $3
                        THEN $3 ELSE last_purchase END
                 WHERE account_uid = $1",
                vec![Val::text(account_uid), n(*after_discounts), Val::text(&at)],
            ));
            out.push(daily(
                &d,
                e.store_id,
                &[
                    ("member_sales", 1),
                    ("member_amount", *after_discounts),
                    ("discount", *discount_total),
                    ("points_earned", earned),
                    ("points_spent", *points_spent),
                ],
            ));
        }
        Fact::Return {
            sale_op_id,
            account_uid,
            amount,
            earned_taken,
            spent_restored,
            spend_returned,
            fully_returned,
            ..
        } => {
            let spend = if *spend_returned > 0 {
                *spend_returned
            } else {
                *amount
            };
            out.push(Stmt::new(
                "INSERT INTO return_facts (op_id, sale_op_id, account_uid, store_id, till_id,
                    day, at, amount, spend_returned, earned_taken, spent_restored)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                vec![
                    Val::text(e.op_id),
                    Val::text(sale_op_id),
                    Val::text(account_uid),
                    Val::text(e.store_id),
                    Val::text(e.till_id),
                    Val::text(&d),
                    Val::text(&at),
                    n(*amount),
                    n(spend),
                    n(*earned_taken),
                    n(*spent_restored),
                ],
            ));
            out.push(Stmt::new(
                "UPDATE customer_stats SET net_spend = net_spend - $2,
                    purchases = purchases - $3 WHERE account_uid = $1",
                vec![
                    Val::text(account_uid),
                    n(spend),
                    n(i64::from(*fully_returned)),
                ],
            ));
            out.push(daily(
                &d,
                e.store_id,
                &[
                    ("returns", 1),
                    ("return_amount", *amount),
                    ("points_taken_back", *earned_taken),
                    ("points_restored", *spent_restored),
                ],
            ));
        }
        Fact::Adjust { points, .. } => {
            out.push(daily(&d, e.store_id, &[("points_adjusted", *points)]));
        }
        Fact::CardBlock { .. } | Fact::FamilyCard { .. } => {}
        Fact::Merge {
            account_uid,
            duplicate_uid,
            ..
        } => merge_stats_stmts(account_uid, duplicate_uid, out),
    }
}

/// What a member's sale adds to `customer_categories` (migration 0004): per category of
/// its lines ([`loyalty_wire::category_key`]), one more purchase, the lines' amounts, and
/// `last_at` moved forward to the sale's event time (facts arrive in any order). Nothing
/// for other facts: a return does not change the summary (it counts purchase occasions;
/// a returned purchase still says what the customer came for).
pub fn category_stmts(e: &EventInfo<'_>, out: &mut Vec<Stmt>) {
    fact_category_stmts(e.fact, e.event_time, out);
}

/// [`category_stmts`] of a fact applied at `event_time` (`min(recorded_at, received_at)`):
/// a sale's categories, a merge's move of the duplicate's summary.
pub fn fact_category_stmts(fact: &Fact, event_time: DateTime<Utc>, out: &mut Vec<Stmt>) {
    let (account_uid, lines) = match fact {
        Fact::Sale {
            account_uid, lines, ..
        } => (account_uid, lines),
        Fact::Merge {
            account_uid,
            duplicate_uid,
            ..
        } => return merge_category_stmts(account_uid, duplicate_uid, out),
        _ => return,
    };
    let mut per: std::collections::BTreeMap<String, i64> = Default::default();
    for l in lines {
        if let Some(c) = loyalty_wire::category_key(l.category.as_deref()) {
            let a = per.entry(c).or_default();
            *a = a.saturating_add(l.amount.max(0));
        }
    }
    let at = ts(event_time);
    for (category, amount) in per {
        out.push(Stmt::new(
            "INSERT INTO customer_categories (account_uid, category, purchases, amount, last_at)
             VALUES ($1, $2, 1, $3, $4)
             ON CONFLICT (account_uid, category) DO UPDATE SET
                purchases = customer_categories.purchases + 1,
                amount = customer_categories.amount + excluded.amount,
                last_at = CASE WHEN customer_categories.last_at < excluded.last_at
                    THEN excluded.last_at ELSE customer_categories.last_at END",
            vec![
                Val::text(account_uid),
                Val::text(category),
                n(amount),
                Val::text(&at),
            ],
        ));
    }
}

/// A merge: the survivor's member row takes the duplicate's purchases, spend and purchase
/// dates, and the duplicate's row goes (the same person counts once among members,
/// segments, LTV, and appears once on the trigger lists). Past sales keep their member
/// number (`sale_facts`, `member_days`): a period before the merge counts the two
/// enrolments as two buyers. The categories: [`merge_category_stmts`].
fn merge_stats_stmts(survivor: &str, duplicate: &str, out: &mut Vec<Stmt>) {
    out.push(Stmt::new(
        "UPDATE customer_stats SET
            purchases = customer_stats.purchases + d.purchases,
            net_spend = customer_stats.net_spend + d.net_spend,
            first_purchase = CASE WHEN d.first_purchase IS NULL THEN customer_stats.first_purchase
                WHEN customer_stats.first_purchase IS NULL
                    OR d.first_purchase < customer_stats.first_purchase THEN d.first_purchase
                ELSE customer_stats.first_purchase END,
            last_purchase = CASE WHEN d.last_purchase IS NULL THEN customer_stats.last_purchase
                WHEN customer_stats.last_purchase IS NULL
                    OR d.last_purchase > customer_stats.last_purchase THEN d.last_purchase
                ELSE customer_stats.last_purchase END
         FROM (SELECT purchases, net_spend, first_purchase, last_purchase FROM customer_stats
               WHERE account_uid = $2) AS d
         WHERE customer_stats.account_uid = $1",
        vec![Val::text(survivor), Val::text(duplicate)],
    ));
    out.push(Stmt::new(
        "DELETE FROM customer_stats WHERE account_uid = $1",
        vec![Val::text(duplicate)],
    ));
}

/// A merge: the survivor's category summary takes the duplicate's (purchases and amounts
/// add up, the later `last_at` wins).
fn merge_category_stmts(survivor: &str, duplicate: &str, out: &mut Vec<Stmt>) {
    out.push(Stmt::new(
        "INSERT INTO customer_categories (account_uid, category, purchases, amount, last_at)
         SELECT $1, category, purchases, amount, last_at FROM customer_categories
         WHERE account_uid = $2
         ON CONFLICT (account_uid, category) DO UPDATE SET
            purchases = customer_categories.purchases + excluded.purchases,
            amount = customer_categories.amount + excluded.amount,
            last_at = CASE WHEN customer_categories.last_at < excluded.last_at
                THEN excluded.last_at ELSE customer_categories.last_at END",
        vec![Val::text(survivor), Val::text(duplicate)],
    ));
    out.push(Stmt::new(
        "DELETE FROM customer_categories WHERE account_uid = $1",
        vec![Val::text(duplicate)],
    ));
}

/// The rows of one sale without a card, idempotent on its op id: the counters move only
/// if the `anonymous_sales` row is new.
pub fn anonymous_sale_stmts(
    till_id: &str,
    store_id: &str,
    s: &loyalty_wire::AnonymousSale,
    event_time: DateTime<Utc>,
    out: &mut Vec<Stmt>,
) {
    let (op, d, at) = (s.op_id.to_string(), day(event_time), ts(event_time));
    out.push(Stmt::new(
        "INSERT INTO anonymous_sales (op_id, till_id, receipt_no, amount, recorded_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (op_id) DO NOTHING",
        vec![
            Val::text(&op),
            Val::text(till_id),
            Val::text(&s.receipt_no),
            n(s.amount),
            Val::text(&at),
        ],
    ));
    out.push(
        Stmt::new(
            "INSERT INTO sale_facts (op_id, member_no, account_uid, store_id, till_id, day, at,
                amount, discount, points_spent, points_earned, categories)
             VALUES ($1, NULL, NULL, $2, $3, $4, $5, $6, 0, 0, 0, '')",
            vec![
                Val::text(&op),
                Val::text(store_id),
                Val::text(till_id),
                Val::text(&d),
                Val::text(&at),
                n(s.amount),
            ],
        )
        .if_changed(),
    );
    out.push(
        daily(
            &d,
            store_id,
            &[("anon_sales", 1), ("anon_amount", s.amount)],
        )
        .if_changed(),
    );
}
