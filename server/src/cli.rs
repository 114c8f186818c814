//! The command line: `serve`, `till add|list|revoke`, `migrate`, `import`, `export`,
//! `owner token`, `program set|list`, `triggers`, `expire`.

use crate::backend::{self, Backend, BackendError};
use crate::commands;
use crate::config::{Config, ConfigError};
use crate::export::{ExportError, ExportOptions};
use crate::http::{self, ServeError};
use crate::import::input::{DelimiterChoice, Encoding, EncodingChoice};
use crate::import::{ImportError, ImportOptions};
use crate::token;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(name = "loyalty-server", version, about = "Central loyalty server")]
pub struct Cli {
    /// TOML configuration file (also `LOYALTY_CONFIG`).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the API (the default): creates ./server-data/server.db on first start.
    Serve,
    /// Manage tills.
    #[command(subcommand)]
    Till(TillCommand),
    /// Apply pending database migrations and list them.
    Migrate,
    /// Load members from a CSV file (all rows or none; the same file again is a no-op).
    Import(ImportArgs),
    /// Write every member as CSV (the columns `import` reads back).
    Export(ExportArgs),
    /// The owner's credential.
    #[command(subcommand)]
    Owner(OwnerCommand),
    /// Program versions.
    #[command(subcommand)]
    Program(ProgramCommand),
    /// Print a trigger list as CSV: birthdays | lapsed | welcome | shortfalls.
    Triggers {
        kind: String,
        /// The list's window in days.
        #[arg(long, default_value_t = 7)]
        days: i64,
    },
    /// Run the expiry sweep once (`serve` runs it every `expiry_sweep_secs`).
    Expire,
}

#[derive(Subcommand, Debug)]
pub enum OwnerCommand {
    /// Print a new owner token (shown once; the previous one stops working).
    Token,
}

#[derive(Subcommand, Debug)]
pub enum ProgramCommand {
    /// Publish FILE.json (a ProgramConfig) as the next version.
    Set {
        file: PathBuf,
        /// When it comes into force (RFC 3339).
        #[arg(long)]
        effective_from: String,
    },
    /// List the published versions.
    List,
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The CSV file (columns by header name: see server/README.md).
    pub file: PathBuf,
    /// auto (UTF-8 if valid, else Windows-1251), utf-8 or windows-1251.
    #[arg(long, default_value = "auto", value_parser = commands::parse_encoding_choice)]
    pub encoding: EncodingChoice,
    /// auto (from the header line), ';', ',' or tab.
    #[arg(long, default_value = "auto", value_parser = commands::parse_delimiter_choice)]
    pub delimiter: DelimiterChoice,
    /// Home store of members whose row names none.
    #[arg(long)]
    pub store: Option<String>,
    /// Country of phone numbers without a country code (default: the config's `region`).
    #[arg(long)]
    pub region: Option<String>,
    /// Check everything, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Skip columns the import does not know instead of refusing the file.
    #[arg(long)]
    pub ignore_unknown_columns: bool,
    /// No progress bars.
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// Output file (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// ';', ',' or tab.
    #[arg(long, default_value = ";", value_parser = commands::parse_delimiter)]
    pub delimiter: u8,
    /// utf-8 or windows-1251.
    #[arg(long, default_value = "utf-8", value_parser = commands::parse_encoding)]
    pub encoding: Encoding,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Subcommand, Debug)]
pub enum TillCommand {
    /// Register a till: prints its id and its device token (shown once).
    Add {
        #[arg(long)]
        store: String,
    },
    /// List tills.
    List,
    /// Revoke a till's token.
    Revoke { id: String },
}

/// Any failure of a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("cannot generate a token: {0}")]
    Random(String),
    #[error(transparent)]
    Owner(#[from] crate::owner::OwnerError),
    #[error(transparent)]
    Analytics(#[from] crate::backend::analytics::AnalyticsError),
    #[error("{0}")]
    Usage(String),
}

impl CliError {
    pub fn code(&self) -> &'static str {
        match self {
            CliError::Config(e) => e.code(),
            CliError::Backend(e) => e.code(),
            CliError::Serve(e) => e.code(),
            CliError::Import(e) => e.code(),
            CliError::Export(e) => e.code(),
            CliError::Random(_) => "RANDOM",
            CliError::Owner(e) => e.code(),
            CliError::Analytics(e) => e.code(),
            CliError::Usage(_) => "USAGE",
        }
    }
}

async fn open_migrated(config: &Config) -> Result<Arc<dyn Backend>, CliError> {
    let backend = backend::open(&config.effective_database_url()).await?;
    for m in backend.migrate().await? {
        if m.newly_applied {
            tracing::info!(version = m.version, name = %m.name, "migration applied");
        }
    }
    Ok(backend)
}

