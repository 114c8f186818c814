//! `loyalty-bench app`: the till app in its real window (the release `loyalty-till-app`,
//! WebKitGTK, driven through tauri-driver + WebKitWebDriver) against the real
//! `loyalty-server` with N imported members. In one run:
//!
//! 1. the server: `<data-dir>/app-server-<N>/` (members CSV, `migrate`, `import`, reused
//!    by later runs), a new till (`till add`), `serve` on a free loopback port;
//! 2. first run of the app in a fresh data folder: the setup form (pre-filled from the
//!    environment) is submitted, the bootstrap of the N members is timed until the app's
//!    sync status says it is done, then the cashier logs in;
//! 3. scans of random members' cards and phones, each timed in the page from the injected
//!    scan to the painted customer name ([`page::SCAN`]);
//! 4. the PSS of the app and all its WebKit processes after the scans;
//! 5. cold starts of the set-up app (a new WebDriver session each, median reported): from
//!    the new-session request, which makes WebKitWebDriver spawn the app, to the painted
//!    frame with the PIN field focused (the first interactive screen; [`page::PIN_READY`]).
//!
//! Nothing is built here: `make bench-app` builds the UI and the release binaries first.

pub mod args;
pub mod display;
pub mod driver;
pub mod members;
pub mod page;
pub mod procs;
pub mod report;
pub mod server;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use args::AppArgs;
use driver::{Session, TauriDriver, ENTER};
use report::{AppReport, ColdStart, Scan};

pub const OWNER_PIN: &str = "1357";
pub const CASHIER_PIN: &str = "2468";
/// Scans repeated over the IPC alone (no rendering).
const IPC_SCANS: usize = 100;
/// Longest wait for the bootstrap (a million members on a slow, busy machine).
const BOOTSTRAP_TIMEOUT: Duration = Duration::from_secs(1800);

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn binary(dir: &Path, name: &str) -> Result<PathBuf, String> {
    let p = dir.join(name);
    if p.is_file() {
        Ok(p)
    } else {
        Err(format!(
            "{} is missing: build the UI and the release binaries first (make bench-app does: \
             cd ui && npm ci && npm run build; cargo build --release --locked -p loyalty-till-app \
             -p loyalty-server)",
            p.display()
        ))
    }
}

