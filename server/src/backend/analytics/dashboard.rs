//! The dashboard: a handful of queries over the rollups (`daily_stats`), the per-member
//! aggregates (`customer_stats`), the buyers of two periods (the chain: one pass over the
//! day bits of [`member_days`]; one store: the member numbers of its sales, through a
//! covering index) and the NPS answers; every figure is assembled here, in integers
//! (rates floor-divided to basis points). Definitions: `loyalty_wire::dashboard`.

use super::{day_of, member_days, Rows, Stmt, Val};
use crate::backend::hash::ts;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use loyalty_domain::{Money, ProgramConfig};
use loyalty_wire::dashboard::{definitions, segment_days as seg};
use loyalty_wire::{DailyPoint, Dashboard, Nps, Roi, Segments};
use std::collections::HashSet;

/// Longest period (days) a dashboard covers.
pub const MAX_DAYS: i64 = 3660;

/// What a dashboard is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// A store id, or None for the whole chain.
    pub store: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub as_of: DateTime<Utc>,
    /// The first day with sales (None: none yet); no buyers before it.
    pub first_sale: Option<NaiveDate>,
}

impl Filter {
    fn store(&self) -> Val {
        Val::text(self.store.clone().unwrap_or_default())
    }

    /// The period before, of equal length.
    pub fn previous(&self) -> (NaiveDate, NaiveDate) {
        let len = (self.to - self.from).num_days() + 1;
        (
            self.from - Duration::days(len),
            self.from - Duration::days(1),
        )
    }
}

fn sum(col: &str) -> String {
    format!("CAST(COALESCE(SUM({col}), 0) AS BIGINT)")
}

/// One store's member sales of a period (their member numbers), through the index
/// `(store_id, day, member_no)`.
fn buyers(from: NaiveDate, to: NaiveDate, store: Val) -> Stmt {
    Stmt::new(
        "SELECT member_no FROM sale_facts
         WHERE store_id = $3 AND day >= $1 AND day <= $2 AND member_no IS NOT NULL",
        vec![Val::text(day_of(from)), Val::text(day_of(to)), store],
    )
}

/// The queries, in the order [`assemble`] reads their rows.
pub fn queries(f: &Filter) -> Vec<Stmt> {
    let cols = [
        "member_sales",
        "anon_sales",
        "member_amount",
        "anon_amount",
        "new_members",
        "points_earned",
        "points_spent",
        "points_expired",
        "discount",
        "returns",
        "return_amount",
    ];
    let daily = Stmt::new(
        format!(
            "SELECT day, {} FROM daily_stats
             WHERE day >= $1 AND day <= $2 AND ($3 = '' OR store_id = $3)
             GROUP BY day ORDER BY day",
            cols.map(sum).join(", ")
        ),
        vec![
            Val::text(day_of(f.from)),
            Val::text(day_of(f.to)),
            f.store(),
        ],
    );
    let (pf, pt) = f.previous();
    let at = |days: i64| Val::text(ts(f.as_of - Duration::days(days)));
    let members = Stmt::new(
        format!(
            "SELECT CAST(COUNT(*) AS BIGINT),
                {}, {}, {}, {},
                {}, {}, {}, {}, {}, {}
             FROM customer_stats WHERE ($1 = '' OR store_id = $1)",
            sum("CASE WHEN purchases >= 1 THEN 1 ELSE 0 END"),
            sum("CASE WHEN purchases >= 2 THEN 1 ELSE 0 END"),
            sum("net_spend"),
            sum("outstanding"),
            sum("CASE WHEN first_purchase >= $2 THEN 1 ELSE 0 END"),
            sum(&format!(
                "CASE WHEN first_purchase < $2 AND purchases >= {} AND last_purchase >= $3 \
                 THEN 1 ELSE 0 END",
                seg::LOYAL_MIN_PURCHASES
            )),
            sum(&format!(
                "CASE WHEN first_purchase < $2 AND purchases < {} AND last_purchase >= $3 \
                 THEN 1 ELSE 0 END",
                seg::LOYAL_MIN_PURCHASES
            )),
            sum("CASE WHEN last_purchase < $3 AND last_purchase >= $4 THEN 1 ELSE 0 END"),
            sum("CASE WHEN last_purchase < $4 THEN 1 ELSE 0 END"),
            sum("CASE WHEN first_purchase IS NULL THEN 1 ELSE 0 END"),
        ),
        vec![
            f.store(),
            at(seg::NEW_WITHIN),
            at(seg::LOYAL_WITHIN),
            at(seg::AT_RISK_WITHIN),
        ],
    );
    let nps = Stmt::new(
        "SELECT score, CAST(COUNT(*) AS BIGINT) FROM nps_answers
         WHERE day >= $1 AND day <= $2 AND ($3 = '' OR store_id = $3) GROUP BY score",
        vec![
            Val::text(day_of(f.from)),
            Val::text(day_of(f.to)),
            f.store(),
        ],
    );
    let program = Stmt::new(
        "SELECT config FROM program_versions WHERE effective_from <= $1
         ORDER BY effective_from DESC, version DESC LIMIT 1",
        vec![Val::text(ts(f.as_of))],
    );
    // The chain: the buyers of both periods counted over `member_days` (about a row per
    // member, whatever the periods' length); one store: its sales of both periods.
    let buyers = match f.store {
        None => vec![member_days::buyers_query(
            (f.from, f.to),
            (pf, pt),
            f.first_sale,
        )],
        Some(_) => vec![buyers(f.from, f.to, f.store()), buyers(pf, pt, f.store())],
    };
    let mut out = vec![daily];
    out.extend(buyers);
    out.extend([members, nps, program]);
    out
}

