//! Chat messages through the hub: queued for the writer, then, on the
//! writer's announcer and in commit order, delivered to every socket of the
//! conversation but the sender's, which gets the ack.

use super::{encode, new_token, Conn, Hub, REPLAY_LIMIT};
use crate::protocol::{
    AgentInfo, ChatMessage, ConversationId, ErrorCode, MessageId, Party, ServerMsg, SystemEvent,
};
use tokio::sync::oneshot;

use crate::server::storage::{Appended, NewMessage, StoreResult, VisitorId};

/// What became of a `send` handed to the hub.
pub enum Submitted {
    /// Queued for storage. Once its batch commits it is delivered to the
    /// conversation's other sockets and acknowledged to the sender (or the
    /// sender is told why not), in the order the messages were queued; the
    /// receiver resolves after that.
    Queued(oneshot::Receiver<()>),
    /// Refused before storage: the error for the sender, to be sent once
    /// every earlier send of theirs was answered.
    Refused(ServerMsg),
    /// The visitor has no open conversation: [`Hub::open_and_post`] opens
    /// one and stores the message (after the earlier sends were answered).
    NeedsConversation(VisitorId, NewMessage),
}

pub(super) fn storage_error(id: &MessageId) -> ServerMsg {
    ServerMsg::error(ErrorCode::Storage, Some(id.clone()))
}

impl Hub {
    /// Stores, then delivers to the other sockets, then acknowledges to the sender.
    pub(super) async fn post(&self, conversation: ConversationId, conn: &Conn, msg: NewMessage) {
        let _ = self.submit(conversation, conn, msg).await.await;
    }

    /// Hands a message to the writer. Once stored, it is delivered to every
    /// other socket of the conversation and acknowledged to `conn` (or `conn`
    /// is told why not) on the writer's announcer, in commit order; the
    /// returned receiver resolves after that.
    pub(super) async fn submit(
        &self,
        conversation: ConversationId,
        conn: &Conn,
        msg: NewMessage,
    ) -> oneshot::Receiver<()> {
        let (done, answered) = oneshot::channel();
        let hub = self.clone();
        let conn = conn.clone();
        // Kept for the ack (or the error): the message itself moves on.
        let id = msg.id.clone();
        let then = Box::new(move |stored: StoreResult<Appended>| {
            let reply = match stored {
                Ok(Appended::New(message)) => {
                    let seq = message.seq;
                    hub.deliver(message, Some(conn.id()));
                    ServerMsg::Ack {
                        id,
                        conversation,
                        seq,
                    }
                }
                Ok(Appended::Duplicate(message)) => ServerMsg::Ack {
                    id,
                    conversation,
                    seq: message.seq,
                },
                Ok(Appended::Closed) => ServerMsg::error(ErrorCode::ConversationClosed, Some(id)),
                Err(e) => {
                    tracing::error!(error = %e, "storing a message failed");
                    storage_error(&id)
                }
            };
            // Never waits: a sender that stopped reading is closed as too slow,
            // and resends what was not acknowledged when it comes back.
            conn.push(&encode(&reply));
            let _ = done.send(());
        });
        self.storage().submit(conversation, msg, then).await;
        answered
    }

    /// A visitor's message. The fast path: queued for storage at once when
    /// the visitor has an open conversation.
    pub async fn visitor_submit(
        &self,
        visitor: VisitorId,
        conn: &Conn,
        msg: NewMessage,
    ) -> Submitted {
        let open = self.state().by_visitor.get(&visitor).copied();
        match open {
            Some(c) => Submitted::Queued(self.submit(c, conn, msg).await),
            None => Submitted::NeedsConversation(visitor, msg),
        }
    }

    /// A visitor's message while they have no open conversation: one is
    /// opened (and waits in the queue when no agent is online: "leave a
    /// message") unless another of their sockets just did, the message is
    /// stored into it, then the queue is dispatched.
    pub async fn open_and_post(&self, visitor: VisitorId, conn: &Conn, msg: NewMessage) {
        let _guard = self.decide().await;
        let open = self.state().by_visitor.get(&visitor).copied();
        let conversation = match open {
            Some(c) => c,
            None => match self.open_conversation(visitor, conn).await {
                Some(c) => c,
                None => return,
            },
        };
        self.post(conversation, conn, msg).await;
        self.dispatch().await;
    }

    /// An agent's message (see [`Hub::visitor_submit`]).
    pub async fn agent_submit(
        &self,
        agent: &AgentInfo,
        conn: &Conn,
        conversation: ConversationId,
        msg: NewMessage,
    ) -> Submitted {
        if !self.serves_now(agent.id, conversation).await {
            return Submitted::Refused(ServerMsg::error(ErrorCode::Forbidden, Some(msg.id)));
        }
        Submitted::Queued(self.submit(conversation, conn, msg).await)
    }

