//! Pulling changes since the stored cursor.
//!
//! A task of its own fetches the pages one after the other (each asks from the previous
//! one's `next`) into a bounded channel while the store applies what already arrived, so
//! the server, the network and the till's disk work side by side. The pages waiting when
//! the store is free are applied together in one transaction (at most
//! [`SyncConfig::pull_group`] accounts, whole pages): a till catching up after an outage
//! writes the pages its accounts share once per group instead of once per page. A till
//! with one page to pull applies it alone, as soon as it arrives.

use chrono::{DateTime, Utc};
use loyalty_wire::ChangesResponse;
use tokio::sync::mpsc;

use crate::bootstrap::Fetcher;
use crate::error::SyncError;
use crate::syncer::{CycleReport, Syncer};

/// A changes answer and the till's raw clock when it arrived (the server clock offset is
/// recorded from the two).
struct Arrived {
    changes: ChangesResponse,
    local_now: DateTime<Utc>,
}

impl Syncer {
    /// Changes since the stored cursor until the server has no more; see the module doc.
    pub(crate) async fn pull(&self, report: &mut CycleReport) -> Result<(), SyncError> {
        let since = self.store.run(|s| s.sync_cursor()).await?;
        let (mut pages, _fetcher) = self.fetch_changes(since);
        let most = self.config.pull_group.max(1) as usize;
        loop {
            let first = pages
                .recv()
                .await
                .ok_or_else(|| SyncError::Task("changes pages stopped".into()))?;
            let (group, failed) = take_group(first, &mut pages, most);
            if let Some(last) = group.last() {
                let done = !last.changes.has_more;
                let n: usize = group.iter().map(|a| a.changes.accounts.len()).sum();
                let count = group.len();
                self.store
                    .run(move |s| {
                        let pages: Vec<_> =
                            group.iter().map(|a| (&a.changes, a.local_now)).collect();
                        s.apply_changes_pages(&pages)
                    })
                    .await?;
                report.pages += count;
                report.accounts += n;
                // A group ends at the last page, so nothing failed after it.
                if done {
                    return Ok(());
                }
            }
            if let Some(e) = failed {
                return Err(e);
            }
        }
    }

    /// Fetches the changes pages from `since` on a task of its own (stopped when the
    /// returned guard is dropped); an error ends the pages.
    fn fetch_changes(&self, since: i64) -> (mpsc::Receiver<Result<Arrived, SyncError>>, Fetcher) {
        let (transport, limit) = (self.transport.clone(), self.config.page_size);
        let clock = self.config.clock.clone();
        // A group's worth of pages ahead: the next group arrives while one is written.
        let ahead = self.config.pull_group.div_ceil(limit.max(1)).max(1);
        let (tx, rx) = mpsc::channel(ahead as usize);
        let task = tokio::spawn(async move {
            let mut since = since;
            loop {
                let changes = match transport.changes(since, limit).await {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = tx.send(Err(e.into())).await;
                        return;
                    }
                };
                let local_now = clock();
                let (more, next) = (changes.has_more, changes.next);
                if tx.send(Ok(Arrived { changes, local_now })).await.is_err() || !more {
                    return;
                }
                if next <= since {
                    let _ = tx.send(Err(SyncError::PagingStuck { since })).await;
                    return;
                }
                since = next;
            }
        });
        (rx, Fetcher::new(task))
    }
}

/// `first` and the pages already waiting after it, up to `most` accounts (whole pages; at
/// least one), ending at the last page, at a page bringing program versions (the next
/// pages must be applied with them loaded) or before an error (returned apart).
fn take_group(
    first: Result<Arrived, SyncError>,
    pages: &mut mpsc::Receiver<Result<Arrived, SyncError>>,
    most: usize,
) -> (Vec<Arrived>, Option<SyncError>) {
    let mut group: Vec<Arrived> = Vec::new();
    let mut accounts = 0;
    let mut next = Some(first);
    while let Some(page) = next.take() {
        let page = match page {
            Ok(p) => p,
            Err(e) => return (group, Some(e)),
        };
        accounts += page.changes.accounts.len();
        let end = !page.changes.has_more || !page.changes.programs.is_empty();
        group.push(page);
        if end || accounts >= most {
            break;
        }
        next = pages.try_recv().ok();
    }
    (group, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use loyalty_domain::ProgramConfig;

    fn page(accounts: usize, more: bool, programs: bool) -> Result<Arrived, SyncError> {
        let account = |i: usize| loyalty_wire::AccountState {
            account_uid: format!("a{i}"),
            gseq: 1,
            customer: None,
            cards: vec![],
            book: loyalty_domain::AccountBook::new(format!("a{i}")),
            reserved: 0,
            categories: vec![],
            merged_into: None,
        };
        Ok(Arrived {
            changes: ChangesResponse {
                accounts: (0..accounts).map(account).collect(),
                programs: if programs {
                    vec![ProgramConfig::default()]
                } else {
                    vec![]
                },
                next: 1,
                has_more: more,
                server_time: Utc::now(),
                included_upto_seq: 0,
            },
            local_now: Utc::now(),
        })
    }

    fn waiting(
        items: Vec<Result<Arrived, SyncError>>,
    ) -> mpsc::Receiver<Result<Arrived, SyncError>> {
        let (tx, rx) = mpsc::channel(items.len().max(1));
        for i in items {
            assert!(tx.try_send(i).is_ok(), "room in the channel");
        }
        rx
    }

    fn sizes(g: &[Arrived]) -> Vec<usize> {
        g.iter().map(|a| a.changes.accounts.len()).collect()
    }

    #[test]
    fn a_group_takes_the_waiting_pages_up_to_the_limit() {
        let mut rx = waiting(vec![
            page(3, true, false),
            page(3, true, false),
            page(3, true, false),
        ]);
        let (g, e) = take_group(page(3, true, false), &mut rx, 7);
        assert_eq!(sizes(&g), vec![3, 3, 3]);
        assert!(e.is_none());
        let (g, _) = take_group(rx.try_recv().unwrap(), &mut rx, 7);
        assert_eq!(sizes(&g), vec![3], "the rest is the next group");
    }

    #[test]
    fn a_group_does_not_wait_for_pages_not_yet_arrived() {
        let mut rx = waiting(vec![]);
        let (g, e) = take_group(page(2, true, false), &mut rx, 1000);
        assert_eq!(sizes(&g), vec![2]);
        assert!(e.is_none());
    }

    #[test]
    fn a_group_ends_at_the_last_page_and_at_program_versions() {
        let mut rx = waiting(vec![page(1, false, false), page(5, true, false)]);
        let (g, _) = take_group(page(1, true, false), &mut rx, 1000);
        assert_eq!(sizes(&g), vec![1, 1], "ends with the page without more");
        let mut rx = waiting(vec![page(4, true, false)]);
        let (g, _) = take_group(page(1, true, true), &mut rx, 1000);
        assert_eq!(
            sizes(&g),
            vec![1],
            "pages after programs wait for them to be loaded"
        );
    }

    #[test]
    fn the_pages_before_an_error_are_kept_and_the_error_returned() {
        let stuck = Err(SyncError::PagingStuck { since: 4 });
        let mut rx = waiting(vec![page(2, true, false), stuck, page(9, true, false)]);
        let (g, e) = take_group(page(1, true, false), &mut rx, 1000);
        assert_eq!(sizes(&g), vec![1, 2]);
        assert!(matches!(e, Some(SyncError::PagingStuck { since: 4 })));
        let (g, e) = take_group(Err(SyncError::PagingStuck { since: 1 }), &mut rx, 1000);
        assert!(g.is_empty() && e.is_some());
    }
}
