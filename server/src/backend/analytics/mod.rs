//! The owner's back-office data, SQL shared by both backends: what an applied fact adds
//! to the analytics tables of migration 0003 ([`record`]), the expiry sweep's bookkeeping
//! ([`expiry`]), the backfill of a database older than 0003 ([`backfill`]), the SQLite
//! backend's projection of the owner's rows behind the event log ([`projection`]), the
//! dashboard ([`dashboard`]) and the trigger lists ([`triggers`]).
//!
//! Statements are [`Stmt`]s: SQL with `$1..$n` placeholders (numbered in order of first
//! use, so SQLite binds them as `?1..?n`) and typed values. Each backend runs them with
//! its own executor (`sqlite::analytics`, `postgres::analytics`): PostgreSQL inside the
//! transaction that applies the fact, SQLite the customer categories there and the rest in
//! the projection's transactions. The SQL uses only what SQLite, PostgreSQL, CockroachDB and
//! YugabyteDB all run: `INSERT .. ON CONFLICT .. DO UPDATE`, `CASE`, `CAST(.. AS BIGINT)`
//! around sums; days and thresholds are computed in Rust and passed as text.

pub mod backfill;
pub mod dashboard;
pub mod expiry;
pub mod member_days;
pub mod projection;
pub mod record;
pub mod triggers;

use chrono::{DateTime, NaiveDate, Utc};

/// A statement parameter or a column value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Val {
    Int(i64),
    Text(String),
    Bool(bool),
    /// A NULL text parameter (PostgreSQL types NULLs).
    NullText,
    /// A NULL integer parameter.
    NullInt,
    /// Parameter: the next gseq, taken once per [`crate::backend::Backend::execute`] call.
    Gseq,
    /// A NULL column value.
    Null,
}

impl Val {
    pub fn text(s: impl Into<String>) -> Val {
        Val::Text(s.into())
    }

    pub fn opt_text(s: Option<impl Into<String>>) -> Val {
        s.map(|s| Val::Text(s.into())).unwrap_or(Val::NullText)
    }

    /// An integer column (NULL → 0, a boolean → 0/1).
    pub fn int(&self) -> i64 {
        match self {
            Val::Int(i) => *i,
            Val::Bool(b) => i64::from(*b),
            Val::Text(t) => t.parse().unwrap_or(0),
            _ => 0,
        }
    }

    /// A text column (NULL → None).
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Val::Text(t) => Some(t),
            _ => None,
        }
    }

    /// A boolean column (SQLite stores 0/1).
    pub fn as_bool(&self) -> bool {
        match self {
            Val::Bool(b) => *b,
            Val::Int(i) => *i != 0,
            _ => false,
        }
    }
}

/// One statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stmt {
    pub sql: String,
    pub params: Vec<Val>,
    /// Run only if the previous statement of the call changed a row (e.g. bump counters
    /// only when an idempotent insert really inserted).
    pub if_changed: bool,
}

impl Stmt {
    pub fn new(sql: impl Into<String>, params: Vec<Val>) -> Stmt {
        Stmt {
            sql: sql.into(),
            params,
            if_changed: false,
        }
    }

    pub fn if_changed(mut self) -> Stmt {
        self.if_changed = true;
        self
    }

    /// The SQL for SQLite: `$n` → `?n`.
    pub fn sqlite_sql(&self) -> String {
        self.sql.replace('$', "?")
    }
}

/// Rows of one query.
pub type Rows = Vec<Vec<Val>>;

/// A UTC day as stored (`YYYY-MM-DD`).
pub fn day(t: DateTime<Utc>) -> String {
    t.date_naive().format("%Y-%m-%d").to_string()
}

/// A date as stored.
pub fn day_of(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Errors of the owner's reads (typed, with a code).
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error("bad query: {0}")]
    BadQuery(String),
    #[error("unknown store {0:?}")]
    UnknownStore(String),
    #[error(transparent)]
    Backend(#[from] super::BackendError),
}

impl AnalyticsError {
    pub fn code(&self) -> &'static str {
        match self {
            AnalyticsError::BadQuery(_) => "BAD_QUERY",
            AnalyticsError::UnknownStore(_) => "UNKNOWN_STORE",
            AnalyticsError::Backend(e) => e.code(),
        }
    }
}
