//! Embedded, ordered, checksummed migrations: the checks shared by every backend.

use super::hash::sha256_hex;
use super::{BackendError, Result};

/// One embedded migration.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    pub fn checksum(&self) -> String {
        sha256_hex(self.sql)
    }
}

/// Every applied `(version, name, checksum)` must be a migration of this build, unchanged.
pub fn verify(applied: &[(i64, String, String)], migrations: &[Migration]) -> Result<()> {
    for (version, name, sum) in applied {
        match migrations.iter().find(|m| m.version == *version) {
            None => return Err(BackendError::MigrationUnknown(*version)),
            Some(m) if m.checksum() != *sum => {
                return Err(BackendError::MigrationChanged {
                    version: *version,
                    name: name.clone(),
                })
            }
            Some(_) => {}
        }
    }
    Ok(())
}
