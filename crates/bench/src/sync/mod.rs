//! `loyalty-bench sync`: the central server and the till sync under load, end to end on
//! one machine — the real server (`loyalty_server::http::router` over the SQLite backend,
//! axum on 127.0.0.1), real till stores (SQLite files) and the real sync
//! (`loyalty_sync::HttpTransport`, `Syncer`, `SyncEngine`). Four measurements, each on a
//! fresh server in its own directory of one temporary directory: [`converge`], [`ingest`],
//! [`bootstrap`], [`accruals`]. See `args::USAGE`.

pub mod accruals;
pub mod args;
pub mod bootstrap;
pub mod check;
pub mod converge;
pub mod ingest;
pub mod load;
pub mod members;
pub mod prepare;
pub mod report;
pub mod server;
pub mod till;

#[cfg(test)]
mod tests;

use std::path::Path;

use args::{Scenario, SyncArgs};
use report::SyncReport;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Runs the selected measurements; temporary files are removed at the end.
pub fn run(a: &SyncArgs) -> Result<SyncReport, String> {
    let parent = a.data_dir.clone().unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix("loyalty-bench-sync-")
        .tempdir_in(&parent)
        .map_err(err)?;
    eprintln!("sync benchmark in {}", tmp.path().display());
    let mut report = SyncReport {
        full_size: a.full_size(),
        ..SyncReport::default()
    };
    for s in Scenario::ALL.into_iter().filter(|s| a.runs(*s)) {
        let dir = tmp.path().join(s.name());
        std::fs::create_dir_all(&dir).map_err(err)?;
        match s {
            Scenario::Converge => report.converge = Some(converge::run(&dir, a)?),
            Scenario::Ingest => report.ingest = Some(ingest::run(&dir, a)?),
            Scenario::Bootstrap => report.bootstrap = Some(bootstrap::run(&dir, a)?),
            Scenario::Accruals => report.accruals = Some(accruals::run(&dir, a)?),
        }
        remove(&dir)?;
    }
    Ok(report)
}

fn remove(dir: &Path) -> Result<(), String> {
    std::fs::remove_dir_all(dir).map_err(|e| format!("removing {}: {e}", dir.display()))
}
