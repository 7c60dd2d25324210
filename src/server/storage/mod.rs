//! Everything kefu keeps, behind one interface: [`Store`].
//!
//! The hub and the edges call operations named for what they mean (append a
//! message, assign a conversation, a page of history, a session) on a
//! [`Storage`] held in `AppState`; no SQL lives outside this folder, and
//! nothing above it knows which database answers. Each backend is a module
//! of its own implementing the traits, with its own migrations: [`sqlite`]
//! (one file, the default) and [`postgres`] (shared by many nodes).

pub mod coordination;
mod database;
mod desk;
mod error;
pub mod group_commit;
pub mod postgres;
mod reports;
mod retention;
pub mod rows;
pub mod sqlite;
mod types;
mod upkeep;
mod visits;
mod webhooks;

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;

pub use database::{open, Database};
pub use desk::{Archive, Canned, FoundMessage, FoundVisitor, Owner, Reader};
pub use error::{StoreError, StoreResult};
pub use reports::{Ratings, ReportRow};
pub use retention::{
    Deleted, ExportContext, ExportConversation, ExportMessage, ExportNote, ExportRating, Retention,
    Swept, VisitorExport,
};
pub use types::{
    now_ms, AgentRow, Appended, ConversationRow, IdentitySecrets, NewMessage, NewNote, OnCommit,
    VisitorId, VisitorProfile,
};
pub use upkeep::Upkeep;
pub use visits::{ClientFacts, PageViewRow, VisitorFacts, Visits};
pub use webhooks::{DueDelivery, Outcome, Webhooks};

use crate::protocol::{AgentId, ChatMessage, ChatNote, ConversationId};

/// The database kefu runs on, shared by every task (cheap to clone).
pub type Storage = Arc<dyn Store>;

/// A complete backend: accounts, conversations, messages, notes,
/// identities, settings, canned replies, the archive, ratings, retention,
/// and the database's health ([`Upkeep`]).
pub trait Store:
    Accounts
    + Conversations
    + Messages
    + Notes
    + Identities
    + Settings
    + Canned
    + Archive
    + Visits
    + Retention
    + Webhooks
    + Upkeep
    + Ratings
    + Debug
{
}

impl<T> Store for T where
    T: Accounts
        + Conversations
        + Messages
        + Notes
        + Identities
        + Settings
        + Canned
        + Archive
        + Visits
        + Retention
        + Webhooks
        + Upkeep
        + Ratings
        + Debug
{
}

/// Agent accounts and their sign-in sessions.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// How many agent accounts exist.
    async fn agent_count(&self) -> StoreResult<i64>;

    /// Creates an account ([`StoreError::NameTaken`] if the name is taken).
    /// With `only_if_none`, creates nothing (`None`) unless no account
    /// exists yet (first-run setup), atomically.
    async fn create_agent(
        &self,
        name: &str,
        password_hash: &str,
        capacity: u32,
        is_admin: bool,
        only_if_none: bool,
    ) -> StoreResult<Option<AgentRow>>;

    /// Looks an account up by name (case-insensitive).
    async fn agent_by_name(&self, name: &str) -> StoreResult<Option<AgentRow>>;

    /// One agent account.
    async fn agent_by_id(&self, id: AgentId) -> StoreResult<Option<AgentRow>>;

    /// Every account, by name.
    async fn list_agents(&self) -> StoreResult<Vec<AgentRow>>;

    /// Changes an agent's capacity and enabled state.
    async fn update_agent(
        &self,
        id: AgentId,
        capacity: u32,
        disabled: bool,
    ) -> StoreResult<Option<AgentRow>>;

    /// Removes an agent account and their sessions. Their past messages keep
    /// their name; their conversations must already be closed or requeued.
    async fn delete_agent(&self, id: AgentId) -> StoreResult<bool>;

    /// Stores a session for `agent` that ends at `expires_at` (ms).
    async fn create_session(
        &self,
        token_hash: &[u8],
        agent: AgentId,
        expires_at: i64,
    ) -> StoreResult<()>;

    /// The enabled agent behind a session that is neither past its absolute
    /// expiry nor unused since `idle_since` (ms). With `touch`, marks the
    /// session used (at most once a minute, to spare writes).
    async fn session_agent(
        &self,
        token_hash: &[u8],
        idle_since: i64,
        touch: bool,
    ) -> StoreResult<Option<AgentRow>>;

    /// The console language an agent chose (a tag such as `zh-CN`), if any.
    async fn agent_lang(&self, id: AgentId) -> StoreResult<Option<String>>;

    /// Stores the console language an agent chose.
    async fn set_agent_lang(&self, id: AgentId, lang: &str) -> StoreResult<()>;

    /// Whether an agent chose to be notified of new conversations and messages.
    async fn agent_notify(&self, id: AgentId) -> StoreResult<bool>;

    /// Stores whether an agent chose to be notified.
    async fn set_agent_notify(&self, id: AgentId, notify: bool) -> StoreResult<()>;

    /// Stores whether an agent chose to be away (no new conversations).
    async fn set_agent_away(&self, id: AgentId, away: bool) -> StoreResult<()>;

    /// Ends a session.
    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()>;

    /// Ends every session of an agent.
    async fn delete_agent_sessions(&self, agent: AgentId) -> StoreResult<()>;

    /// Ends every session of an agent but the one with this token hash.
    async fn delete_other_sessions(&self, agent: AgentId, keep: &[u8]) -> StoreResult<()>;

    /// Replaces an agent's password hash (`None`: no such agent).
    async fn set_password(&self, id: AgentId, password_hash: &str)
        -> StoreResult<Option<AgentRow>>;
}

