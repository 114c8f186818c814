//! Property: whatever bytes a members file holds (valid, truncated, garbled, random), the
//! import never panics, and either imports every non-blank row or nothing at all (the
//! database row counts before and after say which). An untouched valid file imports.
//! `PROPTEST_CASES` sets the number of cases (default 64; PostgreSQL: a quarter).

mod import_support;
mod support;

use chrono::Utc;
use import_support::*;
use loyalty_server::import::input::Encoding;
use loyalty_server::import::{self, ImportOutcome};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use support::*;

/// Unique phones and cards across cases, so valid files do not collide with earlier ones.
static NEXT: AtomicU64 = AtomicU64::new(1);

#[derive(Clone, Debug)]
struct RowSpec {
    card: bool,
    phone: bool,
    name: &'static str,
    email: bool,
    birthday: Option<(u32, u32, i32)>,
    consent: bool,
    points: i64,
    tags: &'static str,
}

#[derive(Clone, Debug)]
enum Garble {
    None,
    Truncate(Index),
    Flip(Vec<(Index, u8)>),
    Insert(Vec<(Index, u8)>),
    Delete(Index, usize),
    SwapDelimiter,
    Random(Vec<u8>),
}

#[derive(Clone, Debug)]
struct Case {
    rows: Vec<RowSpec>,
    comma: bool,
    /// 0: UTF-8, 1: UTF-8 with BOM, 2: Windows-1251.
    encoding: u8,
    garble: Garble,
}

const NAMES: &[&str] = &[
    "Анна Иванова",
    "O'Brien, \"Jack\"",
    "Ёлкина; Жанна",
    "Line\nbreak",
    "",
    "Щукин Эдуард Петрович",
];
const TAGS: &[&str] = &["", "vip", "кофе, чай", "a;b|c"];

fn row_spec() -> impl Strategy<Value = RowSpec> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(NAMES),
        any::<bool>(),
        prop::option::of((1u32..=28, 1u32..=12, 1930i32..2010)),
        any::<bool>(),
        0i64..100_000,
        prop::sample::select(TAGS),
    )
        .prop_map(
            |(card, phone, name, email, birthday, consent, points, tags)| RowSpec {
                card,
                // A row needs a key: a phone when it has neither card nor name.
                phone: phone || (!card && name.is_empty()),
                name,
                email,
                birthday,
                consent,
                points,
                tags,
            },
        )
}

fn garble() -> impl Strategy<Value = Garble> {
    prop_oneof![
        3 => Just(Garble::None),
        1 => any::<Index>().prop_map(Garble::Truncate),
        2 => prop::collection::vec((any::<Index>(), any::<u8>()), 1..6).prop_map(Garble::Flip),
        1 => prop::collection::vec((any::<Index>(), any::<u8>()), 1..6).prop_map(Garble::Insert),
        1 => (any::<Index>(), 1usize..40).prop_map(|(i, n)| Garble::Delete(i, n)),
        1 => Just(Garble::SwapDelimiter),
        1 => prop::collection::vec(any::<u8>(), 0..300).prop_map(Garble::Random),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(row_spec(), 0..8),
        any::<bool>(),
        0u8..3,
        garble(),
    )
        .prop_map(|(rows, comma, encoding, garble)| Case {
            rows,
            comma,
            encoding,
            garble,
        })
}

