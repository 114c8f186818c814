//! A first start: every account from the server's snapshot pages.
//!
//! A task of its own fetches the pages one after the other into a bounded channel while the
//! store writes what already arrived, so the server, the network and the till's disk work
//! side by side. The store writes several pages per transaction (at least
//! [`SyncConfig::snapshot_group`] accounts): every transaction rewrites the index pages its
//! inserts touch (card numbers, phones and names arrive in no useful order), so with a
//! million members one transaction per 5 000 accounts rewrote most of those indexes two
//! hundred times; ten times fewer transactions write them ten times less. The groups grow
//! to that size from one page, doubling: the store starts with the first page instead of
//! waiting idle for a whole group, while its indexes are still small.
//!
//! The cursor of the first page is stored with the last group: after a bootstrap cut
//! anywhere, the next cycle pulls every change since cursor 0 (pages and changes apply
//! idempotently).

use loyalty_domain::ProgramConfig;
use loyalty_store::SyncBatch;
use loyalty_wire::{AccountState, SnapshotPage};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::error::{SyncError, TransportError};
use crate::status::SyncStatus;
use crate::syncer::{CycleReport, Syncer};

impl Syncer {
    /// First start: see the module doc; progress in `status.bootstrap_progress`.
    pub(crate) async fn bootstrap(
        &self,
        report: &mut CycleReport,
        status: &watch::Sender<SyncStatus>,
    ) -> Result<(), SyncError> {
        // The server includes exactly what it acknowledged (uploads ran just before).
        let included = self
            .store
            .run(|s| {
                Ok(match s.pending_events(1)?.first() {
                    Some(e) => e.seq - 1,
                    None => s.outbox_last_seq()?,
                })
            })
            .await?;
        status.send_modify(|st| st.bootstrap_progress = Some((0, 0)));
        let (mut pages, _fetcher) = self.fetch_pages();
        let mut cursor: Option<i64> = None;
        let (mut done, mut total): (u64, u64) = (0, 0);
        let mut group = Group::default();
        let most = self.config.snapshot_group as usize;
        let mut want = grow(0, self.config.snapshot_page_size as usize, most);
        loop {
            let page = pages
                .recv()
                .await
                .ok_or_else(|| SyncError::Task("snapshot pages stopped".into()))??;
            let last = is_last(&page);
            let first_cursor = *cursor.get_or_insert(page.cursor);
            // Counted with the first page only.
            total = total.max(u64::try_from(page.total).unwrap_or(0));
            report.pages += 1;
            group.add(page);
            if !last && group.accounts.len() < want {
                continue;
            }
            want = grow(want, self.config.snapshot_page_size as usize, most);
            let group = std::mem::take(&mut group);
            let n = group.accounts.len();
            let local_now = (self.config.clock)();
            self.store
                .run(move |s| {
                    s.apply_snapshot_page(
                        &SyncBatch {
                            accounts: &group.accounts,
                            programs: &group.programs,
                            cursor: last.then_some(first_cursor),
                            included_upto_seq: included,
                            server_time: group.server_time.unwrap_or(local_now),
                        },
                        local_now,
                    )
                })
                .await?;
            done += n as u64;
            report.accounts += n;
            status.send_modify(|st| st.bootstrap_progress = Some((done, total.max(done))));
            if last {
                break;
            }
        }
        report.bootstrapped = true;
        status.send_modify(|st| st.bootstrap_progress = None);
        Ok(())
    }

    /// Fetches the snapshot pages in order on a task of its own (stopped when the returned
    /// guard is dropped); an error ends the pages.
    fn fetch_pages(
        &self,
    ) -> (
        mpsc::Receiver<Result<SnapshotPage, TransportError>>,
        Fetcher,
    ) {
        let (transport, limit) = (self.transport.clone(), self.config.snapshot_page_size);
        // A group's worth of pages ahead: the next group arrives while one is written.
        let ahead = self.config.snapshot_group.div_ceil(limit.max(1)).max(1);
        let (tx, rx) = mpsc::channel(ahead as usize);
        let task = tokio::spawn(async move {
            let mut after: Option<String> = None;
            loop {
                let page = transport.snapshot(after.take(), limit).await;
                let next = match &page {
                    Ok(p) if !is_last(p) => p.next_after.clone(),
                    _ => None,
                };
                if tx.send(page).await.is_err() || next.is_none() {
                    return;
                }
                after = next;
            }
        });
        (rx, Fetcher::new(task))
    }
}

