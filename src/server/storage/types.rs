//! The shapes that cross the storage interface: rows as stored, and the one
//! message type that travels from the socket to the row.

use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::FromRow;

use super::StoreResult;
use crate::protocol::{
    AgentId, AgentInfo, Author, ChatMessage, ConversationId, ConversationStatus, MessageId,
    SystemEvent,
};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A visitor's row id (never sent to browsers).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    sqlx::Type,
    serde::Serialize,
    serde::Deserialize,
)]
#[sqlx(transparent)]
#[serde(transparent)]
pub struct VisitorId(pub i64);

impl VisitorId {
    /// The label agents see, e.g. "Visitor 12".
    pub fn label(self) -> String {
        format!("Visitor {}", self.0)
    }
}

/// An agent account as stored.
#[derive(Debug, Clone, FromRow)]
pub struct AgentRow {
    /// Row id.
    pub id: AgentId,
    /// Unique, case-insensitive.
    pub name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Admins manage agents.
    pub is_admin: bool,
    /// Concurrent conversations.
    pub capacity: i64,
    /// Disabled agents cannot sign in.
    pub disabled: bool,
    /// Chose to be away: gets no new conversations.
    pub away: bool,
}

impl AgentRow {
    /// What the browser may know of this agent.
    pub fn info(&self) -> AgentInfo {
        AgentInfo {
            id: self.id,
            name: self.name.clone(),
            is_admin: self.is_admin,
            capacity: self.capacity.max(0) as u32,
            disabled: self.disabled,
            lang: None,
            away: self.away,
            notify: false,
            away_after_idle_secs: None,
            online: None,
            load: None,
        }
    }
}

/// A conversation as stored.
#[derive(Debug, Clone, FromRow)]
pub struct ConversationRow {
    /// Row id.
    pub id: ConversationId,
    /// Whose.
    pub visitor_id: VisitorId,
    /// Serving agent while assigned.
    pub agent_id: Option<AgentId>,
    /// The serving agent's name while assigned.
    pub agent_name: Option<String>,
    /// queued | assigned | closed.
    pub status: String,
    /// Newest seq.
    pub last_seq: i64,
    /// Agent has read up to here.
    pub agent_read_seq: i64,
    /// Visitor has read up to here.
    pub visitor_read_seq: i64,
    /// What labels the visitor for agents.
    #[sqlx(flatten)]
    pub visitor: VisitorProfile,
    /// The visitor's rating (closed and rated conversations).
    pub rating: Option<i64>,
}

/// What labels a visitor for agents: signed by the website (`verified`)
/// or told by the visitor in a `profile` frame.
#[derive(Debug, Clone, Default, PartialEq, Eq, FromRow)]
pub struct VisitorProfile {
    /// Their name.
    pub name: Option<String>,
    /// Their email address.
    pub email: Option<String>,
    /// Set from a valid identity token: name and email come from the website.
    pub verified: bool,
}

/// The secrets websites sign identities with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentitySecrets {
    /// The one tokens must be signed with.
    pub current: String,
    /// Rotated out, newest first: kept only to say why a token is refused.
    pub retired: Vec<String>,
}

impl ConversationRow {
    /// Parsed status.
    pub fn status(&self) -> ConversationStatus {
        ConversationStatus::parse(&self.status)
    }
}

/// A message to store: made once from the sender's frame (or by the hub for
/// system events) and moved, as it is, through the hub and the writer's
/// queue into its row.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Client's id (or a server-made one for system messages).
    pub id: MessageId,
    /// Who.
    pub author: Author,
    /// Agent's display name for agent messages.
    pub author_name: Option<String>,
    /// Text (empty for system messages).
    pub text: String,
    /// For system messages.
    pub event: Option<SystemEvent>,
    /// Marked by the client as possibly sent before: only these are looked
    /// up, and stored only if not found.
    pub resend: bool,
}

impl NewMessage {
    /// A visitor's message.
    pub fn from_visitor(id: MessageId, text: String, resend: bool) -> Self {
        Self {
            id,
            author: Author::Visitor,
            author_name: None,
            text,
            event: None,
            resend,
        }
    }

    /// An agent's message, signed with their name.
    pub fn from_agent(agent: &AgentInfo, id: MessageId, text: String, resend: bool) -> Self {
        Self {
            author: Author::Agent,
            author_name: Some(agent.name.clone()),
            ..Self::from_visitor(id, text, resend)
        }
    }

    /// A system event, under a server-made id.
    pub fn system(id: MessageId, event: SystemEvent) -> Self {
        Self {
            id,
            author: Author::System,
            author_name: None,
            text: String::new(),
            event: Some(event),
            resend: false,
        }
    }
}

/// A private note to store (see [`super::Notes`]).
#[derive(Debug, Clone)]
pub struct NewNote {
    /// The writer's id for it (or a server-made one).
    pub id: MessageId,
    /// The writing agent.
    pub agent: AgentId,
    /// Their display name, kept with the note.
    pub author_name: String,
    /// The text.
    pub text: String,
}

/// What became of a message handed to storage.
#[derive(Debug)]
pub enum Appended {
    /// Stored now.
    New(ChatMessage),
    /// A resend whose id was stored before; nothing changed.
    Duplicate(ChatMessage),
    /// The conversation is closed (or does not exist); nothing stored.
    Closed,
}

/// What to do once a message's batch committed (or failed): run in the
/// order the messages were submitted. It must not block: it queues
/// frames, it never waits for a socket.
pub type OnCommit = Box<dyn FnOnce(StoreResult<Appended>) + Send>;
