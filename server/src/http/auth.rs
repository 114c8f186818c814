//! Bearer-token authentication of tills, with a per-address limit on wrong tokens.
//!
//! A wrong, unknown or revoked token is a failure; after `max` failures within a minute
//! from one address, further wrong tokens get 429 instead of 401. A VALID token always
//! passes: the tills of a shop share one NAT address, and one revoked till probing every
//! second must not lock its neighbours out (guessing a 256-bit token is hopeless anyway).

use super::error::HttpError;
use super::AppState;
use crate::backend::TillRecord;
use crate::token::hash_token;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The authenticated till, put in the request extensions.
#[derive(Clone, Debug)]
pub struct AuthedTill(pub TillRecord);

const WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered before old windows are pruned.
const MAX_TRACKED: usize = 10_000;

/// Failures per client address in fixed one-minute windows.
pub struct FailureLimiter {
    max: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl FailureLimiter {
    pub fn new(max_per_minute: u32) -> Self {
        FailureLimiter {
            max: max_per_minute.max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Records one failure; true when the address is now over its limit.
    pub fn fail(&self, ip: IpAddr, now: Instant) -> bool {
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_TRACKED {
            map.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let slot = map.entry(ip).or_insert((now, 0));
        if now.duration_since(slot.0) >= WINDOW {
            *slot = (now, 0);
        }
        slot.1 = slot.1.saturating_add(1);
        slot.1 > self.max
    }
}

fn client_ip(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Middleware: `Authorization: Bearer <token>` → [`AuthedTill`], else 401 / 429.
pub async fn require_till(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let ip = client_ip(&req);
    let found = match bearer(&req) {
        None => None,
        Some(token) => match st.backend.till_by_token_hash(&hash_token(token)).await {
            Ok(t) => t,
            Err(e) => return HttpError::from(e).into_response(),
        },
    };
    let (code, message) = match found {
        Some(till) if !till.revoked => {
            req.extensions_mut().insert(AuthedTill(till));
            return next.run(req).await;
        }
        Some(till) => ("TILL_REVOKED", format!("till {} was revoked", till.id)),
        None => (
            "UNAUTHORIZED",
            "missing or unknown device token (Authorization: Bearer <token>)".to_string(),
        ),
    };
    refuse(&st, ip, code, message)
}

/// The owner, authenticated (a marker in the request extensions).
#[derive(Clone, Copy, Debug)]
pub struct AuthedOwner;

/// Middleware: `Authorization: Bearer <owner token>` (`loyalty-server owner token`), else
/// 401 / 429 like device tokens. A device token is not an owner token.
pub async fn require_owner(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let ip = client_ip(&req);
    let ok = match bearer(&req) {
        None => false,
        Some(token) => match crate::owner::owner_token_hash(st.backend.as_ref()).await {
            Ok(Some(hash)) => hash == hash_token(token),
            Ok(None) => false,
            Err(e) => return HttpError::from(e).into_response(),
        },
    };
    if ok {
        req.extensions_mut().insert(AuthedOwner);
        return next.run(req).await;
    }
    refuse(
        &st,
        ip,
        "UNAUTHORIZED",
        "missing or wrong owner token (Authorization: Bearer <owner token>; \
         `loyalty-server owner token` makes one)"
            .to_string(),
    )
}

fn refuse(st: &AppState, ip: IpAddr, code: &'static str, message: String) -> Response {
    if st.limiter.fail(ip, Instant::now()) {
        tracing::warn!(%ip, "too many authentication failures");
        let mut resp = HttpError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_AUTH_FAILURES",
            "too many failed authentications from this address: wait a minute",
        )
        .into_response();
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
        return resp;
    }
    tracing::info!(%ip, code, "authentication failed");
    HttpError::new(StatusCode::UNAUTHORIZED, code, message).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_blocks_after_max_and_resets_after_a_minute() {
        let l = FailureLimiter::new(3);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let t = Instant::now();
        assert!(!l.fail(ip, t));
        assert!(!l.fail(ip, t));
        assert!(!l.fail(ip, t));
        assert!(
            l.fail(ip, t),
            "4th failure within the minute is over the limit"
        );
        assert!(!l.fail(other, t), "other addresses are not affected");
        assert!(
            !l.fail(ip, t + WINDOW),
            "a new window starts after a minute"
        );
    }
}
