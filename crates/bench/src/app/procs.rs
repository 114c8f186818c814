//! Processes from Linux `/proc`: the tree under a PID (tauri-driver → WebKitWebDriver →
//! the app → its WebKit processes), PSS from `smaps_rollup`, start times, and stopping the
//! processes this benchmark started (by PID, never by name).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// `(pid, ppid, comm)` of every process now.
fn table() -> Vec<(u32, u32, String)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let pid: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let (comm, ppid) = parse_stat(&stat)?;
        Some((pid, ppid, comm))
    })
    .collect()
}

/// `(comm, ppid)` from a `/proc/PID/stat` line (the command may contain spaces and ')').
pub fn parse_stat(stat: &str) -> Option<(String, u32)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_string();
    let mut rest = stat.get(close + 1..)?.split_whitespace();
    let _state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((comm, ppid))
}

/// Start of the process in clock ticks after boot (field 22 of `/proc/PID/stat`).
pub fn start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let close = stat.rfind(')')?;
    // Field 3 (state) is the first after the command; starttime is field 22.
    stat.get(close + 1..)?
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()
}

/// CPU time (user + system, clock ticks) of `pid` and its live descendants.
pub fn tree_cpu_ticks(pid: u32) -> u64 {
    let mut pids = vec![pid];
    pids.extend(descendants(pid));
    pids.into_iter()
        .filter_map(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
            let close = stat.rfind(')')?;
            let f: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
            // utime and stime are fields 14 and 15: 11 and 12 after the command.
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .sum()
}

/// Every descendant of `root` (children first, then theirs), not `root` itself.
pub fn descendants(root: u32) -> Vec<u32> {
    let t = table();
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for (pid, ppid, _) in &t {
            if *ppid == p && !out.contains(pid) {
                out.push(*pid);
                frontier.push(*pid);
            }
        }
    }
    out
}

pub fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

pub fn exe(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/exe")).ok()
}

pub fn alive(pid: u32) -> bool {
    // A zombie has no exe link any more but still a /proc entry: count it as gone.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let close = s.rfind(')')?;
            s.get(close + 1..)?
                .split_whitespace()
                .next()
                .map(|st| st != "Z" && st != "X")
        })
        .unwrap_or(false)
}

/// The descendant of `root` running `binary` (the app under WebKitWebDriver).
pub fn find_exe_under(root: u32, binary: &Path) -> Option<u32> {
    let want = binary.canonicalize().ok()?;
    descendants(root)
        .into_iter()
        .find(|p| exe(*p).is_some_and(|e| e == want))
}

/// `Pss:` of `/proc/PID/smaps_rollup`, KiB.
pub fn pss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    parse_pss(&s)
}

pub fn parse_pss(smaps_rollup: &str) -> Option<u64> {
    smaps_rollup.lines().find_map(|l| {
        let v = l.strip_prefix("Pss:")?;
        v.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// PSS of one process of the app's tree.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcPss {
    pub pid: u32,
    pub comm: String,
    pub pss_mib: f64,
}

/// PSS of `pid` and all its descendants, largest first.
pub fn tree_pss(pid: u32) -> Vec<ProcPss> {
    let mut pids = vec![pid];
    pids.extend(descendants(pid));
    let mut v: Vec<ProcPss> = pids
        .into_iter()
        .filter_map(|p| {
            Some(ProcPss {
                pid: p,
                comm: comm(p),
                pss_mib: pss_kib(p)? as f64 / 1024.0,
            })
        })
        .collect();
    v.sort_by(|a, b| b.pss_mib.total_cmp(&a.pss_mib));
    v
}

/// Busy and total CPU ticks of the whole machine (`/proc/stat`), at a moment.
#[derive(Debug, Clone, Copy)]
pub struct MachineMark {
    busy: u64,
    total: u64,
}

pub fn machine_mark() -> MachineMark {
    let (busy, total) = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| parse_cpu_line(s.lines().next()?))
        .unwrap_or((0, 0));
    MachineMark { busy, total }
}

/// `(busy, total)` of the `cpu ` line of `/proc/stat` (idle = idle + iowait).
pub fn parse_cpu_line(line: &str) -> Option<(u64, u64)> {
    let v: Vec<u64> = line
        .strip_prefix("cpu ")?
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let idle = v.get(3)? + v.get(4).copied().unwrap_or(0);
    let total: u64 = v.iter().take(8).sum();
    Some((total - idle, total))
}

/// How busy the machine was since `m`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MachineLoad {
    pub cores: usize,
    pub cores_busy: f64,
    /// 1-minute load average at the end.
    pub loadavg_1m: f64,
}

pub fn machine_since(m: MachineMark) -> MachineLoad {
    let now = machine_mark();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let total = now.total.saturating_sub(m.total).max(1) as f64;
    let busy = now.busy.saturating_sub(m.busy) as f64 / total;
    MachineLoad {
        cores,
        cores_busy: busy * cores as f64,
        loadavg_1m: std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .unwrap_or(0.0),
    }
}

/// Sends `signal` (`TERM`, `KILL`) to `pid`.
fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// Waits up to `timeout` for every PID in `pids` to be gone; true when they are.
pub fn wait_gone(pids: &[u32], timeout: Duration) -> bool {
    let start = Instant::now();
    loop {
        if pids.iter().all(|p| !alive(*p)) {
            return true;
        }
        if start.elapsed() > timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Stops `pids` (processes this benchmark started): TERM, then KILL after 2 s.
pub fn stop(pids: &[u32]) {
    let live: Vec<u32> = pids.iter().copied().filter(|p| alive(*p)).collect();
    if live.is_empty() {
        return;
    }
    for p in &live {
        signal(*p, "TERM");
    }
    if !wait_gone(&live, Duration::from_secs(2)) {
        for p in live.iter().filter(|p| alive(**p)) {
            signal(*p, "KILL");
        }
        wait_gone(&live, Duration::from_secs(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        assert_eq!(
            parse_stat("123 (Web Content) S 77 123 123 0 -1"),
            Some(("Web Content".into(), 77))
        );
        assert_eq!(parse_stat("9 (a) b) R 1 9 9"), Some(("a) b".into(), 1)));
        assert_eq!(
            parse_cpu_line("cpu  10 0 5 80 5 0 0 0 0 0"),
            Some((15, 100))
        );
        let rollup = "55d0-7ff [rollup]\nRss:              120 kB\nPss:               81 kB\nPss_Anon:  1 kB\n";
        assert_eq!(parse_pss(rollup), Some(81));
        assert_eq!(parse_pss("Rss: 1 kB"), None);
    }

    #[test]
    fn walks_this_process_tree() {
        let me = std::process::id();
        assert!(alive(me));
        assert!(start_ticks(me).is_some());
        if std::path::Path::new("/proc/self/smaps_rollup").exists() {
            assert!(pss_kib(me).unwrap() > 0);
            assert_eq!(tree_pss(me)[0].pid, me);
        }
        let mut child = Command::new("sleep").arg("5").spawn().unwrap();
        assert!(descendants(me).contains(&child.id()));
        stop(&[child.id()]);
        let _ = child.wait();
        assert!(!alive(child.id()));
    }
}
