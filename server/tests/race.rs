//! Concurrency on every backend: tills racing for the same points, tills uploading at the
//! same time (gseq unique and gap-free, nothing lost, nothing doubled).

mod support;

use loyalty_wire::ReservationRequest;
use serde_json::Value;
use std::collections::HashSet;
use std::time::Duration;
use support::*;
use uuid::Uuid;

backend_tests!(
    many_tills_racing_for_points_never_overbook,
    concurrent_uploads_get_unique_gap_free_gseqs,
);

async fn many_tills_racing_for_points_never_overbook(db: Db) {
    let s = start(db).await;
    let owner = s.till("Main St").await;
    s.upload(&owner, &[env(1, enrol("acc-1", "card-1", 100))])
        .await;
    let mut tills = Vec::new();
    for i in 0..8 {
        tills.push(s.till(&format!("Store {i}")).await);
    }
    let mut tasks = Vec::new();
    for t in &tills {
        let backend = s.backend.clone();
        let id = t.id.clone();
        tasks.push(tokio::spawn(async move {
            let req = ReservationRequest {
                op_id: Uuid::now_v7(),
                card: "card-1".into(),
                points: 30,
            };
            backend
                .reserve(&id, req, chrono::Utc::now(), Duration::from_secs(600))
                .await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(r) => {
                assert_eq!(r.points, 30);
                won += 1;
            }
            Err(e) => assert_eq!(e.code(), "INSUFFICIENT_POINTS", "{e}"),
        }
    }
    assert_eq!(won, 3, "100 points hold exactly three reservations of 30");
    let (_, ch) = s.get(&owner, "/api/v1/changes?since=0").await;
    assert_eq!(ch["accounts"][0]["reserved"], 90);
    s.stop().await;
}

async fn concurrent_uploads_get_unique_gap_free_gseqs(db: Db) {
    let s = start(db).await;
    let first = s.till("Main St").await;
    s.upload(&first, &[env(1, enrol("shared", "card-0", 0))])
        .await;
    let mut tills = Vec::new();
    for i in 0..6 {
        tills.push(s.till(&format!("Store {i}")).await);
    }
    let per_till = 5i64;
    let mut tasks = Vec::new();
    for (i, t) in tills.iter().enumerate() {
        let backend = s.backend.clone();
        let id = t.id.clone();
        tasks.push(tokio::spawn(async move {
            // One enrolment of its own, then adjustments of the shared account, one
            // event per upload so the batches interleave.
            let mut events = vec![env(1, enrol(&format!("own-{i}"), &format!("c-{i}"), 1))];
            for seq in 2..=per_till {
                events.push(env(seq, adjust("shared", 1)));
            }
            for e in events {
                let r = backend.ingest(&id, vec![e], chrono::Utc::now()).await;
                let r = r.unwrap();
                assert!(r.conflicts.is_empty(), "{:?}", r.conflicts);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut gseqs = HashSet::new();
    let mut shared = None;
    let (_, ch) = s.get(&first, "/api/v1/changes?since=0&limit=500").await;
    for a in ch["accounts"].as_array().unwrap() {
        gseqs.insert(a["gseq"].as_i64().unwrap());
        if a["account_uid"] == "shared" {
            shared = Some(a.clone());
        }
    }
    let shared: Value = shared.unwrap();
    let points: i64 = shared["book"]["lots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["remaining"].as_i64().unwrap())
        .sum();
    assert_eq!(points, 6 * (per_till - 1), "every adjustment once");
    assert_eq!(gseqs.len(), 7, "one account per gseq here");
    // 1 + 6 * 5 facts applied: the counter moved exactly that far, no gseq reused.
    let (_, snap) = s.get(&first, "/api/v1/snapshot?limit=1").await;
    assert_eq!(snap["cursor"], 1 + 6 * per_till);
    assert_eq!(ch["next"], 1 + 6 * per_till);
    s.stop().await;
}
