//! Typed errors with a stable `code()`: [`TransportError`] (talking to the server) and
//! [`SyncError`] (one sync cycle).

use loyalty_store::StoreError;
use loyalty_wire::ApiError;

/// A failed call to the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No connection (refused, reset, DNS, TLS handshake...).
    #[error("server unreachable: {0}")]
    Unreachable(String),
    /// Connect or request timeout.
    #[error("request timed out: {0}")]
    Timeout(String),
    /// The server answered with an error status and (normally) an `ApiError` body.
    #[error("server answered {status}: {code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    /// A 2xx answer whose body is not what the protocol says.
    #[error("unexpected answer from the server: {0}")]
    Decode(String),
    /// The server speaks another protocol version.
    #[error("server protocol version {server}, this till speaks {till}")]
    Protocol { server: u32, till: u32 },
    /// Bad transport configuration (URL, certificate).
    #[error("transport configuration: {0}")]
    Config(String),
}

impl TransportError {
    /// Stable code: `NET_UNREACHABLE`, `NET_TIMEOUT`, the server's own code for API
    /// errors (e.g. `UNAUTHORIZED`, `DB_BUSY`), `BAD_RESPONSE`, `PROTOCOL_MISMATCH`,
    /// `TRANSPORT_CONFIG`.
    pub fn code(&self) -> &str {
        match self {
            TransportError::Unreachable(_) => "NET_UNREACHABLE",
            TransportError::Timeout(_) => "NET_TIMEOUT",
            TransportError::Api { code, .. } => code,
            TransportError::Decode(_) => "BAD_RESPONSE",
            TransportError::Protocol { .. } => "PROTOCOL_MISMATCH",
            TransportError::Config(_) => "TRANSPORT_CONFIG",
        }
    }

    /// The server cannot be reached or is temporarily unavailable (5xx, 429): the engine
    /// reports offline and probes `health` every second until it answers.
    pub fn is_offline(&self) -> bool {
        match self {
            TransportError::Unreachable(_) | TransportError::Timeout(_) => true,
            TransportError::Api { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// An error answer: the body's `{ code, message }` when it is one, else `HTTP_<status>`.
    pub fn from_answer(status: u16, body: &[u8]) -> TransportError {
        match serde_json::from_slice::<ApiError>(body) {
            Ok(e) => TransportError::Api {
                status,
                code: e.code,
                message: e.message,
            },
            Err(_) => TransportError::Api {
                status,
                code: format!("HTTP_{status}"),
                message: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
            },
        }
    }
}

/// A failed sync cycle.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("till store: {0}")]
    Store(#[from] StoreError),
    /// The server applied nothing of a batch starting at `first_seq` (it stopped before it).
    #[error("upload stalled: server applied up to {applied_upto}, batch starts at {first_seq}")]
    UploadStalled { applied_upto: i64, first_seq: i64 },
    /// The server's changes paging did not advance.
    #[error("changes paging stuck at gseq {since}")]
    PagingStuck { since: i64 },
    /// A blocking store task panicked or was cancelled.
    #[error("store task failed: {0}")]
    Task(String),
}

impl SyncError {
    pub fn code(&self) -> &str {
        match self {
            SyncError::Transport(e) => e.code(),
            SyncError::Store(e) => e.code(),
            SyncError::UploadStalled { .. } => "UPLOAD_STALLED",
            SyncError::PagingStuck { .. } => "PAGING_STUCK",
            SyncError::Task(_) => "SYNC_TASK",
        }
    }

    /// See [`TransportError::is_offline`].
    pub fn is_offline(&self) -> bool {
        matches!(self, SyncError::Transport(e) if e.is_offline())
    }

    /// No connection to the server at all (refused, no route, DNS): probing it costs the
    /// server nothing. A timeout or an error answer may come from a server under load.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, SyncError::Transport(TransportError::Unreachable(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_answers_keep_the_server_code() {
        let e =
            TransportError::from_answer(409, br#"{"code":"INSUFFICIENT_POINTS","message":"m"}"#);
        assert_eq!(e.code(), "INSUFFICIENT_POINTS");
        assert!(!e.is_offline());
        let e = TransportError::from_answer(502, b"<html>bad gateway</html>");
        assert_eq!(e.code(), "HTTP_502");
        assert!(e.is_offline());
        assert_eq!(SyncError::from(e).code(), "HTTP_502");
        assert!(TransportError::Unreachable("x".into()).is_offline());
    }
}
