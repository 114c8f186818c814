//! Validation: every row on its own ([`check_row`]: each field typed, each problem a coded
//! [`RowError`] with line and column), then the file as a whole ([`Tally`]: duplicate cards
//! and phones, with the line of the first occurrence). The server-side checks (card or
//! phone already there) are in `server_check`.

use super::columns::{Column, Header};
use super::fields::{self, FieldError};
use super::report::{ErrorList, RowError};
use chrono::{DateTime, NaiveDate, Utc};
use csv::StringRecord;
use loyalty_domain::{Points, Profile};
use std::collections::HashMap;

/// Everything a row's check depends on besides the row.
#[derive(Clone, Debug)]
pub struct RowContext {
    pub header: Header,
    /// Region of phones without a country code.
    pub region: String,
    /// Home store of members whose row names none (`--store`).
    pub default_store: Option<String>,
    /// The import's clock (birthdays and enrolment times are not in the future).
    pub now: DateTime<Utc>,
}

/// A valid row.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub line: u64,
    /// `None`: a card is generated.
    pub card: Option<String>,
    pub family_cards: Vec<String>,
    /// E.164 phone and the rest of the profile.
    pub profile: Profile,
    /// Opening balance (an `Adjust` credit).
    pub points: Points,
    /// Points owed (an `Adjust` debit on the empty account).
    pub shortfall: Points,
    pub enrolled_at: Option<DateTime<Utc>>,
    /// Points in hold that are not imported (reported).
    pub pending_ignored: Points,
}

impl Member {
    /// The facts this member becomes.
    pub fn event_count(&self) -> u64 {
        1 + self.family_cards.len() as u64
            + u64::from(self.points > 0)
            + u64::from(self.shortfall > 0)
    }
}

/// What a record is.
#[derive(Debug, PartialEq)]
pub enum Row {
    /// Only empty fields: skipped.
    Blank,
    Member(Box<Member>),
    Bad(Vec<RowError>),
}

/// Collects a row's field errors under their column names.
struct Errs<'a> {
    ctx: &'a RowContext,
    line: u64,
    out: Vec<RowError>,
}

impl Errs<'_> {
    fn take<T: Default>(&mut self, col: Column, value: &str, r: Result<T, FieldError>) -> T {
        r.unwrap_or_else(|e| {
            self.out.push(RowError::new(
                self.line,
                &self.ctx.header.shown(col),
                value,
                e.code,
                e.message,
            ));
            T::default()
        })
    }
}

/// Checks one record (`line`: where it starts in the file).
pub fn check_row(ctx: &RowContext, line: u64, record: &StringRecord) -> Row {
    if record.iter().all(|f| f.trim().is_empty()) {
        return Row::Blank;
    }
    let mut e = Errs {
        ctx,
        line,
        out: Vec::new(),
    };
    let width = ctx.header.names.len();
    if let Some((i, extra)) = record
        .iter()
        .enumerate()
        .skip(width)
        .find(|(_, f)| !f.trim().is_empty())
    {
        e.out.push(RowError::new(
            line,
            &format!("#{}", i + 1),
            extra,
            "TOO_MANY_FIELDS",
            format!(
                "the row has {} fields, the header {width}: quote values that contain the delimiter",
                record.len()
            ),
        ));
    }
    let get = |c: Column| -> &str {
        ctx.header
            .position(c)
            .and_then(|i| record.get(i))
            .unwrap_or("")
    };
    let today = ctx.now.date_naive();
    let card = e.take(
        Column::Card,
        get(Column::Card),
        fields::card_number(get(Column::Card)),
    );
    let family_cards = e.take(
        Column::FamilyCards,
        get(Column::FamilyCards),
        fields::card_list(get(Column::FamilyCards)),
    );
    let phone = e.take(
        Column::Phone,
        get(Column::Phone),
        fields::phone_number(get(Column::Phone), &ctx.region),
    );
    let mut name_parts = Vec::new();
    for c in [Column::LastName, Column::Name, Column::MiddleName] {
        if let Some(part) = e.take(c, get(c), fields::text(get(c))) {
            name_parts.push(part);
        }
    }
    let email = e.take(
        Column::Email,
        get(Column::Email),
        fields::email(get(Column::Email)),
    );
    let birthday: Option<NaiveDate> = e.take(
        Column::Birthday,
        get(Column::Birthday),
        fields::birthday(get(Column::Birthday), today),
    );
    let consent = e.take(
        Column::Consent,
        get(Column::Consent),
        fields::consent(get(Column::Consent)),
    );
    let channel = e.take(
        Column::Channel,
        get(Column::Channel),
        fields::channel(get(Column::Channel)),
    );
    let points = e.take(
        Column::Points,
        get(Column::Points),
        fields::points(get(Column::Points)),
    );
    let shortfall = e.take(
        Column::Shortfall,
        get(Column::Shortfall),
        fields::points(get(Column::Shortfall)),
    );
    let tags = e.take(
        Column::Tags,
        get(Column::Tags),
        fields::tags(get(Column::Tags)),
    );
    let gender = e.take(
        Column::Gender,
        get(Column::Gender),
        fields::text(get(Column::Gender)),
    );
    let home_store = e.take(
        Column::HomeStore,
        get(Column::HomeStore),
        fields::text(get(Column::HomeStore)),
    );
    let enrolled_at = e.take(
        Column::EnrolledAt,
        get(Column::EnrolledAt),
        fields::instant(get(Column::EnrolledAt), ctx.now),
    );
    let pending = e.take(
        Column::PendingPoints,
        get(Column::PendingPoints),
        fields::points(get(Column::PendingPoints)),
    );
    if points > 0 && shortfall > 0 {
        e.out.push(RowError::new(
            line,
            &ctx.header.shown(Column::Shortfall),
            get(Column::Shortfall),
            "POINTS_WITH_SHORTFALL",
            "a member owing points has no points: give points or shortfall, not both".into(),
        ));
    }
    if let Some(c) = card.as_ref().filter(|c| family_cards.contains(c)) {
        e.out.push(RowError::new(
            line,
            &ctx.header.shown(Column::FamilyCards),
            c,
            "CARD_DUPLICATE",
            "the member's card is listed again as a family card".into(),
        ));
    }
    if card.is_none() && phone.is_none() && name_parts.is_empty() && e.out.is_empty() {
        e.out.push(RowError::new(
            line,
            "",
            "",
            "ROW_NO_KEY",
            "a member needs a card, a phone or a name".into(),
        ));
    }
    if !e.out.is_empty() {
        return Row::Bad(e.out);
    }
    Row::Member(Box::new(Member {
        line,
        card,
        family_cards,
        profile: Profile {
            name: name_parts.join(" "),
            phone,
            email,
            birthday,
            gender,
            age_group: None,
            home_store: home_store.or_else(|| ctx.default_store.clone()),
            preferred_channel: channel.to_string(),
            marketing_consent: consent,
            tags,
        },
        points,
        shortfall,
        enrolled_at,
        pending_ignored: pending,
    }))
}

