//! The members CSV the server imports (`loyalty-server import`), generated here: member
//! `serial` is a pure function of the serial (its own seeded RNG), so the scans later pick
//! random serials and know the card, phone and name the app must show without reading the
//! file back. Names and phones come from the store benchmark's generator (Cyrillic and
//! Latin names, unique `+79…` mobiles).

use std::io::Write;
use std::path::Path;

use crate::generate::names::{person, phone_e164, phone_human};

/// Card prefix of the imported members (EAN-13 `27` + 10-digit serial + check digit).
pub const CARD_PREFIX: &str = "27";
/// Bumped when the generated rows change (it is part of the file name).
pub const FORMAT: u32 = 1;
const HEADER: &str = "card;phone;name;email;birthday;consent;channel;points";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub card: String,
    /// E.164, as imported.
    pub phone: String,
    pub name: String,
    email: Option<String>,
    birthday: Option<String>,
    consent: bool,
    channel: &'static str,
    points: i64,
}

impl Member {
    /// The phone as a cashier types it: `8 916 123-45-67`.
    pub fn phone_typed(&self) -> String {
        phone_human(&self.phone)
    }

    fn csv_row(&self) -> String {
        format!(
            "{};{};{};{};{};{};{};{}",
            self.card,
            self.phone,
            self.name,
            self.email.as_deref().unwrap_or(""),
            self.birthday.as_deref().unwrap_or(""),
            if self.consent { "yes" } else { "no" },
            self.channel,
            self.points
        )
    }
}

/// Member `serial` (0-based).
pub fn member(serial: u64) -> Result<Member, String> {
    let mut rng = fastrand::Rng::with_seed(serial.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xA11);
    let p = person(&mut rng, serial);
    let card = loyalty_cards::card::generate(CARD_PREFIX, serial).map_err(|e| e.to_string())?;
    let birthday = (rng.u8(..100) < 80).then(|| {
        format!(
            "{}-{:02}-{:02}",
            rng.i32(1950..=2006),
            rng.u8(1..=12),
            rng.u8(1..=28)
        )
    });
    Ok(Member {
        card,
        phone: phone_e164(serial),
        name: p.name,
        email: p.email,
        birthday,
        consent: rng.u8(..100) < 70,
        channel: ["sms", "email", "messenger", "none"][rng.usize(..4)],
        points: [0, 0, 50, 120, 300, 800, 1500][rng.usize(..7)],
    })
}

/// `members-<N>-v<FORMAT>.csv`.
pub fn csv_name(members: u64) -> String {
    format!("members-{members}-v{FORMAT}.csv")
}

/// Writes members `0..members` to `path` (through a temporary file, so a half-written
/// file never passes for a whole one).
pub fn write_csv(path: &Path, members: u64) -> Result<(), String> {
    let tmp = path.with_extension("csv.part");
    let file = std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let io = |e: std::io::Error| format!("{}: {e}", tmp.display());
    writeln!(w, "{HEADER}").map_err(io)?;
    for serial in 0..members {
        writeln!(w, "{}", member(serial)?.csv_row()).map_err(io)?;
    }
    w.flush().map_err(io)?;
    drop(w);
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_deterministic_valid_and_distinct() {
        let a = member(12_345).unwrap();
        assert_eq!(a, member(12_345).unwrap());
        assert_ne!(a.card, member(12_346).unwrap().card);
        loyalty_cards::card::validate(&a.card).unwrap();
        assert!(a.card.starts_with("270000012345"));
        assert_eq!(
            loyalty_cards::phone::normalize(&a.phone_typed(), "RU").unwrap(),
            a.phone
        );
        assert!(!a.name.is_empty() && !a.name.contains(';'));
    }

    #[test]
    fn writes_the_csv() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(csv_name(3));
        write_csv(&path, 3).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], HEADER);
        assert!(lines[2].starts_with(&member(1).unwrap().card));
        assert_eq!(lines[3].split(';').count(), 8);
    }
}
