//! `loyalty-server import FILE.csv`: a shop's existing members loaded from a CSV file.
//!
//! 1. [`input::scan`]: the file's SHA-256 (the import id), encoding, delimiter.
//! 2. The import id already applied: nothing to do ([`ImportOutcome::AlreadyImported`]).
//! 3. Every row validated ([`validate`]), then the file as a whole (duplicates) and against
//!    the server ([`server_check`]). Any error: nothing is imported, the report is printed
//!    and written next to the file ([`report`]).
//! 4. The rows become server-origin facts ([`facts`]) applied in ONE transaction by
//!    [`Backend::apply_server_batch`] as a second read of the file hands them out
//!    ([`source`]): all or nothing, and the same file again is a no-op.

pub mod columns;
pub mod facts;
pub mod fields;
pub mod input;
pub mod report;
pub mod server_check;
mod source;
pub mod validate;

use crate::backend::{Backend, BackendError, BatchRecord, ServerBatch, ServerBatchOutcome};
use crate::progress;
use chrono::{DateTime, Utc};
use columns::Header;
use csv::StringRecord;
use input::{DelimiterChoice, Encoding, EncodingChoice, Scanned};
use report::ErrorList;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use validate::{check_row, RowContext, Tally};

/// Why an import could not run at all (row problems are an [`ImportOutcome::Invalid`]).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{0}")]
    Encoding(String),
    #[error("{0} has no header row")]
    Empty(PathBuf),
    #[error("{0} changed during the import: nothing was imported, run it again")]
    Changed(PathBuf),
    #[error("cannot write the error report {path}: {message}")]
    Report { path: PathBuf, message: String },
    #[error("{0}")]
    Usage(String),
    #[error("invalid rows ({rows}): nothing was imported (report: {report})")]
    Invalid { rows: usize, report: PathBuf },
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error("import worker failed: {0}")]
    Task(String),
}

impl ImportError {
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Read { .. } => "IMPORT_READ",
            ImportError::Encoding(_) => "IMPORT_ENCODING",
            ImportError::Empty(_) => "IMPORT_EMPTY",
            ImportError::Changed(_) => "IMPORT_FILE_CHANGED",
            ImportError::Report { .. } => "IMPORT_REPORT",
            ImportError::Usage(_) => "USAGE",
            ImportError::Invalid { .. } => "IMPORT_INVALID",
            ImportError::Backend(e) => e.code(),
            ImportError::Task(_) => "IMPORT_TASK",
        }
    }
}

/// What to import and how.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub path: PathBuf,
    pub encoding: EncodingChoice,
    pub delimiter: DelimiterChoice,
    /// Home store of members whose row names none.
    pub store: Option<String>,
    /// Region of phones without a country code.
    pub region: String,
    /// Validate only.
    pub dry_run: bool,
    pub ignore_unknown_columns: bool,
    /// Progress bars on stderr.
    pub progress: bool,
    /// Follows the phases' progress (the HTTP import job).
    pub watch: Option<progress::Watch>,
}

/// The file's figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Hex SHA-256 of the file.
    pub import_id: String,
    pub encoding: Encoding,
    pub delimiter: u8,
    /// Data rows read (the header not counted), blank ones included.
    pub rows: u64,
    pub blank_rows: u64,
    pub members: u64,
    /// Facts the members become.
    pub events: u64,
    pub cards_generated: u64,
    pub opening_points: i128,
    /// Rows whose pending points were not imported.
    pub pending_ignored_rows: u64,
}

/// How an import ended.
#[derive(Debug)]
pub enum ImportOutcome {
    Imported {
        summary: Summary,
        record: BatchRecord,
        /// Time spent applying (validation excluded).
        applying: Duration,
        total: Duration,
    },
    /// This file was imported before: nothing changed.
    AlreadyImported { record: BatchRecord },
    /// `--dry-run`: valid, nothing written.
    DryRun { summary: Summary },
    /// Rows are invalid: nothing imported; the report was written to `report`.
    Invalid {
        summary: Summary,
        errors: ErrorList,
        report: PathBuf,
    },
}

async fn blocking<T, F>(f: F) -> Result<T, ImportError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ImportError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ImportError::Task(e.to_string()))?
}

