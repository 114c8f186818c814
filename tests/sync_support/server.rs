//! The real server in-process: SQLite in a temp dir, or PostgreSQL (a fresh schema) when
//! `LOYALTY_TEST_PG_URL` is set; it can listen on a fixed loopback port, stop and start
//! again (the data stays), so tills see it go away and come back.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use loyalty_domain::AccountBook;
use loyalty_server::backend::{self, Backend};
use loyalty_server::config::Config;
use loyalty_server::http::{self, RunningServer};
use loyalty_server::token;
use uuid::Uuid;

pub const PG_URL_VAR: &str = "LOYALTY_TEST_PG_URL";

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite,
    Postgres(String),
}

impl Db {
    /// The PostgreSQL variant when the URL is set (else a skip line on stderr).
    pub fn postgres(test: &str) -> Option<Db> {
        match std::env::var(PG_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => Some(Db::Postgres(url)),
            _ => {
                let line = format!("SKIPPED {test}: PostgreSQL variant needs {PG_URL_VAR}\n");
                let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
                None
            }
        }
    }
}

/// `NAME::sqlite` and `NAME::postgres` tests for each `async fn NAME(db: Db)`.
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::sync_support::server::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let test = concat!(stringify!($name), "::postgres");
                if let Some(db) = $crate::sync_support::server::Db::postgres(test) {
                    super::$name(db).await
                }
            }
        }
    )*};
}

pub struct Server {
    pub backend: Arc<dyn Backend>,
    pub addr: SocketAddr,
    config: Config,
    running: Option<RunningServer>,
    pg_schema: Option<(String, String)>,
    pub dir: tempfile::TempDir,
}

async fn pg_client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    tokio::spawn(conn);
    client
}

/// A free loopback port (bound and released).
fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

impl Server {
    /// Opens and migrates the database; does NOT listen yet ([`Server::start`]).
    pub async fn new(db: Db) -> Server {
        Server::open(db, super::template::scratch_dir()).await
    }

    /// On SQLite, from a copy of the migrated template database (same schema, no
    /// migration run per world); on PostgreSQL as [`Server::new`].
    pub async fn from_template(db: Db) -> Server {
        let dir = super::template::scratch_dir();
        if let Db::Sqlite = db {
            super::template::templates()
                .await
                .write_server_db(&dir.path().join("server.db"));
        }
        Server::open(db, dir).await
    }

    async fn open(db: Db, dir: tempfile::TempDir) -> Server {
        let mut config = Config {
            listen: free_addr(),
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        let mut pg_schema = None;
        if let Db::Postgres(url) = &db {
            let name = format!("t_{}", Uuid::now_v7().simple());
            pg_client(url)
                .await
                .batch_execute(&format!("CREATE SCHEMA {name}"))
                .await
                .expect("create schema");
            let sep = if url.contains('?') { '&' } else { '?' };
            config.database_url = Some(format!("{url}{sep}options=-c%20search_path%3D{name}"));
            pg_schema = Some((url.clone(), name));
        }
        let backend = backend::open(&config.effective_database_url())
            .await
            .expect("open backend");
        backend.migrate().await.expect("migrate");
        Server {
            backend,
            addr: config.listen,
            config,
            running: None,
            pg_schema,
            dir,
        }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Listens on the server's fixed port.
    pub async fn start(&mut self) {
        if self.running.is_some() {
            return;
        }
        let mut last = None;
        for _ in 0..50 {
            match http::start(self.config.clone(), self.backend.clone()).await {
                Ok(s) => {
                    self.running = Some(s);
                    return;
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("cannot restart the server on {}: {last:?}", self.addr);
    }

    /// Stops listening (the database stays).
    pub async fn stop(&mut self) {
        if let Some(s) = self.running.take() {
            s.shutdown(Duration::from_millis(200))
                .await
                .expect("shutdown");
        }
    }

    /// Registers a till: `(server till id, device token)`.
    pub async fn register(&self, store: &str) -> (String, String) {
        let tok = token::generate().expect("token");
        let rec = self
            .backend
            .register_till(store, &token::hash_token(&tok), Utc::now())
            .await
            .expect("register");
        (rec.id, tok)
    }

    /// The server's book of the account holding `card`.
    pub async fn book(&self, till_id: &str, card: &str) -> AccountBook {
        let ch = self
            .backend
            .changes_since(0, 1000, till_id, Utc::now())
            .await
            .expect("changes");
        let a = ch
            .accounts
            .into_iter()
            .find(|a| a.cards.iter().any(|c| c.number == card))
            .unwrap_or_else(|| panic!("server has no account with card {card}"));
        a.book.parse(&a.account_uid).expect("the server's book")
    }

    /// `(available, pending, shortfall)` of the card's account on the server at `now`.
    pub async fn balance(&self, till_id: &str, card: &str, now: DateTime<Utc>) -> (i64, i64, i64) {
        let b = self.book(till_id, card).await.balance(now);
        (b.available, b.pending, b.shortfall)
    }

    /// The server's settled seq of a till.
    pub async fn last_seq(&self, till_id: &str) -> i64 {
        self.backend
            .list_tills()
            .await
            .expect("tills")
            .into_iter()
            .find(|t| t.id == till_id)
            .map(|t| t.last_seq)
            .unwrap_or(-1)
    }

    pub async fn shutdown(mut self) {
        self.stop().await;
        if let Some((url, name)) = self.pg_schema.take() {
            drop(self.backend);
            let sql = format!("DROP SCHEMA {name} CASCADE");
            if let Err(e) = pg_client(&url).await.batch_execute(&sql).await {
                eprintln!("could not drop test schema {name}: {e}");
            }
        }
    }
}
