//! Applying one fact, SQL-agnostic: which rows it reads ([`needs`]), and, from those rows,
//! what it writes ([`plan`]) through the pure `AccountBook::apply`. Every backend reads the
//! needed rows (locking the accounts), calls [`plan`], then writes the [`Plan`] with its
//! own SQL under the next gseq. So both backends accept, reject and change exactly alike.

use super::BackendError;
use chrono::{DateTime, Utc};
use loyalty_domain::{AccountBook, Applied, ApplyCtx, Fact, Points};
use loyalty_wire::ShortfallNote;
use std::collections::HashMap;

/// Why a fact was not applied.
#[derive(Debug)]
pub enum ApplyError {
    /// The fact cannot be applied (settled as a conflict, nothing written).
    Reject { code: &'static str, message: String },
    /// The database failed (the whole batch fails).
    Backend(BackendError),
}

impl From<BackendError> for ApplyError {
    fn from(e: BackendError) -> Self {
        ApplyError::Backend(e)
    }
}

fn reject(code: &'static str, message: String) -> ApplyError {
    ApplyError::Reject { code, message }
}

pub type Applying<T> = std::result::Result<T, ApplyError>;

/// The rows a fact reads before it is planned.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// Account uids (the fact's own first; a sale's referrer next). Lock these.
    pub accounts: Vec<String>,
    /// Card numbers whose owner matters.
    pub cards: Vec<String>,
    /// An enrolment's customer uid (must be new).
    pub customer: Option<String>,
}

/// What the backend read for [`Needs`]: only the rows that exist.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Stored books by account uid.
    pub books: HashMap<String, AccountBook>,
    /// Card number → owning account uid.
    pub card_owners: HashMap<String, String>,
    /// The account of the enrolment's customer, if the customer exists already.
    pub customer_account: Option<String>,
    /// Accounts of `books` that were merged into another (a merge's duplicate must not be).
    pub merged: std::collections::HashSet<String>,
}

/// The account and customer rows of an enrolment.
#[derive(Debug, PartialEq, Eq)]
pub struct NewAccount {
    pub account_uid: String,
    pub customer_uid: String,
    /// `loyalty_domain::Profile` as JSON.
    pub profile: String,
    pub referrer_uid: Option<String>,
}

