//! The owner's members import and export (issue 6): a CSV file of this computer is uploaded
//! to the server's import job (`POST /api/v1/members/import`), whose progress is polled and
//! handed to a callback (the shell forwards it as the `members-import` event) until the
//! report: the imported count, or the row errors of a file that imported nothing. The export
//! (`GET /api/v1/members/export`) is written into `exports/` in the data folder.
//!
//! The owner picks a file by path, or one of the CSV files put into `imports/` in the data
//! folder ([`TillApp::import_files`]); a bare file name means one of those. Owner only;
//! both need the server (offline: `SERVER_OFFLINE`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use loyalty_sync::TransportError;
use loyalty_wire::{ImportJob, ImportPhase, MEMBERS_IMPORT_MAX_BYTES};

use crate::dto::{ImportFile, ImportFiles, MembersExport, MembersExportRequest};
use crate::error::{AppError, AppResult};
use crate::TillApp;

/// Where the owner puts CSV files to import (in the data folder).
pub const IMPORT_DIR: &str = "imports";
/// How often the job is asked for its progress.
const POLL: Duration = Duration::from_millis(250);
/// Longest wait for an upload (64 MiB on a slow line).
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(600);
/// Longest wait for a job to finish.
const JOB_TIMEOUT: Duration = Duration::from_secs(3 * 3600);

/// Offline gets a message that says what to do.
fn server_error(e: TransportError, what: &str) -> AppError {
    if e.is_offline() {
        AppError::new(
            "SERVER_OFFLINE",
            format!("the server cannot be reached ({e}): {what} needs the server, try again when the till is online"),
        )
    } else {
        e.into()
    }
}

