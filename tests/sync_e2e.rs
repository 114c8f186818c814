//! End-to-end sync over HTTP: the real server in-process on 127.0.0.1 (SQLite in a temp
//! dir; PostgreSQL too when `LOYALTY_TEST_PG_URL` is set), three tills with their own
//! SQLite files and device tokens, the `loyalty-sync` engine or single cycles.
//! (a) offline selling/returning/redeeming on 3 tills, server started late and stopped
//! again: all converge to the server and the plain model; (b) duplicated, reordered and
//! replayed uploads, crashes before upload and lost answers: nothing doubled; (c) racing
//! online reservations: one wins; offline overdraw: a shortfall, never negative; (d) a till
//! clock +1 day: its points do not mature early on the server; (e) the engine resumes
//! within 2 s of the server coming back and `pending` goes to 0.

mod sync_support;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use loyalty_sync::{SyncEngine, SyncHandle, SyncStatus, Transport};
use loyalty_wire::{ReservationRequest, UploadRequest};
use sync_support::model::Model;
use sync_support::server::{Db, Server};
use sync_support::till::Till;
use sync_support::{assert_converged, eventually, tills_match};
use tokio::sync::watch;
use uuid::Uuid;

db_tests!(
    offline_tills_converge_after_the_server_comes_back,
    duplicates_replays_and_crashes_double_nothing,
    reservations_race_and_offline_overdraw,
    a_till_clock_a_day_ahead_does_not_mature_points_early,
    the_engine_resumes_quickly_and_pending_drains,
);

async fn tills(s: &Server, n: usize) -> Vec<Till> {
    let mut out = Vec::new();
    for i in 1..=n {
        let (id, tok) = s.register("Main St").await;
        out.push(Till::new(s.dir.path(), &format!("T0{i}"), id, tok));
    }
    out
}

fn engine(t: &Till, s: &Server) -> (SyncHandle, watch::Receiver<SyncStatus>) {
    let mut cfg = t.config();
    cfg.poll_interval = Duration::from_millis(300);
    SyncEngine::spawn(t.access(), t.http(&s.base()), cfg)
}

async fn offline_tills_converge_after_the_server_comes_back(db: Db) {
    let mut s = Server::new(db).await;
    let ts = tills(&s, 3).await;
    let mut m = Model::default();
    let engines: Vec<_> = ts.iter().map(|t| engine(t, &s)).collect();
    // Server down from the start: enrolments are offline.
    let a = ts[0].enrol(&mut m, "Anna", "+79161110001");
    let b = ts[0].enrol(&mut m, "Boris", "+79161110002");
    let c = ts[1].enrol(&mut m, "Clara", "+79161110003");
    ts[2].sale(&mut m, &c.clone(), 1, 0).unwrap_err(); // T03 does not know Clara yet
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(engines.iter().all(|(_, st)| !st.borrow().online));
    s.start().await;
    let all: Vec<&Till> = ts.iter().collect();
    let nudge = || engines.iter().for_each(|(h, _)| h.nudge());
    let t = eventually(Duration::from_secs(20), || {
        nudge();
        tills_match(&all, &m)
    })
    .await;
    assert!(t.is_some(), "tills learn every customer");

    // Down again: every till sells, redeems and returns offline, twice overdrawing Anna.
    s.stop().await;
    let mut receipts = Vec::new();
    for (i, t) in ts.iter().enumerate() {
        for card in [&a, &b, &c] {
            let spend = t.balance(card).0.min(300);
            let r = t.sale(&mut m, card, 100_000, spend).expect("sale");
            receipts.push((i, card.clone(), r.receipt_no));
        }
        t.sale(&mut m, &a, 50_000 + 1000 * i as i64, 0)
            .expect("sale");
    }
    // T02 and T03 each spend what they believe Anna has (T01's offline sale unseen).
    for t in &ts[1..] {
        let (avail, _, _) = t.balance(&a);
        t.sale(&mut m, &a, avail * 370 + 100, avail)
            .expect("overdraw");
    }
    for (i, card, no) in receipts.iter().step_by(2) {
        ts[*i].return_all(&mut m, card, no).expect("return");
    }
    nudge();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(engines.iter().all(|(_, st)| st.borrow().pending > 0));

    s.start().await;
    let t = eventually(Duration::from_secs(20), || {
        nudge();
        tills_match(&all, &m)
    })
    .await;
    if t.is_none() {
        for (_, st) in &engines {
            eprintln!("{:?}", st.borrow());
        }
        assert_converged(&s, &all, &m).await;
    }
    for (h, st) in engines {
        let st = st.borrow().clone();
        assert!(
            st.online && st.pending == 0 && st.last_sync_at.is_some(),
            "{st:?}"
        );
        h.shutdown().await;
    }
    assert_converged(&s, &all, &m).await;
    assert!(
        s.balance(&ts[0].server_id, &a, Utc::now()).await.2 > 0,
        "Anna overdrawn"
    );
    s.shutdown().await;
}

