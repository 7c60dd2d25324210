//! Typing frames: passed to the other side of the conversation only, at
//! most 2 a second per side on average, and never stored (nothing here
//! touches storage or waits for it).

use std::time::Instant;

use super::{encode, Hub};
use crate::protocol::{AgentId, ConversationId, Party, ServerMsg};
use crate::server::storage::VisitorId;

/// Typing frames one side may have forwarded at once.
const BURST: f64 = 2.0;
/// Typing frames one side may have forwarded per second, on average.
const PER_SECOND: f64 = 2.0;

/// The pace of one side's typing frames in one conversation: a token
/// bucket for "typing" frames, and whether the other side was last told
/// "typing" (a "stopped" passes once after it, never on its own).
#[derive(Debug, Default)]
pub(super) struct SidePace {
    tokens: f64,
    at: Option<Instant>,
    shown: bool,
}

impl SidePace {
    /// Whether a frame (`active`: typing, else stopped) is forwarded now.
    fn allow(&mut self, active: bool, now: Instant) -> bool {
        if !active {
            return std::mem::take(&mut self.shown);
        }
        self.tokens = match self.at {
            Some(at) => {
                (self.tokens + now.duration_since(at).as_secs_f64() * PER_SECOND).min(BURST)
            }
            None => BURST,
        };
        self.at = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.shown = true;
            true
        } else {
            false
        }
    }
}

/// Both sides' typing pace in one conversation.
#[derive(Debug, Default)]
pub(super) struct TypingPace {
    visitor: SidePace,
    agent: SidePace,
}

impl Hub {
    /// The visitor is typing in their open conversation (or stopped):
    /// the serving agent's sockets are told, with the draft if one is
    /// given (the edge leaves it out when previews are off). Nobody is
    /// told while the conversation waits in the queue.
    pub fn visitor_typing(&self, visitor: VisitorId, active: bool, draft: Option<String>) {
        let mut st = self.state();
        let Some(&conversation) = st.by_visitor.get(&visitor) else {
            return;
        };
        let Some(conv) = st.convs.get_mut(&conversation) else {
            return;
        };
        let Some(agent) = conv.agent else {
            return;
        };
        if !conv.typing.visitor.allow(active, Instant::now()) {
            return;
        }
        let frame = ServerMsg::Typing {
            conversation,
            party: Party::Visitor,
            active,
            draft: draft.filter(|_| active),
        };
        st.to_agent(agent, &encode(&frame));
    }

    /// The agent is typing in `conversation` (or stopped): if they serve
    /// it, the visitor's sockets are told (never any draft).
    pub fn agent_typing(&self, agent: AgentId, conversation: ConversationId, active: bool) {
        let mut st = self.state();
        let Some(conv) = st.convs.get_mut(&conversation) else {
            return;
        };
        if conv.agent != Some(agent) || !conv.typing.agent.allow(active, Instant::now()) {
            return;
        }
        let visitor = conv.visitor;
        let frame = ServerMsg::Typing {
            conversation,
            party: Party::Agent,
            active,
            draft: None,
        };
        st.to_visitor(visitor, &encode(&frame));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn two_at_once_then_two_a_second_and_a_stop_only_after_typing() {
        let mut pace = SidePace::default();
        let t0 = Instant::now();
        assert!(!pace.allow(false, t0), "a stop with nothing shown");
        assert!(pace.allow(true, t0));
        assert!(pace.allow(true, t0));
        assert!(!pace.allow(true, t0), "the burst is spent");
        assert!(pace.allow(false, t0), "a stop after typing passes");
        assert!(!pace.allow(false, t0), "once");
        assert!(!pace.allow(true, t0 + Duration::from_millis(400)));
        assert!(pace.allow(true, t0 + Duration::from_millis(900)));
        let flood = (0..100)
            .filter(|i| pace.allow(true, t0 + Duration::from_millis(1000 + i * 10)))
            .count();
        assert!(flood <= 3, "a second of flood forwards {flood}");
    }
}
