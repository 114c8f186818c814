//! The till app in a real window: WebDriver through tauri-driver and WebKitWebDriver, under
//! Xvfb, against the real app binary and a real server. `make test-app` builds the UI and
//! the app and runs this with `--ignored` under `xvfb-run`; `LOYALTY_SCREENSHOTS=DIR`
//! saves the main screens (make screenshots → docs/screenshots/).
//!
//! One long scenario, as a cashier's shift: first-run setup with bootstrap → PIN login →
//! scan a card → checkout spending points (the NPS question follows the receipt) → partial
//! return → enrol a customer → a sale without a card and an NPS answer → the server goes
//! down: checkout still works and the pending count grows → the server comes back: the
//! count drops to 0 and the balance equals the server's → history → the owner logs in:
//! dashboard (figures, the card share below 100 % and the NPS, a definition on tap,
//! charts), trigger lists with a CSV export, a till registered, a members CSV with a bad row
//! (the report shows it, nothing imported), fixed and imported, members exported, the
//! program settings (an invalid value refused inline, a new earn rate previewed,
//! published), a duplicate customer merged (`app_e2e/merge.rs`) → wrong-PIN lockout.

mod app_support;
#[path = "app_e2e/merge.rs"]
mod merge;

use std::time::Duration;

use app_support::webdriver::{Driver, ENTER, ESCAPE};
use app_support::*;

const OWNER_PIN: &str = "1357";
const CASHIER_PIN: &str = "2468";

async fn shot(d: &Driver, name: &str) {
    if let Some(dir) = screenshot_dir() {
        std::fs::create_dir_all(&dir).unwrap();
        d.screenshot(&dir.join(format!("{name}.png"))).await;
    }
}

async fn points(d: &Driver, css: &str) -> i64 {
    let e = d.el(css).await;
    d.attr(&e, "data-points")
        .await
        .unwrap_or_default()
        .parse()
        .unwrap_or_else(|_| panic!("{css} has a numeric data-points"))
}

