//! The one error body of every endpoint.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `{ "code": "SCREAMING_SNAKE", "message": "clear English" }`, with an HTTP 4xx/5xx status.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
pub struct ApiError {
    /// Stable machine-readable code, e.g. `UNAUTHORIZED`, `BAD_JSON`, `INSUFFICIENT_POINTS`.
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}
