//! The one wire format between browsers and the server.
//!
//! Both the hydrated UI and the axum WebSocket handler use these types, so a
//! frame can never be built by hand on either side. JSON text frames,
//! `{"type": "...", "data": {...}}`. docs/PROTOCOL.md documents every variant;
//! the golden tests at the bottom pin their exact JSON.
//!
//! Compatibility rule: only add variants and `#[serde(default)]` fields. Never
//! rename or remove a tag; bump [`PROTOCOL_VERSION`] instead.

use serde::{Deserialize, Serialize};

/// Version a client states in [`ClientMsg::Hello`]; a mismatch closes the socket with code 4000.
pub const PROTOCOL_VERSION: u16 = 1;
/// Longest message text, in Unicode scalar values.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Largest WebSocket frame the server reads; larger ones are refused.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Longest client message id (a UUID is 36).
pub const MAX_MESSAGE_ID_LEN: usize = 64;

/// A conversation between one visitor and (at most) one agent at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
#[serde(transparent)]
pub struct ConversationId(pub i64);

/// An agent account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
#[serde(transparent)]
pub struct AgentId(pub i64);

/// A message id chosen by the sending client (a UUID), unique per conversation.
/// Resending the same id never stores or delivers the message twice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
#[serde(transparent)]
pub struct MessageId(pub String);

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    /// The website visitor.
    Visitor,
    /// A support agent.
    Agent,
    /// The server itself (assignments, closing).
    System,
}

impl Author {
    /// The name used on the wire, in storage and in `data-author`.
    pub fn as_str(self) -> &'static str {
        match self {
            Author::Visitor => "visitor",
            Author::Agent => "agent",
            Author::System => "system",
        }
    }

    /// Parses [`Author::as_str`] back.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "visitor" => Some(Author::Visitor),
            "agent" => Some(Author::Agent),
            "system" => Some(Author::System),
            _ => None,
        }
    }
}

/// A stored event in a conversation, written by the server. The UI turns it
/// into words in the reader's language, so no English is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SystemEvent {
    /// The conversation was given to an agent: "<agent> will serve you".
    Assigned {
        /// The agent's display name.
        agent: String,
    },
    /// The agent closed the conversation.
    Closed {
        /// The agent's display name.
        agent: String,
    },
    /// The agent stayed offline past the grace period; the conversation is
    /// waiting for another agent.
    Requeued {
        /// The agent who went away.
        agent: String,
    },
    /// An event this build does not know (sent by a newer server).
    #[serde(other)]
    Unknown,
}

/// One stored message, as every client sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// The sender's id for it (the server's own for system messages).
    pub id: MessageId,
    /// Where it belongs.
    pub conversation: ConversationId,
    /// Position in the conversation: 1, 2, 3, … without gaps, given by the server.
    pub seq: i64,
    /// Who wrote it.
    pub author: Author,
    /// The agent's display name for agent messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    /// The text, always shown as text; empty for system messages.
    #[serde(default)]
    pub text: String,
    /// What happened, for system messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<SystemEvent>,
    /// When the server stored it, in milliseconds since the Unix epoch.
    pub sent_at: i64,
}

/// Where a conversation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// Waiting for an agent.
    Queued,
    /// An agent serves it.
    Assigned,
    /// Ended by the agent.
    Closed,
    /// A status this build does not know.
    #[serde(other)]
    Unknown,
}

impl ConversationStatus {
    /// The name used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Queued => "queued",
            ConversationStatus::Assigned => "assigned",
            ConversationStatus::Closed => "closed",
            ConversationStatus::Unknown => "unknown",
        }
    }

    /// Parses [`ConversationStatus::as_str`] back.
    pub fn parse(s: &str) -> Self {
        match s {
            "queued" => ConversationStatus::Queued,
            "assigned" => ConversationStatus::Assigned,
            "closed" => ConversationStatus::Closed,
            _ => ConversationStatus::Unknown,
        }
    }
}

