//! Latency samples and percentiles (sorted vector, nearest rank), and the process RSS.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Latency samples in nanoseconds.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    ns: Vec<u64>,
}

impl Samples {
    pub fn with_capacity(n: usize) -> Samples {
        Samples {
            ns: Vec::with_capacity(n),
        }
    }

    pub fn push(&mut self, d: Duration) {
        self.ns
            .push(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    }

    /// Summary in microseconds.
    pub fn summary(&self) -> Summary {
        let mut v = self.ns.clone();
        v.sort_unstable();
        let pct = |p: f64| -> f64 {
            if v.is_empty() {
                return 0.0;
            }
            // Nearest rank: the smallest sample with at least p % of the samples <= it.
            let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
            v[rank.clamp(1, v.len()) - 1] as f64 / 1_000.0
        };
        let mean = if v.is_empty() {
            0.0
        } else {
            v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64 / 1_000.0
        };
        Summary {
            n: v.len(),
            p50_us: pct(50.0),
            p90_us: pct(90.0),
            p99_us: pct(99.0),
            max_us: v.last().map(|&x| x as f64 / 1_000.0).unwrap_or(0.0),
            mean_us: mean,
        }
    }
}

/// Percentiles of a sample set, microseconds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub n: usize,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    pub mean_us: f64,
}

/// `a / b`, 0 when `b` is 0.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// A field of `/proc/self/status` in MiB (`VmRSS`, `VmHWM`); 0 where unavailable.
pub fn proc_status_mib(field: &str) -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/status") else {
        return 0.0;
    };
    s.lines()
        .find_map(|l| {
            let rest = l.strip_prefix(field)?.strip_prefix(':')?;
            let kib: f64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
            Some(kib / 1024.0)
        })
        .unwrap_or(0.0)
}

/// Current resident set, MiB.
pub fn rss_mib() -> f64 {
    proc_status_mib("VmRSS")
}

/// Peak resident set of this process so far (high-water mark), MiB.
pub fn peak_rss_mib() -> f64 {
    proc_status_mib("VmHWM")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut s = Samples::default();
        for i in 1..=100u64 {
            s.push(Duration::from_micros(i));
        }
        let m = s.summary();
        assert_eq!(m.n, 100);
        assert_eq!(m.p50_us, 50.0);
        assert_eq!(m.p99_us, 99.0);
        assert_eq!(m.max_us, 100.0);
        assert_eq!(Samples::default().summary().p99_us, 0.0);
        assert_eq!(ratio(1.0, 0.0), 0.0);
    }

    #[test]
    fn reads_rss() {
        if cfg!(target_os = "linux") {
            assert!(rss_mib() > 0.0);
            assert!(peak_rss_mib() >= rss_mib() * 0.5);
        }
    }
}
