//! `member_days` (migration 0005): on which days each member bought, as bits. Eras of
//! [`HALF_DAYS`] days (2016, about 5.5 years); a row of a member and an era holds
//! [`WORDS`] nullable BIGINT columns of [`BITS`] day bits, [`ERA_DAYS`] days from the
//! era's first day, so rows overlap by half and each purchase day is set in two rows —
//! by one upsert per member sale at ingest. The buyers of two periods within 2016 days
//! (and of both) are then one pass over one row per member of one era, without grouping,
//! instead of every sale of the periods. Bits are idempotent: the backfill from
//! `sale_facts` may meet rows ingest already set.

use super::{day_of, Rows, Stmt, Val};
use chrono::NaiveDate;

/// Day bits per word (bit 63 left out: every word stays a positive BIGINT).
pub const BITS: i64 = 63;
/// Words per row; a row covers [`ERA_DAYS`] days, from the first day of its era.
pub const WORDS: i64 = 64;
/// Days an era starts after the previous one: eras overlap by half, each day is in two
/// rows (words `0..32` of its era, `32..64` of the one before), so any days `lo..=hi`
/// with `hi − lo < HALF_DAYS` lie within one row of each member: era `lo / HALF_DAYS`.
pub const HALF_DAYS: i64 = BITS * WORDS / 2;
pub const ERA_DAYS: i64 = 2 * HALF_DAYS;

/// Days since 1970-01-01.
pub fn day_number(d: NaiveDate) -> i64 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days()
}

/// `(era, word, bit value)` of a day in the first half of its era (the word + 32 in the
/// era before).
pub fn slot(d: NaiveDate) -> (i64, i64, i64) {
    let n = day_number(d);
    let i = n.rem_euclid(HALF_DAYS);
    (n.div_euclid(HALF_DAYS), i / BITS, 1i64 << (i % BITS))
}

/// One statement setting a day's bit in both rows: `select` yields `(member_no, bit)`.
fn upsert(select: &str, word: i64) -> String {
    let (a, b) = (word, word + WORDS / 2);
    let set = |w: i64| {
        format!(
            "w{w} = CASE WHEN excluded.w{w} IS NULL THEN member_days.w{w}
                ELSE COALESCE(member_days.w{w}, 0) | excluded.w{w} END"
        )
    };
    format!(
        "INSERT INTO member_days (era, member_no, w{a}, w{b})
         SELECT CAST($2 AS BIGINT), m, bit, CAST(NULL AS BIGINT) FROM ({select}) s WHERE TRUE
         UNION ALL
         SELECT CAST($2 AS BIGINT) - 1, m, CAST(NULL AS BIGINT), bit FROM ({select}) s WHERE TRUE
         ON CONFLICT (era, member_no) DO UPDATE SET {}, {}",
        set(a),
        set(b)
    )
}

/// Ingest: the day of a member sale (nothing when the account has no `customer_stats` row,
/// like `sale_facts.member_no` is then NULL).
pub fn sale_stmt(account_uid: &str, day: NaiveDate) -> Stmt {
    let (era, word, bit) = slot(day);
    Stmt::new(
        upsert(
            "SELECT member_no AS m, CAST($3 AS BIGINT) AS bit FROM customer_stats
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
            "SELECT DISTINCT member_no AS m, CAST($3 AS BIGINT) AS bit FROM sale_facts
             WHERE day = $1 AND member_no IS NOT NULL",
            word,
        ),
        vec![Val::text(day_of(day)), Val::Int(era), Val::Int(bit)],
    )
}

/// The first day with sales (a lower bound of every member's first purchase day).
pub fn first_day_query() -> Stmt {
    Stmt::new("SELECT MIN(day) FROM sale_facts", vec![])
}

/// `[(word, mask)]` of the days `lo..=hi` (day numbers) in the row of `era`, all within
/// it.
pub fn masks(era: i64, lo: i64, hi: i64) -> Vec<(i64, i64)> {
    let (lo, hi) = (lo - era * HALF_DAYS, hi - era * HALF_DAYS);
    (lo / BITS..=hi / BITS)
        .map(|w| {
            let (l, h) = (
                lo.max(w * BITS) - w * BITS,
                hi.min(w * BITS + BITS - 1) - w * BITS,
            );
            // bits l..=h, 0 ≤ l ≤ h ≤ 62
            let mask = (u64::MAX >> (63 - h)) & !((1u64 << l) - 1);
            (w, mask as i64)
        })
        .collect()
}

