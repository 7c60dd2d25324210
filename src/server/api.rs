//! The server side of the server functions in `crate::api`: reads the
//! request, checks who is asking, calls storage and the hub, and turns
//! failures into [`AppError`]s that are safe to show.

use axum::http::{header, HeaderMap};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use super::auth;
use super::state;
use crate::accounts;
use crate::api::{ConsoleView, VisitorThread};
use crate::error::{AppError, Invalid};
use crate::protocol::{AgentInfo, ChatMessage, ConversationId};
use crate::server::storage::CreateAgentError;

/// Logs a storage failure and hides its details from the browser.
fn internal(e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "server function failed");
    AppError::Internal
}

async fn headers() -> Result<HeaderMap, AppError> {
    leptos_axum::extract::<HeaderMap>()
        .await
        .map_err(|e| AppError::Transport(e.to_string()))
}

/// The signed-in agent, or `Unauthorized`.
pub async fn signed_in() -> Result<AgentInfo, AppError> {
    let headers = headers().await?;
    auth::current_agent(state().hub.storage(), &headers)
        .await
        .map_err(internal)?
        .map(|a| a.info())
        .ok_or(AppError::Unauthorized)
}

/// See [`crate::api::console_session`].
pub async fn console_session() -> Result<ConsoleView, AppError> {
    let storage = state().hub.storage().clone();
    if storage.agent_count().await.map_err(internal)? == 0 {
        return Ok(ConsoleView::NeedsSetup);
    }
    match signed_in().await {
        Ok(agent) => Ok(ConsoleView::SignedIn(agent)),
        Err(AppError::Unauthorized) => Ok(ConsoleView::SignedOut),
        Err(e) => Err(e),
    }
}

fn set_cookie(value: axum::http::HeaderValue) {
    if let Some(response) = use_context::<ResponseOptions>() {
        response.insert_header(header::SET_COOKIE, value);
    }
}

/// See [`crate::api::setup_admin`].
pub async fn setup_admin(name: &str, password: String) -> Result<AgentInfo, AppError> {
    let name = accounts::clean_name(name).map_err(AppError::Invalid)?;
    accounts::check_password(&password).map_err(AppError::Invalid)?;
    let storage = state().hub.storage().clone();
    let hash = auth::hash_password(password).await.map_err(internal)?;
    let agent = storage
        .create_agent(&name, &hash, accounts::DEFAULT_CAPACITY, true, true)
        .await
        .map_err(|e| match e {
            CreateAgentError::NameTaken => AppError::AlreadySetUp,
            CreateAgentError::Db(e) => internal(e),
        })?
        .ok_or(AppError::AlreadySetUp)?;
    set_cookie(
        auth::start_session(&storage, &agent)
            .await
            .map_err(internal)?,
    );
    tracing::info!(agent = %agent.name, "first admin created");
    Ok(agent.info())
}

/// See [`crate::api::sign_in`].
pub async fn sign_in(name: &str, password: String) -> Result<AgentInfo, AppError> {
    let storage = state().hub.storage().clone();
    let agent = storage
        .agent_by_name(name.trim())
        .await
        .map_err(internal)?
        .filter(|a| !a.disabled);
    let Some(agent) = agent else {
        auth::verify_against_dummy(password).await;
        return Err(AppError::WrongCredentials);
    };
    if !auth::verify_password(password, agent.password_hash.clone()).await {
        return Err(AppError::WrongCredentials);
    }
    set_cookie(
        auth::start_session(&storage, &agent)
            .await
            .map_err(internal)?,
    );
    Ok(agent.info())
}

/// See [`crate::api::sign_out`].
pub async fn sign_out() -> Result<(), AppError> {
    let headers = headers().await?;
    if let Some(token) = auth::session_token(&headers) {
        state()
            .hub
            .storage()
            .delete_session(&auth::token_hash(&token))
            .await
            .map_err(internal)?;
    }
    set_cookie(auth::clear_cookie());
    Ok(())
}

/// See [`crate::api::visitor_history`].
pub async fn visitor_history(token: &str) -> Result<Option<VisitorThread>, AppError> {
    let hub = &state().hub;
    let storage = hub.storage();
    let Some(visitor) = storage
        .visitor_by_token(&auth::token_hash(token))
        .await
        .map_err(internal)?
    else {
        return Err(AppError::NotFound);
    };
    let Some(row) = storage
        .latest_conversation(visitor)
        .await
        .map_err(internal)?
    else {
        return Ok(None);
    };
    let messages = storage
        .messages_after(row.id, 0, 100_000)
        .await
        .map_err(internal)?;
    Ok(Some(VisitorThread {
        conversation: hub.summary_for_visitor(&row),
        messages,
    }))
}

/// See [`crate::api::conversation_history`].
pub async fn conversation_history(
    agent: &AgentInfo,
    conversation: ConversationId,
) -> Result<Vec<ChatMessage>, AppError> {
    let hub = &state().hub;
    if !hub.serves(agent.id, conversation) && !agent.is_admin {
        return Err(AppError::NotFound);
    }
    hub.storage()
        .messages_after(conversation, 0, 100_000)
        .await
        .map_err(internal)
}

/// See [`crate::api::list_agents`].
pub async fn list_agents(agent: &AgentInfo) -> Result<Vec<AgentInfo>, AppError> {
    if !agent.is_admin {
        return Err(AppError::Forbidden);
    }
    Ok(state()
        .hub
        .storage()
        .list_agents()
        .await
        .map_err(internal)?
        .iter()
        .map(|a| a.info())
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
    let hash = auth::hash_password(password).await.map_err(internal)?;
    let agent = state()
        .hub
        .storage()
        .create_agent(&name, &hash, capacity, is_admin, false)
        .await
        .map_err(|e| match e {
            CreateAgentError::NameTaken => AppError::Invalid(Invalid::NameTaken),
            CreateAgentError::Db(e) => internal(e),
        })?
        .ok_or(AppError::Internal)?;
    tracing::info!(agent = %agent.name, by = %admin.name, "agent added");
    Ok(agent.info())
}
