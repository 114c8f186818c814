//! A valid member → the server-origin facts a till would have made: `Enrol` (with its
//! card, generated when the row has none), a `FamilyCard` per extra card, an `Adjust` with
//! reason "import" for the opening balance and one for points owed. Ids are UUIDv5 of the
//! import id (the file's SHA-256) and the line, so the same file always yields the same
//! facts and a rerun cannot apply them twice.

use super::server_check::IMPORT_CARD_PREFIX;
use super::validate::{card_key, Member};
use crate::backend::ServerEvent;
use chrono::{DateTime, Utc};
use loyalty_domain::Fact;
use std::collections::HashMap;
use uuid::Uuid;

/// The namespace of import ids (a fixed random UUID).
const NAMESPACE: Uuid = Uuid::from_u128(0x6c6f_7961_6c74_7969_6d70_6f72_7400_0001);

/// The reason (and author) of opening-balance adjustments.
pub const REASON: &str = "import";

/// Turns members into facts; hands out generated card numbers.
#[derive(Clone, Debug)]
pub struct FactMaker {
    import_id: String,
    now: DateTime<Utc>,
    next_serial: u64,
    /// Cards the file names (a generated number must not be one of them).
    file_cards: std::sync::Arc<HashMap<u64, (u64, super::columns::Column)>>,
}

/// A card number could not be generated (the serial range is used up).
#[derive(Debug, thiserror::Error)]
#[error("no card number left to generate after serial {0}")]
pub struct NoCardLeft(pub u64);

impl FactMaker {
    pub fn new(
        import_id: &str,
        now: DateTime<Utc>,
        next_serial: u64,
        file_cards: std::sync::Arc<HashMap<u64, (u64, super::columns::Column)>>,
    ) -> Self {
        FactMaker {
            import_id: import_id.to_string(),
            now,
            next_serial,
            file_cards,
        }
    }

    fn uuid(&self, line: u64, what: &str) -> Uuid {
        Uuid::new_v5(
            &NAMESPACE,
            format!("{}:{line}:{what}", self.import_id).as_bytes(),
        )
    }

    fn generate_card(&mut self) -> Result<String, NoCardLeft> {
        loop {
            let serial = self.next_serial;
            let card = loyalty_cards::card::generate(IMPORT_CARD_PREFIX, serial)
                .map_err(|_| NoCardLeft(serial))?;
            self.next_serial += 1;
            let taken = card_key(&card).is_some_and(|k| self.file_cards.contains_key(&k));
            if !taken {
                return Ok(card);
            }
        }
    }

    /// The member's facts, in the order they apply.
    pub fn events(&mut self, m: Member) -> Result<Vec<ServerEvent>, NoCardLeft> {
        let card = match m.card {
            Some(c) => c,
            None => self.generate_card()?,
        };
        let line = m.line;
        let label = format!("line {line}");
        let account_uid = self.uuid(line, "account").to_string();
        let ev = |op_id: Uuid, recorded_at: DateTime<Utc>, fact: Fact| ServerEvent {
            op_id,
            recorded_at,
            fact,
            label: label.clone(),
        };
        let mut out = Vec::with_capacity(1 + m.family_cards.len() + 2);
        out.push(ev(
            self.uuid(line, "enrol"),
            m.enrolled_at.unwrap_or(self.now),
            Fact::Enrol {
                customer_uid: self.uuid(line, "customer").to_string(),
                account_uid: account_uid.clone(),
                card,
                profile: m.profile,
                referrer_uid: None,
                welcome_points: 0,
                expiry_months: None,
            },
        ));
        for (i, card) in m.family_cards.into_iter().enumerate() {
            out.push(ev(
                self.uuid(line, &format!("family_card:{i}")),
                self.now,
                Fact::FamilyCard {
                    account_uid: account_uid.clone(),
                    card,
                },
            ));
        }
        for (what, points) in [("points", m.points), ("shortfall", -m.shortfall)] {
            if points != 0 {
                out.push(ev(
                    self.uuid(line, what),
                    self.now,
                    Fact::Adjust {
                        account_uid: account_uid.clone(),
                        points,
                        reason: REASON.into(),
                        author: REASON.into(),
                        expiry_months: None,
                    },
                ));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use loyalty_domain::Profile;

    fn member(line: u64, card: Option<&str>, points: i64) -> Member {
        Member {
            line,
            card: card.map(str::to_string),
            family_cards: vec!["2000000000015".into()],
            profile: Profile::default(),
            points,
            shortfall: 0,
            enrolled_at: None,
            pending_ignored: 0,
        }
    }

    #[test]
    fn facts_are_stable_and_generated_cards_skip_the_files_own() {
        let now = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        let taken = loyalty_cards::card::generate(IMPORT_CARD_PREFIX, 7).unwrap();
        let mut cards = HashMap::new();
        cards.insert(
            card_key(&taken).unwrap(),
            (9, super::super::columns::Column::Card),
        );
        let mut maker = FactMaker::new("abc", now, 7, std::sync::Arc::new(cards));
        let a = maker.clone().events(member(2, None, 50)).unwrap();
        let b = maker.events(member(2, None, 50)).unwrap();
        assert_eq!(a, b, "same input, same facts");
        assert_eq!(a.len(), 3);
        let Fact::Enrol { card, .. } = &a[0].fact else {
            panic!()
        };
        assert_eq!(
            card,
            &loyalty_cards::card::generate(IMPORT_CARD_PREFIX, 8).unwrap()
        );
        assert!(matches!(a[1].fact, Fact::FamilyCard { .. }));
        assert!(matches!(
            &a[2].fact,
            Fact::Adjust { points: 50, reason, .. } if reason == "import"
        ));
        let other = maker.events(member(3, Some("4006381333931"), 0)).unwrap();
        assert_eq!(other.len(), 2);
        assert_ne!(other[0].op_id, a[0].op_id);
        assert_eq!(other[0].label, "line 3");
    }
}
