//! What the console's history panel gets from server functions: closed
//! conversations page by page, and search hits.

use serde::{Deserialize, Serialize};

use super::{Author, ConversationId, ConversationStatus};

/// Who a listed conversation was with, as the console labels them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorLabel {
    /// The visitor's number ("Visitor 12").
    pub number: i64,
    /// Their name, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Their email, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// One closed conversation in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedConversation {
    /// The conversation.
    pub id: ConversationId,
    /// Who with.
    pub visitor: VisitorLabel,
    /// When it was closed (ms since the epoch).
    pub closed_at: i64,
    /// The last thing a person wrote in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_text: Option<String>,
}

/// Closed conversations this agent may see, newest closed first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedPage {
    /// Up to [`CLOSED_PAGE`] of them.
    pub conversations: Vec<ClosedConversation>,
    /// Whether older ones exist (ask again with the last one's
    /// `closed_at` and `id`).
    pub more: bool,
}

/// Closed conversations per page.
pub const CLOSED_PAGE: i64 = 20;

/// Longest search query, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

/// Most search hits answered at once (newest first).
pub const SEARCH_HITS: i64 = 50;

/// One search hit: a message whose text matched (with the words around
/// the match), or a conversation whose visitor's name or email matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The conversation.
    pub conversation: ConversationId,
    /// Where it stands (closed ones open read-only).
    pub status: ConversationStatus,
    /// Who with.
    pub visitor: VisitorLabel,
    /// The matching message's seq (`None`: the visitor's name or email matched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    /// Who wrote the matching message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Author>,
    /// When it was written (ms since the epoch; 0 for name or email hits).
    #[serde(default)]
    pub sent_at: i64,
    /// The words before the match (shortened, with "…").
    pub before: String,
    /// The matching words, as written.
    pub matched: String,
    /// The words after it (shortened, with "…").
    pub after: String,
}
