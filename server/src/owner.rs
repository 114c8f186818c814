//! The owner's back-office, over the backend's shared SQL ([`Backend::query`] /
//! [`Backend::execute`]): the owner token, the dashboard, trigger lists, program versions;
//! and what tills report besides facts (NPS answers, sales without a card).

use crate::backend::analytics::dashboard::{self, Filter};
use crate::backend::analytics::member_days;
use crate::backend::analytics::{day, record, triggers, AnalyticsError, Stmt, Val};
use crate::backend::hash::{parse_ts, ts};
use crate::backend::{Backend, BackendError, TillRecord};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use loyalty_domain::ProgramConfig;
use loyalty_wire::{
    AnonymousSalesRequest, AnonymousSalesResponse, Dashboard, DashboardQuery, NpsRequest,
    NpsResponse, ProgramVersionInfo, PublishProgramRequest, TriggerKind, TriggerRow,
};

/// The id of the owner token's row.
const OWNER: &str = "owner";

/// Most anonymous sales per request.
pub const MAX_ANONYMOUS: usize = 1000;

/// Errors of the owner's writes (typed, with a code).
#[derive(Debug, thiserror::Error)]
pub enum OwnerError {
    #[error("invalid program: {0}")]
    InvalidProgram(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Analytics(#[from] AnalyticsError),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

impl OwnerError {
    pub fn code(&self) -> &'static str {
        match self {
            OwnerError::InvalidProgram(_) => "INVALID_PROGRAM",
            OwnerError::Invalid(_) => "INVALID_REQUEST",
            OwnerError::Analytics(e) => e.code(),
            OwnerError::Backend(e) => e.code(),
        }
    }
}

/// Stores the hash of a new owner token (the old one stops working).
pub async fn set_owner_token(
    b: &dyn Backend,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<(), BackendError> {
    b.execute(vec![Stmt::new(
        "INSERT INTO owner_tokens (id, token_hash, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash,
            created_at = excluded.created_at",
        vec![Val::text(OWNER), Val::text(hash), Val::text(ts(now))],
    )])
    .await?;
    Ok(())
}

/// The stored owner token hash (None: `loyalty-server owner token` was never run).
pub async fn owner_token_hash(b: &dyn Backend) -> Result<Option<String>, BackendError> {
    let rows = b
        .query(vec![Stmt::new(
            "SELECT token_hash FROM owner_tokens WHERE id = $1",
            vec![Val::text(OWNER)],
        )])
        .await?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next())
        .and_then(|r| r.into_iter().next())
        .and_then(|v| v.as_text().map(str::to_string)))
}

fn parse_day(name: &str, s: Option<&str>) -> Result<Option<NaiveDate>, AnalyticsError> {
    s.map(|s| {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .ok()
            .filter(|d| (1900..=9999).contains(&chrono::Datelike::year(d)))
            .ok_or_else(|| {
                AnalyticsError::BadQuery(format!(
                    "{name} must be YYYY-MM-DD, years 1900..=9999 (got {s:?})"
                ))
            })
    })
    .transpose()
}

/// A store id for an id or a name.
pub async fn resolve_store(b: &dyn Backend, store: &str) -> Result<String, AnalyticsError> {
    let rows = b
        .query(vec![Stmt::new(
            "SELECT id FROM stores WHERE id = $1 OR name = $1 ORDER BY id LIMIT 1",
            vec![Val::text(store)],
        )])
        .await?;
    rows.into_iter()
        .next()
        .and_then(|r| r.into_iter().next())
        .and_then(|r| r.into_iter().next())
        .and_then(|v| v.as_text().map(str::to_string))
        .ok_or_else(|| AnalyticsError::UnknownStore(store.to_string()))
}

/// The filter of a dashboard query at `now`.
pub async fn filter(
    b: &dyn Backend,
    q: &DashboardQuery,
    now: DateTime<Utc>,
) -> Result<Filter, AnalyticsError> {
    let to = parse_day("to", q.to.as_deref())?.unwrap_or(now.date_naive());
    let from = parse_day("from", q.from.as_deref())?.unwrap_or(to - Duration::days(29));
    let days = (to - from).num_days() + 1;
    if !(1..=dashboard::MAX_DAYS).contains(&days) {
        return Err(AnalyticsError::BadQuery(format!(
            "the period must be 1..={} days, from <= to (got {from}..{to})",
            dashboard::MAX_DAYS
        )));
    }
    let store = match q.store.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(resolve_store(b, s).await?),
        None => None,
    };
    let first = b
        .query(vec![member_days::first_day_query()])
        .await?
        .into_iter()
        .next()
        .unwrap_or_default();
    Ok(Filter {
        store,
        from,
        to,
        as_of: now,
        first_sale: member_days::next_day(&first),
    })
}

/// The dashboard for a query at `now`.
pub async fn dashboard(
    b: &dyn Backend,
    q: &DashboardQuery,
    now: DateTime<Utc>,
) -> Result<Dashboard, AnalyticsError> {
    let f = filter(b, q, now).await?;
    let rows = b.query(dashboard::queries(&f)).await?;
    Ok(dashboard::assemble(&f, rows))
}

