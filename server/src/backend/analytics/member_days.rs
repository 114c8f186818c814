//! `member_days` (migration 0005): on which days each member bought, as bits. One row per
//! member and era of [`ERA_DAYS`] days (about 5.5 years), [`WORDS`] BIGINT columns of
//! [`BITS`] day bits each; ingest ORs the sale's day bit in (one upsert per member sale),
//! so the distinct buyers of any period of whole days — and of two periods, and of both —
//! are one pass over about one row per member instead of every sale of the periods.
//! Bits are idempotent: the backfill from `sale_facts` may meet rows ingest already set.

use super::{day_of, Rows, Stmt, Val};
use chrono::NaiveDate;

/// Day bits per word (bit 63 left out: every word stays a positive BIGINT).
pub const BITS: i64 = 63;
/// Words per row.
pub const WORDS: i64 = 32;
/// Days per row (era).
pub const ERA_DAYS: i64 = BITS * WORDS;

/// Days since 1970-01-01.
pub fn day_number(d: NaiveDate) -> i64 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days()
}

/// `(era, word, bit value)` of a day.
pub fn slot(d: NaiveDate) -> (i64, i64, i64) {
    let n = day_number(d);
    let i = n.rem_euclid(ERA_DAYS);
    (n.div_euclid(ERA_DAYS), i / BITS, 1i64 << (i % BITS))
}

fn upsert(select: &str, word: i64) -> String {
    format!(
        "INSERT INTO member_days (member_no, era, w{word}) {select}
         ON CONFLICT (member_no, era) DO UPDATE SET w{word} = member_days.w{word} | excluded.w{word}"
    )
}

/// Ingest: the day of a member sale (nothing when the account has no `customer_stats` row,
/// like `sale_facts.member_no` is then NULL).
pub fn sale_stmt(account_uid: &str, day: NaiveDate) -> Stmt {
    let (era, word, bit) = slot(day);
    Stmt::new(
        upsert(
            "SELECT member_no, CAST($2 AS BIGINT), CAST($3 AS BIGINT) FROM customer_stats
             WHERE account_uid = $1",
            word,
        ),
        vec![Val::text(account_uid), Val::Int(era), Val::Int(bit)],
    )
}

/// `value` of the backfill marker: 0 = still to run.
pub fn pending_query() -> Stmt {
    Stmt::new(
        "SELECT value FROM analytics_state WHERE name = 'member_days'",
        vec![],
    )
}

pub fn mark_done() -> Stmt {
    Stmt::new(
        "UPDATE analytics_state SET value = 1 WHERE name = 'member_days'",
        vec![],
    )
}

/// Backfill: the first day with sales after `after` (`''`: the first); NULL when none.
pub fn next_day_query(after: &str) -> Stmt {
    Stmt::new(
        "SELECT MIN(day) FROM sale_facts WHERE day > $1",
        vec![Val::text(after)],
    )
}

/// The day of a [`next_day_query`] answer (None: no more days).
pub fn next_day(rows: &Rows) -> Option<NaiveDate> {
    let t = rows.first()?.first()?.as_text()?;
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()
}

/// Backfill: the bits of one day's member sales.
pub fn backfill_day_stmt(day: NaiveDate) -> Stmt {
    let (era, word, bit) = slot(day);
    Stmt::new(
        upsert(
            "SELECT DISTINCT member_no, CAST($2 AS BIGINT), CAST($3 AS BIGINT) FROM sale_facts
             WHERE day = $1 AND member_no IS NOT NULL",
            word,
        ),
        vec![Val::text(day_of(day)), Val::Int(era), Val::Int(bit)],
    )
}

/// For each era the days `from..=to` touch: `(era, [(word, mask)])`.
pub fn masks(from: NaiveDate, to: NaiveDate) -> Vec<(i64, Vec<(i64, i64)>)> {
    let (a, b) = (day_number(from), day_number(to));
    let mut out = Vec::new();
    if a > b {
        return out;
    }
    for era in a.div_euclid(ERA_DAYS)..=b.div_euclid(ERA_DAYS) {
        let base = era * ERA_DAYS;
        let (lo, hi) = (a.max(base) - base, b.min(base + ERA_DAYS - 1) - base);
        let words = (lo / BITS..=hi / BITS)
            .map(|w| {
                let (l, h) = (
                    lo.max(w * BITS) - w * BITS,
                    hi.min(w * BITS + BITS - 1) - w * BITS,
                );
                // bits l..=h, 0 ≤ l ≤ h ≤ 62
                let mask = (u64::MAX >> (63 - h)) & !((1u64 << l) - 1);
                (w, mask as i64)
            })
            .collect();
        out.push((era, words));
    }
    out
}

/// SQL: a `member_days` row has a day of `from..=to`.
fn cond(from: NaiveDate, to: NaiveDate) -> String {
    let eras: Vec<String> = masks(from, to)
        .into_iter()
        .map(|(era, words)| {
            let w: Vec<String> = words
                .iter()
                .map(|(w, m)| format!("(w{w} & {m}) <> 0"))
                .collect();
            format!("(era = {era} AND ({}))", w.join(" OR "))
        })
        .collect();
    if eras.is_empty() {
        "1 = 0".into()
    } else {
        eras.join(" OR ")
    }
}

/// The chain's buyers: one row `(buyers of cur, buyers of prev, buyers of both)`.
pub fn buyers_query(cur: (NaiveDate, NaiveDate), prev: (NaiveDate, NaiveDate)) -> Stmt {
    let (lo, hi) = (cur.0.min(prev.0), cur.1.max(prev.1));
    let era = |d| slot(d).0;
    Stmt::new(
        format!(
            "SELECT CAST(COALESCE(SUM(c), 0) AS BIGINT), CAST(COALESCE(SUM(p), 0) AS BIGINT),
                CAST(COALESCE(SUM(c * p), 0) AS BIGINT)
             FROM (SELECT member_no,
                     MAX(CASE WHEN {} THEN 1 ELSE 0 END) AS c,
                     MAX(CASE WHEN {} THEN 1 ELSE 0 END) AS p
                   FROM member_days WHERE era >= $1 AND era <= $2 GROUP BY member_no) t",
            cond(cur.0, cur.1),
            cond(prev.0, prev.1)
        ),
        vec![Val::Int(era(lo)), Val::Int(era(hi))],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn masks_cover_exactly_the_days_of_a_period() {
        let start = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        let mut seed = 7u64;
        for _ in 0..400 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let from = start + Duration::days((seed >> 33) as i64 % 4000 - 2000);
            let to = from + Duration::days((seed >> 13) as i64 % 2600);
            let mut got = std::collections::BTreeSet::new();
            for (era, words) in masks(from, to) {
                for (w, m) in words {
                    for b in 0..BITS {
                        if m & (1 << b) != 0 {
                            got.insert(era * ERA_DAYS + w * BITS + b);
                        }
                    }
                }
            }
            let want: std::collections::BTreeSet<i64> =
                (day_number(from)..=day_number(to)).collect();
            assert_eq!(got, want, "{from}..{to}");
            let (era, w, bit) = slot(to);
            assert_eq!(
                era * ERA_DAYS + w * BITS + bit.trailing_zeros() as i64,
                day_number(to)
            );
        }
    }
}
