//! Private notes through the hub: stored first, then sent to the sockets
//! of the agent serving the conversation (the writer's included: the echo
//! is its acknowledgement), never to a visitor's; replayed to an agent's
//! reconnecting socket beside the messages it missed.

use super::{encode, Conn, Hub};
use crate::protocol::{AgentInfo, ChatNote, ConversationId, ErrorCode, MessageId, ServerMsg};
use crate::server::storage::NewNote;

/// Most notes replayed per conversation on resume.
const NOTE_REPLAY_LIMIT: i64 = 10_000;

impl Hub {
    /// An agent's private note in a conversation they serve (text
    /// checked by the caller): stored, then sent to the serving agent's
    /// sockets. Refused with `forbidden` for a conversation they do not
    /// serve, `conversation_closed` once it is closed.
    pub async fn note(
        &self,
        agent: &AgentInfo,
        conn: &Conn,
        conversation: ConversationId,
        id: MessageId,
        text: String,
    ) {
        // Under the lifecycle lock: a transfer cannot move the
        // conversation between the check and the delivery.
        let _guard = self.decide().await;
        if !self.serves(agent.id, conversation) {
            conn.send(&ServerMsg::error(ErrorCode::Forbidden, Some(id)))
                .await;
            return;
        }
        let refusal = match self.store_note(agent, conversation, id.clone(), text).await {
            Ok(Some(note)) => return self.deliver_note(note),
            Ok(None) => ErrorCode::ConversationClosed,
            Err(()) => ErrorCode::Storage,
        };
        conn.send(&ServerMsg::error(refusal, Some(id))).await;
    }

    /// Stores a note by `agent` (`None`: the conversation is closed).
    pub(super) async fn store_note(
        &self,
        agent: &AgentInfo,
        conversation: ConversationId,
        id: MessageId,
        text: String,
    ) -> Result<Option<ChatNote>, ()> {
        let new = NewNote {
            id,
            agent: agent.id,
            author_name: agent.name.clone(),
            text,
        };
        self.storage()
            .add_note(conversation, new)
            .await
            .map_err(|e| tracing::error!(error = %e, "storing a note failed"))
    }

    /// Sends a stored note to every socket of the agent serving its
    /// conversation: the only place a note frame is ever sent live.
    pub(super) fn deliver_note(&self, note: ChatNote) {
        let st = self.state();
        let Some(agent) = st.convs.get(&note.conversation).and_then(|c| c.agent) else {
            return;
        };
        st.to_agent(agent, &encode(&ServerMsg::Note { note }));
    }

    /// Sends an agent's reconnecting socket the notes anchored at or after
    /// `after` (it holds every message up to there; a note anchored there
    /// may have been written after it left). Its browser drops the ones it
    /// holds.
    pub(super) async fn replay_notes(&self, conn: &Conn, conversation: ConversationId, after: i64) {
        match self
            .storage()
            .notes_between(conversation, after, i64::MAX, NOTE_REPLAY_LIMIT)
            .await
        {
            Ok(notes) => {
                for note in notes {
                    conn.send(&ServerMsg::Note { note }).await;
                }
            }
            Err(e) => tracing::error!(error = %e, "replaying notes failed"),
        }
    }
}
