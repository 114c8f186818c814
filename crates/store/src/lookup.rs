//! Finding a customer: card barcode, virtual-card QR, phone, name prefix.
//!
//! A scan is one indexed query joining card → account → customer (the account's cards come
//! along via a correlated `group_concat`) plus one aggregate over the account's open lots
//! (none while the figures cached on the account hold), plus the category summary stored on
//! the account merged with this till's not-yet-included sales (`categories.rs`: one outbox
//! probe, nothing more when every sale is included).

use chrono::{DateTime, Utc};
use loyalty_cards::{card, phone, qr};
use rusqlite::{Connection, OptionalExtension, Row};

use crate::cache::CachedFigures;
use crate::error::{Result, StoreError};
use crate::ops::{from_ms, opt_from_ms, parse_date};
use crate::types::{CardInfo, CardStatus, Channel, Customer, CustomerHit, CustomerView};
use crate::Store;

/// Everything the store keeps about an account and its owner (one row of `ROW_SQL`).
pub(crate) struct AccountRow {
    pub account_id: i64,
    /// The global account uid (`accounts.uid`, the facts' `account_uid`).
    pub account_uid: String,
    pub shortfall: i64,
    pub lifetime_spend: i64,
    pub lifetime_purchases: i64,
    pub stamps: i64,
    pub club_until: Option<DateTime<Utc>>,
    pub birthday_bonus_year: Option<i32>,
    pub referral_pending: bool,
    pub customer: Customer,
    pub cards: Vec<CardInfo>,
    /// The scan figures cached on the account (see `cache`), if computed.
    pub cache: Option<CachedFigures>,
    /// The server's category summary (JSON) and the seq it includes (see `categories`).
    pub categories: Option<String>,
    pub categories_upto: i64,
    /// The survivor's account uid once the owner merged this account into it.
    pub merged_into: Option<String>,
}

macro_rules! row_sql {
    ($from:literal) => {
        concat!(
            "SELECT a.id, a.shortfall, a.lifetime_spend, a.lifetime_purchases, a.stamps,
                a.club_until, a.birthday_bonus_year, a.referral_pending,
                cu.id, cu.uid, cu.name, cu.phone, cu.email, cu.birthday, cu.gender, cu.age_group,
                cu.home_store, cu.preferred_channel, cu.marketing_consent, cu.consent_at, cu.tags,
                cu.referrer_id, cu.enrolled_at, cu.enrolled_store, cu.enrolled_till,
                COALESCE(a.uid, cu.uid),
                a.cache_from, a.cache_until, a.cache_window, a.c_available, a.c_pending,
                a.c_soon, a.c_next_expiry, a.c_win_spend, a.c_win_purchases,
                (SELECT group_concat(k.number || '|' || k.kind || '|' || k.status || '|' ||
                        COALESCE(k.replaced_by, '') || '|' || k.issued_at, ',')
                 FROM cards k WHERE k.account_id = a.id),
                a.categories, a.categories_upto, a.merged_into ",
            $from
        )
    };
}

const BY_CARD: &str = row_sql!(
    "FROM cards c JOIN accounts a ON a.id = c.account_id JOIN customers cu ON cu.id = a.customer_id
     WHERE c.number = ?1"
);
const BY_PHONE: &str =
    row_sql!("FROM customers cu JOIN accounts a ON a.customer_id = cu.id WHERE cu.phone = ?1");
const BY_ACCOUNT: &str =
    row_sql!("FROM accounts a JOIN customers cu ON cu.id = a.customer_id WHERE a.id = ?1");
const BY_CUSTOMER: &str =
    row_sql!("FROM customers cu JOIN accounts a ON a.customer_id = cu.id WHERE cu.id = ?1");
const BY_UID: &str =
    row_sql!("FROM accounts a JOIN customers cu ON cu.id = a.customer_id WHERE a.uid = ?1");

/// Longest chain of merges a lookup follows.
const MAX_MERGE_CHAIN: usize = 16;

