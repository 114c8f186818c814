//! PIN login: argon2id hashes (PHC strings) in the store, lockout after
//! [`MAX_WRONG_PINS`] consecutive wrong PINs for [`LOCKOUT_MINUTES`], kept across restarts.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use loyalty_store::{Role, Store};

use crate::dto::Session;
use crate::error::{AppError, AppResult};

pub const MAX_WRONG_PINS: u32 = 5;
pub const LOCKOUT_MINUTES: i64 = 5;

/// 4 to 8 digits.
pub fn validate_pin(pin: &str) -> AppResult<()> {
    if (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(AppError::new("PIN_FORMAT", "a PIN is 4 to 8 digits"))
    }
}

pub fn hash_pin(pin: &str) -> AppResult<String> {
    validate_pin(pin)?;
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::new("PIN_HASH", e.to_string()))
}

fn matches(pin: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(pin.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Checks `pin` against the till's active staff. Refuses while locked out (`PIN_LOCKED`);
/// a wrong PIN is `PIN_WRONG` with the tries left, the last one locks.
pub fn login(store: &mut Store, pin: &str, now: DateTime<Utc>) -> AppResult<Session> {
    let guard = store.login_guard()?;
    if let Some(until) = guard.locked_until.filter(|u| *u > now) {
        return Err(locked(until, now));
    }
    let pin = pin.trim();
    let found = if validate_pin(pin).is_ok() {
        store
            .staff_active()?
            .into_iter()
            .find(|s| matches(pin, &s.pin_hash))
    } else {
        None
    };
    match found {
        Some(s) => {
            store.login_succeeded()?;
            Ok(Session {
                name: s.name,
                role: s.role,
            })
        }
        None => {
            let g = store.login_failed(MAX_WRONG_PINS, Duration::minutes(LOCKOUT_MINUTES), now)?;
            match g.locked_until.filter(|u| *u > now) {
                Some(until) => Err(locked(until, now)),
                None => Err(AppError::new(
                    "PIN_WRONG",
                    format!(
                        "wrong PIN: {} tries left before a {LOCKOUT_MINUTES}-minute lockout",
                        MAX_WRONG_PINS.saturating_sub(g.failures)
                    ),
                )),
            }
        }
    }
}

fn locked(until: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    let secs = (until - now).num_seconds().max(1);
    AppError::new(
        "PIN_LOCKED",
        format!(
            "too many wrong PINs: login is locked for {}:{:02} more (until {} UTC)",
            secs / 60,
            secs % 60,
            until.format("%H:%M:%S")
        ),
    )
}

/// The owner's and the cashier's PINs: valid and different.
pub fn validate_pins(owner_pin: &str, cashier_pin: &str) -> AppResult<()> {
    validate_pin(owner_pin)?;
    validate_pin(cashier_pin)?;
    if owner_pin == cashier_pin {
        return Err(AppError::new(
            "PIN_FORMAT",
            "the owner and cashier PINs must differ",
        ));
    }
    Ok(())
}

/// Creates the owner and the first cashier (setup).
pub fn create_staff(
    store: &mut Store,
    owner_pin: &str,
    cashier_pin: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    validate_pins(owner_pin, cashier_pin)?;
    if !store.staff_active()?.is_empty() {
        return Ok(());
    }
    store.staff_add("Owner", Role::Owner, &hash_pin(owner_pin)?, now)?;
    store.staff_add("Cashier", Role::Cashier, &hash_pin(cashier_pin)?, now)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_digits_and_hashes_verify() {
        assert!(validate_pin("1234").is_ok());
        for bad in ["123", "123456789", "12a4", "", "12 4"] {
            assert_eq!(validate_pin(bad).unwrap_err().code, "PIN_FORMAT", "{bad:?}");
        }
        let h = hash_pin("2468").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(matches("2468", &h));
        assert!(!matches("2469", &h));
        assert!(!matches("2468", "garbage"));
        assert_ne!(h, hash_pin("2468").unwrap(), "salted");
    }
}
