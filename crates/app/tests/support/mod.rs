//! A real loyalty-server on 127.0.0.1 (SQLite in a temporary folder) for the app core's
//! integration tests.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use loyalty_server::backend::{self, Backend};
use loyalty_server::config::Config;
use loyalty_server::http::{self, RunningServer};
use loyalty_server::{owner, token};

pub struct Server {
    pub url: String,
    backend: Arc<dyn Backend>,
    running: Option<RunningServer>,
    _dir: tempfile::TempDir,
}

pub async fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let backend = backend::open(&config.effective_database_url())
        .await
        .unwrap();
    backend.migrate().await.unwrap();
    let running = http::start(config, backend.clone()).await.unwrap();
    Server {
        url: format!("http://{}", running.addr),
        backend,
        running: Some(running),
        _dir: dir,
    }
}

impl Server {
    /// What `loyalty-server till add --store "Main St"` does: a device token.
    pub async fn till_token(&self) -> String {
        let t = token::generate().unwrap();
        self.backend
            .register_till("Main St", &token::hash_token(&t), Utc::now())
            .await
            .unwrap();
        t
    }

    /// What `loyalty-server owner token` does.
    #[allow(dead_code)] // not every test binary uses it
    pub async fn owner_token(&self) -> String {
        let t = token::generate_owner().unwrap();
        owner::set_owner_token(self.backend.as_ref(), &token::hash_token(&t), Utc::now())
            .await
            .unwrap();
        t
    }

    /// Stops the server (the tills go offline).
    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown(Duration::from_millis(200)).await.unwrap();
        }
    }
}
