//! The SQLite backend's owner analytics behind the event log (migration 0007): a thread
//! projects them while uploads pause; an owner read, the expiry sweep and a server batch
//! catch up first; a restart projects what a crash left waiting; nothing counts twice.

mod owner_support;
mod support;

use chrono::Utc;
use loyalty_domain::Fact;
use loyalty_server::backend::{self, BackendError, ServerBatch, ServerEvent, ServerEventSource};
use owner_support::*;
use rusqlite::Connection;
use std::time::{Duration, Instant};
use support::*;
use uuid::Uuid;

/// The test server's database file, opened beside the server.
fn file(s: &TestServer) -> Connection {
    Connection::open(s.db_url.strip_prefix("sqlite://").unwrap()).unwrap()
}

/// (projected gseq, last event's gseq)
fn position(c: &Connection) -> (i64, i64) {
    c.query_row(
        "SELECT (SELECT value FROM analytics_state WHERE name = 'projected_gseq'),
                (SELECT COALESCE(MAX(gseq), 0) FROM events)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// (purchases, net_spend) of `a`, read straight from the file (no catching up).
fn stats(c: &Connection) -> (i64, i64) {
    c.query_row(
        "SELECT purchases, net_spend FROM customer_stats WHERE account_uid = 'a'",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// (purchases, net_spend, sale_facts rows, Σ daily member_sales, Σ daily points_earned)
/// through the backend (which catches up first).
async fn figures(b: &dyn backend::Backend) -> Vec<i64> {
    let mut out = Vec::new();
    for sql in [
        "SELECT purchases FROM customer_stats WHERE account_uid = 'a'",
        "SELECT net_spend FROM customer_stats WHERE account_uid = 'a'",
        "SELECT COUNT(*) FROM sale_facts",
        "SELECT CAST(SUM(member_sales) AS BIGINT) FROM daily_stats",
        "SELECT CAST(SUM(points_earned) AS BIGINT) FROM daily_stats",
    ] {
        let rows = b
            .query(vec![loyalty_server::backend::analytics::Stmt::new(
                sql,
                vec![],
            )])
            .await
            .unwrap();
        out.push(rows[0].first().map(|r| r[0].int()).unwrap_or(-1));
    }
    out
}

const CARD: &str = "2700000000001";

/// Uploads member `a`'s enrolment (50 welcome points), a 5 000 sale earning 5, then `more`.
async fn upload_a(s: &TestServer, till: &Till, more: Vec<Fact>) {
    let facts = [enrol("a", CARD, 50), sale("a", CARD, 5_000, 0, 5)]
        .into_iter()
        .chain(more);
    let events: Vec<_> = facts
        .enumerate()
        .map(|(i, f)| env(i as i64 + 1, f))
        .collect();
    s.upload(till, &events).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_rows_follow_uploads_in_the_background_once_each() {
    let s = start(Db::Sqlite).await;
    let till = s.till("Main").await;
    upload_a(&s, &till, vec![sale("a", CARD, 3_000, 0, 3)]).await;
    let f = file(&s);
    // No owner read: the thread projects once the uploads pause.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (at, last) = position(&f);
        if at == last {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "projected {at} of {last} in 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(stats(&f), (2, 8_000));
    // One more sale, read at once: the read catches up, the first three not again.
    s.upload(&till, &[env(4, sale("a", CARD, 2_000, 0, 2))])
        .await;
    assert_eq!(
        figures(s.backend.as_ref()).await,
        [3, 10_000, 3, 3, 50 + 5 + 3 + 2]
    );
    let (at, last) = position(&f);
    assert_eq!(at, last);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_projects_what_a_crash_left_waiting() {
    let s = start(Db::Sqlite).await;
    let till = s.till("Main").await;
    upload_a(
        &s,
        &till,
        vec![adjust("a", 7), sale("a", CARD, 3_000, 0, 3)],
    )
    .await;
    let before = figures(s.backend.as_ref()).await;
    assert_eq!(before, [2, 8_000, 2, 2, 58]);
    // As if the server had stopped between the uploads' commit and the projection's.
    file(&s)
        .execute_batch(
            "DELETE FROM customer_stats; DELETE FROM sale_facts; DELETE FROM daily_stats;
             DELETE FROM member_days;
             UPDATE analytics_state SET value = 0 WHERE name = 'projected_gseq';",
        )
        .unwrap();
    let restarted = backend::open(&s.db_url).await.unwrap();
    restarted.migrate().await.unwrap();
    assert_eq!(figures(restarted.as_ref()).await, before);
    drop(restarted);
    s.stop().await;
}

/// Hands out one chunk.
struct OneChunk(Option<Vec<ServerEvent>>);

impl ServerEventSource for OneChunk {
    fn next_chunk(&mut self) -> Result<Option<Vec<ServerEvent>>, BackendError> {
        Ok(self.0.take())
    }

    fn rewind(&mut self) -> Result<(), BackendError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_batch_after_waiting_uploads_counts_both() {
    server_batch_after_waiting_uploads(false).await
}

/// The CLI's import while the server runs: another process, the same file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_batch_of_another_process_counts_the_servers_uploads() {
    server_batch_after_waiting_uploads(true).await
}

async fn server_batch_after_waiting_uploads(other_process: bool) {
    let s = start(Db::Sqlite).await;
    let till = s.till("Main").await;
    upload_a(&s, &till, vec![]).await;
    // At once (the uploads' rows still waiting): the server's batch adjusts `a`.
    let adjust = Fact::Adjust {
        account_uid: "a".into(),
        points: 40,
        reason: "import".into(),
        author: "import".into(),
        expiry_months: None,
    };
    let batch = ServerBatch {
        id: "b1".into(),
        kind: "import".into(),
        label: "test".into(),
        received_at: Utc::now(),
    };
    let events = vec![ServerEvent {
        op_id: Uuid::now_v7(),
        recorded_at: Utc::now(),
        fact: adjust,
        label: "row 1".into(),
    }];
    let other = match other_process {
        true => {
            let b = backend::open(&s.db_url).await.unwrap();
            b.migrate().await.unwrap();
            Some(b)
        }
        false => None,
    };
    other
        .as_ref()
        .unwrap_or(&s.backend)
        .apply_server_batch(batch, Box::new(OneChunk(Some(events))))
        .await
        .unwrap();
    drop(other);
    let f = file(&s);
    let (at, last) = position(&f);
    assert_eq!(at, last, "the batch caught up, then wrote its own rows");
    assert_eq!(stats(&f), (1, 5_000));
    assert_eq!(
        scalar(
            &s,
            "SELECT CAST(SUM(points_adjusted) AS BIGINT) FROM daily_stats",
            vec![]
        )
        .await,
        40
    );
    assert_eq!(
        scalar(
            &s,
            "SELECT outstanding FROM customer_stats WHERE account_uid = 'a'",
            vec![]
        )
        .await,
        50 + 5 + 40
    );
    s.stop().await;
}
