//! Trigger lists: birthdays in the next N days, lapsed customers (no purchase for N days),
//! new members to welcome (enrolled in the last N days) — marketing lists, so customers
//! without marketing consent are left out — and shortfalls (operational: everyone who
//! owes points). Read from `customer_stats` joined to the customers' profiles.

use super::{AnalyticsError, Rows, Stmt, Val};
use crate::backend::hash::{parse_ts, ts};
use chrono::{DateTime, Duration, Utc};
use loyalty_domain::Profile;
use loyalty_wire::{TriggerKind, TriggerRow};

/// Most rows one list returns.
pub const MAX_ROWS: i64 = 200_000;
/// Default and largest window in days.
pub const DEFAULT_DAYS: i64 = 7;
pub const MAX_DAYS: i64 = 3660;

/// Checks the window.
pub fn check_days(days: Option<i64>) -> Result<i64, AnalyticsError> {
    let days = days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(AnalyticsError::BadQuery(format!(
            "days must be 1..={MAX_DAYS} (got {days})"
        )));
    }
    Ok(days)
}

/// The query of a list at `now`.
pub fn query(kind: TriggerKind, days: i64, now: DateTime<Utc>) -> Stmt {
    let mut params = Vec::new();
    let cond = match kind {
        TriggerKind::Birthdays => {
            let first = now.date_naive();
            let last = first + Duration::days(days - 1);
            let md = |d: chrono::NaiveDate| d.format("%m-%d").to_string();
            if days >= 366 {
                "cs.birthday_md IS NOT NULL".to_string()
            } else {
                params.push(Val::text(md(first)));
                params.push(Val::text(md(last)));
                if md(last) < md(first) {
                    "(cs.birthday_md >= $1 OR cs.birthday_md <= $2)".to_string()
                } else {
                    "(cs.birthday_md >= $1 AND cs.birthday_md <= $2)".to_string()
                }
            }
        }
        TriggerKind::Lapsed => {
            params.push(Val::text(ts(now - Duration::days(days))));
            "cs.last_purchase IS NOT NULL AND cs.last_purchase < $1".to_string()
        }
        TriggerKind::Welcome => {
            params.push(Val::text(ts(now - Duration::days(days))));
            "cs.enrolled_at >= $1".to_string()
        }
        TriggerKind::Shortfalls => "cs.shortfall > 0".to_string(),
    };
    let consent = if kind.is_marketing() {
        " AND cs.consent = TRUE"
    } else {
        ""
    };
    params.push(Val::Int(MAX_ROWS));
    let limit = format!("${}", params.len());
    Stmt::new(
        format!(
            "SELECT cs.account_uid, c.profile, cs.enrolled_at, cs.last_purchase, cs.shortfall,
                (SELECT MIN(k.number) FROM cards k
                 WHERE k.account_uid = cs.account_uid AND k.status = 'active')
             FROM customer_stats cs JOIN customers c ON c.account_uid = cs.account_uid
             WHERE {cond}{consent}
             ORDER BY cs.account_uid LIMIT {limit}"
        ),
        params,
    )
}

/// The rows of [`query`].
pub fn rows(rows: Rows) -> Result<Vec<TriggerRow>, AnalyticsError> {
    let bad = |what: &str| {
        AnalyticsError::Backend(crate::backend::BackendError::Corrupt(format!(
            "trigger list: {what}"
        )))
    };
    rows.into_iter()
        .map(|r| {
            let account_uid = r[0].as_text().ok_or_else(|| bad("account"))?.to_string();
            let profile: Profile = serde_json::from_str(r[1].as_text().unwrap_or("{}"))
                .map_err(|e| bad(&format!("profile of {account_uid}: {e}")))?;
            Ok(TriggerRow {
                account_uid,
                card: r[5].as_text().map(str::to_string),
                name: profile.name,
                phone: profile.phone,
                email: profile.email,
                preferred_channel: profile.preferred_channel,
                marketing_consent: profile.marketing_consent,
                birthday: profile.birthday,
                enrolled_at: parse_ts(r[2].as_text().unwrap_or_default())?,
                last_purchase: r[3].as_text().map(parse_ts).transpose()?,
                shortfall: r[4].int(),
            })
        })
        .collect()
}

/// The CSV columns.
pub const CSV_HEADER: [&str; 11] = [
    "account_uid",
    "card",
    "name",
    "phone",
    "email",
    "preferred_channel",
    "marketing_consent",
    "birthday",
    "enrolled_at",
    "last_purchase",
    "shortfall",
];

/// A list as CSV (UTF-8, `,`, a header line).
pub fn csv(rows: &[TriggerRow]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(CSV_HEADER);
    for r in rows {
        let _ = w.write_record([
            r.account_uid.clone(),
            r.card.clone().unwrap_or_default(),
            r.name.clone(),
            r.phone.clone().unwrap_or_default(),
            r.email.clone().unwrap_or_default(),
            r.preferred_channel.clone(),
            r.marketing_consent.to_string(),
            r.birthday.map(|b| b.to_string()).unwrap_or_default(),
            ts(r.enrolled_at),
            r.last_purchase.map(ts).unwrap_or_default(),
            r.shortfall.to_string(),
        ]);
    }
    w.into_inner().unwrap_or_default()
}