/// Runs the whole benchmark; everything started is stopped, the till's folder removed.
pub fn run(a: &AppArgs) -> Result<AppReport, String> {
    let server_bin = binary(&a.bin_dir, "loyalty-server")?;
    let app_bin = binary(&a.bin_dir, "loyalty-till-app")?;
    let dir = a.server_dir();
    let server = server::ServerDir::prepare(&server_bin, &dir, a.members)?;
    let display = display::Display::get()?;
    let run_dir = tempfile::Builder::new()
        .prefix("app-run-")
        .tempdir_in(&a.data_dir)
        .map_err(err)?;
    eprintln!(
        "app bench: till data and logs in {} (display {}, {})",
        run_dir.path().display(),
        display.name,
        display.origin
    );
    let serving = server.serve(&run_dir.path().join("server.log"))?;
    let till = Till::prepare(a, run_dir.path(), &serving.url)?;
    let (till_id, token) = match &till.reuse {
        Some(id) => (id.clone(), String::new()),
        None => server.add_till("Bench shop")?,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(err)?;
    let env = vec![
        ("DISPLAY", display.name.clone()),
        ("LOYALTY_TILL_DATA_DIR", till.dir.display().to_string()),
        ("LOYALTY_SERVER_URL", serving.url.clone()),
        ("LOYALTY_DEVICE_TOKEN", token),
        ("LOYALTY_OWNER_PIN", OWNER_PIN.to_string()),
        ("LOYALTY_CASHIER_PIN", CASHIER_PIN.to_string()),
        ("RUST_LOG", "warn".to_string()),
    ];
    let driver = TauriDriver::start(&env, &run_dir.path().join("app.log"))?;
    let mut report = AppReport::new(a, display.origin);
    report.import_s = server.import_s;
    report.csv_s = server.csv_s;
    report.till_reused = till.reuse.is_some();
    let result = rt.block_on(measure(
        a,
        &driver,
        &app_bin,
        till.reuse.is_some(),
        &mut report,
    ));
    drop(driver);
    drop(serving);
    if a.till_dir.is_none() {
        if let Err(e) = server.revoke_till(&till_id) {
            eprintln!("app bench: {e}");
        }
    } else if result.is_ok() && till.reuse.is_none() {
        till.remember(&till_id, a.members)?;
    }
    match result {
        Ok(()) => Ok(report),
        Err(e) => {
            let keep = run_dir.keep();
            Err(format!("{e}\n(logs kept in {})", keep.display()))
        }
    }
}

async fn measure(
    a: &AppArgs,
    driver: &TauriDriver,
    app_bin: &Path,
    reuse: bool,
    r: &mut AppReport,
) -> Result<(), String> {
    // 1. First run: setup and bootstrap (unless the till folder is reused).
    let s = Session::start(&driver.url, app_bin).await?;
    let app_pid = app_pid(driver, app_bin)?;
    if reuse {
        eprintln!("app bench: reusing the set-up till in {:?}", a.till_dir);
    } else {
        eprintln!(
            "app bench: first run (setup, bootstrap of {} members)",
            a.members
        );
        let submit = s.wait_for("#setup-submit", Duration::from_secs(60)).await?;
        s.click(&submit).await?;
        let clicked = Instant::now();
        r.bootstrap = Some(wait_bootstrap(&s, clicked).await?);
    }

    // 2. Cashier login.
    let pin = s.wait_for("#pin-input", Duration::from_secs(120)).await?;
    s.keys(&pin, &format!("{CASHIER_PIN}{ENTER}")).await?;
    s.wait_for("#scan-input", Duration::from_secs(30)).await?;

    // 3. Scans.
    let plan = scan_plan(a)?;
    eprintln!(
        "app bench: {} warm-up + {} measured scans",
        a.warmup,
        plan.len() - a.warmup
    );
    let cpu0 = procs::tree_cpu_ticks(app_pid);
    let mark = procs::machine_mark();
    let started = Instant::now();
    for (i, p) in plan.iter().enumerate() {
        let v = s
            .script_async(page::SCAN, json!([p.text, p.name, p.card]))
            .await?;
        if i < a.warmup {
            continue;
        }
        r.scans.push(Scan {
            phone: p.phone,
            ms: v["ms"].as_f64(),
            dom_ms: v["dom_ms"].as_f64(),
            error: v["err"].as_str().map(str::to_string),
        });
    }
    let wall = started.elapsed().as_secs_f64();
    r.scan_load = Some(procs::machine_since(mark));
    r.scan_app_cores = procs::tree_cpu_ticks(app_pid).saturating_sub(cpu0) as f64 / 100.0 / wall;

    // 3b. The same lookups over the IPC alone (no rendering): where the time goes.
    for p in plan.iter().skip(a.warmup).take(IPC_SCANS) {
        let v = s.script_async(page::INVOKE_SCAN, json!([p.text])).await?;
        match v["ms"].as_f64() {
            Some(ms) => r.ipc_ms.push(ms),
            None => return Err(format!("scan over the IPC: {v}")),
        }
    }

    // 4. Memory after the scans.
    std::thread::sleep(Duration::from_secs(1));
    r.pss = procs::tree_pss(app_pid);
    let mut gone = vec![app_pid];
    gone.extend(procs::descendants(app_pid));
    s.quit().await?;
    settle(&gone);

    // 5. Cold starts of the set-up app.
    let mark = procs::machine_mark();
    for i in 0..a.starts {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let c = cold_start(driver, app_bin).await?;
        eprintln!(
            "app bench: cold start {}/{}: {:.0} ms{}",
            i + 1,
            a.starts,
            c.total_ms,
            match (c.marked, c.upper_bound) {
                (true, _) => "",
                (false, false) => " (no UI marks: PIN focus as seen by the script)",
                (false, true) => " (no UI marks, focused before the script ran: an upper bound)",
            }
        );
        r.cold.push(c);
    }
    r.cold_load = Some(procs::machine_since(mark));
    Ok(())
}

/// The till's data folder: a temporary one, or `--till-dir` (set up by an earlier run for
/// the same member count: reused).
struct Till {
    dir: PathBuf,
    /// The till id when the folder is reused.
    reuse: Option<String>,
}

/// In a kept till folder: `<till id> <members>` of the run that set it up.
const TILL_MARK: &str = "loyalty-bench-till";

impl Till {
    fn prepare(a: &AppArgs, run_dir: &Path, server_url: &str) -> Result<Till, String> {
        let Some(dir) = a.till_dir.clone() else {
            return Ok(Till {
                dir: run_dir.join("till"),
                reuse: None,
            });
        };
        let settings = dir.join("settings.json");
        let mark = std::fs::read_to_string(dir.join(TILL_MARK)).ok();
        let (Some(mark), true) = (mark, settings.is_file()) else {
            if dir.exists() && std::fs::read_dir(&dir).map_err(err)?.next().is_some() {
                return Err(format!(
                    "{} is not empty and not a till set up by this benchmark: give an empty \
                     or new folder",
                    dir.display()
                ));
            }
            return Ok(Till { dir, reuse: None });
        };
        let (id, members) = mark
            .trim()
            .split_once(' ')
            .ok_or_else(|| format!("{}: bad {TILL_MARK}", dir.display()))?;
        if members != a.members.to_string() {
            return Err(format!(
                "{} holds a till of the {members}-member server, not of {}",
                dir.display(),
                a.members
            ));
        }
        // The server listens on a new port each run: point the till at it.
        let mut v: Value =
            serde_json::from_slice(&std::fs::read(&settings).map_err(err)?).map_err(err)?;
        v["server_url"] = json!(server_url);
        std::fs::write(&settings, serde_json::to_vec_pretty(&v).map_err(err)?).map_err(err)?;
        Ok(Till {
            dir,
            reuse: Some(id.to_string()),
        })
    }

    fn remember(&self, till_id: &str, members: u64) -> Result<(), String> {
        std::fs::write(self.dir.join(TILL_MARK), format!("{till_id} {members}\n")).map_err(err)
    }
}

/// The app under WebKitWebDriver under tauri-driver.
fn app_pid(driver: &TauriDriver, app_bin: &Path) -> Result<u32, String> {
    let start = Instant::now();
    loop {
        if let Some(p) = procs::find_exe_under(driver.pid(), app_bin) {
            return Ok(p);
        }
        if start.elapsed() > Duration::from_secs(10) {
            return Err(format!(
                "no {} process under tauri-driver",
                app_bin.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// After a session ended: the app and its WebKit processes are gone (stopped if not).
fn settle(pids: &[u32]) {
    if !procs::wait_gone(pids, Duration::from_secs(10)) {
        eprintln!("app bench: the app did not exit with its session; stopping it");
        procs::stop(pids);
    }
}

/// Polls the app's sync status until the first sync (bootstrap) is done.
async fn wait_bootstrap(s: &Session, since: Instant) -> Result<report::Bootstrap, String> {
    let mut seen_total = 0u64;
    let mut last_log = Instant::now();
    loop {
        let v = s.script_async(page::STATUS, json!([])).await?;
        if let Some(e) = v.get("err") {
            return Err(format!("status: {e}"));
        }
        let st = &v["ok"];
        if let Some(b) = st["bootstrap"].as_array() {
            let done = b.first().and_then(Value::as_u64).unwrap_or(0);
            seen_total = seen_total.max(b.get(1).and_then(Value::as_u64).unwrap_or(0));
            if last_log.elapsed() > Duration::from_secs(15) {
                eprintln!(
                    "app bench: bootstrap {done} / {seen_total} after {:.0} s",
                    since.elapsed().as_secs_f64()
                );
                last_log = Instant::now();
            }
        } else if !st["last_sync_at"].is_null() {
            return Ok(report::Bootstrap {
                seconds: since.elapsed().as_secs_f64(),
                total: seen_total,
            });
        }
        if since.elapsed() > BOOTSTRAP_TIMEOUT {
            return Err(format!(
                "the bootstrap did not finish within {BOOTSTRAP_TIMEOUT:?}: {st}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// One planned scan.
struct Planned {
    text: String,
    name: String,
    card: String,
    phone: bool,
}

/// Warm-up and measured scans of random members (no member twice in a row).
fn scan_plan(a: &AppArgs) -> Result<Vec<Planned>, String> {
    let mut rng = fastrand::Rng::with_seed(a.seed);
    let mut last = u64::MAX;
    let mut v = Vec::with_capacity(a.warmup + a.scans);
    while v.len() < a.warmup + a.scans {
        let serial = rng.u64(..a.members);
        if serial == last {
            continue;
        }
        last = serial;
        let m = members::member(serial)?;
        let phone = rng.u8(..100) < a.phone_pct;
        v.push(Planned {
            text: if phone {
                m.phone_typed()
            } else {
                m.card.clone()
            },
            name: m.name,
            card: m.card,
            phone,
        });
    }
    Ok(v)
}

/// One start of the set-up app: new session → PIN field focused and painted.
async fn cold_start(driver: &TauriDriver, app_bin: &Path) -> Result<ColdStart, String> {
    let requested = epoch_ms();
    let s = Session::start(&driver.url, app_bin).await?;
    let session_ms = epoch_ms() - requested;
    let pid = app_pid(driver, app_bin)?;
    let spawned_ms = spawn_epoch_ms(pid).map(|t| t - requested);
    let v = s.script_async(page::PIN_READY, json!([])).await?;
    if let Some(e) = v.get("err") {
        return Err(format!("cold start: {e} ({v})"));
    }
    let at = v["at"].as_f64().ok_or_else(|| format!("cold start: {v}"))?;
    let mut gone = vec![pid];
    gone.extend(procs::descendants(pid));
    s.quit().await?;
    settle(&gone);
    Ok(ColdStart {
        total_ms: at - requested,
        spawned_ms,
        navigation_ms: v["origin"].as_f64().map(|o| o - requested),
        fcp_ms: v["fcp"]
            .as_f64()
            .zip(v["origin"].as_f64())
            .map(|(f, o)| o + f - requested),
        session_ms,
        ready_ms: v["ready_at"].as_f64().map(|t| t - requested),
        marked: v["how"] == "marks",
        upper_bound: v["upper_bound"].as_bool().unwrap_or(false),
    })
}

/// When the process started (epoch ms, 10 ms resolution: `/proc` start ticks after boot,
/// with the boot instant from `/proc/uptime`).
fn spawn_epoch_ms(pid: u32) -> Option<f64> {
    let ticks = procs::start_ticks(pid)?;
    let now = epoch_ms();
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(now - uptime * 1000.0 + ticks as f64 * 10.0)
}
