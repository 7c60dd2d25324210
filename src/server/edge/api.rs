//! The server side of the server functions in `crate::api`: reads the
//! request, checks who is asking, calls storage and the hub, and turns
//! failures into [`AppError`]s that are safe to show.

use axum::extract::Extension;
use axum::http::{header, HeaderMap, HeaderValue};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use super::auth;
use super::limits::ThrottleKey;
use super::security::{ClientAddr, Revoked};
use crate::accounts;
use crate::error::{AppError, Invalid};
use crate::i18n::{Lang, LANG_COOKIE};
use crate::protocol::{
    AgentId, AgentInfo, ConsoleView, ConversationId, HistoryPage, VisitorThread, HISTORY_PAGE,
};
use crate::server::secrets;
use crate::server::state;
use crate::server::storage::AgentRow;

pub(super) async fn headers() -> Result<HeaderMap, AppError> {
    leptos_axum::extract::<HeaderMap>()
        .await
        .map_err(|e| AppError::Transport(e.to_string()))
}

/// The client's address (set by the security middleware).
pub(super) async fn client_addr() -> Option<ClientAddr> {
    leptos_axum::extract::<Extension<ClientAddr>>()
        .await
        .ok()
        .map(|Extension(a)| a)
}

/// The signed-in agent, or `Unauthorized`.
pub async fn signed_in() -> Result<AgentInfo, AppError> {
    let headers = headers().await?;
    let state = state();
    auth::current_agent(&state.storage, &headers, &state.security.config.limits)
        .await?
        .map(|a| a.info())
        .ok_or(AppError::Unauthorized)
}

/// `agent` with their chosen console language, which this browser's
/// `/console` cookie is set to as well (the console reloads in it if the
/// page was rendered in another).
async fn with_lang(mut agent: AgentInfo) -> Result<AgentInfo, AppError> {
    let stored = state().storage.agent_lang(agent.id).await?;
    if let Some(lang) = stored.as_deref().and_then(Lang::parse) {
        set_cookie(lang_cookie(lang)?);
        agent.lang = Some(lang.tag().to_owned());
    }
    agent.notify = state().storage.agent_notify(agent.id).await?;
    agent.away_after_idle_secs = state().away_after_idle_secs;
    Ok(agent)
}

/// See [`crate::api::console_session`].
pub async fn console_session() -> Result<ConsoleView, AppError> {
    let storage = state().storage;
    if storage.agent_count().await? == 0 {
        return Ok(ConsoleView::NeedsSetup);
    }
    match signed_in().await {
        Ok(agent) => Ok(ConsoleView::SignedIn(with_lang(agent).await?)),
        Err(AppError::Unauthorized) => Ok(ConsoleView::SignedOut),
        Err(e) => Err(e),
    }
}

fn set_cookie(value: HeaderValue) {
    if let Some(response) = use_context::<ResponseOptions>() {
        response.append_header(header::SET_COOKIE, value);
    }
}

/// The cookie that makes `/console` speak `lang` in this browser.
fn lang_cookie(lang: Lang) -> Result<HeaderValue, AppError> {
    HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={}; Path=/console; SameSite=Lax; Max-Age=31536000",
        lang.tag()
    ))
    .map_err(|_| AppError::Internal)
}

/// See [`crate::api::set_language`].
pub async fn set_language(agent: &AgentInfo, lang: &str) -> Result<(), AppError> {
    let lang = Lang::parse(lang).ok_or(AppError::Invalid(Invalid::Form))?;
    state().storage.set_agent_lang(agent.id, lang.tag()).await?;
    set_cookie(lang_cookie(lang)?);
    Ok(())
}

/// Starts a session for `agent` and sets its cookie on the response.
pub(super) async fn begin_session(agent: &AgentRow) -> Result<(), AppError> {
    let state = state();
    let secure = state.security.secure_cookie(&headers().await?);
    let cookie =
        auth::start_session(&state.storage, agent, &state.security.config.limits, secure).await?;
    set_cookie(cookie);
    Ok(())
}

