//! `loyalty-bench dashboard`: the owner's dashboard on the embedded (SQLite) server for
//! N members and M sales. The database is generated once ([`generate`]) and reused from
//! `bench-data/`; the dashboard is computed through the server's own code path
//! (`loyalty_server::owner::dashboard` over the SQLite backend — what
//! `GET /api/v1/dashboard` calls), a first (cold) time and `--runs` times more; the
//! baseline is a raw `SELECT COUNT(*), SUM(amount)` over every `sale_facts` row in the
//! same run. Last line: one JSON object with `dashboard_s` (median, 30 days),
//! `dashboard_365_s` (365 days) and `dashboard_ratio`.

pub mod args;
pub mod generate;

use args::DashboardArgs;
use chrono::Duration;
use generate::Meta;
use loyalty_wire::DashboardQuery;
use std::time::Instant;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The figures of one run.
#[derive(serde::Serialize, Debug, Clone)]
pub struct DashboardReport {
    pub members: u64,
    pub sales: u64,
    pub anonymous_sales: u64,
    pub generate_s: Option<f64>,
    /// Median of the warm runs, whole chain, last 30 days (the default).
    pub dashboard_s: f64,
    pub dashboard_cold_s: f64,
    /// One store, last 30 days.
    pub dashboard_store_s: f64,
    /// Whole chain, last 365 days.
    pub dashboard_365_s: f64,
    /// One store, last 365 days.
    pub dashboard_store_365_s: f64,
    /// Whole chain, the whole history (every day of the data).
    pub dashboard_all_s: f64,
    /// The server's start on this database (migrations, and the first time the
    /// `member_days` backfill from `sale_facts`).
    pub migrate_s: f64,
    /// Median raw `SELECT COUNT(*), SUM(amount) FROM sale_facts` (every row).
    pub raw_scan_s: f64,
    pub dashboard_ratio: f64,
    pub goal_s: f64,
    /// Every period above (30 days, 365 days, whole history, chain and one store) within
    /// the goal.
    pub goal_met: bool,
    /// Figures of the default dashboard (sanity).
    pub period_member_sales: i64,
    pub period_active_members: i64,
    pub members_total: i64,
}

