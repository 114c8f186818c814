//! The dashboard benchmark's server database: the schema made by the server's own
//! migrations, then the rows ingest would have written for N members and M sales — the
//! analytics tables the dashboard reads (`sale_facts`, `customer_stats`, `daily_stats`,
//! `nps_answers`; `member_days` is backfilled by the server's first start) and the stores and tills — through a fast raw path (one transaction, no
//! journal, indexes built after the rows, exactly as the migration declares them). The
//! account books, profiles and the event log of those facts are not generated: the
//! dashboard does not read them.

use super::args::DashboardArgs;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use loyalty_server::backend::hash::ts;
use rusqlite::{params, Connection};
use std::collections::HashMap;
use std::path::Path;

/// What a generated database holds (saved beside it as `meta.json`).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
pub struct Meta {
    pub members: u64,
    pub sales: u64,
    pub anonymous: u64,
    /// The dashboards are computed as of this time (the last second of the data).
    pub as_of: DateTime<Utc>,
    pub generate_s: f64,
}

/// The indexes of migrations 0003 and 0005 built after the rows (same names and columns).
const INDEXES: &str = "
    CREATE INDEX sale_facts_day ON sale_facts (day, store_id, member_no);
    CREATE INDEX sale_facts_store ON sale_facts (store_id, day, member_no);
    CREATE INDEX customer_stats_expiry ON customer_stats (next_expiry);
    CREATE INDEX customer_stats_last ON customer_stats (last_purchase);";

#[derive(Default, Clone, Copy)]
struct Daily {
    member_sales: i64,
    member_amount: i64,
    anon_sales: i64,
    anon_amount: i64,
    discount: i64,
    new_members: i64,
    earned: i64,
    spent: i64,
}

