//! The owner's endpoints (behind [`super::auth::require_owner`]): dashboard, trigger
//! lists, program versions, tills; and the tills' NPS answers and sales without a card
//! (behind [`super::auth::require_till`]).

use super::auth::AuthedTill;
use super::error::HttpError;
use super::extract::{ApiJson, ApiQuery};
use super::AppState;
use crate::backend::analytics::{triggers, AnalyticsError};
use crate::backend::TillRecord;
use crate::owner::{self, OwnerError};
use crate::token;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::Utc;
use loyalty_wire::{
    AnonymousSalesRequest, AnonymousSalesResponse, ApiError, Dashboard, DashboardQuery,
    MergeRequest, MergeResponse, NpsRequest, NpsResponse, ProgramVersionInfo, ProgramVersions,
    PublishProgramRequest, RegisterTillRequest, RegisteredTill, TillInfo, TillList, TriggerKind,
    TriggerList, TriggersQuery,
};

type Answer<T> = Result<Json<T>, HttpError>;

impl From<AnalyticsError> for HttpError {
    fn from(e: AnalyticsError) -> Self {
        match e {
            AnalyticsError::Backend(b) => b.into(),
            AnalyticsError::BadQuery(_) => HttpError::bad_request(e.code(), e.to_string()),
            AnalyticsError::UnknownStore(_) => {
                HttpError::new(StatusCode::NOT_FOUND, e.code(), e.to_string())
            }
        }
    }
}

impl From<OwnerError> for HttpError {
    fn from(e: OwnerError) -> Self {
        match e {
            OwnerError::Backend(b) => b.into(),
            OwnerError::Analytics(a) => a.into(),
            OwnerError::InvalidProgram(_) | OwnerError::Invalid(_) => {
                HttpError::bad_request(e.code(), e.to_string())
            }
        }
    }
}

fn till_info(t: TillRecord) -> TillInfo {
    TillInfo {
        id: t.id,
        store_id: t.store_id,
        store_name: t.store_name,
        revoked: t.revoked,
        created_at: t.created_at,
        last_seq: t.last_seq,
    }
}

/// The program's figures for a period and a store (owner).
#[utoipa::path(get, path = "/api/v1/dashboard", tag = "owner", params(DashboardQuery),
    security(("owner" = [])),
    responses((status = 200, body = Dashboard), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 404, body = ApiError),
        (status = 429, body = ApiError)))]
pub async fn get_dashboard(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<DashboardQuery>,
) -> Answer<Dashboard> {
    Ok(Json(
        owner::dashboard(st.backend.as_ref(), &q, Utc::now()).await?,
    ))
}

/// A trigger list as JSON or CSV (owner).
#[utoipa::path(get, path = "/api/v1/triggers", tag = "owner", params(TriggersQuery),
    security(("owner" = [])),
    responses((status = 200, body = TriggerList, description = "JSON, or CSV with format=csv"),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 429, body = ApiError)))]
pub async fn get_triggers(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<TriggersQuery>,
) -> Result<Response, HttpError> {
    let kind = TriggerKind::parse(q.kind.trim()).ok_or_else(|| {
        HttpError::bad_request(
            "BAD_QUERY",
            format!(
                "kind must be birthdays, lapsed, welcome or shortfalls (got {:?})",
                q.kind
            ),
        )
    })?;
    let csv = match q.format.as_deref().map(str::trim) {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(HttpError::bad_request(
                "BAD_QUERY",
                format!("format must be json or csv (got {other:?})"),
            ))
        }
    };
    let (days, rows) = owner::trigger_list(st.backend.as_ref(), kind, q.days, Utc::now()).await?;
    if csv {
        let name = format!("attachment; filename=\"{}.csv\"", kind.as_str());
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, name),
            ],
            triggers::csv(&rows),
        )
            .into_response());
    }
    Ok(Json(TriggerList { kind, days, rows }).into_response())
}

/// Merge a duplicate customer into the one that stays (owner): the survivor absorbs the
/// duplicate's points, counters, cards and active reservations; tills see it at their
/// next pull. Sending the same `op_id` again answers `already_applied`.
#[utoipa::path(post, path = "/api/v1/accounts/merge", tag = "owner",
    request_body = MergeRequest, security(("owner" = [])),
    responses((status = 200, body = MergeResponse), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError), (status = 429, body = ApiError)))]
pub async fn post_merge(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<MergeRequest>,
) -> Answer<MergeResponse> {
    Ok(Json(st.backend.merge_accounts(req, Utc::now()).await?))
}

/// Every program version (owner).
#[utoipa::path(get, path = "/api/v1/program", tag = "owner", security(("owner" = [])),
    responses((status = 200, body = ProgramVersions), (status = 401, body = ApiError),
        (status = 429, body = ApiError)))]
