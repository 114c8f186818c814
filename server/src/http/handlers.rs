//! The endpoints. Every till endpoint runs behind [`super::auth::require_till`].

use super::auth::AuthedTill;
use super::error::HttpError;
use super::extract::{ApiJson, ApiQuery};
use super::AppState;
use crate::backend::page_size;
use crate::backend::stored_book::{StoredChanges, StoredSnapshot};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::Utc;
use loyalty_wire::{
    ApiError, ChangesQuery, ChangesResponse, Health, ReservationRequest, ReservationResponse,
    SnapshotPage, SnapshotQuery, TillIdentity, UploadRequest, UploadResponse, VoidResponse,
    MAX_BATCH, PROTOCOL_VERSION,
};
use std::time::Duration;
use uuid::Uuid;

type Answer<T> = Result<Json<T>, HttpError>;

/// Liveness and database check (no authentication).
#[utoipa::path(get, path = "/api/v1/health", tag = "server",
    responses((status = 200, body = Health), (status = 503, body = ApiError)))]
pub async fn health(State(st): State<AppState>) -> Answer<Health> {
    st.backend.ping().await.map_err(|e| {
        tracing::error!(error = %e, "health check failed");
        HttpError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "DB_UNAVAILABLE",
            e.to_string(),
        )
    })?;
    Ok(Json(Health {
        status: "ok".to_string(),
        protocol_version: PROTOCOL_VERSION,
        server_time: Utc::now(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    }))
}

/// Upload facts in `seq` order; applied exactly once.
#[utoipa::path(post, path = "/api/v1/events", tag = "sync", request_body = UploadRequest,
    security(("bearer" = [])),
    responses((status = 200, body = UploadResponse), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 413, body = ApiError), (status = 429, body = ApiError)))]
pub async fn post_events(
    State(st): State<AppState>,
    Extension(AuthedTill(till)): Extension<AuthedTill>,
    ApiJson(req): ApiJson<UploadRequest>,
) -> Answer<UploadResponse> {
    if req.till_id != till.id {
        return Err(HttpError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN_TILL",
            format!(
                "this token belongs to till {}, not {}",
                till.id, req.till_id
            ),
        ));
    }
    if req.events.len() > MAX_BATCH {
        return Err(HttpError::bad_request(
            "BATCH_TOO_LARGE",
            format!(
                "at most {MAX_BATCH} events per upload (got {})",
                req.events.len()
            ),
        ));
    }
    let count = req.events.len();
    let resp = st.backend.ingest(&till.id, req.events, Utc::now()).await?;
    tracing::info!(
        till_id = %till.id, count, applied_upto = resp.applied_upto,
        conflicts = resp.conflicts.len(), shortfalls = resp.shortfalls.len(), "events uploaded"
    );
    Ok(Json(resp))
}

/// Account states changed since a gseq.
#[utoipa::path(get, path = "/api/v1/changes", tag = "sync", params(ChangesQuery),
    security(("bearer" = [])),
    responses((status = 200, body = ChangesResponse), (status = 400, body = ApiError),
        (status = 401, body = ApiError)))]
pub async fn get_changes(
    State(st): State<AppState>,
    Extension(AuthedTill(till)): Extension<AuthedTill>,
    ApiQuery(q): ApiQuery<ChangesQuery>,
) -> Answer<StoredChanges> {
    if q.since < 0 {
        return Err(HttpError::bad_request(
            "BAD_QUERY",
            "since must be 0 or more",
        ));
    }
    let resp = st
        .backend
        .changes_since(q.since, page_size(q.limit), &till.id, Utc::now())
        .await?;
    Ok(Json(resp))
}

/// Who the device token belongs to (till setup).
#[utoipa::path(get, path = "/api/v1/me", tag = "sync", security(("bearer" = [])),
    responses((status = 200, body = TillIdentity), (status = 401, body = ApiError),
        (status = 429, body = ApiError)))]
pub async fn get_me(Extension(AuthedTill(till)): Extension<AuthedTill>) -> Answer<TillIdentity> {
    Ok(Json(TillIdentity {
        till_id: till.id,
        store_id: till.store_id,
        store_name: till.store_name,
        server_time: Utc::now(),
    }))
}

/// All accounts, paged by account uid (a new till's first sync).
#[utoipa::path(get, path = "/api/v1/snapshot", tag = "sync", params(SnapshotQuery),
    security(("bearer" = [])),
    responses((status = 200, body = SnapshotPage), (status = 400, body = ApiError),
        (status = 401, body = ApiError)))]
pub async fn get_snapshot(
    State(st): State<AppState>,
    Extension(AuthedTill(_till)): Extension<AuthedTill>,
    ApiQuery(q): ApiQuery<SnapshotQuery>,
) -> Answer<StoredSnapshot> {
    let page = st
        .backend
        .snapshot_page(q.after.as_deref(), page_size(q.limit), Utc::now())
        .await?;
    Ok(Json(page))
}

/// Reserve points of a card's account before an online spend.
#[utoipa::path(post, path = "/api/v1/reservations", tag = "reservations",
    request_body = ReservationRequest, security(("bearer" = [])),
    responses((status = 200, body = ReservationResponse), (status = 400, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn post_reservation(
    State(st): State<AppState>,
    Extension(AuthedTill(till)): Extension<AuthedTill>,
    ApiJson(req): ApiJson<ReservationRequest>,
) -> Answer<ReservationResponse> {
    let ttl = Duration::from_secs(st.config.reservation_ttl_secs);
    let resp = st.backend.reserve(&till.id, req, Utc::now(), ttl).await?;
    Ok(Json(resp))
}

/// Void a reservation of this till.
#[utoipa::path(post, path = "/api/v1/reservations/{id}/void", tag = "reservations",
    params(("id" = String, Path, format = Uuid, description = "reservation id (UUID; anything else is 400 `BAD_ID`)")),
    security(("bearer" = [])),
    responses((status = 200, body = VoidResponse), (status = 400, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError)))]
pub async fn void_reservation(
    State(st): State<AppState>,
    Extension(AuthedTill(till)): Extension<AuthedTill>,
    id: Result<Path<String>, PathRejection>,
) -> Answer<VoidResponse> {
    let id = id
        .map_err(|e| HttpError::bad_request("BAD_PATH", e.body_text()))?
        .0;
    let id = Uuid::parse_str(&id)
        .map_err(|_| HttpError::bad_request("BAD_ID", format!("{id:?} is not a UUID")))?;
    let resp = st
        .backend
        .void_reservation(&till.id, id, Utc::now())
        .await?;
    Ok(Json(resp))
}

/// Unknown routes.
pub async fn not_found() -> HttpError {
    HttpError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such endpoint")
}

/// Known route, wrong method.
pub async fn method_not_allowed() -> HttpError {
    HttpError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "method not allowed on this endpoint",
    )
}
