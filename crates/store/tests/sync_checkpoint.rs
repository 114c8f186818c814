//! Pulls copy their WAL into the database when the sync engine is idle
//! (`Store::checkpoint_after_pulls`), not every 1 000 pages: neither the pulls' commits nor
//! a sale in between copy it (`PULL_CHECKPOINT_PAGES`). Checked by the size of the database
//! file, which grows only when a checkpoint copies pages into it.

mod support_sync;

use chrono::{DateTime, TimeZone, Utc};
use loyalty_domain::{AccountBook, Profile};
use loyalty_wire::{AccountState, CardState, ChangesResponse, CustomerState};
use support_sync::open;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 9, 0, 0).unwrap()
}

/// `n` members new here, numbered from `from`; ≈ 1 KB of rows each.
fn page(from: usize, n: usize, next: i64, has_more: bool) -> ChangesResponse {
    let accounts = (from..from + n)
        .map(|i| AccountState {
            account_uid: format!("acc-{i:06}"),
            gseq: i as i64,
            customer: Some(CustomerState {
                customer_uid: format!("cust-{i:06}"),
                profile: Profile {
                    name: format!("Member {i} {}", "x".repeat(400)),
                    phone: Some(format!("+7999{i:07}")),
                    email: Some(format!("member{i}@example.com")),
                    preferred_channel: "none".into(),
                    ..Profile::default()
                },
                referrer_uid: None,
            }),
            cards: vec![CardState {
                number: format!("29{i:011}"),
                status: "active".into(),
                kind: "primary".into(),
            }],
            book: AccountBook::new(format!("acc-{i:06}")),
            reserved: 0,
            categories: Vec::new(),
            merged_into: None,
        })
        .collect();
    ChangesResponse {
        accounts,
        programs: Vec::new(),
        next,
        has_more,
        server_time: now(),
        included_upto_seq: 0,
    }
}

fn size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

#[test]
fn pulls_leave_their_wal_to_the_idle_checkpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.db");
    let wal = dir.path().join("t.db-wal");
    let mut s = open(&path, "T01");
    s.connection()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let empty = size(&path);
    let auto = |s: &loyalty_store::Store| -> i64 {
        s.connection()
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(auto(&s), 1_000);
    s.checkpoint_after_pulls()
        .expect("nothing owed: nothing done");
    assert_eq!(auto(&s), 1_000);

    // 6 000 members, well past SQLite's 1 000-page auto-checkpoint, in two pulls.
    let first = page(0, 3_000, 3_000, true);
    let second = page(3_000, 3_000, 6_000, false);
    s.apply_changes_pages(&[(&first, now())])
        .expect("first page");
    s.apply_changes_pages(&[(&second, now())])
        .expect("second page");
    assert!(size(&wal) > 1_000 * 4096, "the pages are in the WAL");
    assert_eq!(size(&path), empty, "and were not copied");
    // A sale's commit does not copy them either.
    support_sync::enrol(&mut s, "Olga", "+79161110001", now());
    assert_eq!(size(&path), empty, "a sale copies nothing the pulls wrote");

    s.checkpoint_after_pulls().expect("idle checkpoint");
    assert!(size(&path) > empty + 1_000 * 4096, "copied when idle");
    assert_eq!(
        auto(&s),
        1_000,
        "every commit copies every 1 000 pages again"
    );
    assert_eq!(s.sync_cursor().unwrap(), 6_000);

    // A pull of one page is no catch-up: the auto-checkpoint stays as it is.
    let single = page(6_000, 10, 6_010, false);
    s.apply_changes_pages(&[(&single, now())])
        .expect("one page");
    assert_eq!(auto(&s), 1_000);
}