fn is_csv(p: &Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// `utf-8` / `windows-1251` and `;` / `,` / `tab` as the server names them.
fn export_query(req: &MembersExportRequest) -> AppResult<Vec<(&'static str, String)>> {
    let encoding = match req.encoding.trim().to_ascii_lowercase().as_str() {
        "" | "utf-8" | "utf8" => "utf-8",
        "windows-1251" | "cp1251" | "1251" => "windows-1251",
        other => {
            return Err(AppError::invalid(format!(
                "unknown encoding {other:?}: utf-8 or windows-1251"
            )))
        }
    };
    let delimiter = match req.delimiter.as_str() {
        "" | ";" => ";",
        "," => ",",
        "tab" | "\t" => "tab",
        other => {
            return Err(AppError::invalid(format!(
                "unknown delimiter {other:?}: ';', ',' or tab"
            )))
        }
    };
    Ok(vec![
        ("encoding", encoding.to_string()),
        ("delimiter", delimiter.to_string()),
    ])
}

impl TillApp {
    fn import_dir(&self) -> PathBuf {
        self.data_dir.join(IMPORT_DIR)
    }

    /// The CSV files in `imports/` (created if missing), newest first. Owner only.
    pub fn import_files(&self) -> AppResult<ImportFiles> {
        self.require_owner("import members")?;
        let dir = self.import_dir();
        std::fs::create_dir_all(&dir)
            .map_err(|e| AppError::io(&format!("creating {}", dir.display()), e))?;
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| AppError::io(&format!("reading {}", dir.display()), e))?;
        let mut files: Vec<(std::time::SystemTime, ImportFile)> = entries
            .flatten()
            .filter(|e| is_csv(&e.path()) && e.file_type().is_ok_and(|t| t.is_file()))
            .filter(|e| !e.file_name().to_string_lossy().ends_with(".errors.csv"))
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
                Some((
                    modified,
                    ImportFile {
                        name: e.file_name().to_string_lossy().into_owned(),
                        path: e.path().display().to_string(),
                        bytes: meta.len(),
                    },
                ))
            })
            .collect();
        files.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
        Ok(ImportFiles {
            dir: dir.display().to_string(),
            files: files.into_iter().map(|(_, f)| f).collect(),
        })
    }

    /// The file `path` names: as given, or a bare name in `imports/`.
    fn import_path(&self, path: &str) -> AppResult<PathBuf> {
        let path = path.trim();
        if path.is_empty() {
            return Err(AppError::invalid("choose the CSV file to import"));
        }
        let p = PathBuf::from(path);
        Ok(if p.is_absolute() {
            p
        } else {
            self.import_dir().join(p)
        })
    }

    /// Imports the members of the CSV file `path` through the server: `progress` sees the
    /// job as it goes; the answer is the finished job (its report: imported, or invalid
    /// with the row errors and nothing imported). A file the server cannot read at all
    /// (e.g. UTF-16) is an error with the server's code. Owner only.
    pub async fn import_members(
        &self,
        path: &str,
        progress: impl Fn(&ImportJob) + Send,
    ) -> AppResult<ImportJob> {
        let api = self.owner_api("import members")?;
        let file = self.import_path(path)?;
        let shown = file.display().to_string();
        let meta = std::fs::metadata(&file).map_err(|e| {
            AppError::new("IMPORT_FILE_NOT_FOUND", format!("cannot open {shown}: {e}"))
        })?;
        if !meta.is_file() {
            return Err(AppError::new(
                "IMPORT_FILE_NOT_FOUND",
                format!("{shown} is not a file"),
            ));
        }
        if meta.len() > MEMBERS_IMPORT_MAX_BYTES as u64 {
            return Err(AppError::new(
                "IMPORT_TOO_LARGE",
                format!(
                    "{shown} is {} MiB: the server takes at most {} MiB (split the file)",
                    meta.len() >> 20,
                    MEMBERS_IMPORT_MAX_BYTES >> 20
                ),
            ));
        }
        let read = file.clone();
        let bytes = tokio::task::spawn_blocking(move || std::fs::read(read))
            .await
            .map_err(|e| AppError::io(&format!("reading {shown}"), e))?
            .map_err(|e| AppError::io(&format!("reading {shown}"), e))?;
        let what = "importing members";
        let mut job: ImportJob = api
            .post_bytes("/api/v1/members/import", &[], bytes, UPLOAD_TIMEOUT)
            .await
            .map_err(|e| server_error(e, what))?;
        let started = Instant::now();
        loop {
            progress(&job);
            match job.phase {
                ImportPhase::Done => return Ok(job),
                ImportPhase::Failed => {
                    let f = job.failure.unwrap_or_else(|| loyalty_wire::ImportFailure {
                        code: "IMPORT_FAILED".into(),
                        message: "the import failed".into(),
                    });
                    return Err(AppError::new(&f.code, f.message));
                }
                _ => {}
            }
            if started.elapsed() > JOB_TIMEOUT {
                return Err(AppError::new(
                    "IMPORT_TIMEOUT",
                    format!("import job {} did not finish in time", job.id),
                ));
            }
            tokio::time::sleep(POLL).await;
            job = api
                .get_json(&format!("/api/v1/members/import/{}", job.id), &[])
                .await
                .map_err(|e| server_error(e, what))?;
        }
    }

    /// Writes every member as CSV (the server's export) into `exports/`. Owner only.
    pub async fn export_members(&self, req: MembersExportRequest) -> AppResult<MembersExport> {
        let api = self.owner_api("export members")?;
        let query = export_query(&req)?;
        let csv = api
            .get("/api/v1/members/export", &query)
            .await
            .map_err(|e| server_error(e, "exporting members"))?;
        let saved = self.save_export("members", &csv)?;
        Ok(MembersExport {
            path: saved.path,
            rows: saved.rows,
            bytes: saved.bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_options_are_checked() {
        let q = |e: &str, d: &str| {
            export_query(&MembersExportRequest {
                encoding: e.into(),
                delimiter: d.into(),
            })
        };
        assert_eq!(
            q("Windows-1251", ",").unwrap(),
            [
                ("encoding", "windows-1251".to_string()),
                ("delimiter", ",".to_string())
            ]
        );
        assert_eq!(q("", "").unwrap()[1].1, ";");
        assert_eq!(q("", "tab").unwrap()[1].1, "tab");
        assert_eq!(q("koi8-r", ";").unwrap_err().code, "INVALID_INPUT");
        assert_eq!(q("utf-8", "|").unwrap_err().code, "INVALID_INPUT");
    }
}