/// What a client needs to draw a conversation's header or tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    /// The conversation.
    pub id: ConversationId,
    /// Where it stands.
    pub status: ConversationStatus,
    /// The visitor's label, e.g. "Visitor 12".
    pub visitor_label: String,
    /// The serving agent's display name, while assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    /// Whether the visitor has a connection open.
    #[serde(default)]
    pub visitor_online: bool,
    /// Whether the serving agent has a connection open.
    #[serde(default)]
    pub agent_online: bool,
    /// The newest message's seq (0: none yet).
    #[serde(default)]
    pub last_seq: i64,
    /// The last seq the agent has read (agents only; 0 for visitors).
    #[serde(default)]
    pub agent_read_seq: i64,
    /// 1-based place in the queue while queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<u32>,
}

/// "I hold everything up to `after` in this conversation."
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    /// The conversation.
    pub conversation: ConversationId,
    /// The highest seq the client holds; the server replays what follows.
    pub after: i64,
}

/// One side of a conversation, for presence notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The visitor.
    Visitor,
    /// The serving agent.
    Agent,
}

/// The visitor's identity, sent in [`ServerMsg::Welcome`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorInfo {
    /// E.g. "Visitor 12".
    pub label: String,
    /// A newly issued secret token, to keep in localStorage. Present only when
    /// the server issued a new one (no token, or an unknown one, in `Hello`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// The signed-in agent, sent in [`ServerMsg::Welcome`] and by server functions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInfo {
    /// The account.
    pub id: AgentId,
    /// Display and sign-in name.
    pub name: String,
    /// Admins manage agents.
    pub is_admin: bool,
    /// Concurrent conversations.
    pub capacity: u32,
    /// Disabled agents cannot sign in.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

/// Why the server refused a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, or not a known message.
    BadFrame,
    /// Over [`MAX_FRAME_BYTES`].
    FrameTooLarge,
    /// The first frame must be `hello`.
    HelloFirst,
    /// Message text is blank.
    EmptyText,
    /// Message text is over [`MAX_TEXT_CHARS`].
    TextTooLong,
    /// The message id is empty or over [`MAX_MESSAGE_ID_LEN`].
    BadMessageId,
    /// Not yours to read or write.
    Forbidden,
    /// The conversation is closed.
    ConversationClosed,
    /// This action is not available to this side of the chat.
    WrongRole,
    /// The message could not be stored; it was not delivered. Retry it.
    Storage,
    /// Over a rate limit (messages, or new conversations): nothing was done. Retry later.
    SlowDown,
    /// A code this build does not know.
    #[serde(other)]
    Unknown,
}

/// Browser → server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ClientMsg {
    /// Must be the first frame.
    Hello {
        /// [`PROTOCOL_VERSION`] of the client.
        version: u16,
        /// Visitors: the token from an earlier `welcome` (ignored on the agent socket).
        #[serde(default)]
        token: Option<String>,
        /// Conversations the client already holds, to replay what it missed.
        #[serde(default)]
        resume: Vec<Resume>,
    },
    /// Visitor opened the chat: open a conversation if none is open and an agent is online.
    Start,
    /// Post a message. Visitors may leave `conversation` out: theirs is implied.
    Send {
        /// Client-chosen id (UUID).
        id: MessageId,
        /// Agents: which conversation.
        #[serde(default)]
        conversation: Option<ConversationId>,
        /// The text.
        text: String,
        /// This id may have been sent before (a resend after a reconnect or
        /// a missing ack): the server looks it up and, if it is stored,
        /// acknowledges it again instead of storing it twice. Only resends
        /// are looked up, so a first send leaves it out.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        resend: bool,
    },
    /// Agent has read a conversation up to `seq` (clears unread on all its tabs).
    Read {
        /// The conversation.
        conversation: ConversationId,
        /// Highest seq read.
        seq: i64,
    },
    /// Agent ends a conversation.
    Close {
        /// The conversation.
        conversation: ConversationId,
    },
    /// Keep-alive; answered with `pong`.
    Ping,
}