async fn duplicates_replays_and_crashes_double_nothing(db: Db) {
    let mut s = Server::new(db).await;
    s.start().await;
    let mut ts = tills(&s, 2).await;
    let mut m = Model::default();
    let tr: Vec<Arc<dyn Transport>> = ts.iter().map(|t| t.http(&s.base())).collect();
    let a = ts[0].enrol(&mut m, "Anna", "+79161110001");
    for amount in [10_000, 20_000, 30_000] {
        ts[0].sale(&mut m, &a, amount, 0).expect("sale");
    }
    let batch = ts[0].store.lock().unwrap().pending_events(200).unwrap();
    let req = UploadRequest {
        till_id: ts[0].server_id.clone(),
        events: batch.clone(),
    };
    let first = tr[0].upload(req.clone()).await.expect("upload");
    let again = tr[0].upload(req.clone()).await.expect("duplicate");
    assert_eq!((first.applied_upto, again.applied_upto), (4, 4));
    assert!(again.conflicts.is_empty(), "a duplicate is no conflict");
    let mut reversed = req.clone();
    reversed.events.reverse();
    assert_eq!(tr[0].upload(reversed).await.unwrap().applied_upto, 4);
    // The answers were "lost": nothing acked; the next cycle re-uploads all of it.
    let r = ts[0].syncer(tr[0].clone()).sync_once().await.expect("sync");
    assert_eq!((r.uploaded, r.acked, r.pending), (4, 4, 0));

    // Crash between local commit and upload.
    ts[0].sale(&mut m, &a, 40_000, 10).expect("sale");
    ts[0].reopen();
    // Crash between the server's commit and its answer: uploaded, never acked, reopened.
    ts[0].sale(&mut m, &a, 50_000, 5).expect("sale");
    let pending = ts[0].store.lock().unwrap().pending_events(200).unwrap();
    assert_eq!(pending.len(), 2);
    tr[0]
        .upload(UploadRequest {
            till_id: ts[0].server_id.clone(),
            events: pending,
        })
        .await
        .expect("upload");
    ts[0].reopen();
    let r = ts[0].syncer(tr[0].clone()).sync_once().await.expect("sync");
    assert_eq!((r.uploaded, r.pending), (2, 0));
    assert!(r.conflicts.is_empty(), "{:?}", r.conflicts);
    // Another till replaying T01's batch as its own is refused, never applied.
    let (other_id, other_tok) = s.register("Main St").await;
    let other = loyalty_sync::HttpTransport::new(&s.base(), &other_tok).unwrap();
    let stolen = UploadRequest {
        till_id: other_id,
        events: batch,
    };
    let answer = other.upload(stolen).await.unwrap();
    assert_eq!(answer.conflicts.len(), 4, "{answer:?}");
    for (t, tr) in ts.iter().zip(&tr) {
        t.syncer(tr.clone()).sync_once().await.expect("sync");
    }
    let all: Vec<&Till> = ts.iter().collect();
    assert_converged(&s, &all, &m).await;
    // A pull leaves the WAL to be copied once the catch-up is over (the auto-checkpoint
    // raised meanwhile); a cycle that pulls less than a page copies it. Pages of one
    // account asked, two given (a page never splits a gseq): the cycle after three
    // accounts' sales pulls two pages, the next nothing.
    let auto = |t: &Till| -> i64 {
        let st = t.store.lock().unwrap();
        st.connection()
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .unwrap()
    };
    let mut cfg = ts[0].config();
    cfg.page_size = 1;
    let syncer = loyalty_sync::Syncer::new(ts[0].access(), tr[0].clone(), cfg);
    let b = ts[0].enrol(&mut m, "Boris", "+79161110002");
    let c = ts[0].enrol(&mut m, "Vera", "+79161110003");
    for card in [&a, &b, &c] {
        ts[0].sale(&mut m, card, 10_000, 0).expect("sale");
    }
    let r = syncer.sync_once().await.expect("sync");
    assert_eq!((r.uploaded, r.accounts, r.pages), (5, 3, 2));
    assert_eq!(auto(&ts[0]), loyalty_store::PULL_CHECKPOINT_PAGES);
    let r = syncer.sync_once().await.expect("sync");
    assert_eq!((r.uploaded, r.accounts), (0, 0));
    assert_eq!(auto(&ts[0]), 1_000);
    // With pages of three accounts, a sale's cycle pulls one page: nothing raised.
    ts[0].sale(&mut m, &a, 10_000, 0).expect("sale");
    let r = ts[0].syncer(tr[0].clone()).sync_once().await.expect("sync");
    assert_eq!((r.uploaded, r.accounts), (1, 1));
    assert_eq!(auto(&ts[0]), 1_000);
    s.shutdown().await;
}