fn uid(kind: u8, n: u64) -> String {
    uuid::Uuid::from_u128((u128::from(kind) << 120) | u128::from(n)).to_string()
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

pub fn generate(a: &DashboardArgs, db: &Path) -> Result<Meta, String> {
    let started = std::time::Instant::now();
    let rt = tokio::runtime::Runtime::new().map_err(err)?;
    rt.block_on(async {
        let b = loyalty_server::backend::open(&db.display().to_string())
            .await
            .map_err(err)?;
        b.migrate().await.map_err(err).map(|_| ())
    })?;
    let mut c = Connection::open(db).map_err(err)?;
    c.execute_batch(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000;
         PRAGMA temp_store=MEMORY;
         DROP INDEX sale_facts_day; DROP INDEX sale_facts_store; DROP INDEX customer_stats_expiry;
         DROP INDEX customer_stats_last;",
    )
    .map_err(err)?;
    let today = Utc::now().date_naive().and_time(NaiveTime::MIN).and_utc();
    let start = today - Duration::days(i64::from(a.days));
    let as_of = today - Duration::seconds(1);
    let tx = c.transaction().map_err(err)?;
    let store = |s: u32| format!("store-{s:03}");
    for s in 0..a.stores {
        tx.execute(
            "INSERT INTO stores (id, name, created_at) VALUES (?1, ?2, ?3)",
            params![store(s), format!("Store {s}"), ts(start)],
        )
        .map_err(err)?;
        tx.execute(
            "INSERT INTO tills (id, store_id, token_hash, revoked, created_at)
             VALUES (?1, ?2, ?3, FALSE, ?4)",
            params![
                format!("till-{s:03}"),
                store(s),
                format!("bench-{s}"),
                ts(start)
            ],
        )
        .map_err(err)?;
        tx.execute(
            "INSERT INTO till_cursors (till_id, last_seq) VALUES (?1, 0)",
            [format!("till-{s:03}")],
        )
        .map_err(err)?;
    }
    let n = a.members as usize;
    let (mut first, mut last) = (vec![0i64; n], vec![0i64; n]);
    let (mut count, mut spend, mut balance) = (vec![0u32; n], vec![0i64; n], vec![100i64; n]);
    let mut daily: HashMap<(i64, u32), Daily> = HashMap::new();
    let mut rng = fastrand::Rng::with_seed(7);
    {
        let mut ins = tx
            .prepare(
                "INSERT INTO sale_facts (op_id, member_no, account_uid, store_id, till_id, day,
                    at, amount, discount, points_spent, points_earned, categories)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .map_err(err)?;
        let cats = ["", "drinks", "food", "drinks,food", "clothes", "pharmacy"];
        let (mut op, days) = (0u64, i64::from(a.days));
        for d in 0..days {
            let per =
                |total: u64| total / days as u64 + u64::from((d as u64) < total % days as u64);
            let day_start = start + Duration::days(d);
            let day = day_start.format("%Y-%m-%d").to_string();
            let (members_today, anon_today) = (per(a.sales), per(a.anonymous));
            for k in 0..members_today + anon_today {
                op += 1;
                let t = day_start + Duration::seconds(rng.i64(0..86_400));
                let amount = rng.i64(100..500_000);
                let member = (k < members_today).then(|| {
                    let r = rng.f64();
                    ((r * r * n as f64) as usize).min(n - 1)
                });
                let s = match member {
                    Some(m) if rng.u8(..10) < 8 => (m as u32) % a.stores,
                    _ => rng.u32(..a.stores),
                };
                let e = daily.entry((d, s)).or_default();
                let (mut discount, mut spent, mut earned) = (0, 0, 0);
                if let Some(m) = member {
                    discount = if rng.u8(..4) == 0 { amount / 20 } else { 0 };
                    if rng.bool() {
                        spent = balance[m]
                            .min(rng.i64(0..300))
                            .min((amount - discount) / 300);
                    }
                    earned = (amount - discount - spent * 100).max(0) / 100 * 5 / 100;
                    balance[m] += earned - spent;
                    let secs = t.timestamp();
                    if first[m] == 0 {
                        first[m] = secs;
                    }
                    last[m] = secs;
                    count[m] += 1;
                    spend[m] += amount - discount;
                    e.member_sales += 1;
                    e.member_amount += amount - discount;
                    e.discount += discount;
                    e.earned += earned;
                    e.spent += spent;
                } else {
                    e.anon_sales += 1;
                    e.anon_amount += amount;
                }
                ins.execute(params![
                    uid(1, op),
                    member.map(|m| m as i64 + 1),
                    member.map(|m| uid(2, m as u64)),
                    store(s),
                    format!("till-{s:03}"),
                    day,
                    ts(t),
                    amount - discount,
                    discount,
                    spent,
                    earned,
                    if member.is_some() {
                        cats[rng.usize(..cats.len())]
                    } else {
                        ""
                    },
                ])
                .map_err(err)?;
            }
            if d % 73 == 0 {
                eprintln!("  generated day {d}/{days} ({op} sales)");
            }
        }
    }
    {
        let mut ins = tx
            .prepare(
                "INSERT INTO customer_stats (account_uid, member_no, customer_uid, store_id,
                    enrolled_at, birthday_md, consent, first_purchase, last_purchase, purchases,
                    net_spend, outstanding, shortfall, next_expiry)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 0, ?13)",
            )
            .map_err(err)?;
        let span = i64::from(a.days) * 86_400;
        let at = |secs: i64| DateTime::from_timestamp(secs, 0).map(ts);
        for m in 0..n {
            let enrolled = if first[m] > 0 {
                first[m] - rng.i64(0..30 * 86_400)
            } else {
                start.timestamp() + rng.i64(0..span)
            };
            let s = (m as u32) % a.stores;
            let d = (enrolled - start.timestamp()).div_euclid(86_400);
            let e = daily.entry((d, s)).or_default();
            e.new_members += 1;
            e.earned += 100;
            let bday = format!("{:02}-{:02}", rng.u8(1..13), rng.u8(1..29));
            let expiry = (balance[m] > 0).then(|| ts(as_of + Duration::days(rng.i64(1..365))));
            ins.execute(params![
                uid(2, m as u64),
                m as i64 + 1,
                uid(3, m as u64),
                store(s),
                at(enrolled),
                bday,
                rng.bool(),
                (first[m] > 0).then(|| at(first[m])).flatten(),
                (last[m] > 0).then(|| at(last[m])).flatten(),
                count[m],
                spend[m],
                balance[m],
                expiry,
            ])
            .map_err(err)?;
        }
        let mut ins = tx
            .prepare(
                "INSERT INTO daily_stats (day, store_id, member_sales, member_amount, anon_sales,
                    anon_amount, discount, new_members, points_earned, points_spent)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .map_err(err)?;
        for ((d, s), v) in &daily {
            let day = (start + Duration::days(*d)).format("%Y-%m-%d").to_string();
            ins.execute(params![
                day,
                store(*s),
                v.member_sales,
                v.member_amount,
                v.anon_sales,
                v.anon_amount,
                v.discount,
                v.new_members,
                v.earned,
                v.spent
            ])
            .map_err(err)?;
        }
        let mut ins = tx
            .prepare(
                "INSERT INTO nps_answers (id, sale_op_id, till_id, store_id, day, score, created_at)
                 VALUES (?1, NULL, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(err)?;
        for i in 0..(a.sales / 100).max(1) {
            let t = start + Duration::seconds(rng.i64(0..span));
            let s = rng.u32(..a.stores);
            ins.execute(params![
                uid(4, i),
                format!("till-{s:03}"),
                store(s),
                t.format("%Y-%m-%d").to_string(),
                rng.i64(0..11),
                ts(t)
            ])
            .map_err(err)?;
        }
    }
    tx.execute(
        "UPDATE analytics_state SET value = 1 WHERE name = 'backfilled'",
        [],
    )
    .map_err(err)?;
    // `member_days` is left to the server's backfill from `sale_facts` (the next start).
    tx.execute(
        "UPDATE analytics_state SET value = 0 WHERE name = 'member_days'",
        [],
    )
    .map_err(err)?;
    tx.commit().map_err(err)?;
    eprintln!("  building the indexes");
    c.execute_batch(INDEXES).map_err(err)?;
    c.execute_batch("PRAGMA journal_mode=WAL;").map_err(err)?;
    Ok(Meta {
        members: a.members,
        sales: a.sales,
        anonymous: a.anonymous,
        as_of,
        generate_s: started.elapsed().as_secs_f64(),
    })
}
