//! The owner's back-office screens (issue 6): the dashboard and the trigger lists come from
//! the server's owner endpoints, called with the owner token (`Authorization: Bearer`),
//! never with the till's device token. Every call here is refused for a cashier
//! (`FORBIDDEN`) before anything else happens.
//!
//! The last dashboard answer is kept in `owner/dashboard.json` in the data folder (0600), so
//! the owner still sees it, marked offline with its time, when the server cannot be reached.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use loyalty_sync::{reqwest_failure, TransportError};
use loyalty_wire::Dashboard;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::dto::{DashboardRequest, DashboardView, TriggerExport, TriggerRequest};
use crate::error::{AppError, AppResult};
use crate::settings;
use crate::{lock, TillApp};

const CACHE_DIR: &str = "owner";
const DASHBOARD_CACHE: &str = "dashboard.json";
/// Trigger lists exported as CSV go here (in the data folder).
pub const EXPORT_DIR: &str = "exports";

/// A trimmed token, `None` when empty.
pub(crate) fn clean_token(t: Option<&str>) -> Option<String> {
    t.map(str::trim).filter(|t| !t.is_empty()).map(String::from)
}

fn missing_token() -> AppError {
    AppError::new(
        "OWNER_TOKEN_MISSING",
        "this till has no owner token: enter it in the owner screens \
         (the server prints one with `loyalty-server owner token`)",
    )
}

/// A CSV written into `exports/`: its path, lines after the header, size.
pub(crate) struct SavedExport {
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
}

/// What the cache file holds.
#[derive(Serialize, Deserialize)]
struct Cached {
    fetched_at: DateTime<Utc>,
    dashboard: Dashboard,
}

/// The server's owner API at `base` with the owner token.
pub(crate) struct OwnerApi {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl OwnerApi {
    fn new(base: &str, token: &str) -> Result<OwnerApi, TransportError> {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| TransportError::Config(e.to_string()))?;
        Ok(OwnerApi {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            client,
        })
    }

    /// Sends `req` with the owner token: the body of a 2xx answer, else the server's
    /// `{code, message}`.
    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Vec<u8>, TransportError> {
        let resp = req
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(reqwest_failure)?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(reqwest_failure)?;
        if (200..300).contains(&status) {
            Ok(body.to_vec())
        } else {
            Err(TransportError::from_answer(status, &body))
        }
    }

    /// POST `path?query` with raw bytes (up to `timeout`): the decoded 2xx answer.
    pub(crate) async fn post_bytes<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        bytes: Vec<u8>,
        timeout: Duration,
    ) -> Result<T, TransportError> {
        let url = format!("{}{path}", self.base);
        let req = self
            .client
            .post(url)
            .query(query)
            .timeout(timeout)
            .header(reqwest::header::CONTENT_TYPE, "text/csv")
            .body(bytes);
        let body = self.send(req).await?;
        serde_json::from_slice(&body).map_err(|e| TransportError::Decode(e.to_string()))
    }

    /// GET `path?query`: the body of a 2xx answer.
    pub(crate) async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<u8>, TransportError> {
        let url = format!("{}{path}", self.base);
        self.send(self.client.get(url).query(query)).await
    }

    /// POST `path` with a JSON body: the decoded 2xx answer.
    pub(crate) async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, TransportError> {
        let url = format!("{}{path}", self.base);
        let body = self.send(self.client.post(url).json(body)).await?;
        serde_json::from_slice(&body).map_err(|e| TransportError::Decode(e.to_string()))
    }

    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, TransportError> {
        let body = self.get(path, query).await?;
        serde_json::from_slice(&body).map_err(|e| TransportError::Decode(e.to_string()))
    }
}

fn trigger_query(req: &TriggerRequest, csv: bool) -> Vec<(&'static str, String)> {
    let mut q = vec![("kind", req.kind.as_str().to_string())];
    if let Some(d) = req.days {
        q.push(("days", d.to_string()));
    }
    if csv {
        q.push(("format", "csv".into()));
    }
    q
}

impl TillApp {
    /// The server's owner API, for an owner with a stored owner token.
    pub(crate) fn owner_api(&self, what: &str) -> AppResult<OwnerApi> {
        self.require_owner(what)?;
        let opened = lock(&self.opened);
        let o = opened.as_ref().ok_or_else(AppError::not_configured)?;
        let token = o.settings.owner_token.clone().ok_or_else(missing_token)?;
        Ok(OwnerApi::new(&o.settings.server_url, &token)?)
    }

    /// Stores (or replaces; "" removes) the owner's back-office token. Owner only.
    pub fn set_owner_token(&self, token: &str) -> AppResult<crate::AppInfo> {
        self.require_owner("set the owner token")?;
        {
            let mut opened = lock(&self.opened);
            let o = opened.as_mut().ok_or_else(AppError::not_configured)?;
            let mut s = o.settings.clone();
            s.owner_token = clean_token(Some(token));
            settings::save(&self.data_dir, &s)?;
            o.settings = s;
        }
        self.info()
    }

    fn dashboard_cache(&self) -> PathBuf {
        self.data_dir.join(CACHE_DIR).join(DASHBOARD_CACHE)
    }

