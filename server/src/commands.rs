//! The owner's data commands: `import` and `export` (argument parsing and what they print).

use crate::backend::Backend;
use crate::export::{self, ExportOptions};
use crate::import::input::{DelimiterChoice, Encoding, EncodingChoice};
use crate::import::{self, ImportError, ImportOptions, ImportOutcome};
use std::io::IsTerminal;
use std::sync::Arc;

/// `--encoding` of `import`.
pub fn parse_encoding_choice(s: &str) -> Result<EncodingChoice, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "auto" => Ok(EncodingChoice::Auto),
        _ => parse_encoding(s).map(|e| match e {
            Encoding::Utf8 => EncodingChoice::Utf8,
            Encoding::Windows1251 => EncodingChoice::Windows1251,
        }),
    }
}

/// `--encoding` of `export`.
pub fn parse_encoding(s: &str) -> Result<Encoding, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" => Ok(Encoding::Utf8),
        "windows-1251" | "cp1251" | "1251" | "win1251" => Ok(Encoding::Windows1251),
        other => Err(format!(
            "unknown encoding {other:?}: use utf-8 or windows-1251"
        )),
    }
}

/// `--delimiter`: `;`, `,`, `tab` (and `auto` for `import`).
pub fn parse_delimiter_choice(s: &str) -> Result<DelimiterChoice, String> {
    match s {
        "auto" => Ok(DelimiterChoice::Auto),
        _ => parse_delimiter(s).map(DelimiterChoice::Byte),
    }
}

pub fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        ";" | "semicolon" => Ok(b';'),
        "," | "comma" => Ok(b','),
        "\t" | "\\t" | "tab" => Ok(b'\t'),
        other => Err(format!("unknown delimiter {other:?}: use ';', ',' or tab")),
    }
}

/// Progress bars only on a terminal.
pub fn progress_wanted(disabled: bool) -> bool {
    !disabled && std::io::stderr().is_terminal()
}

fn delimiter_name(d: u8) -> String {
    match d {
        b'\t' => "tab".into(),
        d => format!("'{}'", d as char),
    }
}

/// Runs an import and prints its outcome; row errors are `IMPORT_INVALID`.
pub async fn import(backend: Arc<dyn Backend>, opts: ImportOptions) -> Result<(), ImportError> {
    let file = opts.path.display().to_string();
    match import::run(backend, opts, chrono::Utc::now()).await? {
        ImportOutcome::AlreadyImported { record } => {
            println!(
                "{file}: already imported on {} ({} facts, gseq {}..{}): nothing to do",
                record.applied_at.format("%Y-%m-%d %H:%M:%S UTC"),
                record.events,
                record.first_gseq,
                record.last_gseq
            );
            Ok(())
        }
        ImportOutcome::Invalid {
            summary,
            errors,
            report,
        } => {
            for line in errors.summary_lines() {
                eprintln!("{line}");
            }
            let rows = errors.bad_lines();
            eprintln!(
                "{file}: {} in {rows} of {} rows; nothing was imported. Report: {}",
                plural(errors.total, "error"),
                summary.rows,
                report.display()
            );
            Err(ImportError::Invalid { rows, report })
        }
        ImportOutcome::DryRun { summary: s } => {
            println!(
                "{file}: valid ({}, delimiter {}): {} members would be imported ({} facts, {} \
                 cards generated, {} opening points); {} blank rows skipped; dry run: nothing \
                 written",
                s.encoding.name(),
                delimiter_name(s.delimiter),
                s.members,
                s.events,
                s.cards_generated,
                s.opening_points,
                s.blank_rows,
            );
            pending_note(s.pending_ignored_rows);
            Ok(())
        }
        ImportOutcome::Imported {
            summary: s,
            record,
            applying,
            total,
        } => {
            let secs = applying.as_secs_f64().max(1e-6);
            println!(
                "{file}: imported {} members ({} facts, gseq {}..{}, {} cards generated, {} \
                 opening points) in {:.1} s ({:.0} members/s applying; {:.1} s in all)",
                s.members,
                record.events,
                record.first_gseq,
                record.last_gseq,
                s.cards_generated,
                s.opening_points,
                applying.as_secs_f64(),
                s.members as f64 / secs,
                total.as_secs_f64()
            );
            pending_note(s.pending_ignored_rows);
            Ok(())
        }
    }
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn pending_note(rows: u64) {
    if rows > 0 {
        eprintln!(
            "note: {rows} rows have pending points, which are not imported (put them in the \
             points column to import them as available)"
        );
    }
}

/// Runs an export; says on stderr how many members were written.
pub async fn export(
    backend: Arc<dyn Backend>,
    opts: ExportOptions,
) -> Result<(), export::ExportError> {
    let dest = opts
        .out
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "standard output".into());
    let s = export::run(backend, opts, chrono::Utc::now()).await?;
    eprintln!("exported {} members to {dest}", s.members);
    if s.replaced_chars > 0 {
        eprintln!(
            "note: {} characters have no Windows-1251 form and were written as '?' (use \
             --encoding utf-8 to keep them)",
            s.replaced_chars
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse() {
        assert_eq!(parse_encoding_choice("AUTO"), Ok(EncodingChoice::Auto));
        assert_eq!(
            parse_encoding_choice("cp1251"),
            Ok(EncodingChoice::Windows1251)
        );
        assert_eq!(parse_encoding("UTF-8"), Ok(Encoding::Utf8));
        assert!(parse_encoding("koi8-r").is_err());
        assert_eq!(parse_delimiter_choice(";"), Ok(DelimiterChoice::Byte(b';')));
        assert_eq!(parse_delimiter_choice("auto"), Ok(DelimiterChoice::Auto));
        assert_eq!(parse_delimiter("tab"), Ok(b'\t'));
        assert!(parse_delimiter("|").is_err());
    }
}
