//! Paging rules shared by every backend's reads.

/// One `accounts` row as the pages read it: `(uid, gseq, book JSON, merged_into)`.
pub type AccountRow = (String, i64, String, Option<String>);

/// The account columns of [`AccountRow`], in order.
pub const ACCOUNT_COLUMNS: &str = "uid, gseq, book, merged_into";

/// Cuts a changes page read with `LIMIT limit + 1` ([`AccountRow`]s ordered by
/// gseq): keeps at most `limit` rows and never splits a gseq (one fact can change two
/// accounts). Returns whether more rows follow.
pub fn cut_changes(rows: &mut Vec<AccountRow>, limit: usize) -> bool {
    let has_more = rows.len() > limit;
    if has_more {
        let cut = rows[limit].1;
        rows.truncate(limit);
        while rows.len() > 1 && rows.last().map(|r| r.1) == Some(cut) {
            rows.pop();
        }
    }
    has_more
}

/// The page size of a changes read: at least 2, so a page holds a whole gseq.
pub fn changes_limit(limit: u32) -> usize {
    limit.max(2) as usize
}

/// Cuts a snapshot page read with `LIMIT limit + 1` (ordered by uid); returns the
/// `next_after` cursor when more rows follow.
pub fn cut_snapshot(rows: &mut Vec<AccountRow>, limit: usize) -> Option<String> {
    let more = rows.len() > limit;
    rows.truncate(limit);
    if more {
        rows.last().map(|r| r.0.clone())
    } else {
        None
    }
}

/// The `customer_categories` columns every backend reads for tills, after the account uid.
pub const CATEGORY_COLUMNS: &str = "category, purchases, amount, last_at";

/// Collects `customer_categories` rows `(account uid, stat)` into each account's top
/// [`loyalty_wire::MAX_CATEGORIES`], ranked as an `AccountState` carries them.
pub fn top_categories(
    rows: impl IntoIterator<Item = (String, loyalty_wire::CategoryStat)>,
) -> std::collections::HashMap<String, Vec<loyalty_wire::CategoryStat>> {
    let mut out: std::collections::HashMap<String, Vec<_>> = Default::default();
    for (uid, stat) in rows {
        out.entry(uid).or_default().push(stat);
    }
    for v in out.values_mut() {
        top(v);
    }
    out
}

/// Keeps one account's top [`loyalty_wire::MAX_CATEGORIES`], ranked.
pub fn top(stats: &mut Vec<loyalty_wire::CategoryStat>) {
    loyalty_wire::rank_categories(stats);
    stats.truncate(loyalty_wire::MAX_CATEGORIES);
}

/// One category row as the wire carries it (`last_at` stored as RFC 3339 text).
pub fn category_stat(
    category: String,
    purchases: i64,
    amount: i64,
    last_at: &str,
) -> super::Result<loyalty_wire::CategoryStat> {
    Ok(loyalty_wire::CategoryStat {
        category,
        purchases,
        amount,
        last_at: super::hash::parse_ts(last_at)?,
    })
}

/// What a backend read for a page of accounts, by account uid: their customers, cards,
/// reserved points and category rows. [`PageParts::into_states`] assembles the states.
#[derive(Default)]
pub struct PageParts {
    pub customers: std::collections::HashMap<String, loyalty_wire::CustomerState>,
    pub cards: std::collections::HashMap<String, Vec<loyalty_wire::CardState>>,
    pub reserved: std::collections::HashMap<String, loyalty_domain::Points>,
    pub categories: Vec<(String, loyalty_wire::CategoryStat)>,
}

impl PageParts {
    /// The `AccountState` of every row, in the rows' order.
    pub fn into_states(
        mut self,
        rows: Vec<AccountRow>,
    ) -> super::Result<Vec<super::stored_book::StoredState>> {
        let mut categories = top_categories(self.categories);
        rows.into_iter()
            .map(|(uid, gseq, json, merged_into)| {
                Ok(loyalty_wire::AccountState {
                    book: super::stored_book::StoredBook::new(&uid, json)?,
                    customer: self.customers.remove(&uid),
                    cards: self.cards.remove(&uid).unwrap_or_default(),
                    reserved: self.reserved.get(&uid).copied().unwrap_or(0),
                    categories: categories.remove(&uid).unwrap_or_default(),
                    account_uid: uid,
                    gseq,
                    merged_into,
                })
            })
            .collect()
    }
}
