//! A real server on 127.0.0.1:0 with a temporary data dir, a till, and fact builders; each
//! test body runs on every backend ([`Db`], [`backend_tests!`]): SQLite always, PostgreSQL
//! when `LOYALTY_TEST_PG_URL` is set (`scripts/with-postgres.sh`, `make test-pg`), each
//! test in a fresh schema of its own so tests run in parallel.
#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use loyalty_domain::{BasketLine, EarnItem, EarnKind, Fact, Profile};
use loyalty_server::backend::{self, Backend};
use loyalty_server::config::Config;
use loyalty_server::http::{self, RunningServer};
use loyalty_server::token;
use loyalty_wire::{EventEnvelope, UploadRequest};
use serde_json::Value;
use std::sync::Arc;
use uuid::Uuid;

pub struct TestServer {
    pub base: String,
    pub backend: Arc<dyn Backend>,
    pub client: reqwest::Client,
    server: Option<RunningServer>,
    _dir: tempfile::TempDir,
    pg_schema: Option<PgSchema>,
    /// The database URL the backend uses.
    pub db_url: String,
}

/// The environment variable naming the PostgreSQL server the Postgres variants use.
pub const PG_URL_VAR: &str = "LOYALTY_TEST_PG_URL";

/// The backend a test body runs on.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite,
    /// The server at this URL; `serializable`: every transaction at SERIALIZABLE (the
    /// default isolation of distributed engines), so conflicts go through the retry loop.
    Postgres {
        url: String,
        serializable: bool,
    },
}

impl Db {
    /// The PostgreSQL variant, or `None` with a skip line when the URL is not set.
    pub fn postgres(test: &str, serializable: bool) -> Option<Db> {
        match std::env::var(PG_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => Some(Db::Postgres { url, serializable }),
            _ => {
                // Straight to stderr (not eprintln!, which the test harness captures).
                let line = format!(
                    "SKIPPED {test}: PostgreSQL variant needs {PG_URL_VAR} \
                     (run `make test-pg` or scripts/with-postgres.sh cargo test -p loyalty-server)\n"
                );
                let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
                None
            }
        }
    }
}

/// A schema of its own for one test (dropped by [`TestServer::stop`]).
struct PgSchema {
    url: String,
    name: String,
}

async fn pg_client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    tokio::spawn(conn);
    client
}

/// Makes a fresh schema; returns it and the database URL whose search_path is it.
async fn pg_schema(url: &str, serializable: bool) -> (PgSchema, String) {
    let name = format!("t_{}", Uuid::now_v7().simple());
    pg_client(url)
        .await
        .batch_execute(&format!("CREATE SCHEMA {name}"))
        .await
        .unwrap();
    let mut options = format!("-c search_path={name}");
    if serializable {
        options.push_str(" -c default_transaction_isolation=serializable");
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    let db_url = format!(
        "{url}{sep}options={}",
        options.replace(' ', "%20").replace('=', "%3D")
    );
    (
        PgSchema {
            url: url.to_string(),
            name,
        },
        db_url,
    )
}

/// One `#[tokio::test]` per backend for each `async fn NAME(db: Db)` listed: `NAME::sqlite`,
/// `NAME::postgres`, `NAME::postgres_serializable` (a `postgres` filter selects both).
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::support::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let test = concat!(stringify!($name), "::postgres");
                if let Some(db) = $crate::support::Db::postgres(test, false) {
                    super::$name(db).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_serializable() {
                let test = concat!(stringify!($name), "::postgres_serializable");
                if let Some(db) = $crate::support::Db::postgres(test, true) {
                    super::$name(db).await
                }
            }
        }
    )*};
}

pub struct Till {
    pub id: String,
    pub token: String,
}

pub async fn start(db: Db) -> TestServer {
    start_with(db, |_| {}).await
}

pub async fn start_with(db: Db, tweak: impl FnOnce(&mut Config)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let mut pg_schema_made = None;
    if let Db::Postgres { url, serializable } = &db {
        let (schema, db_url) = pg_schema(url, *serializable).await;
        config.database_url = Some(db_url);
        pg_schema_made = Some(schema);
    }
    tweak(&mut config);
    let db_url = config.effective_database_url();
    let backend = backend::open(&db_url).await.unwrap();
    backend.migrate().await.unwrap();
    let server = http::start(config, backend.clone()).await.unwrap();
    TestServer {
        base: format!("http://{}", server.addr),
        backend,
        client: reqwest::Client::new(),
        server: Some(server),
        _dir: dir,
        pg_schema: pg_schema_made,
        db_url,
    }
}

