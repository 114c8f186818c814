//! Server configuration: defaults, then a TOML file (`--config PATH` or `LOYALTY_CONFIG`),
//! then environment variables (`LOYALTY_LISTEN`, `LOYALTY_DATA_DIR`,
//! `LOYALTY_DATABASE_URL`, `LOYALTY_TLS_CERT`, `LOYALTY_TLS_KEY`, `LOYALTY_LOG`,
//! `LOYALTY_REGION`).
//! A later layer overrides an earlier one field by field.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Errors while building the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name}={value:?} is not valid: {message}")]
    Env {
        name: &'static str,
        value: String,
        message: String,
    },
    #[error("TLS needs both a certificate and a key (only the {0} is set)")]
    TlsHalf(&'static str),
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    #[error("{field} is not valid: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl ConfigError {
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::Read { .. } => "CONFIG_READ",
            ConfigError::Parse { .. } => "CONFIG_PARSE",
            ConfigError::Env { .. } => "CONFIG_ENV",
            ConfigError::TlsHalf(_) => "CONFIG_TLS_HALF",
            ConfigError::Zero(_) => "CONFIG_ZERO",
            ConfigError::Invalid { .. } => "CONFIG_INVALID",
        }
    }
}

/// Certificate chain and private key, both PEM files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The effective configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Address to listen on (default `0.0.0.0:8080`: tills are on other machines).
    pub listen: SocketAddr,
    /// Where the server keeps its files (default `./server-data`).
    pub data_dir: PathBuf,
    /// `sqlite://PATH` (or a plain path) or `postgres://...`; default
    /// `sqlite://<data_dir>/server.db`.
    pub database_url: Option<String>,
    /// HTTPS when set; plain HTTP otherwise (behind a TLS proxy, or on a trusted LAN).
    pub tls: Option<TlsConfig>,
    /// Largest request body (default 8 MiB).
    pub body_limit_bytes: usize,
    /// Wrong tokens allowed per client address per minute before 429 (default 10).
    pub auth_failures_per_minute: u32,
    /// How long a points reservation holds (default 600 s).
    pub reservation_ttl_secs: u64,
    /// Seconds between two runs of the expiry sweep in `serve` (default 3600; 0 = never;
    /// file key `expiry_sweep_secs`, env `LOYALTY_EXPIRY_SWEEP_SECS`).
    pub expiry_sweep_secs: u64,
    /// `tracing` filter (default `info`); `RUST_LOG` wins when set.
    pub log: String,
    /// Country (ISO 3166 alpha-2) of phone numbers written without a country code, for
    /// `import` (default `RU`).
    pub region: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            data_dir: PathBuf::from("server-data"),
            database_url: None,
            tls: None,
            body_limit_bytes: 8 * 1024 * 1024,
            auth_failures_per_minute: 10,
            reservation_ttl_secs: 600,
            expiry_sweep_secs: 3600,
            log: "info".to_string(),
            region: "RU".to_string(),
        }
    }
}

/// The TOML file: every field optional, unknown keys refused.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    body_limit_bytes: Option<usize>,
    auth_failures_per_minute: Option<u32>,
    reservation_ttl_secs: Option<u64>,
    expiry_sweep_secs: Option<u64>,
    log: Option<String>,
    region: Option<String>,
}

impl Config {
    /// Builds the configuration from the process environment and the optional file
    /// (`cli_path`, else `LOYALTY_CONFIG`).
    pub fn load(cli_path: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load_with(cli_path, &|name| std::env::var(name).ok())
    }