/// Server → browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ServerMsg {
    /// Answer to `hello`.
    Welcome {
        /// On the visitor socket.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        visitor: Option<VisitorInfo>,
        /// On the agent socket.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<AgentInfo>,
        /// Whether any agent is online now.
        agents_online: bool,
        /// Agents: every conversation they serve now. Tabs for any other
        /// (requeued while the agent was away) are stale and should go.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conversations: Option<Vec<ConversationId>>,
    },
    /// Whether any agent is online changed (visitors).
    Availability {
        /// Whether any agent is online now.
        agents_online: bool,
    },
    /// A conversation appeared or changed (assigned, queued, closed, presence, queue position).
    Conversation {
        /// Its new state.
        conversation: ConversationSummary,
    },
    /// A stored message (to every socket of the conversation but the one
    /// that sent it, which gets [`ServerMsg::Ack`]).
    Message {
        /// The message.
        message: ChatMessage,
    },
    /// The sender's message with this id is stored as `seq` (to the sending
    /// socket only, in place of the message itself).
    Ack {
        /// The client's id.
        id: MessageId,
        /// Where it was stored.
        conversation: ConversationId,
        /// Its place.
        seq: i64,
    },
    /// The other side came or went (not stored).
    Presence {
        /// The conversation.
        conversation: ConversationId,
        /// Who.
        party: Party,
        /// Whether they have a connection open now.
        online: bool,
    },
    /// The agent read the conversation up to `seq` (on another tab, perhaps).
    ReadUpTo {
        /// The conversation.
        conversation: ConversationId,
        /// Highest seq read.
        seq: i64,
    },
    /// A frame was refused. The connection stays open.
    Error {
        /// Why.
        code: ErrorCode,
        /// For people.
        message: String,
        /// The message id refused, if it was a `send`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<MessageId>,
    },
    /// Answer to `ping`.
    Pong,
    /// A message this build does not know (sent by a newer server).
    #[serde(other)]
    Unknown,
}

impl ServerMsg {
    /// An error frame: `code` for programs, `message` for people, and the
    /// id of the message it concerns, if any.
    pub fn error(code: ErrorCode, message: &str, id: Option<MessageId>) -> Self {
        ServerMsg::Error {
            code,
            message: message.to_owned(),
            id,
        }
    }
}

/// Why a message text is refused before it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextProblem {
    /// Nothing but white space.
    Blank,
    /// Over [`MAX_TEXT_CHARS`].
    TooLong,
}

