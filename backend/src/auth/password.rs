//! Password hashing with argon2id. Only the PHC string is stored; nothing here is logged.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Hashes a password into a PHC string with a fresh random salt.
///
/// # Errors
/// Only if argon2 rejects its own parameters, which the defaults never do.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Checks a password against a stored PHC string. A malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Harbor's password policy: 8-128 characters with an upper-case letter, a lower-case letter
/// and a digit. Returns the reason when the password falls short.
pub fn check_policy(password: &str) -> Result<(), &'static str> {
    let len = password.chars().count();
    if !(8..=128).contains(&len) {
        return Err("password must be 8 to 128 characters long");
    }
    let has = |f: fn(char) -> bool| password.chars().any(f);
    if !(has(|c| c.is_ascii_uppercase())
        && has(|c| c.is_ascii_lowercase())
        && has(|c| c.is_ascii_digit()))
    {
        return Err("password must contain an upper-case letter, a lower-case letter and a digit");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash("Passw0rd!").expect("hash");
        let b = hash("Passw0rd!").expect("hash");
        assert_ne!(a, b, "salts differ");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify("Passw0rd!", &a));
        assert!(!verify("passw0rd!", &a));
        assert!(!verify("Passw0rd!", "not a hash"));
    }

    #[test]
    fn policy() {
        assert!(check_policy("Passw0rd").is_ok());
        assert!(check_policy("short1A").is_err());
        assert!(check_policy("alllowercase1").is_err());
    }
}