/// A card number as a key (13 digits fit a u64).
pub fn card_key(card: &str) -> Option<u64> {
    card.parse().ok()
}

/// An E.164 phone as a key (at most 15 digits).
pub fn phone_key(phone: &str) -> Option<u64> {
    phone.strip_prefix('+').unwrap_or(phone).parse().ok()
}

/// The whole file's figures and the keys seen, for duplicates and the server check.
#[derive(Debug, Default)]
pub struct Tally {
    pub errors: ErrorList,
    pub rows: u64,
    pub blank_rows: u64,
    pub members: u64,
    pub events: u64,
    pub cards_to_generate: u64,
    pub opening_points: i128,
    pub pending_ignored_rows: u64,
    /// Card → (line, column) of its first occurrence.
    pub cards: HashMap<u64, (u64, Column)>,
    /// Phone → line of its first occurrence.
    pub phones: HashMap<u64, u64>,
}

impl Tally {
    /// Counts a checked row; a member's cards and phone must not have appeared before.
    pub fn add(&mut self, ctx: &RowContext, row: Row) {
        self.rows += 1;
        let m = match row {
            Row::Blank => {
                self.blank_rows += 1;
                return;
            }
            Row::Bad(errors) => {
                self.errors.extend(errors);
                return;
            }
            Row::Member(m) => m,
        };
        let mut dup = Vec::new();
        let own_cards = m
            .card
            .iter()
            .map(|c| (c, Column::Card))
            .chain(m.family_cards.iter().map(|c| (c, Column::FamilyCards)));
        for (card, col) in own_cards {
            let Some(key) = card_key(card) else { continue };
            if let Some((first, _)) = self.cards.get(&key) {
                dup.push(RowError::new(
                    m.line,
                    &ctx.header.shown(col),
                    card,
                    "CARD_DUPLICATE",
                    format!("card already on line {first}"),
                ));
            } else {
                self.cards.insert(key, (m.line, col));
            }
        }
        if let Some(p) = &m.profile.phone {
            if let Some(key) = phone_key(p) {
                match self.phones.get(&key) {
                    Some(first) => dup.push(RowError::new(
                        m.line,
                        &ctx.header.shown(Column::Phone),
                        p,
                        "PHONE_DUPLICATE",
                        format!("phone already on line {first}"),
                    )),
                    None => {
                        self.phones.insert(key, m.line);
                    }
                }
            }
        }
        if !dup.is_empty() {
            self.errors.extend(dup);
            return;
        }
        self.members += 1;
        self.events += m.event_count();
        self.cards_to_generate += u64::from(m.card.is_none());
        self.opening_points += i128::from(m.points);
        self.pending_ignored_rows += u64::from(m.pending_ignored > 0);
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
