//! The per-row error report: what is wrong where (line, column, value, code, message),
//! printed on stderr and written next to the file as `NAME.errors.csv`.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Errors kept in memory and written to the report; the rest are only counted.
pub const MAX_LISTED: usize = 100_000;
/// Errors printed on stderr.
pub const MAX_PRINTED: usize = 50;
/// Longest value shown.
const MAX_VALUE_CHARS: usize = 80;

/// One problem of one field (or of the whole row: `column` empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The line of the file where the row starts (1 = the header).
    pub line: u64,
    /// The column as its header names it.
    pub column: String,
    pub value: String,
    pub code: &'static str,
    pub message: String,
}

impl RowError {
    pub fn new(
        line: u64,
        column: &str,
        value: &str,
        code: &'static str,
        message: String,
    ) -> RowError {
        let mut shown: String = value.chars().take(MAX_VALUE_CHARS).collect();
        if value.chars().nth(MAX_VALUE_CHARS).is_some() {
            shown.push('…');
        }
        RowError {
            line,
            column: column.to_string(),
            value: shown,
            code,
            message,
        }
    }
}

/// Every error found, in line order, at most [`MAX_LISTED`] of them.
#[derive(Debug, Default)]
pub struct ErrorList {
    pub errors: Vec<RowError>,
    /// Errors in all (`> errors.len()` when some were not listed).
    pub total: u64,
}

impl ErrorList {
    pub fn push(&mut self, e: RowError) {
        self.total += 1;
        if self.errors.len() < MAX_LISTED {
            self.errors.push(e);
        }
    }

    pub fn extend(&mut self, errors: Vec<RowError>) {
        for e in errors {
            self.push(e);
        }
    }

    /// Distinct lines among the listed errors.
    pub fn bad_lines(&self) -> usize {
        let mut lines: Vec<u64> = self.errors.iter().map(|e| e.line).collect();
        lines.dedup();
        lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Line order (stable: a row's errors keep their column order).
    pub fn sort(&mut self) {
        self.errors.sort_by_key(|e| e.line);
    }

    /// The lines printed on stderr.
    pub fn summary_lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .errors
            .iter()
            .take(MAX_PRINTED)
            .map(|e| {
                let col = if e.column.is_empty() {
                    String::new()
                } else {
                    format!(", column {}", e.column)
                };
                format!(
                    "line {}{col}: {} {:?}: {}",
                    e.line, e.code, e.value, e.message
                )
            })
            .collect();
        let more = self.total.saturating_sub(out.len() as u64);
        if more > 0 {
            out.push(format!("... and {more} more"));
        }
        out
    }
}

/// `DIR/NAME.errors.csv` for `DIR/NAME.csv` (any other name: `NAME.errors.csv` appended).
pub fn report_path(file: &Path) -> PathBuf {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "import".into());
    let stem = match name.len().checked_sub(4) {
        Some(cut) if name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(".csv") => {
            name[..cut].to_string()
        }
        _ => name,
    };
    file.with_file_name(format!("{stem}.errors.csv"))
}

/// Writes the report: UTF-8 with a BOM (spreadsheets then read Cyrillic right), with the
/// input's delimiter; a last line says how many errors were not listed.
pub fn write_report(path: &Path, list: &ErrorList, delimiter: u8) -> std::io::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    file.write_all("\u{feff}".as_bytes())?;
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(file);
    let io = |e: csv::Error| std::io::Error::other(e.to_string());
    w.write_record(["line", "column", "value", "code", "message"])
        .map_err(io)?;
    for e in &list.errors {
        w.write_record([
            e.line.to_string().as_str(),
            &e.column,
            &e.value,
            e.code,
            &e.message,
        ])
        .map_err(io)?;
    }
    let unlisted = list.total.saturating_sub(list.errors.len() as u64);
    if unlisted > 0 {
        w.write_record([
            "",
            "",
            "",
            "TOO_MANY_ERRORS",
            &format!("{unlisted} more errors are not listed"),
        ])
        .map_err(io)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_path_is_next_to_the_file() {
        assert_eq!(
            report_path(Path::new("/x/members.csv")),
            Path::new("/x/members.errors.csv")
        );
        assert_eq!(report_path(Path::new("m.CSV")), Path::new("m.errors.csv"));
        assert_eq!(
            report_path(Path::new("/x/list.txt")),
            Path::new("/x/list.txt.errors.csv")
        );
        assert_eq!(report_path(Path::new("д.csv")), Path::new("д.errors.csv"));
    }

    #[test]
    fn long_values_are_cut_and_the_list_is_capped_in_the_summary() {
        let e = RowError::new(3, "name", &"я".repeat(200), "X", "m".into());
        assert_eq!(e.value.chars().count(), MAX_VALUE_CHARS + 1);
        let mut list = ErrorList::default();
        for i in 0..(MAX_PRINTED as u64 + 5) {
            list.push(RowError::new(i + 2, "c", "v", "X", "m".into()));
        }
        let lines = list.summary_lines();
        assert_eq!(lines.len(), MAX_PRINTED + 1);
        assert_eq!(lines.last().unwrap(), "... and 5 more");
        assert!(lines[0].starts_with("line 2, column c: X \"v\""));
    }

    #[test]
    fn writes_a_readable_csv() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        let mut list = ErrorList::default();
        list.push(RowError::new(
            4,
            "Телефон",
            "12;3",
            "PHONE_INVALID",
            "bad".into(),
        ));
        write_report(&path, &list, b';').unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with('\u{feff}'));
        assert!(
            text.contains("4;Телефон;\"12;3\";PHONE_INVALID;bad"),
            "{text}"
        );
    }
}
