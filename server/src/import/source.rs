//! The second read of a validated file: its members as chunks of facts for
//! [`Backend::apply_server_batch`](crate::backend::Backend::apply_server_batch). Rows are
//! checked again with the same rules (a row that became invalid means the file changed:
//! the whole import rolls back), and the file must still be the one scanned at the end.

use super::facts::FactMaker;
use super::input::{self, CsvReader, Scanned};
use super::validate::{check_row, Row, RowContext};
use crate::backend::server_batch::CHUNK_EVENTS;
use crate::backend::{BackendError, ServerEvent, ServerEventSource};
use csv::StringRecord;
use indicatif::ProgressBar;

pub struct ImportSource {
    scanned: Scanned,
    ctx: RowContext,
    first: FactMaker,
    maker: FactMaker,
    reader: Option<CsvReader>,
    header_read: bool,
    record: StringRecord,
    bar: ProgressBar,
}

fn source_err(code: &'static str, message: String) -> BackendError {
    BackendError::Source { code, message }
}

impl ImportSource {
    pub fn new(scanned: Scanned, ctx: RowContext, maker: FactMaker, bar: ProgressBar) -> Self {
        ImportSource {
            scanned,
            ctx,
            first: maker.clone(),
            maker,
            reader: None,
            header_read: false,
            record: StringRecord::new(),
            bar,
        }
    }

    /// The next record (`None` at the end), the header skipped.
    fn next_record(&mut self) -> Result<Option<u64>, BackendError> {
        if self.reader.is_none() {
            let reader = input::open(&self.scanned, Box::new(|_| {}))
                .map_err(|e| source_err(e.code(), e.to_string()))?;
            self.reader = Some(reader);
            self.header_read = false;
        }
        let Some(reader) = self.reader.as_mut() else {
            return Ok(None);
        };
        loop {
            let more = reader
                .read_record(&mut self.record)
                .map_err(|e| source_err("IMPORT_READ", format!("reading the file: {e}")))?;
            if !more {
                return Ok(None);
            }
            if !self.header_read {
                self.header_read = true;
                continue;
            }
            let line = self.record.position().map(|p| p.line()).unwrap_or(0);
            return Ok(Some(line));
        }
    }
}

impl ServerEventSource for ImportSource {
    fn next_chunk(&mut self) -> Result<Option<Vec<ServerEvent>>, BackendError> {
        let mut out = Vec::new();
        while out.len() < CHUNK_EVENTS {
            let Some(line) = self.next_record()? else {
                input::unchanged(&self.scanned).map_err(|e| source_err(e.code(), e.to_string()))?;
                break;
            };
            match check_row(&self.ctx, line, &self.record) {
                Row::Blank => {}
                Row::Member(m) => out.extend(
                    self.maker
                        .events(*m)
                        .map_err(|e| source_err("IMPORT_NO_CARD_LEFT", e.to_string()))?,
                ),
                Row::Bad(errors) => {
                    let what = errors
                        .first()
                        .map(|e| format!("{} {}", e.code, e.message))
                        .unwrap_or_default();
                    return Err(source_err(
                        "IMPORT_FILE_CHANGED",
                        format!("line {line} changed since it was checked ({what})"),
                    ));
                }
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }

    fn rewind(&mut self) -> Result<(), BackendError> {
        self.reader = None;
        self.maker = self.first.clone();
        self.bar.set_position(0);
        Ok(())
    }

    fn written(&mut self, n: usize) {
        self.bar.inc(n as u64);
    }
}
