//! The data the messages carry: ids, messages, conversations, people.

use serde::{Deserialize, Serialize};

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
///
/// Read through [`EventFields`] rather than serde's internally tagged
/// reader, which buffers the whole object first and, in the browser, cost a
/// second copy of every deserializer it reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", try_from = "EventFields")]
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
    /// An agent handed the conversation to another: "You are now chatting
    /// with <agent>".
    Transferred {
        /// The receiving agent's display name.
        agent: String,
    },
    /// The agent handed the conversation back to the queue; it waits for
    /// another agent.
    Returned {
        /// The agent who handed it back.
        agent: String,
    },
    /// An event this build does not know (sent by a newer server).
    #[serde(other)]
    Unknown,
}

/// A [`SystemEvent`]'s JSON, as it is read: `{"kind": .., "agent": ..}`.
#[derive(Deserialize)]
pub struct EventFields {
    kind: String,
    #[serde(default)]
    agent: Option<String>,
}

impl TryFrom<EventFields> for SystemEvent {
    type Error = &'static str;

    fn try_from(fields: EventFields) -> Result<Self, Self::Error> {
        let agent = || fields.agent.clone().ok_or("missing field `agent`");
        Ok(match fields.kind.as_str() {
            "assigned" => SystemEvent::Assigned { agent: agent()? },
            "closed" => SystemEvent::Closed { agent: agent()? },
            "requeued" => SystemEvent::Requeued { agent: agent()? },
            "transferred" => SystemEvent::Transferred { agent: agent()? },
            "returned" => SystemEvent::Returned { agent: agent()? },
            _ => SystemEvent::Unknown,
        })
    }
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
    /// The visitor's label, e.g. "Visitor 12" (English; UIs that know
    /// [`ConversationSummary::visitor_number`] word it themselves).
    pub visitor_label: String,
    /// The visitor's number, for UIs to label in their own language
    /// (0, and absent, from servers that predate it).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub visitor_number: i64,
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
    /// The last seq the agent has read (the visitor's messages up to it
    /// show as "Seen").
    #[serde(default)]
    pub agent_read_seq: i64,
    /// The last seq the visitor has read (the agent's replies up to it show
    /// as seen; the widget counts unread replies after it).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub visitor_read_seq: i64,
    /// 1-based place in the queue while queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<u32>,
    /// The visitor's name, signed by the website ([`Self::verified`]) or
    /// told by the visitor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_name: Option<String>,
    /// The visitor's email, signed or told, as the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_email: Option<String>,
    /// The visitor proved who they are with a signed identity: the name and
    /// email come from the website, not from the visitor.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub verified: bool,
    /// Closed and rated by the visitor: the score (1–5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
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
    /// The console language the agent chose (`zh-CN`, `en`), when the
    /// server tells them (sign-in, `console_session`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// The agent chose "away": they keep serving their conversations but
    /// get no new ones (absent: online).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub away: bool,
    /// The agent chose to hear a sound and get a browser notification for
    /// new conversations and messages (served with `lang`; absent: off).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub notify: bool,
    /// Seconds after which a console hidden that long (another browser
    /// tab in front, the window minimised) sets its agent away by itself,
    /// and back online when shown again (`kefu serve --away-after-idle`;
    /// served with `lang`; absent: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub away_after_idle_secs: Option<u32>,
    /// In admins' agent list (`list_agents`): whether the agent has a
    /// console open now; absent elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<bool>,
    /// In admins' agent list: how many open conversations the agent serves
    /// now; absent elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<u32>,
}

/// For `skip_serializing_if`.
fn is_zero(n: &i64) -> bool {
    *n == 0
}
