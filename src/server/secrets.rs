//! Secrets: random tokens (sessions, visitors), their stored hashes, and
//! argon2id password hashes.
//!
//! Tokens are random, sent once, and stored only as SHA-256 hashes.
//! Passwords are argon2id hashes, computed off the async runtime.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};

/// A fresh 256-bit random token, hex-encoded.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS random source failing is unrecoverable for a server that hands out secrets.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the OS random number generator is available");
    hex(&bytes)
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex of the HMAC-SHA256 of `parts` (one after the other) under `secret`:
/// how identities and webhook deliveries are signed.
pub fn hmac_sha256_hex(secret: &str, parts: &[&[u8]]) -> String {
    use hmac::{Hmac, Mac};
    // HMAC takes a key of any length.
    #[allow(clippy::expect_used)]
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    for part in parts {
        mac.update(part);
    }
    hex(&mac.finalize().into_bytes())
}

/// A random salt for a password hash.
fn new_salt() -> anyhow::Result<SaltString> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    SaltString::encode_b64(&bytes).map_err(|e| anyhow::anyhow!("salt: {e}"))
}

/// What is stored in place of a token.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// argon2id hash of a password (runs on a blocking thread).
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = new_salt()?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await?
}

/// Whether `password` matches `hash` (runs on a blocking thread).
pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// Spends the same effort as a real password check, for unknown names, so
/// that timing does not tell which names exist.
pub async fn verify_against_dummy(password: String) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let _ = tokio::task::spawn_blocking(move || {
        let hash = DUMMY.get_or_init(|| {
            new_salt()
                .ok()
                .and_then(|salt| {
                    Argon2::default()
                        .hash_password(b"kefu-dummy-password", &salt)
                        .ok()
                        .map(|h| h.to_string())
                })
                .unwrap_or_default()
        });
        if let Ok(parsed) = PasswordHash::new(hash) {
            let _ = Argon2::default().verify_password(password.as_bytes(), &parsed);
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[tokio::test]
    async fn passwords_verify() {
        let hash = hash_password("correct horse".into()).await.expect("hash");
        assert!(verify_password("correct horse".into(), hash.clone()).await);
        assert!(!verify_password("wrong".into(), hash).await);
    }
}
