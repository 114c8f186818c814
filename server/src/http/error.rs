//! Every error answer is `{ code, message }` with a 4xx/5xx status.

use crate::backend::BackendError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use loyalty_wire::ApiError;

/// An HTTP error: a status and the JSON body.
#[derive(Debug)]
pub struct HttpError {
    pub status: StatusCode,
    pub body: ApiError,
}

impl HttpError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        HttpError {
            status,
            body: ApiError::new(code, message),
        }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        HttpError::new(StatusCode::BAD_REQUEST, code, message)
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

impl From<BackendError> for HttpError {
    fn from(e: BackendError) -> Self {
        use BackendError as B;
        let status = match &e {
            B::Busy(_) => {
                tracing::warn!(code = e.code(), error = %e, "database busy");
                return HttpError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    e.code(),
                    "the database is busy: retry later",
                );
            }
            _ if e.is_internal() => {
                tracing::error!(code = e.code(), error = %e, "backend failure");
                return HttpError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    e.code(),
                    "internal server error (see the server log)",
                );
            }
            B::TillNotFound(_) | B::CardNotFound(_) | B::ReservationNotFound(_) => {
                StatusCode::NOT_FOUND
            }
            B::ReservationForbidden(_) => StatusCode::FORBIDDEN,
            B::CardBlocked(_)
            | B::InsufficientPoints { .. }
            | B::OpConflict(_)
            | B::ReservationConsumed(_) => StatusCode::CONFLICT,
            B::InvalidPoints(_) | B::BatchTooLarge { .. } => StatusCode::BAD_REQUEST,
            B::FactRejected { code, .. } => match *code {
                "ACCOUNT_NOT_FOUND" => StatusCode::NOT_FOUND,
                "ALREADY_MERGED" => StatusCode::CONFLICT,
                _ => StatusCode::BAD_REQUEST,
            },
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        HttpError::new(status, e.code(), e.to_string())
    }
}
