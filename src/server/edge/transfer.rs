//! The server function behind the console's transfer control: whom an
//! agent may hand a conversation to. The hub decides at the transfer
//! itself (`server/hub/transfer.rs`); this list is only what to offer.

use crate::error::AppError;
use crate::protocol::AgentInfo;
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
