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
mod frame;
mod note;
pub mod settings;
mod types;

pub use api::{ConsoleView, HistoryPage, VisitorThread, WidgetBoot, HISTORY_PAGE};
pub use context::{
    PageSeen, PastConversation, VisitorContext, MAX_PAGE_TITLE_CHARS, MAX_PAGE_URL_BYTES,
    MAX_TIME_ZONE_CHARS,
};
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
/// Why the server refused something: on every error frame and every
/// server-function error. Each UI's strings table has words for each code;
/// no English from the server reaches a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// The signed identity in `hello` is malformed, its signature does not
    /// match, a field is too long, or it expires more than 30 days ahead:
    /// the visitor carries on anonymous.
    IdentityInvalid,
    /// The signed identity in `hello` has expired: the visitor carries on anonymous.
    IdentityExpired,
    /// The signed identity in `hello` was signed with a secret an admin has
    /// since rotated out: the visitor carries on anonymous.
    IdentityRetired,
    /// A `profile` name is over [`crate::profile::MAX_PROFILE_NAME_CHARS`].
    ProfileNameTooLong,
    /// A `profile` name has control or invisible characters.
    ProfileNameControl,
    /// A `profile` email is not shaped like one, or is too long.
    ProfileEmailInvalid,
    /// A `page_view` is refused: its URL is not `http(s)` or is over
    /// [`MAX_PAGE_URL_BYTES`], or its title, referrer or time zone is too long.
    PageViewInvalid,
    /// A transfer's receiver has no account (or not any more).
    AgentUnknown,
    /// A transfer's receiver is disabled.
    AgentDisabled,
    /// A transfer's receiver has no console open.
    AgentOffline,
    /// A transfer's receiver chose away: they take no new conversations.
    AgentAway,
    /// A transfer's receiver serves as many conversations as their capacity.
    AgentAtCapacity,
    // ---- server functions (see `crate::error::AppError`) ----
    /// Not signed in, or the session ended.
    Unauthorized,
    /// No such thing, or not yours.
    NotFound,
    /// Name and password do not match an enabled account.
    WrongCredentials,
    /// The first admin exists already.
    AlreadySetUp,
    /// Too many failed sign-ins: wait (`retry_after_secs` says how long).
    TooManyAttempts,
    /// A name is blank.
    NameEmpty,
    /// A name is over [`crate::accounts::MAX_NAME_CHARS`].
    NameTooLong,
    /// A name has control or invisible characters.
    NameControl,
    /// A password is too short (or absurdly long).
    PasswordLength,
    /// A capacity is out of range.
    Capacity,
    /// Another agent has that name.
    NameTaken,
    /// Admins cannot disable or remove themselves.
    SelfLockout,
    /// A form could not be read.
    BadForm,
    /// A colour is not `#rrggbb` (settings).
    BadColor,
    /// A site is not `scheme://host[:port]`, or there are too many (settings).
    BadOrigin,
    /// A title, greeting or offline text is over its length limit (settings).
    SettingTooLong,
    /// This site may not embed the chat: an admin adds it to the allowed
    /// sites in the console.
    OriginNotAllowed,
    /// The current password given to change one's own password is wrong.
    WrongPassword,
    /// The first-start setup code is missing or wrong (it is printed in
    /// kefu's log at start while no account exists).
    WrongSetupCode,
    /// A canned reply's shortcut is blank, over
    /// [`crate::canned::MAX_SHORTCUT_CHARS`], or has something other than
    /// letters, digits, `-` and `_`.
    CannedShortcut,
    /// A canned reply's text is blank, over [`crate::canned::MAX_CANNED_CHARS`],
    /// or has control characters other than line breaks and tabs.
    CannedText,
    /// The owner (the agent, or the shared replies) has a reply with that shortcut.
    ShortcutTaken,
    /// The owner has [`crate::canned::MAX_CANNED_PER_OWNER`] replies already.
    TooManyCanned,
    /// A search query is over [`archive::MAX_SEARCH_CHARS`].
    SearchTooLong,
    /// The server failed; details are in its log.
    Internal,
    /// The request did not reach the server, or its answer could not be
    /// read (set by the browser, never sent by the server).
    Unreachable,
    /// A code this build does not know.
    #[serde(other)]
    Unknown,
}
impl ErrorCode {
    /// The code as it is on the wire, e.g. `"text_too_long"`.
    pub fn name(self) -> String {
        serde_json::to_string(&self)
            .ok()
            .and_then(|json| Some(json.strip_prefix('"')?.strip_suffix('"')?.to_owned()))
            .unwrap_or_else(|| String::from("unknown"))
    }
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