impl DashboardReport {
    pub fn table(&self) -> String {
        format!(
            "dashboard on SQLite: {} members, {} member sales + {} without a card\n\
             {:<44}{:>10.3} s (cold {:.3} s; goal <= {:.1} s: {})\n\
             {:<44}{:>10.3} s\n{:<44}{:>10.3} s\n{:<44}{:>10.3} s\n\
             {:<44}{:>10.3} s\n{:<44}{:>10.3} s\n{:<44}{:>10.2}\n{:<44}{:>10.3} s\n\
             (30-day period: {} member sales, {} active members; {} members)",
            self.members,
            self.sales,
            self.anonymous_sales,
            "dashboard, chain, 30 days (median)",
            self.dashboard_s,
            self.dashboard_cold_s,
            self.goal_s,
            if self.goal_met { "met" } else { "MISSED" },
            "dashboard, one store, 30 days (median)",
            self.dashboard_store_s,
            "dashboard, chain, 365 days (median)",
            self.dashboard_365_s,
            "dashboard, one store, 365 days (median)",
            self.dashboard_store_365_s,
            "dashboard, chain, whole history (median)",
            self.dashboard_all_s,
            "raw COUNT(*), SUM(amount) of all sales",
            self.raw_scan_s,
            "ratio dashboard / raw scan",
            self.dashboard_ratio,
            "server start (migrations, backfills)",
            self.migrate_s,
            self.period_member_sales,
            self.period_active_members,
            self.members_total,
        )
    }

    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn prepare(a: &DashboardArgs) -> Result<(Meta, Option<f64>), String> {
    let dir = a.dir();
    let (db, meta_path) = (dir.join("server.db"), dir.join("meta.json"));
    if !a.regenerate {
        if let Ok(text) = std::fs::read_to_string(&meta_path) {
            if let Ok(meta) = serde_json::from_str::<Meta>(&text) {
                eprintln!("reusing {}", db.display());
                return Ok((meta, None));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    eprintln!(
        "generating {} members, {} + {} sales into {}",
        a.members,
        a.sales,
        a.anonymous,
        db.display()
    );
    let meta = generate::generate(a, &db)?;
    std::fs::write(&meta_path, serde_json::to_string(&meta).map_err(err)?).map_err(err)?;
    let s = meta.generate_s;
    Ok((meta, Some(s)))
}

pub fn run(a: &DashboardArgs) -> Result<DashboardReport, String> {
    let (meta, generate_s) = prepare(a)?;
    let db = a.dir().join("server.db");
    let rt = tokio::runtime::Runtime::new().map_err(err)?;
    let started = Instant::now();
    let backend = rt.block_on(async {
        let b = loyalty_server::backend::open(&db.display().to_string())
            .await
            .map_err(err)?;
        b.migrate().await.map_err(err)?;
        Ok::<_, String>(b)
    })?;
    let migrate_s = started.elapsed().as_secs_f64();
    let time = |q: &DashboardQuery| -> Result<(f64, loyalty_wire::Dashboard), String> {
        let t = Instant::now();
        let d = rt
            .block_on(loyalty_server::owner::dashboard(
                backend.as_ref(),
                q,
                meta.as_of,
            ))
            .map_err(err)?;
        Ok((t.elapsed().as_secs_f64(), d))
    };
    let chain = DashboardQuery::default();
    let (cold, first) = time(&chain)?;
    let mut warm = Vec::new();
    for _ in 0..a.runs {
        warm.push(time(&chain)?.0);
    }
    let store = DashboardQuery {
        store: Some("Store 3".into()),
        ..DashboardQuery::default()
    };
    let year = DashboardQuery {
        from: Some((meta.as_of - Duration::days(364)).date_naive().to_string()),
        ..DashboardQuery::default()
    };
    let store_year = DashboardQuery {
        store: store.store.clone(),
        ..year.clone()
    };
    let all = DashboardQuery {
        from: Some(
            (meta.as_of - Duration::days(i64::from(a.days) - 1))
                .date_naive()
                .to_string(),
        ),
        ..DashboardQuery::default()
    };
    let (mut store_t, mut year_t, mut store_year_t, mut all_t) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..a.runs {
        store_t.push(time(&store)?.0);
        year_t.push(time(&year)?.0);
        store_year_t.push(time(&store_year)?.0);
        all_t.push(time(&all)?.0);
    }
    let (store_s, year_s, store_year_s, all_s) = (
        median(store_t),
        median(year_t),
        median(store_year_t),
        median(all_t),
    );
    let raw = rusqlite::Connection::open(&db).map_err(err)?;
    let mut raw_t = Vec::new();
    for _ in 0..=a.runs {
        let t = Instant::now();
        let (n, _sum): (i64, i64) = raw
            .query_row("SELECT COUNT(*), SUM(amount) FROM sale_facts", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(err)?;
        raw_t.push(t.elapsed().as_secs_f64());
        if n as u64 != meta.sales + meta.anonymous {
            return Err(format!(
                "sale_facts holds {n} rows, expected {}",
                meta.sales + meta.anonymous
            ));
        }
    }
    raw_t.remove(0);
    let dashboard_s = median(warm);
    let raw_scan_s = median(raw_t);
    Ok(DashboardReport {
        members: meta.members,
        sales: meta.sales,
        anonymous_sales: meta.anonymous,
        generate_s,
        dashboard_s,
        dashboard_cold_s: cold,
        dashboard_store_s: store_s,
        dashboard_365_s: year_s,
        dashboard_store_365_s: store_year_s,
        dashboard_all_s: all_s,
        migrate_s,
        raw_scan_s,
        dashboard_ratio: dashboard_s / raw_scan_s.max(1e-9),
        goal_s: 2.0,
        goal_met: [dashboard_s, store_s, year_s, store_year_s, all_s]
            .iter()
            .all(|s| *s <= 2.0),
        period_member_sales: first.member_sales,
        period_active_members: first.active_members,
        members_total: first.members_total,
    })
}
