//! Reading the file: one scan for its identity (SHA-256), its encoding (UTF-8 with or
//! without BOM, else Windows-1251) and its delimiter (from the header line); then, as
//! often as needed, a streaming CSV reader over the decoded text (quoted fields with
//! delimiters, newlines and doubled quotes inside are the `csv` crate's job).

use super::ImportError;
use crate::backend::hash::hex;
use encoding_rs::{Decoder, UTF_8, WINDOWS_1251};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

const BUF: usize = 64 * 1024;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `--encoding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodingChoice {
    /// Valid UTF-8 (BOM or not) is UTF-8; anything else is Windows-1251.
    Auto,
    Utf8,
    Windows1251,
}

/// `--delimiter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DelimiterChoice {
    /// From the header line: the most frequent of `;`, `,` and tab outside quotes.
    Auto,
    Byte(u8),
}

/// The encoding in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Windows1251,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Windows1251 => "windows-1251",
        }
    }
}

/// What the scan found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scanned {
    pub path: PathBuf,
    /// Hex SHA-256 of the bytes: the import id.
    pub sha256: String,
    pub size: u64,
    pub modified: Option<SystemTime>,
    pub encoding: Encoding,
    pub bom: bool,
    pub delimiter: u8,
}

fn read_err(path: &Path, e: std::io::Error) -> ImportError {
    ImportError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Streaming UTF-8 validity (a sequence may be split between reads).
#[derive(Default)]
struct Utf8Check {
    carry: Vec<u8>,
    bad_at: Option<u64>,
    seen: u64,
}

impl Utf8Check {
    fn feed(&mut self, bytes: &[u8]) {
        if self.bad_at.is_some() {
            return;
        }
        let mut buf = std::mem::take(&mut self.carry);
        let start = self.seen - buf.len() as u64;
        buf.extend_from_slice(bytes);
        self.seen += bytes.len() as u64;
        if let Err(e) = std::str::from_utf8(&buf) {
            if e.error_len().is_some() {
                self.bad_at = Some(start + e.valid_up_to() as u64);
            } else {
                self.carry = buf[e.valid_up_to()..].to_vec();
            }
        }
    }

    /// `None` when valid; else the offset of the first bad byte.
    fn finish(self) -> Option<u64> {
        match (self.bad_at, self.carry.is_empty()) {
            (Some(at), _) => Some(at),
            (None, false) => Some(self.seen - self.carry.len() as u64),
            (None, true) => None,
        }
    }
}

/// Reads the whole file once: hash, encoding, delimiter.
pub fn scan(
    path: &Path,
    encoding: EncodingChoice,
    delimiter: DelimiterChoice,
) -> Result<Scanned, ImportError> {
    let mut file = File::open(path).map_err(|e| read_err(path, e))?;
    let meta = file.metadata().map_err(|e| read_err(path, e))?;
    let mut hasher = Sha256::new();
    let mut check = Utf8Check::default();
    let mut head: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; BUF];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| read_err(path, e))?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        hasher.update(chunk);
        check.feed(chunk);
        if head.len() < BUF {
            head.extend_from_slice(&chunk[..chunk.len().min(BUF - head.len())]);
        }
        size += n as u64;
    }
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return Err(ImportError::Encoding(
            "the file is UTF-16: save it as \"CSV UTF-8\" (or Windows-1251)".into(),
        ));
    }
    let bom = head.starts_with(BOM);
    let bad_utf8 = check.finish();
    let encoding = match (encoding, bad_utf8) {
        (EncodingChoice::Utf8, Some(at)) => {
            return Err(ImportError::Encoding(format!(
                "not valid UTF-8 (byte {at}): pass --encoding windows-1251 or auto"
            )))
        }
        (EncodingChoice::Utf8, None) | (EncodingChoice::Auto, None) => Encoding::Utf8,
        (EncodingChoice::Windows1251, _) | (EncodingChoice::Auto, Some(_)) => Encoding::Windows1251,
    };
    let delimiter = match delimiter {
        DelimiterChoice::Byte(b) => b,
        DelimiterChoice::Auto => detect_delimiter(&head),
    };
    Ok(Scanned {
        path: path.to_path_buf(),
        sha256: hex(&hasher.finalize()),
        size,
        modified: meta.modified().ok(),
        encoding,
        bom,
        delimiter,
    })
}

