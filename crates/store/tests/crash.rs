//! Crash test of the till store: a child process (this test binary re-executed, test
//! `crash_child`) runs checkouts, returns, enrolments, adjustments and expiry sweeps in a
//! loop on a real SQLite file and is killed with SIGKILL at a random moment, again and again
//! on the same file (`LOYALTY_CRASH_ITERS` times, default 200). The child prints one line per
//! operation AFTER the store call returned (i.e. committed), flushed.
//!
//! After every kill the parent reopens the file and checks: `PRAGMA integrity_check` = ok,
//! no foreign key violations, `check_invariants()` clean; every operation the child reported
//! is there with all its effects (sale row, lines, ledger entries, lots, outbox event);
//! nothing is half-applied (every operation row has its effects and exactly one outbox event
//! (none for the local expiry sweep), every sale / return / adjustment / ledger entry / lot
//! belongs to a recorded operation,
//! outbox `seq` is gap-free `1..=n`); replaying the last reported op id (and a random
//! earlier one) returns the reported result and changes nothing. Operations the child did
//! not get to report may or may not exist, but when present they are complete.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, TimeZone, Utc};
use loyalty_domain::{Basket, BasketLine, ProgramConfig};
use loyalty_store::{
    Adjusted, CheckoutRequest, Enrolled, NewCustomer, Receipt, ReturnItems, ReturnReceipt,
    ReturnRequest, Store, StoreOptions,
};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

mod support_crash;

use support_crash::{check_database, check_operation, fingerprint, op_sums};

const CHILD_DB_ENV: &str = "LOYALTY_CRASH_CHILD_DB";
const CHILD_ITER_ENV: &str = "LOYALTY_CRASH_CHILD_ITER";
const CHILD_TEST: &str = "crash_child";
const PREFIX: &str = "CRASHOP\t";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 8, 0, 0)
        .single()
        .expect("t0")
}

fn opts() -> StoreOptions {
    StoreOptions {
        till_id: "T07".into(),
        store_id: "S1".into(),
        default_region: "RU".into(),
        qr_seed: [9; 32],
    }
}

/// One-day hold and one-month expiry: points mature and expire within the run.
fn program() -> ProgramConfig {
    ProgramConfig {
        version: 11,
        effective_from: t0() - Duration::days(1),
        hold_days: 1,
        expiry_months: Some(1),
        ..ProgramConfig::default()
    }
}

/// What the child did (enough for the parent to replay it with the same op id).
#[derive(Debug, Clone, Serialize, Deserialize)]
enum ChildOp {
    Sale(CheckoutRequest),
    Return(ReturnRequest),
    Enrol(NewCustomer),
    Adjust { account: i64, points: i64 },
    Expire,
}

/// A committed operation as reported by the child.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Reported {
    op_id: Uuid,
    now: DateTime<Utc>,
    op: ChildOp,
    /// Receipt no / return id / card / adjustment id / expired points.
    key: String,
}

fn kind(op: &ChildOp) -> &'static str {
    match op {
        ChildOp::Sale(_) => "sale",
        ChildOp::Return(_) => "return",
        ChildOp::Enrol(_) => "enrol",
        ChildOp::Adjust { .. } => "adjust",
        ChildOp::Expire => "expire",
    }
}

/// Runs `op` as `op_id`; `Ok(key)` on success.
fn run_op(s: &mut Store, op_id: Uuid, op: &ChildOp, now: DateTime<Utc>) -> Result<String, String> {
    let r = match op {
        ChildOp::Sale(req) => s
            .checkout(op_id, req.clone(), now)
            .map(|r: Receipt| r.receipt_no),
        ChildOp::Return(req) => s
            .return_sale(op_id, req.clone(), now)
            .map(|r: ReturnReceipt| r.return_id.to_string()),
        ChildOp::Enrol(c) => s.enrol(op_id, c.clone(), now).map(|e: Enrolled| e.card),
        ChildOp::Adjust { account, points } => s
            .adjust(op_id, *account, *points, "crash test", "owner", now)
            .map(|a: Adjusted| a.adjustment_id.to_string()),
        ChildOp::Expire => s.expire(op_id, now).map(|p| p.to_string()),
    };
    r.map_err(|e| format!("{} {e}", e.code()))
}

/// xorshift64*: the child and the parent need a little randomness, no crate for that.
struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Rng((nanos ^ (u64::from(std::process::id()) << 32)) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + i64::try_from(self.below(u64::try_from(hi - lo).unwrap_or(1))).unwrap_or(0)
    }
}

// ---------------------------------------------------------------------------------------
// Child
// ---------------------------------------------------------------------------------------