    /// Stores and delivers a system event.
    pub(super) async fn post_system(&self, conversation: ConversationId, event: SystemEvent) {
        let new = NewMessage::system(MessageId(format!("sys-{}", &new_token()[..32])), event);
        let (done, delivered) = oneshot::channel();
        let hub = self.clone();
        let then = Box::new(move |stored: StoreResult<Appended>| {
            match stored {
                Ok(Appended::New(message)) => hub.deliver(message, None),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "storing a system message failed"),
            }
            let _ = done.send(());
        });
        self.storage().submit(conversation, new, then).await;
        let _ = delivered.await;
    }

    /// Sends a stored message to every socket of its conversation but the
    /// sender's (`except`), which gets an ack instead.
    pub(super) fn deliver(&self, message: ChatMessage, except: Option<u64>) {
        let id = message.conversation;
        let seq = message.seq;
        let (author, sent_at) = (message.author, message.sent_at);
        let frame = encode(&ServerMsg::Message { message });
        {
            let mut st = self.state();
            if let Some(c) = st.convs.get_mut(&id) {
                if !self.clustered() {
                    c.last_seq = c.last_seq.max(seq);
                }
                if let Some(wait) = c.first_wait.note(author, sent_at) {
                    crate::server::metrics::handles()
                        .first_response
                        .record(wait);
                }
            }
        }
        self.fan_out(id, seq, frame, except);
    }

    /// The agent read up to `seq`: remembered, every tab of theirs is
    /// told, and the visitor sees their messages up to it as seen.
    pub async fn read(&self, agent: &AgentInfo, conversation: ConversationId, seq: i64) {
        if !self.serves_now(agent.id, conversation).await {
            return;
        }
        if let Err(e) = self.storage().set_agent_read(conversation, seq).await {
            tracing::warn!(error = %e, "storing a read mark failed");
            return;
        }
        let mut st = self.state();
        let mut seen = None;
        if let Some(c) = st.convs.get_mut(&conversation) {
            let upto = seq.min(c.last_seq);
            if upto > c.agent_read_seq {
                c.agent_read_seq = upto;
                seen = Some((c.visitor, upto));
            }
        }
        st.to_agent(
            agent.id,
            &encode(&ServerMsg::ReadUpTo { conversation, seq }),
        );
        if let Some((visitor, seq)) = seen {
            let frame = ServerMsg::Seen {
                conversation,
                party: Party::Agent,
                seq,
            };
            st.to_visitor(visitor, &encode(&frame));
        }
    }

    /// The visitor read their open conversation up to `seq`: remembered
    /// (never backwards, never past its end), and both sides are told (the
    /// agent sees the replies as seen, the visitor's other tabs clear their
    /// unread count). Anything else is ignored.
    pub async fn visitor_read(&self, visitor: VisitorId, conversation: ConversationId, seq: i64) {
        let upto = {
            let st = self.state();
            if st.by_visitor.get(&visitor) != Some(&conversation) {
                return;
            }
            match st.convs.get(&conversation) {
                Some(c) if seq.min(c.last_seq) > c.visitor_read_seq => seq.min(c.last_seq),
                _ => return,
            }
        };
        if let Err(e) = self.storage().set_visitor_read(conversation, upto).await {
            tracing::warn!(error = %e, "storing a visitor's read mark failed");
            return;
        }
        let mut st = self.state();
        if let Some(c) = st.convs.get_mut(&conversation) {
            c.visitor_read_seq = c.visitor_read_seq.max(upto);
        }
        let frame = ServerMsg::Seen {
            conversation,
            party: Party::Visitor,
            seq: upto,
        };
        st.to_both(conversation, &encode(&frame));
    }

    /// Sends `conn` the stored messages with `after` < seq <= `upto`: those
    /// announced before the socket was registered (later ones reach it live).
    pub(super) async fn replay(
        &self,
        conn: &Conn,
        conversation: ConversationId,
        after: i64,
        upto: i64,
    ) {
        if upto <= after {
            return;
        }
        match self
            .storage()
            .messages_between(conversation, after, upto, REPLAY_LIMIT)
            .await
        {
            Ok(messages) => {
                for message in messages {
                    conn.send(&ServerMsg::Message { message }).await;
                }
            }
            Err(e) => tracing::error!(error = %e, "replaying messages failed"),
        }
    }
}