/// Checks a message text, on both sides: blank and over-long texts are refused.
pub fn check_text(text: &str) -> Result<(), TextProblem> {
    if text.trim().is_empty() {
        Err(TextProblem::Blank)
    } else if text.chars().count() > MAX_TEXT_CHARS {
        Err(TextProblem::TooLong)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pin<T: Serialize + for<'a> Deserialize<'a> + PartialEq + std::fmt::Debug>(
        value: T,
        expected: serde_json::Value,
    ) {
        assert_eq!(serde_json::to_value(&value).expect("serializes"), expected);
        let back: T = serde_json::from_value(expected).expect("deserializes");
        assert_eq!(back, value);
    }

    #[test]
    fn client_messages_have_pinned_json() {
        pin(
            ClientMsg::Hello {
                version: 1,
                token: Some("t".into()),
                resume: vec![Resume {
                    conversation: ConversationId(3),
                    after: 7,
                }],
            },
            json!({"type":"hello","data":{"version":1,"token":"t","resume":[{"conversation":3,"after":7}]}}),
        );
        pin(ClientMsg::Start, json!({"type":"start"}));
        pin(
            ClientMsg::Send {
                id: MessageId("a".into()),
                conversation: Some(ConversationId(3)),
                text: "hi".into(),
                resend: false,
            },
            json!({"type":"send","data":{"id":"a","conversation":3,"text":"hi"}}),
        );
        pin(
            ClientMsg::Send {
                id: MessageId("a".into()),
                conversation: Some(ConversationId(3)),
                text: "hi".into(),
                resend: true,
            },
            json!({"type":"send","data":{"id":"a","conversation":3,"text":"hi","resend":true}}),
        );
        pin(
            ClientMsg::Read {
                conversation: ConversationId(3),
                seq: 4,
            },
            json!({"type":"read","data":{"conversation":3,"seq":4}}),
        );
        pin(
            ClientMsg::Close {
                conversation: ConversationId(3),
            },
            json!({"type":"close","data":{"conversation":3}}),
        );
        pin(ClientMsg::Ping, json!({"type":"ping"}));
    }

    #[test]
    fn hello_fields_are_optional() {
        let msg: ClientMsg =
            serde_json::from_str(r#"{"type":"hello","data":{"version":1}}"#).expect("parses");
        assert_eq!(
            msg,
            ClientMsg::Hello {
                version: 1,
                token: None,
                resume: vec![]
            }
        );
    }

    #[test]
    fn server_messages_have_pinned_json() {
        pin(
            ServerMsg::Welcome {
                visitor: Some(VisitorInfo {
                    label: "Visitor 1".into(),
                    token: Some("tok".into()),
                }),
                agent: None,
                agents_online: true,
                conversations: None,
            },
            json!({"type":"welcome","data":{"visitor":{"label":"Visitor 1","token":"tok"},"agents_online":true}}),
        );
        pin(
            ServerMsg::Message {
                message: ChatMessage {
                    id: MessageId("m".into()),
                    conversation: ConversationId(2),
                    seq: 1,
                    author: Author::System,
                    author_name: None,
                    text: String::new(),
                    event: Some(SystemEvent::Assigned {
                        agent: "Ann".into(),
                    }),
                    sent_at: 5,
                },
            },
            json!({"type":"message","data":{"message":{"id":"m","conversation":2,"seq":1,"author":"system","text":"","event":{"kind":"assigned","agent":"Ann"},"sent_at":5}}}),
        );
        pin(
            ServerMsg::Conversation {
                conversation: ConversationSummary {
                    id: ConversationId(2),
                    status: ConversationStatus::Queued,
                    visitor_label: "Visitor 1".into(),
                    agent_name: None,
                    visitor_online: true,
                    agent_online: false,
                    last_seq: 0,
                    agent_read_seq: 0,
                    queue_position: Some(2),
                },
            },
            json!({"type":"conversation","data":{"conversation":{"id":2,"status":"queued","visitor_label":"Visitor 1","visitor_online":true,"agent_online":false,"last_seq":0,"agent_read_seq":0,"queue_position":2}}}),
        );
        pin(
            ServerMsg::Ack {
                id: MessageId("a".into()),
                conversation: ConversationId(2),
                seq: 9,
            },
            json!({"type":"ack","data":{"id":"a","conversation":2,"seq":9}}),
        );
        pin(
            ServerMsg::Presence {
                conversation: ConversationId(2),
                party: Party::Visitor,
                online: false,
            },
            json!({"type":"presence","data":{"conversation":2,"party":"visitor","online":false}}),
        );
        pin(
            ServerMsg::Error {
                code: ErrorCode::TextTooLong,
                message: "too long".into(),
                id: Some(MessageId("a".into())),
            },
            json!({"type":"error","data":{"code":"text_too_long","message":"too long","id":"a"}}),
        );
        pin(
            ServerMsg::Availability {
                agents_online: false,
            },
            json!({"type":"availability","data":{"agents_online":false}}),
        );
        pin(
            ServerMsg::ReadUpTo {
                conversation: ConversationId(2),
                seq: 3,
            },
            json!({"type":"read_up_to","data":{"conversation":2,"seq":3}}),
        );
        pin(ServerMsg::Pong, json!({"type":"pong"}));
    }

    #[test]
    fn agent_welcome_lists_conversations() {
        pin(
            ServerMsg::Welcome {
                visitor: None,
                agent: Some(AgentInfo {
                    id: AgentId(1),
                    name: "Ann".into(),
                    is_admin: false,
                    capacity: 5,
                    disabled: false,
                }),
                agents_online: true,
                conversations: Some(vec![ConversationId(4)]),
            },
            json!({"type":"welcome","data":{"agent":{"id":1,"name":"Ann","is_admin":false,"capacity":5},"agents_online":true,"conversations":[4]}}),
        );
    }

    #[test]
    fn unknown_server_messages_are_skippable() {
        let msg: ServerMsg = serde_json::from_str(r#"{"type":"from_the_future"}"#).expect("parses");
        assert_eq!(msg, ServerMsg::Unknown);
    }

    #[test]
    fn text_rules() {
        assert_eq!(check_text("  \n "), Err(TextProblem::Blank));
        assert_eq!(check_text("hi"), Ok(()));
        assert_eq!(check_text(&"é".repeat(MAX_TEXT_CHARS)), Ok(()));
        assert_eq!(
            check_text(&"é".repeat(MAX_TEXT_CHARS + 1)),
            Err(TextProblem::TooLong)
        );
    }
}