    /// Same as [`Config::load`] with an injectable environment (for tests).
    pub fn load_with(
        cli_path: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut cfg = Config::default();
        let (mut cert, mut key) = (None, None);
        let file_path = cli_path.map(Path::to_path_buf).or_else(|| {
            env("LOYALTY_CONFIG")
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
        });
        if let Some(path) = file_path {
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            let file: FileConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
                path: path.clone(),
                message: e.message().to_string(),
            })?;
            cfg.apply_file(file, &mut cert, &mut key);
        }
        cfg.apply_env(env, &mut cert, &mut key)?;
        cfg.tls = match (cert, key) {
            (Some(cert), Some(key)) => Some(TlsConfig { cert, key }),
            (None, None) => None,
            (Some(_), None) => return Err(ConfigError::TlsHalf("certificate")),
            (None, Some(_)) => return Err(ConfigError::TlsHalf("key")),
        };
        cfg.validate()?;
        Ok(cfg)
    }

    fn apply_file(&mut self, f: FileConfig, cert: &mut Option<PathBuf>, key: &mut Option<PathBuf>) {
        if let Some(v) = f.listen {
            self.listen = v;
        }
        if let Some(v) = f.data_dir {
            self.data_dir = v;
        }
        if let Some(v) = f.database_url {
            self.database_url = Some(v);
        }
        if let Some(v) = f.body_limit_bytes {
            self.body_limit_bytes = v;
        }
        if let Some(v) = f.auth_failures_per_minute {
            self.auth_failures_per_minute = v;
        }
        if let Some(v) = f.reservation_ttl_secs {
            self.reservation_ttl_secs = v;
        }
        if let Some(v) = f.expiry_sweep_secs {
            self.expiry_sweep_secs = v;
        }
        if let Some(v) = f.log {
            self.log = v;
        }
        if let Some(v) = f.region {
            self.region = v;
        }
        *cert = f.tls_cert.or(cert.take());
        *key = f.tls_key.or(key.take());
    }

    fn apply_env(
        &mut self,
        env: &dyn Fn(&str) -> Option<String>,
        cert: &mut Option<PathBuf>,
        key: &mut Option<PathBuf>,
    ) -> Result<(), ConfigError> {
        let get = |name: &str| env(name).filter(|s| !s.trim().is_empty());
        if let Some(v) = get("LOYALTY_EXPIRY_SWEEP_SECS") {
            self.expiry_sweep_secs =
                v.trim()
                    .parse()
                    .map_err(|e: std::num::ParseIntError| ConfigError::Env {
                        name: "LOYALTY_EXPIRY_SWEEP_SECS",
                        value: v.clone(),
                        message: e.to_string(),
                    })?;
        }
        if let Some(v) = get("LOYALTY_LISTEN") {
            self.listen =
                v.trim()
                    .parse()
                    .map_err(|e: std::net::AddrParseError| ConfigError::Env {
                        name: "LOYALTY_LISTEN",
                        value: v.clone(),
                        message: e.to_string(),
                    })?;
        }
        if let Some(v) = get("LOYALTY_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("LOYALTY_DATABASE_URL") {
            self.database_url = Some(v);
        }
        if let Some(v) = get("LOYALTY_TLS_CERT") {
            *cert = Some(PathBuf::from(v));
        }
        if let Some(v) = get("LOYALTY_TLS_KEY") {
            *key = Some(PathBuf::from(v));
        }
        if let Some(v) = get("LOYALTY_LOG") {
            self.log = v;
        }
        if let Some(v) = get("LOYALTY_REGION") {
            self.region = v;
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.body_limit_bytes == 0 {
            return Err(ConfigError::Zero("body_limit_bytes"));
        }
        if self.auth_failures_per_minute == 0 {
            return Err(ConfigError::Zero("auth_failures_per_minute"));
        }
        if self.reservation_ttl_secs == 0 {
            return Err(ConfigError::Zero("reservation_ttl_secs"));
        }
        let region = self.region.trim();
        if region.len() != 2 || !region.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(ConfigError::Invalid {
                field: "region",
                message: format!("{region:?} is not a two-letter country code"),
            });
        }
        Ok(())
    }

    /// The database URL in force: the configured one or the SQLite file in `data_dir`.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("server.db").display()),
        }
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
