use super::*;
use chrono::{Duration, TimeZone};

const SEED: [u8; 32] = [7; 32];

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().expect("valid time")
}

fn vc() -> VirtualCard {
    VirtualCard {
        card: "4006381333931".into(),
        issued_at: t(1_700_000_000),
        expires_at: t(1_700_000_300),
    }
}

fn signed() -> (QrSigner, String) {
    let signer = QrSigner::from_seed(&SEED);
    let payload = signer.sign(&vc());
    (signer, payload)
}

#[test]
fn payload_has_documented_format() {
    let (_, payload) = signed();
    let parts: Vec<&str> = payload.split('.').collect();
    assert_eq!(parts.len(), 5);
    assert_eq!(
        &parts[..4],
        &["LC1", "4006381333931", "1700000000", "1700000300"]
    );
    assert_eq!(parts[4].len(), 86);
    assert!(parts[4]
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert!(looks_like_qr(&payload));
    assert!(payload.len() < MAX_PAYLOAD_LEN);
    // Deterministic: same key, same card, same payload.
    assert_eq!(QrSigner::from_seed(&SEED).sign(&vc()), payload);
}

#[test]
fn roundtrip() {
    let (signer, payload) = signed();
    let verifier = signer.verifier();
    assert_eq!(verifier.verify(&payload, t(1_700_000_100)), Ok(vc()));
    // Valid from the issue second up to (not including) the expiry second.
    assert_eq!(verifier.verify(&payload, t(1_700_000_000)), Ok(vc()));
    assert_eq!(verifier.verify(&payload, t(1_700_000_299)), Ok(vc()));
    // A scanner's trailing newline is fine.
    assert_eq!(
        verifier.verify(&format!("{payload}\r\n"), t(1_700_000_100)),
        Ok(vc())
    );
}

#[test]
fn sub_second_times_are_truncated() {
    let signer = QrSigner::from_seed(&SEED);
    let mut card = vc();
    card.issued_at += Duration::milliseconds(750);
    let got = signer
        .verifier()
        .verify(&signer.sign(&card), t(1_700_000_001))
        .unwrap();
    assert_eq!(got, vc());
}

#[test]
fn public_key_roundtrip() {
    let (signer, payload) = signed();
    let bytes = signer.public_key_bytes();
    let verifier = QrVerifier::from_public_key(&bytes).unwrap();
    assert_eq!(verifier.public_key_bytes(), bytes);
    assert_eq!(verifier, signer.verifier());
    assert_eq!(verifier.verify(&payload, t(1_700_000_001)), Ok(vc()));
    // Not every 32 bytes are a curve point.
    let mut bad = [0u8; 32];
    bad[0] = 2;
    bad[31] = 0xff;
    let rejected = (0u8..=255).any(|b| {
        bad[1] = b;
        QrVerifier::from_public_key(&bad).is_err()
    });
    assert!(rejected);
}

#[test]
fn debug_does_not_leak_the_secret() {
    let signer = QrSigner::from_seed(&SEED);
    let dbg = format!("{signer:?}");
    assert!(dbg.contains("public_key"));
    assert!(!dbg.contains("7, 7, 7"));
}

#[test]
fn expired_is_rejected_with_its_expiry() {
    let (signer, payload) = signed();
    let err = signer.verifier().verify(&payload, t(1_700_000_300));
    assert_eq!(
        err,
        Err(CardError::Expired {
            expired_at: t(1_700_000_300)
        })
    );
    assert_eq!(err.unwrap_err().code(), "QR_EXPIRED");
    assert!(signer
        .verifier()
        .verify(&payload, t(2_000_000_000))
        .is_err());
}

#[test]
fn other_key_is_rejected() {
    let (_, payload) = signed();
    let other = QrSigner::from_seed(&[8; 32]).verifier();
    assert_eq!(
        other.verify(&payload, t(1_700_000_100)),
        Err(CardError::BadSignature)
    );
    // And a payload signed by the other key is rejected by ours.
    let forged = QrSigner::from_seed(&[8; 32]).sign(&vc());
    assert_eq!(
        QrSigner::from_seed(&SEED)
            .verifier()
            .verify(&forged, t(1_700_000_100)),
        Err(CardError::BadSignature)
    );
}

#[test]
fn every_single_character_edit_is_rejected() {
    let (signer, payload) = signed();
    let verifier = signer.verifier();
    let now = t(1_700_000_100);
    let b64: Vec<char> = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        .chars()
        .collect();
    let mut all: Vec<char> = b64.clone();
    all.extend(".+/= é\n\u{0}".chars());
    let chars: Vec<char> = payload.chars().collect();
    let sig_start = payload.rfind('.').unwrap() + 1;
    let mut tried = 0;
    for i in 0..chars.len() {
        // Signature checks are slow in debug builds: in the signature, try a few
        // replacements that change data bits; elsewhere, every character we know.
        let candidates: Vec<char> = if i >= sig_start {
            let idx = b64.iter().position(|&c| c == chars[i]).unwrap();
            vec![b64[(idx + 1) % 64], b64[idx ^ 32], b64[idx ^ 4], '.', '=']
        } else {
            all.clone()
        };
        for c in candidates {
            if c == chars[i] {
                continue;
            }
            let mut edited = chars.clone();
            edited[i] = c;
            let edited: String = edited.into_iter().collect();
            assert!(
                verifier.verify(&edited, now).is_err(),
                "edit at {i} to {c:?} accepted: {edited}"
            );
            tried += 1;
        }
        // Deleting the character is refused too.
        let mut deleted = chars.clone();
        deleted.remove(i);
        let deleted: String = deleted.into_iter().collect();
        assert!(verifier.verify(&deleted, now).is_err(), "deletion at {i}");
    }
    assert!(tried > 2_000, "{tried}");
}

#[test]
fn edits_of_signed_fields_are_bad_signature() {
    let (signer, payload) = signed();
    let verifier = signer.verifier();
    let now = t(1_700_000_100);
    // Extend the expiry: well-formed, but not what was signed.
    let longer = payload.replace(".1700000300.", ".1800000300.");
    assert_eq!(verifier.verify(&longer, now), Err(CardError::BadSignature));
    // Another valid card number.
    let other_card = payload.replace("4006381333931", "5901234123457");
    assert_eq!(
        verifier.verify(&other_card, now),
        Err(CardError::BadSignature)
    );
}

#[test]
fn garbage_is_malformed() {
    let verifier = QrSigner::from_seed(&SEED).verifier();
    let now = t(1_700_000_100);
    let (_, good) = signed();
    let sig = good.rsplit('.').next().unwrap().to_owned();
    let huge = format!("LC1.{}", "9".repeat(1_000_000));
    let cases = [
        String::new(),
        " ".into(),
        "LC1".into(),
        "LC1.".into(),
        "LC1.abc".into(),
        "LC1....".into(),
        "LC1.....".into(),
        "lc1.4006381333931.1700000000.1700000300.x".into(),
        "LC2.4006381333931.1700000000.1700000300.x".into(),
        format!("LC1.4006381333931.1700000000.1700000300.{sig}.extra"),
        format!("LC1.4006381333931.1700000000.{sig}"),
        format!("LC1.4006381333932.1700000000.1700000300.{sig}"), // bad check digit
        format!("LC1.400638133393.1700000000.1700000300.{sig}"),
        format!("LC1.4006381333931.01700000000.1700000300.{sig}"), // leading zero
        format!("LC1.4006381333931.+1700000000.1700000300.{sig}"),
        format!("LC1.4006381333931.-1.1700000300.{sig}"),
        format!("LC1.4006381333931.999999999999999.1700000300.{sig}"),
        format!("LC1.4006381333931.1700000300.1700000000.{sig}"), // expires before issued
        format!("LC1.4006381333931.1700000000.1700000300.{}", &sig[1..]),
        format!("LC1.4006381333931.1700000000.1700000300.{sig}A"),
        format!("LC1.4006381333931.1700000000.1700000300.{}=", &sig[..85]),
        format!("LC1.4006381333931.1700000000.1700000300.{}", "!".repeat(86)),
        format!("LC1.4006381333931.1700000000.1700000300.{}", "é".repeat(43)),
        "LC1.٤٠٠٦٣٨١٣٣٣٩٣١.1.2.x".into(),
        "\u{0}\u{ffff}\u{10ffff}".into(),
        huge,
    ];
    for case in &cases {
        let got = verifier.verify(case, now);
        assert!(
            matches!(got, Err(CardError::QrMalformed(_))),
            "{:?} -> {got:?}",
            &case.chars().take(60).collect::<String>()
        );
    }
}

#[test]
fn non_canonical_signature_encoding_is_refused() {
    let (signer, payload) = signed();
    // The last base64 character carries 4 unused bits; flipping them keeps the bytes the
    // same for a lax decoder, so a strict decoder must refuse it.
    let last = payload.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = alphabet.find(last).unwrap();
    let sibling = alphabet.as_bytes()[idx ^ 1] as char;
    let edited = format!("{}{sibling}", &payload[..payload.len() - 1]);
    assert!(signer.verifier().verify(&edited, t(1_700_000_100)).is_err());
}

#[test]
fn invalid_virtual_card_signs_but_does_not_verify() {
    let signer = QrSigner::from_seed(&SEED);
    let mut card = vc();
    card.card = "12345".into();
    let payload = signer.sign(&card);
    assert!(matches!(
        signer.verifier().verify(&payload, t(1_700_000_100)),
        Err(CardError::QrMalformed(_))
    ));
}

#[test]
fn looks_like_qr_shape() {
    assert!(looks_like_qr("LC1.anything"));
    assert!(looks_like_qr("  LC1.x"));
    assert!(!looks_like_qr("LC1"));
    assert!(!looks_like_qr("4006381333931"));
    assert!(!looks_like_qr("lc1.x"));
    assert!(!looks_like_qr(""));
}
