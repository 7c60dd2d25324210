//! Server functions about accounts themselves: the first-start setup
//! (guarded by a one-time code printed in the log), an agent changing
//! their own password or status, and admins setting an agent's password.

use std::sync::{Arc, Mutex};

use super::api::{begin_session, client_addr, headers};
use super::auth;
use super::limits::ThrottleKey;
use super::security::Revoked;
use crate::accounts;
use crate::error::AppError;
use crate::protocol::{AgentId, AgentInfo};
use crate::server::secrets;
use crate::server::state;
use crate::server::storage::StoreError;

/// The one-time code that the first-start setup form asks for, made at
/// start while no account exists and printed in the log; gone once the
/// first admin is created. Without one, setup is refused.
#[derive(Clone, Default)]
pub struct SetupCode(Arc<Mutex<Option<String>>>);

impl std::fmt::Debug for SetupCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SetupCode(..)")
    }
}

impl SetupCode {
    /// A fresh code: 64 random bits as four groups of hex digits.
    pub fn fresh() -> Self {
        let token = secrets::new_token();
        let code = token
            .as_bytes()
            .chunks(4)
            .take(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-");
        Self(Arc::new(Mutex::new(Some(code))))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The code, while setup is still to be done.
    pub fn code(&self) -> Option<String> {
        self.lock().clone()
    }

    /// Whether `given` is the code (case, spaces and dashes do not matter).
    /// Compared by hash, so timing tells nothing of the code.
    fn matches(&self, given: &str) -> bool {
        let norm = |s: &str| -> String {
            s.chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .flat_map(char::to_lowercase)
                .collect()
        };
        match self.lock().as_deref() {
            Some(code) => secrets::token_hash(&norm(code)) == secrets::token_hash(&norm(given)),
            None => false,
        }
    }

    /// Setup is done: the code is spent.
    fn spend(&self) {
        self.lock().take();
    }
}

/// See [`crate::api::setup_admin`]. Throttled per address like sign-in.
pub async fn setup_admin(name: &str, password: String, code: &str) -> Result<AgentInfo, AppError> {
    let state = state();
    let storage = &state.storage;
    if storage.agent_count().await? > 0 {
        return Err(AppError::AlreadySetUp);
    }
    let throttle = &state.security.sign_in;
    let keys: Vec<ThrottleKey> = client_addr()
        .await
        .map(|a| ThrottleKey::Addr(a.0))
        .into_iter()
        .collect();
    if let Some(wait) = throttle.wait(&keys) {
        return Err(AppError::TooManyAttempts {
            retry_after_secs: wait.as_secs().max(1),
        });
    }
    if !state.setup.matches(code) {
        throttle.failed(&keys);
        tracing::warn!("the setup form was sent with a wrong setup code");
        return Err(AppError::WrongSetupCode);
    }
    let name = accounts::clean_name(name).map_err(AppError::Invalid)?;
    accounts::check_password(&password).map_err(AppError::Invalid)?;
    let hash = secrets::hash_password(password).await?;
    let agent = storage
        .create_agent(&name, &hash, accounts::DEFAULT_CAPACITY, true, true)
        .await
        .map_err(|e| match e {
            StoreError::NameTaken => AppError::AlreadySetUp,
            e => e.into(),
        })?
        .ok_or(AppError::AlreadySetUp)?;
    state.setup.spend();
    begin_session(&agent).await?;
    tracing::info!(agent = %agent.name, "first admin created");
    Ok(agent.info())
}

/// See [`crate::api::change_password`]. A wrong current password counts as
/// a failed sign-in of the account (and address), so a stolen session
/// cannot be used to guess it.
pub async fn change_password(
    agent: &AgentInfo,
    current: String,
    new: String,
) -> Result<(), AppError> {
    let state = state();
    let storage = &state.storage;
    let throttle = &state.security.sign_in;
    let account = ThrottleKey::Account(agent.name.to_lowercase());
    let mut keys = vec![account.clone()];
    keys.extend(client_addr().await.map(|a| ThrottleKey::Addr(a.0)));
    if let Some(wait) = throttle.wait(&keys) {
        return Err(AppError::TooManyAttempts {
            retry_after_secs: wait.as_secs().max(1),
        });
    }
    accounts::check_password(&new).map_err(AppError::Invalid)?;
    let row = storage
        .agent_by_id(agent.id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    if !secrets::verify_password(current, row.password_hash.clone()).await {
        throttle.failed(&keys);
        tracing::info!("a password change gave a wrong current password");
        return Err(AppError::WrongPassword);
    }
    throttle.succeeded(&account);
    let token = auth::session_token(&headers().await?).ok_or(AppError::Unauthorized)?;
    let keep = secrets::token_hash(&token);
    let hash = secrets::hash_password(new).await?;
    storage
        .set_password(agent.id, &hash)
        .await?
        .ok_or(AppError::Unauthorized)?;
    storage.delete_other_sessions(agent.id, &keep).await?;
    state.revoke(Revoked::OtherSessions {
        agent: agent.id,
        keep,
    });
    tracing::info!(agent = %agent.name, "password changed; other sessions ended");
    Ok(())
}

/// See [`crate::api::set_status`].
pub async fn set_status(agent: &AgentInfo, status: &str) -> Result<(), AppError> {
    let away = match status {
        "online" => false,
        "away" => true,
        _ => return Err(AppError::Invalid(crate::error::Invalid::Form)),
    };
    let state = state();
    state.storage.set_agent_away(agent.id, away).await?;
    state.hub.set_away(agent.id, away).await;
    tracing::info!(agent = %agent.name, away, "status changed");
    Ok(())
}

/// See [`crate::api::reset_password`].
pub async fn reset_password(
    admin: &AgentInfo,
    id: AgentId,
    password: String,
) -> Result<AgentInfo, AppError> {
    if !admin.is_admin {
        return Err(AppError::Forbidden);
    }
    accounts::check_password(&password).map_err(AppError::Invalid)?;
    let state = state();
    let storage = &state.storage;
    let hash = secrets::hash_password(password).await?;
    let agent = storage
        .set_password(id, &hash)
        .await?
        .ok_or(AppError::NotFound)?;
    storage.delete_agent_sessions(id).await?;
    state.revoke(Revoked::Agent(id));
    // Whoever was locked out guessing may sign in with the new password.
    state
        .security
        .sign_in
        .succeeded(&ThrottleKey::Account(agent.name.to_lowercase()));
    tracing::info!(agent = %agent.name, by = %admin.name, "password set; sessions ended");
    Ok(agent.info())
}
