//! Options of `loyalty-bench sync`.

use std::path::PathBuf;

pub const USAGE: &str = "\
usage: loyalty-bench sync [--members N] [--tills N] [--sales N] [--accounts N]
                          [--ingest-events N] [--accruals N] [--clients N]
                          [--only LIST] [--data-dir DIR] [--seed N]

  --members N        members the new till bootstraps from the server (default 1000000)
  --tills N          tills selling offline in the convergence run (default 10)
  --sales N          offline sales per till (default 10000, at most members / 10, min 100)
  --accounts N       members the offline tills sell to (default 10000, at most members)
  --ingest-events N  events uploaded in the ingest run (default 20000, at most members / 5)
  --accruals N       online accruals, one event per request (default 20000, at most
                     members / 5)
  --clients N        concurrent tills sending accruals (default 32)
  --only LIST        comma-separated subset of converge,ingest,bootstrap,accruals
  --data-dir DIR     parent of the temporary directory (default: the system temp dir)
  --seed N           RNG seed (default 42)";

/// The four measurements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Converge,
    Ingest,
    Bootstrap,
    Accruals,
}

impl Scenario {
    pub const ALL: [Scenario; 4] = [
        Scenario::Converge,
        Scenario::Ingest,
        Scenario::Bootstrap,
        Scenario::Accruals,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Converge => "converge",
            Scenario::Ingest => "ingest",
            Scenario::Bootstrap => "bootstrap",
            Scenario::Accruals => "accruals",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncArgs {
    pub members: u64,
    pub tills: usize,
    pub sales: usize,
    pub accounts: u64,
    pub ingest_events: usize,
    pub accruals: usize,
    pub clients: usize,
    pub only: Vec<Scenario>,
    pub data_dir: Option<PathBuf>,
    pub seed: u64,
}

impl Default for SyncArgs {
    fn default() -> Self {
        SyncArgs {
            members: 1_000_000,
            tills: 10,
            sales: 10_000,
            accounts: 10_000,
            ingest_events: 20_000,
            accruals: 20_000,
            clients: 32,
            only: Scenario::ALL.to_vec(),
            data_dir: None,
            seed: 42,
        }
    }
}

impl SyncArgs {
    pub fn runs(&self, s: Scenario) -> bool {
        self.only.contains(&s)
    }

    /// The full-size run the goals are stated for.
    pub fn full_size(&self) -> bool {
        let d = SyncArgs::default();
        self.members >= d.members
            && self.tills >= d.tills
            && self.sales >= d.sales
            && self.accounts >= d.accounts
    }
}

fn number<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
    let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
    v.replace('_', "")
        .parse()
        .map_err(|_| format!("{flag}: not a number: {v}"))
}

fn scenarios(list: &str) -> Result<Vec<Scenario>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            Scenario::ALL
                .into_iter()
                .find(|x| x.name() == s)
                .ok_or_else(|| format!("--only: unknown scenario {s:?}"))
        })
        .collect()
}

/// Parses the options after `sync`.
pub fn parse(argv: impl IntoIterator<Item = String>) -> Result<SyncArgs, String> {
    let mut a = SyncArgs::default();
    let mut it = argv.into_iter();
    let (mut sales, mut accounts, mut ingest, mut accruals) = (None, None, None, None);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--members" => a.members = number(&flag, it.next())?,
            "--tills" => a.tills = number(&flag, it.next())?,
            "--sales" => sales = Some(number(&flag, it.next())?),
            "--accounts" => accounts = Some(number(&flag, it.next())?),
            "--ingest-events" => ingest = Some(number(&flag, it.next())?),
            "--accruals" => accruals = Some(number(&flag, it.next())?),
            "--clients" => a.clients = number(&flag, it.next())?,
            "--only" => a.only = scenarios(&it.next().ok_or("--only needs a value")?)?,
            "--data-dir" => {
                a.data_dir = Some(PathBuf::from(it.next().ok_or("--data-dir needs a value")?))
            }
            "--seed" => a.seed = number(&flag, it.next())?,
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    if a.members < 100 {
        return Err("--members must be at least 100".into());
    }
    if a.tills == 0 || a.clients == 0 || a.only.is_empty() {
        return Err("--tills, --clients and --only must not be empty".into());
    }
    let m = usize::try_from(a.members).unwrap_or(usize::MAX);
    a.sales = sales.unwrap_or(a.sales.min((m / 10).max(100)));
    a.accounts = accounts.unwrap_or(a.accounts.min(a.members));
    a.ingest_events = ingest.unwrap_or(a.ingest_events.min((m / 5).max(400)));
    a.accruals = accruals.unwrap_or(a.accruals.min((m / 5).max(400)));
    if a.sales == 0 || a.accounts == 0 || a.ingest_events == 0 || a.accruals == 0 {
        return Err("sizes must be at least 1".into());
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
    fn defaults_scale_down_with_members() {
        let full = parse(argv("")).unwrap();
        assert_eq!(full, SyncArgs::default());
        assert!(full.full_size());
        let quick = parse(argv("--members 2000")).unwrap();
        assert_eq!((quick.sales, quick.accounts), (200, 2_000));
        assert_eq!((quick.ingest_events, quick.accruals), (400, 400));
        assert!(!quick.full_size());
        let set = parse(argv("--members 2000 --sales 7 --only ingest,accruals")).unwrap();
        assert_eq!(set.sales, 7);
        assert_eq!(set.only, [Scenario::Ingest, Scenario::Accruals]);
        assert!(set.runs(Scenario::Ingest) && !set.runs(Scenario::Converge));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse(argv("--members 10")).is_err());
        assert!(parse(argv("--tills 0")).is_err());
        assert!(parse(argv("--only nothing")).is_err());
        assert!(parse(argv("--bogus")).is_err());
        assert!(parse(argv("--sales x")).is_err());
    }
}
