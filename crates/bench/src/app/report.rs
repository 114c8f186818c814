//! The app benchmark's human-readable lines and its final JSON line.

use std::fmt::Write;
use std::time::Duration;

use serde_json::{json, Value};

use super::args::AppArgs;
use super::procs::{MachineLoad, ProcPss};
use crate::stats::{Samples, Summary};

/// Goals (reported, never asserted).
pub const GOAL_SCAN_P99_MS: f64 = 50.0;
pub const GOAL_COLD_START_MS: f64 = 1_500.0;
pub const GOAL_PSS_MIB: f64 = 350.0;

#[derive(Debug, Clone)]
pub struct Scan {
    pub phone: bool,
    /// Injected → painted, ms (None: the scan failed).
    pub ms: Option<f64>,
    /// Injected → the DOM showed the name, ms.
    pub dom_ms: Option<f64>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColdStart {
    /// New-session request → the PIN field focused and painted.
    pub total_ms: f64,
    /// Request → the app process started (`/proc`, 10 ms resolution).
    pub spawned_ms: Option<f64>,
    /// Request → the page's navigation start (`performance.timeOrigin`).
    pub navigation_ms: Option<f64>,
    /// Request → the first contentful paint.
    pub fcp_ms: Option<f64>,
    /// Request → the WebDriver session answered.
    pub session_ms: f64,
    /// Request → the PIN field focused (the UI's `ready:login` mark).
    pub ready_ms: Option<f64>,
    /// Timed by the UI's marks (else: the PIN focus as the script saw it).
    pub marked: bool,
    /// Not marked and focused before the script ran: `total_ms` is an upper bound.
    pub upper_bound: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bootstrap {
    /// Setup submitted → the app's sync status: bootstrap done, first sync complete.
    pub seconds: f64,
    /// Members the bootstrap reported as the total.
    pub total: u64,
}

#[derive(Debug)]
pub struct AppReport {
    pub members: u64,
    pub full_size: bool,
    pub profile: String,
    pub bench_profile: &'static str,
    pub display: &'static str,
    pub csv_s: Option<f64>,
    pub import_s: Option<f64>,
    pub bootstrap: Option<Bootstrap>,
    /// The till folder of an earlier run was reused (no setup, no bootstrap).
    pub till_reused: bool,
    pub scans: Vec<Scan>,
    /// The `scan` command over the IPC alone, ms.
    pub ipc_ms: Vec<f64>,
    pub scan_load: Option<MachineLoad>,
    /// Cores the app's processes kept busy during the scans.
    pub scan_app_cores: f64,
    pub pss: Vec<ProcPss>,
    pub cold: Vec<ColdStart>,
    pub cold_load: Option<MachineLoad>,
}

fn r2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "MISSED"
    }
}

