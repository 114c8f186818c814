//! The whole sync benchmark at a tiny size (no timing asserts: it runs, everything it
//! checks agrees, the JSON line carries every figure).

use super::args::SyncArgs;

#[test]
fn sync_benchmark_at_a_tiny_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let args = SyncArgs {
        members: 300,
        tills: 3,
        sales: 40,
        accounts: 60,
        ingest_events: 120,
        accruals: 40,
        clients: 4,
        data_dir: Some(dir.path().to_path_buf()),
        ..SyncArgs::default()
    };
    let r = super::run(&args).expect("sync benchmark");
    let c = r.converge.as_ref().expect("converge");
    assert!(c.converge_s.is_some(), "converged");
    assert_eq!(c.checked.mismatches, 0, "{:?}", c.checked.examples);
    assert_eq!(c.checked.compared, 3 * c.accounts_touched);
    assert!(c.accounts_touched > 30);
    let b = r.bootstrap.as_ref().expect("bootstrap");
    assert_eq!((b.checked.mismatches, b.members), (0, 300));
    assert_eq!(b.changes_states, 300, "every member pulled as changes");
    let v = r.json();
    for key in [
        "converge_s",
        "ingest_ratio",
        "ingest_per_s",
        "raw_insert_per_s",
        "bootstrap_1m_s",
        "accruals_per_s",
        "accrual_p99_ms",
        "changes_states_per_s",
    ] {
        let x = v[key].as_f64().unwrap_or(-1.0);
        assert!(x.is_finite() && x > 0.0, "{key} = {}", v[key]);
    }
    assert_eq!(v["accruals"]["requests"], 40);
    assert!(!v.to_string().contains('\n'));
    assert!(r.table().contains("MISSED") || r.table().contains("ok"));
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
    assert!(left.is_empty(), "the temporary directory is removed");
}
