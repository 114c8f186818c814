//! The owner's screens in the core against a real server on 127.0.0.1 (SQLite): the
//! dashboard fetched with the owner token and kept for offline viewing, served from that
//! copy when the server is down, refused to a cashier (`FORBIDDEN`) and without a token;
//! trigger lists as JSON and exported as the server's CSV into the data folder; members
//! imported from a CSV file (row errors, nothing imported; then found on the till after
//! sync) and exported.

use std::time::Duration;

use loyalty_app::*;
use loyalty_store::Channel;
use uuid::Uuid;

mod support;
use support::{server, Server};

const OWNER_PIN: &str = "1357";
const CASHIER_PIN: &str = "2468";

async fn till(s: &Server, dir: &std::path::Path, owner_token: Option<String>) -> TillApp {
    let app = TillApp::open(dir, None).unwrap();
    app.setup(SetupRequest {
        server_url: s.url.clone(),
        device_token: s.till_token().await,
        owner_pin: OWNER_PIN.into(),
        cashier_pin: CASHIER_PIN.into(),
        owner_token,
    })
    .await
    .unwrap();
    app
}

fn op() -> String {
    Uuid::now_v7().to_string()
}

/// Enrols a member with marketing consent and sells to them; the sync brings both to the
/// server.
async fn member_with_a_sale(app: &TillApp) {
    app.login(CASHIER_PIN).unwrap();
    let e = app
        .enrol(EnrolInput {
            op_id: op(),
            name: "Anna Smirnova".into(),
            phone: Some("+7 916 222-33-44".into()),
            email: Some("anna@example.com".into()),
            birthday: None,
            marketing_consent: true,
            preferred_channel: Channel::Email,
            referrer: None,
        })
        .unwrap();
    app.checkout(CheckoutInput {
        op_id: op(),
        card: e.card,
        basket: loyalty_domain::Basket::single(150_000),
        spend: 0,
    })
    .await
    .unwrap();
    app.start_sync().unwrap();
    let start = std::time::Instant::now();
    while app.status().pending > 0 {
        assert!(start.elapsed() < Duration::from_secs(20), "sync timed out");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.logout();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_is_fetched_cached_and_served_offline() {
    let mut s = server().await;
    let owner_token = s.owner_token().await;
    let dir = tempfile::tempdir().unwrap();
    let app = till(&s, dir.path(), Some(format!("  {owner_token} "))).await;
    assert!(app.info().unwrap().owner_token_set);
    member_with_a_sale(&app).await;

    // A cashier is refused by the core, whatever the UI shows.
    app.login(CASHIER_PIN).unwrap();
    let req = DashboardRequest::default();
    assert_eq!(
        app.dashboard(req.clone()).await.unwrap_err().code,
        "FORBIDDEN"
    );
    let trig = TriggerRequest {
        kind: TriggerKind::Welcome,
        days: Some(30),
    };
    assert_eq!(
        app.triggers(trig.clone()).await.unwrap_err().code,
        "FORBIDDEN"
    );
    assert_eq!(
        app.export_triggers(trig.clone()).await.unwrap_err().code,
        "FORBIDDEN"
    );
    assert_eq!(app.set_owner_token("lok_x").unwrap_err().code, "FORBIDDEN");
    app.logout();
    assert_eq!(
        app.dashboard(req.clone()).await.unwrap_err().code,
        "NOT_LOGGED_IN"
    );

    // The owner: the server's figures, kept in the data folder.
    app.login(OWNER_PIN).unwrap();
    let v = app.dashboard(req.clone()).await.unwrap();
    assert!(!v.offline && v.error.is_none());
    assert_eq!(v.dashboard.new_members, 1);
    assert_eq!(v.dashboard.member_sales, 1);
    assert!(v.dashboard.member_revenue > 0);
    assert!(v.dashboard.definitions.contains_key("card_share_bp"));
    assert!(!v.dashboard.daily.is_empty());
    let cache = dir.path().join("owner/dashboard.json");
    assert!(
        cache.is_file(),
        "the last dashboard is kept for offline viewing"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let settings = std::fs::metadata(dir.path().join("settings.json")).unwrap();
        assert_eq!(settings.permissions().mode() & 0o777, 0o600);
    }
    let stored = std::fs::read_to_string(dir.path().join("settings.json")).unwrap();
    assert!(
        stored.contains(&format!("\"owner_token\": \"{owner_token}\"")),
        "the token is stored trimmed"
    );

    // A filter the server refuses is an error, not the cached copy.
    let bad = DashboardRequest {
        from: Some("not-a-day".into()),
        ..DashboardRequest::default()
    };
    let e = app.dashboard(bad).await.unwrap_err();
    assert!(!e.code.is_empty() && e.code != "NET_UNREACHABLE", "{e}");

    // The server goes down: the same figures, marked offline, with the reason.
    s.stop().await;
    let off = app.dashboard(req.clone()).await.unwrap();
    assert!(off.offline);
    assert_eq!(off.error.as_ref().unwrap().code, "NET_UNREACHABLE");
    assert_eq!(off.dashboard, v.dashboard);
    assert_eq!(off.fetched_at, v.fetched_at);

    // A new process on the same data folder still has it.
    app.logout();
    drop(app);
    let again = TillApp::open(dir.path(), None).unwrap();
    again.login(OWNER_PIN).unwrap();
    let off = again.dashboard(req).await.unwrap();
    assert!(off.offline);
    assert_eq!(off.dashboard, v.dashboard);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_token_is_needed_and_can_be_set_later() {
    let mut s = server().await;
    let dir = tempfile::tempdir().unwrap();
    let app = till(&s, dir.path(), None).await;
    assert!(!app.info().unwrap().owner_token_set);
    app.login(OWNER_PIN).unwrap();
    let req = DashboardRequest::default();
    assert_eq!(
        app.dashboard(req.clone()).await.unwrap_err().code,
        "OWNER_TOKEN_MISSING"
    );
    // A till's device token is not an owner token.
    app.set_owner_token(&s.till_token().await).unwrap();
    assert_eq!(
        app.dashboard(req.clone()).await.unwrap_err().code,
        "UNAUTHORIZED"
    );
    let t = s.owner_token().await;
    assert!(app.set_owner_token(&t).unwrap().owner_token_set);
    assert!(!app.dashboard(req.clone()).await.unwrap().offline);
    // Down with nothing cached on another till: the reason, no stale figures.
    let dir2 = tempfile::tempdir().unwrap();
    let other = till(&s, dir2.path(), Some(t)).await;
    other.login(OWNER_PIN).unwrap();
    s.stop().await;
    assert_eq!(
        other.dashboard(req).await.unwrap_err().code,
        "NET_UNREACHABLE"
    );
    // "" removes it.
    assert!(!app.set_owner_token(" ").unwrap().owner_token_set);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_lists_and_csv_export() {
    let s = server().await;
    let t = s.owner_token().await;
    let dir = tempfile::tempdir().unwrap();
    let app = till(&s, dir.path(), Some(t)).await;
    member_with_a_sale(&app).await;
    app.login(OWNER_PIN).unwrap();
    let req = TriggerRequest {
        kind: TriggerKind::Welcome,
        days: Some(30),
    };
    let list = app.triggers(req.clone()).await.unwrap();
    assert_eq!(list.kind, TriggerKind::Welcome);
    assert_eq!(list.rows.len(), 1);
    let row = &list.rows[0];
    assert_eq!(row.name, "Anna Smirnova");
    assert_eq!(row.preferred_channel, "email");
    assert!(row.marketing_consent);

    let x = app.export_triggers(req).await.unwrap();
    assert_eq!(x.rows, 1);
    let path = std::path::Path::new(&x.path);
    assert!(path.starts_with(dir.path().join("exports")), "{}", x.path);
    assert!(x.path.ends_with(".csv"));
    let csv = std::fs::read_to_string(path).unwrap();
    assert_eq!(csv.len() as u64, x.bytes);
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().contains("name"), "a header first");
    assert!(lines.next().unwrap().contains("Anna Smirnova"));

    // Shortfalls: nobody owes points here; an empty list still has its header.
    let none = app
        .export_triggers(TriggerRequest {
            kind: TriggerKind::Shortfalls,
            days: None,
        })
        .await
        .unwrap();
    assert_eq!(none.rows, 0);
    let header_only = std::fs::read_to_string(&none.path).unwrap();
    assert_eq!(header_only.lines().count(), 1, "{header_only}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tills_are_listed_registered_and_revoked() {
    let s = server().await;
    let t = s.owner_token().await;
    let dir = tempfile::tempdir().unwrap();
    let app = till(&s, dir.path(), Some(t)).await;
    let me = app.info().unwrap().till_id.unwrap();

    app.login(CASHIER_PIN).unwrap();
    assert_eq!(app.tills().await.unwrap_err().code, "FORBIDDEN");
    assert_eq!(
        app.register_till("Other").await.unwrap_err().code,
        "FORBIDDEN"
    );
    assert_eq!(app.revoke_till("x").await.unwrap_err().code, "FORBIDDEN");
    app.logout();

    app.login(OWNER_PIN).unwrap();
    let list = app.tills().await.unwrap();
    assert!(list.tills.iter().any(|t| t.id == me && !t.revoked));
    assert_eq!(
        app.register_till("  ").await.unwrap_err().code,
        "INVALID_INPUT"
    );
    let new = app.register_till("Harbour Rd").await.unwrap();
    assert_eq!(new.till.store_name, "Harbour Rd");
    // The one-time token works for a till...
    let who = loyalty_sync::HttpTransport::new(&s.url, &new.token)
        .unwrap()
        .whoami()
        .await
        .unwrap();
    assert_eq!(who.till_id, new.till.id);
    assert_eq!(app.tills().await.unwrap().tills.len(), 2);
    // ...until it is revoked.
    let revoked = app.revoke_till(&new.till.id).await.unwrap();
    assert!(revoked.revoked);
    let refused = loyalty_sync::HttpTransport::new(&s.url, &new.token)
        .unwrap()
        .whoami()
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "TILL_REVOKED");
    // Not the till in use, not a path.
    assert_eq!(
        app.revoke_till(&me).await.unwrap_err().code,
        "INVALID_INPUT"
    );
    assert_eq!(
        app.revoke_till("../tills").await.unwrap_err().code,
        "INVALID_INPUT"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sales_without_a_card_and_nps_answers_reach_the_dashboard() {
    let s = server().await;
    let owner_token = s.owner_token().await;
    let dir = tempfile::tempdir().unwrap();
    let app = till(&s, dir.path(), Some(owner_token)).await;

    // Recorded at the till before any sync (as offline): a retry is the same sale.
    app.login(CASHIER_PIN).unwrap();
    let sale_op = op();
    let sale = AnonymousSaleInput {
        op_id: sale_op.clone(),
        amount: 50_000,
    };
    let r = app.sell_without_card(sale.clone()).unwrap();
    assert_eq!(app.sell_without_card(sale).unwrap(), r);
    assert!(r.receipt_no.ends_with("-000001"), "{}", r.receipt_no);
    for (amount, id) in [(0, op()), (-5, op()), (100, "not-a-uuid".to_string())] {
        let bad = AnonymousSaleInput { op_id: id, amount };
        assert_eq!(
            app.sell_without_card(bad).unwrap_err().code,
            "INVALID_INPUT"
        );
    }
    let answer = NpsInput {
        id: op(),
        sale_op_id: Some(sale_op),
        score: 10,
    };
    app.nps_answer(answer.clone()).unwrap();
    app.nps_answer(answer).unwrap();
    let too_high = NpsInput {
        id: op(),
        sale_op_id: None,
        score: 11,
    };
    assert_eq!(app.nps_answer(too_high).unwrap_err().code, "INVALID_INPUT");
    assert_eq!(
        app.status().pending,
        2,
        "the status bar counts the sale without a card and the answer as pending"
    );
    app.logout();
    assert_eq!(
        app.nps_answer(NpsInput {
            id: op(),
            sale_op_id: None,
            score: 5,
        })
        .unwrap_err()
        .code,
        "NOT_LOGGED_IN"
    );

    // A card sale too, then the sync engine sends everything.
    member_with_a_sale(&app).await;
    app.login(OWNER_PIN).unwrap();
    let start = std::time::Instant::now();
    let d = loop {
        let d = app
            .dashboard(DashboardRequest::default())
            .await
            .unwrap()
            .dashboard;
        if d.anonymous_sales > 0 && d.nps.answers > 0 {
            break d;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the side records never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!((d.member_sales, d.anonymous_sales), (1, 1), "sent once");
    assert_eq!(d.card_share_bp, Some(5_000));
    assert_eq!(d.anonymous_revenue, 50_000);
    assert_eq!((d.nps.answers, d.nps.promoters), (1, 1), "answered once");
}

const MEMBERS: &str = "\
Карта;Телефон;Имя;Баллы
4006381333931;8 916 123-45-67;Анна Иванова;1 500
;8 916 333 44 55;Вера Сидорова;250
";

/// Waits until the till's sync has brought `input`'s member.
async fn scan_eventually(app: &TillApp, input: &str) -> CustomerPanel {
    let start = std::time::Instant::now();
    loop {
        match app.scan(input) {
            Ok(p) => return p,
            Err(e) => assert!(
                start.elapsed() < Duration::from_secs(30),
                "{input} never arrived: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_are_imported_with_progress_and_exported() {
    let mut s = server().await;
    let owner_token = s.owner_token().await;
    let dir = tempfile::tempdir().unwrap();
    let app = till(&s, dir.path(), Some(owner_token)).await;
    app.start_sync().unwrap();

    // A cashier may not; the owner sees the imports/ folder.
    app.login(CASHIER_PIN).unwrap();
    assert_eq!(app.import_files().unwrap_err().code, "FORBIDDEN");
    let refused = app.import_members("x.csv", |_| {}).await.unwrap_err();
    assert_eq!(refused.code, "FORBIDDEN");
    let req = MembersExportRequest {
        encoding: "utf-8".into(),
        delimiter: ";".into(),
    };
    assert_eq!(
        app.export_members(req.clone()).await.unwrap_err().code,
        "FORBIDDEN"
    );
    app.logout();
    app.login(OWNER_PIN).unwrap();
    let files = app.import_files().unwrap();
    assert!(files.files.is_empty());
    let imports = dir.path().join(IMPORT_DIR);
    assert_eq!(std::path::Path::new(&files.dir), imports);

    // A broken file: the row errors, nothing imported.
    let broken = MEMBERS.replace("8 916 333 44 55", "8 916 33");
    std::fs::write(imports.join("members.csv"), &broken).unwrap();
    assert_eq!(app.import_files().unwrap().files[0].name, "members.csv");
    let seen = std::sync::Mutex::new(Vec::new());
    let job = app
        .import_members("members.csv", |j| seen.lock().unwrap().push(j.phase))
        .await
        .unwrap();
    let report = job.report.unwrap();
    assert_eq!(report.status, ImportStatus::Invalid);
    assert_eq!((report.imported, report.errors_total), (0, 1));
    let e = &report.errors[0];
    assert_eq!(
        (e.line, e.column.as_str(), e.code.as_str()),
        (3, "Телефон", "PHONE_INVALID")
    );
    assert_eq!(seen.lock().unwrap().last(), Some(&ImportPhase::Done));
    let x = app.export_members(req.clone()).await.unwrap();
    assert_eq!(x.rows, 0, "nothing imported");

    // Fixed (given by its full path): imported, and the till finds the members after sync.
    let fixed = dir.path().join("fixed.csv");
    std::fs::write(&fixed, MEMBERS).unwrap();
    let job = app
        .import_members(&fixed.display().to_string(), |_| {})
        .await
        .unwrap();
    let report = job.report.unwrap();
    assert_eq!(
        (report.status, report.imported),
        (ImportStatus::Imported, 2)
    );
    let anna = scan_eventually(&app, "89161234567").await;
    assert_eq!(anna.name, "Анна Иванова");
    assert_eq!(anna.balance.available, 1500);
    assert_eq!(
        scan_eventually(&app, "4006381333931").await.name,
        "Анна Иванова"
    );

    // Export: the file in exports/, in the chosen encoding and delimiter.
    let x = app.export_members(req).await.unwrap();
    assert!(x
        .path
        .starts_with(&dir.path().join(EXPORT_DIR).display().to_string()));
    assert_eq!(x.rows, 2);
    let text = std::fs::read_to_string(&x.path).unwrap();
    assert!(
        text.starts_with("\u{feff}card;family_cards;phone;name;"),
        "{text}"
    );
    assert!(
        text.contains("4006381333931;;+79161234567;Анна Иванова;"),
        "{text}"
    );
    let x = app
        .export_members(MembersExportRequest {
            encoding: "windows-1251".into(),
            delimiter: ",".into(),
        })
        .await
        .unwrap();
    let bytes = std::fs::read(&x.path).unwrap();
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "Cyrillic in Windows-1251"
    );
    assert!(bytes.starts_with(b"card,family_cards,phone,name,"));

    // Errors with a code: a missing file, a bad option, the server gone.
    let missing = app.import_members("nope.csv", |_| {}).await.unwrap_err();
    assert_eq!(missing.code, "IMPORT_FILE_NOT_FOUND");
    let bad = app
        .export_members(MembersExportRequest {
            encoding: "koi8-r".into(),
            delimiter: ";".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code, "INVALID_INPUT");
    s.stop().await;
    let offline = app.import_members("members.csv", |_| {}).await.unwrap_err();
    assert_eq!(offline.code, "SERVER_OFFLINE", "{offline}");
    let offline = app
        .export_members(MembersExportRequest {
            encoding: "utf-8".into(),
            delimiter: ";".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(offline.code, "SERVER_OFFLINE");
}

/// The sample check of the settings screen: 1000.00, a customer with 1000 points.
fn draft_of(config: loyalty_domain::ProgramConfig) -> ProgramDraft {
    ProgramDraft {
        config,
        effective_from: None,
        sample: SampleCheck {
            basket: loyalty_domain::Basket::single(100_000),
            available: 1_000,
            ..SampleCheck::default()
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn program_settings_are_checked_published_and_reach_the_till() {
    let mut s = server().await;
    let t = s.owner_token().await;
    let dir = tempfile::tempdir().unwrap();
    let app = till(&s, dir.path(), Some(t)).await;
    app.start_sync().unwrap();

    // A cashier may not see, check or publish the program.
    app.login(CASHIER_PIN).unwrap();
    let d = draft_of(loyalty_domain::ProgramConfig::default());
    assert_eq!(app.program_current().await.unwrap_err().code, "FORBIDDEN");
    assert_eq!(app.program_check(d.clone()).unwrap_err().code, "FORBIDDEN");
    assert_eq!(
        app.program_publish(d.clone()).await.unwrap_err().code,
        "FORBIDDEN"
    );
    assert_eq!(app.program_save_draft(d).unwrap_err().code, "FORBIDDEN");
    app.logout();

    // The owner: only the built-in version 1 so far.
    app.login(OWNER_PIN).unwrap();
    let cur = app.program_current().await.unwrap();
    assert!(!cur.offline && cur.draft.is_none());
    assert_eq!(cur.in_force, 1);
    assert_eq!(cur.versions.len(), 1);
    assert!(cur.versions[0].in_force && cur.versions[0].created_at.is_none());

    // An invalid earn rate: named, and refused by publish (the draft is kept).
    let mut d = draft_of(cur.versions[0].config.clone());
    d.config.earn.rate_bp = 20_000;
    let c = app.program_check(d.clone()).unwrap();
    assert_eq!(c.errors.len(), 1);
    assert_eq!(c.errors[0].field, "earn.rate_bp");
    assert_eq!(c.errors[0].code, "INVALID_CONFIG");
    assert!(c.draft.quote.is_none() && c.current.quote.is_some());
    let e = app.program_publish(d.clone()).await.unwrap_err();
    assert_eq!(e.code, "INVALID_PROGRAM");
    assert!(e.message.contains("earn.rate_bp"), "{}", e.message);
    assert!(dir.path().join("owner/program-draft.json").is_file());

    // 10 %: the preview shows twice the points on 970.00 to pay (3 % ladder step).
    d.config.earn.rate_bp = 1_000;
    let c = app.program_check(d.clone()).unwrap();
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    assert_eq!(c.current.version, 1);
    assert_eq!(c.draft.version, 2);
    assert_eq!(c.current.quote.as_ref().unwrap().earn_total, 48);
    assert_eq!(c.draft.quote.as_ref().unwrap().earn_total, 97);
    assert_eq!(c.diff.unwrap().earn_total, 49);

    // Published, in force in a few seconds.
    let from = chrono::Utc::now() + chrono::Duration::seconds(4);
    d.effective_from = Some(from);
    let v = app.program_publish(d.clone()).await.unwrap();
    assert_eq!(v.version, 2, "the first published version is 2");
    assert_eq!(v.config.earn.rate_bp, 1_000);
    assert!(!v.in_force);
    assert!(
        !dir.path().join("owner/program-draft.json").exists(),
        "a published draft is forgotten"
    );
    let cur = app.program_current().await.unwrap();
    let versions: Vec<(u32, bool)> = cur
        .versions
        .iter()
        .map(|v| (v.version, v.in_force))
        .collect();
    assert_eq!(versions, [(1, true), (2, false)]);

    // A sale before effective_from still earns 5 %...
    app.logout();
    app.login(CASHIER_PIN).unwrap();
    let e = app
        .enrol(EnrolInput {
            op_id: op(),
            name: "Boris Petrov".into(),
            phone: Some("+7 916 555-66-77".into()),
            email: None,
            birthday: None,
            marketing_consent: false,
            preferred_channel: Channel::None,
            referrer: None,
        })
        .unwrap();
    let sell = |card: String| CheckoutInput {
        op_id: op(),
        card,
        basket: loyalty_domain::Basket::single(100_000),
        spend: 0,
    };
    let before = app.checkout(sell(e.card.clone())).await.unwrap();
    assert_eq!((before.program_version, before.earned), (1, 48));

    // ...the till's sync brings version 2, and a sale after effective_from uses it.
    app.logout();
    app.login(OWNER_PIN).unwrap();
    let start = std::time::Instant::now();
    while app.program_check(d.clone()).unwrap().current.version != 2 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "version 2 never reached the till"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(chrono::Utc::now() >= from);
    app.logout();
    app.login(CASHIER_PIN).unwrap();
    let after = app.checkout(sell(e.card)).await.unwrap();
    assert_eq!(after.program_version, 2);
    assert_eq!(after.earned, after.to_pay * 1_000 / 10_000 / 100);
    app.logout();

    // Offline: the till's own versions; a publish fails clearly and keeps the draft.
    app.login(OWNER_PIN).unwrap();
    s.stop().await;
    let cur = app.program_current().await.unwrap();
    assert!(cur.offline);
    assert_eq!(cur.error.as_ref().unwrap().code, "NET_UNREACHABLE");
    assert_eq!(cur.in_force, 2);
    let mut d2 = draft_of(cur.versions.last().unwrap().config.clone());
    d2.config.welcome_bonus = 250;
    let e = app.program_publish(d2.clone()).await.unwrap_err();
    assert_eq!(e.code, "NET_UNREACHABLE");
    assert!(e.message.contains("draft is kept"), "{}", e.message);
    app.logout();
    drop(app);
    let again = TillApp::open(dir.path(), None).unwrap();
    again.login(OWNER_PIN).unwrap();
    let kept = again.program_current().await.unwrap().draft.unwrap();
    assert_eq!(kept.draft, d2);
    again.program_discard_draft().unwrap();
    assert!(again.program_current().await.unwrap().draft.is_none());
}
