use chrono::{DateTime, Utc};

/// Everything that can go wrong with a card number, a QR payload or a phone number.
///
/// Messages never echo the (possibly hostile, possibly huge) input back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// A card number that is not 13 ASCII digits (or a bad `generate` prefix/serial).
    #[error("malformed card number: {0}")]
    Malformed(String),
    /// A 13-digit card number whose EAN-13 check digit does not match: most likely mistyped.
    #[error("card number check digit is wrong (got {found}, expected {expected}): the number was probably mistyped")]
    BadCheckDigit { expected: u8, found: u8 },
    /// A virtual-card QR payload that does not have the `LC1.<card>.<issued>.<expires>.<sig>` shape.
    #[error("malformed virtual card QR: {0}")]
    QrMalformed(String),
    /// A well-formed QR payload whose signature does not verify: forged, edited, or another key.
    #[error("virtual card QR signature is invalid: the code was forged, edited or issued by another program")]
    BadSignature,
    /// A genuine QR payload past its expiry: the customer must refresh the code in the app.
    #[error("virtual card QR expired at {expired_at}: ask the customer to refresh it")]
    Expired { expired_at: DateTime<Utc> },
    /// A phone number that cannot be parsed or is not a valid number for its region.
    #[error("invalid phone number: {0}")]
    InvalidPhone(String),
    /// The payload could not be turned into a QR image (e.g. too long for a QR code).
    #[error("cannot render QR code: {0}")]
    Render(String),
}

impl CardError {
    /// Stable SCREAMING_SNAKE code, for logs, the API and the till UI.
    pub fn code(&self) -> &'static str {
        match self {
            CardError::Malformed(_) => "CARD_MALFORMED",
            CardError::BadCheckDigit { .. } => "CARD_BAD_CHECK_DIGIT",
            CardError::QrMalformed(_) => "QR_MALFORMED",
            CardError::BadSignature => "QR_BAD_SIGNATURE",
            CardError::Expired { .. } => "QR_EXPIRED",
            CardError::InvalidPhone(_) => "PHONE_INVALID",
            CardError::Render(_) => "QR_RENDER",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_distinct() {
        let all = [
            CardError::Malformed("x".into()),
            CardError::BadCheckDigit {
                expected: 1,
                found: 2,
            },
            CardError::QrMalformed("x".into()),
            CardError::BadSignature,
            CardError::Expired {
                expired_at: DateTime::from_timestamp(0, 0).unwrap_or_default(),
            },
            CardError::InvalidPhone("x".into()),
            CardError::Render("x".into()),
        ];
        let codes: Vec<&str> = all.iter().map(CardError::code).collect();
        assert_eq!(
            codes,
            [
                "CARD_MALFORMED",
                "CARD_BAD_CHECK_DIGIT",
                "QR_MALFORMED",
                "QR_BAD_SIGNATURE",
                "QR_EXPIRED",
                "PHONE_INVALID",
                "QR_RENDER"
            ]
        );
        for e in &all {
            assert!(!e.to_string().is_empty());
        }
        assert!(CardError::BadCheckDigit {
            expected: 1,
            found: 2
        }
        .to_string()
        .contains("expected 1"));
    }
}
