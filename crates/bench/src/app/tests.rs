//! The report without a window: figures, verdicts and the JSON line from made-up samples.

use super::args::AppArgs;
use super::procs::ProcPss;
use super::report::*;

fn report() -> AppReport {
    let mut r = AppReport::new(&AppArgs::default(), "DISPLAY");
    r.bootstrap = Some(Bootstrap {
        seconds: 41.0,
        total: 1_000_000,
    });
    for i in 0..200 {
        r.scans.push(Scan {
            phone: i % 5 == 0,
            ms: Some(5.0 + f64::from(i) / 10.0),
            dom_ms: Some(3.0),
            error: None,
        });
    }
    for ms in [900.0, 700.0, 800.0, 2000.0, 750.0] {
        r.cold.push(ColdStart {
            total_ms: ms,
            spawned_ms: Some(10.0),
            navigation_ms: Some(300.0),
            fcp_ms: Some(500.0),
            session_ms: 400.0,
            ready_ms: Some(ms - 20.0),
            marked: true,
            upper_bound: false,
        });
    }
    for (comm, mib) in [
        ("loyalty-till-ap", 60.0),
        ("WebKitWebProces", 150.0),
        ("WebKitNetworkPr", 20.0),
    ] {
        r.pss.push(ProcPss {
            pid: 1,
            comm: comm.into(),
            pss_mib: mib,
        });
    }
    r
}

#[test]
fn figures_and_verdicts() {
    let mut r = report();
    assert!((r.scan_p99_ms() - 24.7).abs() < 1e-6, "{}", r.scan_p99_ms());
    assert!(r.scan_ok());
    assert_eq!(r.cold_start_ms(), Some(800.0));
    assert!(r.cold_ok());
    assert_eq!(r.pss_mib(), 230.0);
    assert!(r.pss_ok());
    r.scans.push(Scan {
        phone: false,
        ms: None,
        dom_ms: None,
        error: Some("UNKNOWN_CARD".into()),
    });
    assert!(!r.scan_ok(), "a failed scan misses the goal");
    assert!(r.table().contains("1 FAILED"));
}

#[test]
fn json_is_one_line_with_the_required_keys() {
    let r = report();
    let line = r.json().to_string();
    assert!(!line.contains('\n'));
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    for k in [
        "scan_p99_ms",
        "cold_start_ms",
        "app_pss_mib",
        "scan_p50_ms",
        "scans",
        "members",
        "bootstrap_s",
        "profile",
    ] {
        assert!(!v[k].is_null(), "{k} in {v}");
    }
    assert_eq!(v["scans"], 200);
    assert_eq!(v["scans_phone"], 40);
    assert_eq!(v["members"], 1_000_000);
    assert_eq!(v["goals_met"]["app_pss_mib"], true);
    let t = r.table();
    for want in [
        "goal p99 ≤ 50 ms: ok",
        "goal ≤ 1500 ms: ok",
        "goal ≤ 350 MiB: ok",
        "WebKitWebProces 150",
    ] {
        assert!(t.contains(want), "{want} in {t}");
    }
}
