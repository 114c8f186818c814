//! A first start on an empty store builds the customers' phone and name indexes after its
//! last page instead of keeping them current row by row (migration 0012).
//!
//! A million customers arrive in the order of their account ids; their phones and names in
//! no useful order. Each insert into those two indexes lands on a random page, and page
//! after page of the snapshot rewrote most of them. [`begin`] drops both when the
//! snapshot starts on a store without customers; [`finish`] builds them with one sort each
//! (SQLite's `CREATE INDEX`) right after the last page, the one that stores the snapshot's
//! cursor (`Store::apply_snapshot_page`). A phone
//! two server customers share is kept by the first one stored and cleared on the others,
//! reported as a phone conflict, as a page applied with the index in place would have done.
//!
//! Nothing else changes meanwhile: a look-up by phone or name while the indexes are
//! missing reads the table (a first start serves nobody yet). A bootstrap that stops
//! half-way (`Store::end_snapshot`) or a store opened after a crash in one builds them
//! before anything else ([`restore`]); what the next cycle writes finds customers and
//! keeps the indexes.

use rusqlite::{Connection, OptionalExtension};

use crate::error::Result;

/// The indexes a first start builds after its last page: `(name, statement)`.
const INDEXES: [(&str, &str); 2] = [
    (
        "customers_phone",
        "CREATE UNIQUE INDEX IF NOT EXISTS customers_phone ON customers(phone)",
    ),
    (
        "customers_name_norm",
        "CREATE INDEX IF NOT EXISTS customers_name_norm ON customers(name_norm)",
    ),
];

/// Drops the indexes when the store has no customer yet; `true` when it did (the
/// snapshot's customers are then inserted without them).
pub(crate) fn begin(tx: &Connection) -> Result<bool> {
    let empty = tx
        .prepare_cached("SELECT 1 FROM customers LIMIT 1")?
        .query_row([], |_| Ok(()))
        .optional()?
        .is_none();
    if empty {
        for (name, _) in INDEXES {
            tx.execute_batch(&format!("DROP INDEX IF EXISTS {name}"))?;
        }
    }
    Ok(empty)
}

/// Builds the indexes that are missing; returns the uids of customers whose phone was
/// cleared because an earlier customer holds it (looked for only when the unique index
/// cannot be built: a sort of every phone costs as much as the index).
pub(crate) fn finish(tx: &Connection) -> Result<Vec<String>> {
    // The sorts may use a second core (SQLite's sorter threads); back to none after.
    tx.execute_batch("PRAGMA threads=2")?;
    let built = build(tx);
    let reset = tx.execute_batch("PRAGMA threads=0");
    let cleared = built?;
    reset?;
    Ok(cleared)
}

fn build(tx: &Connection) -> Result<Vec<String>> {
    let [(_, phones), (_, names)] = INDEXES;
    let mut cleared = Vec::new();
    if let Err(e) = tx.execute_batch(phones) {
        if !is_unique_violation(&e) {
            return Err(e.into());
        }
        cleared = clear_repeated_phones(tx)?;
        tx.execute_batch(phones)?;
    }
    tx.execute_batch(names)?;
    Ok(cleared)
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

/// Builds the indexes a first start cut short left out (at open, or when a bootstrap
/// stops half-way); returns what [`finish`] returns.
pub(crate) fn restore(conn: &mut Connection) -> Result<Vec<String>> {
    let mut any = false;
    for (name, _) in INDEXES {
        any |= missing(conn, name)?;
    }
    if !any {
        return Ok(Vec::new());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let cleared = finish(&tx)?;
    tx.commit()?;
    Ok(cleared)
}

fn missing(conn: &Connection, index: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1")?
        .query_row([index], |_| Ok(()))
        .optional()?
        .is_none())
}

/// Clears the phone of every customer but the first (lowest id) that has it.
fn clear_repeated_phones(tx: &Connection) -> Result<Vec<String>> {
    let repeated: Vec<(i64, String)> = tx
        .prepare(
            "SELECT id, uid FROM (
                SELECT id, uid, ROW_NUMBER() OVER (PARTITION BY phone ORDER BY id) AS nth
                FROM customers WHERE phone IS NOT NULL)
             WHERE nth > 1 ORDER BY id",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, _) in &repeated {
        tx.prepare_cached("UPDATE customers SET phone = NULL WHERE id = ?1")?
            .execute([id])?;
    }
    Ok(repeated.into_iter().map(|(_, uid)| uid).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        crate::db::migrate(&mut c, crate::db::MIGRATIONS).unwrap();
        c
    }

    fn add(c: &Connection, uid: &str, phone: Option<&str>) {
        c.execute(
            "INSERT INTO customers (uid, name, name_norm, phone, enrolled_at, enrolled_store,
                enrolled_till, op_id) VALUES (?1, 'N', 'n', ?2, 0, 's', 't', ?1)",
            rusqlite::params![uid, phone],
        )
        .unwrap();
    }

    fn indexes(c: &Connection) -> Vec<bool> {
        INDEXES
            .iter()
            .map(|(n, _)| missing(c, n).unwrap())
            .collect()
    }

    #[test]
    fn an_empty_store_drops_the_indexes_and_finish_builds_them_keeping_the_first_phone() {
        let c = store();
        assert!(begin(&c).unwrap());
        assert_eq!(indexes(&c), [true, true]);
        add(&c, "a", Some("+1"));
        add(&c, "b", Some("+1"));
        add(&c, "c", None);
        add(&c, "d", Some("+2"));
        add(&c, "e", Some("+1"));
        assert_eq!(finish(&c).unwrap(), ["b", "e"]);
        assert_eq!(indexes(&c), [false, false]);
        let phones: Vec<Option<String>> = c
            .prepare("SELECT phone FROM customers ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            phones,
            [Some("+1".into()), None, None, Some("+2".into()), None]
        );
        // The rule holds again.
        let dup = c.execute(
            "INSERT INTO customers (uid, name, name_norm, phone, enrolled_at, enrolled_store,
                enrolled_till, op_id) VALUES ('f', 'N', 'n', '+2', 0, 's', 't', 'f')",
            [],
        );
        assert!(dup.is_err());
    }

    #[test]
    fn a_store_with_customers_keeps_its_indexes() {
        let c = store();
        add(&c, "a", Some("+1"));
        assert!(!begin(&c).unwrap());
        assert_eq!(indexes(&c), [false, false]);
    }

    #[test]
    fn restore_builds_what_a_cut_short_start_left_out() {
        let mut c = store();
        begin(&c).unwrap();
        add(&c, "a", Some("+1"));
        add(&c, "b", Some("+1"));
        restore(&mut c).unwrap();
        assert_eq!(indexes(&c), [false, false]);
        let phone: Option<String> = c
            .query_row("SELECT phone FROM customers WHERE uid = 'b'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(phone, None);
        // Nothing to do the second time.
        restore(&mut c).unwrap();
    }
}
