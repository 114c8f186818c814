//! Embedded, ordered, checksummed server migrations (`migrations/server/sqlite/`).

use crate::backend::migration::verify;
pub use crate::backend::migration::Migration;
use crate::backend::{MigrationStatus, Result};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

/// The migrations of this build, in order. Never edit an entry once released: append one.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_init",
        sql: include_str!("../../../../migrations/server/sqlite/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "0002_server_batches",
        sql: include_str!("../../../../migrations/server/sqlite/0002_server_batches.sql"),
    },
    Migration {
        version: 3,
        name: "0003_analytics",
        sql: include_str!("../../../../migrations/server/sqlite/0003_analytics.sql"),
    },
    Migration {
        version: 4,
        name: "0004_customer_categories",
        sql: include_str!("../../../../migrations/server/sqlite/0004_customer_categories.sql"),
    },
    Migration {
        version: 5,
        name: "0005_member_days",
        sql: include_str!("../../../../migrations/server/sqlite/0005_member_days.sql"),
    },
    Migration {
        version: 6,
        name: "0006_merged_accounts",
        sql: include_str!("../../../../migrations/server/sqlite/0006_merged_accounts.sql"),
    },
    Migration {
        version: 7,
        name: "0007_analytics_projection",
        sql: include_str!("../../../../migrations/server/sqlite/0007_analytics_projection.sql"),
    },
];

/// Checks that every applied migration is known and unchanged, then applies the missing
/// ones, each in its own IMMEDIATE transaction.
pub fn migrate(conn: &mut Connection, migrations: &[Migration]) -> Result<Vec<MigrationStatus>> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    BIGINT PRIMARY KEY,
            name       TEXT NOT NULL,
            checksum   TEXT NOT NULL,
            applied_at TEXT NOT NULL
        )",
    )?;
    let applied: Vec<(i64, String, String)> = {
        let mut st =
            conn.prepare("SELECT version, name, checksum FROM schema_migrations ORDER BY version")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    verify(&applied, migrations)?;
    let mut out = Vec::new();
    for m in migrations {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let done: Option<i64> = tx
            .query_row(
                "SELECT version FROM schema_migrations WHERE version = ?1",
                [m.version],
                |r| r.get(0),
            )
            .optional()?;
        if done.is_none() {
            tx.execute_batch(m.sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    m.version,
                    m.name,
                    m.checksum(),
                    crate::backend::hash::ts(chrono::Utc::now())
                ],
            )?;
        }
        tx.commit()?;
        out.push(MigrationStatus {
            version: m.version,
            name: m.name.to_string(),
            newly_applied: done.is_none(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_once_and_refuses_edits_and_unknown_versions() {
        let mut c = Connection::open_in_memory().unwrap();
        let first = migrate(&mut c, MIGRATIONS).unwrap();
        assert!(first.iter().all(|m| m.newly_applied));
        let again = migrate(&mut c, MIGRATIONS).unwrap();
        assert!(again.iter().all(|m| !m.newly_applied));

        let edited = [Migration {
            version: 1,
            name: "0001_init",
            sql: "-- edited",
        }];
        let err = migrate(&mut c, &edited).unwrap_err();
        assert_eq!(err.code(), "DB_MIGRATION_CHANGED");
        let err = migrate(&mut c, &[]).unwrap_err();
        assert_eq!(err.code(), "DB_MIGRATION_UNKNOWN");
    }
}
