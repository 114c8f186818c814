//! [`HttpTransport`]: the server over HTTP(S) with reqwest (rustls), a bearer device token,
//! a 2 s connect and a 10 s request timeout.

use std::time::Duration;

use async_trait::async_trait;
use loyalty_wire::{
    AnonymousSalesRequest, AnonymousSalesResponse, ChangesResponse, Health, NpsRequest,
    NpsResponse, ReservationRequest, ReservationResponse, SnapshotPage, UploadRequest,
    UploadResponse, VoidResponse,
};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::TransportError;
use crate::transport::{changes_path, check_health, decode, snapshot_path, Transport};

/// Timeouts and trust of [`HttpTransport`].
#[derive(Clone, Debug)]
pub struct HttpOptions {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Extra trusted root (PEM), e.g. a self-signed server certificate.
    pub root_cert_pem: Option<Vec<u8>>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(10),
            root_cert_pem: None,
        }
    }
}

/// The server at `base` (e.g. `https://loyalty.example:8443`), authenticated with the
/// till's device token.
#[derive(Clone)]
pub struct HttpTransport {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl HttpTransport {
    /// With the default timeouts (connect 2 s, request 10 s).
    pub fn new(base: &str, token: &str) -> Result<HttpTransport, TransportError> {
        HttpTransport::with_options(base, token, HttpOptions::default())
    }

    pub fn with_options(
        base: &str,
        token: &str,
        opts: HttpOptions,
    ) -> Result<HttpTransport, TransportError> {
        let base = base.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(TransportError::Config(format!(
                "server URL {base:?} must start with http:// or https://"
            )));
        }
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.request_timeout);
        if let Some(pem) = &opts.root_cert_pem {
            let cert = reqwest::Certificate::from_pem(pem)
                .map_err(|e| TransportError::Config(format!("root certificate: {e}")))?;
            b = b.add_root_certificate(cert);
        }
        let client = b
            .build()
            .map_err(|e| TransportError::Config(e.to_string()))?;
        Ok(HttpTransport {
            base,
            token: token.to_string(),
            client,
        })
    }

    async fn send<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T, TransportError> {
        let resp = req
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(reqwest_failure)?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(reqwest_failure)?;
        decode(status, &body)
    }

    /// `GET /api/v1/me`: the till this token belongs to (first-run setup).
    pub async fn whoami(&self) -> Result<loyalty_wire::TillIdentity, TransportError> {
        self.send(self.client.get(self.url("/api/v1/me"))).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A reqwest failure → timeout / unreachable / bad answer (also for the app's other calls
/// to the server, e.g. the owner's).
pub fn reqwest_failure(e: reqwest::Error) -> TransportError {
    if e.is_timeout() {
        TransportError::Timeout(e.to_string())
    } else if e.is_decode() {
        TransportError::Decode(e.to_string())
    } else if e.is_builder() {
        TransportError::Config(e.to_string())
    } else {
        TransportError::Unreachable(e.to_string())
    }
}

#[async_trait]
impl Transport for HttpTransport {
    async fn upload(&self, req: UploadRequest) -> Result<UploadResponse, TransportError> {
        self.send(self.client.post(self.url("/api/v1/events")).json(&req))
            .await
    }

    async fn changes(&self, since: i64, limit: u32) -> Result<ChangesResponse, TransportError> {
        self.send(self.client.get(self.url(&changes_path(since, limit))))
            .await
    }

    async fn snapshot(
        &self,
        after: Option<String>,
        limit: u32,
    ) -> Result<SnapshotPage, TransportError> {
        let path = snapshot_path(after.as_deref(), limit);
        self.send(self.client.get(self.url(&path))).await
    }

    async fn reserve(
        &self,
        req: ReservationRequest,
    ) -> Result<ReservationResponse, TransportError> {
        self.send(
            self.client
                .post(self.url("/api/v1/reservations"))
                .json(&req),
        )
        .await
    }

    async fn void(&self, reservation_id: Uuid) -> Result<VoidResponse, TransportError> {
        let path = format!("/api/v1/reservations/{reservation_id}/void");
        self.send(self.client.post(self.url(&path))).await
    }

    async fn health(&self) -> Result<Health, TransportError> {
        check_health(
            self.send(self.client.get(self.url("/api/v1/health")))
                .await?,
        )
    }

    async fn anonymous_sales(
        &self,
        req: AnonymousSalesRequest,
    ) -> Result<Option<AnonymousSalesResponse>, TransportError> {
        let url = self.url("/api/v1/anonymous-sales");
        self.send(self.client.post(url).json(&req)).await.map(Some)
    }

    async fn nps(&self, req: NpsRequest) -> Result<Option<NpsResponse>, TransportError> {
        let url = self.url("/api/v1/nps");
        self.send(self.client.post(url).json(&req)).await.map(Some)
    }
}
