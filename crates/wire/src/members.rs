//! The owner's members import and export over HTTP: `POST /api/v1/members/import` (the raw
//! CSV bytes) starts an import job, `GET /api/v1/members/import/{id}` follows it,
//! `GET /api/v1/members/export` answers every member as CSV.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Largest CSV accepted by `POST /api/v1/members/import` (64 MiB).
pub const MEMBERS_IMPORT_MAX_BYTES: usize = 64 * 1024 * 1024;

/// Row errors listed in a job's report (the rest are only counted).
pub const IMPORT_ERRORS_LISTED: usize = 1000;

/// Query of `POST /api/v1/members/import`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MembersImportQuery {
    /// `auto` (default: valid UTF-8 is UTF-8, anything else Windows-1251), `utf-8` or
    /// `windows-1251`.
    pub encoding: Option<String>,
    /// `auto` (default: from the header line), `;`, `,` or `tab`.
    pub delimiter: Option<String>,
    /// Home store of members whose row names none.
    pub store: Option<String>,
    /// Country of phones without a country code (default: the server's region).
    pub region: Option<String>,
}

/// Query of `GET /api/v1/members/export`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MembersExportQuery {
    /// `utf-8` (default, with a BOM) or `windows-1251`.
    pub encoding: Option<String>,
    /// `;` (default), `,` or `tab`.
    pub delimiter: Option<String>,
}

/// Where an import job is.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ImportPhase {
    /// Received, not started yet.
    Queued,
    /// Every row checked (`done`/`total` in bytes of the file).
    Validating,
    /// The file's cards and phones checked against the server's members (members).
    Checking,
    /// The one all-or-nothing write (facts written).
    Importing,
    /// Finished: see `report`.
    Done,
    /// Could not run (see `failure`): nothing was imported.
    Failed,
}

/// One problem of one row (`column` empty: the whole row).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportRowError {
    /// The line of the file where the row starts (1 = the header).
    pub line: u64,
    pub column: String,
    pub value: String,
    /// e.g. `PHONE_INVALID`, `CARD_BAD_CHECK_DIGIT`, `DUPLICATE_PHONE`, `PHONE_ON_SERVER`.
    pub code: String,
    pub message: String,
}

/// How a finished import ended.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Every member was imported.
    Imported,
    /// This very file was imported before: nothing changed.
    AlreadyImported,
    /// Some rows are invalid: nothing was imported (`errors`).
    Invalid,
}

/// A finished import's report.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportReport {
    pub status: ImportStatus,
    /// `utf-8` or `windows-1251`.
    pub encoding: String,
    /// `;`, `,` or `tab`.
    pub delimiter: String,
    /// Data rows read (the header not counted).
    pub rows: u64,
    /// Members imported (0 unless `imported`).
    pub imported: u64,
    pub cards_generated: u64,
    /// The first 1 000 row errors (`IMPORT_ERRORS_LISTED`), in line order.
    pub errors: Vec<ImportRowError>,
    /// Row errors in all.
    pub errors_total: u64,
}

/// Why a job failed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportFailure {
    /// e.g. `IMPORT_ENCODING`, `IMPORT_EMPTY`, `USAGE`.
    pub code: String,
    pub message: String,
}

/// An import job (`202` of the POST, and its `GET`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportJob {
    pub id: String,
    pub phase: ImportPhase,
    /// Progress of the phase: `done` of `total` (bytes, members or facts, see the phase).
    pub done: u64,
    pub total: u64,
    /// Size of the uploaded file.
    pub bytes: u64,
    /// Set when `phase` is `done`.
    pub report: Option<ImportReport>,
    /// Set when `phase` is `failed`.
    pub failure: Option<ImportFailure>,
}
