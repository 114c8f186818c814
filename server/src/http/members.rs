//! The owner's members import (a background job, [`crate::import_jobs`]) and export
//! ([`crate::export`]) over HTTP.

use super::error::HttpError;
use super::extract::ApiQuery;
use super::AppState;
use crate::commands::parse_encoding_choice;
use crate::commands::{parse_delimiter, parse_delimiter_choice, parse_encoding};
use crate::export::{self, ExportOptions};
use crate::import::input::{DelimiterChoice, Encoding};
use crate::import_jobs::{JobError, JobOptions};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use loyalty_wire::{ApiError, ImportJob, MembersExportQuery, MembersImportQuery};

impl From<JobError> for HttpError {
    fn from(e: JobError) -> Self {
        let status = match &e {
            JobError::Busy(_) => StatusCode::CONFLICT,
            JobError::Empty | JobError::BadOption(_) => StatusCode::BAD_REQUEST,
            JobError::NotFound(_) => StatusCode::NOT_FOUND,
            JobError::Random(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        HttpError::new(status, e.code(), e.to_string())
    }
}

fn bad_query(message: String) -> HttpError {
    HttpError::bad_request("BAD_QUERY", message)
}

fn import_options(q: MembersImportQuery, default_region: &str) -> Result<JobOptions, HttpError> {
    let encoding = parse_encoding_choice(q.encoding.as_deref().unwrap_or("auto"))
        .map_err(|m| bad_query(format!("encoding: {m}")))?;
    let delimiter = match q.delimiter.as_deref() {
        None => DelimiterChoice::Auto,
        Some(d) => parse_delimiter_choice(d).map_err(|m| bad_query(format!("delimiter: {m}")))?,
    };
    let store = q
        .store
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if store.as_ref().is_some_and(|s| s.len() > 200) {
        return Err(bad_query("store must be at most 200 bytes".into()));
    }
    let region = q
        .region
        .map(|r| r.trim().to_ascii_uppercase())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| default_region.to_string());
    if region.len() > 8 {
        return Err(bad_query(format!(
            "unknown region {region:?} (e.g. RU, BG)"
        )));
    }
    Ok(JobOptions {
        encoding,
        delimiter,
        store,
        region,
    })
}

/// Start importing members from a CSV file (owner): the raw file as the body (any content
/// type, at most 64 MiB), UTF-8 or Windows-1251, `;` `,` or tab, columns by Russian or
/// English header names. Every row is checked first; one bad row imports nothing. Follow
/// the job with `GET /api/v1/members/import/{id}`.
#[utoipa::path(post, path = "/api/v1/members/import", tag = "owner",
    params(MembersImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The CSV file's bytes"),
    security(("owner" = [])),
    responses((status = 202, body = ImportJob, description = "The job, started"),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 409, body = ApiError, description = "Another import is running (`IMPORT_BUSY`)"),
        (status = 413, body = ApiError, description = "Over 64 MiB (`BODY_TOO_LARGE`)"),
        (status = 429, body = ApiError)))]
pub async fn post_import(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<MembersImportQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ImportJob>), HttpError> {
    let body = body.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            HttpError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "BODY_TOO_LARGE",
                format!(
                    "the file is over {} MiB",
                    loyalty_wire::MEMBERS_IMPORT_MAX_BYTES >> 20
                ),
            )
        } else {
            HttpError::bad_request("BAD_BODY", rej.body_text())
        }
    })?;
    let opts = import_options(q, &st.config.region)?;
    let job = st.imports.start(st.backend.clone(), body.to_vec(), opts)?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// A members import job: its phase, progress, and when finished the report (the imported
/// count, or the row errors: nothing was imported) (owner).
#[utoipa::path(get, path = "/api/v1/members/import/{id}", tag = "owner",
    params(("id" = String, Path, description = "job id")), security(("owner" = [])),
    responses((status = 200, body = ImportJob), (status = 400, body = ApiError),
        (status = 401, body = ApiError),
        (status = 404, body = ApiError, description = "No such job (`IMPORT_JOB_NOT_FOUND`)"),
        (status = 429, body = ApiError)))]
pub async fn get_import(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ImportJob>, HttpError> {
    let id = id
        .map_err(|e| HttpError::bad_request("BAD_PATH", e.body_text()))?
        .0;
    Ok(Json(st.imports.get(&id)?))
}

/// Every member as CSV (owner): the columns the import reads back (card, family_cards,
/// phone, name, email, birthday, consent, channel, points, pending_points, shortfall, tier,
/// tags, gender, store, enrolled_at). UTF-8 with a BOM by default.
#[utoipa::path(get, path = "/api/v1/members/export", tag = "owner", params(MembersExportQuery),
    security(("owner" = [])),
    responses((status = 200, content_type = "text/csv", body = String, description = "The CSV file"),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 429, body = ApiError)))]
pub async fn get_export(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<MembersExportQuery>,
) -> Result<Response, HttpError> {
    let encoding = match q.encoding.as_deref() {
        None => Encoding::Utf8,
        Some(e) => parse_encoding(e).map_err(|m| bad_query(format!("encoding: {m}")))?,
    };
    let delimiter = match q.delimiter.as_deref() {
        None => b';',
        Some(d) => parse_delimiter(d).map_err(|m| bad_query(format!("delimiter: {m}")))?,
    };
    let internal = |m: String| {
        tracing::error!("members export: {m}");
        HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "EXPORT_WRITE", m)
    };
    let dir = tempfile::Builder::new()
        .prefix("loyalty-export-")
        .tempdir()
        .map_err(|e| internal(format!("cannot create a temp dir: {e}")))?;
    let out = dir.path().join("members.csv");
    let opts = ExportOptions {
        out: Some(out.clone()),
        delimiter,
        encoding,
        progress: false,
    };
    export::run(st.backend.clone(), opts, Utc::now())
        .await
        .map_err(|e| match e {
            export::ExportError::Backend(b) => HttpError::from(b),
            other => internal(other.to_string()),
        })?;
    // Streamed from the file (a million members is ~150 MB: never held in memory); the
    // temp dir goes with the stream, removed once the answer is sent or dropped.
    let file = tokio::fs::File::open(&out)
        .await
        .map_err(|e| internal(format!("cannot read the export back: {e}")))?;
    let length = file
        .metadata()
        .await
        .map_err(|e| internal(format!("cannot read the export back: {e}")))?
        .len();
    let stream = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024);
    let body = axum::body::Body::from_stream(KeepDir { stream, _dir: dir });
    let charset = match encoding {
        Encoding::Utf8 => "utf-8",
        Encoding::Windows1251 => "windows-1251",
    };
    Ok((
        [
            (header::CONTENT_TYPE, format!("text/csv; charset={charset}")),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"members.csv\"".to_string(),
            ),
            (header::CONTENT_LENGTH, length.to_string()),
        ],
        body,
    )
        .into_response())
}

/// A byte stream that keeps the temp dir of its file until it is dropped.
struct KeepDir<S> {
    stream: S,
    _dir: tempfile::TempDir,
}

impl<S: futures_core::Stream + Unpin> futures_core::Stream for KeepDir<S> {
    type Item = S::Item;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::pin::Pin::new(&mut self.stream).poll_next(cx)
    }
}
