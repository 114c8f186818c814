//! `loyalty-server export`: every member as CSV, page by page (a million members never sit
//! in memory), in the columns `import` reads back, so export → import round-trips.
//!
//! Columns: card (the active primary card), family_cards (the other active cards), phone,
//! name, email, birthday, consent, channel, points (available now), pending_points,
//! shortfall, tier (when the program in force ranks by a lifetime measure), tags, gender,
//! store, enrolled_at. Blocked cards are not exported.

use crate::backend::{Backend, BackendError, MemberRow};
use crate::import::input::Encoding;
use crate::progress;
use chrono::{DateTime, SecondsFormat, Utc};
use encoding_rs::{EncoderResult, WINDOWS_1251};
use loyalty_domain::{tier_for, CustomerSnapshot, ProgramConfig, TierWindow};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// The header `export` writes.
pub const HEADER: [&str; 16] = [
    "card",
    "family_cards",
    "phone",
    "name",
    "email",
    "birthday",
    "consent",
    "channel",
    "points",
    "pending_points",
    "shortfall",
    "tier",
    "tags",
    "gender",
    "store",
    "enrolled_at",
];

/// Accounts per page.
const PAGE: u32 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
    #[error(transparent)]
    Backend(#[from] BackendError),
}

impl ExportError {
    pub fn code(&self) -> &'static str {
        match self {
            ExportError::Write { .. } => "EXPORT_WRITE",
            ExportError::Backend(e) => e.code(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// `None`: standard output.
    pub out: Option<PathBuf>,
    pub delimiter: u8,
    pub encoding: Encoding,
    pub progress: bool,
}

/// What was written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportSummary {
    pub members: u64,
    /// Characters Windows-1251 cannot write, replaced by `?`.
    pub replaced_chars: u64,
}

/// The program in force at `now`: the newest whose `effective_from` has passed.
fn program_at(programs: &[ProgramConfig], now: DateTime<Utc>) -> Option<&ProgramConfig> {
    programs
        .iter()
        .filter(|p| p.effective_from <= now)
        .max_by_key(|p| p.version)
}

/// The tier's name when the server can know it: a program with a lifetime window (a
/// rolling window needs the sales inside it, which the server's books do not keep).
fn tier(m: &MemberRow, program: Option<&ProgramConfig>, now: DateTime<Utc>) -> String {
    let Some(p) = program.filter(|p| p.tiers.window == TierWindow::Lifetime) else {
        return String::new();
    };
    let snapshot = CustomerSnapshot {
        lifetime_spend: m.book.lifetime_spend,
        lifetime_purchases: m.book.lifetime_purchases,
        club_until: m.book.club_until,
        ..CustomerSnapshot::default()
    };
    tier_for(&snapshot, p, now)
        .map(|t| t.name)
        .unwrap_or_default()
}

/// The channel as `import` reads it (anything unknown, e.g. empty, is `none`, as on tills).
fn channel(c: &str) -> &'static str {
    match c {
        "sms" => "sms",
        "email" => "email",
        "messenger" => "messenger",
        _ => "none",
    }
}

/// One member's fields, in [`HEADER`] order.
pub fn row(m: &MemberRow, program: Option<&ProgramConfig>, now: DateTime<Utc>) -> Vec<String> {
    let active: Vec<_> = m.cards.iter().filter(|c| c.status == "active").collect();
    let primary = active
        .iter()
        .find(|c| c.kind == "primary")
        .or_else(|| active.first())
        .map(|c| c.number.clone())
        .unwrap_or_default();
    let family: Vec<&str> = active
        .iter()
        .map(|c| c.number.as_str())
        .filter(|n| *n != primary)
        .collect();
    let profile = m
        .customer
        .as_ref()
        .map(|c| c.profile.clone())
        .unwrap_or_default();
    let balance = m.book.balance(now);
    vec![
        primary,
        family.join(" "),
        profile.phone.unwrap_or_default(),
        profile.name,
        profile.email.unwrap_or_default(),
        profile
            .birthday
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        if profile.marketing_consent {
            "yes"
        } else {
            "no"
        }
        .to_string(),
        channel(&profile.preferred_channel).to_string(),
        balance.available.to_string(),
        balance.pending.to_string(),
        balance.shortfall.to_string(),
        tier(m, program, now),
        profile.tags.join(", "),
        profile.gender.unwrap_or_default(),
        profile.home_store.unwrap_or_default(),
        m.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
    ]
}

