//! Embedded, ordered, checksummed server migrations (`migrations/server/postgres/`),
//! with the same `schema_migrations` table and checks as the SQLite side.

use super::tx::col;
use crate::backend::hash::ts;
use crate::backend::migration::{verify, Migration};
use crate::backend::{MigrationStatus, Result};
use deadpool_postgres::Client;

/// The migrations of this build, in order. Never edit an entry once released: append one.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_init",
        sql: include_str!("../../../../migrations/server/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "0002_server_batches",
        sql: include_str!("../../../../migrations/server/postgres/0002_server_batches.sql"),
    },
    Migration {
        version: 3,
        name: "0003_analytics",
        sql: include_str!("../../../../migrations/server/postgres/0003_analytics.sql"),
    },
    Migration {
        version: 4,
        name: "0004_customer_categories",
        sql: include_str!("../../../../migrations/server/postgres/0004_customer_categories.sql"),
    },
    Migration {
        version: 5,
        name: "0005_member_days",
        sql: include_str!("../../../../migrations/server/postgres/0005_member_days.sql"),
    },
    Migration {
        version: 6,
        name: "0006_merged_accounts",
        sql: include_str!("../../../../migrations/server/postgres/0006_merged_accounts.sql"),
    },
];

/// Checks that every applied migration is known and unchanged, then applies the missing
/// ones, each in its own transaction.
pub async fn migrate(
    client: &mut Client,
    migrations: &[Migration],
) -> Result<Vec<MigrationStatus>> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version    BIGINT PRIMARY KEY,
                name       TEXT NOT NULL,
                checksum   TEXT NOT NULL,
                applied_at TEXT NOT NULL
            )",
        )
        .await?;
    let rows = client
        .query(
            "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
            &[],
        )
        .await?;
    let applied = rows
        .iter()
        .map(|r| Ok((col(r, 0)?, col(r, 1)?, col(r, 2)?)))
        .collect::<Result<Vec<(i64, String, String)>>>()?;
    verify(&applied, migrations)?;
    let mut out = Vec::new();
    for m in migrations {
        let tx = client.transaction().await?;
        let done = tx
            .query_opt(
                "SELECT version FROM schema_migrations WHERE version = $1",
                &[&m.version],
            )
            .await?
            .is_some();
        if !done {
            tx.batch_execute(m.sql).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at)
                 VALUES ($1, $2, $3, $4)",
                &[&m.version, &m.name, &m.checksum(), &ts(chrono::Utc::now())],
            )
            .await?;
        }
        tx.commit().await?;
        out.push(MigrationStatus {
            version: m.version,
            name: m.name.to_string(),
            newly_applied: !done,
        });
    }
    Ok(out)
}
