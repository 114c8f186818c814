//! Database-wide checks of `tests/crash.rs` (after every kill).

use std::collections::HashMap;

use loyalty_store::{Adjusted, Enrolled, Receipt, ReturnReceipt, Store};

/// Counts and sums of every table: equal = nothing changed.
pub fn fingerprint(s: &Store) -> Vec<i64> {
    let sql = "SELECT
        (SELECT COUNT(*) FROM ledger), (SELECT COALESCE(SUM(points), 0) FROM ledger),
        (SELECT COUNT(*) FROM lots), (SELECT COALESCE(SUM(remaining), 0) FROM lots),
        (SELECT COALESCE(SUM(expired), 0) FROM lots),
        (SELECT COUNT(*) FROM outbox), (SELECT COALESCE(MAX(seq), 0) FROM outbox),
        (SELECT COUNT(*) FROM operations), (SELECT COUNT(*) FROM sales),
        (SELECT COALESCE(SUM(returned_amount), 0) FROM sales), (SELECT COUNT(*) FROM sale_lines),
        (SELECT COUNT(*) FROM returns), (SELECT COUNT(*) FROM adjustments),
        (SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM cards),
        (SELECT COALESCE(SUM(shortfall), 0) FROM accounts),
        (SELECT COALESCE(SUM(lifetime_spend), 0) FROM accounts),
        (SELECT COALESCE(SUM(value), 0) FROM till_meta)";
    s.connection()
        .query_row(sql, [], |r| (0..18).map(|i| r.get(i)).collect())
        .expect("fingerprint")
}

pub fn count(s: &Store, sql: &str) -> i64 {
    s.connection()
        .query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Set-based checks over the whole database: nothing half-applied anywhere.
pub fn check_database(s: &Store) {
    let conn = s.connection();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(integrity, "ok");
    let fk = conn
        .prepare("PRAGMA foreign_key_check")
        .expect("fk")
        .query_map([], |_| Ok(()))
        .expect("fk")
        .count();
    assert_eq!(fk, 0, "foreign key violations");
    assert_eq!(s.check_invariants().expect("invariants"), Vec::<i64>::new());
    // Outbox: gap-free 1..=n, one event per operation that is a fact (all but the local
    // expiry sweep), same kind.
    let (n, min, max): (i64, Option<i64>, Option<i64>) = conn
        .query_row("SELECT COUNT(*), MIN(seq), MAX(seq) FROM outbox", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("outbox");
    if n > 0 {
        assert_eq!((min, max), (Some(1), Some(n)), "outbox seq not gap-free");
    }
    assert_eq!(
        n,
        count(s, "SELECT COUNT(*) FROM operations WHERE kind <> 'expire'"),
        "ops vs events"
    );
    let bad = [
        // every fact operation has its event and every event its operation, same kind
        "SELECT COUNT(*) FROM operations o LEFT JOIN outbox x ON x.op_id = o.op_id
         WHERE o.kind <> 'expire' AND (x.op_id IS NULL OR x.kind <> o.kind)",
        // every row written by an operation belongs to a recorded operation
        "SELECT COUNT(*) FROM ledger WHERE op_id NOT IN (SELECT op_id FROM operations)",
        "SELECT COUNT(*) FROM lots WHERE op_id NOT IN (SELECT op_id FROM operations)",
        "SELECT COUNT(*) FROM sales WHERE op_id NOT IN
            (SELECT op_id FROM operations WHERE kind = 'sale')",
        "SELECT COUNT(*) FROM returns WHERE op_id NOT IN
            (SELECT op_id FROM operations WHERE kind = 'return')",
        "SELECT COUNT(*) FROM adjustments WHERE op_id NOT IN
            (SELECT op_id FROM operations WHERE kind = 'adjust')",
        "SELECT COUNT(*) FROM customers WHERE op_id NOT IN
            (SELECT op_id FROM operations WHERE kind = 'enrol')",
        // every sale has lines, its ledger entries (earned + referrer − spent) and its event
        "WITH l AS (SELECT op_id, SUM(points) AS pts,
                           SUM(CASE WHEN points > 0 THEN points ELSE 0 END) AS pos
                    FROM ledger GROUP BY op_id),
              sl AS (SELECT sale_id, COUNT(*) AS n, SUM(amount) AS amount
                     FROM sale_lines GROUP BY sale_id)
         SELECT COUNT(*) FROM sales s
         LEFT JOIN l ON l.op_id = s.op_id LEFT JOIN sl ON sl.sale_id = s.id
         LEFT JOIN outbox x ON x.op_id = s.op_id AND x.kind = 'sale'
         WHERE sl.n IS NULL OR sl.amount <> s.subtotal
            OR COALESCE(l.pts, 0) <> s.earned + s.referrer_points - s.points_spent
            OR COALESCE(l.pos, 0) <> s.earned + s.referrer_points
            OR x.op_id IS NULL",
        // every return: ledger = restored − taken − shortfall; the sale's totals include it
        "WITH l AS (SELECT op_id, SUM(points) AS pts FROM ledger GROUP BY op_id)
         SELECT COUNT(*) FROM returns r LEFT JOIN l ON l.op_id = r.op_id
         LEFT JOIN outbox x ON x.op_id = r.op_id AND x.kind = 'return'
         WHERE COALESCE(l.pts, 0) <> r.spent_restored - r.earned_taken - r.shortfall
            OR x.op_id IS NULL",
        "WITH r AS (SELECT sale_id, SUM(amount) AS amount, SUM(spent_restored) AS restored
                    FROM returns GROUP BY sale_id)
         SELECT COUNT(*) FROM sales s LEFT JOIN r ON r.sale_id = s.id
         WHERE s.returned_amount <> COALESCE(r.amount, 0)
            OR s.spent_restored <> COALESCE(r.restored, 0)",
        // every adjustment: one ledger movement of its points
        "WITH l AS (SELECT op_id, SUM(points) AS pts FROM ledger GROUP BY op_id)
         SELECT COUNT(*) FROM adjustments a LEFT JOIN l ON l.op_id = a.op_id
         WHERE COALESCE(l.pts, 0) <> a.points",
        // every enrolment: customer + account + primary card
        "SELECT COUNT(*) FROM operations o WHERE o.kind = 'enrol' AND NOT EXISTS
            (SELECT 1 FROM customers cu JOIN accounts a ON a.customer_id = cu.id
             JOIN cards k ON k.account_id = a.id AND k.kind = 'primary'
             WHERE cu.uid = o.op_id)",
        // every sale / return / adjustment operation has its row
        "SELECT COUNT(*) FROM operations o WHERE
            (o.kind = 'sale' AND NOT EXISTS (SELECT 1 FROM sales WHERE op_id = o.op_id))
            OR (o.kind = 'return' AND NOT EXISTS (SELECT 1 FROM returns WHERE op_id = o.op_id))
            OR (o.kind = 'adjust' AND NOT EXISTS
                (SELECT 1 FROM adjustments WHERE op_id = o.op_id))",
    ];
    for sql in bad {
        assert_eq!(count(s, sql), 0, "half-applied data: {sql}");
    }
}