async fn reservations_race_and_offline_overdraw(db: Db) {
    let mut s = Server::new(db).await;
    s.start().await;
    let ts = tills(&s, 2).await;
    let mut m = Model::default();
    let tr: Vec<Arc<dyn Transport>> = ts.iter().map(|t| t.http(&s.base())).collect();
    let a = ts[0].enrol(&mut m, "Anna", "+79161110001");
    ts[0].sale(&mut m, &a, 400_000, 0).expect("sale");
    for (t, tr) in ts.iter().zip(&tr) {
        t.syncer(tr.clone()).sync_once().await.expect("sync");
    }
    let have = ts[0].balance(&a).0;
    assert!(have > 100);
    let reserve = |tr: Arc<dyn Transport>, card: String| async move {
        tr.reserve(ReservationRequest {
            op_id: Uuid::now_v7(),
            card,
            points: have,
        })
        .await
    };
    let (r1, r2) = tokio::join!(
        reserve(tr[0].clone(), a.clone()),
        reserve(tr[1].clone(), a.clone())
    );
    let (ok, err): (Vec<_>, Vec<_>) = [r1, r2].into_iter().partition(|r| r.is_ok());
    assert_eq!(ok.len(), 1, "exactly one reservation wins");
    let err = err.into_iter().next().unwrap().unwrap_err();
    assert_eq!(err.code(), "INSUFFICIENT_POINTS");
    let won = ok.into_iter().next().unwrap().unwrap();
    let winner = if tr[0].void(won.reservation_id).await.is_ok() {
        0
    } else {
        1
    };
    if winner == 1 {
        tr[1]
            .void(won.reservation_id)
            .await
            .expect("void by its till");
    }

    // Offline: both tills spend everything they see (on the smallest basket that allows
    // it, so what the first sale earns cannot cover the second spend).
    for t in &ts {
        let (avail, _, _) = t.balance(&a);
        assert_eq!(avail, have);
        let basket = avail * 370 + 100;
        t.sale(&mut m, &a, basket, avail).expect("offline spend");
    }
    let mut shortfalls = Vec::new();
    for (t, tr) in ts.iter().zip(&tr) {
        let r = t.syncer(tr.clone()).sync_once().await.expect("sync");
        shortfalls.extend(r.shortfalls);
    }
    ts[0].syncer(tr[0].clone()).sync_once().await.expect("sync");
    assert_eq!(
        shortfalls.len(),
        1,
        "the second spend is a reported shortfall"
    );
    let (avail, _, short) = s.balance(&ts[0].server_id, &a, Utc::now()).await;
    assert_eq!(avail, 0);
    assert!(short > 0);
    let all: Vec<&Till> = ts.iter().collect();
    assert_converged(&s, &all, &m).await;
    s.shutdown().await;
}