/// Encodes UTF-8 text for the output; counts what Windows-1251 cannot write (as `?`).
fn encode(text: &str, encoding: Encoding, replaced: &mut u64) -> Vec<u8> {
    if encoding == Encoding::Utf8 {
        return text.as_bytes().to_vec();
    }
    let mut encoder = WINDOWS_1251.new_encoder();
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let (result, read, written) =
            encoder.encode_from_utf8_without_replacement(rest, &mut buf, true);
        out.extend_from_slice(&buf[..written]);
        rest = &rest[read..];
        match result {
            EncoderResult::InputEmpty => return out,
            EncoderResult::OutputFull => {}
            EncoderResult::Unmappable(_) => {
                *replaced += 1;
                out.push(b'?');
            }
        }
    }
}

fn csv_text(rows: &[Vec<String>], delimiter: u8) -> Result<String, String> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(Vec::new());
    for r in rows {
        w.write_record(r).map_err(|e| e.to_string())?;
    }
    let bytes = w.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// Writes every member to `opts.out` (a file is written beside as `.partial` and renamed
/// when complete, so a failed export leaves no half file).
pub async fn run(
    backend: Arc<dyn Backend>,
    opts: ExportOptions,
    now: DateTime<Utc>,
) -> Result<ExportSummary, ExportError> {
    let shown = opts
        .out
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "standard output".into());
    let werr = |e: std::io::Error| ExportError::Write {
        path: shown.clone(),
        message: e.to_string(),
    };
    let partial = opts.out.as_ref().map(|p| {
        let mut name = p.file_name().unwrap_or_default().to_os_string();
        name.push(".partial");
        p.with_file_name(name)
    });
    // `Send`: the HTTP export runs this in a handler (so stdout unlocked, buffered).
    let mut out: Box<dyn Write + Send> = match &partial {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(werr)?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let mut summary = ExportSummary::default();
    if opts.encoding == Encoding::Utf8 && opts.out.is_some() {
        // Spreadsheets read UTF-8 (Cyrillic) right only with a BOM.
        out.write_all("\u{feff}".as_bytes()).map_err(werr)?;
    }
    let header: Vec<String> = HEADER.iter().map(|s| s.to_string()).collect();
    let text = csv_text(&[header], opts.delimiter).map_err(|m| ExportError::Write {
        path: shown.clone(),
        message: m,
    })?;
    out.write_all(&encode(&text, opts.encoding, &mut summary.replaced_chars))
        .map_err(werr)?;
    let mut after: Option<String> = None;
    let mut bar = None;
    loop {
        let page = backend.members_page(after.as_deref(), PAGE).await?;
        if let Some(total) = page.total {
            bar = Some(progress::bar(
                opts.progress,
                total.max(0) as u64,
                "exporting",
                progress::Unit::Items,
            ));
        }
        let program = program_at(&page.programs, now);
        // A merged duplicate is not a member any more (the survivor holds its cards).
        let rows: Vec<Vec<String>> = page
            .members
            .iter()
            .filter(|m| m.merged_into.is_none())
            .map(|m| row(m, program, now))
            .collect();
        let text = csv_text(&rows, opts.delimiter).map_err(|m| ExportError::Write {
            path: shown.clone(),
            message: m,
        })?;
        out.write_all(&encode(&text, opts.encoding, &mut summary.replaced_chars))
            .map_err(werr)?;
        summary.members += rows.len() as u64;
        if let Some(b) = &bar {
            b.inc(page.members.len() as u64);
        }
        match page.next_after {
            Some(a) => after = Some(a),
            None => break,
        }
    }
    out.flush().map_err(werr)?;
    drop(out);
    if let (Some(partial), Some(dest)) = (&partial, &opts.out) {
        std::fs::rename(partial, dest).map_err(werr)?;
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(summary)
}

#[cfg(test)]
#[path = "export_tests.rs"]
mod tests;
