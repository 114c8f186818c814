//! Members written straight into the server's tables (accounts with their book, customers,
//! cards), as if enrolled and synced long ago: one transaction, explicit gseq 1..N, sorted
//! account uids (so every b-tree grows at its end). The shape follows the till store
//! benchmark's simulated year (`crate::generate`): per member ≈ 1.7 unexpired lots with
//! points left, ≈ 9 % with a family card, lifetime counters to match. Tills then receive
//! these rows only through the real API (snapshot pages, changes).

use chrono::{DateTime, Duration, Months, Utc};
use loyalty_domain::{AccountBook, BookLot, Profile};
use loyalty_server::backend::hash::ts;
use rusqlite::{params, Connection};

use crate::generate::member::uuid_at;
use crate::generate::names::{person, phone_e164};

/// Card prefix of generated members (tills `T01..T99` issue `20001..20099`).
pub const CARD_PREFIX: &str = "29999";
/// Rows per multi-row INSERT statement.
const CHUNK: usize = 128;

/// One member as the server stores it.
pub struct Member {
    pub account_uid: String,
    pub customer_uid: String,
    pub profile: String,
    pub book: String,
    pub cards: Vec<(String, &'static str)>,
    pub created_at: String,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Member `serial` (1-based) enrolled at `enrolled`, with lots earned up to `now`.
pub fn member(
    rng: &mut fastrand::Rng,
    serial: u64,
    enrolled: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Member, String> {
    let mut bytes = [0u8; 10];
    rng.fill(&mut bytes);
    let account_uid = uuid_at(enrolled.timestamp_millis(), bytes);
    rng.fill(&mut bytes);
    let customer_uid = uuid_at(enrolled.timestamp_millis(), bytes);
    let p = person(rng, serial);
    let profile = Profile {
        name: p.name,
        phone: Some(phone_e164(serial)),
        email: p.email,
        preferred_channel: ["sms", "messenger", "email", "none"][rng.usize(..4)].into(),
        marketing_consent: rng.u8(..100) < 60,
        ..Profile::default()
    };
    let mut book = AccountBook::new(account_uid.as_str());
    // Active lots: 0..=4, mean ≈ 1.7 (the store benchmark's simulated members).
    let lots = [0, 1, 1, 1, 2, 2, 2, 3, 3, 4][rng.usize(..10)];
    let since = (now - enrolled).num_minutes().clamp(1, 330 * 24 * 60);
    let mut earned: Vec<i64> = (0..lots).map(|_| rng.i64(0..since)).collect();
    earned.sort_unstable_by(|a, b| b.cmp(a));
    for ago in earned {
        let at = now - Duration::minutes(ago);
        rng.fill(&mut bytes);
        let op = uuid_at(at.timestamp_millis(), bytes);
        let original = rng.i64(5..400);
        let remaining = if rng.u8(..100) < 30 {
            rng.i64(1..=original)
        } else {
            original
        };
        book.lots.push(BookLot {
            id: format!("{op}:0"),
            kind: "earn".into(),
            earned_at: at,
            available_at: at + Duration::days(14),
            expires_at: at.checked_add_months(Months::new(12)),
            original,
            remaining,
            expired: 0,
            source_op: op,
        });
    }
    book.lifetime_purchases = lots as u32 + rng.u32(..20);
    book.lifetime_spend = i64::from(book.lifetime_purchases) * rng.i64(20_000..200_000);
    book.stamps = book.lifetime_purchases % 6;
    let card = |serial: u64| loyalty_cards::card::generate(CARD_PREFIX, serial).map_err(err);
    let mut cards = vec![(card(serial)?, "primary")];
    if rng.u8(..100) < 9 {
        // Family cards take serials above every primary one.
        cards.push((card(5_000_000 + serial)?, "family"));
    }
    Ok(Member {
        account_uid,
        customer_uid,
        profile: serde_json::to_string(&profile).map_err(err)?,
        book: serde_json::to_string(&book).map_err(err)?,
        cards,
        created_at: ts(enrolled),
    })
}

/// What [`load`] wrote.
#[derive(Debug, Clone, Copy, Default)]
pub struct Loaded {
    pub members: u64,
    pub cards: u64,
    pub lots: u64,
    pub seconds: f64,
}

fn insert_sql(head: &str, cols: usize, rows: usize) -> String {
    let one = format!("({})", vec!["?"; cols].join(","));
    format!("INSERT INTO {head} VALUES {}", vec![one; rows].join(","))
}

/// Bulk-inserts `members` members into the migrated server database at `path` (nothing
/// else may write meanwhile) and moves the gseq counter past them.
pub fn load(path: &std::path::Path, members: u64, seed: u64) -> Result<Loaded, String> {
    let started = std::time::Instant::now();
    let mut conn = Connection::open(path).map_err(err)?;
    conn.execute_batch("PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;")
        .map_err(err)?;
    let now = Utc::now();
    let span = Duration::days(3 * 365);
    let start = now - span;
    let step_ms = (span.num_milliseconds() / i64::try_from(members).map_err(err)?).max(1);
    let (send, recv) = std::sync::mpsc::sync_channel::<Result<Vec<Member>, String>>(8);
    let producer = std::thread::spawn(move || {
        let mut rng = fastrand::Rng::with_seed(seed ^ 0x5e7e7);
        let mut serial = 1;
        while serial <= members {
            let end = (serial + CHUNK as u64).min(members + 1);
            let batch = (serial..end)
                .map(|s| {
                    let enrolled = start + Duration::milliseconds(step_ms * s as i64);
                    member(&mut rng, s, enrolled, now)
                })
                .collect();
            if send.send(batch).is_err() {
                return;
            }
            serial = end;
        }
    });
    let tx = conn.transaction().map_err(err)?;
    let mut out = Loaded::default();
    let mut gseq: i64 = 0;
    for batch in recv {
        let batch = batch?;
        let mut st = tx
            .prepare_cached(&insert_sql(
                "accounts (uid, gseq, book, created_at, updated_at)",
                5,
                batch.len(),
            ))
            .map_err(err)?;
        let mut i = 0;
        for m in &batch {
            gseq += 1;
            for v in [&m.account_uid as &dyn rusqlite::ToSql, &gseq, &m.book]
                .into_iter()
                .chain([&m.created_at as &dyn rusqlite::ToSql, &m.created_at])
            {
                i += 1;
                st.raw_bind_parameter(i, v).map_err(err)?;
            }
            out.lots += m.book.matches("\"kind\"").count() as u64;
        }
        st.raw_execute().map_err(err)?;
        let mut st = tx
            .prepare_cached(&insert_sql(
                "customers (uid, account_uid, profile, referrer_uid, created_at)",
                5,
                batch.len(),
            ))
            .map_err(err)?;
        let mut i = 0;
        for m in &batch {
            let vals: [&dyn rusqlite::ToSql; 5] = [
                &m.customer_uid,
                &m.account_uid,
                &m.profile,
                &rusqlite::types::Null,
                &m.created_at,
            ];
            for v in vals {
                i += 1;
                st.raw_bind_parameter(i, v).map_err(err)?;
            }
        }
        st.raw_execute().map_err(err)?;
        let mut st = tx
            .prepare_cached(
                "INSERT INTO cards (number, account_uid, status, kind, created_at)
                 VALUES (?1, ?2, 'active', ?3, ?4)",
            )
            .map_err(err)?;
        for m in &batch {
            for (number, kind) in &m.cards {
                st.execute(params![number, m.account_uid, kind, m.created_at])
                    .map_err(err)?;
                out.cards += 1;
            }
        }
        out.members += batch.len() as u64;
        if out.members % 100_000 < CHUNK as u64 {
            eprintln!(
                "  server members: {}/{members} ({:.1} s)",
                out.members,
                started.elapsed().as_secs_f64()
            );
        }
    }
    producer
        .join()
        .map_err(|_| "the member generator panicked".to_string())?;
    if out.members != members {
        return Err(format!("generated {} of {members} members", out.members));
    }
    tx.execute("UPDATE counters SET value = ?1 WHERE name = 'gseq'", [gseq])
        .map_err(err)?;
    tx.commit().map_err(err)?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .map_err(err)?;
    out.seconds = started.elapsed().as_secs_f64();
    Ok(out)
}

/// `(account uid, primary card)` of every generated member, in serial order.
pub fn cards(path: &std::path::Path) -> Result<Vec<(String, String)>, String> {
    let conn = Connection::open(path).map_err(err)?;
    let mut st = conn
        .prepare(
            "SELECT account_uid, number FROM cards WHERE kind = 'primary' AND number LIKE ?1
             ORDER BY number",
        )
        .map_err(err)?;
    let rows = st
        .query_map([format!("{CARD_PREFIX}%")], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(err)?;
    rows.collect::<rusqlite::Result<_>>().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_valid_books_with_valid_cards() {
        let mut rng = fastrand::Rng::with_seed(1);
        let now = Utc::now();
        let mut lots = 0;
        for s in 1..=500 {
            let m = member(&mut rng, s, now - Duration::days(400), now).unwrap();
            let book: AccountBook = serde_json::from_str(&m.book).unwrap();
            assert_eq!(book.account_uid, m.account_uid);
            for l in &book.lots {
                assert!(l.remaining > 0 && l.remaining <= l.original);
                assert!(l.expires_at.is_some_and(|e| e > now));
            }
            lots += book.lots.len();
            for (c, _) in &m.cards {
                assert!(loyalty_cards::card::validate(c).is_ok(), "{c}");
            }
        }
        let mean = lots as f64 / 500.0;
        assert!((1.4..2.0).contains(&mean), "{mean}");
    }
}