    /// The owner's dashboard from the server (kept for offline viewing). When the server
    /// cannot be reached, the last dashboard this till received, marked `offline`.
    pub async fn dashboard(&self, req: DashboardRequest) -> AppResult<DashboardView> {
        let api = self.owner_api("see the dashboard")?;
        let mut q = Vec::new();
        for (k, v) in [("store", &req.store), ("from", &req.from), ("to", &req.to)] {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                q.push((k, v.to_string()));
            }
        }
        match api.get_json::<Dashboard>("/api/v1/dashboard", &q).await {
            Ok(dashboard) => {
                let cached = Cached {
                    fetched_at: Utc::now(),
                    dashboard,
                };
                let path = self.dashboard_cache();
                let bytes =
                    serde_json::to_vec(&cached).map_err(|e| AppError::io("dashboard", e))?;
                let kept = std::fs::create_dir_all(self.data_dir.join(CACHE_DIR))
                    .map_err(|e| AppError::io("creating the owner cache", e))
                    .and_then(|_| settings::write_private(&path, &bytes));
                if let Err(e) = kept {
                    tracing::warn!("dashboard not cached: {e}");
                }
                Ok(DashboardView {
                    dashboard: cached.dashboard,
                    fetched_at: cached.fetched_at,
                    offline: false,
                    error: None,
                })
            }
            Err(e) if e.is_offline() => {
                let err = AppError::from(e);
                let bytes = match std::fs::read(self.dashboard_cache()) {
                    Ok(b) => b,
                    Err(_) => return Err(err),
                };
                let cached: Cached = serde_json::from_slice(&bytes).map_err(|_| err.clone())?;
                Ok(DashboardView {
                    dashboard: cached.dashboard,
                    fetched_at: cached.fetched_at,
                    offline: true,
                    error: Some(err),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A trigger list (birthdays, lapsed, welcome, shortfalls) from the server.
    pub async fn triggers(&self, req: TriggerRequest) -> AppResult<loyalty_wire::TriggerList> {
        let api = self.owner_api("see the trigger lists")?;
        Ok(api
            .get_json("/api/v1/triggers", &trigger_query(&req, false))
            .await?)
    }

    /// Writes `csv` as `exports/{stem}-{time}.csv` in the data folder (0600).
    pub(crate) fn save_export(&self, stem: &str, csv: &[u8]) -> AppResult<SavedExport> {
        let dir = self.data_dir.join(EXPORT_DIR);
        std::fs::create_dir_all(&dir)
            .map_err(|e| AppError::io(&format!("creating {}", dir.display()), e))?;
        let path = dir.join(format!("{stem}-{}.csv", Utc::now().format("%Y%m%d-%H%M%S")));
        settings::write_private(&path, csv)?;
        let lines = csv.iter().filter(|b| **b == b'\n').count();
        Ok(SavedExport {
            path: path.display().to_string(),
            rows: lines.saturating_sub(1) as u64,
            bytes: csv.len() as u64,
        })
    }

    /// Writes the server's CSV of a trigger list into `exports/` in the data folder.
    pub async fn export_triggers(&self, req: TriggerRequest) -> AppResult<TriggerExport> {
        let api = self.owner_api("export the trigger lists")?;
        let csv = api
            .get("/api/v1/triggers", &trigger_query(&req, true))
            .await?;
        let days = req.days.map(|d| format!("-{d}d")).unwrap_or_default();
        let saved = self.save_export(&format!("{}{days}", req.kind.as_str()), &csv)?;
        Ok(TriggerExport {
            path: saved.path,
            rows: saved.rows,
            bytes: saved.bytes,
        })
    }

    /// Every till of the chain (owner).
    pub async fn tills(&self) -> AppResult<loyalty_wire::TillList> {
        let api = self.owner_api("see the tills")?;
        Ok(api.get_json("/api/v1/tills", &[]).await?)
    }

    /// Registers a new till of `store` (created on first use); the answer holds its device
    /// token, shown only this once.
    pub async fn register_till(&self, store: &str) -> AppResult<loyalty_wire::RegisteredTill> {
        let api = self.owner_api("register a till")?;
        let store = store.trim();
        if store.is_empty() {
            return Err(AppError::invalid("the store name is required"));
        }
        let req = loyalty_wire::RegisterTillRequest {
            store: store.to_string(),
        };
        Ok(api.post_json("/api/v1/tills", &req).await?)
    }

    /// Revokes a till: its device token stops working. Not the till in use.
    pub async fn revoke_till(&self, id: &str) -> AppResult<loyalty_wire::TillInfo> {
        let api = self.owner_api("revoke a till")?;
        let id = id.trim();
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(AppError::invalid(format!("{id:?} is not a till id")));
        }
        let own = lock(&self.opened)
            .as_ref()
            .is_some_and(|o| o.settings.till_id == id);
        if own {
            return Err(AppError::invalid(
                "this is the till you are using: revoke it from another till or the server",
            ));
        }
        Ok(api
            .post_json(
                &format!("/api/v1/tills/{id}/revoke"),
                &serde_json::json!({}),
            )
            .await?)
    }
}
