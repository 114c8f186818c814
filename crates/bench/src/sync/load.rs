//! Machine load during a measurement (Linux `/proc`): how many cores the whole machine
//! kept busy, how many of them this process used, so a figure measured while other work
//! ran on the shared cores says so; and the CPU time of the embedded server's threads
//! (named `server`) and of the rest of the process (the tills, and the bench's own thread),
//! costs that depend less on what else runs than the wall time does.

use std::time::Instant;

/// Counters at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    at: Instant,
    /// All CPUs, clock ticks: busy and total.
    busy: u64,
    total: u64,
    /// This process (user + system), clock ticks.
    own: u64,
    /// Threads named `server`, clock ticks.
    server: u64,
}

/// Between two marks: cores busy on the machine, and in this process.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Load {
    pub cores: usize,
    pub machine_cores_busy: f64,
    pub bench_cores_busy: f64,
    /// 1-minute load average at the end.
    pub loadavg_1m: f64,
    /// CPU seconds of the server's threads (tokio workers and blocking database workers).
    pub server_cpu_s: f64,
    /// CPU seconds of the whole process (threads that exited included).
    pub process_cpu_s: f64,
}

impl Load {
    /// Cores other processes kept busy.
    pub fn others(&self) -> f64 {
        (self.machine_cores_busy - self.bench_cores_busy).max(0.0)
    }

    /// CPU seconds of this process outside the server's threads: the tills (their sync
    /// engines and stores) and the bench's own thread.
    pub fn rest_cpu_s(&self) -> f64 {
        (self.process_cpu_s - self.server_cpu_s).max(0.0)
    }
}

fn cpu_ticks() -> Option<(u64, u64)> {
    let s = std::fs::read_to_string("/proc/stat").ok()?;
    let line = s.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal ...
    let idle = v.get(3)? + v.get(4).copied().unwrap_or(0);
    let total: u64 = v.iter().take(8).sum();
    Some((total - idle, total))
}

fn own_ticks() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may contain spaces) start after ") ".
    let rest = s.rsplit_once(") ")?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime, stime are fields 14 and 15 of the whole line: 12 and 13 here.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// User + system ticks of this process's threads whose name starts with `prefix` (threads
/// that already exited are not counted: tokio keeps its blocking workers 10 s).
fn thread_ticks(prefix: &str) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    dir.filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("stat")).ok())
        .filter_map(|s| {
            let (head, rest) = s.rsplit_once(") ")?;
            let name = head.split_once(" (")?.1;
            if !name.starts_with(prefix) {
                return None;
            }
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .sum()
}

/// Ticks per second of `/proc` counters (USER_HZ; 100 on every Linux we run on).
const HZ: f64 = 100.0;

pub fn mark() -> Mark {
    let (busy, total) = cpu_ticks().unwrap_or((0, 0));
    Mark {
        at: Instant::now(),
        busy,
        total,
        own: own_ticks().unwrap_or(0),
        server: thread_ticks("server"),
    }
}

pub fn since(m: Mark) -> Load {
    let now = mark();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let wall = now.at.duration_since(m.at).as_secs_f64().max(1e-9);
    let total = now.total.saturating_sub(m.total).max(1) as f64;
    let busy_share = now.busy.saturating_sub(m.busy) as f64 / total;
    let loadavg_1m = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    Load {
        cores,
        machine_cores_busy: busy_share * cores as f64,
        bench_cores_busy: now.own.saturating_sub(m.own) as f64 / HZ / wall,
        loadavg_1m,
        server_cpu_s: now.server.saturating_sub(m.server) as f64 / HZ,
        process_cpu_s: now.own.saturating_sub(m.own) as f64 / HZ,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_counters() {
        let m = mark();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        assert!(x > 0);
        let l = since(m);
        assert!(l.cores >= 1);
        if cfg!(target_os = "linux") {
            assert!(l.machine_cores_busy >= 0.0 && l.machine_cores_busy <= l.cores as f64 + 0.01);
        }
    }
}
