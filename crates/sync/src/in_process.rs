//! [`InProcessTransport`] (feature `in-process`): every call goes through the REAL server
//! router (`loyalty_server::http::router`, auth and all) with `tower::ServiceExt::oneshot`,
//! no sockets — for fast model tests.

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{header, Method, Request};
use axum::Router;
use loyalty_server::backend::Backend;
use loyalty_server::config::Config;
use loyalty_server::http::{router, AppState};
use loyalty_wire::{
    AnonymousSalesRequest, AnonymousSalesResponse, ChangesResponse, Health, NpsRequest,
    NpsResponse, ReservationRequest, ReservationResponse, SnapshotPage, UploadRequest,
    UploadResponse, VoidResponse,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tower::ServiceExt;
use uuid::Uuid;

use crate::error::TransportError;
use crate::transport::{changes_path, check_health, decode, snapshot_path, Transport};

/// Largest answer read (snapshot pages of 1000 accounts stay far below).
const MAX_ANSWER: usize = 64 * 1024 * 1024;

/// One till's view of a server router.
#[derive(Clone)]
pub struct InProcessTransport {
    router: Router,
    token: String,
}

impl InProcessTransport {
    /// The server's router over `backend` with `config`, for the till with `token`.
    pub fn new(backend: Arc<dyn Backend>, config: Config, token: &str) -> Self {
        InProcessTransport::with_router(router(AppState::new(backend, config)), token)
    }

    /// Shares an already built router (several tills on one server).
    pub fn with_router(router: Router, token: &str) -> Self {
        InProcessTransport {
            router,
            token: token.to_string(),
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, TransportError> {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token));
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/json");
        }
        let req = b
            .body(body.map(Body::from).unwrap_or_else(Body::empty))
            .map_err(|e| TransportError::Config(e.to_string()))?;
        let resp = match self.router.clone().oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), MAX_ANSWER)
            .await
            .map_err(|e| TransportError::Unreachable(e.to_string()))?;
        decode(status, &bytes)
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, TransportError> {
        let json = serde_json::to_vec(body).map_err(|e| TransportError::Config(e.to_string()))?;
        self.call(Method::POST, path, Some(json)).await
    }
}

#[async_trait]
impl Transport for InProcessTransport {
    async fn upload(&self, req: UploadRequest) -> Result<UploadResponse, TransportError> {
        self.post("/api/v1/events", &req).await
    }

    async fn changes(&self, since: i64, limit: u32) -> Result<ChangesResponse, TransportError> {
        self.call(Method::GET, &changes_path(since, limit), None)
            .await
    }

    async fn snapshot(
        &self,
        after: Option<String>,
        limit: u32,
    ) -> Result<SnapshotPage, TransportError> {
        let path = snapshot_path(after.as_deref(), limit);
        self.call(Method::GET, &path, None).await
    }

    async fn reserve(
        &self,
        req: ReservationRequest,
    ) -> Result<ReservationResponse, TransportError> {
        self.post("/api/v1/reservations", &req).await
    }

    async fn void(&self, reservation_id: Uuid) -> Result<VoidResponse, TransportError> {
        let path = format!("/api/v1/reservations/{reservation_id}/void");
        self.call(Method::POST, &path, None).await
    }

    async fn health(&self) -> Result<Health, TransportError> {
        check_health(self.call(Method::GET, "/api/v1/health", None).await?)
    }

    async fn anonymous_sales(
        &self,
        req: AnonymousSalesRequest,
    ) -> Result<Option<AnonymousSalesResponse>, TransportError> {
        self.post("/api/v1/anonymous-sales", &req).await.map(Some)
    }

    async fn nps(&self, req: NpsRequest) -> Result<Option<NpsResponse>, TransportError> {
        self.post("/api/v1/nps", &req).await.map(Some)
    }
}
