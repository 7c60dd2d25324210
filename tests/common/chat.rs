//! Chats the integration tests set up again and again: a visitor whose
//! conversation got assigned to an online agent, and the frames that concern
//! one conversation.

use kefu::protocol::{
    Author, ChatMessage, ClientMsg, ConversationId, ConversationStatus, ServerMsg, SystemEvent,
};

use super::client::{Client, VisitorWelcome};
use super::Server;

/// Whether `message` is the system message assigning its conversation to `agent`.
pub fn is_assigned_to(message: &ChatMessage, agent: &str) -> bool {
    message.author == Author::System
        && message.event
            == Some(SystemEvent::Assigned {
                agent: agent.to_owned(),
            })
}

/// Whether `frame` concerns `conversation`.
pub fn about(frame: &ServerMsg, conversation: ConversationId) -> bool {
    match frame {
        ServerMsg::Message { message } => message.conversation == conversation,
        ServerMsg::Conversation { conversation: c } => c.id == conversation,
        ServerMsg::Ack {
            conversation: c, ..
        }
        | ServerMsg::Presence {
            conversation: c, ..
        }
        | ServerMsg::ReadUpTo {
            conversation: c, ..
        }
        | ServerMsg::Typing {
            conversation: c, ..
        }
        | ServerMsg::Seen {
            conversation: c, ..
        } => *c == conversation,
        _ => false,
    }
}

/// The chat messages among `frames`, in order.
pub fn messages(frames: &[ServerMsg]) -> impl Iterator<Item = &ChatMessage> {
    frames.iter().filter_map(|m| match m {
        ServerMsg::Message { message } => Some(message),
        _ => None,
    })
}

/// The seqs of the copies of message `id` among `frames`, in order.
pub fn seqs_of(frames: &[ServerMsg], id: &str) -> Vec<i64> {
    messages(frames)
        .filter(|m| m.id.0 == id)
        .map(|m| m.seq)
        .collect()
}

/// A new visitor's chat, assigned to an online agent; both sides have seen
/// the assignment and its system message.
pub struct AssignedChat {
    /// The visitor's socket.
    pub visitor: Client,
    /// The visitor's welcome.
    pub welcome: VisitorWelcome,
    /// The token the visitor was issued.
    pub token: String,
    /// The conversation.
    pub conversation: ConversationId,
    /// The assignment message as the visitor saw it.
    pub seen_by_visitor: ChatMessage,
    /// The assignment message as the agent saw it.
    pub seen_by_agent: ChatMessage,
}

impl Client {
    /// Starts a chat as a visitor and waits for it to be assigned to
    /// `agent_name`: the conversation and the assignment message.
    pub async fn start_assigned(&mut self, agent_name: &str) -> (ConversationId, ChatMessage) {
        self.send(&ClientMsg::Start).await;
        let conversation = self
            .expect_conversation("the assigned conversation", |c| {
                c.status == ConversationStatus::Assigned
            })
            .await
            .id;
        let assigned = self
            .expect_message("the assigned system message", |m| {
                m.conversation == conversation && is_assigned_to(m, agent_name)
            })
            .await;
        (conversation, assigned)
    }
}

impl Server {
    /// A new visitor starts a chat, which gets assigned to `agent` (online
    /// as `agent_name`); waits until both sides have seen the assignment.
    pub async fn assigned_chat(&self, agent: &mut Client, agent_name: &str) -> AssignedChat {
        let (mut visitor, welcome) = self.visitor(None, vec![]).await;
        let token = welcome
            .info
            .token
            .clone()
            .expect("a new visitor gets a token");
        let (conversation, seen_by_visitor) = visitor.start_assigned(agent_name).await;
        agent
            .expect_conversation("the new conversation", |c| {
                c.id == conversation && c.status == ConversationStatus::Assigned
            })
            .await;
        let seen_by_agent = agent
            .expect_message("the assigned system message", |m| {
                m.conversation == conversation && is_assigned_to(m, agent_name)
            })
            .await;
        AssignedChat {
            visitor,
            welcome,
            token,
            conversation,
            seen_by_visitor,
            seen_by_agent,
        }
    }

    /// A new agent `name` serving up to `capacity` chats, signed in, with
    /// one socket open: the `Cookie` header value and the socket.
    pub async fn online_agent(&self, name: &str, capacity: u32) -> (String, Client) {
        let cookie = self.agent_cookie(name, capacity).await;
        let (agent, _) = self.agent(&cookie, vec![]).await;
        (cookie, agent)
    }

    /// [`Server::online_agent`], then [`Server::assigned_chat`] with them:
    /// the agent's cookie, their socket, and the chat.
    pub async fn agent_with_chat(
        &self,
        name: &str,
        capacity: u32,
    ) -> (String, Client, AssignedChat) {
        let (cookie, mut agent) = self.online_agent(name, capacity).await;
        let chat = self.assigned_chat(&mut agent, name).await;
        (cookie, agent, chat)
    }
}