fn render(c: &Case) -> Vec<u8> {
    let delimiter = if c.comma { b',' } else { b';' };
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(Vec::new());
    let header = [
        "card", "phone", "name", "email", "birthday", "consent", "points", "tags",
    ];
    w.write_record(header).unwrap();
    for r in &c.rows {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let card = if r.card {
            loyalty_cards::card::generate("2777", n).unwrap()
        } else {
            String::new()
        };
        let phone = if r.phone {
            format!("8 916 {:07}", n % 10_000_000)
        } else {
            String::new()
        };
        let email = if r.email {
            format!("m{n}@example.com")
        } else {
            String::new()
        };
        let birthday = r
            .birthday
            .map(|(d, m, y)| format!("{d:02}.{m:02}.{y}"))
            .unwrap_or_default();
        let consent = if r.consent { "да" } else { "нет" };
        let points = r.points.to_string();
        w.write_record([
            card.as_str(),
            &phone,
            r.name,
            &email,
            &birthday,
            consent,
            &points,
            r.tags,
        ])
        .unwrap();
    }
    let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
    match c.encoding {
        0 => text.into_bytes(),
        1 => [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
        _ => encoding_rs::WINDOWS_1251.encode(&text).0.into_owned(),
    }
}

fn apply_garble(mut bytes: Vec<u8>, g: &Garble, comma: bool) -> Vec<u8> {
    match g {
        Garble::None => {}
        Garble::Truncate(i) => {
            let cut = i.index(bytes.len() + 1);
            bytes.truncate(cut);
        }
        Garble::Flip(v) => {
            for (i, b) in v {
                if !bytes.is_empty() {
                    let at = i.index(bytes.len());
                    bytes[at] = *b;
                }
            }
        }
        Garble::Insert(v) => {
            for (i, b) in v {
                let at = i.index(bytes.len() + 1);
                bytes.insert(at, *b);
            }
        }
        Garble::Delete(i, n) => {
            let at = i.index(bytes.len() + 1);
            let end = (at + n).min(bytes.len());
            bytes.drain(at..end);
        }
        Garble::SwapDelimiter => {
            let (from, to) = if comma { (b',', b';') } else { (b';', b',') };
            for b in bytes.iter_mut() {
                if *b == from {
                    *b = to;
                }
            }
        }
        Garble::Random(r) => bytes = r.clone(),
    }
    bytes
}

/// Non-blank data records as a plain CSV reading of the bytes sees them.
fn nonblank_records(bytes: &[u8], encoding: Encoding, delimiter: u8) -> u64 {
    let text = match encoding {
        Encoding::Utf8 => {
            let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            String::from_utf8_lossy(b).into_owned()
        }
        Encoding::Windows1251 => encoding_rs::WINDOWS_1251.decode(bytes).0.into_owned(),
    };
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    r.records()
        .map(|rec| rec.unwrap())
        .filter(|rec| rec.iter().any(|f| !f.trim().is_empty()))
        .count() as u64
}

async fn one_case(s: &TestServer, dir: &Path, n: u64, c: &Case) -> Result<(), TestCaseError> {
    let bytes = apply_garble(render(c), &c.garble, c.comma);
    let path = write(dir, &format!("case{n}.csv"), &bytes);
    let before = counts(s).await;
    let outcome = import::run(s.backend.clone(), options(&path), Utc::now()).await;
    let after = counts(s).await;
    match outcome {
        Ok(ImportOutcome::Imported {
            summary, record, ..
        }) => {
            prop_assert_eq!(after.0 - before.0, summary.members as i64);
            prop_assert_eq!(after.1 - before.1, summary.members as i64);
            prop_assert_eq!(after.3 - before.3, record.events);
            let rows = nonblank_records(&bytes, summary.encoding, summary.delimiter);
            prop_assert_eq!(summary.members, rows, "every non-blank row imported");
        }
        Ok(ImportOutcome::Invalid { errors, .. }) => {
            prop_assert!(errors.total > 0);
            prop_assert_eq!(after, before, "an invalid file imports nothing");
            prop_assert!(
                !matches!(c.garble, Garble::None),
                "a valid file was refused: {:?}",
                errors.errors.first()
            );
        }
        Ok(ImportOutcome::AlreadyImported { .. }) => prop_assert_eq!(after, before),
        Ok(ImportOutcome::DryRun { .. }) => prop_assert!(false, "not a dry run"),
        Err(e) => {
            prop_assert_eq!(after, before, "a failed import imports nothing");
            prop_assert!(!matches!(c.garble, Garble::None), "{} {}", e.code(), e);
        }
    }
    Ok(())
}

fn run_cases(db: Db, cases: u32) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = rt.block_on(start(db));
    let dir = tempfile::tempdir().unwrap();
    let mut runner = TestRunner::new(Config {
        cases,
        max_shrink_iters: 200,
        ..Config::default()
    });
    let counter = AtomicU64::new(0);
    let result = runner.run(&case(), |c| {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        rt.block_on(one_case(&s, dir.path(), n, &c))
    });
    rt.block_on(s.stop());
    if let Err(e) = result {
        panic!("{e}");
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

#[test]
fn garbled_files_import_all_or_nothing_sqlite() {
    run_cases(Db::Sqlite, cases());
}

#[test]
fn garbled_files_import_all_or_nothing_postgres() {
    if let Some(db) = Db::postgres("garbled_files_import_all_or_nothing_postgres", false) {
        run_cases(db, (cases() / 4).max(8));
    }
}
