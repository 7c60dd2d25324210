//! Webhooks (server functions, admins only): register a URL for events,
//! remove it, rotate its signing key, and the recent deliveries. A URL
//! that is not `http(s)`, points at kefu's own listener or (with
//! `--webhooks-deny-private`) at an internal address is refused with its
//! own code; nothing is saved then.

use crate::error::{AppError, Invalid};
use crate::protocol::webhooks::{WebhookDelivery, WebhookEvent, WebhookInfo, MAX_WEBHOOKS};
use crate::protocol::{AgentInfo, ErrorCode};
use crate::server::storage::now_ms;
use crate::server::webhooks::target::{self, Refusal};
use crate::server::{secrets, state};

/// Deliveries the console lists.
const RECENT: i64 = 50;

fn admin_only(agent: &AgentInfo) -> Result<(), AppError> {
    if agent.is_admin {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn refused(r: Refusal) -> AppError {
    AppError::Invalid(match r.code() {
        ErrorCode::WebhookSelf => Invalid::WebhookSelf,
        ErrorCode::WebhookPrivate => Invalid::WebhookPrivate,
        _ => Invalid::WebhookUrl,
    })
}

/// See [`crate::api::webhooks`].
pub async fn list(admin: &AgentInfo) -> Result<Vec<WebhookInfo>, AppError> {
    admin_only(admin)?;
    Ok(state().storage.webhooks().await?)
}

/// See [`crate::api::save_webhook`].
pub async fn save(
    admin: &AgentInfo,
    url: &str,
    events: Vec<WebhookEvent>,
) -> Result<WebhookInfo, AppError> {
    admin_only(admin)?;
    let parsed = target::parse(url).map_err(refused)?;
    if events.is_empty() {
        return Err(AppError::Invalid(Invalid::WebhookEvents));
    }
    let state = state();
    let hooks = &state.webhooks;
    match target::check(&parsed, hooks.own_addr(), hooks.config().deny_private).await {
        // A name that does not resolve yet may later; deliveries say so.
        Ok(()) | Err(Refusal::Dns) => {}
        Err(r) => return Err(refused(r)),
    }
    if state.storage.webhooks().await?.len() >= MAX_WEBHOOKS {
        return Err(AppError::Invalid(Invalid::TooManyWebhooks));
    }
    let saved = state
        .storage
        .create_webhook(parsed.as_str(), &events, &secrets::new_token(), now_ms())
        .await?;
    hooks.changed().await?;
    tracing::info!(by = %admin.name, id = saved.id, "webhook registered");
    Ok(saved)
}

/// See [`crate::api::delete_webhook`].
pub async fn delete(admin: &AgentInfo, id: i64) -> Result<(), AppError> {
    admin_only(admin)?;
    let state = state();
    if !state.storage.delete_webhook(id).await? {
        return Err(AppError::NotFound);
    }
    state.webhooks.changed().await?;
    tracing::info!(by = %admin.name, id, "webhook removed");
    Ok(())
}

/// See [`crate::api::rotate_webhook_secret`].
pub async fn rotate(admin: &AgentInfo, id: i64) -> Result<String, AppError> {
    admin_only(admin)?;
    let fresh = secrets::new_token();
    if !state().storage.rotate_webhook_secret(id, &fresh).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(by = %admin.name, id, "webhook secret rotated");
    Ok(fresh)
}

/// See [`crate::api::webhook_deliveries`].
pub async fn deliveries(admin: &AgentInfo) -> Result<Vec<WebhookDelivery>, AppError> {
    admin_only(admin)?;
    Ok(state().storage.recent_deliveries(RECENT).await?)
}
