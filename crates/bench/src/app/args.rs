//! Options of `loyalty-bench app`.

use std::path::PathBuf;

pub const USAGE: &str = "
usage: loyalty-bench app [--members N] [--scans N] [--phones PCT] [--warmup N]
                         [--starts N] [--data-dir DIR] [--bin-dir DIR] [--seed N]
                         [--till-dir DIR]

  The till app (target/release/loyalty-till-app, built by make bench-app with the UI)
  in its real window through tauri-driver + WebKitWebDriver, against the real
  loyalty-server. Needs a display (make bench-app runs it under xvfb-run; without
  DISPLAY the benchmark starts an Xvfb of its own).

  --members N     members imported on the server, bootstrapped by a new till
                  (default 1000000; the server is kept in <data-dir>/app-server-<N>/)
  --scans N       measured scans, card numbers and phones (default 300)
  --phones PCT    share of the scans typed as a phone number, `8 9XX XXX-XX-XX` (default 20)
  --warmup N      unmeasured scans first (default 20)
  --starts N      cold starts of the set-up app, median reported (default 7)
  --data-dir DIR  parent of app-server-<N>/ (default: bench-data/ at the repo root)
  --bin-dir DIR   where loyalty-server and loyalty-till-app are (default target/release)
  --seed N        RNG seed of the scan sample (default 42)
  --till-dir DIR  the till's data folder, kept: the first run sets it up (bootstrap) there,
                  later runs with the same DIR and --members reuse it (no setup, no
                  bootstrap: quick reruns at 1M). Default: a temporary folder, removed";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppArgs {
    pub members: u64,
    pub scans: usize,
    pub phone_pct: u8,
    pub warmup: usize,
    pub starts: usize,
    pub data_dir: PathBuf,
    pub bin_dir: PathBuf,
    pub seed: u64,
    pub till_dir: Option<PathBuf>,
}

/// `target/release` of the workspace (or `$CARGO_TARGET_DIR/release`).
pub fn default_bin_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("..")
                .join("target")
        });
    target.join("release")
}

impl Default for AppArgs {
    fn default() -> Self {
        AppArgs {
            members: 1_000_000,
            scans: 300,
            phone_pct: 20,
            warmup: 20,
            starts: 7,
            data_dir: crate::cli::default_data_dir(),
            bin_dir: default_bin_dir(),
            seed: 42,
            till_dir: None,
        }
    }
}

/// What the goals are stated for: 1M members, ≥ 200 scans, ≥ 5 cold starts.
pub const FULL_MEMBERS: u64 = 1_000_000;
pub const MIN_SCANS: usize = 200;
pub const MIN_STARTS: usize = 5;

impl AppArgs {
    pub fn full_size(&self) -> bool {
        self.members >= FULL_MEMBERS && self.scans >= MIN_SCANS && self.starts >= MIN_STARTS
    }

    /// `<data-dir>/app-server-<N>/`.
    pub fn server_dir(&self) -> PathBuf {
        self.data_dir.join(format!("app-server-{}", self.members))
    }

    /// The build profile of the binaries (the name of `--bin-dir`).
    pub fn profile(&self) -> String {
        self.bin_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

fn number<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
    let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
    v.replace('_', "")
        .parse()
        .map_err(|_| format!("{flag}: not a number: {v}"))
}

/// Parses the options after `app`.
pub fn parse(argv: impl IntoIterator<Item = String>) -> Result<AppArgs, String> {
    let mut a = AppArgs::default();
    let mut it = argv.into_iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--members" => a.members = number(&flag, it.next())?,
            "--scans" => a.scans = number(&flag, it.next())?,
            "--phones" => a.phone_pct = number(&flag, it.next())?,
            "--warmup" => a.warmup = number(&flag, it.next())?,
            "--starts" => a.starts = number(&flag, it.next())?,
            "--data-dir" => {
                a.data_dir = PathBuf::from(it.next().ok_or("--data-dir needs a value")?)
            }
            "--bin-dir" => a.bin_dir = PathBuf::from(it.next().ok_or("--bin-dir needs a value")?),
            "--seed" => a.seed = number(&flag, it.next())?,
            "--till-dir" => {
                a.till_dir = Some(PathBuf::from(it.next().ok_or("--till-dir needs a value")?))
            }
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    if a.members < 10 {
        return Err("--members must be at least 10".into());
    }
    if a.scans == 0 || a.starts == 0 {
        return Err("--scans and --starts must be at least 1".into());
    }
    if a.phone_pct > 100 {
        return Err("--phones is a percentage (0..=100)".into());
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn defaults_are_the_full_run() {
        let a = parse(argv("")).unwrap();
        assert_eq!(a.members, 1_000_000);
        assert!(a.full_size());
        assert_eq!(a.profile(), "release");
        assert!(a.server_dir().ends_with("app-server-1000000"));
    }

    #[test]
    fn parses_and_rejects() {
        let a = parse(argv(
            "--members 20_000 --scans 50 --phones 0 --starts 2 --bin-dir /x/debug --data-dir /d \
             --till-dir /t",
        ))
        .unwrap();
        assert_eq!(
            (a.members, a.scans, a.phone_pct, a.starts),
            (20_000, 50, 0, 2)
        );
        assert_eq!(a.profile(), "debug");
        assert_eq!(a.server_dir(), PathBuf::from("/d/app-server-20000"));
        assert!(!a.full_size());
        assert_eq!(a.till_dir, Some(PathBuf::from("/t")));
        assert!(parse(argv("--members 5")).is_err());
        assert!(parse(argv("--phones 101")).is_err());
        assert!(parse(argv("--scans 0")).is_err());
        assert!(parse(argv("--bogus")).is_err());
        assert!(parse(argv("--members")).is_err());
    }
}