/// See [`crate::api::sign_in`].
pub async fn sign_in(name: &str, password: String) -> Result<AgentInfo, AppError> {
    let state = state();
    let storage = &state.storage;
    let throttle = &state.security.sign_in;
    let name = crate::accounts::clean_name(name).unwrap_or_else(|_| name.trim().to_owned());
    let name = name.as_str();
    let account = ThrottleKey::Account(name.to_lowercase());
    let mut keys = vec![account.clone()];
    keys.extend(client_addr().await.map(|a| ThrottleKey::Addr(a.0)));
    if let Some(wait) = throttle.wait(&keys) {
        return Err(AppError::TooManyAttempts {
            retry_after_secs: wait.as_secs().max(1),
        });
    }
    let agent = storage
        .agent_by_name(name.trim())
        .await?
        .filter(|a| !a.disabled);
    let verified = match &agent {
        Some(agent) => secrets::verify_password(password, agent.password_hash.clone()).await,
        None => {
            secrets::verify_against_dummy(password).await;
            false
        }
    };
    let Some(agent) = agent.filter(|_| verified) else {
        throttle.failed(&keys);
        crate::server::metrics::handles()
            .signin_failures
            .increment(1);
        tracing::info!("a sign-in failed");
        return Err(AppError::WrongCredentials);
    };
    throttle.succeeded(&account);
    begin_session(&agent).await?;
    // The console speaks the agent's chosen language in any browser.
    with_lang(agent.info()).await
}

/// See [`crate::api::sign_out`].
pub async fn sign_out() -> Result<(), AppError> {
    let headers = headers().await?;
    if let Some(token) = auth::session_token(&headers) {
        let hash = secrets::token_hash(&token);
        let state = state();
        state.storage.delete_session(&hash).await?;
        state.revoke(Revoked::Session(hash));
    }
    set_cookie(auth::clear_cookie());
    Ok(())
}

/// See [`crate::api::visitor_history`].
pub async fn visitor_history(
    token: &str,
    before: Option<i64>,
    identity: Option<&str>,
) -> Result<Option<VisitorThread>, AppError> {
    let state = state();
    let (hub, storage) = (&state.hub, &state.storage);
    let Some(visitor) = super::visitors::holder(storage, token, identity).await? else {
        // A visitor not stored yet (connected, nothing worth keeping so far).
        if super::visitors::unstored(hub, token).is_some() {
            return Ok(None);
        }
        return Err(AppError::NotFound);
    };
    let Some(row) = storage.latest_conversation(visitor).await? else {
        return Ok(None);
    };
    // Never a note: the visitor's page is messages only.
    let page = history_page(storage, row.id, before, false).await?;
    Ok(Some(VisitorThread {
        conversation: hub.summary_for_visitor(&row),
        page,
    }))
}

/// See [`crate::api::conversation_history`].
pub async fn conversation_history(
    agent: &AgentInfo,
    conversation: ConversationId,
    before: Option<i64>,
) -> Result<HistoryPage, AppError> {
    if !super::archive::may_read(agent, conversation).await? {
        return Err(AppError::NotFound);
    }
    history_page(&state().storage, conversation, before, true).await
}

/// The [`HISTORY_PAGE`] messages before `before` (default: the newest),
/// and for agents (`with_notes`) the private notes anchored among them.
async fn history_page(
    storage: &crate::server::storage::Storage,
    conversation: ConversationId,
    before: Option<i64>,
    with_notes: bool,
) -> Result<HistoryPage, AppError> {
    let upto = before.unwrap_or(i64::MAX);
    let mut messages = storage
        .messages_before(conversation, upto, HISTORY_PAGE + 1)
        .await?;
    let more = messages.len() > HISTORY_PAGE as usize;
    if more {
        messages.remove(0);
    }
    let notes = if with_notes {
        // Anchored after the message before this page's first (all the
        // way from the start on the first page), up to its last: the
        // next page (the one after) holds the notes anchored at its own.
        let from = match (more, messages.first()) {
            (true, Some(first)) => first.seq - 1,
            _ => 0,
        };
        let to = match before {
            Some(b) => b - 1,
            None => i64::MAX,
        };
        storage
            .notes_between(conversation, from, to, NOTES_PER_PAGE)
            .await?
    } else {
        Vec::new()
    };
    // Agents' newest page carries the visitor's rating, if any.
    let rating = if with_notes && before.is_none() {
        storage.rating(conversation).await?
    } else {
        None
    };
    Ok(HistoryPage {
        messages,
        more,
        notes,
        rating,
    })
}

