//! Canned replies (server functions): every agent keeps their own, admins
//! the shared ones. The rules are `crate::canned`'s; each refusal travels
//! as its own code.

use crate::canned::{clean_shortcut, clean_text, MAX_CANNED_PER_OWNER};
use crate::error::{AppError, Invalid};
use crate::protocol::canned::CannedReply;
use crate::protocol::{AgentInfo, ErrorCode};
use crate::server::state;
use crate::server::storage::{Owner, StoreError};

/// Whose list a request names: the shared one (admins only) or the agent's own.
fn owner(agent: &AgentInfo, shared: bool) -> Result<Owner, AppError> {
    match (shared, agent.is_admin) {
        (false, _) => Ok(Owner::Agent(agent.id)),
        (true, true) => Ok(Owner::Shared),
        (true, false) => Err(AppError::Forbidden),
    }
}

fn invalid(code: ErrorCode) -> AppError {
    AppError::Invalid(match code {
        ErrorCode::CannedShortcut => Invalid::CannedShortcut,
        _ => Invalid::CannedText,
    })
}

fn store_error(e: StoreError) -> AppError {
    match e {
        StoreError::NameTaken => AppError::Invalid(Invalid::ShortcutTaken),
        e => e.into(),
    }
}

/// See [`crate::api::list_canned`].
pub async fn list_canned(agent: &AgentInfo) -> Result<Vec<CannedReply>, AppError> {
    Ok(state().storage.canned_for(agent.id).await?)
}

/// See [`crate::api::save_canned`].
pub async fn save_canned(
    agent: &AgentInfo,
    id: Option<i64>,
    shortcut: &str,
    text: &str,
    shared: bool,
) -> Result<CannedReply, AppError> {
    let owner = owner(agent, shared)?;
    let shortcut = clean_shortcut(shortcut).map_err(invalid)?;
    let text = clean_text(text).map_err(invalid)?;
    let storage = state().storage;
    match id {
        None => storage
            .create_canned(owner, &shortcut, &text, MAX_CANNED_PER_OWNER)
            .await
            .map_err(store_error)?
            .ok_or(AppError::Invalid(Invalid::TooManyCanned)),
        Some(id) => storage
            .update_canned(id, owner, &shortcut, &text)
            .await
            .map_err(store_error)?
            .ok_or(AppError::NotFound),
    }
}

/// See [`crate::api::delete_canned`].
pub async fn delete_canned(agent: &AgentInfo, id: i64, shared: bool) -> Result<(), AppError> {
    let owner = owner(agent, shared)?;
    if state().storage.delete_canned(id, owner).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}