/// Visitors and their conversations: the queue and assignment as stored.
#[async_trait]
pub trait Conversations: Send + Sync {
    /// The anonymous visitor with this token hash (verified visitors' tokens
    /// are found by [`Identities::verified_by_token`]).
    async fn visitor_by_token(&self, token_hash: &[u8]) -> StoreResult<Option<VisitorId>>;

    /// Creates a visitor known by this token hash.
    async fn create_visitor(&self, token_hash: &[u8]) -> StoreResult<VisitorId>;

    /// Opens a new, queued conversation for `visitor`.
    async fn create_conversation(&self, visitor: VisitorId) -> StoreResult<ConversationId>;

    /// How many conversations `visitor` started after `since` (ms).
    async fn conversations_since(&self, visitor: VisitorId, since: i64) -> StoreResult<i64>;

    /// Every conversation not yet closed, oldest queued first.
    async fn open_conversations(&self) -> StoreResult<Vec<ConversationRow>>;

    /// The visitor's newest conversation, open or closed.
    async fn latest_conversation(&self, visitor: VisitorId)
        -> StoreResult<Option<ConversationRow>>;

    /// One conversation.
    async fn conversation(&self, id: ConversationId) -> StoreResult<Option<ConversationRow>>;

    /// Gives a conversation to an agent (who from then on has served it:
    /// see [`Archive::has_served`]).
    async fn assign(&self, id: ConversationId, agent: AgentId) -> StoreResult<()>;

    /// Puts a conversation back in the queue (unless it is closed).
    async fn requeue(&self, id: ConversationId) -> StoreResult<()>;

    /// Closes a conversation.
    async fn close(&self, id: ConversationId) -> StoreResult<()>;

    /// Records how far the agent has read (never backwards, never past the end).
    async fn set_agent_read(&self, id: ConversationId, seq: i64) -> StoreResult<()>;

    /// Records how far the visitor has read (never backwards, never past the end).
    async fn set_visitor_read(&self, id: ConversationId, seq: i64) -> StoreResult<()>;
}

/// Who visitors are: the secrets websites sign identities with, visitors
/// known by the website's user id (with a token per device), and the name
/// and email that label a visitor for agents.
#[async_trait]
pub trait Identities: Send + Sync {
    /// The current secret (`fresh` becomes it if there is none yet) and the
    /// newest retired ones.
    async fn identity_secrets(&self, fresh: &str) -> StoreResult<IdentitySecrets>;

    /// Retires the current secret and makes `fresh` the current one, atomically.
    async fn rotate_identity_secret(&self, fresh: &str) -> StoreResult<()>;

