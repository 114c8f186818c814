//! How the till talks to the server: the [`Transport`] trait, one method per endpoint.

use std::sync::Arc;

use async_trait::async_trait;
use loyalty_wire::{
    AnonymousSalesRequest, AnonymousSalesResponse, ChangesResponse, Health, NpsRequest,
    NpsResponse, ReservationRequest, ReservationResponse, SnapshotPage, UploadRequest,
    UploadResponse, VoidResponse, PROTOCOL_VERSION,
};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::TransportError;

/// The server's API as the till uses it. Implementations: [`crate::HttpTransport`] and
/// (feature `in-process`) `InProcessTransport`; tests wrap them to inject faults.
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// `POST /api/v1/events`.
    async fn upload(&self, req: UploadRequest) -> Result<UploadResponse, TransportError>;
    /// `GET /api/v1/changes?since=&limit=`.
    async fn changes(&self, since: i64, limit: u32) -> Result<ChangesResponse, TransportError>;
    /// `GET /api/v1/snapshot?after=&limit=`.
    async fn snapshot(
        &self,
        after: Option<String>,
        limit: u32,
    ) -> Result<SnapshotPage, TransportError>;
    /// `POST /api/v1/reservations`.
    async fn reserve(&self, req: ReservationRequest)
        -> Result<ReservationResponse, TransportError>;
    /// `POST /api/v1/reservations/{id}/void`.
    async fn void(&self, reservation_id: Uuid) -> Result<VoidResponse, TransportError>;
    /// `GET /api/v1/health` (the cheap probe while offline); checks the protocol version.
    async fn health(&self) -> Result<Health, TransportError>;
    /// `POST /api/v1/anonymous-sales` (sales without a card). `Ok(None)`: this transport
    /// does not carry side records (the default, for test transports); they stay queued.
    async fn anonymous_sales(
        &self,
        _req: AnonymousSalesRequest,
    ) -> Result<Option<AnonymousSalesResponse>, TransportError> {
        Ok(None)
    }
    /// `POST /api/v1/nps` (one NPS answer). `Ok(None)` as for [`Self::anonymous_sales`].
    async fn nps(&self, _req: NpsRequest) -> Result<Option<NpsResponse>, TransportError> {
        Ok(None)
    }
}

#[async_trait]
impl<T: Transport + ?Sized> Transport for Arc<T> {
    async fn upload(&self, req: UploadRequest) -> Result<UploadResponse, TransportError> {
        (**self).upload(req).await
    }
    async fn changes(&self, since: i64, limit: u32) -> Result<ChangesResponse, TransportError> {
        (**self).changes(since, limit).await
    }
    async fn snapshot(
        &self,
        after: Option<String>,
        limit: u32,
    ) -> Result<SnapshotPage, TransportError> {
        (**self).snapshot(after, limit).await
    }
    async fn reserve(
        &self,
        req: ReservationRequest,
    ) -> Result<ReservationResponse, TransportError> {
        (**self).reserve(req).await
    }
    async fn void(&self, reservation_id: Uuid) -> Result<VoidResponse, TransportError> {
        (**self).void(reservation_id).await
    }
    async fn health(&self) -> Result<Health, TransportError> {
        (**self).health().await
    }
    async fn anonymous_sales(
        &self,
        req: AnonymousSalesRequest,
    ) -> Result<Option<AnonymousSalesResponse>, TransportError> {
        (**self).anonymous_sales(req).await
    }
    async fn nps(&self, req: NpsRequest) -> Result<Option<NpsResponse>, TransportError> {
        (**self).nps(req).await
    }
}

/// Decodes an answer: 2xx → `T`, anything else → [`TransportError::from_answer`].
pub(crate) fn decode<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<T, TransportError> {
    if !(200..300).contains(&status) {
        return Err(TransportError::from_answer(status, body));
    }
    serde_json::from_slice(body).map_err(|e| TransportError::Decode(e.to_string()))
}

/// Refuses a server speaking another protocol version.
pub(crate) fn check_health(h: Health) -> Result<Health, TransportError> {
    if h.protocol_version != PROTOCOL_VERSION {
        return Err(TransportError::Protocol {
            server: h.protocol_version,
            till: PROTOCOL_VERSION,
        });
    }
    Ok(h)
}

/// `/api/v1/changes?since=..&limit=..`.
pub(crate) fn changes_path(since: i64, limit: u32) -> String {
    format!("/api/v1/changes?since={since}&limit={limit}")
}

/// `/api/v1/snapshot?limit=..[&after=..]` (the key percent-encoded).
pub(crate) fn snapshot_path(after: Option<&str>, limit: u32) -> String {
    let mut p = format!("/api/v1/snapshot?limit={limit}");
    if let Some(a) = after {
        p.push_str("&after=");
        for b in a.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                p.push(char::from(b));
            } else {
                p.push_str(&format!("%{b:02X}"));
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_answers() {
        assert_eq!(changes_path(5, 200), "/api/v1/changes?since=5&limit=200");
        assert_eq!(
            snapshot_path(Some("a b&c"), 10),
            "/api/v1/snapshot?limit=10&after=a%20b%26c"
        );
        assert_eq!(snapshot_path(None, 10), "/api/v1/snapshot?limit=10");
        let e = decode::<Health>(401, br#"{"code":"UNAUTHORIZED","message":"no"}"#);
        assert_eq!(e.unwrap_err().code(), "UNAUTHORIZED");
        let e = decode::<Health>(200, b"{}");
        assert_eq!(e.unwrap_err().code(), "BAD_RESPONSE");
    }
}
