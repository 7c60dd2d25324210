//! Agents' chosen status: an away agent keeps serving their conversations
//! (their grace and requeueing unchanged) but is given no new ones; and
//! what admins see of every agent (connected, load).

use std::collections::HashMap;

use super::Hub;
use crate::protocol::AgentId;

impl Hub {
    /// The agent chose away (`true`) or online: stored by the caller first.
    /// Coming back hands them queued conversations; visitors hear when
    /// whether anyone takes new chats changes.
    pub async fn set_away(&self, agent: AgentId, away: bool) {
        let _guard = self.decide().await;
        {
            let mut st = self.state();
            let before = st.agents_online();
            let Some(live) = st.agents.get_mut(&agent) else {
                // Not connected and serving nothing: their next socket
                // brings the stored status.
                return;
            };
            live.away = away;
            if st.agents_online() != before {
                st.broadcast_availability();
            }
        }
        if !away {
            self.dispatch().await;
        }
    }

    /// For each agent the hub knows: (has a console open, conversations served).
    pub fn agent_loads(&self) -> HashMap<AgentId, (bool, u32)> {
        self.state()
            .agents
            .iter()
            .map(|(id, a)| (*id, (a.online(), a.convs.len() as u32)))
            .collect()
    }
}
