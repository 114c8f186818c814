//! The owner merges a duplicate customer in the real window (part of the shift in
//! `app_e2e.rs`).

use std::time::Duration;

use super::*;

async fn num(d: &Driver, css: &str, attr: &str) -> i64 {
    let v = d
        .wait_attr(css, attr, Duration::from_secs(20), |v| !v.is_empty())
        .await;
    v.parse()
        .unwrap_or_else(|_| panic!("{css} has a numeric {attr}: {v:?}"))
}

/// From the survivor's history, "Merge duplicate…": the other one found by phone, both
/// side by side, a reason, the confirmation naming who stays → the result says what moved;
/// after the sync the duplicate's phone finds the survivor holding every point. Ends on the
/// owner screen.
pub async fn merge_duplicates(d: &Driver, survivor_card: &str, duplicate_phone: &str) {
    d.click(&d.el("#nav-scan").await).await;
    scan(d, survivor_card).await;
    d.click(&d.el("#nav-history").await).await;
    d.click(&d.el("#merge-open").await).await;
    d.fill("#merge-find", duplicate_phone).await;
    d.keys(&d.el("#merge-find").await, ENTER).await;
    let after = num(d, "#merge-preview", "data-points-after").await;
    let survivor = num(d, "#merge-side-survivor", "data-customer-id").await;
    let moving = num(d, "#merge-side-duplicate", "data-net").await;
    assert!(moving > 0, "the duplicate has points to move");
    d.fill("#merge-reason", "enrolled twice").await;
    d.click(&d.el("#merge-next").await).await;
    let text = d
        .wait_text("#merge-confirm-text", "who stays", |t| t.contains("Stays"))
        .await;
    assert!(
        text.contains(survivor_card) && text.contains(&moving.to_string()),
        "{text}"
    );
    shot(d, "17-merge").await;
    d.click(&d.el("#merge-confirm").await).await;
    assert_eq!(num(d, "#merge-result", "data-points-moved").await, moving);
    assert_eq!(num(d, "#merge-result", "data-cards-moved").await, 1);
    assert_eq!(num(d, "#merge-result", "data-survivor-points").await, after);

    d.click(&d.el("#nav-scan").await).await;
    let start = std::time::Instant::now();
    loop {
        d.fill("#scan-input", duplicate_phone).await;
        d.keys(&d.el("#scan-input").await, ENTER).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        if let Some(p) = d.try_find("#customer-panel").await {
            let id = d.attr(&p, "data-customer-id").await.unwrap_or_default();
            let held = points(d, "#cust-available").await + points(d, "#cust-pending").await;
            if id == survivor.to_string() && held == after {
                break;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the duplicate's phone never showed the survivor with {after} points"
        );
    }
    d.click(&d.el("#nav-owner").await).await;
}