/// The most frequent of `;`, `,`, tab outside quotes on the first line (`;` on a tie or
/// when none: the spreadsheet default where this product is sold). The candidates are
/// ASCII, so the line's encoding does not matter.
pub fn detect_delimiter(head: &[u8]) -> u8 {
    let mut counts = [(b';', 0usize), (b',', 0), (b'\t', 0)];
    let mut quoted = false;
    for &b in head {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
                    c.1 += 1;
                }
            }
            _ => {}
        }
    }
    let best = counts.iter().max_by_key(|(_, n)| *n).copied();
    match best {
        Some((d, n)) if n > counts[0].1 => d,
        _ => b';',
    }
}

/// Decodes bytes to UTF-8 on the fly (a UTF-8 BOM is dropped; malformed UTF-8 becomes
/// U+FFFD, though a scanned UTF-8 file has none).
pub struct Decoding<R> {
    inner: R,
    decoder: Decoder,
    input: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    done: bool,
    output: Vec<u8>,
    out_start: usize,
    out_end: usize,
}

impl<R: Read> Decoding<R> {
    pub fn new(inner: R, encoding: Encoding) -> Self {
        let decoder = match encoding {
            Encoding::Utf8 => UTF_8.new_decoder_with_bom_removal(),
            Encoding::Windows1251 => WINDOWS_1251.new_decoder_without_bom_handling(),
        };
        Decoding {
            inner,
            decoder,
            input: vec![0; BUF],
            start: 0,
            end: 0,
            eof: false,
            done: false,
            output: vec![0; 3 * BUF + 16],
            out_start: 0,
            out_end: 0,
        }
    }
}

impl<R: Read> Read for Decoding<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.out_start < self.out_end {
                let n = buf.len().min(self.out_end - self.out_start);
                buf[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
                self.out_start += n;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            if self.start == self.end && !self.eof {
                self.start = 0;
                self.end = self.inner.read(&mut self.input)?;
                self.eof = self.end == 0;
            }
            let (_, read, written, _) = self.decoder.decode_to_utf8(
                &self.input[self.start..self.end],
                &mut self.output,
                self.eof,
            );
            self.start += read;
            self.out_start = 0;
            self.out_end = written;
            if self.eof && self.start == self.end {
                self.done = true;
            }
        }
    }
}

/// Counts the raw bytes read (for a progress bar).
pub struct Counting<R> {
    inner: R,
    on_read: Box<dyn FnMut(u64) + Send>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.on_read)(n as u64);
        Ok(n)
    }
}

pub type CsvReader = csv::Reader<Box<dyn Read + Send>>;

/// A CSV reader over any bytes (no header handling: the first record is the header).
pub fn csv_reader<R: Read + Send + 'static>(
    bytes: R,
    encoding: Encoding,
    delimiter: u8,
) -> CsvReader {
    let decoded: Box<dyn Read + Send> = Box::new(Decoding::new(bytes, encoding));
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(decoded)
}

/// Opens the scanned file again as CSV; `on_read` sees the raw bytes read.
pub fn open(
    scanned: &Scanned,
    on_read: Box<dyn FnMut(u64) + Send>,
) -> Result<CsvReader, ImportError> {
    let file = File::open(&scanned.path).map_err(|e| read_err(&scanned.path, e))?;
    let counting = Counting {
        inner: std::io::BufReader::with_capacity(BUF, file),
        on_read,
    };
    Ok(csv_reader(counting, scanned.encoding, scanned.delimiter))
}