impl TestServer {
    pub async fn till(&self, store: &str) -> Till {
        let token = token::generate().unwrap();
        let rec = self
            .backend
            .register_till(store, &token::hash_token(&token), Utc::now())
            .await
            .unwrap();
        Till { id: rec.id, token }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn upload_raw(
        &self,
        till: &Till,
        till_id: &str,
        events: &[EventEnvelope],
    ) -> reqwest::Response {
        let body = UploadRequest {
            till_id: till_id.to_string(),
            events: events.to_vec(),
        };
        self.client
            .post(self.url("/api/v1/events"))
            .bearer_auth(&till.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Uploads and returns the JSON answer with `server_time` removed.
    pub async fn upload(&self, till: &Till, events: &[EventEnvelope]) -> Value {
        let resp = self.upload_raw(till, &till.id, events).await;
        assert_eq!(resp.status(), 200, "upload failed");
        let mut v: Value = resp.json().await.unwrap();
        v.as_object_mut().unwrap().remove("server_time");
        v
    }

    pub async fn get(&self, till: &Till, path: &str) -> (u16, Value) {
        let resp = self
            .client
            .get(self.url(path))
            .bearer_auth(&till.token)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    pub async fn post(&self, till: &Till, path: &str, body: &Value) -> (u16, Value) {
        let resp = self
            .client
            .post(self.url(path))
            .bearer_auth(&till.token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    /// Rows in `table` (a name from the schema), read with SQL next to the backend.
    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        match self.db_url.strip_prefix("sqlite://") {
            Some(path) => {
                let c = rusqlite::Connection::open(path).unwrap();
                c.query_row(&sql, [], |r| r.get(0)).unwrap()
            }
            None => pg_client(&self.db_url)
                .await
                .query_one(sql.as_str(), &[])
                .await
                .unwrap()
                .get(0),
        }
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
        }
        if let Some(schema) = self.pg_schema.take() {
            drop(self.backend);
            let sql = format!("DROP SCHEMA {} CASCADE", schema.name);
            if let Err(e) = pg_client(&schema.url).await.batch_execute(&sql).await {
                eprintln!("could not drop test schema {}: {e}", schema.name);
            }
        }
    }
}

/// A fixed time in the past (so `min(recorded_at, received_at)` = recorded_at).
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 0).unwrap()
}

pub fn env(seq: i64, fact: Fact) -> EventEnvelope {
    EventEnvelope {
        seq,
        op_id: Uuid::now_v7(),
        recorded_at: t0() + Duration::minutes(seq),
        fact,
    }
}

pub fn enrol(account: &str, card: &str, welcome: i64) -> Fact {
    Fact::Enrol {
        customer_uid: format!("cust-{account}"),
        account_uid: account.to_string(),
        card: card.to_string(),
        profile: Profile {
            name: format!("Customer {account}"),
            phone: Some("+79161234567".into()),
            ..Profile::default()
        },
        referrer_uid: None,
        welcome_points: welcome,
        expiry_months: None,
    }
}

pub fn adjust(account: &str, points: i64) -> Fact {
    Fact::Adjust {
        account_uid: account.to_string(),
        points,
        reason: "test".into(),
        author: "owner".into(),
        expiry_months: None,
    }
}

pub fn sale(account: &str, card: &str, amount: i64, spent: i64, earned: i64) -> Fact {
    Fact::Sale {
        receipt_no: format!("R-{}", Uuid::now_v7()),
        card: card.to_string(),
        account_uid: account.to_string(),
        program_version: 1,
        lines: vec![BasketLine {
            sku: "CHECK".into(),
            category: None,
            qty: 1,
            amount,
        }],
        subtotal: amount,
        discount_total: 0,
        after_discounts: amount,
        points_spent: spent,
        to_pay: amount - spent * 100,
        earn: vec![EarnItem {
            kind: EarnKind::Purchase,
            reason: "5 %".into(),
            points: earned,
        }],
        referrer: None,
        hold_days: 0,
        expiry_months: None,
        stamps_after: 0,
        birthday_bonus_year: None,
        reservation_id: None,
        offline: true,
    }
}
