//! The server functions behind the console's transfer controls: whom an
//! agent may hand a conversation to, and (admins) every open conversation.
//! The hub decides at the transfer itself (`server/hub/transfer.rs`);
//! these lists are only what to offer.

use crate::error::AppError;
use crate::protocol::{AgentInfo, ConversationSummary};
use crate::server::state;

/// See [`crate::api::transfer_targets`].
pub async fn transfer_targets(agent: &AgentInfo) -> Result<Vec<AgentInfo>, AppError> {
    let state = state();
    let loads = state.hub.agent_loads();
    Ok(state
        .storage
        .list_agents()
        .await?
        .iter()
        .filter(|a| a.id != agent.id && !a.disabled)
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

/// See [`crate::api::open_conversations`].
pub fn open_conversations(admin: &AgentInfo) -> Result<Vec<ConversationSummary>, AppError> {
    if !admin.is_admin {
        return Err(AppError::Forbidden);
    }
    Ok(state().hub.open_summaries())
}