/// The row of the account that stayed when `row`'s account was merged (chains followed);
/// `row` itself when it was not merged, or when the survivor is not known here yet.
fn follow_merges(conn: &Connection, mut row: AccountRow) -> Result<AccountRow> {
    for _ in 0..MAX_MERGE_CHAIN {
        let Some(uid) = row.merged_into.clone() else {
            break;
        };
        match query_row(conn, BY_UID, &uid)? {
            Some(next) => row = next,
            None => break,
        }
    }
    Ok(row)
}

fn parse_cards(s: Option<String>) -> Result<Vec<CardInfo>> {
    let mut cards = Vec::new();
    for item in s.unwrap_or_default().split(',').filter(|x| !x.is_empty()) {
        let f: Vec<&str> = item.split('|').collect();
        let bad = || StoreError::Corrupt(format!("card list item {item}"));
        if f.len() != 5 {
            return Err(bad());
        }
        cards.push(CardInfo {
            number: f[0].to_string(),
            family: f[1] == "family",
            status: if f[2] == "blocked" {
                CardStatus::Blocked
            } else {
                CardStatus::Active
            },
            replaced_by: (!f[3].is_empty()).then(|| f[3].to_string()),
            issued_at: from_ms(f[4].parse().map_err(|_| bad())?)?,
        });
    }
    cards.sort_by(|a, b| a.issued_at.cmp(&b.issued_at).then(a.number.cmp(&b.number)));
    Ok(cards)
}

/// A row with the fields that need fallible decoding still raw (decoded in `finish_row`):
/// (row, birthday, tags, consent_at, enrolled_at, club_until, cards).
type RawRow = (
    AccountRow,
    Option<String>,
    String,
    Option<i64>,
    i64,
    Option<i64>,
    Option<String>,
);

fn read_row(r: &Row<'_>) -> rusqlite::Result<RawRow> {
    let customer = Customer {
        id: r.get(8)?,
        uid: r.get(9)?,
        name: r.get(10)?,
        phone: r.get(11)?,
        email: r.get(12)?,
        birthday: None,
        gender: r.get(14)?,
        age_group: r.get(15)?,
        home_store: r.get(16)?,
        preferred_channel: Channel::parse(&r.get::<_, String>(17)?),
        marketing_consent: r.get(18)?,
        consent_at: None,
        tags: Vec::new(),
        referrer_id: r.get(21)?,
        enrolled_at: DateTime::<Utc>::UNIX_EPOCH,
        enrolled_store: r.get(23)?,
        enrolled_till: r.get(24)?,
    };
    let row = AccountRow {
        account_id: r.get(0)?,
        account_uid: r.get(25)?,
        shortfall: r.get(1)?,
        lifetime_spend: r.get(2)?,
        lifetime_purchases: r.get(3)?,
        stamps: r.get(4)?,
        club_until: None,
        birthday_bonus_year: r.get(6)?,
        referral_pending: r.get(7)?,
        customer,
        cards: Vec::new(),
        cache: cache_columns(r)?,
        categories: r.get(36)?,
        categories_upto: r.get(37)?,
        merged_into: r.get(38)?,
    };
    Ok((
        row,
        r.get(13)?,
        r.get(20)?,
        r.get(19)?,
        r.get(22)?,
        r.get(5)?,
        r.get(35)?,
    ))
}

/// The cache columns (26..=34) of a row; `None` while stale.
fn cache_columns(r: &Row<'_>) -> rusqlite::Result<Option<CachedFigures>> {
    let (from, until): (Option<i64>, Option<i64>) = (r.get(26)?, r.get(27)?);
    let (Some(from), Some(until)) = (from, until) else {
        return Ok(None);
    };
    Ok(Some(CachedFigures {
        from,
        until,
        window: r.get(28)?,
        available: r.get(29)?,
        pending: r.get(30)?,
        soon: r.get(31)?,
        next_expiry: r.get(32)?,
        win_spend: r.get(33)?,
        win_purchases: r.get(34)?,
    }))
}

