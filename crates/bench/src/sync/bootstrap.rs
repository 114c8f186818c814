//! `bootstrap_1m_s`: a new till's first sync against a server holding `members` members.
//!
//! The members are written straight into the server's tables ([`super::members`], timed
//! apart as `generate_s`); the till receives them only through the real API: one
//! `Syncer` cycle over `HttpTransport` (snapshot pages of the sync's default page size, each
//! applied in one store transaction, then changes since the first page's cursor). Checked:
//! the till holds every account, its cursor is the server's gseq, and a sample of accounts
//! shows the server's balances.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use loyalty_sync::SyncStatus;
use tokio::sync::watch;

use super::args::SyncArgs;
use super::check::{compare, Checked};
use super::load::{self, Load};
use super::members;
use super::server::{self, EmbeddedServer};
use super::till::BenchTill;

/// Accounts compared one by one after the bootstrap.
const SAMPLE: usize = 2_000;
/// Account states pulled as changes after the bootstrap (the fan-out figure).
const CHANGES: u64 = 200_000;
/// Accounts per changes page (the largest the server gives).
const CHANGES_PAGE: u32 = 1_000;

#[derive(Debug, Clone, Default)]
pub struct Bootstrap {
    pub members: u64,
    pub generate_s: f64,
    pub bootstrap_s: f64,
    pub pages: usize,
    pub page_size: u32,
    pub till_db_mib: f64,
    /// Mean JSON size on the server of a book and of a profile (what a snapshot page
    /// carries per account, besides the cards).
    pub book_bytes: f64,
    pub profile_bytes: f64,
    pub checked: Checked,
    /// Machine load while timed.
    pub load: Load,
    /// After the bootstrap, not in its time: the first `changes_states` account states
    /// (every member has a gseq) pulled as changes since 0, one page of [`CHANGES_PAGE`]
    /// after the other — what serving the fan-out of changes costs per state.
    pub changes_states: usize,
    pub changes_s: f64,
    /// CPU seconds of the server's threads while they were served.
    pub changes_server_cpu_s: f64,
}

impl Bootstrap {
    /// Seconds per million members (the measured time when the run had 1M).
    pub fn per_million_s(&self) -> f64 {
        self.bootstrap_s * 1e6 / self.members.max(1) as f64
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

pub fn run(dir: &Path, a: &SyncArgs) -> Result<Bootstrap, String> {
    let mut srv = EmbeddedServer::open(dir, "bootstrap-server")?;
    let loaded = members::load(&srv.path, a.members, a.seed)?;
    eprintln!(
        "bootstrap: {} members ({} cards, {} lots) written on the server in {:.1} s",
        loaded.members, loaded.cards, loaded.lots, loaded.seconds
    );
    srv.start()?;
    let till = BenchTill::open(dir, "T50", srv.register("Store 50")?)?;
    let syncer = till.syncer(till.http(&srv.base())?);
    let page_size = syncer.config.snapshot_page_size;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("till")
        .enable_all()
        .build()
        .map_err(err)?;
    let mark = load::mark();
    let started = Instant::now();
    let report = rt.block_on(async {
        let (tx, mut rx) = watch::channel(SyncStatus::default());
        let progress = tokio::spawn(async move {
            let mut last = Instant::now();
            while rx.changed().await.is_ok() {
                if last.elapsed() >= Duration::from_secs(2) {
                    last = Instant::now();
                    if let Some((done, total)) = rx.borrow().bootstrap_progress {
                        eprintln!(
                            "bootstrap: {done}/{total} accounts, {:.1} s",
                            started.elapsed().as_secs_f64()
                        );
                    }
                }
            }
        });
        let r = syncer.cycle(&tx).await;
        drop(tx);
        let _ = progress.await;
        r
    });
    let bootstrap_s = started.elapsed().as_secs_f64();
    let load = load::since(mark);
    let report = report.map_err(err)?;
    eprintln!(
        "bootstrap: {} accounts in {} pages in {bootstrap_s:.1} s",
        report.accounts, report.pages
    );
    let reader = srv.reader()?;
    let held: i64 = till
        .lock()
        .connection()
        .query_row("SELECT COUNT(*) FROM accounts", [], |r| r.get(0))
        .map_err(err)?;
    let gseq = server::gseq(&reader)?;
    if u64::try_from(held).unwrap_or(0) != a.members || till.cursor()? != gseq {
        return Err(format!(
            "the till holds {held} accounts at cursor {} (server: {} at gseq {gseq})",
            till.cursor()?,
            a.members
        ));
    }
    let all: Vec<(String, String)> = members::cards(&srv.path)?;
    let mut rng = fastrand::Rng::with_seed(a.seed);
    let sample: Vec<String> = (0..SAMPLE.min(all.len()))
        .map(|_| all[rng.usize(..all.len())].0.clone())
        .collect();
    let checked = compare(&reader, &[&till], &sample, Utc::now())?;
    let mean = |sql: &str| -> Result<f64, String> {
        reader
            .query_row(sql, [], |r| r.get::<_, Option<f64>>(0))
            .map(Option::unwrap_or_default)
            .map_err(err)
    };
    let changes_mark = load::mark();
    let (changes_states, changes_s) = pull_changes(&rt, &till, &srv.base(), a.members)?;
    let changes_server_cpu_s = load::since(changes_mark).server_cpu_s;
    let book_bytes = mean("SELECT AVG(LENGTH(book)) FROM accounts")?;
    let profile_bytes = mean("SELECT AVG(LENGTH(profile)) FROM customers")?;
    let till_db_mib = std::fs::metadata(&till.path).map_or(0.0, |m| m.len() as f64 / 1_048_576.0);
    drop(till);
    rt.shutdown_timeout(Duration::from_secs(5));
    srv.shutdown()?;
    Ok(Bootstrap {
        members: a.members,
        generate_s: loaded.seconds,
        bootstrap_s,
        pages: report.pages,
        page_size,
        till_db_mib,
        book_bytes,
        profile_bytes,
        checked,
        load,
        changes_states,
        changes_s,
        changes_server_cpu_s,
    })
}

/// Pulls `min(members, CHANGES)` account states as changes since cursor 0, one page after
/// the other over HTTP; returns how many and the seconds.
fn pull_changes(
    rt: &tokio::runtime::Runtime,
    till: &BenchTill,
    base: &str,
    members: u64,
) -> Result<(usize, f64), String> {
    use loyalty_sync::Transport;
    let transport = till.http(base)?;
    let want = usize::try_from(members.min(CHANGES)).map_err(err)?;
    let (mut since, mut got) = (0, 0);
    let started = Instant::now();
    while got < want {
        let page = rt
            .block_on(transport.changes(since, CHANGES_PAGE))
            .map_err(err)?;
        if page.accounts.is_empty() {
            return Err(format!("changes since {since}: no accounts after {got}"));
        }
        got += page.accounts.len();
        since = page.next;
    }
    Ok((got, started.elapsed().as_secs_f64()))
}