/// Most notes in one history page.
const NOTES_PER_PAGE: i64 = 1_000;

/// See [`crate::api::list_agents`].
pub async fn list_agents(agent: &AgentInfo) -> Result<Vec<AgentInfo>, AppError> {
    if !agent.is_admin {
        return Err(AppError::Forbidden);
    }
    let state = state();
    let loads = state.hub.agent_loads();
    Ok(state
        .storage
        .list_agents()
        .await?
        .iter()
        .map(|a| {
            let (online, load) = loads.get(&a.id).copied().unwrap_or((false, 0));
            AgentInfo {
                online: Some(online),
                load: Some(load),
                ..a.info()
            }
        })
        .collect())
}

/// See [`crate::api::add_agent`].
pub async fn add_agent(
    admin: &AgentInfo,
    name: &str,
    password: String,
    capacity: u32,
    is_admin: bool,
) -> Result<AgentInfo, AppError> {
    if !admin.is_admin {
        return Err(AppError::Forbidden);
    }
    let name = accounts::clean_name(name).map_err(AppError::Invalid)?;
    accounts::check_password(&password).map_err(AppError::Invalid)?;
    accounts::check_capacity(capacity).map_err(AppError::Invalid)?;
    let hash = secrets::hash_password(password).await?;
    let agent = state()
        .storage
        .create_agent(&name, &hash, capacity, is_admin, false)
        .await?
        .ok_or(AppError::Internal)?;
    tracing::info!(agent = %agent.name, by = %admin.name, "agent added");
    Ok(agent.info())
}

/// See [`crate::api::update_agent`].
pub async fn update_agent(
    admin: &AgentInfo,
    id: AgentId,
    capacity: u32,
    disabled: bool,
) -> Result<AgentInfo, AppError> {
    if !admin.is_admin {
        return Err(AppError::Forbidden);
    }
    accounts::check_capacity(capacity).map_err(AppError::Invalid)?;
    if id == admin.id && disabled {
        return Err(AppError::Invalid(Invalid::SelfLockout));
    }
    let state = state();
    let storage = &state.storage;
    let agent = storage
        .update_agent(id, capacity, disabled)
        .await?
        .ok_or(AppError::NotFound)?;
    if disabled {
        storage.delete_agent_sessions(id).await?;
        state.revoke(Revoked::Agent(id));
        state.hub.agent_removed(id).await;
    } else {
        state.hub.agent_updated(&agent.info()).await;
    }
    tracing::info!(agent = %agent.name, by = %admin.name, capacity, disabled, "agent updated");
    Ok(agent.info())
}

/// See [`crate::api::identity_secret`].
pub async fn identity_secret(admin: &AgentInfo) -> Result<String, AppError> {
    if !admin.is_admin {
        return Err(AppError::Forbidden);
    }
    let secrets = state()
        .storage
        .identity_secrets(&secrets::new_token())
        .await?;
    Ok(secrets.current)
}

/// See [`crate::api::rotate_identity_secret`].
pub async fn rotate_identity_secret(admin: &AgentInfo) -> Result<String, AppError> {
    if !admin.is_admin {
        return Err(AppError::Forbidden);
    }
    let fresh = secrets::new_token();
    state().storage.rotate_identity_secret(&fresh).await?;
    tracing::info!(by = %admin.name, "identity secret rotated");
    Ok(fresh)
}

/// See [`crate::api::remove_agent`].
pub async fn remove_agent(admin: &AgentInfo, id: AgentId) -> Result<(), AppError> {
    if !admin.is_admin {
        return Err(AppError::Forbidden);
    }
    if id == admin.id {
        return Err(AppError::Invalid(Invalid::SelfLockout));
    }
    let state = state();
    let storage = &state.storage;
    let agent = storage.agent_by_id(id).await?.ok_or(AppError::NotFound)?;
    storage.delete_agent_sessions(id).await?;
    state.revoke(Revoked::Agent(id));
    state.hub.agent_removed(id).await;
    if !storage.delete_agent(id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(agent = %agent.name, by = %admin.name, "agent removed");
    Ok(())
}