fn finish_row(raw: RawRow) -> Result<AccountRow> {
    let (mut row, bday, tags, consent, enrolled, club, cards) = raw;
    row.customer.birthday = parse_date(bday)?;
    row.customer.tags = serde_json::from_str(&tags)?;
    row.customer.consent_at = opt_from_ms(consent)?;
    row.customer.enrolled_at = from_ms(enrolled)?;
    row.club_until = opt_from_ms(club)?;
    row.cards = parse_cards(cards)?;
    Ok(row)
}

fn query_row(
    conn: &Connection,
    sql: &str,
    key: &dyn rusqlite::ToSql,
) -> Result<Option<AccountRow>> {
    let raw = conn
        .prepare_cached(sql)?
        .query_row([key], read_row)
        .optional()?;
    raw.map(finish_row).transpose()
}

/// The account row of a card; errors if unknown or blocked.
pub(crate) fn by_card(conn: &Connection, number: &str) -> Result<AccountRow> {
    let row = query_row(conn, BY_CARD, &number)?
        .ok_or_else(|| StoreError::UnknownCard(number.to_string()))?;
    let row = follow_merges(conn, row)?;
    check_active(&row, number)?;
    Ok(row)
}

fn check_active(row: &AccountRow, number: &str) -> Result<()> {
    let Some(card) = row.cards.iter().find(|c| c.number == number) else {
        return Ok(());
    };
    if card.status == CardStatus::Active {
        return Ok(());
    }
    // Follow the replacement chain (all on the same account) to the card in use now.
    let mut replaced_by = card.replaced_by.clone();
    for _ in 0..row.cards.len() {
        let next = replaced_by
            .as_ref()
            .and_then(|r| row.cards.iter().find(|c| &c.number == r))
            .filter(|c| c.status == CardStatus::Blocked)
            .and_then(|c| c.replaced_by.clone());
        match next {
            Some(n) => replaced_by = Some(n),
            None => break,
        }
    }
    Err(StoreError::CardBlocked {
        card: number.to_string(),
        replaced_by,
    })
}

/// The account row of an account id, to change it: `ACCOUNT_MERGED` when the owner merged
/// it into another (an operation must name the account that stayed).
pub(crate) fn by_account(conn: &Connection, account: i64) -> Result<AccountRow> {
    let row = query_row(conn, BY_ACCOUNT, &account)?.ok_or(StoreError::UnknownAccount(account))?;
    match row.merged_into {
        Some(into) => Err(StoreError::AccountMerged { account, into }),
        None => Ok(row),
    }
}

/// The account row of a customer id (the account that stayed, if it was merged).
pub(crate) fn by_customer(conn: &Connection, customer: i64) -> Result<AccountRow> {
    let row =
        query_row(conn, BY_CUSTOMER, &customer)?.ok_or(StoreError::UnknownCustomer(customer))?;
    follow_merges(conn, row)
}

/// Resolves scanner/keyboard input: card barcode, then QR payload, then phone.
/// Returns the row and the card to show (the scanned one, or the primary active card).
pub(crate) fn resolve(
    conn: &Connection,
    verifier: &qr::QrVerifier,
    region: &str,
    input: &str,
    now: DateTime<Utc>,
) -> Result<(AccountRow, String)> {
    let input = input.trim();
    if card::looks_like_card(input) {
        let number = card::normalize(input)?;
        if let Some(row) = query_row(conn, BY_CARD, &number)? {
            let row = follow_merges(conn, row)?;
            check_active(&row, &number)?;
            return Ok((row, number));
        }
    } else if qr::looks_like_qr(input) {
        let vc = verifier.verify(input, now)?;
        let row = by_card(conn, &vc.card)?;
        return Ok((row, vc.card));
    }
    let Ok(e164) = phone::normalize(input, region) else {
        return Err(StoreError::UnknownCard(shorten(input)));
    };
    let row = query_row(conn, BY_PHONE, &e164)?.ok_or_else(|| StoreError::UnknownCard(e164))?;
    let row = follow_merges(conn, row)?;
    let card = primary_card(&row.cards);
    Ok((row, card))
}