/// Runs a parsed command line with a loaded configuration.
pub async fn run(cli: Cli, config: Config) -> Result<(), CliError> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let backend = backend::open(&config.effective_database_url()).await?;
            for m in backend.migrate().await? {
                let state = if m.newly_applied {
                    "applied now"
                } else {
                    "already applied"
                };
                println!("{:04} {} ({state})", m.version, m.name);
            }
            Ok(())
        }
        Command::Till(TillCommand::Add { store }) => {
            let store = store.trim();
            if store.is_empty() {
                return Err(CliError::Usage("--store must not be empty".into()));
            }
            let backend = open_migrated(&config).await?;
            let token = token::generate().map_err(|e| CliError::Random(e.to_string()))?;
            let till = backend
                .register_till(store, &token::hash_token(&token), chrono::Utc::now())
                .await?;
            println!("till_id: {}", till.id);
            println!("store:   {} ({})", till.store_name, till.store_id);
            println!("token:   {token}");
            println!("(the token is shown only this once: configure it on the till now)");
            Ok(())
        }
        Command::Till(TillCommand::List) => {
            let backend = open_migrated(&config).await?;
            for t in backend.list_tills().await? {
                let state = if t.revoked { "revoked" } else { "active" };
                println!(
                    "{}\t{}\t{state}\tlast_seq={}\tcreated={}",
                    t.id,
                    t.store_name,
                    t.last_seq,
                    t.created_at.to_rfc3339()
                );
            }
            Ok(())
        }
        Command::Import(a) => {
            let backend = open_migrated(&config).await?;
            let opts = ImportOptions {
                path: a.file,
                encoding: a.encoding,
                delimiter: a.delimiter,
                store: a.store.filter(|s| !s.trim().is_empty()),
                region: a.region.unwrap_or(config.region),
                dry_run: a.dry_run,
                ignore_unknown_columns: a.ignore_unknown_columns,
                progress: commands::progress_wanted(a.no_progress),
                watch: None,
            };
            Ok(commands::import(backend, opts).await?)
        }
        Command::Export(a) => {
            let backend = open_migrated(&config).await?;
            let opts = ExportOptions {
                out: a.out,
                delimiter: a.delimiter,
                encoding: a.encoding,
                progress: commands::progress_wanted(a.no_progress),
            };
            Ok(commands::export(backend, opts).await?)
        }
        Command::Owner(OwnerCommand::Token) => {
            let backend = open_migrated(&config).await?;
            let token = token::generate_owner().map_err(|e| CliError::Random(e.to_string()))?;
            crate::owner::set_owner_token(
                backend.as_ref(),
                &token::hash_token(&token),
                chrono::Utc::now(),
            )
            .await?;
            println!("owner token: {token}");
            println!("(shown only this once; the previous owner token no longer works)");
            Ok(())
        }
        Command::Program(ProgramCommand::Set {
            file,
            effective_from,
        }) => {
            let effective_from = chrono::DateTime::parse_from_rfc3339(effective_from.trim())
                .map_err(|e| CliError::Usage(format!("--effective-from: {e}")))?
                .with_timezone(&chrono::Utc);
            let text = std::fs::read_to_string(&file)
                .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
            let program: loyalty_domain::ProgramConfig = serde_json::from_str(&text)
                .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
            let backend = open_migrated(&config).await?;
            let req = loyalty_wire::PublishProgramRequest {
                effective_from,
                config: program,
            };
            let p =
                crate::owner::publish_program(backend.as_ref(), req, chrono::Utc::now()).await?;
            println!(
                "published program version {} (in force from {}, gseq {})",
                p.version,
                p.effective_from.to_rfc3339(),
                p.gseq
            );
            Ok(())
        }
        Command::Program(ProgramCommand::List) => {
            let backend = open_migrated(&config).await?;
            for p in crate::owner::programs(backend.as_ref()).await? {
                println!(
                    "{}\tfrom {}\tgseq {}\tpublished {}",
                    p.version,
                    p.effective_from.to_rfc3339(),
                    p.gseq,
                    p.created_at.to_rfc3339()
                );
            }
            Ok(())
        }
        Command::Triggers { kind, days } => {
            let k = loyalty_wire::TriggerKind::parse(kind.trim()).ok_or_else(|| {
                CliError::Usage(format!(
                    "kind must be birthdays, lapsed, welcome or shortfalls (got {kind:?})"
                ))
            })?;
            let backend = open_migrated(&config).await?;
            let (_, rows) =
                crate::owner::trigger_list(backend.as_ref(), k, Some(days), chrono::Utc::now())
                    .await?;
            use std::io::Write;
            std::io::stdout()
                .write_all(&crate::backend::analytics::triggers::csv(&rows))
                .map_err(|e| CliError::Usage(format!("cannot write: {e}")))?;
            eprintln!("{} customers", rows.len());
            Ok(())
        }
        Command::Expire => {
            let backend = open_migrated(&config).await?;
            let o = backend.expire_due(chrono::Utc::now()).await?;
            println!("expired {} points on {} accounts", o.points, o.accounts);
            Ok(())
        }
        Command::Till(TillCommand::Revoke { id }) => {
            let backend = open_migrated(&config).await?;
            let t = backend.revoke_till(&id, chrono::Utc::now()).await?;
            println!("revoked till {} of store {}", t.id, t.store_name);
            Ok(())
        }
    }
}

async fn serve(config: Config) -> Result<(), CliError> {
    let backend = open_migrated(&config).await?;
    tracing::info!(
        backend = backend.kind(),
        database = %config.effective_database_url(),
        "database ready"
    );
    let sweep = spawn_expiry_sweep(backend.clone(), config.expiry_sweep_secs);
    let server = http::start(config, backend).await?;
    let handle = server.handle();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("shutting down");
            handle.graceful_shutdown(Some(Duration::from_secs(10)));
        }
    });
    let out = server.wait().await;
    if let Some(s) = sweep {
        s.abort();
    }
    out?;
    Ok(())
}

/// Runs the expiry sweep at start and then every `secs` seconds (0: never).
pub fn spawn_expiry_sweep(
    backend: Arc<dyn Backend>,
    secs: u64,
) -> Option<tokio::task::JoinHandle<()>> {
    if secs == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match backend.expire_due(chrono::Utc::now()).await {
                Ok(o) if o.accounts > 0 => {
                    tracing::info!(accounts = o.accounts, points = o.points, "points expired")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(code = e.code(), error = %e, "expiry sweep failed"),
            }
        }
    }))
}
