//! Device tokens: random, shown once, stored only as a SHA-256 hash.

use crate::backend::hash::{hex, sha256_hex};

/// Token prefix (recognisable in a config file or a leaked log).
pub const PREFIX: &str = "ltk_";

/// A new token: the prefix and 32 random bytes in hex.
pub fn generate() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)?;
    Ok(format!("{PREFIX}{}", hex(&bytes)))
}

/// Owner token prefix.
pub const OWNER_PREFIX: &str = "lok_";

/// A new owner token (`loyalty-server owner token`).
pub fn generate_owner() -> Result<String, getrandom::Error> {
    generate().map(|t| format!("{OWNER_PREFIX}{}", &t[PREFIX.len()..]))
}

/// What the server stores and looks tokens up by.
pub fn hash_token(token: &str) -> String {
    sha256_hex(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX));
        assert_eq!(a.len(), PREFIX.len() + 64);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), hash_token(&b));
        assert_eq!(hash_token(&a).len(), 64);
    }
}