/// Reads the header and checks every row (the first pass).
fn validate_rows(
    scanned: &Scanned,
    opts: &ImportOptions,
    now: DateTime<Utc>,
) -> Result<(RowContext, Tally, bool), ImportError> {
    let bar = progress::bar(
        opts.progress,
        scanned.size,
        "validating",
        progress::Unit::Bytes,
    );
    if let Some(w) = &opts.watch {
        w.follow("validating", &bar);
    }
    let counted = bar.clone();
    let mut reader = input::open(scanned, Box::new(move |n| counted.inc(n)))?;
    let read = |e: csv::Error| ImportError::Read {
        path: scanned.path.clone(),
        message: e.to_string(),
    };
    let mut record = StringRecord::new();
    if !reader.read_record(&mut record).map_err(read)? {
        return Err(ImportError::Empty(scanned.path.clone()));
    }
    let names = record.iter().map(str::to_string).collect();
    let (header, header_errors) = Header::map(names, opts.ignore_unknown_columns);
    let usable = !header_errors.iter().any(|e| e.code == "NO_KEY_COLUMN");
    let ctx = RowContext {
        header,
        region: opts.region.clone(),
        default_store: opts.store.clone(),
        now,
    };
    let mut tally = Tally::default();
    tally.errors.extend(header_errors);
    if usable {
        while reader.read_record(&mut record).map_err(read)? {
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            tally.add(&ctx, check_row(&ctx, line, &record));
        }
    }
    bar.finish_and_clear();
    Ok((ctx, tally, usable))
}

fn summary(scanned: &Scanned, t: &Tally) -> Summary {
    Summary {
        import_id: scanned.sha256.clone(),
        encoding: scanned.encoding,
        delimiter: scanned.delimiter,
        rows: t.rows,
        blank_rows: t.blank_rows,
        members: t.members,
        events: t.events,
        cards_generated: t.cards_to_generate,
        opening_points: t.opening_points,
        pending_ignored_rows: t.pending_ignored_rows,
    }
}

pub fn check_region(region: &str) -> Result<(), ImportError> {
    loyalty_cards::phone::normalize("+79161234567", region)
        .map(|_| ())
        .map_err(|_| ImportError::Usage(format!("unknown region {region:?} (e.g. RU, BG)")))
}

/// Runs an import at `now` (see the module doc).
pub async fn run(
    backend: Arc<dyn Backend>,
    opts: ImportOptions,
    now: DateTime<Utc>,
) -> Result<ImportOutcome, ImportError> {
    let started = Instant::now();
    check_region(&opts.region)?;
    let (path, enc, delim) = (opts.path.clone(), opts.encoding, opts.delimiter);
    let scanned = blocking(move || input::scan(&path, enc, delim)).await?;
    if let Some(record) = backend.server_batch(&scanned.sha256).await? {
        return Ok(ImportOutcome::AlreadyImported { record });
    }
    let (s, o) = (scanned.clone(), opts.clone());
    let (ctx, mut tally, usable) = blocking(move || validate_rows(&s, &o, now)).await?;
    let next_serial = if usable {
        server_check::check(
            backend.as_ref(),
            &ctx.header,
            &mut tally,
            opts.progress,
            opts.watch.as_ref(),
        )
        .await?
    } else {
        1
    };
    let summary = summary(&scanned, &tally);
    let report = report::report_path(&opts.path);
    if !tally.errors.is_empty() {
        tally.errors.sort();
        report::write_report(&report, &tally.errors, scanned.delimiter).map_err(|e| {
            ImportError::Report {
                path: report.clone(),
                message: e.to_string(),
            }
        })?;
        return Ok(ImportOutcome::Invalid {
            summary,
            errors: tally.errors,
            report,
        });
    }
    if opts.dry_run {
        return Ok(ImportOutcome::DryRun { summary });
    }
    let maker = facts::FactMaker::new(&scanned.sha256, now, next_serial, Arc::new(tally.cards));
    let bar = progress::bar(
        opts.progress,
        tally.events,
        "importing",
        progress::Unit::Items,
    );
    if let Some(w) = &opts.watch {
        w.follow("importing", &bar);
    }
    let source = source::ImportSource::new(scanned.clone(), ctx, maker, bar.clone());
    let batch = ServerBatch {
        id: scanned.sha256.clone(),
        kind: "import".into(),
        label: file_label(&opts.path),
        received_at: now,
    };
    let applying = Instant::now();
    let outcome = backend.apply_server_batch(batch, Box::new(source)).await;
    bar.finish_and_clear();
    match outcome? {
        ServerBatchOutcome::AlreadyApplied(record) => Ok(ImportOutcome::AlreadyImported { record }),
        ServerBatchOutcome::Applied(record) => {
            // A report of an earlier, failed attempt no longer describes the file.
            if report.exists() {
                let _ = std::fs::remove_file(&report);
            }
            Ok(ImportOutcome::Imported {
                summary,
                record,
                applying: applying.elapsed(),
                total: started.elapsed(),
            })
        }
    }
}

fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