/// Σ ledger.points and Σ lots.original per op id.
pub struct OpSums {
    pub ledger: HashMap<String, i64>,
    pub lots: HashMap<String, i64>,
}

pub fn op_sums(s: &Store) -> OpSums {
    let map = |sql: &str| -> HashMap<String, i64> {
        s.connection()
            .prepare(sql)
            .expect("sums")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("sums")
            .map(|r| r.expect("sum"))
            .collect()
    };
    OpSums {
        ledger: map("SELECT op_id, SUM(points) FROM ledger GROUP BY op_id"),
        lots: map("SELECT op_id, SUM(original) FROM lots GROUP BY op_id"),
    }
}

/// Detailed check of one operation against its stored result.
pub fn check_operation(s: &Store, sums: &OpSums, op_id: &str, kind: &str, result: &str) {
    let conn = s.connection();
    let ledger_sum = |op: &str| -> i64 { sums.ledger.get(op).copied().unwrap_or(0) };
    let lots_original = sums.lots.get(op_id).copied().unwrap_or(0);
    match kind {
        "sale" => {
            let r: Receipt = serde_json::from_str(result).expect("receipt json");
            let (sale_id, spent, earned): (i64, i64, i64) = conn
                .query_row(
                    "SELECT id, points_spent, earned FROM sales WHERE receipt_no = ?1 AND op_id = ?2",
                    [&r.receipt_no, op_id],
                    |x| Ok((x.get(0)?, x.get(1)?, x.get(2)?)),
                )
                .unwrap_or_else(|e| panic!("sale {} of op {op_id}: {e}", r.receipt_no));
            assert_eq!(
                (sale_id, spent, earned),
                (r.sale_id, r.points_spent, r.earned)
            );
            // New lots = earnings that did not settle a shortfall.
            assert_eq!(
                lots_original,
                r.earned + r.referrer_points - r.settled_shortfall,
                "lots of sale {}",
                r.receipt_no
            );
            assert_eq!(
                ledger_sum(op_id),
                r.earned + r.referrer_points - r.points_spent
            );
        }
        "return" => {
            let r: ReturnReceipt = serde_json::from_str(result).expect("return json");
            let row: (i64, i64, i64, i64) = conn
                .query_row(
                    "SELECT amount, earned_taken, shortfall, spent_restored FROM returns
                     WHERE id = ?1 AND op_id = ?2",
                    rusqlite::params![r.return_id, op_id],
                    |x| Ok((x.get(0)?, x.get(1)?, x.get(2)?, x.get(3)?)),
                )
                .expect("return row");
            assert_eq!(
                row,
                (
                    r.amount,
                    r.earned_taken,
                    r.shortfall_added,
                    r.spent_restored
                )
            );
            assert_eq!(
                ledger_sum(op_id),
                r.spent_restored - r.earned_taken - r.shortfall_added
            );
        }
        "enrol" => {
            let e: Enrolled = serde_json::from_str(result).expect("enrol json");
            let account: i64 = conn
                .query_row(
                    "SELECT account_id FROM cards WHERE number = ?1 AND op_id = ?2",
                    [&e.card, op_id],
                    |x| x.get(0),
                )
                .expect("card of enrolment");
            assert_eq!(account, e.account_id);
            assert_eq!(ledger_sum(op_id), e.welcome_points);
            assert_eq!(lots_original, e.welcome_points);
        }
        "adjust" => {
            let a: Adjusted = serde_json::from_str(result).expect("adjust json");
            assert_eq!(ledger_sum(op_id), a.points);
        }
        "expire" => {
            let total: i64 = serde_json::from_str(result).expect("expire json");
            assert_eq!(ledger_sum(op_id), -total);
        }
        other => panic!("unexpected operation kind {other}"),
    }
}
