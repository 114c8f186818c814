//! Command line: `store` (generate or reuse, then measure), the hidden `store-measure`
//! (measurement only, run in a fresh child process so its RSS is the store's alone), and
//! `sync` (options in `crate::sync::args`).

use std::path::PathBuf;

pub const USAGE: &str = "\
usage: loyalty-bench store --members N [--data-dir DIR] [--lookups N] [--checkouts N]
                           [--warmup N] [--seed N] [--regenerate] [--in-process]

  --members N     members in the generated till database (required)
  --data-dir DIR  where store-<N>.db lives (default: bench-data/ at the repo root)
  --lookups N     measured lookups of each kind: card, phone, QR
                  (default 20000, at most 2 per member so small runs stay quick)
  --checkouts N   measured durable checkouts (default 300, at most 1 per 10 members, min 50)
  --warmup N      unmeasured iterations before each measurement (default 500)
  --seed N        RNG seed of the measurement phase (default 42)
  --regenerate    rebuild the database even if a matching one exists
  --in-process    measure in this process instead of a fresh child process

";

/// Options of the `store` benchmark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreArgs {
    pub members: u64,
    pub data_dir: PathBuf,
    pub lookups: usize,
    pub checkouts: usize,
    pub warmup: usize,
    pub seed: u64,
    pub regenerate: bool,
    pub in_process: bool,
}

impl StoreArgs {
    /// Defaults for `members` (used by tests and as the parser's starting point).
    pub fn new(members: u64, data_dir: PathBuf) -> StoreArgs {
        StoreArgs {
            members,
            data_dir,
            lookups: 20_000,
            checkouts: 300,
            warmup: 500,
            seed: 42,
            regenerate: false,
            in_process: false,
        }
    }

    /// `<data-dir>/store-<N>.db`.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join(format!("store-{}.db", self.members))
    }
}

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Store(StoreArgs),
    /// Hidden: measure an existing database (the child process of `store`).
    StoreMeasure {
        db: PathBuf,
        args: StoreArgs,
    },
    /// The server and sync benchmark.
    Sync(crate::sync::args::SyncArgs),
    /// The till app in its real window.
    App(crate::app::args::AppArgs),
    /// The owner's dashboard on the server.
    Dashboard(crate::dashboard::args::DashboardArgs),
    Help,
}

/// `bench-data/` at the repository root.
pub fn default_data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("bench-data")
}

fn number<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
    let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
    v.replace('_', "")
        .parse()
        .map_err(|_| format!("{flag}: not a number: {v}"))
}

/// Parses the arguments after the program name.
pub fn parse(argv: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut it = argv.into_iter();
    let sub = match it.next() {
        None => return Ok(Command::Help),
        Some(s) => s,
    };
    let measure_only = match sub.as_str() {
        "store" => false,
        "store-measure" => true,
        "sync" => return crate::sync::args::parse(it).map(Command::Sync),
        "app" => return crate::app::args::parse(it).map(Command::App),
        "dashboard" => return crate::dashboard::args::parse(it).map(Command::Dashboard),
        "-h" | "--help" | "help" => return Ok(Command::Help),
        other => return Err(format!("unknown command {other:?}")),
    };
    let mut args = StoreArgs::new(0, default_data_dir());
    let mut members = None;
    let mut db = None;
    let (mut lookups_set, mut checkouts_set) = (false, false);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--members" => members = Some(number::<u64>(&flag, it.next())?),
            "--data-dir" => {
                args.data_dir = PathBuf::from(it.next().ok_or("--data-dir needs a value")?)
            }
            "--db" => db = Some(PathBuf::from(it.next().ok_or("--db needs a value")?)),
            "--lookups" => {
                args.lookups = number(&flag, it.next())?;
                lookups_set = true;
            }
            "--checkouts" => {
                args.checkouts = number(&flag, it.next())?;
                checkouts_set = true;
            }
            "--warmup" => args.warmup = number(&flag, it.next())?,
            "--seed" => args.seed = number(&flag, it.next())?,
            "--regenerate" => args.regenerate = true,
            "--in-process" => args.in_process = true,
            "-h" | "--help" => return Ok(Command::Help),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    args.members = members.ok_or("--members is required")?;
    if args.members == 0 {
        return Err("--members must be at least 1".into());
    }
    let members = usize::try_from(args.members).unwrap_or(usize::MAX);
    if !lookups_set {
        args.lookups = args.lookups.min(members.saturating_mul(2));
    }
    if !checkouts_set {
        args.checkouts = args.checkouts.min((members / 10).max(50));
    }
    if measure_only {
        let db = db.ok_or("store-measure needs --db")?;
        return Ok(Command::StoreMeasure { db, args });
    }
    Ok(Command::Store(args))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_store_options() {
        let Ok(Command::Store(a)) = parse(argv(
            "store --members 1_000_000 --data-dir /tmp/x --lookups 10 --checkouts 5",
        )) else {
            panic!("not a store command");
        };
        assert_eq!(a.members, 1_000_000);
        assert_eq!(a.lookups, 10);
        assert_eq!(a.checkouts, 5);
        assert_eq!(a.db_path(), PathBuf::from("/tmp/x/store-1000000.db"));
    }

    #[test]
    fn rejects_bad_input() {
        let Ok(Command::Store(quick)) = parse(argv("store --members 2000")) else {
            panic!("not a store command");
        };
        assert_eq!((quick.lookups, quick.checkouts), (4_000, 200));
        assert!(parse(argv("store")).is_err());
        assert!(parse(argv("store --members x")).is_err());
        assert!(parse(argv("store --members 10 --bogus")).is_err());
        assert!(parse(argv("frobnicate")).is_err());
        assert_eq!(parse(argv("")), Ok(Command::Help));
    }
}
