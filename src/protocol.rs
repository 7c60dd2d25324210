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

mod api;
pub mod archive;
pub mod canned;
mod context;
mod error_code;
mod frame;
pub mod hours;
mod note;
pub mod rating;
pub mod report;
pub mod settings;
mod types;
pub mod webhooks;

pub use api::{ConsoleView, HistoryPage, VisitorThread, WidgetBoot, HISTORY_PAGE};
pub use context::{
    PageSeen, PastConversation, VisitorContext, MAX_PAGE_TITLE_CHARS, MAX_PAGE_URL_BYTES,
    MAX_TIME_ZONE_CHARS,
};
pub use error_code::ErrorCode;
pub use note::ChatNote;
pub use types::{
    AgentId, AgentInfo, Author, ChatMessage, ConversationId, ConversationStatus,
    ConversationSummary, MessageId, Party, Resume, SystemEvent, VisitorInfo,
};

/// Version a client states in [`ClientMsg::Hello`]; a mismatch closes the socket with code 4000.
pub const PROTOCOL_VERSION: u16 = 1;
/// Longest message text, in Unicode scalar values.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Largest WebSocket frame the server reads; larger ones are refused.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Longest client message id (a UUID is 36).
pub const MAX_MESSAGE_ID_LEN: usize = 64;
/// Longest draft in a `typing` frame, in Unicode scalar values (clients
/// send the start of a longer draft; the server refuses a longer one).
pub const MAX_DRAFT_CHARS: usize = MAX_TEXT_CHARS;
/// How long a `typing` frame shows the sender as typing unless another
/// follows (receivers clear it after this; senders repeat it while typing).
/// A frame leaves at most [`TYPING_EVERY_MS`] after the keystroke it
/// reports, so the indicator ends within 5 s of the last keystroke.
pub const TYPING_SHOWN_MS: u32 = 4_500;
/// Least time between two `typing` frames a client sends for one
/// conversation (the server forwards at most 2 a second on average).
pub const TYPING_EVERY_MS: u32 = 500;

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
        /// Visitors: an identity token signed by the website's backend
        /// (docs/PROTOCOL.md §2). Valid, it makes this the visitor known by
        /// that user id, on any device; refused, an `identity_*` error
        /// follows `welcome` and the visitor carries on anonymous.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identity: Option<String>,
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
    /// This side has read a conversation up to `seq`: agents (clears unread
    /// on all their tabs, and the visitor sees "Seen"), and visitors (their
    /// own conversation: the agent sees which replies were seen).
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
    /// Visitor: unsigned details (a pre-chat form, an unsigned identify)
    /// that label the visitor for agents. Never joins any history. A field
    /// left out stays as it was; an empty one clears it.
    Profile {
        /// The visitor's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The visitor's email address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        email: Option<String>,
    },
    /// Visitor: the page they are on now (the host page when embedded),
    /// at start and at each change. Rate- and size-limited; only the
    /// latest is kept, and only the agents serving the visitor see it.
    PageView {
        /// The page's address (`http:` or `https:`).
        url: String,
        /// The page's title.
        #[serde(default)]
        title: String,
        /// The page that led to it (`document.referrer`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        referrer: Option<String>,
        /// The visitor's IANA time zone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        time_zone: Option<String>,
        /// The visitor's offset from UTC in minutes (east positive).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        utc_offset: Option<i32>,
    },
    /// The sender is typing (`active`), or stopped (sent, or emptied the
    /// composer). Never stored; forwarded only to the conversation's other
    /// side, at most 2 a second. Visitors leave `conversation` out.
    Typing {
        /// Agents: which conversation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conversation: Option<ConversationId>,
        /// Typing now (`false`: stopped).
        active: bool,
        /// Visitors: the unsent text, for the agent's preview (at most
        /// [`MAX_DRAFT_CHARS`]; dropped when an admin turned previews off).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        draft: Option<String>,
    },
    /// Agent: a private note in a conversation they serve, read by agents
    /// only (never by the visitor). Stored; the note itself, echoed to the
    /// sender, is its acknowledgement.
    Note {
        /// Client-chosen id (UUID); a resend of a stored id is not stored twice.
        id: MessageId,
        /// Which conversation.
        conversation: ConversationId,
        /// The text (the limits of a message's).
        text: String,
        /// This id may have been sent before (see [`ClientMsg::Send`]).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        resend: bool,
    },
    /// Agent: hands a conversation they serve (admins: any open one) to
    /// the agent `to`, or back to the queue when `to` is left out, with an
    /// optional private note for whoever takes it.
    Transfer {
        /// Which conversation.
        conversation: ConversationId,
        /// The receiving agent; none: the queue.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<AgentId>,
        /// A private note for the receiver (stored as a [`ChatNote`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Visitor: rates their closed conversation, once (1–5, an optional
    /// comment of at most [`rating::MAX_RATING_COMMENT_CHARS`]). Answered
    /// with the conversation's summary, now with its `rating`.
    Rate {
        /// Which conversation (the visitor's own, closed).
        conversation: ConversationId,
        /// 1 (bad) to 5 (very good).
        score: u8,
        /// The visitor's words.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        comment: String,
    },
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
        /// Whether any agent is online now (and, with business hours set,
        /// the team is in).
        agents_online: bool,
        /// Outside business hours: when the team is next in (unix ms;
        /// absent inside hours, or when no day is open).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        back_at: Option<i64>,
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
    /// The other side of the conversation is typing (`active`) or stopped.
    /// Shown for [`TYPING_SHOWN_MS`] unless another follows; a message from
    /// that side ends it too.
    Typing {
        /// The conversation.
        conversation: ConversationId,
        /// Who is typing.
        party: Party,
        /// Typing now (`false`: stopped).
        active: bool,
        /// To agents: the visitor's unsent text (absent when an admin
        /// turned draft previews off).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        draft: Option<String>,
    },
    /// `party` has seen the conversation up to `seq`: to the visitor when
    /// the agent read ("Seen"), to both sides when the visitor read (the
    /// visitor's other tabs clear their unread count).
    Seen {
        /// The conversation.
        conversation: ConversationId,
        /// Who read.
        party: Party,
        /// Highest seq seen.
        seq: i64,
    },
    /// A frame was refused. The connection stays open.
    Error {
        /// Why: each UI shows its own words for it.
        code: ErrorCode,
        /// For developers reading frames: the code's name. Never shown to users.
        message: String,
        /// The message id refused, if it was a `send`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<MessageId>,
    },
    /// Answer to `ping`.
    Pong,
    /// Agents serving the conversation: its visitor is on this page now.
    PageViewed {
        /// The conversation.
        conversation: ConversationId,
        /// The page.
        page: PageSeen,
    },
    /// A stored private note (agents only: every socket of the agent
    /// serving the conversation, the writer's included, which takes it as
    /// the acknowledgement of its `note`).
    Note {
        /// The note.
        note: ChatNote,
    },
    /// Agents: the visitor rated a conversation this agent closed (to
    /// the agent's sockets, as it is stored).
    Rated {
        /// The conversation.
        conversation: ConversationId,
        /// The rating.
        rating: rating::Rating,
    },
    /// A message this build does not know (sent by a newer server).
    #[serde(other)]
    Unknown,
}

impl ServerMsg {
    /// An error frame for `code`, about the message `id` if it concerns one.
    pub fn error(code: ErrorCode, id: Option<MessageId>) -> Self {
        ServerMsg::Error {
            code,
            message: code.name(),
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
mod tests;
