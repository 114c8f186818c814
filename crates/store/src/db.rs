//! Opening the SQLite file: pragmas and the ordered, checksummed migrations.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};

/// One embedded migration: `migrations/till/NNNN_name.sql`.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// The migrations of this build, in order. Never edit an entry once released: append one.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_init",
        sql: include_str!("../../../migrations/till/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "0002_sync",
        sql: include_str!("../../../migrations/till/0002_sync.sql"),
    },
    Migration {
        version: 3,
        name: "0003_account_cache",
        sql: include_str!("../../../migrations/till/0003_account_cache.sql"),
    },
    Migration {
        version: 4,
        name: "0004_staff",
        sql: include_str!("../../../migrations/till/0004_staff.sql"),
    },
    Migration {
        version: 5,
        name: "0005_side_records",
        sql: include_str!("../../../migrations/till/0005_side_records.sql"),
    },
    Migration {
        version: 6,
        name: "0006_categories",
        sql: include_str!("../../../migrations/till/0006_categories.sql"),
    },
    Migration {
        version: 7,
        name: "0007_merged_accounts",
        sql: include_str!("../../../migrations/till/0007_merged_accounts.sql"),
    },
    Migration {
        version: 8,
        name: "0008_cache_triggers",
        sql: include_str!("../../../migrations/till/0008_cache_triggers.sql"),
    },
    Migration {
        version: 9,
        name: "0009_lot_insert_no_trigger",
        sql: include_str!("../../../migrations/till/0009_lot_insert_no_trigger.sql"),
    },
    Migration {
        version: 10,
        name: "0010_deferred_books",
        sql: include_str!("../../../migrations/till/0010_deferred_books.sql"),
    },
    Migration {
        version: 11,
        name: "0011_outbox_sales_index",
        sql: include_str!("../../../migrations/till/0011_outbox_sales_index.sql"),
    },
    Migration {
        version: 12,
        name: "0012_customers_phone_index",
        sql: include_str!("../../../migrations/till/0012_customers_phone_index.sql"),
    },
];

/// SQLite page cache: 16 MiB (negative = KiB), keeps RSS modest at a million members.
pub(crate) const CACHE_SIZE_KIB: i64 = 16_000;

/// Opens (creating if needed) the database with the store's pragmas and migrates it.
pub fn open_connection(path: &Path) -> Result<Connection> {
    let mut conn = Connection::open(path)?;
    configure(&conn)?;
    migrate(&mut conn, MIGRATIONS)?;
    // A first start cut short left the customers' phone and name indexes out; the phones
    // it clears are those a completed one would have cleared (`bulk.rs`).
    crate::bulk::restore(&mut conn)?;
    Ok(conn)
}

/// WAL, synchronous=FULL (durable commits), foreign keys, busy timeout, modest cache.
pub fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!(
            "cannot enable WAL (journal_mode={mode})"
        )));
    }
    conn.execute_batch(&format!(
        "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-{CACHE_SIZE_KIB}; \
         PRAGMA temp_store=MEMORY;"
    ))?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

/// Hex SHA-256 of a migration's text.
pub fn checksum(sql: &str) -> String {
    hex(&Sha256::digest(sql.as_bytes()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Applies `migrations` in order, each in its own IMMEDIATE transaction, after checking that
/// every already applied one is unchanged (checksum) and known to this build.
pub fn migrate(conn: &mut Connection, migrations: &[Migration]) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            checksum   TEXT NOT NULL,
            applied_at INTEGER NOT NULL
        )",
    )?;
    let applied: Vec<(i64, String, String)> = {
        let mut st =
            conn.prepare("SELECT version, name, checksum FROM schema_migrations ORDER BY version")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (version, name, sum) in &applied {
        match migrations.iter().find(|m| m.version == *version) {
            None => return Err(StoreError::MigrationUnknown(*version)),
            Some(m) if checksum(m.sql) != *sum => {
                return Err(StoreError::MigrationChanged {
                    version: *version,
                    name: name.clone(),
                })
            }
            Some(_) => {}
        }
    }
    // Foreign keys are not enforced while a migration runs (a table rebuilt by the
    // documented create-copy-drop-rename steps would fail its children otherwise); every
    // key is checked before the migration commits.
    conn.execute_batch("PRAGMA foreign_keys=OFF")?;
    let applied = apply_pending(conn, migrations);
    let restored = conn.execute_batch("PRAGMA foreign_keys=ON");
    applied?;
    restored?;
    Ok(())
}

/// The migrations not yet applied, each in its own IMMEDIATE transaction; one that leaves
/// more broken foreign keys than the database had before it is not committed.
fn apply_pending(conn: &mut Connection, migrations: &[Migration]) -> Result<()> {
    for m in migrations {
        // Broken keys the database had before this migration (counted only if the
        // migration leaves some: a full check is one look-up per row of every child).
        let mut before: Option<i64> = None;
        loop {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let done: Option<i64> = tx
                .query_row(
                    "SELECT version FROM schema_migrations WHERE version = ?1",
                    [m.version],
                    |r| r.get(0),
                )
                .optional()?;
            if done.is_some() {
                break;
            }
            tx.execute_batch(m.sql)?;
            let broken = broken_keys(&tx)?;
            if broken > before.unwrap_or(0) {
                drop(tx);
                if before.is_none() {
                    before = Some(broken_keys(conn)?);
                    continue;
                }
                return Err(StoreError::Corrupt(format!(
                    "migration {} leaves {broken} broken foreign keys",
                    m.name
                )));
            }
            tx.execute(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    m.version,
                    m.name,
                    checksum(m.sql),
                    chrono::Utc::now().timestamp_millis()
                ],
            )?;
            tx.commit()?;
            break;
        }
    }
    Ok(())
}

fn broken_keys(conn: &Connection) -> Result<i64> {
    Ok(
        conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })?,
    )
}

#[cfg(test)]
mod tests {
    fn option_used(name: &str) -> i64 {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.query_row("SELECT sqlite_compileoption_used(?1)", [name], |r| r.get(0))
            .unwrap()
    }

    /// `.cargo/config.toml` builds SQLite without `SQLITE_ENABLE_MEMORY_MANAGEMENT`, which
    /// would put every connection's page cache behind one process-wide mutex (the server's
    /// writer and readers, and in one process the bench's tills, queue for it), and
    /// without allocation statistics (a mutex around every malloc).
    #[test]
    fn sqlite_takes_no_process_wide_mutex_per_page_or_allocation() {
        assert_eq!(option_used("ENABLE_API_ARMOR"), 1, "options are readable");
        assert_eq!(option_used("ENABLE_MEMORY_MANAGEMENT"), 0);
        assert_eq!(option_used("DEFAULT_MEMSTATUS=0"), 1);
    }
}
