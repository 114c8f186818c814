//! The HTTP(S) server: routes, shared state, plain or TLS serving.

pub mod auth;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod members;
pub mod openapi;
pub mod owner;

use crate::backend::Backend;
use crate::config::Config;
use auth::FailureLimiter;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub backend: Arc<dyn Backend>,
    pub limiter: Arc<FailureLimiter>,
    pub config: Arc<Config>,
    /// Members imports started over HTTP.
    pub imports: Arc<crate::import_jobs::ImportJobs>,
}

impl AppState {
    pub fn new(backend: Arc<dyn Backend>, config: Config) -> Self {
        AppState {
            backend,
            limiter: Arc::new(FailureLimiter::new(config.auth_failures_per_minute)),
            config: Arc::new(config),
            imports: Arc::default(),
        }
    }
}

/// All routes with their layers.
pub fn router(state: AppState) -> Router {
    let tills = Router::new()
        .route("/api/v1/me", get(handlers::get_me))
        .route("/api/v1/events", post(handlers::post_events))
        .route("/api/v1/changes", get(handlers::get_changes))
        .route("/api/v1/snapshot", get(handlers::get_snapshot))
        .route("/api/v1/reservations", post(handlers::post_reservation))
        .route(
            "/api/v1/reservations/{id}/void",
            post(handlers::void_reservation),
        )
        .route("/api/v1/nps", post(owner::post_nps))
        .route("/api/v1/anonymous-sales", post(owner::post_anonymous_sales))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_till,
        ));
    let owner_routes = Router::new()
        .route("/api/v1/dashboard", get(owner::get_dashboard))
        .route("/api/v1/triggers", get(owner::get_triggers))
        .route(
            "/api/v1/program",
            get(owner::get_program).post(owner::post_program),
        )
        .route(
            "/api/v1/tills",
            get(owner::get_tills).post(owner::post_till),
        )
        .route("/api/v1/tills/{id}/revoke", post(owner::revoke_till))
        .route("/api/v1/accounts/merge", post(owner::post_merge))
        .route(
            "/api/v1/members/import",
            // The file may be far larger than a till's upload.
            post(members::post_import).layer(DefaultBodyLimit::max(
                loyalty_wire::MEMBERS_IMPORT_MAX_BYTES,
            )),
        )
        .route("/api/v1/members/import/{id}", get(members::get_import))
        .route("/api/v1/members/export", get(members::get_export))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_owner,
        ));
    let limit = state.config.body_limit_bytes;
    Router::new()
        .route("/api/v1/health", get(handlers::health))
        .route("/api/openapi.json", get(openapi::openapi_json))
        .merge(tills)
        .merge(owner_routes)
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_answer,
        ))
        .with_state(state)
}

fn panic_answer(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    tracing::error!("a request handler panicked");
    error::HttpError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        "internal server error",
    )
    .into_response()
}

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot load TLS certificate/key: {0}")]
    Tls(std::io::Error),
    #[error("server failed: {0}")]
    Io(std::io::Error),
}

impl ServeError {
    pub fn code(&self) -> &'static str {
        match self {
            ServeError::Bind { .. } => "SERVE_BIND",
            ServeError::Tls(_) => "SERVE_TLS",
            ServeError::Io(_) => "SERVE_IO",
        }
    }
}

/// A started server: its address and a handle to stop it.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub tls: bool,
    handle: axum_server::Handle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Stops accepting, lets requests in flight finish (up to `grace`), and waits.
    pub async fn shutdown(self, grace: Duration) -> Result<(), ServeError> {
        self.handle.graceful_shutdown(Some(grace));
        self.wait().await
    }

    /// Waits until the server stops.
    pub async fn wait(self) -> Result<(), ServeError> {
        match self.task.await {
            Ok(r) => r.map_err(ServeError::Io),
            Err(e) => Err(ServeError::Io(std::io::Error::other(e))),
        }
    }

    /// A handle that can stop the server from elsewhere (e.g. on Ctrl-C).
    pub fn handle(&self) -> axum_server::Handle {
        self.handle.clone()
    }
}

/// Binds `config.listen` and serves (HTTPS when `config.tls` is set) in a task.
pub async fn start(config: Config, backend: Arc<dyn Backend>) -> Result<RunningServer, ServeError> {
    let addr = config.listen;
    let listener =
        std::net::TcpListener::bind(addr).map_err(|source| ServeError::Bind { addr, source })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    let tls = config.tls.clone();
    let app =
        router(AppState::new(backend, config)).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    let task = match &tls {
        Some(t) => {
            // Only the ring provider is compiled in; installing twice is harmless.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let rustls_config =
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&t.cert, &t.key)
                    .await
                    .map_err(ServeError::Tls)?;
            let server =
                axum_server::from_tcp_rustls(listener, rustls_config).handle(handle.clone());
            tokio::spawn(server.serve(app))
        }
        None => {
            let server = axum_server::from_tcp(listener).handle(handle.clone());
            tokio::spawn(server.serve(app))
        }
    };
    tracing::info!(addr = %local, tls = tls.is_some(), "listening");
    Ok(RunningServer {
        addr: local,
        tls: tls.is_some(),
        handle,
        task,
    })
}
