//! Options of `loyalty-bench dashboard`.

use std::path::PathBuf;

pub const USAGE: &str = "\
usage: loyalty-bench dashboard [--members N] [--sales N] [--anonymous N] [--days N]
                               [--stores N] [--runs N] [--data-dir DIR] [--regenerate]

  --members N     members (default 1000000)
  --sales N       member sales (default 10000000)
  --anonymous N   sales without a card, besides (default 2000000)
  --days N        days the sales span, ending yesterday (default 730)
  --stores N      stores, one till each (default 20)
  --runs N        timed dashboard computations after a first (cold) one (default 5)
  --data-dir DIR  where dashboard-<members>-<sales>/ lives (default: bench-data/)
  --regenerate    rebuild the server database even if a matching one exists

";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardArgs {
    pub members: u64,
    pub sales: u64,
    pub anonymous: u64,
    pub days: u32,
    pub stores: u32,
    pub runs: usize,
    pub data_dir: PathBuf,
    pub regenerate: bool,
}

impl DashboardArgs {
    pub fn new(data_dir: PathBuf) -> DashboardArgs {
        DashboardArgs {
            members: 1_000_000,
            sales: 10_000_000,
            anonymous: 2_000_000,
            days: 730,
            stores: 20,
            runs: 5,
            data_dir,
            regenerate: false,
        }
    }

    /// `<data-dir>/dashboard-<members>-<sales>/`.
    pub fn dir(&self) -> PathBuf {
        self.data_dir.join(format!(
            "dashboard-{}-{}-{}-{}-{}",
            self.members, self.sales, self.anonymous, self.days, self.stores
        ))
    }
}

fn number<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
    let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
    v.replace('_', "")
        .parse()
        .map_err(|_| format!("{flag}: not a number: {v}"))
}

pub fn parse(argv: impl IntoIterator<Item = String>) -> Result<DashboardArgs, String> {
    let mut a = DashboardArgs::new(crate::cli::default_data_dir());
    let mut it = argv.into_iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--members" => a.members = number(&flag, it.next())?,
            "--sales" => a.sales = number(&flag, it.next())?,
            "--anonymous" => a.anonymous = number(&flag, it.next())?,
            "--days" => a.days = number(&flag, it.next())?,
            "--stores" => a.stores = number(&flag, it.next())?,
            "--runs" => a.runs = number(&flag, it.next())?,
            "--data-dir" => {
                a.data_dir = PathBuf::from(it.next().ok_or("--data-dir needs a value")?)
            }
            "--regenerate" => a.regenerate = true,
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    if a.members == 0 || a.days == 0 || a.stores == 0 || a.runs == 0 {
        return Err("--members, --days, --stores and --runs must be at least 1".into());
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let a = parse(
            "--members 1_000 --sales 5000 --days 30 --runs 2"
                .split(' ')
                .map(String::from),
        )
        .unwrap();
        assert_eq!((a.members, a.sales, a.days, a.runs), (1000, 5000, 30, 2));
        assert!(parse(["--bogus".to_string()]).is_err());
        assert!(parse(["--members".to_string(), "0".to_string()]).is_err());
    }
}