/// Everything one applied fact writes (besides its event row and the gseq counter).
#[derive(Debug, Default)]
pub struct Plan {
    /// Insert first (the book is in `books`).
    pub new_account: Option<NewAccount>,
    /// Set to 'blocked' (before `new_cards` are inserted).
    pub block_card: Option<String>,
    /// `(number, kind)` to insert as active cards of the fact's account.
    pub new_cards: Vec<(String, &'static str)>,
    /// A sale's reservation id: 'active' → 'consumed' by this op.
    pub consume_reservation: Option<String>,
    /// A merge's duplicate account: marked merged into the fact's account, its cards and
    /// active reservations moved there.
    pub merge_duplicate: Option<String>,
    /// `(account uid, book JSON)` to store with the new gseq, in order.
    pub books: Vec<(String, String)>,
    /// `(account uid, points)` the books could not cover.
    pub shortfalls: Vec<(String, Points)>,
    /// The changed books' analytics summaries (`customer_stats`), in `books` order.
    pub summaries: Vec<super::analytics::record::BookSummary>,
}

impl Plan {
    /// The shortfall notes of the applied event.
    pub fn notes(&self, e: &loyalty_wire::EventEnvelope) -> Vec<ShortfallNote> {
        self.shortfalls
            .iter()
            .map(|(account_uid, points)| ShortfallNote {
                seq: e.seq,
                op_id: e.op_id,
                account_uid: account_uid.clone(),
                points: *points,
            })
            .collect()
    }
}

/// Refuses a fact with a NUL character in any text (`INVALID_FACT`): PostgreSQL cannot
/// store one in a TEXT column, and both backends must accept and refuse alike. Reads the
/// fact's serde JSON, where a NUL is always the escape `\u0000` (a `\\` before `u0000`
/// is an escaped backslash, not a NUL). Call it before any row is read for the fact.
pub fn check_text(fact_json: &str) -> Applying<()> {
    let bytes = fact_json.as_bytes();
    let mut from = 0;
    while let Some(at) = fact_json[from..].find("\\u0000").map(|i| from + i) {
        let backslashes = bytes[..=at]
            .iter()
            .rev()
            .take_while(|b| **b == b'\\')
            .count();
        if backslashes % 2 == 1 {
            return Err(reject(
                "INVALID_FACT",
                "invalid fact: text must not contain NUL characters".to_string(),
            ));
        }
        from = at + 1;
    }
    Ok(())
}

/// Refuses a `merge` from a till (`FACT_NOT_ALLOWED`): only the server's own till makes
/// them, on the owner's request. Call it before any row is read for the fact.
pub fn check_origin(till_id: &str, fact: &Fact) -> Applying<()> {
    if matches!(fact, Fact::Merge { .. }) && till_id != super::server_batch::SERVER_TILL {
        return Err(reject(
            "FACT_NOT_ALLOWED",
            "a merge is made by the owner on the server, not uploaded by a till".to_string(),
        ));
    }
    Ok(())
}

/// The rows `fact` reads.
pub fn needs(fact: &Fact) -> Needs {
    let mut n = Needs {
        accounts: vec![fact.account_uid().to_string()],
        ..Needs::default()
    };
    match fact {
        Fact::Enrol {
            customer_uid, card, ..
        } => {
            n.cards.push(card.clone());
            n.customer = Some(customer_uid.clone());
        }
        Fact::Sale { referrer, .. } => {
            if let Some((uid, _)) = referrer.as_ref().filter(|(_, p)| *p > 0) {
                if !n.accounts.contains(uid) {
                    n.accounts.push(uid.clone());
                }
            }
        }
        Fact::CardBlock {
            old_card, new_card, ..
        } => {
            n.cards.push(old_card.clone());
            n.cards.push(new_card.clone());
        }
        Fact::FamilyCard { card, .. } => n.cards.push(card.clone()),
        Fact::Merge { duplicate_uid, .. } => {
            if !n.accounts.contains(duplicate_uid) {
                n.accounts.push(duplicate_uid.clone());
            }
        }
        Fact::Return { .. } | Fact::Adjust { .. } => {}
    }
    n
}

/// The account uids whose merge may redirect `fact` (its own account, a sale's referrer):
/// a backend reads which of them were merged (following chains, at most
/// [`MAX_MERGE_CHAIN`] steps) and hands the map to [`redirect`].
pub fn redirect_targets(fact: &Fact) -> Vec<&str> {
    let mut v = vec![fact.account_uid()];
    if let Fact::Sale {
        referrer: Some((r, _)),
        ..
    } = fact
    {
        if r != fact.account_uid() {
            v.push(r.as_str());
        }
    }
    v
}

/// Does `fact` name an account [`Loaded::merged`] says was merged (so it must be
/// [`redirect`]ed and its rows read again)? Costs nothing when no account was ever merged:
/// the merged flags come with the books the fact reads anyway.
pub fn names_merged(fact: &Fact, loaded: &Loaded) -> bool {
    redirect_targets(fact)
        .iter()
        .any(|uid| loaded.merged.contains(*uid))
}

/// Longest chain of merges followed (A into B, B into C, ...).
pub const MAX_MERGE_CHAIN: usize = 16;

/// `fact` as it applies: every account it names that was merged (`merged`: account →
/// the survivor it was merged into, chains already followed) becomes its survivor. A
/// merge's duplicate is not redirected (a merge of an account merged already is refused).
pub fn redirect<'f>(
    fact: &'f Fact,
    merged: &HashMap<String, String>,
) -> std::borrow::Cow<'f, Fact> {
    let mut out = std::borrow::Cow::Borrowed(fact);
    for (from, to) in merged {
        if let Some(f) = out.redirected(from, to) {
            out = std::borrow::Cow::Owned(f);
        }
    }
    out
}

/// Parses a stored book.
pub fn parse_book(account_uid: &str, json: &str) -> Result<AccountBook, BackendError> {
    serde_json::from_str(json)
        .map_err(|e| BackendError::Corrupt(format!("book of account {account_uid}: {e}")))
}

