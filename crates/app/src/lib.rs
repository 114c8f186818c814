//! The till app's core. The Tauri shell (`src-tauri/`) holds one [`TillApp`] and maps each
//! command to one method here; nothing in this crate knows about Tauri.
//!
//! * [`TillApp::open`] reads the data folder: settings (server URL, device token, till),
//!   the store (`till.db`), the QR key. A configured till works at once, offline too.
//! * [`TillApp::setup`] (first run): asks the server who the token belongs to
//!   (`GET /api/v1/me`), creates the owner and cashier PINs, saves the settings.
//! * [`TillApp::start_sync`] starts the background sync (bootstrap on the first run) and
//!   keeps [`SyncStatusView`] current on a watch channel the shell forwards as an event.
//! * Cashier operations (`pos.rs`) need a PIN session; owner-only ones check the role.
//!   The owner merges duplicate customers through the server (`merge.rs`).
//!
//! Every operation runs on the store with the till clock corrected by the server offset.

pub mod auth;
pub mod bindings;
pub mod dto;
pub mod error;
mod members_io;
mod merge;
pub mod offers;
mod owner;
mod pos;
pub mod program_edit;
pub mod settings;
mod side;
mod status;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use loyalty_cards::QrSigner;
use loyalty_store::{Role, Store, StoreOptions};
use loyalty_sync::{HttpTransport, SyncHandle};
use tokio::sync::watch;

pub use dto::*;
pub use error::{AppError, AppResult};
pub use loyalty_wire::{
    Dashboard, ImportJob, ImportPhase, ImportReport, ImportRowError, ImportStatus, RegisteredTill,
    TillInfo, TillList, TriggerKind, TriggerList, TriggerRow,
};
pub use members_io::IMPORT_DIR;
pub use owner::EXPORT_DIR;
use settings::Settings;

/// Environment variables that pre-fill the setup form (demo mode, provisioning scripts).
pub const ENV_SERVER_URL: &str = "LOYALTY_SERVER_URL";
pub const ENV_DEVICE_TOKEN: &str = "LOYALTY_DEVICE_TOKEN";
pub const ENV_OWNER_PIN: &str = "LOYALTY_OWNER_PIN";
pub const ENV_CASHIER_PIN: &str = "LOYALTY_CASHIER_PIN";
pub const ENV_OWNER_TOKEN: &str = "LOYALTY_OWNER_TOKEN";
/// Phone numbering region of a new till (default RU).
pub const ENV_REGION: &str = "LOYALTY_REGION";

/// Setup defaults from the environment, when a server URL is given.
pub fn defaults_from_env() -> Option<SetupDefaults> {
    let get = |k: &str| std::env::var(k).unwrap_or_default();
    let url = get(ENV_SERVER_URL);
    (!url.trim().is_empty()).then(|| SetupDefaults {
        server_url: url,
        device_token: get(ENV_DEVICE_TOKEN),
        owner_pin: get(ENV_OWNER_PIN),
        cashier_pin: get(ENV_CASHIER_PIN),
        owner_token: get(ENV_OWNER_TOKEN),
    })
}

struct Opened {
    settings: Settings,
    store: Arc<Mutex<Store>>,
    signer: QrSigner,
    /// The server API (the sync task and online reservations share it).
    transport: Arc<HttpTransport>,
}