/// Types a PIN and Enter; returns the error shown ("" when the PIN screen went away).
async fn login(d: &Driver, pin: &str) -> String {
    d.fill("#pin-input", pin).await;
    let e = d.el("#pin-input").await;
    d.keys(&e, ENTER).await;
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Some(e) = d.try_find("#login-error").await {
            let t = d.text(&e).await;
            if !t.trim().is_empty() {
                return t;
            }
        }
        if d.try_find("#pin-input").await.is_none() {
            return String::new();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("PIN {pin}: neither an error nor the next screen within 10 s");
}

/// Scans a card and waits for its customer panel (the previous customer stays on screen
/// until the lookup answers).
async fn scan(d: &Driver, card: &str) {
    d.fill("#scan-input", card).await;
    let e = d.el("#scan-input").await;
    d.keys(&e, ENTER).await;
    d.wait_text("#cust-card", "the scanned card", |t| t.trim() == card)
        .await;
}

/// The id of the focused element ("" when none has one).
async fn active_id(d: &Driver) -> String {
    // Let a pending refocus (a zero timeout after a click) run first.
    tokio::time::sleep(Duration::from_millis(100)).await;
    d.script(
        "return (document.activeElement && document.activeElement.id) || ''",
        serde_json::json!([]),
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

/// "66.67 %" (or "66,67 %") → 66.67.
fn percent(text: &str) -> Option<f64> {
    text.split('%')
        .next()?
        .trim()
        .replace(',', ".")
        .parse()
        .ok()
}

/// Waits until `f(text of css)` holds on the dashboard, asking the server again (Show)
/// every second, 30 s at most.
async fn dashboard_until(d: &Driver, css: &str, what: &str, f: impl Fn(&str) -> bool) -> String {
    let start = std::time::Instant::now();
    loop {
        let t = match d.try_find(css).await {
            Some(e) => d.text(&e).await,
            None => String::new(),
        };
        if f(&t) {
            return t;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{css}: expected {what}, still {t:?}"
        );
        if let Some(show) = d.try_find("#dash-show").await {
            d.click(&show).await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Waits until the status bar says online with nothing left to send.
async fn synced(d: &Driver) {
    let t = Duration::from_secs(30);
    d.wait_attr("#status-online", "data-online", t, |v| v == "true")
        .await;
    d.wait_attr("#status-pending", "data-pending", t, |v| v == "0")
        .await;
}

/// The owner's members import: a file in `imports/` with one bad row → the report lists it
/// and nothing is imported; fixed → every row imported (a half-done first attempt would make
/// these rows "already on the server"); then the export.
async fn members_import_and_export(d: &Driver, app_dir: &std::path::Path) {
    let imports = app_dir.join("imports");
    std::fs::create_dir_all(&imports).unwrap();
    let good = "card;phone;name;points\n;+7 925 555-00-01;Olga Orlova;100\n;+7 925 555-00-02;Pavel Popov;0\n";
    let file = imports.join("members.csv");
    std::fs::write(&file, good.replace("+7 925 555-00-02", "8 925 55")).unwrap();
    d.click(&d.el("#owner-tab-members").await).await;
    d.click(
        &d.el("#members-file-list .members-file[data-name='members.csv']")
            .await,
    )
    .await;
    d.click(&d.el("#members-import").await).await;
    d.wait_attr(
        "#members-report",
        "data-status",
        Duration::from_secs(30),
        |v| v == "invalid",
    )
    .await;
    let report = d.el("#members-report").await;
    assert_eq!(d.attr(&report, "data-imported").await.as_deref(), Some("0"));
    assert_eq!(d.attr(&report, "data-errors").await.as_deref(), Some("1"));
    let row = d.el("#members-errors tr.members-error-row").await;
    assert_eq!(d.attr(&row, "data-line").await.as_deref(), Some("3"));
    assert_eq!(
        d.attr(&row, "data-code").await.as_deref(),
        Some("PHONE_INVALID")
    );
    shot(d, "15-members-import").await;

    std::fs::write(&file, good).unwrap();
    d.click(&d.el("#members-import").await).await;
    d.wait_attr(
        "#members-report",
        "data-status",
        Duration::from_secs(30),
        |v| v == "imported",
    )
    .await;
    let report = d.el("#members-report").await;
    assert_eq!(d.attr(&report, "data-imported").await.as_deref(), Some("2"));
    assert!(d.try_find("#members-errors").await.is_none());

    d.click(&d.el("#members-export").await).await;
    let path = d
        .wait_attr(
            "#members-export-path",
            "data-path",
            Duration::from_secs(20),
            |v| v.ends_with(".csv"),
        )
        .await;
    let csv = std::fs::read_to_string(&path).unwrap();
    assert!(
        csv.contains("Olga Orlova") && csv.contains("Pavel Popov"),
        "{csv}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a display, tauri-driver, WebKitWebDriver and the built app: make test-app"]
async fn a_cashiers_shift_in_the_real_window() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = Server::start(&tmp.path().join("server")).await;
    let (seed_id, seed_token) = server.till("Main St").await;
    let (_, app_token) = server.till("Main St").await;
    let owner_token = server.owner_token().await;
    let seeder = Seeder::new(tmp.path(), &server, &seed_id, &seed_token);
    let ivan = seeder.member("Ivan Petrov", "+7 916 123-45-67", 800);
    // The same person enrolled twice (the owner merges them).
    let nina = seeder.member("Nina Orlova", "+7 916 700-00-01", 300);
    seeder.member("Nina Orlova", "+7 916 700-00-02", 200);
    for i in 0..30 {
        seeder.member(
            &format!("Member {i:02}"),
            &format!("+7 916 000-10-{i:02}"),
            0,
        );
    }
    seeder.sync().await;
    // 800 + the program's welcome bonus, as the server confirmed it.
    let start_points = seeder.confirmed_available(&ivan).await;
    assert!(start_points >= 800);

    let app_dir = tmp.path().join("app");
    let driver = TauriDriver::start(&[
        ("LOYALTY_TILL_DATA_DIR", app_dir.display().to_string()),
        ("LOYALTY_SERVER_URL", server.url()),
        ("LOYALTY_DEVICE_TOKEN", app_token.clone()),
        ("LOYALTY_OWNER_PIN", OWNER_PIN.into()),
        ("LOYALTY_CASHIER_PIN", CASHIER_PIN.into()),
        ("LOYALTY_OWNER_TOKEN", owner_token),
    ])
    .await;
    let d = Driver::start(&driver.url, &app_binary().display().to_string())
        .await
        .expect("a WebDriver session on the app");

    // First run: the setup form is pre-filled (demo/provisioning); Enter submits; the
    // members come down from the server.
    let url = d.el("#setup-server-url").await;
    assert_eq!(
        d.attr(&url, "value").await.as_deref(),
        Some(server.url().as_str())
    );
    shot(&d, "01-setup").await;
    d.click(&d.el("#setup-submit").await).await;
    d.wait_for("#pin-input", Duration::from_secs(60)).await;
    shot(&d, "02-login").await;

    // Cashier login; the status bar shows the till online with nothing pending.
    assert_eq!(login(&d, CASHIER_PIN).await, "", "cashier PIN accepted");
    synced(&d).await;

    // Scan → the customer with the server's balance.
    scan(&d, &ivan).await;
    d.wait_text("#cust-name", "Ivan", |t| t.contains("Ivan Petrov"))
        .await;
    assert_eq!(points(&d, "#cust-available").await, start_points);
    shot(&d, "03-customer").await;

    // Checkout 1 000.00 spending 100 points.
    d.fill("#checkout-amount", "1000").await;
    d.fill("#checkout-spend", "100").await;
    d.el("#quote-panel").await;
    d.wait_attr(
        "#quote-to-pay",
        "data-minor",
        Duration::from_secs(10),
        |v| v.parse::<i64>().is_ok_and(|m| m > 0 && m < 100_000),
    )
    .await;
    let earn = points(&d, "#quote-earn").await;
    assert!(earn > 0, "the sale earns points");
    shot(&d, "04-checkout").await;
    d.click(&d.el("#checkout-confirm").await).await;
    let receipt = d
        .wait_text("#receipt-no", "a receipt number", |t| !t.trim().is_empty())
        .await;
    let receipt = receipt.trim().to_string();
    // The NPS question follows the receipt; the caret stays in the scan input.
    d.el("#nps-row").await;
    d.el("#nps-10").await;
    assert_eq!(
        active_id(&d).await,
        "scan-input",
        "the NPS row takes no caret"
    );
    shot(&d, "05-receipt").await;
    let after_sale = points(&d, "#cust-available").await;
    let spent = start_points - 100;
    assert!(
        after_sale == spent || after_sale == spent + earn,
        "{start_points} − 100 spent (+ earned when there is no hold): {after_sale}"
    );

    // Partial return of half the check: half the spent points come back.
    d.click(&d.el("#nav-return").await).await;
    d.fill("#return-receipt", &receipt).await;
    d.click(&d.el("#return-find").await).await;
    d.fill("#return-amount", "500").await;
    d.click(&d.el("#return-confirm").await).await;
    d.el("#return-result").await;
    assert_eq!(points(&d, "#return-spent-restored").await, 50);
    let taken = points(&d, "#return-earned-taken").await;
    assert!(
        taken <= earn / 2 + 1,
        "earned points taken back in proportion"
    );
    shot(&d, "06-return").await;

    // Enrol a new customer: a card number and the virtual-card QR.
    d.click(&d.el("#nav-enrol").await).await;
    d.fill("#enrol-name", "Maria Ivanova").await;
    d.fill("#enrol-phone", "+7 916 555-12-34").await;
    d.click(&d.el("#enrol-consent").await).await;
    d.click(&d.el("#enrol-submit").await).await;
    let card = d
        .wait_text("#enrol-card", "a 13-digit card", |t| {
            t.chars().filter(char::is_ascii_digit).count() == 13
        })
        .await;
    d.el("#enrol-qr svg, #enrol-qr img").await;
    shot(&d, "07-enrol").await;
    let card: String = card.chars().filter(char::is_ascii_digit).collect();

    // A customer without a card: Esc ends Ivan's service, "Sale without card" (F3) opens
    // the amount, Enter confirms → a receipt number; the NPS question follows, a tap on 9
    // is thanked, and the caret stayed in the scan input all along.
    d.click(&d.el("#nav-scan").await).await;
    d.keys(&d.el("#scan-input").await, ESCAPE).await;
    d.click(&d.el("#nocard-open").await).await;
    d.fill("#nocard-amount", "300").await;
    shot(&d, "13-nocard").await;
    d.keys(&d.el("#nocard-amount").await, ENTER).await;
    let nocard = d
        .wait_text("#nocard-receipt", "a receipt number", |t| {
            !t.trim().is_empty()
        })
        .await;
    assert_ne!(nocard.trim(), receipt, "a receipt of its own");
    let paid = d.attr(&d.el("#nocard-paid").await, "data-minor").await;
    assert_eq!(paid.as_deref(), Some("30000"), "300.00 paid");
    d.el("#nps-row").await;
    assert_eq!(active_id(&d).await, "scan-input", "the scanner still types");
    shot(&d, "14-nps").await;
    d.click(&d.el("#nps-9").await).await;
    d.wait_text("#nps-thanks", "the thanks", |t| !t.trim().is_empty())
        .await;
    assert!(d.try_find("#nps-5").await.is_none(), "one answer per sale");
    assert_eq!(active_id(&d).await, "scan-input", "the tap took no caret");

    // The server goes down: the till keeps selling, the pending count grows.
    server.stop().await;
    d.click(&d.el("#nav-scan").await).await;
    scan(&d, &card).await;
    assert!(
        d.try_find("#nps-row").await.is_none(),
        "the NPS question goes with the next scan"
    );
    d.wait_attr(
        "#status-online",
        "data-online",
        Duration::from_secs(30),
        |v| v == "false",
    )
    .await;
    d.fill("#checkout-amount", "250").await;
    d.wait_attr(
        "#quote-to-pay",
        "data-minor",
        Duration::from_secs(10),
        |v| v.parse::<i64>().is_ok_and(|m| m > 0),
    )
    .await;
    d.click(&d.el("#checkout-confirm").await).await;
    d.wait_text("#receipt-no", "an offline receipt", |t| {
        !t.trim().is_empty() && t.trim() != receipt
    })
    .await;
    let pending: i64 = d
        .wait_attr(
            "#status-pending",
            "data-pending",
            Duration::from_secs(10),
            |v| v.parse::<i64>().is_ok_and(|n| n >= 1),
        )
        .await
        .parse()
        .unwrap();
    shot(&d, "08-offline").await;

    // Back online: everything uploads, nothing pending, balances confirmed by the server.
    server.restart().await;
    synced(&d).await;
    assert!(pending >= 1);
    scan(&d, &ivan).await;
    let shown = points(&d, "#cust-available").await;
    assert_eq!(
        shown,
        seeder.confirmed_available(&ivan).await,
        "the app shows what the server confirmed"
    );

    // History: ledger with the opening balance, the sale, the return.
    d.click(&d.el("#nav-history").await).await;
    d.el("#history-panel").await;
    d.el("#history-ledger tr.ledger-row").await;
    shot(&d, "09-history").await;

    // The owner's back-office: no owner menu for a cashier (the core refuses it anyway).
    assert!(
        d.try_find("#nav-owner").await.is_none(),
        "cashier: no owner menu"
    );
    d.click(&d.el("#logout").await).await;
    assert_eq!(login(&d, OWNER_PIN).await, "", "owner PIN accepted");
    d.click(&d.el("#nav-owner").await).await;
    // The dashboard (the owner token came with the setup form): figures from the server.
    d.wait_for("#fig-new_members", Duration::from_secs(30))
        .await;
    let value = d
        .wait_text("#fig-new_members .tile-value", "a count", |t| {
            t.chars().any(|c| c.is_ascii_digit())
        })
        .await;
    assert!(
        value.chars().filter(char::is_ascii_digit).count() >= 2,
        "the 32 members enrolled today: {value:?}"
    );
    // The sale without a card reached the server: the card share is below 100 % (the
    // server may count the till's upload a moment after the status bar says 0 to sync:
    // Show asks again).
    dashboard_until(
        &d,
        "#fig-card_share_bp .tile-value",
        "a card share below 100 %",
        |t| percent(t).is_some_and(|p| p > 0.0 && p < 100.0),
    )
    .await;
    // And so did the NPS answer (one 9: a promoter, NPS 100).
    let nps = dashboard_until(&d, "#fig-nps .tile-value", "an NPS", |t| t.trim() == "100").await;
    assert_eq!(nps.trim(), "100");
    let title = d.attr(&d.el("#fig-card_share_bp").await, "title").await;
    assert!(
        title.is_some_and(|t| t.contains('÷')),
        "the definition is the tile's hover text"
    );
    assert!(d.try_find("#fig-definition").await.is_none());
    d.click(&d.el("#fig-card_share_bp").await).await;
    let def = d
        .wait_text("#fig-definition", "the card share's definition", |t| {
            t.contains('÷')
        })
        .await;
    assert!(def.to_lowercase().contains("card"), "{def}");
    for canvas in ["#chart-sales", "#chart-points", "#chart-segments"] {
        d.el(canvas).await;
        let w = d
            .script(
                "return document.querySelector(arguments[0]).width",
                serde_json::json!([canvas]),
            )
            .await;
        assert!(w.as_i64().unwrap_or(0) > 50, "{canvas} is drawn: width {w}");
    }
    shot(&d, "11-dashboard").await;

    // Trigger lists: the new members to welcome, exported as CSV into the data folder.
    d.click(&d.el("#owner-tab-triggers").await).await;
    d.el("#trig-tab-birthdays").await;
    d.click(&d.el("#trig-tab-welcome").await).await;
    d.wait_attr("#trig-count", "data-count", Duration::from_secs(20), |v| {
        v.parse::<i64>().is_ok_and(|n| n >= 30)
    })
    .await;
    d.el("#trig-table tr.trig-row").await;
    d.click(&d.el("#trig-export").await).await;
    let path = d
        .wait_attr(
            "#trig-export-path",
            "data-path",
            Duration::from_secs(20),
            |v| v.ends_with(".csv"),
        )
        .await;
    let path = std::path::PathBuf::from(path);
    assert!(path.starts_with(&app_dir), "{}", path.display());
    let csv = std::fs::read_to_string(&path).unwrap();
    assert!(csv.contains("Maria Ivanova"), "the CSV has the new members");
    shot(&d, "12-triggers").await;

    // Tills: the chain's tills; a new one registered shows its one-time token.
    d.click(&d.el("#owner-tab-tills").await).await;
    d.el("#tills-table tr.till-row").await;
    d.fill("#till-store", "Harbour Rd").await;
    d.click(&d.el("#till-register").await).await;
    d.wait_text("#till-new-token", "a device token", |t| {
        t.trim().starts_with("ltk_")
    })
    .await;
    let start = std::time::Instant::now();
    loop {
        let rows = d
            .script(
                "return document.querySelectorAll('#tills-table tr.till-row').length",
                serde_json::json!([]),
            )
            .await;
        if rows.as_i64().unwrap_or(0) >= 3 {
            break; // the seeder's till, this one and the new one
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "3 tills listed: {rows}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    members_import_and_export(&d, &app_dir).await;
    merge::merge_duplicates(&d, &nina, "+7 916 700-00-02").await;
    // Program settings: a value the rules refuse shows the core's error under it and
    // blocks publishing; a new earn rate changes the sample check's points; publishing
    // (confirmed) makes version 2.
    d.click(&d.el("#owner-tab-program").await).await;
    d.el("#prog-form").await;
    let long = Duration::from_secs(20);
    let int = |v: &str| v.parse::<i64>().ok();
    let earn_before = d
        .wait_attr("#prev-earn-current", "data-value", long, |v| {
            int(v).is_some_and(|n| n > 0)
        })
        .await;
    d.fill("#prog-earn-rate_bp", "150").await;
    let err = d
        .wait_text("#prog-earn-rate_bp-error", "the earn rate's error", |t| {
            t.contains("10000")
        })
        .await;
    assert!(err.contains("100 %"), "{err}");
    d.wait_attr("#prog-errors", "data-count", long, |v| v == "1")
        .await;
    let publish = d.el("#prog-publish").await;
    assert!(
        d.attr(&publish, "disabled").await.is_some(),
        "no publishing with an invalid setting"
    );
    d.fill("#prog-earn-rate_bp", "10").await;
    d.wait_attr("#prev-earn-diff", "data-value", long, |v| {
        int(v).is_some_and(|n| n > 0)
    })
    .await;
    let earn_after = d
        .wait_attr("#prev-earn-draft", "data-value", long, |v| {
            int(v).is_some_and(|n| n > 0)
        })
        .await;
    assert!(
        int(&earn_after) > int(&earn_before),
        "10 % earns more than 5 %: {earn_after} vs {earn_before}"
    );
    assert!(d.try_find("#prog-errors").await.is_none());
    shot(&d, "16-program").await;
    let publish = d.el("#prog-publish").await;
    d.click(&publish).await;
    d.wait_text("#prog-publish", "the confirmation", |t| t.contains('2'))
        .await;
    d.click(&publish).await;
    d.wait_attr("#prog-published", "data-version", long, |v| v == "2")
        .await;
    d.el("#prog-versions .chip[data-version='2']").await;

    // Wrong PINs: 4 × PIN_WRONG, then PIN_LOCKED, and even the right PIN is refused.
    d.click(&d.el("#logout").await).await;
    d.el("#pin-input").await;
    for i in 1..=4 {
        let e = login(&d, "0000").await;
        assert!(e.starts_with("PIN_WRONG"), "try {i}: {e}");
    }
    let e = login(&d, "0000").await;
    assert!(e.starts_with("PIN_LOCKED"), "5th wrong PIN locks: {e}");
    let e = login(&d, OWNER_PIN).await;
    assert!(
        e.starts_with("PIN_LOCKED"),
        "locked even for the right PIN: {e}"
    );
    shot(&d, "10-lockout").await;

    d.quit().await;
    drop(driver);
    server.stop().await;
}
