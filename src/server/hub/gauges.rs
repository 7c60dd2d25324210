//! The hub's figures for `/metrics`, counted from its tables when scraped
//! (so that nothing is counted on the live path).

use super::Hub;

/// What is live right now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gauges {
    /// Visitors' registered sockets.
    pub visitor_sockets: usize,
    /// Agents' registered sockets.
    pub agent_sockets: usize,
    /// Agents with a console open who take new conversations.
    pub agents_online: usize,
    /// Agents with a console open who chose away.
    pub agents_away: usize,
    /// Open conversations (assigned or queued).
    pub conversations_open: usize,
    /// Open conversations waiting for an agent.
    pub conversations_queued: usize,
}

impl Hub {
    /// Counts sockets, agents and conversations (one pass under the lock).
    pub fn gauges(&self) -> Gauges {
        let st = self.state();
        let mut g = Gauges {
            visitor_sockets: st.visitors.values().map(Vec::len).sum(),
            conversations_open: st.convs.len(),
            conversations_queued: st.queue.len(),
            ..Gauges::default()
        };
        for a in st.agents.values().filter(|a| a.online()) {
            g.agent_sockets += a.conns.len();
            if a.away {
                g.agents_away += 1;
            } else {
                g.agents_online += 1;
            }
        }
        g
    }
}
