//! Members imports started over HTTP (`POST /api/v1/members/import`): the uploaded bytes go
//! to a temp file and [`import::run`] imports it in a background task, exactly as
//! `loyalty-server import` does (every row checked first, then one all-or-nothing write);
//! the owner polls the job for its phase, progress and finished report.
//!
//! One import runs at a time (a second is refused with `IMPORT_BUSY`). Jobs live in memory:
//! the last [`KEPT_JOBS`] are kept, finished ones for [`KEPT_FOR`].

use crate::backend::Backend;
use crate::import::input::{DelimiterChoice, Encoding, EncodingChoice};
use crate::import::{self, ImportError, ImportOptions, ImportOutcome};
use crate::progress::Watch;
use chrono::Utc;
use loyalty_wire::{
    ImportFailure, ImportJob, ImportPhase, ImportReport, ImportRowError, ImportStatus,
    IMPORT_ERRORS_LISTED,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Jobs remembered at most.
pub const KEPT_JOBS: usize = 64;
/// How long a finished job stays readable.
pub const KEPT_FOR: Duration = Duration::from_secs(3600);

/// Why a job cannot start.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("another members import is running (job {0}): wait until it finishes")]
    Busy(String),
    #[error("the file is empty")]
    Empty,
    #[error("{0}")]
    BadOption(String),
    #[error("no import job {0}")]
    NotFound(String),
    #[error("cannot create a job id: {0}")]
    Random(String),
}

impl JobError {
    pub fn code(&self) -> &'static str {
        match self {
            JobError::Busy(_) => "IMPORT_BUSY",
            JobError::Empty => "IMPORT_EMPTY",
            JobError::BadOption(_) => "BAD_QUERY",
            JobError::NotFound(_) => "IMPORT_JOB_NOT_FOUND",
            JobError::Random(_) => "RANDOM",
        }
    }
}

/// How to read the uploaded file.
#[derive(Clone, Debug)]
pub struct JobOptions {
    pub encoding: EncodingChoice,
    pub delimiter: DelimiterChoice,
    pub store: Option<String>,
    pub region: String,
}

struct Job {
    created: Instant,
    bytes: u64,
    watch: Watch,
    /// `None` while it runs.
    finished: Option<(Instant, Result<ImportReport, ImportFailure>)>,
}

impl Job {
    fn view(&self, id: &str) -> ImportJob {
        let (phase, done, total) = match (&self.finished, self.watch.now()) {
            (Some(_), _) => (ImportPhase::Done, 0, 0),
            (None, None) => (ImportPhase::Queued, 0, self.bytes),
            (None, Some((p, done, total))) => (phase(p), done, total),
        };
        let mut job = ImportJob {
            id: id.to_string(),
            phase,
            done,
            total,
            bytes: self.bytes,
            report: None,
            failure: None,
        };
        match &self.finished {
            Some((_, Ok(r))) => {
                job.done = r.rows;
                job.total = r.rows;
                job.report = Some(r.clone());
            }
            Some((_, Err(f))) => {
                job.phase = ImportPhase::Failed;
                job.failure = Some(f.clone());
            }
            None => {}
        }
        job
    }
}

fn phase(p: &str) -> ImportPhase {
    match p {
        "validating" => ImportPhase::Validating,
        "checking" => ImportPhase::Checking,
        _ => ImportPhase::Importing,
    }
}

/// The server's import jobs.
#[derive(Default)]
pub struct ImportJobs {
    jobs: Mutex<HashMap<String, Job>>,
}