fn book_apply(book: &mut AccountBook, fact: &Fact, ctx: ApplyCtx<'_>) -> Applying<Applied> {
    book.apply(fact, ctx)
        .map_err(|e| reject(e.code(), e.to_string()))
}

/// A card for the account: already its own → nothing; another's → `CARD_TAKEN`.
fn add_card(
    loaded: &Loaded,
    plan: &mut Plan,
    account: &str,
    card: &str,
    kind: &'static str,
) -> Applying<()> {
    match loaded.card_owners.get(card) {
        Some(owner) if owner == account => Ok(()),
        Some(owner) => Err(reject(
            "CARD_TAKEN",
            format!("card {card} already belongs to account {owner}"),
        )),
        None => {
            plan.new_cards.push((card.to_string(), kind));
            Ok(())
        }
    }
}

/// Plans one in-order fact from the rows [`needs`] asked for. `event_time` is
/// `min(recorded_at, received_at)`.
pub fn plan(fact: &Fact, op_id: &str, event_time: DateTime<Utc>, loaded: Loaded) -> Applying<Plan> {
    let (mut plan, books) = plan_values(fact, op_id, event_time, loaded)?;
    for book in books {
        plan.summaries
            .push(super::analytics::record::summarize(&book, event_time));
        let json = serde_json::to_string(&book).map_err(BackendError::from)?;
        plan.books.push((book.account_uid, json));
    }
    Ok(plan)
}

