//! The checks against the server: a card or phone of the file that a member on the server
//! already has is an error of its row. The same pass finds where generated card numbers
//! start (after the highest import-prefix card on the server).

use super::columns::{Column, Header};
use super::report::RowError;
use super::validate::{card_key, phone_key, Tally};
use super::ImportError;
use crate::backend::Backend;
use crate::progress;

/// Card numbers generated for rows without one: `299` + 9-digit serial + check digit
/// (GS1 in-store range; tills issue `2` + 4 digits of their id + 7-digit serials).
pub const IMPORT_CARD_PREFIX: &str = "299";
const SERIAL_DIGITS: u32 = 9;

/// Accounts read per page.
const PAGE: u32 = 1000;

/// The serial of an import-prefix card number.
pub fn import_serial(card: &str) -> Option<u64> {
    let body = card.strip_prefix(IMPORT_CARD_PREFIX)?;
    let serial = body.get(..SERIAL_DIGITS as usize)?;
    (card.len() == 13).then(|| serial.parse().ok()).flatten()
}

/// Adds `CARD_ON_SERVER` / `PHONE_ON_SERVER` errors to the tally; returns the first
/// serial free for generated cards.
pub async fn check(
    backend: &dyn Backend,
    header: &Header,
    tally: &mut Tally,
    show_progress: bool,
    watch: Option<&progress::Watch>,
) -> Result<u64, ImportError> {
    let mut after: Option<String> = None;
    let mut next_serial = 1u64;
    let mut bar = None;
    loop {
        let page = backend.members_page(after.as_deref(), PAGE).await?;
        if let Some(total) = page.total {
            let b = progress::bar(
                show_progress,
                total.max(0) as u64,
                "checking the server",
                progress::Unit::Items,
            );
            if let Some(w) = watch {
                w.follow("checking", &b);
            }
            bar = Some(b);
        }
        for m in &page.members {
            for card in &m.cards {
                if let Some(serial) = import_serial(&card.number) {
                    next_serial = next_serial.max(serial + 1);
                }
                let found = card_key(&card.number).and_then(|k| tally.cards.get(&k));
                if let Some((line, col)) = found {
                    tally.errors.push(RowError::new(
                        *line,
                        &header.shown(*col),
                        &card.number,
                        "CARD_ON_SERVER",
                        format!("a member on the server has this card ({})", card.status),
                    ));
                }
            }
            let phone = m.customer.as_ref().and_then(|c| c.profile.phone.as_ref());
            if let Some(p) = phone {
                if let Some(line) = phone_key(p).and_then(|k| tally.phones.get(&k)) {
                    tally.errors.push(RowError::new(
                        *line,
                        &header.shown(Column::Phone),
                        p,
                        "PHONE_ON_SERVER",
                        "a member on the server has this phone".into(),
                    ));
                }
            }
        }
        if let Some(b) = &bar {
            b.inc(page.members.len() as u64);
        }
        match page.next_after {
            Some(a) => after = Some(a),
            None => break,
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(next_serial)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_of_import_cards_only() {
        let c = loyalty_cards::card::generate(IMPORT_CARD_PREFIX, 42).unwrap();
        assert_eq!(import_serial(&c), Some(42));
        assert_eq!(import_serial("2000100000014"), None);
        assert_eq!(import_serial("299"), None);
    }
}
