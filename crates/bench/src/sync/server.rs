//! The real server, embedded: `loyalty_server::backend` (SQLite file in the bench's temp
//! dir, migrated by the server itself) behind `loyalty_server::http` (the production router
//! served by axum) on 127.0.0.1, on a tokio runtime of its own (2 workers, like the
//! machine). It can stop listening and start again on the same port (the data stays), so
//! tills see it go away and come back.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use loyalty_domain::AccountBook;
use loyalty_server::backend::{self, Backend};
use loyalty_server::config::Config;
use loyalty_server::http::{self, RunningServer};
use loyalty_server::token;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

pub struct EmbeddedServer {
    pub path: PathBuf,
    pub backend: Arc<dyn Backend>,
    config: Config,
    running: Option<RunningServer>,
    rt: tokio::runtime::Runtime,
}

impl EmbeddedServer {
    /// Opens and migrates `<dir>/<name>.db`; does not listen yet.
    pub fn open(dir: &Path, name: &str) -> Result<EmbeddedServer, String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("server")
            .enable_all()
            .build()
            .map_err(err)?;
        let path = dir.join(format!("{name}.db"));
        let config = Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: dir.to_path_buf(),
            database_url: Some(format!("sqlite://{}", path.display())),
            ..Config::default()
        };
        let url = config.effective_database_url();
        let backend = rt.block_on(async move {
            let b = backend::open(&url).await.map_err(err)?;
            b.migrate().await.map_err(err)?;
            Ok::<_, String>(b)
        })?;
        Ok(EmbeddedServer {
            path,
            backend,
            config,
            running: None,
            rt,
        })
    }

    /// Listens (on 127.0.0.1:0 the first time, then on the same port again).
    pub fn start(&mut self) -> Result<SocketAddr, String> {
        if let Some(r) = &self.running {
            return Ok(r.addr);
        }
        let mut last = String::new();
        for _ in 0..50 {
            let started = self
                .rt
                .block_on(http::start(self.config.clone(), self.backend.clone()));
            match started {
                Ok(r) => {
                    self.config.listen = r.addr;
                    let addr = r.addr;
                    self.running = Some(r);
                    return Ok(addr);
                }
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("cannot start the server: {last}"))
    }

    /// Stops listening; the database stays.
    pub fn stop(&mut self) -> Result<(), String> {
        if let Some(r) = self.running.take() {
            self.rt
                .block_on(r.shutdown(Duration::from_millis(200)))
                .map_err(err)?;
        }
        Ok(())
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.config.listen)
    }

    /// Registers a till of store `store`: `(server till id, device token)`.
    pub fn register(&self, store: &str) -> Result<(String, String), String> {
        let tok = token::generate().map_err(err)?;
        let rec = self
            .rt
            .block_on(
                self.backend
                    .register_till(store, &token::hash_token(&tok), Utc::now()),
            )
            .map_err(err)?;
        Ok((rec.id, tok))
    }

    /// Waits until the owner's analytics include every applied event (an owner read:
    /// the SQLite backend projects what still waits before answering it).
    pub fn analytics_caught_up(&self) -> Result<(), String> {
        let q = loyalty_server::backend::analytics::Stmt::new(
            "SELECT COUNT(*) FROM customer_stats",
            vec![],
        );
        self.rt
            .block_on(self.backend.query(vec![q]))
            .map(drop)
            .map_err(err)
    }

    /// A read-only connection to the server's file (checks, never the measured path).
    pub fn reader(&self) -> Result<Connection, String> {
        Connection::open_with_flags(&self.path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(err)
    }

    pub fn shutdown(mut self) -> Result<(), String> {
        self.stop()?;
        let EmbeddedServer { backend, rt, .. } = self;
        drop(backend);
        rt.shutdown_timeout(Duration::from_secs(5));
        Ok(())
    }
}

/// The server's global sequence (gseq of the last applied fact).
pub fn gseq(c: &Connection) -> Result<i64, String> {
    c.query_row("SELECT value FROM counters WHERE name = 'gseq'", [], |r| {
        r.get(0)
    })
    .map_err(err)
}

/// The server's book of an account.
pub fn book(c: &Connection, account_uid: &str) -> Result<Option<AccountBook>, String> {
    let json: Option<String> = c
        .prepare_cached("SELECT book FROM accounts WHERE uid = ?1")
        .map_err(err)?
        .query_row([account_uid], |r| r.get(0))
        .optional()
        .map_err(err)?;
    json.map(|j| serde_json::from_str(&j).map_err(err))
        .transpose()
}
