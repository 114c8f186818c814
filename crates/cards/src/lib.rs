//! Cards: card numbers with check digits, signed virtual-card QR payloads, QR images, phones.
//!
//! * [`card`] — 13-digit EAN-13-compatible physical card numbers (and their barcode as SVG).
//! * [`qr`] — virtual cards: `LC1.` payloads signed with ed25519, rendered as SVG/PNG QR codes.
//! * [`phone`] — phone numbers normalised to E.164.
//!
//! Every fallible function returns [`CardError`], whose [`CardError::code`] is stable.
//! Nothing here panics on bad input.

pub mod card;
mod error;
pub mod phone;
pub mod qr;

pub use error::CardError;
pub use qr::{QrSigner, QrVerifier, VirtualCard};
