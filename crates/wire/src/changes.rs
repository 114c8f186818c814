//! `GET /api/v1/changes` (accounts changed since a `gseq`) and `GET /api/v1/snapshot`
//! (every account, paged by account uid).

use chrono::{DateTime, Utc};
use loyalty_domain::{AccountBook, Money, Points, Profile, ProgramConfig};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The customer behind an account.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerState {
    pub customer_uid: String,
    /// `loyalty_domain::Profile`: name, phone (E.164), email, birthday, ...
    #[schema(value_type = Object)]
    pub profile: Profile,
    pub referrer_uid: Option<String>,
}

/// One card of an account.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardState {
    pub number: String,
    /// "active" | "blocked"
    pub status: String,
    /// "primary" | "family"
    pub kind: String,
}

// `B` is the book's type: a till reads an `AccountBook`; the server writes the JSON it
// stores as it is, without parsing it (`loyalty_server::backend::stored_book`). Any `B`
// must serialise to the JSON of an `AccountBook`.
/// The server-confirmed state of one account: a till shows it plus its own pending facts.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(bound = "")]
pub struct AccountState<B = AccountBook> {
    pub account_uid: String,
    /// The `gseq` of the last fact applied to this account.
    pub gseq: i64,
    pub customer: Option<CustomerState>,
    pub cards: Vec<CardState>,
    /// `loyalty_domain::AccountBook`: lots, shortfall, counters.
    #[schema(value_type = Object)]
    pub book: B,
    /// Points held by active reservations (other tills cannot reserve them).
    pub reserved: Points,
    /// What the customer buys, per product category of the sale lines (every till of the
    /// chain): at most [`MAX_CATEGORIES`], most purchases first. Absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<CategoryStat>,
    /// Set when the owner merged this account into another (the survivor's uid): its cards,
    /// lots and counters are the survivor's now (its book is empty). A till keeps sending
    /// the facts it recorded on it; the server applies them to the survivor. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
}

/// Most categories an [`AccountState`] carries (the top ones by purchases).
pub const MAX_CATEGORIES: usize = 8;

/// Longest category name kept (in characters); a longer one is cut.
pub const MAX_CATEGORY_CHARS: usize = 64;

/// The server's summary of one product category an account buys, maintained when a sale
/// is applied. A return does not change it: it counts purchase occasions, and a returned
/// purchase still says what the customer came for.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryStat {
    /// As the till's sale lines name it (trimmed, at most 64 characters).
    pub category: String,
    /// Sales with at least one line in this category.
    pub purchases: i64,
    /// Σ of those lines' amounts (before the check's discounts), minor units.
    pub amount: Money,
    /// Time of the latest of those sales.
    #[schema(value_type = String, format = DateTime)]
    pub last_at: DateTime<Utc>,
}

/// A sale line's category as the summaries key it: trimmed, cut to
/// [`MAX_CATEGORY_CHARS`]; `None` when empty. The server and the tills use this one rule.
pub fn category_key(raw: Option<&str>) -> Option<String> {
    let t = raw?.trim();
    (!t.is_empty()).then(|| t.chars().take(MAX_CATEGORY_CHARS).collect())
}

/// Orders summaries as an [`AccountState`] carries them: most purchases first, then the
/// larger amount, the more recent, the name.
pub fn rank_categories(stats: &mut [CategoryStat]) {
    stats.sort_by(|a, b| {
        b.purchases
            .cmp(&a.purchases)
            .then(b.amount.cmp(&a.amount))
            .then(b.last_at.cmp(&a.last_at))
            .then(a.category.cmp(&b.category))
    });
}

/// Query of `GET /api/v1/changes`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The `next` of the previous answer (0 at first; a negative cursor is 400 `BAD_QUERY`).
    #[serde(default)]
    #[param(minimum = 0)]
    pub since: i64,
    /// Page size (default 200; a larger one is cut to 1000, 0 and 1 read 2).
    #[param(value_type = Option<u64>, maximum = 4294967295_u64)]
    pub limit: Option<u32>,
}

/// Accounts changed after `since`, in `gseq` order.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(bound = "")]
pub struct ChangesResponse<B = AccountBook> {
    #[schema(value_type = Vec<AccountState>)]
    pub accounts: Vec<AccountState<B>>,
    /// Program versions published after `since` (`loyalty_domain::ProgramConfig`).
    #[schema(value_type = Vec<Object>)]
    pub programs: Vec<ProgramConfig>,
    /// The cursor to ask from next time.
    pub next: i64,
    /// More changes are waiting: ask again at once with `since = next`.
    pub has_more: bool,
    #[schema(value_type = String, format = DateTime)]
    pub server_time: DateTime<Utc>,
    /// The highest `seq` of the asking till the server has settled.
    pub included_upto_seq: i64,
}

/// Query of `GET /api/v1/snapshot`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SnapshotQuery {
    /// The `next_after` of the previous page (absent at first; no NUL character).
    #[param(pattern = "^[^\\u0000]*$")]
    pub after: Option<String>,
    /// Page size (default 200; a larger one is cut to 1000, 0 reads 1).
    #[param(value_type = Option<u64>, maximum = 4294967295_u64)]
    pub limit: Option<u32>,
}

/// One page of all accounts, ordered by `account_uid`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(bound = "")]
pub struct SnapshotPage<B = AccountBook> {
    #[schema(value_type = Vec<AccountState>)]
    pub accounts: Vec<AccountState<B>>,
    /// Ask the next page with `after = next_after`; `None` on the last page.
    pub next_after: Option<String>,
    /// The global `gseq` when this page was read. Keep the cursor of the FIRST page and
    /// pull `changes` from it after the last page: nothing changed meanwhile is missed.
    pub cursor: i64,
    /// Number of accounts on the server (for a progress bar), counted for the first page
    /// (`after` absent); 0 on the following pages (counting a million rows per page was
    /// a tenth of the server's snapshot work): keep the first page's.
    pub total: i64,
    #[schema(value_type = Vec<Object>)]
    pub programs: Vec<ProgramConfig>,
    #[schema(value_type = String, format = DateTime)]
    pub server_time: DateTime<Utc>,
}
