//! The till app under test: a real server on 127.0.0.1 (SQLite, restartable on the same
//! port), a "seeder" till store that puts members on the server through the real sync, and
//! tauri-driver running the built app binary (`target/debug/loyalty-till-app`).
#![allow(dead_code)]

pub mod webdriver;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use loyalty_server::backend::{self, Backend};
use loyalty_server::config::Config;
use loyalty_server::http::{self, RunningServer};
use loyalty_server::token;
use loyalty_store::{NewCustomer, Store, StoreOptions};
use loyalty_sync::{HttpTransport, StoreAccess, SyncConfig, Syncer};
use std::sync::Mutex;
use uuid::Uuid;

pub struct Server {
    pub addr: SocketAddr,
    pub backend: Arc<dyn Backend>,
    config: Config,
    running: Option<RunningServer>,
}

impl Server {
    pub async fn start(data_dir: &Path) -> Server {
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: data_dir.to_path_buf(),
            ..Config::default()
        };
        let backend = backend::open(&config.effective_database_url())
            .await
            .unwrap();
        backend.migrate().await.unwrap();
        let running = http::start(config.clone(), backend.clone()).await.unwrap();
        Server {
            addr: running.addr,
            backend,
            config,
            running: Some(running),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Registers a till; returns (till id, token).
    pub async fn till(&self, store: &str) -> (String, String) {
        let t = token::generate().unwrap();
        let rec = self
            .backend
            .register_till(store, &token::hash_token(&t), Utc::now())
            .await
            .unwrap();
        (rec.id, t)
    }

    /// A new owner token, as `loyalty-server owner token` makes it.
    pub async fn owner_token(&self) -> String {
        let t = token::generate_owner().unwrap();
        loyalty_server::owner::set_owner_token(
            self.backend.as_ref(),
            &token::hash_token(&t),
            Utc::now(),
        )
        .await
        .unwrap();
        t
    }

    /// Stops listening (the tills see connection refused).
    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown(Duration::from_millis(200)).await.unwrap();
        }
    }

    /// Listens again on the same address and database.
    pub async fn restart(&mut self) {
        let mut config = self.config.clone();
        config.listen = self.addr;
        let mut tries = 0;
        loop {
            match http::start(config.clone(), self.backend.clone()).await {
                Ok(r) => {
                    self.running = Some(r);
                    return;
                }
                Err(e) if tries < 50 => {
                    tries += 1;
                    eprintln!("restart: {e}; retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot restart the server on {}: {e}", self.addr),
            }
        }
    }
}

/// A till store of the test's own that enrols members and syncs them to the server.
pub struct Seeder {
    pub store: Arc<Mutex<Store>>,
    syncer: Syncer,
}

impl Seeder {
    pub fn new(dir: &Path, server: &Server, till_id: &str, token: &str) -> Seeder {
        let store = Store::open(
            dir.join("seeder.db"),
            StoreOptions {
                till_id: till_id.to_string(),
                store_id: "S".into(),
                default_region: "RU".into(),
                qr_seed: [9; 32],
            },
        )
        .unwrap();
        let store = Arc::new(Mutex::new(store));
        let transport = HttpTransport::new(&server.url(), token).unwrap();
        let syncer = Syncer::new(
            StoreAccess::shared(store.clone()),
            Arc::new(transport),
            SyncConfig::new(till_id),
        );
        Seeder { store, syncer }
    }

    /// Enrols a member with `points` available; returns the card.
    pub fn member(&self, name: &str, phone: &str, points: i64) -> String {
        let mut st = self.store.lock().unwrap();
        let now = st.clock_now(Utc::now());
        let e = st
            .enrol(
                Uuid::now_v7(),
                NewCustomer {
                    name: name.into(),
                    phone: Some(phone.into()),
                    marketing_consent: true,
                    ..NewCustomer::default()
                },
                now,
            )
            .unwrap();
        if points > 0 {
            st.adjust(
                Uuid::now_v7(),
                e.account_id,
                points,
                "opening balance",
                "test",
                now,
            )
            .unwrap();
        }
        e.card
    }

    pub async fn sync(&self) {
        self.syncer.sync_once().await.unwrap();
    }

    /// Available points of `card` as this till sees them after a sync (server-confirmed).
    pub async fn confirmed_available(&self, card: &str) -> i64 {
        self.sync().await;
        let st = self.store.lock().unwrap();
        let now = st.clock_now(Utc::now());
        st.lookup(card, now).unwrap().balance.available
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// tauri-driver (with WebKitWebDriver) for the lifetime of the value.
pub struct TauriDriver {
    child: Child,
    pub url: String,
}

impl TauriDriver {
    /// Starts tauri-driver with `env` for the app it will launch.
    pub async fn start(env: &[(&str, String)]) -> TauriDriver {
        let port = free_port();
        let native = free_port();
        let bin = which("tauri-driver").expect(
            "tauri-driver on PATH or in ~/.cargo/bin (cargo install tauri-driver --locked)",
        );
        let mut cmd = Command::new(bin);
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
        if let Some(n) = which("WebKitWebDriver") {
            cmd.arg("--native-driver").arg(n);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        // Its own process group: dropping the driver stops WebKitWebDriver and the app it
        // started too (killing tauri-driver alone left WebKitWebDriver running, holding the
        // test's output open).
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().expect("tauri-driver starts");
        let url = format!("http://127.0.0.1:{port}");
        // A loaded machine (a build on both cores) can take many seconds to start it.
        let start = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "tauri-driver did not listen on {port} within 120 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        TauriDriver { child, url }
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        // The whole group (tauri-driver, WebKitWebDriver, the app).
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--"])
            .arg(format!("-{}", self.child.id()))
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn which(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// The app binary built by `cargo build -p loyalty-till-app` (after `npm run build` in ui/).
pub fn app_binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let profile = std::env::var("LOYALTY_APP_PROFILE").unwrap_or_else(|_| "debug".into());
    let bin = target.join(profile).join("loyalty-till-app");
    assert!(
        bin.is_file(),
        "{} is missing: build the UI and the app first (make test-app does)",
        bin.display()
    );
    bin
}

/// Where screenshots go (`LOYALTY_SCREENSHOTS`), if anywhere.
pub fn screenshot_dir() -> Option<PathBuf> {
    std::env::var_os("LOYALTY_SCREENSHOTS")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
}
