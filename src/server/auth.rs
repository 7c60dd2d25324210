//! Who is asking: agent passwords and sessions, visitor tokens.
//!
//! Secrets (session and visitor tokens) are random, sent once, and stored
//! only as SHA-256 hashes. Passwords are argon2id hashes, computed off the
//! async runtime.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::http::{header, HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};

use super::config::Limits;
use super::storage::{now_ms, AgentRow, Storage};

/// Name of the agent session cookie.
pub const SESSION_COOKIE: &str = "kefu_session";

/// A fresh 256-bit random token, hex-encoded.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS random source failing is unrecoverable for a server that hands out secrets.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the OS random number generator is available");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

/// The session token in a request's cookies, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// The enabled agent behind the session with this token hash, if it has
/// not expired (absolute or idle limit); counts as a use of the session.
pub async fn session_agent(
    storage: &Storage,
    hash: &[u8],
    limits: &Limits,
) -> sqlx::Result<Option<AgentRow>> {
    check_session(storage, hash, limits, true).await
}

/// Like [`session_agent`]; with `touch` false it only looks (the periodic
/// check of an open socket must not keep an unattended console signed in).
pub async fn check_session(
    storage: &Storage,
    hash: &[u8],
    limits: &Limits,
    touch: bool,
) -> sqlx::Result<Option<AgentRow>> {
    let idle_ms =
        i64::try_from(limits.session_idle_hours.saturating_mul(3_600_000)).unwrap_or(i64::MAX);
    storage
        .session_agent(hash, now_ms().saturating_sub(idle_ms), touch)
        .await
}

/// The signed-in agent for a request's cookies.
pub async fn current_agent(
    storage: &Storage,
    headers: &HeaderMap,
    limits: &Limits,
) -> sqlx::Result<Option<AgentRow>> {
    match session_token(headers) {
        Some(token) => session_agent(storage, &token_hash(&token), limits).await,
        None => Ok(None),
    }
}

/// Starts a session for `agent`; returns the Set-Cookie value (Secure when
/// `secure`).
pub async fn start_session(
    storage: &Storage,
    agent: &AgentRow,
    limits: &Limits,
    secure: bool,
) -> anyhow::Result<HeaderValue> {
    let token = new_token();
    let max_age =
        i64::try_from(limits.session_max_days.saturating_mul(86_400)).unwrap_or(i64::MAX / 1000);
    storage
        .create_session(&token_hash(&token), agent.id, now_ms() + max_age * 1000)
        .await?;
    let secure = if secure { "; Secure" } else { "" };
    Ok(HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))?)
}

/// The Set-Cookie value that removes the session cookie.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("kefu_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; kefu_session=abc; b=2"),
        );
        assert_eq!(session_token(&headers).as_deref(), Some("abc"));
        assert_eq!(session_token(&HeaderMap::new()), None);
    }

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
