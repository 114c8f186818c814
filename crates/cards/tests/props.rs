//! Property tests: hostile input never panics; generated numbers always validate.

use chrono::{DateTime, Utc};
use loyalty_cards::{card, phone, qr, CardError, QrSigner, VirtualCard};
use proptest::prelude::*;

fn t(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).expect("valid time")
}

fn signer() -> QrSigner {
    QrSigner::from_seed(&[42; 32])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn verify_never_panics_on_arbitrary_strings(s in any::<String>(), now in 0i64..4_000_000_000) {
        let verifier = signer().verifier();
        let _ = verifier.verify(&s, t(now));
        let prefixed = format!("LC1.{s}");
        prop_assert!(verifier.verify(&prefixed, t(now)).is_err());
    }

    #[test]
    fn verify_rejects_payload_shaped_garbage(
        card in "[0-9]{13}",
        issued in "[0-9+-]{1,14}",
        expires in "[0-9+-]{1,14}",
        sig in "[A-Za-z0-9_=-]{80,90}",
    ) {
        let payload = format!("LC1.{card}.{issued}.{expires}.{sig}");
        let got = signer().verifier().verify(&payload, t(1_700_000_000));
        prop_assert!(got.is_err());
    }

    #[test]
    fn sign_verify_roundtrip(serial in 0u64..10_000_000_000, issued in 0i64..4_000_000_000, ttl in 1i64..10_000_000) {
        let signer = signer();
        let vc = VirtualCard {
            card: card::generate("20", serial).unwrap(),
            issued_at: t(issued),
            expires_at: t(issued + ttl),
        };
        let payload = signer.sign(&vc);
        prop_assert!(qr::looks_like_qr(&payload));
        prop_assert_eq!(signer.verifier().verify(&payload, t(issued)), Ok(vc.clone()));
        prop_assert_eq!(
            signer.verifier().verify(&payload, t(issued + ttl)),
            Err(CardError::Expired { expired_at: vc.expires_at })
        );
    }

    #[test]
    fn generate_validate_roundtrip(prefix in "[0-9]{0,11}", serial in any::<u64>()) {
        let room = 10u64.pow(12 - prefix.len() as u32);
        let serial = serial % room;
        let number = card::generate(&prefix, serial).unwrap();
        prop_assert_eq!(number.len(), 13);
        prop_assert!(number.starts_with(&prefix));
        prop_assert!(card::looks_like_card(&number));
        prop_assert_eq!(card::validate(&number), Ok(()));
        prop_assert_eq!(card::check_digit(&number[..12]), Ok(number.as_bytes()[12] - b'0'));
        let body_serial: u64 = number[prefix.len()..12].parse().unwrap();
        prop_assert_eq!(body_serial, serial);
        // Any overflowing serial is refused, not wrapped.
        prop_assert!(card::generate(&prefix, room).is_err());
    }

    #[test]
    fn card_validate_never_panics(s in any::<String>()) {
        let _ = card::validate(&s);
        let _ = card::check_digit(&s);
        let _ = card::barcode_svg(&s);
        let _ = card::looks_like_card(&s);
    }

    #[test]
    fn phone_never_panics(s in any::<String>(), region in "[A-Za-z]{0,3}") {
        let _ = phone::normalize(&s, &region);
        let _ = phone::looks_like_phone(&s);
    }

    #[test]
    fn phone_never_panics_on_phone_shaped_input(s in "[+]?[0-9 ()./-]{0,30}", region in "(RU|BG|GB|DE|US|)") {
        if let Ok(e164) = phone::normalize(&s, &region) {
            prop_assert!(e164.starts_with('+'));
            prop_assert!(e164[1..].bytes().all(|b| b.is_ascii_digit()));
            // Normalising is idempotent.
            prop_assert_eq!(phone::normalize(&e164, &region), Ok(e164.clone()));
        }
    }
}
