//! The one error type that crosses the IPC boundary: a stable code and a clear message.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the UI shows: `CODE — message`. Codes are stable SCREAMING_SNAKE strings (the store's
/// codes such as `UNKNOWN_CARD`, plus the app's own below).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AppError {
    pub code: String,
    pub message: String,
}

impl AppError {
    pub fn new(code: &str, message: impl Into<String>) -> AppError {
        AppError {
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// The till has no server URL / token yet (first run).
    pub fn not_configured() -> AppError {
        AppError::new(
            "NOT_CONFIGURED",
            "this till is not set up yet: enter the server URL and device token",
        )
    }

    pub fn already_configured() -> AppError {
        AppError::new("ALREADY_CONFIGURED", "this till is already set up")
    }

    pub fn not_logged_in() -> AppError {
        AppError::new("NOT_LOGGED_IN", "log in with your PIN first")
    }

    pub fn forbidden(what: &str) -> AppError {
        AppError::new("FORBIDDEN", format!("only an owner may {what}"))
    }

    pub fn invalid(message: impl Into<String>) -> AppError {
        AppError::new("INVALID_INPUT", message)
    }

    pub fn io(context: &str, e: impl std::fmt::Display) -> AppError {
        AppError::new("IO", format!("{context}: {e}"))
    }
}

impl From<loyalty_store::StoreError> for AppError {
    fn from(e: loyalty_store::StoreError) -> AppError {
        AppError::new(e.code(), e.to_string())
    }
}

impl From<loyalty_sync::TransportError> for AppError {
    fn from(e: loyalty_sync::TransportError) -> AppError {
        AppError::new(e.code(), e.to_string())
    }
}

impl From<loyalty_sync::SyncError> for AppError {
    fn from(e: loyalty_sync::SyncError) -> AppError {
        AppError::new(e.code(), e.to_string())
    }
}

impl From<loyalty_cards::CardError> for AppError {
    fn from(e: loyalty_cards::CardError) -> AppError {
        AppError::new(e.code(), e.to_string())
    }
}

pub type AppResult<T> = Result<T, AppError>;
