//! Transfers: an agent hands a conversation they serve (an admin: any
//! open one) to another agent, or back to the queue, with an optional
//! private note for whoever takes it. Whether a transfer may happen is
//! decided in one place, [`State::transfer_check`], from the hub's live
//! tables and the receiver's account (issue 15 may move it into the
//! database).

use std::time::Instant;

use super::state::State;
use super::{encode, new_token, Conn, Hub};
use crate::protocol::{
    AgentId, AgentInfo, ConversationId, ConversationSummary, ErrorCode, MessageId, ServerMsg,
    SystemEvent,
};
use crate::server::storage::AgentRow;

/// A transfer that may happen: from whom (none: it was queued) to whom
/// (none: the queue).
pub(super) struct Move {
    from: Option<AgentId>,
    to: Option<(AgentId, String)>,
}

impl State {
    /// Whether `by` may move conversation `id` to `to` (none: the queue),
    /// whose account is `account`: the refusal's code if not. The
    /// conversation must be open and served by `by` (admins: any open
    /// one); the receiver must exist, be enabled, have a console open, be
    /// online (not away) and have free capacity.
    pub(super) fn transfer_check(
        &self,
        by: &AgentInfo,
        id: ConversationId,
        to: Option<AgentId>,
        account: Option<&AgentRow>,
    ) -> Result<Move, ErrorCode> {
        let conv = self.convs.get(&id).ok_or(ErrorCode::Forbidden)?;
        if conv.agent != Some(by.id) && !by.is_admin {
            return Err(ErrorCode::Forbidden);
        }
        let from = conv.agent;
        let Some(target) = to else {
            // Already waiting in the queue.
            return match from {
                Some(_) => Ok(Move { from, to: None }),
                None => Err(ErrorCode::Forbidden),
            };
        };
        if from == Some(target) {
            return Err(ErrorCode::Forbidden);
        }
        let account = account.ok_or(ErrorCode::AgentUnknown)?;
        if account.disabled {
            return Err(ErrorCode::AgentDisabled);
        }
        let live = self
            .agents
            .get(&target)
            .filter(|a| a.online())
            .ok_or(ErrorCode::AgentOffline)?;
        if live.away {
            return Err(ErrorCode::AgentAway);
        }
        if live.free() == 0 {
            return Err(ErrorCode::AgentAtCapacity);
        }
        Ok(Move {
            from,
            to: Some((target, live.name.clone())),
        })
    }
}

impl Hub {
    /// Every open conversation, queued first (in queue order), then the
    /// assigned ones by id: what admins may reassign.
    pub fn open_summaries(&self) -> Vec<ConversationSummary> {
        let st = self.state();
        let mut assigned: Vec<ConversationId> = st
            .convs
            .iter()
            .filter(|(_, c)| c.agent.is_some())
            .map(|(id, _)| *id)
            .collect();
        assigned.sort();
        st.queue
            .iter()
            .chain(&assigned)
            .filter_map(|id| st.summary(*id))
            .collect()
    }

    /// Moves conversation `id` to agent `to`, or back to the queue (`to`
    /// none), if [`State::transfer_check`] allows it; `note` (checked by
    /// the caller) is stored first as a private note by `by`. The receiver
    /// gets the conversation (and so its history, the note with it); the
    /// visitor is told who serves them now; the giver's consoles drop it.
    /// A refusal changes nothing and is sent to `conn`.
    pub async fn transfer(
        &self,
        by: &AgentInfo,
        id: ConversationId,
        to: Option<AgentId>,
        note: Option<String>,
        conn: &Conn,
    ) {
        let _guard = self.decide().await;
        let refuse = |code| ServerMsg::error(code, None);
        let account = match to {
            Some(target) => match self.storage().agent_by_id(target).await {
                Ok(row) => row,
                Err(e) => {
                    tracing::error!(error = %e, "reading a transfer's receiver failed");
                    return conn.send(&refuse(ErrorCode::Storage)).await;
                }
            },
            None => None,
        };
        let checked = self.state().transfer_check(by, id, to, account.as_ref());
        let plan = match checked {
            Ok(plan) => plan,
            Err(code) => return conn.send(&refuse(code)).await,
        };
        // The note first: if it cannot be stored, nothing moves.
        let note = match note {
            Some(text) => {
                let note_id = MessageId(format!("note-{}", &new_token()[..32]));
                match self.store_note(by, id, note_id, text).await {
                    Ok(Some(note)) => Some(note),
                    Ok(None) => return conn.send(&refuse(ErrorCode::ConversationClosed)).await,
                    Err(()) => return conn.send(&refuse(ErrorCode::Storage)).await,
                }
            }
            None => None,
        };
        let stored = match &plan.to {
            Some((target, _)) => self.storage().assign(id, *target).await,
            None => self.storage().requeue(id).await,
        };
        if let Err(e) = stored {
            tracing::error!(error = %e, "storing a transfer failed");
            return conn.send(&refuse(ErrorCode::Storage)).await;
        }
        self.move_conversation(id, &plan);
        let event = match &plan.to {
            Some((_, name)) => SystemEvent::Transferred {
                agent: name.clone(),
            },
            None => SystemEvent::Returned {
                agent: by.name.clone(),
            },
        };
        self.post_system(id, event).await;
        if let Some(note) = note {
            self.deliver_note(note);
        }
        if plan.to.is_none() {
            self.dispatch().await;
        }
    }

    /// The routing tables after a transfer: the giver's load drops, the
    /// receiver's rises (or the conversation waits at the head of the
    /// queue, for anyone but the one who handed it back); both sides and
    /// the giver's consoles get its new summary.
    fn move_conversation(&self, id: ConversationId, plan: &Move) {
        let mut st = self.state();
        if let Some(from) = plan.from.and_then(|a| st.agents.get_mut(&a)) {
            from.convs.remove(&id);
        }
        let receiver = plan.to.as_ref().map(|(a, _)| *a);
        if let Some(c) = st.convs.get_mut(&id) {
            c.agent = receiver;
        }
        match receiver {
            Some(agent) => {
                st.queue.retain(|c| *c != id);
                st.returned.remove(&id);
                if let Some(a) = st.agents.get_mut(&agent) {
                    a.convs.insert(id);
                    a.idle_since = Instant::now();
                }
            }
            None => {
                st.queue.push_front(id);
                if let Some(from) = plan.from {
                    st.returned.insert(id, from);
                }
            }
        }
        st.announce(id);
        if let (Some(from), Some(summary)) = (plan.from, st.summary(id)) {
            st.to_agent(
                from,
                &encode(&ServerMsg::Conversation {
                    conversation: summary,
                }),
            );
        }
    }
}