/// [`plan`] with the changed books as values, in order (`Plan::books` stays empty): for
/// callers that apply more facts to the same books before writing them
/// ([`super::server_batch`]).
pub fn plan_values(
    fact: &Fact,
    op_id: &str,
    event_time: DateTime<Utc>,
    mut loaded: Loaded,
) -> Applying<(Plan, Vec<AccountBook>)> {
    let ctx = ApplyCtx { op_id, event_time };
    let account = fact.account_uid().to_string();
    let mut plan = Plan::default();
    let existing = |loaded: &mut Loaded| {
        loaded
            .books
            .remove(&account)
            .ok_or_else(|| reject("ACCOUNT_NOT_FOUND", format!("account {account} not found")))
    };
    let mut touched: Vec<(AccountBook, Applied)> = Vec::new();
    match fact {
        Fact::Enrol {
            customer_uid,
            card,
            profile,
            referrer_uid,
            ..
        } => {
            if loaded.books.contains_key(&account) {
                return Err(reject(
                    "ACCOUNT_EXISTS",
                    format!("account {account} already exists"),
                ));
            }
            let mut book = AccountBook::new(account.as_str());
            let applied = book_apply(&mut book, fact, ctx)?;
            if let Some(other) = &loaded.customer_account {
                return Err(reject(
                    "CUSTOMER_EXISTS",
                    format!("customer {customer_uid} already has account {other}"),
                ));
            }
            plan.new_account = Some(NewAccount {
                account_uid: account.clone(),
                customer_uid: customer_uid.clone(),
                profile: serde_json::to_string(profile).map_err(BackendError::from)?,
                referrer_uid: referrer_uid.clone(),
            });
            add_card(&loaded, &mut plan, &account, card, "primary")?;
            touched.push((book, applied));
        }
        Fact::Sale {
            referrer,
            hold_days,
            expiry_months,
            reservation_id,
            ..
        } => {
            let mut book = existing(&mut loaded)?;
            let applied = book_apply(&mut book, fact, ctx)?;
            touched.push((book, applied));
            if let Some((ref_uid, points)) = referrer.as_ref().filter(|(_, p)| *p > 0) {
                let credit = |b: &mut AccountBook| {
                    b.credit_referral(op_id, *points, event_time, *hold_days, *expiry_months)
                        .map_err(|e| reject(e.code(), e.to_string()))
                };
                if *ref_uid == account {
                    // A self-referral credits the same (already changed) book.
                    let own = &mut touched[0];
                    let applied = credit(&mut own.0)?;
                    own.1.shortfall_added += applied.shortfall_added;
                } else if let Some(mut rbook) = loaded.books.remove(ref_uid) {
                    let applied = credit(&mut rbook)?;
                    touched.push((rbook, applied));
                } else {
                    tracing::warn!(
                        op_id, referrer = %ref_uid,
                        "referrer account not found: referral points not credited"
                    );
                }
            }
            plan.consume_reservation = reservation_id.as_ref().map(|r| r.to_string());
        }
        Fact::Return { .. } | Fact::Adjust { .. } => {
            let mut book = existing(&mut loaded)?;
            let applied = book_apply(&mut book, fact, ctx)?;
            touched.push((book, applied));
        }
        Fact::CardBlock {
            old_card, new_card, ..
        } => {
            let mut book = existing(&mut loaded)?;
            let applied = book_apply(&mut book, fact, ctx)?;
            if loaded.card_owners.get(old_card) != Some(&account) {
                return Err(reject(
                    "CARD_NOT_FOUND",
                    format!("card {old_card} is not a card of account {account}"),
                ));
            }
            plan.block_card = Some(old_card.clone());
            add_card(&loaded, &mut plan, &account, new_card, "primary")?;
            touched.push((book, applied));
        }
        Fact::FamilyCard { card, .. } => {
            let mut book = existing(&mut loaded)?;
            let applied = book_apply(&mut book, fact, ctx)?;
            add_card(&loaded, &mut plan, &account, card, "family")?;
            touched.push((book, applied));
        }
        Fact::Merge { duplicate_uid, .. } => {
            let mut book = existing(&mut loaded)?;
            if loaded.merged.contains(duplicate_uid) {
                return Err(reject(
                    "ALREADY_MERGED",
                    format!("account {duplicate_uid} was merged into another account already"),
                ));
            }
            let mut dup = loaded.books.remove(duplicate_uid).ok_or_else(|| {
                reject(
                    "ACCOUNT_NOT_FOUND",
                    format!("account {duplicate_uid} not found"),
                )
            })?;
            let (into, out) = book
                .absorb(&mut dup, fact, ctx)
                .map_err(|e| reject(e.code(), e.to_string()))?;
            plan.merge_duplicate = Some(duplicate_uid.clone());
            touched.push((book, into));
            touched.push((dup, out));
        }
    }
    let mut books = Vec::with_capacity(touched.len());
    for (mut book, applied) in touched {
        book.prune_empty();
        if applied.shortfall_added > 0 {
            plan.shortfalls
                .push((book.account_uid.clone(), applied.shortfall_added));
        }
        books.push(book);
    }
    Ok((plan, books))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn adjust(account: &str, points: Points) -> Fact {
        Fact::Adjust {
            account_uid: account.into(),
            points,
            reason: "t".into(),
            author: "o".into(),
            expiry_months: None,
        }
    }

    #[test]
    fn needs_and_plans_without_a_database() {
        let t = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        let op = uuid::Uuid::now_v7().to_string();
        assert_eq!(needs(&adjust("a", 5)).accounts, ["a"]);
        let err = plan(&adjust("a", 5), &op, t, Loaded::default()).unwrap_err();
        assert!(matches!(
            err,
            ApplyError::Reject {
                code: "ACCOUNT_NOT_FOUND",
                ..
            }
        ));

        let mut loaded = Loaded::default();
        loaded.books.insert("a".into(), AccountBook::new("a"));
        let p = plan(&adjust("a", -7), &op, t, loaded).unwrap();
        assert_eq!(p.shortfalls, [("a".to_string(), 7)]);
        assert_eq!(p.books.len(), 1);
        assert!(p.new_account.is_none() && p.new_cards.is_empty());
    }

    #[test]
    fn text_with_a_nul_is_refused() {
        let json = |reason: &str| {
            let mut f = adjust("a", 5);
            if let Fact::Adjust { reason: r, .. } = &mut f {
                *r = reason.to_string();
            }
            serde_json::to_string(&f).unwrap()
        };
        for bad in ["\0", "x\0y", "\\\0", "\\\\\0"] {
            let err = check_text(&json(bad)).unwrap_err();
            assert!(
                matches!(
                    err,
                    ApplyError::Reject {
                        code: "INVALID_FACT",
                        ..
                    }
                ),
                "{bad:?}"
            );
        }
        for good in ["", "\\u0000", "\\\\u0000", "u0000", "\u{1}"] {
            assert!(check_text(&json(good)).is_ok(), "{good:?}");
        }
    }
}
