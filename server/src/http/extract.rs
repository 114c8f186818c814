//! Extractors whose rejections are `{ code, message }` 4xx answers.

use super::error::HttpError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use serde::de::DeserializeOwned;

/// A JSON body: bad JSON → 400 `BAD_JSON`, wrong shape or unknown field → 400
/// `INVALID_BODY`, no JSON content type → 415, over the body limit → 413.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(json_rejection(rej)),
        }
    }
}

fn json_rejection(rej: JsonRejection) -> HttpError {
    let text = rej.body_text();
    match rej {
        JsonRejection::JsonSyntaxError(_) => HttpError::bad_request("BAD_JSON", text),
        JsonRejection::JsonDataError(_) => HttpError::bad_request("INVALID_BODY", text),
        JsonRejection::MissingJsonContentType(_) => HttpError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "expected `Content-Type: application/json`",
        ),
        JsonRejection::BytesRejection(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            HttpError::new(StatusCode::PAYLOAD_TOO_LARGE, "BODY_TOO_LARGE", text)
        }
        other => HttpError::bad_request("BAD_BODY", other.body_text()),
    }
}

/// Query parameters: anything unparsable → 400 `BAD_QUERY`.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(rej) => Err(query_rejection(rej)),
        }
    }
}

fn query_rejection(rej: QueryRejection) -> HttpError {
    HttpError::bad_request("BAD_QUERY", rej.body_text())
}