/// A trigger list at `now`.
pub async fn trigger_list(
    b: &dyn Backend,
    kind: TriggerKind,
    days: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(i64, Vec<TriggerRow>), AnalyticsError> {
    let days = triggers::check_days(days)?;
    let rows = b.query(vec![triggers::query(kind, days, now)]).await?;
    Ok((
        days,
        triggers::rows(rows.into_iter().next().unwrap_or_default())?,
    ))
}

/// Every published program version, oldest first.
pub async fn programs(b: &dyn Backend) -> Result<Vec<ProgramVersionInfo>, BackendError> {
    let rows = b
        .query(vec![Stmt::new(
            "SELECT version, effective_from, gseq, created_at, config FROM program_versions
             ORDER BY version",
            vec![],
        )])
        .await?;
    rows.into_iter()
        .next()
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            let config: ProgramConfig = serde_json::from_str(r[4].as_text().unwrap_or(""))?;
            Ok(ProgramVersionInfo {
                version: u32::try_from(r[0].int()).unwrap_or(0),
                effective_from: parse_ts(r[1].as_text().unwrap_or(""))?,
                gseq: r[2].int(),
                created_at: parse_ts(r[3].as_text().unwrap_or(""))?,
                config,
            })
        })
        .collect()
}

/// Publishes a new program version, validated by the domain's rules, under a new gseq:
/// every till receives it through `changes` / `snapshot`. Version 1 is the built-in
/// default program every till starts with (`ProgramConfig::default()`), so the first
/// published version is 2, then highest + 1: a version in the future never replaces the
/// program in force now.
pub async fn publish_program(
    b: &dyn Backend,
    req: PublishProgramRequest,
    now: DateTime<Utc>,
) -> Result<ProgramVersionInfo, OwnerError> {
    let last = programs(b).await?.last().map_or(1, |p| p.version.max(1));
    let mut config = req.config;
    config.version = last + 1;
    config.effective_from = req.effective_from;
    config
        .validate()
        .map_err(|e| OwnerError::InvalidProgram(e.to_string()))?;
    let json = serde_json::to_string(&config).map_err(BackendError::from)?;
    b.execute(vec![Stmt::new(
        "INSERT INTO program_versions (version, effective_from, config, gseq, created_at)
         VALUES ($1, $2, $3, $4, $5)",
        vec![
            Val::Int(i64::from(config.version)),
            Val::text(ts(config.effective_from)),
            Val::text(json),
            Val::Gseq,
            Val::text(ts(now)),
        ],
    )])
    .await?;
    programs(b)
        .await?
        .into_iter()
        .find(|p| p.version == config.version)
        .ok_or_else(|| {
            OwnerError::Backend(BackendError::Corrupt("published program vanished".into()))
        })
}

/// Records an NPS answer (idempotent on its id).
pub async fn record_nps(
    b: &dyn Backend,
    till: &TillRecord,
    req: &NpsRequest,
    now: DateTime<Utc>,
) -> Result<NpsResponse, OwnerError> {
    if !(0..=10).contains(&req.score) {
        return Err(OwnerError::Invalid(format!(
            "score must be 0..=10 (got {})",
            req.score
        )));
    }
    let at = req.recorded_at.map_or(now, |t| t.min(now));
    let changed = b
        .execute(vec![Stmt::new(
            "INSERT INTO nps_answers (id, sale_op_id, till_id, store_id, day, score, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
            vec![
                Val::text(req.id.to_string()),
                Val::opt_text(req.op_id.map(|o| o.to_string())),
                Val::text(&till.id),
                Val::text(&till.store_id),
                Val::text(day(at)),
                Val::Int(req.score),
                Val::text(ts(at)),
            ],
        )])
        .await?;
    Ok(NpsResponse {
        id: req.id,
        recorded: changed.first().copied().unwrap_or(0) > 0,
    })
}

/// Records sales without a card (idempotent per op id).
pub async fn record_anonymous_sales(
    b: &dyn Backend,
    till: &TillRecord,
    req: &AnonymousSalesRequest,
    now: DateTime<Utc>,
) -> Result<AnonymousSalesResponse, OwnerError> {
    if req.sales.len() > MAX_ANONYMOUS {
        return Err(OwnerError::Invalid(format!(
            "at most {MAX_ANONYMOUS} sales per request (got {})",
            req.sales.len()
        )));
    }
    let mut stmts = Vec::new();
    for s in &req.sales {
        if s.amount < 0 {
            return Err(OwnerError::Invalid(format!(
                "sale {}: amount must be >= 0 (got {})",
                s.op_id, s.amount
            )));
        }
        // Kept for reference only; PostgreSQL text cannot hold a NUL.
        let mut s = s.clone();
        s.receipt_no = s.receipt_no.replace('\0', "\u{FFFD}");
        record::anonymous_sale_stmts(
            &till.id,
            &till.store_id,
            &s,
            s.recorded_at.min(now),
            &mut stmts,
        );
    }
    let changed = b.execute(stmts).await?;
    let recorded = changed.chunks(3).filter(|c| c[0] > 0).count() as u32;
    Ok(AnonymousSalesResponse {
        recorded,
        duplicates: req.sales.len() as u32 - recorded,
    })
}