/// Card to show for a phone lookup: the active primary card, else any active card.
fn primary_card(cards: &[CardInfo]) -> String {
    cards
        .iter()
        .filter(|c| c.status == CardStatus::Active)
        .min_by_key(|c| (c.family, c.issued_at))
        .map(|c| c.number.clone())
        .unwrap_or_default()
}

fn shorten(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Card number or phone → account row (used for referrers).
pub(crate) fn resolve_account(conn: &Connection, input: &str, region: &str) -> Result<AccountRow> {
    let input = input.trim();
    Ok(if card::looks_like_card(input) {
        by_card(conn, &card::normalize(input)?)?
    } else {
        let e164 = phone::normalize(input, region)?;
        let row = query_row(conn, BY_PHONE, &e164)?.ok_or(StoreError::UnknownCard(e164))?;
        follow_merges(conn, row)?
    })
}

impl Store {
    /// What the cashier sees after a scan or a typed phone: tries a card barcode, a virtual
    /// card QR payload (signature and expiry verified), then a phone in any format.
    /// Errors: `UNKNOWN_CARD`, `CARD_BLOCKED` (message names the replacement), `QR_*`,
    /// `CARD_BAD_CHECK_DIGIT`.
    pub fn lookup(&self, input: &str, now: DateTime<Utc>) -> Result<CustomerView> {
        let (row, card) = resolve(
            &self.conn,
            &self.verifier,
            &self.opts.default_region,
            input,
            now,
        )?;
        self.view(row, card, now)
    }

    /// The view of a customer by id.
    pub fn customer(&self, customer_id: i64, now: DateTime<Utc>) -> Result<CustomerView> {
        let row = by_customer(&self.conn, customer_id)?;
        let card = primary_card(&row.cards);
        self.view(row, card, now)
    }

    /// Customers whose name starts with `prefix` (case-insensitive), by name; one index
    /// range seek on the lowercase name column.
    pub fn search_name(&self, prefix: &str, limit: u32) -> Result<Vec<CustomerHit>> {
        let lo = prefix.trim().to_lowercase();
        if lo.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let hi = format!("{lo}\u{10FFFF}");
        let mut st = self.conn.prepare_cached(
            "SELECT cu.id, a.id, cu.name, cu.phone FROM customers cu
             JOIN accounts a ON a.customer_id = cu.id
             WHERE cu.name_norm >= ?1 AND cu.name_norm < ?2 AND a.merged_into IS NULL
             ORDER BY cu.name_norm, cu.id LIMIT ?3",
        )?;
        let rows = st.query_map(rusqlite::params![lo, hi, limit], |r| {
            Ok(CustomerHit {
                customer_id: r.get(0)?,
                account_id: r.get(1)?,
                name: r.get(2)?,
                phone: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn view(&self, row: AccountRow, card: String, now: DateTime<Utc>) -> Result<CustomerView> {
        let program = self.programs.at(now);
        let (snapshot, balance) = crate::checkout::snapshot(&self.conn, &row, program, now)?;
        let birthday_window = match (snapshot.birthday, &program.birthday) {
            (Some(day), Some(rule)) => loyalty_domain::birthday_window(day, now, rule),
            _ => false,
        };
        Ok(CustomerView {
            account_id: row.account_id,
            account_uid: row.account_uid.clone(),
            card,
            cards: row.cards,
            tier: loyalty_domain::tier_for(&snapshot, program, now),
            balance,
            lifetime_spend: row.lifetime_spend,
            lifetime_purchases: u32::try_from(row.lifetime_purchases).unwrap_or(u32::MAX),
            tier_measure: loyalty_domain::tier_measure(&snapshot, program),
            stamps: u32::try_from(row.stamps).unwrap_or(0),
            club_until: row.club_until,
            birthday_window,
            categories: crate::categories::merged(
                &self.conn,
                row.account_id,
                row.categories.as_deref(),
                row.categories_upto,
            )?,
            customer: row.customer,
        })
    }
}