async fn a_till_clock_a_day_ahead_does_not_mature_points_early(db: Db) {
    let mut s = Server::new(db).await;
    s.start().await;
    let (id, tok) = s.register("Main St").await;
    let program = loyalty_domain::ProgramConfig {
        hold_days: 2,
        ..sync_support::till::flat_program()
    };
    let day = chrono::Duration::days(1);
    let t = Till::with(s.dir.path(), "T01", id, tok, day, program);
    let tr = t.http(&s.base());
    let mut m = Model::default();
    let before = Utc::now();
    let a = t.enrol(&mut m, "Anna", "+79161110001");
    // Before the first contact the till stamps its sale a day ahead.
    let r1 = t.sale(&mut m, &a, 200_000, 0).expect("sale");
    assert!(r1.sold_at > before + chrono::Duration::hours(23));
    let rep = t.syncer(tr.clone()).sync_once().await.expect("sync");
    assert_eq!(rep.pending, 0);
    let after = Utc::now();
    let offset = t.store.lock().unwrap().server_offset_ms();
    assert!((offset + 86_400_000).abs() < 5_000, "offset {offset}");
    // After it: stamped in server time.
    let r2 = t.sale(&mut m, &a, 100_000, 0).expect("sale");
    assert!(
        (r2.sold_at - Utc::now()).num_seconds().abs() < 5,
        "{}",
        r2.sold_at
    );
    t.syncer(tr).sync_once().await.expect("sync");

    let book = s.book(&t.server_id, &a).await;
    let hold = chrono::Duration::days(2);
    for lot in book.lots.iter().filter(|l| l.original == r1.earned) {
        assert!(lot.available_at >= before + hold - chrono::Duration::seconds(1));
        assert!(lot.available_at <= after + hold, "matures by server time");
    }
    let earned = r1.earned + r2.earned;
    // One hour before maturity (server time) nothing earned is spendable, on the server
    // or on the till, whose clock is now corrected.
    let early = Utc::now() + hold - chrono::Duration::hours(1);
    let b = book.balance(early);
    assert_eq!((b.pending, b.available), (earned, 100));
    assert_eq!(t.balance(&a), (100, earned, 0));
    let late = after + hold + chrono::Duration::hours(1);
    assert_eq!(book.balance(late).available, 100 + earned);
    s.shutdown().await;
}

async fn the_engine_resumes_quickly_and_pending_drains(db: Db) {
    let mut s = Server::new(db).await;
    s.start().await;
    let ts = tills(&s, 1).await;
    let mut m = Model::default();
    let (h, mut st) = engine(&ts[0], &s);
    let a = ts[0].enrol(&mut m, "Anna", "+79161110001");
    h.nudge();
    st.wait_for(|x| x.online && x.pending == 0 && x.cycles > 0)
        .await
        .expect("first sync");
    s.stop().await;
    for i in 0..5 {
        ts[0].sale(&mut m, &a, 10_000 + i, 0).expect("sale");
        h.nudge();
    }
    let went_offline = eventually(Duration::from_secs(10), || {
        let x = st.borrow();
        !x.online && x.last_error.is_some()
    })
    .await;
    assert!(went_offline.is_some(), "reports offline");
    // Long enough for the backoff to grow past the probe interval.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(st.borrow().pending, 5);
    let back = std::time::Instant::now();
    s.start().await;
    let resumed = tokio::time::timeout(
        Duration::from_secs(10),
        st.wait_for(|x| x.online && x.pending == 0),
    )
    .await;
    let took = back.elapsed();
    assert!(matches!(resumed, Ok(Ok(_))), "pending drains");
    eprintln!("sync resumed {took:?} after the server came back");
    assert!(took < Duration::from_secs(5), "resumed after {took:?}");
    h.shutdown().await;
    let all = [&ts[0]];
    assert_converged(&s, &all, &m).await;
    s.shutdown().await;
}