/// The child's body; a no-op when run as a normal test.
#[test]
fn crash_child() {
    let Ok(db) = std::env::var(CHILD_DB_ENV) else {
        return;
    };
    let iter: i64 = std::env::var(CHILD_ITER_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut s = Store::open(&db, opts()).expect("child: open");
    let mut rng = Rng::seeded();
    let base = t0() + Duration::hours(6 * iter);
    let out = std::io::stdout();
    writeln!(out.lock(), "READY").expect("stdout");
    out.lock().flush().expect("flush");
    for k in 0i64.. {
        let now = base + Duration::seconds(k);
        let op = pick_op(&s, &mut rng, now, k);
        let op_id = Uuid::now_v7();
        match run_op(&mut s, op_id, &op, now) {
            Ok(key) => {
                let line = serde_json::to_string(&Reported {
                    op_id,
                    now,
                    op,
                    key,
                })
                .expect("json");
                let mut o = out.lock();
                writeln!(o, "{PREFIX}{line}").expect("stdout");
                o.flush().expect("flush");
            }
            // Refusals by the rules (a debit larger than the balance, a race with expiry)
            // are fine; a database error is not.
            Err(e) if e.starts_with("DB") => panic!("child: {e}"),
            Err(_) => {}
        }
    }
}

fn pick_op(s: &Store, rng: &mut Rng, now: DateTime<Utc>, k: i64) -> ChildOp {
    let conn = s.connection();
    let customers: i64 = conn
        .query_row("SELECT COUNT(*) FROM customers", [], |r| r.get(0))
        .expect("count");
    let roll = rng.below(100);
    if customers < 3 || roll < 8 {
        return ChildOp::Enrol(NewCustomer {
            name: format!("Crash {customers} {k}"),
            ..NewCustomer::default()
        });
    }
    if roll < 20 {
        let sale: Option<(String, i64, i64)> = conn
            .query_row(
                "SELECT receipt_no, subtotal, returned_amount FROM sales
                 WHERE returned_amount < subtotal ORDER BY random() LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .expect("sale");
        if let Some((receipt_no, subtotal, returned)) = sale {
            let items = if rng.below(2) == 0 {
                ReturnItems::All
            } else {
                ReturnItems::Amount(((subtotal - returned) / 2).max(1))
            };
            return ChildOp::Return(ReturnRequest { receipt_no, items });
        }
    }
    if roll < 25 {
        let account: i64 = conn
            .query_row(
                "SELECT id FROM accounts ORDER BY random() LIMIT 1",
                [],
                |r| r.get(0),
            )
            .expect("account");
        let points = if rng.below(2) == 0 {
            rng.range(1, 200)
        } else {
            -rng.range(1, 50)
        };
        return ChildOp::Adjust { account, points };
    }
    if roll < 28 {
        return ChildOp::Expire;
    }
    let card: String = conn
        .query_row(
            "SELECT number FROM cards WHERE status = 'active' ORDER BY random() LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("card");
    let lines = (0..rng.range(1, 4))
        .map(|i| BasketLine {
            sku: format!("SKU{}", rng.below(5) + u64::try_from(i).unwrap_or(0)),
            category: None,
            qty: rng.range(1, 4),
            amount: rng.range(500, 90_000),
        })
        .collect();
    let basket = Basket { lines };
    let max = s
        .quote(&card, &basket, 0, now)
        .map(|q| q.max_redeemable)
        .unwrap_or(0);
    let spend = if max > 0 && rng.below(2) == 0 {
        rng.range(1, max + 1)
    } else {
        0
    };
    ChildOp::Sale(CheckoutRequest {
        card,
        basket,
        spend,
        receipt: None,
    })
}

// ---------------------------------------------------------------------------------------
// Parent
// ---------------------------------------------------------------------------------------

fn iterations() -> usize {
    std::env::var("LOYALTY_CRASH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// A reported operation must be there, with the reported result and (for a sale) exactly
/// the lines the child sent.
fn check_reported(s: &Store, r: &Reported) {
    let conn = s.connection();
    let op = r.op_id.hyphenated().to_string();
    let stored_kind: Option<String> = conn
        .query_row("SELECT kind FROM operations WHERE op_id = ?1", [&op], |x| {
            x.get(0)
        })
        .optional()
        .expect("operation");
    assert_eq!(
        stored_kind.as_deref(),
        Some(kind(&r.op)),
        "reported (committed) operation {op} is missing after the crash"
    );
    if let ChildOp::Sale(req) = &r.op {
        let lines: Vec<(String, i64, i64)> = conn
            .prepare(
                "SELECT l.sku, l.qty, l.amount FROM sale_lines l JOIN sales s ON s.id = l.sale_id
                 WHERE s.receipt_no = ?1 ORDER BY l.line_no",
            )
            .expect("lines")
            .query_map([&r.key], |x| Ok((x.get(0)?, x.get(1)?, x.get(2)?)))
            .expect("lines")
            .map(|x| x.expect("line"))
            .collect();
        let want: Vec<(String, i64, i64)> = req
            .basket
            .lines
            .iter()
            .map(|l| (l.sku.clone(), l.qty, l.amount))
            .collect();
        assert_eq!(lines, want, "lines of reported sale {}", r.key);
    }
}

/// Replays a reported op with its op id: same result, nothing changes.
fn check_replay(s: &mut Store, r: &Reported) {
    let before = fingerprint(s);
    let got = run_op(s, r.op_id, &r.op, r.now + Duration::hours(1));
    assert_eq!(
        got.as_deref(),
        Ok(r.key.as_str()),
        "replay of {:?}",
        r.op_id
    );
    assert_eq!(
        fingerprint(s),
        before,
        "replay of {} changed the database",
        r.op_id
    );
}

#[test]
fn sigkill_at_random_moments_loses_nothing_committed_and_half_applies_nothing() {
    let iters = iterations();
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("till.db");
    {
        let mut s = Store::open(&db, opts()).expect("open");
        s.set_program(&program(), t0()).expect("program");
    }
    let exe = std::env::current_exe().expect("current_exe");
    let mut rng = Rng::seeded();
    let mut reported: Vec<Reported> = Vec::new();
    let mut verified: HashSet<String> = HashSet::new();
    let mut unreported_seen = 0usize;
    for iter in 0..iters {
        let stderr_path = dir.path().join("child.stderr");
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut child = Command::new(&exe)
            .args(["--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
            .env(CHILD_DB_ENV, &db)
            .env(CHILD_ITER_ENV, iter.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("child stdout");
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let child_err = || std::fs::read_to_string(&stderr_path).unwrap_or_default();
        // Wait for READY (the store is open), then kill after 2–40 ms.
        let deadline = Instant::now() + StdDuration::from_secs(30);
        loop {
            match rx.recv_timeout(StdDuration::from_millis(100)) {
                // libtest prints "test crash_child ... " without a newline before the output.
                Ok(l) if l.ends_with("READY") => break,
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                Err(e) => panic!("child never got ready ({e:?}): {}", child_err()),
            }
        }
        std::thread::sleep(StdDuration::from_millis(2 + rng.below(39)));
        let pid = libc::pid_t::try_from(child.id()).expect("pid");
        // SAFETY: plain kill(2) of our own child, which has not been reaped yet.
        let rc = unsafe { libc::kill(pid, libc::SIGKILL) };
        assert_eq!(rc, 0, "kill failed");
        let status = child.wait().expect("wait child");
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(
                status.signal(),
                Some(libc::SIGKILL),
                "the child must die by our SIGKILL, not on its own ({status}): {}",
                child_err()
            );
        }
        reader.join().expect("reader thread");
        let this_iter: Vec<Reported> = rx
            .try_iter()
            .filter_map(|l| l.split_once(PREFIX).map(|(_, op)| op.to_string()))
            .map(|l| serde_json::from_str(&l).expect("child line"))
            .collect();

        let mut s = Store::open(&db, opts()).expect("reopen after the crash");
        check_database(&s);
        let ops: Vec<(String, String, String)> = s
            .connection()
            .prepare("SELECT op_id, kind, result FROM operations")
            .expect("ops")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("ops")
            .map(|r| r.expect("op"))
            .collect();
        let reported_ids: HashSet<String> = reported
            .iter()
            .chain(&this_iter)
            .map(|r| r.op_id.hyphenated().to_string())
            .collect();
        let sums = op_sums(&s);
        for (op, kind, result) in &ops {
            if verified.insert(op.clone()) {
                check_operation(&s, &sums, op, kind, result);
                if !reported_ids.contains(op) {
                    unreported_seen += 1;
                }
            }
        }
        for r in &this_iter {
            check_reported(&s, r);
        }
        let all_ops: HashSet<&str> = ops.iter().map(|(o, _, _)| o.as_str()).collect();
        for r in &reported {
            assert!(
                all_ops.contains(r.op_id.hyphenated().to_string().as_str()),
                "earlier reported op {} lost",
                r.op_id
            );
        }
        reported.extend(this_iter.iter().cloned());
        if let Some(last) = this_iter.last() {
            check_replay(&mut s, last);
        }
        if !reported.is_empty() {
            let i = usize::try_from(rng.below(reported.len() as u64)).expect("index");
            check_replay(&mut s, &reported[i]);
        }
        check_database(&s);
    }
    let kinds: HashSet<&str> = reported.iter().map(|r| kind(&r.op)).collect();
    eprintln!(
        "crash test: {iters} kills, {} committed ops reported ({} kinds), {} ops committed \
         but not reported (killed between commit and print), {:.1}s",
        reported.len(),
        kinds.len(),
        unreported_seen,
        started.elapsed().as_secs_f64()
    );
    assert!(
        reported.len() >= iters,
        "the child should commit operations between kills: only {} in {iters} runs",
        reported.len()
    );
    assert!(kinds.contains("sale") && kinds.contains("return"));
}
