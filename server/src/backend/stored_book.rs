//! An account's book as the server stores it — the JSON of a
//! [`loyalty_domain::AccountBook`] — handed to tills as it is. A pull or a snapshot page
//! used to parse every book and write it out again, byte for byte the same: a fifth to a
//! third of the server's work for those answers. The text is checked to be JSON (so an
//! answer is never malformed); that it is a valid book, each till checks when it reads it.

use super::apply::parse_book;
use super::{BackendError, Result};
use loyalty_domain::AccountBook;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// A stored book, serialised as its JSON text.
#[derive(Clone, Debug)]
pub struct StoredBook(Box<RawValue>);

/// A changes answer with the books as stored.
pub type StoredChanges = loyalty_wire::ChangesResponse<StoredBook>;
/// A snapshot page with the books as stored.
pub type StoredSnapshot = loyalty_wire::SnapshotPage<StoredBook>;
/// An account state with its book as stored.
pub type StoredState = loyalty_wire::AccountState<StoredBook>;

impl StoredBook {
    /// The stored text `json` of `account_uid`'s book; `Corrupt` if it is not JSON.
    pub fn new(account_uid: &str, json: String) -> Result<StoredBook> {
        RawValue::from_string(json).map(StoredBook).map_err(|e| {
            BackendError::Corrupt(format!("book of account {account_uid} is not JSON: {e}"))
        })
    }

    pub fn json(&self) -> &str {
        self.0.get()
    }

    /// The book itself (tests and tools; answers do not need it).
    pub fn parse(&self, account_uid: &str) -> Result<AccountBook> {
        parse_book(account_uid, self.json())
    }
}

impl PartialEq for StoredBook {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

impl Serialize for StoredBook {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loyalty_wire::AccountState;

    fn book() -> AccountBook {
        let mut b = AccountBook::new("a-1");
        b.shortfall = 5;
        b.stamps = 2;
        b.lifetime_spend = 12_345;
        b.club_until = Some(chrono::Utc::now());
        b
    }

    #[test]
    fn an_answer_carries_the_stored_text_and_a_till_reads_the_same_book() {
        let b = book();
        let stored = StoredBook::new("a-1", serde_json::to_string(&b).unwrap()).unwrap();
        fn state<B>(book: B) -> AccountState<B> {
            AccountState {
                account_uid: "a-1".into(),
                gseq: 7,
                customer: None,
                cards: vec![],
                book,
                reserved: 3,
                categories: vec![],
                merged_into: None,
            }
        }
        let sent = serde_json::to_string(&state(stored.clone())).unwrap();
        assert_eq!(sent, serde_json::to_string(&state(b.clone())).unwrap());
        let read: AccountState = serde_json::from_str(&sent).unwrap();
        assert_eq!(read.book, b);
        assert_eq!(stored.parse("a-1").unwrap(), b);
    }

    #[test]
    fn text_that_is_not_json_is_refused_as_corrupt() {
        let e = StoredBook::new("a-9", "{\"lots\": [".into()).unwrap_err();
        assert!(
            matches!(&e, BackendError::Corrupt(m) if m.contains("a-9")),
            "{e:?}"
        );
        assert!(StoredBook::new("a-9", "{}".into()).is_ok());
    }
}