fn summary(ms: impl Iterator<Item = f64>) -> Summary {
    let mut s = Samples::default();
    for m in ms {
        s.push(Duration::from_secs_f64(m.max(0.0) / 1000.0));
    }
    s.summary()
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn load_json(l: &Option<MachineLoad>) -> Value {
    match l {
        Some(l) => json!({
            "machine_cores_busy": r2(l.cores_busy),
            "cores": l.cores,
            "loadavg_1m": r2(l.loadavg_1m),
        }),
        None => Value::Null,
    }
}

impl AppReport {
    pub fn new(a: &AppArgs, display: &'static str) -> AppReport {
        AppReport {
            members: a.members,
            full_size: a.full_size(),
            profile: a.profile(),
            bench_profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            display,
            csv_s: None,
            import_s: None,
            bootstrap: None,
            till_reused: false,
            scans: Vec::new(),
            ipc_ms: Vec::new(),
            scan_load: None,
            scan_app_cores: 0.0,
            pss: Vec::new(),
            cold: Vec::new(),
            cold_load: None,
        }
    }

    fn timed(&self, phone: Option<bool>) -> impl Iterator<Item = &Scan> {
        self.scans
            .iter()
            .filter(move |s| s.ms.is_some() && (phone.is_none() || phone == Some(s.phone)))
    }

    pub fn scan_summary(&self, phone: Option<bool>) -> Summary {
        summary(self.timed(phone).filter_map(|s| s.ms))
    }

    fn dom_summary(&self) -> Summary {
        summary(self.timed(None).filter_map(|s| s.dom_ms))
    }

    pub fn failures(&self) -> usize {
        self.scans.iter().filter(|s| s.ms.is_none()).count()
    }

    pub fn scan_p99_ms(&self) -> f64 {
        self.scan_summary(None).p99_us / 1000.0
    }

    pub fn scan_ok(&self) -> bool {
        !self.scans.is_empty() && self.failures() == 0 && self.scan_p99_ms() <= GOAL_SCAN_P99_MS
    }

    pub fn cold_start_ms(&self) -> Option<f64> {
        median(self.cold.iter().map(|c| c.total_ms).collect())
    }

    pub fn cold_ok(&self) -> bool {
        self.cold_start_ms()
            .is_some_and(|m| m <= GOAL_COLD_START_MS)
    }

    pub fn pss_mib(&self) -> f64 {
        self.pss.iter().map(|p| p.pss_mib).sum()
    }

    pub fn pss_ok(&self) -> bool {
        !self.pss.is_empty() && self.pss_mib() <= GOAL_PSS_MIB
    }

    /// PSS per process name (WebKitWebProcess × 1, ...), largest first.
    fn pss_by_name(&self) -> Vec<(String, usize, f64)> {
        let mut v: Vec<(String, usize, f64)> = Vec::new();
        for p in &self.pss {
            match v.iter_mut().find(|(n, _, _)| *n == p.comm) {
                Some(e) => {
                    e.1 += 1;
                    e.2 += p.pss_mib;
                }
                None => v.push((p.comm.clone(), 1, p.pss_mib)),
            }
        }
        v.sort_by(|a, b| b.2.total_cmp(&a.2));
        v
    }

    pub fn json(&self) -> Value {
        let all = self.scan_summary(None);
        let cards = self.scan_summary(Some(false));
        let phones = self.scan_summary(Some(true));
        let dom = self.dom_summary();
        let ipc = summary(self.ipc_ms.iter().copied());
        let med = |f: fn(&ColdStart) -> Option<f64>| {
            median(self.cold.iter().filter_map(f).collect()).map(r2)
        };
        let mut v = json!({
            "scan_p99_ms": r2(all.p99_us / 1000.0),
            "scan_p50_ms": r2(all.p50_us / 1000.0),
            "scan_p90_ms": r2(all.p90_us / 1000.0),
            "scan_max_ms": r2(all.max_us / 1000.0),
            "scan_dom_p99_ms": r2(dom.p99_us / 1000.0),
            "scan_card_p99_ms": r2(cards.p99_us / 1000.0),
            "scan_phone_p99_ms": r2(phones.p99_us / 1000.0),
            "scans": all.n,
            "scans_card": cards.n,
            "scans_phone": phones.n,
            "scan_failures": self.failures(),
            "ipc_scan_p50_ms": r2(ipc.p50_us / 1000.0),
            "ipc_scan_p99_ms": r2(ipc.p99_us / 1000.0),
            "scan_app_cores_busy": r2(self.scan_app_cores),
            "scan_load": load_json(&self.scan_load),
        });
        let rest = json!({
            "cold_start_ms": self.cold_start_ms().map(r2),
            "cold_start_measured_to": "PIN field focused and painted (login screen), from the WebDriver new-session request",
            "cold_starts": self.cold.iter().map(|c| r2(c.total_ms)).collect::<Vec<_>>(),
            "cold_start_unmarked": self.cold.iter().filter(|c| !c.marked).count(),
            "cold_start_upper_bounds": self.cold.iter().filter(|c| c.upper_bound).count(),
            "cold_ready_ms": med(|c| c.ready_ms),
            "cold_session_ms": med(|c| Some(c.session_ms)),
            "cold_spawn_ms": med(|c| c.spawned_ms),
            "cold_navigation_ms": med(|c| c.navigation_ms),
            "cold_fcp_ms": med(|c| c.fcp_ms),
            "app_pss_mib": r2(self.pss_mib()),
            "app_pss": self.pss_by_name().iter().map(|(n, k, m)| json!({"process": n, "count": k, "pss_mib": r2(*m)})).collect::<Vec<_>>(),
            "members": self.members,
            "bootstrap_s": self.bootstrap.map(|b| r2(b.seconds)),
            "bootstrap_members": self.bootstrap.map(|b| b.total),
            "till_reused": self.till_reused,
            "server_import_s": self.import_s.map(r2),
            "csv_generate_s": self.csv_s.map(r2),
            "profile": self.profile,
            "bench_profile": self.bench_profile,
            "display": self.display,
            "full_size": self.full_size,
            "cold_start_load": load_json(&self.cold_load),
            "goals_met": {
                "scan_p99_ms": self.scan_ok(),
                "cold_start_ms": self.cold_ok(),
                "app_pss_mib": self.pss_ok(),
            },
        });
        // Two objects: one json! of all the keys exceeds the macro recursion limit.
        if let (Value::Object(v), Value::Object(rest)) = (&mut v, rest) {
            v.extend(rest);
        }
        v
    }

    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "\ntill app benchmark: {} loyalty-till-app in its window ({}) via tauri-driver + \
             WebKitWebDriver, loyalty-server with {} members{}",
            self.profile,
            self.display,
            self.members,
            if self.full_size {
                ""
            } else {
                " — SCALED-DOWN RUN: goals are stated for 1M members, ≥ 200 scans, ≥ 5 starts"
            }
        );
        let server = match (self.csv_s, self.import_s) {
            (_, None) => "members already imported by an earlier run".to_string(),
            (Some(c), Some(i)) => format!("CSV generated in {c:.1} s, imported in {i:.1} s"),
            (None, Some(i)) => format!("imported in {i:.1} s"),
        };
        let _ = writeln!(s, "server: {server}");
        if self.till_reused {
            let _ = writeln!(
                s,
                "bootstrap: none (the till set up by an earlier run was reused)"
            );
        }
        if let Some(b) = self.bootstrap {
            let _ = writeln!(
                s,
                "bootstrap: {} members in {:.1} s (setup submitted → the app's sync status: \
                 bootstrap done, first sync complete)",
                b.total, b.seconds
            );
        }
        let all = self.scan_summary(None);
        let cards = self.scan_summary(Some(false));
        let phones = self.scan_summary(Some(true));
        let dom = self.dom_summary();
        let ms = |x: f64| x / 1000.0;
        let _ = writeln!(
            s,
            "scan → customer painted: {} scans ({} cards, {} phones{}), p50 {:.1} ms, p90 {:.1} ms, \
             p99 {:.1} ms, max {:.1} ms (goal p99 ≤ {GOAL_SCAN_P99_MS} ms: {})\n  \
             cards p99 {:.1} ms, phones p99 {:.1} ms; DOM updated p50 {:.1} / p99 {:.1} ms; \
             timed in the page: #scan-input set + Enter → #cust-name shows the name, next frame painted",
            all.n,
            cards.n,
            phones.n,
            match self.failures() {
                0 => String::new(),
                n => format!(", {n} FAILED"),
            },
            ms(all.p50_us),
            ms(all.p90_us),
            ms(all.p99_us),
            ms(all.max_us),
            verdict(self.scan_ok()),
            ms(cards.p99_us),
            ms(phones.p99_us),
            ms(dom.p50_us),
            ms(dom.p99_us),
        );
        if !self.ipc_ms.is_empty() {
            let ipc = summary(self.ipc_ms.iter().copied());
            let _ = writeln!(
                s,
                "  the scan command alone over the IPC (same members, nothing rendered): \
                 p50 {:.1} ms, p99 {:.1} ms ({} calls)",
                ms(ipc.p50_us),
                ms(ipc.p99_us),
                ipc.n
            );
        }
        for f in self.scans.iter().filter_map(|x| x.error.as_ref()).take(5) {
            let _ = writeln!(s, "  failed: {f}");
        }
        if let Some(l) = &self.scan_load {
            let _ = writeln!(
                s,
                "  during the scans: the app's processes kept {:.2} cores busy, the machine {:.2} of {} (load average {:.2})",
                self.scan_app_cores, l.cores_busy, l.cores, l.loadavg_1m
            );
        }
        let by_name = self
            .pss_by_name()
            .iter()
            .map(|(n, k, m)| {
                if *k > 1 {
                    format!("{n} ×{k} {m:.0}")
                } else {
                    format!("{n} {m:.0}")
                }
            })
            .collect::<Vec<_>>()
            .join(" + ");
        let _ = writeln!(
            s,
            "memory after the scans: PSS {:.0} MiB = {by_name} (the app and every process under it; \
             goal ≤ {GOAL_PSS_MIB} MiB: {})",
            self.pss_mib(),
            verdict(self.pss_ok())
        );
        if let Some(m) = self.cold_start_ms() {
            let each = self
                .cold
                .iter()
                .map(|c| format!("{:.0}{}", c.total_ms, if c.marked { "" } else { "*" }))
                .collect::<Vec<_>>()
                .join(", ");
            let med = |f: fn(&ColdStart) -> Option<f64>| {
                median(self.cold.iter().filter_map(f).collect())
                    .map_or("?".to_string(), |x| format!("{x:.0}"))
            };
            let _ = writeln!(
                s,
                "cold start → PIN field focused and painted: median {m:.0} ms of {} starts [{each}] \
                 (goal ≤ {GOAL_COLD_START_MS:.0} ms: {})\n  \
                 from the WebDriver new-session request (WebKitWebDriver spawns the set-up app) to \
                 the painted login screen with the caret in the PIN field (the UI's marks); \
                 medians after the request: process started {} ms, page navigation {} ms, first \
                 contentful paint {} ms, PIN field focused {} ms{}",
                self.cold.len(),
                verdict(self.cold_ok()),
                med(|c| c.spawned_ms),
                med(|c| c.navigation_ms),
                med(|c| c.fcp_ms),
                med(|c| c.ready_ms),
                if self.cold.iter().any(|c| !c.marked) {
                    "\n  * no marks from the UI: the PIN focus as the script saw it (an upper bound)"
                } else {
                    ""
                }
            );
        }
        if let Some(l) = &self.cold_load {
            let _ = writeln!(
                s,
                "  during the starts: the machine had {:.2} of {} cores busy (load average {:.2})",
                l.cores_busy, l.cores, l.loadavg_1m
            );
        }
        s
    }
}
