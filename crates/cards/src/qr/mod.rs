//! Virtual cards: a QR payload signed with ed25519, so a forged or edited code is refused.
//!
//! Payload (ASCII, fits a small QR code):
//!
//! ```text
//! LC1.<card>.<issued unix secs>.<expires unix secs>.<base64url-nopad signature>
//! ```
//!
//! The signature covers the exact text before the last dot: `LC1.<card>.<issued>.<expires>`.
//! Numbers are canonical decimal (no sign, no leading zeros), the card is a valid 13-digit
//! card number, and the signature is 64 bytes (86 base64url characters, canonical).

mod render;

pub use render::{render_png, render_svg, MAX_PNG_SIDE};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::{card, CardError};

/// Version tag and separator that start every virtual-card payload.
pub const PREFIX: &str = "LC1.";
/// Longer input is refused before any parsing (a real payload is about 130 characters).
pub const MAX_PAYLOAD_LEN: usize = 256;
const SIGNATURE_B64_LEN: usize = 86;
/// Unix seconds never need more digits than this (year 9999 is 253 402 300 799).
const MAX_UNIX_DIGITS: usize = 12;

/// What a virtual-card QR code asserts: this card number, valid in `[issued_at, expires_at)`.
/// Times travel at whole-second precision.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VirtualCard {
    pub card: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Signs virtual cards. Holds the program's private key: keep it on the server / till only.
#[derive(Clone)]
pub struct QrSigner {
    key: SigningKey,
}

/// Checks virtual-card payloads against the program's public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrVerifier {
    key: VerifyingKey,
}

/// Cheap shape test (`LC1.` prefix) to route scanner input; [`QrVerifier::verify`] decides.
pub fn looks_like_qr(input: &str) -> bool {
    input.trim_start().starts_with(PREFIX)
}

impl QrSigner {
    /// The ed25519 key derived from a 32-byte secret seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        QrSigner {
            key: SigningKey::from_bytes(seed),
        }
    }

    /// The payload for `vc`. Times are truncated to whole seconds.
    ///
    /// No validation happens here: a card that is not a valid 13-digit number, or times
    /// before 1970, produce a payload that [`QrVerifier::verify`] refuses as malformed.
    pub fn sign(&self, vc: &VirtualCard) -> String {
        let message = format!(
            "{PREFIX}{}.{}.{}",
            vc.card,
            vc.issued_at.timestamp(),
            vc.expires_at.timestamp()
        );
        let signature = self.key.sign(message.as_bytes());
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }

    /// The matching verifier (public key only).
    pub fn verifier(&self) -> QrVerifier {
        QrVerifier {
            key: self.key.verifying_key(),
        }
    }

    /// The public key, to hand to tills and apps that only verify.
    pub fn public_key_bytes(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }
}

impl std::fmt::Debug for QrSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret key.
        f.debug_struct("QrSigner")
            .field(
                "public_key",
                &URL_SAFE_NO_PAD.encode(self.public_key_bytes()),
            )
            .finish_non_exhaustive()
    }
}

impl QrVerifier {
    /// A verifier from a 32-byte ed25519 public key; bytes that are not a valid curve point
    /// give [`CardError::QrMalformed`].
    pub fn from_public_key(bytes: &[u8; 32]) -> Result<Self, CardError> {
        VerifyingKey::from_bytes(bytes)
            .map(|key| QrVerifier { key })
            .map_err(|_| CardError::QrMalformed("invalid ed25519 public key".into()))
    }

    /// The 32-byte public key.
    pub fn public_key_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Parse and check a scanned payload (surrounding whitespace, e.g. a scanner's trailing
    /// newline, is ignored).
    ///
    /// Errors: [`CardError::QrMalformed`] for anything not shaped like a payload (prefix,
    /// parts, numbers, base64, lengths, card check digit); [`CardError::BadSignature`] when
    /// the shape is right but the signature is not ours for exactly this text;
    /// [`CardError::Expired`] when `now >= expires_at`.
    pub fn verify(&self, payload: &str, now: DateTime<Utc>) -> Result<VirtualCard, CardError> {
        let parsed = parse(payload)?;
        let signature = Signature::from_bytes(&parsed.signature);
        self.key
            .verify_strict(parsed.message.as_bytes(), &signature)
            .map_err(|_| CardError::BadSignature)?;
        if now >= parsed.card.expires_at {
            return Err(CardError::Expired {
                expired_at: parsed.card.expires_at,
            });
        }
        Ok(parsed.card)
    }
}

struct Parsed<'a> {
    message: &'a str,
    card: VirtualCard,
    signature: [u8; 64],
}

fn malformed(reason: &str) -> CardError {
    CardError::QrMalformed(reason.to_owned())
}

fn parse(payload: &str) -> Result<Parsed<'_>, CardError> {
    if payload.len() > MAX_PAYLOAD_LEN {
        return Err(malformed("payload is too long"));
    }
    let payload = payload.trim();
    if !payload.starts_with(PREFIX) {
        return Err(malformed("not a virtual card code (no LC1. prefix)"));
    }
    let (message, sig_b64) = payload
        .rsplit_once('.')
        .ok_or_else(|| malformed("missing signature"))?;
    // `message` can be just "LC1" when the prefix's dot is the only one.
    let fields: Vec<&str> = message
        .strip_prefix(PREFIX)
        .ok_or_else(|| malformed("missing fields"))?
        .split('.')
        .collect();
    let [card_no, issued, expires] = fields[..] else {
        return Err(malformed(
            "expected LC1.<card>.<issued>.<expires>.<signature>",
        ));
    };
    if card_no.len() != card::CARD_LEN || card::validate(card_no).is_err() {
        return Err(malformed("card number is not a valid 13-digit card"));
    }
    let issued_at = parse_unix(issued, "issued time")?;
    let expires_at = parse_unix(expires, "expiry time")?;
    if expires_at <= issued_at {
        return Err(malformed("expiry time is not after issue time"));
    }
    if sig_b64.len() != SIGNATURE_B64_LEN {
        return Err(malformed("signature has the wrong length"));
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(sig_b64)
        .map_err(|_| malformed("signature is not canonical base64url"))?;
    let signature: [u8; 64] = bytes
        .try_into()
        .map_err(|_| malformed("signature has the wrong length"))?;
    Ok(Parsed {
        message,
        card: VirtualCard {
            card: card_no.to_owned(),
            issued_at,
            expires_at,
        },
        signature,
    })
}

/// Canonical non-negative unix seconds: ASCII digits, no leading zero (except "0").
fn parse_unix(field: &str, what: &str) -> Result<DateTime<Utc>, CardError> {
    let canonical = !field.is_empty()
        && field.len() <= MAX_UNIX_DIGITS
        && field.bytes().all(|b| b.is_ascii_digit())
        && (field == "0" || !field.starts_with('0'));
    if !canonical {
        return Err(CardError::QrMalformed(format!(
            "{what} is not canonical unix seconds"
        )));
    }
    field
        .parse::<i64>()
        .ok()
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .ok_or_else(|| CardError::QrMalformed(format!("{what} is out of range")))
}

#[cfg(test)]
mod tests;
