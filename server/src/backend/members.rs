//! Member pages for the owner's tools (`loyalty-server export`, the import's checks against
//! the server): every account with its customer, cards and book, in account uid order.

use super::apply::parse_book;
use super::hash::parse_ts;
use super::Result;
use chrono::{DateTime, Utc};
use loyalty_domain::{AccountBook, Profile, ProgramConfig};
use loyalty_wire::{CardState, CustomerState};
use std::collections::HashMap;

/// One account as the owner sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberRow {
    pub account_uid: String,
    /// When the server created the account (an import: the imported enrolment time).
    pub created_at: DateTime<Utc>,
    pub customer: Option<CustomerState>,
    /// Ordered by creation, then number.
    pub cards: Vec<CardState>,
    pub book: AccountBook,
    /// The survivor's uid when the owner merged this account into it (its cards and
    /// points are the survivor's: the export leaves it out).
    pub merged_into: Option<String>,
}

/// A page of members.
#[derive(Clone, Debug, PartialEq)]
pub struct MembersPage {
    pub members: Vec<MemberRow>,
    /// Pass as `after` for the next page; `None` on the last page.
    pub next_after: Option<String>,
    /// Accounts in all (for a progress bar), on the first page only (`after` = `None`).
    pub total: Option<i64>,
    /// Every program version, oldest first (for the tier).
    pub programs: Vec<ProgramConfig>,
}

/// An account row as read: `(uid, created_at, book, customer uid, profile, referrer,
/// merged_into)`.
pub type RawMember = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Builds the page from rows read with `LIMIT limit + 1` (ordered by uid) and the cards of
/// the page's accounts as `(account uid, card)`, each account's in order.
pub fn build_page(
    mut rows: Vec<RawMember>,
    limit: usize,
    cards: Vec<(String, CardState)>,
    total: Option<i64>,
    programs: Vec<ProgramConfig>,
) -> Result<MembersPage> {
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_after = if more {
        rows.last().map(|r| r.0.clone())
    } else {
        None
    };
    let mut by_account: HashMap<String, Vec<CardState>> = HashMap::new();
    for (account, card) in cards {
        by_account.entry(account).or_default().push(card);
    }
    let mut members = Vec::with_capacity(rows.len());
    for (uid, created_at, book, customer_uid, profile, referrer_uid, merged_into) in rows {
        let customer = match (customer_uid, profile) {
            (Some(customer_uid), Some(profile)) => Some(CustomerState {
                customer_uid,
                profile: serde_json::from_str::<Profile>(&profile)?,
                referrer_uid,
            }),
            _ => None,
        };
        let own = by_account.remove(&uid).unwrap_or_default();
        members.push(MemberRow {
            book: parse_book(&uid, &book)?,
            created_at: parse_ts(&created_at)?,
            account_uid: uid,
            customer,
            cards: own,
            merged_into,
        });
    }
    Ok(MembersPage {
        members,
        next_after,
        total,
        programs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(n: &str) -> CardState {
        CardState {
            number: n.into(),
            status: "active".into(),
            kind: "primary".into(),
        }
    }

    #[test]
    fn pages_rows_and_matches_cards() {
        let book = |uid: &str| serde_json::to_string(&AccountBook::new(uid)).unwrap();
        let t = "2025-01-02T03:04:05.000000Z".to_string();
        let rows = vec![
            ("a".into(), t.clone(), book("a"), None, None, None, None),
            (
                "b".into(),
                t.clone(),
                book("b"),
                Some("cb".into()),
                Some(r#"{"name":"B"}"#.into()),
                None,
                None,
            ),
            ("c".into(), t.clone(), book("c"), None, None, None, None),
        ];
        let cards = vec![("b".into(), card("1")), ("b".into(), card("2"))];
        let page = build_page(rows, 2, cards, Some(3), vec![]).unwrap();
        assert_eq!(page.next_after.as_deref(), Some("b"));
        assert_eq!(page.members.len(), 2);
        assert!(page.members[0].cards.is_empty());
        assert_eq!(page.members[1].cards.len(), 2);
        assert_eq!(page.members[1].customer.as_ref().unwrap().profile.name, "B");
        let bad = vec![("a".into(), "x".into(), book("a"), None, None, None, None)];
        assert_eq!(
            build_page(bad, 2, vec![], None, vec![]).unwrap_err().code(),
            "DB_CORRUPT"
        );
    }
}