/// The file is still the one scanned (size and modification time).
pub fn unchanged(scanned: &Scanned) -> Result<(), ImportError> {
    let meta = std::fs::metadata(&scanned.path).map_err(|e| read_err(&scanned.path, e))?;
    if meta.len() != scanned.size || meta.modified().ok() != scanned.modified {
        return Err(ImportError::Changed(scanned.path.clone()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], enc: Encoding) -> String {
        let mut s = String::new();
        Decoding::new(bytes, enc).read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn decodes_utf8_with_bom_and_1251() {
        assert_eq!(decode(b"\xEF\xBB\xBFabc", Encoding::Utf8), "abc");
        assert_eq!(decode("абв".as_bytes(), Encoding::Utf8), "абв");
        let (cp, _, _) = WINDOWS_1251.encode("Телефон;Имя\nИван");
        assert_eq!(decode(&cp, Encoding::Windows1251), "Телефон;Имя\nИван");
        // Longer than one buffer, in odd-sized reads.
        let long = "ж".repeat(100_000);
        let (cp, _, _) = WINDOWS_1251.encode(&long);
        let mut r = Decoding::new(&cp[..], Encoding::Windows1251);
        let mut out = Vec::new();
        let mut small = [0u8; 7];
        loop {
            let n = r.read(&mut small).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&small[..n]);
        }
        assert_eq!(String::from_utf8(out).unwrap(), long);
    }

    #[test]
    fn utf8_check_across_reads() {
        let text = "Привет, мир".as_bytes();
        for cut in 0..text.len() {
            let mut c = Utf8Check::default();
            c.feed(&text[..cut]);
            c.feed(&text[cut..]);
            assert_eq!(c.finish(), None, "cut at {cut}");
        }
        let mut c = Utf8Check::default();
        c.feed(b"ok \xC0 no");
        assert_eq!(c.finish(), Some(3));
        let mut c = Utf8Check::default();
        c.feed(b"cut \xD0");
        assert_eq!(c.finish(), Some(4));
    }

    #[test]
    fn delimiter_from_the_header_line() {
        assert_eq!(detect_delimiter(b"card;phone;name\n1,2,3,4,5"), b';');
        assert_eq!(detect_delimiter(b"card,phone,\"a;b\"\n"), b',');
        assert_eq!(detect_delimiter(b"card\tphone\n"), b'\t');
        assert_eq!(detect_delimiter(b"phone\n"), b';');
        assert_eq!(detect_delimiter(b""), b';');
    }

    #[test]
    fn scan_detects_encoding_and_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.csv");
        let (cp, _, _) = WINDOWS_1251.encode("Телефон,Имя\n");
        std::fs::write(&p, &cp).unwrap();
        let s = scan(&p, EncodingChoice::Auto, DelimiterChoice::Auto).unwrap();
        assert_eq!(
            (s.encoding, s.delimiter, s.bom),
            (Encoding::Windows1251, b',', false)
        );
        assert_eq!(s.sha256.len(), 64);
        let err = scan(&p, EncodingChoice::Utf8, DelimiterChoice::Auto).unwrap_err();
        assert_eq!(err.code(), "IMPORT_ENCODING");
        std::fs::write(&p, "\u{feff}phone;name\n").unwrap();
        let s = scan(&p, EncodingChoice::Auto, DelimiterChoice::Byte(b',')).unwrap();
        assert_eq!(
            (s.encoding, s.delimiter, s.bom),
            (Encoding::Utf8, b',', true)
        );
        std::fs::write(&p, b"\xFF\xFEp\0").unwrap();
        assert_eq!(
            scan(&p, EncodingChoice::Auto, DelimiterChoice::Auto)
                .unwrap_err()
                .code(),
            "IMPORT_ENCODING"
        );
        assert_eq!(unchanged(&s).unwrap_err().code(), "IMPORT_FILE_CHANGED");
    }
}