/// `a × b ÷ c` floored; None when `c` is 0.
pub fn ratio(a: i64, b: i64, c: i64) -> Option<i64> {
    (c != 0).then(|| (i128::from(a) * i128::from(b)).div_euclid(i128::from(c)) as i64)
}

/// The buyers' rows: the chain's counts (`member_days`), or one store's sales of the
/// period and of the previous one.
enum Buyers {
    Counts(Rows),
    Sales(Rows, Rows),
}

/// Builds the dashboard from the rows of [`queries`].
pub fn assemble(f: &Filter, rows: Vec<Rows>) -> Dashboard {
    let mut it = rows.into_iter();
    let mut next = || it.next().unwrap_or_default();
    let daily_rows = next();
    let buyers = match f.store {
        None => Buyers::Counts(next()),
        Some(_) => Buyers::Sales(next(), next()),
    };
    let (members, nps_rows, program) = (next(), next(), next());
    let program: ProgramConfig = program
        .first()
        .and_then(|r| r.first())
        .and_then(Val::as_text)
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    let mut d = Dashboard {
        store: f.store.clone(),
        from: f.from,
        to: f.to,
        as_of: f.as_of,
        currency: program.currency.clone(),
        point_value: program.point_value,
        definitions: definitions(),
        ..Dashboard::default()
    };
    for r in &daily_rows {
        let v = |i: usize| r.get(i).map(Val::int).unwrap_or(0);
        let Some(day) = r
            .first()
            .and_then(Val::as_text)
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        else {
            continue;
        };
        let p = DailyPoint {
            day,
            member_sales: v(1),
            anonymous_sales: v(2),
            member_revenue: v(3),
            anonymous_revenue: v(4),
            new_members: v(5),
            points_earned: v(6),
            points_spent: v(7),
            points_expired: v(8),
        };
        d.member_sales += p.member_sales;
        d.anonymous_sales += p.anonymous_sales;
        d.member_revenue += p.member_revenue;
        d.anonymous_revenue += p.anonymous_revenue;
        d.new_members += p.new_members;
        d.points_earned += p.points_earned;
        d.points_spent += p.points_spent;
        d.points_expired += p.points_expired;
        d.discounts_given += v(9);
        d.returns += v(10);
        d.returned_amount += v(11);
        d.daily.push(p);
    }
    d.card_share_bp = ratio(d.member_sales, 10_000, d.member_sales + d.anonymous_sales);
    d.aov_member = ratio(d.member_revenue, 1, d.member_sales);
    d.aov_non_member = ratio(d.anonymous_revenue, 1, d.anonymous_sales);

    // Member sales of the period: every `sale_facts` row with a member number (the chain:
    // `daily_stats.member_sales`, counted with the same row by the same ingest).
    let sales = match buyers {
        Buyers::Counts(rows) => {
            let r = rows.into_iter().next().unwrap_or_default();
            let v = |i: usize| r.get(i).map(Val::int).unwrap_or(0);
            (d.active_members, d.retention_base, d.retained) = (v(0), v(1), v(2));
            d.member_sales
        }
        Buyers::Sales(cur, prev) => {
            let set = |rows: &Rows| -> HashSet<i64> { rows.iter().map(|r| r[0].int()).collect() };
            let (cur_set, prev_set) = (set(&cur), set(&prev));
            d.active_members = cur_set.len() as i64;
            d.retention_base = prev_set.len() as i64;
            d.retained = prev_set.intersection(&cur_set).count() as i64;
            cur.len() as i64
        }
    };
    d.purchase_frequency_x100 = ratio(sales, 100, d.active_members);
    d.retention_bp = ratio(d.retained, 10_000, d.retention_base);

    let m = members.into_iter().next().unwrap_or_default();
    let v = |i: usize| m.get(i).map(Val::int).unwrap_or(0);
    d.members_total = v(0);
    d.buyers_total = v(1);
    d.repeat_buyers_total = v(2);
    d.repeat_purchase_rate_bp = ratio(d.repeat_buyers_total, 10_000, d.buyers_total);
    d.ltv = ratio(v(3), 1, d.members_total);
    d.points_liability = v(4);
    d.points_liability_value = d.points_liability.saturating_mul(d.point_value);
    d.segments = Segments {
        new: v(5),
        loyal: v(6),
        active: v(7),
        at_risk: v(8),
        lapsed: v(9),
        no_purchase: v(10),
    };
    d.breakage_rate_bp = ratio(d.points_expired, 10_000, d.points_earned);
    d.roi = roi(&d);

    let mut nps = Nps::default();
    for r in &nps_rows {
        let (score, n) = (r[0].int(), r[1].int());
        nps.answers += n;
        match score {
            9..=10 => nps.promoters += n,
            7..=8 => nps.passives += n,
            _ => nps.detractors += n,
        }
    }
    nps.score = ratio(nps.promoters - nps.detractors, 100, nps.answers);
    d.nps = nps;
    d
}

/// ROI by the stated method (see `DEFINITIONS["roi"]`), exact in integers.
fn roi(d: &Dashboard) -> Roi {
    let cost: Money = d
        .points_earned
        .saturating_mul(d.point_value)
        .saturating_add(d.discounts_given);
    // (rev_m / n_m − rev_a / n_a) × n_m = rev_m − rev_a × n_m / n_a
    let incremental = (d.anonymous_sales > 0).then(|| {
        let other = (i128::from(d.anonymous_revenue) * i128::from(d.member_sales))
            .div_euclid(i128::from(d.anonymous_sales));
        (i128::from(d.member_revenue) - other) as i64
    });
    let roi_bp = incremental.and_then(|inc| ratio(inc.saturating_sub(cost), 10_000, cost));
    Roi {
        incremental_revenue: incremental,
        cost,
        roi_bp,
    }
}