/// The accounts the group after one of `want` waits for: one page (`page`) first, then
/// twice as many each time, up to `most` (and at least one).
fn grow(want: usize, page: usize, most: usize) -> usize {
    let next = if want == 0 {
        page
    } else {
        want.saturating_mul(2)
    };
    next.clamp(1, most.max(1))
}

/// The last page: no key to continue after, or nothing in it.
fn is_last(page: &SnapshotPage) -> bool {
    page.next_after.is_none() || page.accounts.is_empty()
}

/// Pages received and not yet written, as one batch.
#[derive(Default)]
struct Group {
    accounts: Vec<AccountState>,
    programs: Vec<ProgramConfig>,
    /// The server's clock with the latest page.
    server_time: Option<chrono::DateTime<chrono::Utc>>,
}

impl Group {
    fn add(&mut self, page: SnapshotPage) {
        self.accounts.extend(page.accounts);
        for p in page.programs {
            if !self.programs.iter().any(|q| q.version == p.version) {
                self.programs.push(p);
            }
        }
        self.server_time = Some(page.server_time);
    }
}

/// A page-fetching task, aborted when the bootstrap or the pull stops before its last
/// page.
pub(crate) struct Fetcher(JoinHandle<()>);

impl Fetcher {
    pub(crate) fn new(task: JoinHandle<()>) -> Fetcher {
        Fetcher(task)
    }
}

impl Drop for Fetcher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(n: usize, next: Option<&str>, version: u32) -> SnapshotPage {
        let program = ProgramConfig {
            version,
            ..ProgramConfig::default()
        };
        SnapshotPage {
            accounts: (0..n).map(|i| account(&format!("a{i}"))).collect(),
            programs: vec![program],
            next_after: next.map(str::to_string),
            cursor: 7,
            total: 10,
            server_time: chrono::Utc::now(),
        }
    }

    fn account(uid: &str) -> AccountState {
        AccountState {
            account_uid: uid.to_string(),
            gseq: 1,
            customer: None,
            cards: vec![],
            book: loyalty_domain::AccountBook::new(uid),
            reserved: 0,
            categories: vec![],
            merged_into: None,
        }
    }

    #[test]
    fn a_group_holds_the_accounts_of_its_pages_and_each_program_once() {
        let mut g = Group::default();
        g.add(page(3, Some("x"), 1));
        g.add(page(2, None, 1));
        g.add(page(0, None, 2));
        assert_eq!(g.accounts.len(), 5);
        let versions: Vec<u32> = g.programs.iter().map(|p| p.version).collect();
        assert_eq!(versions, vec![1, 2]);
    }

    #[test]
    fn groups_grow_from_one_page_to_the_configured_size() {
        let mut sizes = vec![grow(0, 5_000, 50_000)];
        while sizes.len() < 7 {
            sizes.push(grow(*sizes.last().unwrap(), 5_000, 50_000));
        }
        assert_eq!(
            sizes,
            [5_000, 10_000, 20_000, 40_000, 50_000, 50_000, 50_000]
        );
        assert_eq!(grow(0, 9_000, 4_000), 4_000, "never above the group size");
        assert_eq!(grow(0, 0, 0), 1);
    }

    #[test]
    fn a_page_without_a_next_key_or_without_accounts_is_the_last() {
        assert!(!is_last(&page(1, Some("x"), 1)));
        assert!(is_last(&page(1, None, 1)));
        assert!(is_last(&page(0, Some("x"), 1)));
    }
}
