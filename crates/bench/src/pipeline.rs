//! The `store` benchmark end to end: generate or reuse, measure (in a fresh child process
//! unless `--in-process`), report.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::cli::StoreArgs;
use crate::generate;
use crate::measure::{self, Measurement};
use crate::report::Report;

/// Prefix of the child's result line on its stdout.
pub const MEASUREMENT_PREFIX: &str = "MEASUREMENT ";

pub fn run_store(args: &StoreArgs) -> Result<Report, String> {
    let generated = generate::ensure(&args.db_path(), args.members, args.regenerate)?;
    let (m, child_process) = if args.in_process {
        (measure::run(&generated.path, args, false)?, false)
    } else {
        (measure_in_child(&generated.path, args)?, true)
    };
    Ok(Report {
        generated,
        m,
        child_process,
    })
}

/// Re-executes this binary as `store-measure`, so the reported RSS is the store's alone.
fn measure_in_child(db: &Path, args: &StoreArgs) -> Result<Measurement, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let out = Command::new(exe)
        .arg("store-measure")
        .arg("--db")
        .arg(db)
        .args(["--members", &args.members.to_string()])
        .args(["--lookups", &args.lookups.to_string()])
        .args(["--checkouts", &args.checkouts.to_string()])
        .args(["--warmup", &args.warmup.to_string()])
        .args(["--seed", &args.seed.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("starting the measurement process: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("the measurement process failed ({})", out.status));
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(MEASUREMENT_PREFIX))
        .ok_or("the measurement process printed no result")?;
    serde_json::from_str(line).map_err(|e| format!("measurement result: {e}"))
}