/// The app: one per till process.
pub struct TillApp {
    data_dir: PathBuf,
    defaults: Option<SetupDefaults>,
    opened: Mutex<Option<Opened>>,
    session: Mutex<Option<Session>>,
    status: Arc<watch::Sender<SyncStatusView>>,
    sync: Mutex<Option<SyncHandle>>,
    /// The op id of a merge not yet answered, reused when the same merge is retried.
    merge_retry: Mutex<Option<merge::Pending>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock must not take the till down with it: the data behind
    // these locks is either durable (the store) or rebuilt on the next call.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl TillApp {
    /// Opens the data folder (created if missing). A configured till opens its store now.
    pub fn open(data_dir: impl AsRef<Path>, defaults: Option<SetupDefaults>) -> AppResult<Self> {
        let data_dir = data_dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&data_dir)
            .map_err(|e| AppError::io(&format!("creating {}", data_dir.display()), e))?;
        let (tx, _) = watch::channel(status::initial(None));
        let app = TillApp {
            data_dir,
            defaults,
            opened: Mutex::new(None),
            session: Mutex::new(None),
            status: Arc::new(tx),
            sync: Mutex::new(None),
            merge_retry: Mutex::new(None),
        };
        if let Some(s) = settings::load(&app.data_dir)? {
            app.open_store(s)?;
        }
        Ok(app)
    }

    fn open_store(&self, settings: Settings) -> AppResult<()> {
        let seed = settings::qr_seed(&self.data_dir)?;
        let store = Store::open(
            self.data_dir.join("till.db"),
            StoreOptions {
                till_id: settings.till_id.clone(),
                store_id: settings.store_id.clone(),
                default_region: settings.region.clone(),
                qr_seed: seed,
            },
        )?;
        let transport = Arc::new(HttpTransport::new(
            &settings.server_url,
            &settings.device_token,
        )?);
        let pending = store.sync_pending_count()?;
        let last = store.last_sync_at()?;
        self.status.send_modify(|v| {
            *v = status::initial(Some(&settings));
            v.pending = pending;
            v.last_sync_at = last;
        });
        *lock(&self.opened) = Some(Opened {
            settings,
            store: Arc::new(Mutex::new(store)),
            signer: QrSigner::from_seed(&seed),
            transport,
        });
        Ok(())
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// What the UI needs first.
    pub fn info(&self) -> AppResult<AppInfo> {
        let opened = lock(&self.opened);
        let program = match opened.as_ref() {
            Some(o) => {
                let st = lock(&o.store);
                st.program_at(st.clock_now(Utc::now())).clone()
            }
            None => loyalty_domain::ProgramConfig::default(),
        };
        let s = opened.as_ref().map(|o| &o.settings);
        Ok(AppInfo {
            configured: s.is_some(),
            till_id: s.map(|s| s.till_id.clone()),
            store_id: s.map(|s| s.store_id.clone()),
            store_name: s.map(|s| s.store_name.clone()),
            server_url: s.map(|s| s.server_url.clone()),
            locale: s.map(|s| s.locale).unwrap_or_default(),
            currency: program.currency.clone(),
            point_value: program.point_value,
            offline_spend_limit: program.offline_spend_limit,
            data_dir: self.data_dir.display().to_string(),
            setup_defaults: if s.is_some() {
                None
            } else {
                self.defaults.clone()
            },
            owner_token_set: s.is_some_and(|s| s.owner_token.is_some()),
        })
    }

    /// First run: checks the token with the server, creates the staff PINs, saves the
    /// settings and opens the store. Call [`TillApp::start_sync`] next.
    pub async fn setup(&self, req: SetupRequest) -> AppResult<AppInfo> {
        if lock(&self.opened).is_some() {
            return Err(AppError::already_configured());
        }
        auth::validate_pins(&req.owner_pin, &req.cashier_pin)?;
        let url = req.server_url.trim().trim_end_matches('/').to_string();
        let token = req.device_token.trim().to_string();
        if token.is_empty() {
            return Err(AppError::invalid("the device token is required"));
        }
        let me = HttpTransport::new(&url, &token)?.whoami().await?;
        let settings = Settings {
            server_url: url,
            device_token: token,
            till_id: me.till_id,
            store_id: me.store_id,
            store_name: me.store_name,
            locale: Default::default(),
            region: std::env::var(ENV_REGION).unwrap_or_else(|_| "RU".into()),
            owner_token: owner::clean_token(req.owner_token.as_deref()),
        };
        self.open_store(settings.clone())?;
        let staffed = self
            .with_store(|st, now, _| auth::create_staff(st, &req.owner_pin, &req.cashier_pin, now));
        // Saved last: a failed setup leaves the till unconfigured and can be redone.
        if let Err(e) = staffed.and_then(|_| settings::save(&self.data_dir, &settings)) {
            *lock(&self.opened) = None;
            return Err(e);
        }
        self.info()
    }

    /// Runs `f` on the store with the corrected clock.
    pub(crate) fn with_store<T>(
        &self,
        f: impl FnOnce(&mut Store, DateTime<Utc>, &Opened) -> AppResult<T>,
    ) -> AppResult<T> {
        let opened = lock(&self.opened);
        let o = opened.as_ref().ok_or_else(AppError::not_configured)?;
        let mut st = lock(&o.store);
        let now = st.clock_now(Utc::now());
        f(&mut st, now, o)
    }

    /// PIN login.
    pub fn login(&self, pin: &str) -> AppResult<Session> {
        let session = self.with_store(|st, now, _| auth::login(st, pin, now))?;
        *lock(&self.session) = Some(session.clone());
        Ok(session)
    }

    pub fn logout(&self) {
        *lock(&self.session) = None;
    }

    pub fn session(&self) -> Option<Session> {
        lock(&self.session).clone()
    }

    /// The logged-in session (any role).
    pub(crate) fn require_session(&self) -> AppResult<Session> {
        self.session().ok_or_else(AppError::not_logged_in)
    }

    pub(crate) fn require_owner(&self, what: &str) -> AppResult<Session> {
        let s = self.require_session()?;
        if s.role == Role::Owner {
            Ok(s)
        } else {
            Err(AppError::forbidden(what))
        }
    }

    pub fn set_locale(&self, locale: Locale) -> AppResult<()> {
        let mut opened = lock(&self.opened);
        let o = opened.as_mut().ok_or_else(AppError::not_configured)?;
        o.settings.locale = locale;
        settings::save(&self.data_dir, &o.settings)
    }
}
