//! `export` → `import` into an empty server → `export` gives the same members; a server
//! batch is all or nothing whatever fails inside it, and its facts get gseqs like a till's.

mod import_support;
mod support;

use chrono::Utc;
use import_support::*;
use loyalty_domain::Fact;
use loyalty_server::backend::{
    BackendError, ServerBatch, ServerBatchOutcome, ServerEvent, ServerEventSource,
};
use loyalty_server::export::{self, ExportOptions};
use loyalty_server::import::input::Encoding;
use loyalty_server::import::ImportOutcome;
use std::path::Path;
use support::*;
use uuid::Uuid;

backend_tests!(
    export_then_import_round_trips,
    a_failing_batch_leaves_nothing,
);

async fn export_to(s: &TestServer, path: &Path, delimiter: u8, encoding: Encoding) -> u64 {
    let opts = ExportOptions {
        out: Some(path.to_path_buf()),
        delimiter,
        encoding,
        progress: false,
    };
    export::run(s.backend.clone(), opts, Utc::now())
        .await
        .expect("export")
        .members
}

/// The header and the rows sorted (account uids, hence the order, differ by server).
fn rows(path: &Path, encoding: Encoding) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    let text = match encoding {
        Encoding::Utf8 => String::from_utf8(bytes).unwrap(),
        Encoding::Windows1251 => encoding_rs::WINDOWS_1251.decode(&bytes).0.into_owned(),
    };
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[1..].sort();
    lines
}

async fn export_then_import_round_trips(db: Db) {
    let a = start(db.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    // Members from a file (generated card, family card, tags, consent, channel, store) ...
    let file = write(
        dir.path(),
        "first.csv",
        "card;family_cards;phone;name;email;birthday;consent;channel;points;tags;gender;store\n\
         4006381333931;2000000000022;89165550001;\"Анна; Иванова\";a@b.ru;1990-03-07;yes;sms;1500;vip, кофе;f;S1\n\
         ;;89162223344;Борис;;;no;none;0;;;\n",
    );
    assert!(matches!(
        import_file(&a, &file).await,
        ImportOutcome::Imported { .. }
    ));
    // ... and from a till: an enrolment, a lost card, an overdraw that left a shortfall.
    let till = a.till("Main St").await;
    a.upload(
        &till,
        &[
            env(1, enrol("acc-t", "2000000000015", 30)),
            env(
                2,
                Fact::CardBlock {
                    account_uid: "acc-t".into(),
                    old_card: "2000000000015".into(),
                    new_card: "2000000000039".into(),
                },
            ),
            env(3, adjust("acc-t", -50)),
        ],
    )
    .await;

    for (delimiter, encoding) in [(b';', Encoding::Utf8), (b',', Encoding::Windows1251)] {
        let first = dir.path().join("a.csv");
        assert_eq!(export_to(&a, &first, delimiter, encoding).await, 3);
        let b = start(db.clone()).await;
        let outcome = import_file(&b, &first).await;
        assert!(
            matches!(outcome, ImportOutcome::Imported { .. }),
            "{outcome:?}\n{}",
            String::from_utf8_lossy(&std::fs::read(&first).unwrap())
        );
        let second = dir.path().join("b.csv");
        assert_eq!(export_to(&b, &second, delimiter, encoding).await, 3);
        let (ra, rb) = (rows(&first, encoding), rows(&second, encoding));
        assert_eq!(ra, rb);
        let text = ra.join("\n");
        assert!(text.contains("2000000000039"), "the new card: {text}");
        assert!(
            !text.contains("2000000000015"),
            "blocked cards are not exported"
        );
        b.stop().await;
    }
    a.stop().await;
}

/// Hands out the given chunks, then fails with `fail` if set.
struct Chunks {
    chunks: Vec<Vec<ServerEvent>>,
    next: usize,
    fail: bool,
}

impl ServerEventSource for Chunks {
    fn next_chunk(&mut self) -> Result<Option<Vec<ServerEvent>>, BackendError> {
        self.next += 1;
        match self.chunks.get(self.next - 1) {
            Some(c) => Ok(Some(c.clone())),
            None if self.fail => Err(BackendError::Source {
                code: "TEST_SOURCE",
                message: "the file went away".into(),
            }),
            None => Ok(None),
        }
    }

    fn rewind(&mut self) -> Result<(), BackendError> {
        self.next = 0;
        Ok(())
    }
}

fn ev(n: u128, fact: Fact) -> ServerEvent {
    ServerEvent {
        op_id: Uuid::from_u128(n),
        recorded_at: t0(),
        fact,
        label: format!("row {n}"),
    }
}

fn batch(id: &str) -> ServerBatch {
    ServerBatch {
        id: id.into(),
        kind: "import".into(),
        label: "test".into(),
        received_at: Utc::now(),
    }
}

async fn a_failing_batch_leaves_nothing(db: Db) {
    let s = start(db).await;
    let till = s.till("Main St").await;
    s.upload(&till, &[env(1, enrol("acc-1", "2000000000015", 0))])
        .await;
    let before = counts(&s).await;
    let good: Vec<ServerEvent> = (0..300u128)
        .map(|i| {
            let card = loyalty_cards::card::generate("299", i as u64 + 1).unwrap();
            ev(10 + i, enrol(&format!("imp-{i}"), &card, 0))
        })
        .collect();
    // A fact that cannot apply in the second chunk: the first one is rolled back too.
    let taken = vec![ev(1000, enrol("imp-x", "2000000000015", 0))];
    let source = Chunks {
        chunks: vec![good.clone(), taken],
        next: 0,
        fail: false,
    };
    let err = s
        .backend
        .apply_server_batch(batch("b1"), Box::new(source))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "CARD_TAKEN");
    assert!(err.to_string().contains("row 1000"), "{err}");
    assert_eq!(counts(&s).await, before);
    assert_eq!(s.backend.server_batch("b1").await.unwrap(), None);

    // The source failing after a chunk: nothing either.
    let source = Chunks {
        chunks: vec![good.clone()],
        next: 0,
        fail: true,
    };
    let err = s
        .backend
        .apply_server_batch(batch("b2"), Box::new(source))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "TEST_SOURCE");
    assert_eq!(counts(&s).await, before);

    // The same chunk succeeding: gseqs after the till's, then a rerun is a no-op.
    let source = Chunks {
        chunks: vec![good[..150].to_vec(), good[150..].to_vec()],
        next: 0,
        fail: false,
    };
    let ServerBatchOutcome::Applied(rec) = s
        .backend
        .apply_server_batch(batch("b3"), Box::new(source))
        .await
        .unwrap()
    else {
        panic!("not applied")
    };
    assert_eq!((rec.events, rec.first_gseq, rec.last_gseq), (300, 2, 301));
    assert_eq!((rec.first_seq, rec.last_seq), (1, 300));
    let again = Chunks {
        chunks: vec![good],
        next: 0,
        fail: false,
    };
    let outcome = s
        .backend
        .apply_server_batch(batch("b3"), Box::new(again))
        .await
        .unwrap();
    assert_eq!(outcome, ServerBatchOutcome::AlreadyApplied(rec));
    assert_eq!(s.count("accounts").await, before.0 + 300);
    // The till pulls them like any other till's facts.
    let (_, changes) = s.get(&till, "/api/v1/changes?since=1&limit=1000").await;
    assert_eq!(changes["accounts"].as_array().unwrap().len(), 300);
    assert_eq!(changes["next"], 301);
    // The server's till is not a device.
    let tills = s.backend.list_tills().await.unwrap();
    assert_eq!(tills.len(), 1);
    s.stop().await;
}
