//! Who is asking: agent sessions and their cookie.
//!
//! A session token is a [`crate::server::secrets::new_token`], sent once in
//! an HttpOnly cookie and stored only as its hash.

use axum::http::{header, HeaderMap, HeaderValue};

use crate::server::config::Limits;
use crate::server::secrets::{new_token, token_hash};
use crate::server::storage::{now_ms, AgentRow, Storage, StoreResult};

/// Name of the agent session cookie.
pub const SESSION_COOKIE: &str = "kefu_session";

/// The session token in a request's cookies, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE).map(str::to_owned)
}

/// The value of cookie `name` in a request's headers, if any.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// The enabled agent behind the session with this token hash, if it has
/// not expired (absolute or idle limit); counts as a use of the session.
pub async fn session_agent(
    storage: &Storage,
    hash: &[u8],
    limits: &Limits,
) -> StoreResult<Option<AgentRow>> {
    check_session(storage, hash, limits, true).await
}

/// Like [`session_agent`]; with `touch` false it only looks (the periodic
/// check of an open socket must not keep an unattended console signed in).
pub async fn check_session(
    storage: &Storage,
    hash: &[u8],
    limits: &Limits,
    touch: bool,
) -> StoreResult<Option<AgentRow>> {
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
) -> StoreResult<Option<AgentRow>> {
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
}
