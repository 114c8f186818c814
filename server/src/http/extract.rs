//! Extractors whose rejections are `{ code, message }` 4xx answers.

mod integral_numbers;

use super::error::HttpError;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde::de::DeserializeOwned;

/// A JSON body: bad JSON → 400 `BAD_JSON`, wrong shape or unknown field → 400
/// `INVALID_BODY`, no JSON content type → 415, over the body limit → 413.
///
/// JSON has one number type: an integer field also takes an integral number written with
/// a fraction or an exponent (`516.0`, `5e2`), as JSON Schema (and so our OpenAPI
/// document) counts it an integer; serde alone would refuse it ([`integral_numbers`]).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(HttpError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "expected `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|rej| json_rejection(rej.into()))?;
        match Json::<T>::from_bytes(&bytes) {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rej @ JsonRejection::JsonDataError(_)) => match integral_numbers::rewrite(&bytes) {
                Some(rewritten) => Json::<T>::from_bytes(&rewritten)
                    .map(|Json(v)| ApiJson(v))
                    .map_err(json_rejection),
                None => Err(json_rejection(rej)),
            },
            Err(rej) => Err(json_rejection(rej)),
        }
    }
}

/// `application/json` or `application/*+json`, parameters allowed (as axum's `Json`).
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(mime) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
    else {
        return false;
    };
    let mime = mime.trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
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

/// Query parameters: anything unparsable, or a NUL character (`%00`, which PostgreSQL
/// cannot compare with text) → 400 `BAD_QUERY`.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        if query.contains("%00") {
            return Err(HttpError::bad_request(
                "BAD_QUERY",
                "query parameters must not contain NUL characters",
            ));
        }
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(rej) => Err(query_rejection(rej)),
        }
    }
}

fn query_rejection(rej: QueryRejection) -> HttpError {
    HttpError::bad_request("BAD_QUERY", rej.body_text())
}