    /// The verified visitor known by the website's `user_id` (created on
    /// first use, its own token hash an `unused_token_hash` never issued),
    /// now labelled with exactly this signed name and email.
    async fn identified_visitor(
        &self,
        user_id: &str,
        name: Option<&str>,
        email: Option<&str>,
        unused_token_hash: &[u8],
    ) -> StoreResult<VisitorId>;

    /// The verified visitor known by `user_id`, if they hold the token with this hash.
    async fn verified_by_token(
        &self,
        token_hash: &[u8],
        user_id: &str,
    ) -> StoreResult<Option<VisitorId>>;

    /// Gives a verified visitor one more valid token (one per device); only
    /// their newest [`MAX_VISITOR_TOKENS`] stay valid.
    async fn add_visitor_token(&self, visitor: VisitorId, token_hash: &[u8]) -> StoreResult<()>;

    /// What labels a visitor.
    async fn visitor_profile(&self, visitor: VisitorId) -> StoreResult<VisitorProfile>;

    /// Sets an anonymous visitor's own name and email (`None`: unchanged;
    /// `Some(None)`: cleared). Changes nothing and answers `false` for a
    /// verified visitor, whose label only a signed identity sets.
    async fn set_visitor_profile(
        &self,
        visitor: VisitorId,
        name: Option<Option<&str>>,
        email: Option<Option<&str>>,
    ) -> StoreResult<bool>;
}

/// How many tokens (devices) of one verified visitor stay valid at once.
pub const MAX_VISITOR_TOKENS: i64 = 32;

/// Chat messages: appended in order with gapless per-conversation seqs,
/// read back in pages.
#[async_trait]
pub trait Messages: Send + Sync {
    /// Queues `msg` behind everything submitted before it and returns at
    /// once (waiting only for room in the queue). Once its transaction
    /// committed, it is the conversation's next seq, unless it is a marked
    /// resend whose id is stored already ([`Appended`]); `then` gets that
    /// answer after the `then` of every message submitted before it.
    async fn submit(&self, conversation: ConversationId, msg: NewMessage, then: OnCommit);

    /// Like [`Messages::submit`], returning the answer once committed.
    async fn append(&self, conversation: ConversationId, msg: NewMessage) -> StoreResult<Appended>;

    /// Messages with `after` < seq <= `upto`, oldest first, at most `limit`.
    async fn messages_between(
        &self,
        conversation: ConversationId,
        after: i64,
        upto: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatMessage>>;

    /// Messages with seq > `after`, oldest first, at most `limit`.
    async fn messages_after(
        &self,
        conversation: ConversationId,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatMessage>> {
        self.messages_between(conversation, after, i64::MAX, limit)
            .await
    }

    /// The newest `limit` messages with seq < `before`, oldest first.
    async fn messages_before(
        &self,
        conversation: ConversationId,
        before: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatMessage>>;
}

/// Agents' private notes on a conversation, apart from its messages (they
/// take no seq): written straight to the database, not through the
/// messages' group-commit writer, and committed before the call returns.
#[async_trait]
pub trait Notes: Send + Sync {
    /// Stores `note` in the open conversation `conversation`, anchored
    /// after its newest stored message. A note whose id is stored in this
    /// conversation already is not stored again: the stored one is
    /// returned. `None`: the conversation is closed or does not exist.
    async fn add_note(
        &self,
        conversation: ConversationId,
        note: NewNote,
    ) -> StoreResult<Option<ChatNote>>;

    /// The notes anchored at `from` <= after_seq < `to`, oldest first, at
    /// most `limit`.
    async fn notes_between(
        &self,
        conversation: ConversationId,
        from: i64,
        to: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatNote>>;
}

/// What admins set in the console, one JSON document per key (the server
/// knows the shapes; the store keeps text).
#[async_trait]
pub trait Settings: Send + Sync {
    /// The document stored under `key`, if any.
    async fn setting(&self, key: &str) -> StoreResult<Option<String>>;

    /// Stores `value` under `key`, replacing what was there.
    async fn set_setting(&self, key: &str, value: &str) -> StoreResult<()>;
}
