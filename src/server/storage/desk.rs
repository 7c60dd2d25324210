//! The agent's desk as stored: canned replies, and the archive of
//! conversations (who served which, closed ones page by page, full-text
//! search). Part of the [`super::Store`] interface.

use async_trait::async_trait;

use super::StoreResult;
use crate::protocol::archive::{ClosedConversation, VisitorLabel};
use crate::protocol::canned::CannedReply;
use crate::protocol::{AgentId, Author, ConversationId, ConversationStatus};

/// Whose canned replies: an agent's own, or the shared ones admins keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Every agent's, kept by admins.
    Shared,
    /// This agent's own.
    Agent(AgentId),
}

impl Owner {
    /// The owning agent, as stored (`None`: shared).
    pub fn agent(self) -> Option<AgentId> {
        match self {
            Owner::Shared => None,
            Owner::Agent(id) => Some(id),
        }
    }
}

/// Canned replies (rules in `crate::canned`; the store keeps what it is given).
#[async_trait]
pub trait Canned: Send + Sync {
    /// The agent's own replies and the shared ones, by shortcut.
    async fn canned_for(&self, agent: AgentId) -> StoreResult<Vec<CannedReply>>;

    /// Adds a reply: `None` if the owner has `max` already;
    /// [`super::StoreError::NameTaken`] if the shortcut is theirs already.
    async fn create_canned(
        &self,
        owner: Owner,
        shortcut: &str,
        text: &str,
        max: i64,
    ) -> StoreResult<Option<CannedReply>>;

    /// Changes a reply of this owner (`None`: they have no such reply);
    /// [`super::StoreError::NameTaken`] if the shortcut is another of theirs.
    async fn update_canned(
        &self,
        id: i64,
        owner: Owner,
        shortcut: &str,
        text: &str,
    ) -> StoreResult<Option<CannedReply>>;

    /// Removes a reply of this owner (`false`: they have no such reply).
    async fn delete_canned(&self, id: i64, owner: Owner) -> StoreResult<bool>;
}

/// Whose conversations a reader may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// Admins: every conversation.
    All,
    /// Agents: the conversations they have served.
    Served(AgentId),
}

/// A message that a search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundMessage {
    /// Where.
    pub conversation: ConversationId,
    /// Which.
    pub seq: i64,
    /// Who wrote it.
    pub author: Author,
    /// What it says.
    pub text: String,
    /// When (ms).
    pub sent_at: i64,
    /// Where its conversation stands.
    pub status: ConversationStatus,
    /// Who the conversation is with.
    pub visitor: VisitorLabel,
}

/// A conversation whose visitor's name or email a search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundVisitor {
    /// The conversation.
    pub conversation: ConversationId,
    /// Where it stands.
    pub status: ConversationStatus,
    /// Who it is with.
    pub visitor: VisitorLabel,
}

/// Closed conversations and search, limited to what the reader may see.
#[async_trait]
pub trait Archive: Send + Sync {
    /// Whether `agent` has ever served `conversation`.
    async fn has_served(&self, agent: AgentId, conversation: ConversationId) -> StoreResult<bool>;

    /// Up to `limit` closed conversations, newest closed first, closed
    /// before `before` (`(closed_at, id)` of the last one seen).
    async fn closed_conversations(
        &self,
        reader: Reader,
        before: Option<(i64, ConversationId)>,
        limit: i64,
    ) -> StoreResult<Vec<ClosedConversation>>;

    /// Up to `limit` messages people wrote (never system notices) that
    /// hold every one of `terms` (case-insensitive, taken literally),
    /// newest conversations first.
    async fn search_messages(
        &self,
        reader: Reader,
        terms: &[String],
        limit: i64,
    ) -> StoreResult<Vec<FoundMessage>>;

    /// Up to `limit` conversations whose visitor's name or email holds
    /// `query` (case-insensitive), newest first.
    async fn search_visitors(
        &self,
        reader: Reader,
        query: &str,
        limit: i64,
    ) -> StoreResult<Vec<FoundVisitor>>;
}
