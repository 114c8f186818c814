//! Program configurations: versioned, each effective from a moment; cached in memory.

use chrono::{DateTime, Utc};
use loyalty_domain::ProgramConfig;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::error::{Result, StoreError};
use crate::ops::ms;
use crate::Store;

/// All stored program versions, sorted by version; never empty.
pub(crate) struct Programs {
    list: Vec<ProgramConfig>,
}

impl Programs {
    /// Loads the stored versions, inserting `ProgramConfig::default()` into an empty table.
    pub(crate) fn load(conn: &mut Connection) -> Result<Programs> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let count: i64 = tx.query_row("SELECT COUNT(*) FROM program_versions", [], |r| r.get(0))?;
        if count == 0 {
            let default = ProgramConfig::default();
            insert(&tx, &default, Utc::now())?;
        }
        tx.commit()?;
        let mut st = conn.prepare("SELECT json FROM program_versions ORDER BY version")?;
        let rows = st.query_map([], |r| r.get::<_, String>(0))?;
        let mut list = Vec::new();
        for json in rows {
            list.push(serde_json::from_str::<ProgramConfig>(&json?)?);
        }
        if list.is_empty() {
            return Err(StoreError::Corrupt("no program version stored".into()));
        }
        Ok(Programs { list })
    }

    /// The version in force at `t`: the highest version already effective at `t` (a newer
    /// version supersedes the older ones from its `effective_from` on, even if an older one
    /// was scheduled later); before any is effective, the one effective first.
    pub(crate) fn at(&self, t: DateTime<Utc>) -> &ProgramConfig {
        let effective = self.list.iter().rev().find(|p| p.effective_from <= t);
        let first = || {
            self.list
                .iter()
                .min_by_key(|p| (p.effective_from, p.version))
        };
        // `list` is never empty (checked in `load`), so `first()` is always `Some`.
        match effective.or_else(first) {
            Some(p) => p,
            None => &self.list[0],
        }
    }
}

fn insert(conn: &Connection, p: &ProgramConfig, now: DateTime<Utc>) -> Result<()> {
    let json = serde_json::to_string(p)?;
    conn.execute(
        "INSERT INTO program_versions (version, effective_from, json, created_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![p.version, ms(p.effective_from), json, ms(now)],
    )?;
    Ok(())
}

impl Store {
    /// Stores a program version (validated). Storing the same version again with the same
    /// content is a no-op; with a different content → [`StoreError::ProgramConflict`].
    /// Sales use the version in force at their time ([`Store::program_at`]).
    pub fn set_program(&mut self, config: &ProgramConfig, now: DateTime<Utc>) -> Result<()> {
        config.validate()?;
        let json = serde_json::to_string(config)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT json FROM program_versions WHERE version = ?1",
                [config.version],
                |r| r.get(0),
            )
            .optional()?;
        match existing {
            Some(j) if j == json => return Ok(()),
            Some(_) => return Err(StoreError::ProgramConflict(config.version)),
            None => insert(&tx, config, now)?,
        }
        tx.commit()?;
        self.programs = Programs::load(&mut self.conn)?;
        Ok(())
    }

    /// The program version in force at `t`.
    pub fn program_at(&self, t: DateTime<Utc>) -> &ProgramConfig {
        self.programs.at(t)
    }

    /// Every stored program version (the built-in default and those received through
    /// sync), oldest version first; never empty.
    pub fn program_versions(&self) -> &[ProgramConfig] {
        &self.programs.list
    }
}