pub async fn get_program(State(st): State<AppState>) -> Answer<ProgramVersions> {
    let versions = owner::programs(st.backend.as_ref()).await?;
    Ok(Json(ProgramVersions { versions }))
}

/// Publish a new program version, in force from `effective_from` (owner).
#[utoipa::path(post, path = "/api/v1/program", tag = "owner",
    request_body = PublishProgramRequest, security(("owner" = [])),
    responses((status = 200, body = ProgramVersionInfo), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 429, body = ApiError)))]
pub async fn post_program(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<PublishProgramRequest>,
) -> Answer<ProgramVersionInfo> {
    let json = serde_json::to_string(&req.config).unwrap_or_default();
    if crate::backend::apply::check_text(&json).is_err() {
        return Err(HttpError::bad_request(
            "INVALID_PROGRAM",
            "invalid program: text must not contain NUL characters",
        ));
    }
    Ok(Json(
        owner::publish_program(st.backend.as_ref(), req, Utc::now()).await?,
    ))
}

/// Every till (owner).
#[utoipa::path(get, path = "/api/v1/tills", tag = "owner", security(("owner" = [])),
    responses((status = 200, body = TillList), (status = 401, body = ApiError),
        (status = 429, body = ApiError)))]
pub async fn get_tills(State(st): State<AppState>) -> Answer<TillList> {
    let tills = st.backend.list_tills().await?;
    Ok(Json(TillList {
        tills: tills.into_iter().map(till_info).collect(),
    }))
}

/// Register a till of a store: its device token is in this answer only (owner).
#[utoipa::path(post, path = "/api/v1/tills", tag = "owner",
    request_body = RegisterTillRequest, security(("owner" = [])),
    responses((status = 200, body = RegisteredTill), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 429, body = ApiError)))]
pub async fn post_till(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<RegisterTillRequest>,
) -> Answer<RegisteredTill> {
    let store = req.store.trim();
    if store.is_empty() || store.len() > 200 || store.contains('\0') {
        return Err(HttpError::bad_request(
            "INVALID_REQUEST",
            "store must be 1..=200 bytes without NUL",
        ));
    }
    let token = token::generate()
        .map_err(|e| HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "RANDOM", e.to_string()))?;
    let till = st
        .backend
        .register_till(store, &token::hash_token(&token), Utc::now())
        .await?;
    Ok(Json(RegisteredTill {
        till: till_info(till),
        token,
    }))
}

/// Revoke a till: its token stops working (owner).
#[utoipa::path(post, path = "/api/v1/tills/{id}/revoke", tag = "owner",
    params(("id" = String, Path, description = "till id")), security(("owner" = [])),
    responses((status = 200, body = TillInfo), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 404, body = ApiError),
        (status = 429, body = ApiError)))]
pub async fn revoke_till(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Answer<TillInfo> {
    let id = id
        .map_err(|e| HttpError::bad_request("BAD_PATH", e.body_text()))?
        .0;
    if id.contains('\0') {
        return Err(HttpError::bad_request("BAD_PATH", "till id with NUL"));
    }
    Ok(Json(till_info(
        st.backend.revoke_till(&id, Utc::now()).await?,
    )))
}

/// A 0–10 "would you recommend us?" answer after a sale (a till; idempotent on `id`).
#[utoipa::path(post, path = "/api/v1/nps", tag = "sync", request_body = NpsRequest,
    security(("bearer" = [])),
    responses((status = 200, body = NpsResponse), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 429, body = ApiError)))]
pub async fn post_nps(
    State(st): State<AppState>,
    Extension(AuthedTill(till)): Extension<AuthedTill>,
    ApiJson(req): ApiJson<NpsRequest>,
) -> Answer<NpsResponse> {
    Ok(Json(
        owner::record_nps(st.backend.as_ref(), &till, &req, Utc::now()).await?,
    ))
}

/// Sales made without a loyalty card (a till; idempotent per op id): the dashboard's
/// card share and non-member average check.
#[utoipa::path(post, path = "/api/v1/anonymous-sales", tag = "sync",
    request_body = AnonymousSalesRequest, security(("bearer" = [])),
    responses((status = 200, body = AnonymousSalesResponse), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 429, body = ApiError)))]
pub async fn post_anonymous_sales(
    State(st): State<AppState>,
    Extension(AuthedTill(till)): Extension<AuthedTill>,
    ApiJson(req): ApiJson<AnonymousSalesRequest>,
) -> Answer<AnonymousSalesResponse> {
    Ok(Json(
        owner::record_anonymous_sales(st.backend.as_ref(), &till, &req, Utc::now()).await?,
    ))
}