/// SQL: a `member_days` row of `era` has a day of `lo..=hi` (within the era).
fn cond_in(era: i64, lo: i64, hi: i64) -> String {
    let w: Vec<String> = masks(era, lo, hi)
        .iter()
        .map(|(w, m)| format!("(w{w} & {m}) <> 0"))
        .collect();
    format!("({})", w.join(" OR "))
}

/// SQL: a row (of any era) has a day of `lo..=hi`, each day tested in the first half of
/// its era only (so in exactly one row).
fn cond_any(lo: i64, hi: i64) -> String {
    let eras: Vec<String> = (lo.div_euclid(HALF_DAYS)..=hi.div_euclid(HALF_DAYS))
        .map(|era| {
            let base = era * HALF_DAYS;
            let (a, b) = (lo.max(base), hi.min(base + HALF_DAYS - 1));
            format!("(era = {era} AND {})", cond_in(era, a, b))
        })
        .collect();
    eras.join(" OR ")
}

/// The chain's buyers: one row `(buyers of cur, buyers of prev, buyers of both)`. Days
/// before `first` (the first day with sales) are left out: nobody bought then. When both
/// periods lie within `HALF_DAYS` (a period up to 1008 days, or a longer one cut by
/// `first`), one row per member is read, from one era; else the rows of every era the
/// periods touch, grouped by member.
pub fn buyers_query(
    cur: (NaiveDate, NaiveDate),
    prev: (NaiveDate, NaiveDate),
    first: Option<NaiveDate>,
) -> Stmt {
    let first = first.map(day_number).unwrap_or(i64::MAX);
    let clamp = |(a, b): (NaiveDate, NaiveDate)| {
        let (a, b) = (day_number(a).max(first), day_number(b));
        (a <= b).then_some((a, b))
    };
    let (c, p) = (clamp(cur), clamp(prev));
    let sum =
        |e: &str| format!("CAST(COALESCE(SUM(CASE WHEN {e} THEN 1 ELSE 0 END), 0) AS BIGINT)");
    let (lo, hi) = match (c, p) {
        (None, None) => {
            return Stmt::new(
                "SELECT CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT)",
                vec![],
            )
        }
        (Some(x), None) | (None, Some(x)) => x,
        (Some(x), Some(y)) => (x.0.min(y.0), x.1.max(y.1)),
    };
    if hi - lo < HALF_DAYS {
        let era = lo.div_euclid(HALF_DAYS);
        let cc = c.map_or("1 = 0".into(), |(a, b)| cond_in(era, a, b));
        let pc = p.map_or("1 = 0".into(), |(a, b)| cond_in(era, a, b));
        return Stmt::new(
            format!(
                "SELECT {}, {}, {} FROM member_days WHERE era = $1",
                sum(&cc),
                sum(&pc),
                sum(&format!("{cc} AND {pc}"))
            ),
            vec![Val::Int(era)],
        );
    }
    let cc = c.map_or("1 = 0".into(), |(a, b)| cond_any(a, b));
    let pc = p.map_or("1 = 0".into(), |(a, b)| cond_any(a, b));
    Stmt::new(
        format!(
            "SELECT CAST(COALESCE(SUM(c), 0) AS BIGINT), CAST(COALESCE(SUM(p), 0) AS BIGINT),
                CAST(COALESCE(SUM(c * p), 0) AS BIGINT)
             FROM (SELECT member_no,
                     MAX(CASE WHEN {cc} THEN 1 ELSE 0 END) AS c,
                     MAX(CASE WHEN {pc} THEN 1 ELSE 0 END) AS p
                   FROM member_days WHERE era >= $1 AND era <= $2 GROUP BY member_no) t"
        ),
        vec![
            Val::Int(lo.div_euclid(HALF_DAYS)),
            Val::Int(hi.div_euclid(HALF_DAYS)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_cover_exactly_the_days_within_an_era() {
        let mut seed = 7u64;
        for _ in 0..400 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let lo = 20_000 + (seed >> 33) as i64 % 4000;
            let hi = lo + (seed >> 13) as i64 % HALF_DAYS;
            let era = lo.div_euclid(HALF_DAYS);
            let mut got = std::collections::BTreeSet::new();
            for (w, m) in masks(era, lo, hi) {
                assert!((0..WORDS).contains(&w));
                for b in 0..BITS {
                    if m & (1 << b) != 0 {
                        got.insert(era * HALF_DAYS + w * BITS + b);
                    }
                }
            }
            let want: std::collections::BTreeSet<i64> = (lo..=hi).collect();
            assert_eq!(got, want, "{lo}..{hi}");
        }
    }
}