fn new_id() -> Result<String, JobError> {
    let mut bytes = [0u8; 12];
    getrandom::getrandom(&mut bytes).map_err(|e| JobError::Random(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn lock(jobs: &Mutex<HashMap<String, Job>>) -> std::sync::MutexGuard<'_, HashMap<String, Job>> {
    jobs.lock().unwrap_or_else(|p| p.into_inner())
}

impl ImportJobs {
    /// Starts importing `bytes` in the background; the job as it starts.
    pub fn start(
        self: &Arc<Self>,
        backend: Arc<dyn Backend>,
        bytes: Vec<u8>,
        opts: JobOptions,
    ) -> Result<ImportJob, JobError> {
        if bytes.is_empty() {
            return Err(JobError::Empty);
        }
        import::check_region(&opts.region).map_err(|e| JobError::BadOption(e.to_string()))?;
        let id = new_id()?;
        let watch = Watch::default();
        let view = {
            let mut jobs = lock(&self.jobs);
            if let Some((running, _)) = jobs.iter().find(|(_, j)| j.finished.is_none()) {
                return Err(JobError::Busy(running.clone()));
            }
            jobs.retain(|_, j| {
                j.finished
                    .as_ref()
                    .is_some_and(|(t, _)| t.elapsed() < KEPT_FOR)
            });
            while jobs.len() >= KEPT_JOBS {
                let oldest = jobs
                    .iter()
                    .min_by_key(|(_, j)| j.created)
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => jobs.remove(&k),
                    None => break,
                };
            }
            let job = Job {
                created: Instant::now(),
                bytes: bytes.len() as u64,
                watch: watch.clone(),
                finished: None,
            };
            let view = job.view(&id);
            jobs.insert(id.clone(), job);
            view
        };
        let me = Arc::clone(self);
        let job_id = id.clone();
        tokio::spawn(async move {
            let result = run(backend, bytes, opts, watch).await;
            if let Err(f) = &result {
                tracing::warn!(job = %job_id, code = %f.code, "members import failed: {}", f.message);
            }
            if let Some(job) = lock(&me.jobs).get_mut(&job_id) {
                job.finished = Some((Instant::now(), result));
            }
        });
        Ok(view)
    }

    /// The job `id` now.
    pub fn get(&self, id: &str) -> Result<ImportJob, JobError> {
        lock(&self.jobs)
            .get(id)
            .map(|j| j.view(id))
            .ok_or_else(|| JobError::NotFound(id.chars().take(64).collect()))
    }
}

fn failure(code: &str, message: impl Into<String>) -> ImportFailure {
    ImportFailure {
        code: code.to_string(),
        message: message.into(),
    }
}

/// Writes the file to a temp dir and imports it.
async fn run(
    backend: Arc<dyn Backend>,
    bytes: Vec<u8>,
    opts: JobOptions,
    watch: Watch,
) -> Result<ImportReport, ImportFailure> {
    let dir = tempfile::Builder::new()
        .prefix("loyalty-import-")
        .tempdir()
        .map_err(|e| failure("IMPORT_READ", format!("cannot create a temp dir: {e}")))?;
    let path = dir.path().join("members.csv");
    let written = path.clone();
    tokio::task::spawn_blocking(move || std::fs::write(&written, &bytes))
        .await
        .map_err(|e| failure("IMPORT_TASK", e.to_string()))?
        .map_err(|e| failure("IMPORT_READ", format!("cannot keep the upload: {e}")))?;
    let options = ImportOptions {
        path,
        encoding: opts.encoding,
        delimiter: opts.delimiter,
        store: opts.store,
        region: opts.region,
        dry_run: false,
        ignore_unknown_columns: false,
        progress: false,
        watch: Some(watch),
    };
    let outcome = import::run(backend, options, Utc::now()).await;
    drop(dir);
    outcome.map(report).map_err(|e| match e {
        // The file is the server's own temp copy: name no path.
        ImportError::Empty(_) => failure(e.code(), "the file has no header row"),
        ImportError::Read { ref message, .. } => failure(e.code(), message.clone()),
        other => failure(other.code(), other.to_string()),
    })
}

fn delimiter_name(d: u8) -> String {
    match d {
        b'\t' => "tab".into(),
        other => (other as char).to_string(),
    }
}

fn encoding_name(e: Encoding) -> String {
    e.name().to_string()
}

fn report(outcome: ImportOutcome) -> ImportReport {
    let empty = |status| ImportReport {
        status,
        encoding: String::new(),
        delimiter: String::new(),
        rows: 0,
        imported: 0,
        cards_generated: 0,
        errors: Vec::new(),
        errors_total: 0,
    };
    match outcome {
        ImportOutcome::AlreadyImported { .. } => empty(ImportStatus::AlreadyImported),
        ImportOutcome::Imported { summary, .. } | ImportOutcome::DryRun { summary } => {
            ImportReport {
                encoding: encoding_name(summary.encoding),
                delimiter: delimiter_name(summary.delimiter),
                rows: summary.rows,
                imported: summary.members,
                cards_generated: summary.cards_generated,
                ..empty(ImportStatus::Imported)
            }
        }
        ImportOutcome::Invalid {
            summary, errors, ..
        } => ImportReport {
            encoding: encoding_name(summary.encoding),
            delimiter: delimiter_name(summary.delimiter),
            rows: summary.rows,
            errors: errors
                .errors
                .iter()
                .take(IMPORT_ERRORS_LISTED)
                .map(|e| ImportRowError {
                    line: e.line,
                    column: e.column.clone(),
                    value: e.value.clone(),
                    code: e.code.to_string(),
                    message: e.message.clone(),
                })
                .collect(),
            errors_total: errors.total,
            ..empty(ImportStatus::Invalid)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> JobOptions {
        JobOptions {
            encoding: EncodingChoice::Auto,
            delimiter: DelimiterChoice::Auto,
            store: None,
            region: "RU".into(),
        }
    }

    #[tokio::test]
    async fn one_import_at_a_time_and_jobs_are_kept_for_reading() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("server.db").display());
        let backend = crate::backend::open(&url).await.unwrap();
        backend.migrate().await.unwrap();
        let jobs = Arc::new(ImportJobs::default());
        // A job still running (its task not finished) holds the import.
        lock(&jobs.jobs).insert(
            "running".into(),
            Job {
                created: Instant::now(),
                bytes: 10,
                watch: Watch::default(),
                finished: None,
            },
        );
        let busy = jobs
            .start(backend.clone(), b"phone\n".to_vec(), opts())
            .unwrap_err();
        assert_eq!(busy.code(), "IMPORT_BUSY");
        let queued = jobs.get("running").unwrap();
        assert_eq!((queued.phase, queued.total), (ImportPhase::Queued, 10));
        lock(&jobs.jobs).clear();
        let bad = JobOptions {
            region: "XX".into(),
            ..opts()
        };
        assert_eq!(
            jobs.start(backend.clone(), b"phone\n".to_vec(), bad)
                .unwrap_err()
                .code(),
            "BAD_QUERY"
        );
        assert_eq!(
            jobs.start(backend.clone(), Vec::new(), opts())
                .unwrap_err()
                .code(),
            "IMPORT_EMPTY"
        );
        // A good file: started, then done with its report.
        let job = jobs
            .start(
                backend.clone(),
                "phone;name\n89161234567;Ann\n".into(),
                opts(),
            )
            .unwrap();
        let start = Instant::now();
        let done = loop {
            let j = jobs.get(&job.id).unwrap();
            if j.phase == ImportPhase::Done {
                break j;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "{j:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let report = done.report.unwrap();
        assert_eq!(
            (report.status, report.imported),
            (ImportStatus::Imported, 1)
        );
        assert_eq!(jobs.get("nope").unwrap_err().code(), "IMPORT_JOB_NOT_FOUND");
    }
}
