//! The till's staff (cashiers and owners) and the wrong-PIN lockout (migration 0004).
//!
//! The store keeps PIN hashes (argon2 PHC strings made by the app) and the lockout state;
//! hashing and verifying are the app's job. Staff are not facts: nothing here reaches the
//! outbox.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::ops::{from_ms, ms};
use crate::Store;

/// What a member of staff may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Cashier,
    Owner,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Cashier => "cashier",
            Role::Owner => "owner",
        }
    }
    fn parse(s: &str) -> Role {
        if s == "owner" {
            Role::Owner
        } else {
            Role::Cashier
        }
    }
}

/// A member of staff with the hash of their PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub pin_hash: String,
}

/// Consecutive wrong PINs and the end of the current lockout, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginGuard {
    pub failures: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

impl Store {
    /// Adds a member of staff (`pin_hash` is an argon2 PHC string). Returns the id.
    pub fn staff_add(
        &mut self,
        name: &str,
        role: Role,
        pin_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let name = name.trim();
        if name.is_empty() || pin_hash.is_empty() {
            return Err(StoreError::InvalidInput(
                "a member of staff needs a name and a PIN".into(),
            ));
        }
        self.conn.execute(
            "INSERT INTO staff (name, role, pin_hash, active, created_at) VALUES (?1, ?2, ?3, 1, ?4)",
            params![name, role.as_str(), pin_hash, ms(now)],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Active staff, owners first.
    pub fn staff_active(&self) -> Result<Vec<StaffMember>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, name, role, pin_hash FROM staff WHERE active = 1
             ORDER BY role = 'owner' DESC, id",
        )?;
        let rows = st.query_map([], |r| {
            Ok(StaffMember {
                id: r.get(0)?,
                name: r.get(1)?,
                role: Role::parse(&r.get::<_, String>(2)?),
                pin_hash: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The lockout state.
    pub fn login_guard(&self) -> Result<LoginGuard> {
        let row: Option<(i64, Option<i64>)> = self
            .conn
            .prepare_cached("SELECT failures, locked_until FROM login_guard WHERE id = 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (failures, until) = row.unwrap_or((0, None));
        Ok(LoginGuard {
            failures: u32::try_from(failures).unwrap_or(u32::MAX),
            locked_until: until.map(from_ms).transpose()?,
        })
    }

    /// Records a wrong PIN; after `limit` consecutive ones logins are refused until
    /// `now + lock_for` (and the count starts again). Returns the new state.
    pub fn login_failed(
        &mut self,
        limit: u32,
        lock_for: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<LoginGuard> {
        let g = self.login_guard()?;
        let failures = g.failures.saturating_add(1);
        let (failures, until) = if failures >= limit {
            (0, Some(ms(now + lock_for)))
        } else {
            (failures, g.locked_until.map(ms))
        };
        self.conn.execute(
            "INSERT INTO login_guard (id, failures, locked_until) VALUES (1, ?1, ?2)
             ON CONFLICT(id) DO UPDATE SET failures = excluded.failures,
                                           locked_until = excluded.locked_until",
            params![failures, until],
        )?;
        self.login_guard()
    }

    /// A successful login clears the count and any expired lockout.
    pub fn login_succeeded(&mut self) -> Result<()> {
        self.conn.execute(
            "UPDATE login_guard SET failures = 0, locked_until = NULL WHERE id = 1",
            [],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn store(dir: &tempfile::TempDir) -> Store {
        crate::test_store(dir)
    }

    #[test]
    fn staff_and_lockout_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap();
        let mut s = store(&dir);
        s.staff_add("Anna", Role::Cashier, "$argon2id$x", now)
            .unwrap();
        s.staff_add("Olga", Role::Owner, "$argon2id$y", now)
            .unwrap();
        assert!(s.staff_add(" ", Role::Owner, "h", now).is_err());
        for i in 1..=4 {
            let g = s.login_failed(5, Duration::minutes(5), now).unwrap();
            assert_eq!((g.failures, g.locked_until), (i, None));
        }
        let g = s.login_failed(5, Duration::minutes(5), now).unwrap();
        assert_eq!(g.locked_until, Some(now + Duration::minutes(5)));
        drop(s);
        let mut s = store(&dir);
        let staff = s.staff_active().unwrap();
        assert_eq!(staff[0].name, "Olga", "owners first");
        assert_eq!(staff[1].role, Role::Cashier);
        assert_eq!(
            s.login_guard().unwrap().locked_until,
            Some(now + Duration::minutes(5)),
            "a restart does not lift the lockout"
        );
        s.login_succeeded().unwrap();
        assert_eq!(s.login_guard().unwrap(), LoginGuard::default());
    }
}
