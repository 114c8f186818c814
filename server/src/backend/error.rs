//! Typed backend errors with stable codes.

use loyalty_domain::Points;

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("database error: {0}")]
    Db(String),
    /// Transaction conflicts (serialization failures, deadlocks) that outlasted the retries.
    #[error("database busy: {0}")]
    Busy(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("migration {version} ({name}) was changed after it was applied; add a new migration instead")]
    MigrationChanged { version: i64, name: String },
    #[error(
        "database has migration {0} unknown to this build: refusing to run an older server on it"
    )]
    MigrationUnknown(i64),
    #[error("{0}")]
    Unsupported(String),
    #[error("till {0} not found")]
    TillNotFound(String),
    #[error("card {0} not found")]
    CardNotFound(String),
    #[error("card {0} is blocked")]
    CardBlocked(String),
    #[error("not enough points: {available} available, {requested} requested")]
    InsufficientPoints {
        available: Points,
        requested: Points,
    },
    #[error("points must be positive (got {0})")]
    InvalidPoints(Points),
    #[error("operation {0} was already used with different content")]
    OpConflict(String),
    /// An owner's fact the rules refuse (nothing written): `INVALID_MERGE`,
    /// `ACCOUNT_NOT_FOUND`, `ALREADY_MERGED`, `INVALID_FACT`, ...
    #[error("{message}")]
    FactRejected { code: &'static str, message: String },
    #[error("reservation {0} not found")]
    ReservationNotFound(String),
    #[error("reservation {0} belongs to another till")]
    ReservationForbidden(String),
    #[error("reservation {0} was already consumed by a sale")]
    ReservationConsumed(String),
    #[error("a batch holds at most {max} events (got {got})")]
    BatchTooLarge { max: usize, got: usize },
    /// The source of a server-origin batch failed (e.g. its file changed): rolled back.
    #[error("{message}")]
    Source { code: &'static str, message: String },
    /// A fact of a server-origin batch cannot apply: the whole batch was rolled back.
    #[error("{label}: {message} (nothing was applied)")]
    BatchRejected {
        label: String,
        code: &'static str,
        message: String,
    },
}

impl BackendError {
    pub fn code(&self) -> &'static str {
        match self {
            BackendError::Db(_) => "DB_ERROR",
            BackendError::Busy(_) => "DB_BUSY",
            BackendError::Corrupt(_) => "DB_CORRUPT",
            BackendError::MigrationChanged { .. } => "DB_MIGRATION_CHANGED",
            BackendError::MigrationUnknown(_) => "DB_MIGRATION_UNKNOWN",
            BackendError::Unsupported(_) => "BACKEND_UNSUPPORTED",
            BackendError::TillNotFound(_) => "TILL_NOT_FOUND",
            BackendError::CardNotFound(_) => "CARD_NOT_FOUND",
            BackendError::CardBlocked(_) => "CARD_BLOCKED",
            BackendError::InsufficientPoints { .. } => "INSUFFICIENT_POINTS",
            BackendError::InvalidPoints(_) => "INVALID_POINTS",
            BackendError::OpConflict(_) => "OP_CONFLICT",
            BackendError::ReservationNotFound(_) => "RESERVATION_NOT_FOUND",
            BackendError::ReservationForbidden(_) => "RESERVATION_FORBIDDEN",
            BackendError::ReservationConsumed(_) => "RESERVATION_CONSUMED",
            BackendError::BatchTooLarge { .. } => "BATCH_TOO_LARGE",
            BackendError::BatchRejected { code, .. }
            | BackendError::Source { code, .. }
            | BackendError::FactRejected { code, .. } => code,
        }
    }

    /// A failure of the server, not of the request (HTTP 5xx).
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            BackendError::Db(_)
                | BackendError::Busy(_)
                | BackendError::Corrupt(_)
                | BackendError::MigrationChanged { .. }
                | BackendError::MigrationUnknown(_)
                | BackendError::Unsupported(_)
        )
    }
}

impl From<rusqlite::Error> for BackendError {
    fn from(e: rusqlite::Error) -> Self {
        BackendError::Db(e.to_string())
    }
}

impl From<tokio_postgres::Error> for BackendError {
    fn from(e: tokio_postgres::Error) -> Self {
        use tokio_postgres::error::SqlState;
        match e.code() {
            Some(c)
                if *c == SqlState::T_R_SERIALIZATION_FAILURE
                    || *c == SqlState::T_R_DEADLOCK_DETECTED =>
            {
                BackendError::Busy(e.to_string())
            }
            _ => BackendError::Db(match e.as_db_error() {
                Some(db) => format!("{} ({})", db.message(), db.code().code()),
                None => e.to_string(),
            }),
        }
    }
}

impl From<deadpool_postgres::PoolError> for BackendError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            other => BackendError::Db(format!("connection pool: {other}")),
        }
    }
}

impl From<serde_json::Error> for BackendError {
    fn from(e: serde_json::Error) -> Self {
        BackendError::Corrupt(e.to_string())
    }
}
