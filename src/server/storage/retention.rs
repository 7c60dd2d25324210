//! What storage forgets, and what it tells a visitor it holds: visitors
//! stored only once they do something worth keeping, the retention sweep
//! (closed conversations older than a cutoff, visitors left with nothing,
//! expired sessions), and a visitor's export and deletion.

use async_trait::async_trait;
use serde::Serialize;

use super::{ClientFacts, PageViewRow, StoreResult, VisitorId};
use crate::protocol::ConversationId;

/// Everything stored about one visitor (`kefu visitor export`): their row
/// without its token hashes, their context, and each conversation with its
/// messages, notes, rating and the agents who served it.
#[derive(Debug, Clone, Serialize)]
pub struct VisitorExport {
    /// The visitor's row id.
    pub id: i64,
    /// When first stored (unix ms).
    pub created_at: i64,
    /// The website's user id, for a verified visitor.
    pub external_id: Option<String>,
    /// Their name (their own, or the website's when verified).
    pub name: Option<String>,
    /// Their email (likewise).
    pub email: Option<String>,
    /// Whether a signed identity labels them.
    pub verified: bool,
    /// How many device tokens a verified visitor holds (only their hashes
    /// are stored, and they are not exported).
    pub device_tokens: i64,
    /// Their latest page and browser, if any.
    pub context: Option<ExportContext>,
    /// Their conversations, oldest first.
    pub conversations: Vec<ExportConversation>,
}

/// A visitor's latest page and browser, as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExportContext {
    /// Latest page's address.
    pub page_url: Option<String>,
    /// Latest page's title.
    pub page_title: Option<String>,
    /// When it was seen (unix ms).
    pub page_at: Option<i64>,
    /// The page that led there.
    pub referrer: Option<String>,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// Minutes east of UTC.
    pub utc_offset: Option<i64>,
    /// Browser and version.
    pub browser: Option<String>,
    /// Operating system.
    pub os: Option<String>,
    /// First language the browser asked for.
    pub language: Option<String>,
}

/// One conversation in an export.
#[derive(Debug, Clone, Serialize)]
pub struct ExportConversation {
    /// Row id.
    pub id: i64,
    /// `queued`, `assigned` or `closed`.
    pub status: String,
    /// Opened (unix ms).
    pub created_at: i64,
    /// Closed (unix ms), if it is.
    pub closed_at: Option<i64>,
    /// Names of the agents who served it.
    pub agents: Vec<String>,
    /// Its messages in order.
    pub messages: Vec<ExportMessage>,
    /// Agents' private notes on it.
    pub notes: Vec<ExportNote>,
    /// The visitor's rating, if given.
    pub rating: Option<ExportRating>,
}

/// One message in an export.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExportMessage {
    /// Its place in the conversation.
    pub seq: i64,
    /// `visitor`, `agent` or `system`.
    pub author: String,
    /// The agent's name, for an agent's message.
    pub author_name: Option<String>,
    /// The text (a system notice's is empty; see `event`).
    pub body: String,
    /// A system notice, as stored (JSON).
    pub event: Option<String>,
    /// When stored (unix ms).
    pub sent_at: i64,
}

/// One agent's note in an export.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExportNote {
    /// After which message it was written.
    pub after_seq: i64,
    /// The agent's name.
    pub author_name: String,
    /// The text.
    pub body: String,
    /// When stored (unix ms).
    pub sent_at: i64,
}

/// A rating in an export.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExportRating {
    /// 1 to 5.
    pub score: i64,
    /// The visitor's comment.
    pub comment: String,
    /// When given (unix ms).
    pub created_at: i64,
}

/// What [`Retention::delete_visitor`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// The visitor and everything about them are gone.
    Gone,
    /// No such visitor.
    NotFound,
    /// The visitor has an open conversation: nothing was deleted.
    Open(ConversationId),
}

/// What one sweep step removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Conversations removed (with their messages, notes, ratings).
    pub conversations: u64,
    /// Visitors removed.
    pub visitors: u64,
}

/// Visitors stored on their first act worth keeping, and what is forgotten.
#[async_trait]
pub trait Retention: Send + Sync {
    /// An id for a visitor not stored yet, never given before by this store
    /// (nor by [`Conversations::create_visitor`](super::Conversations) or
    /// [`Identities::identified_visitor`](super::Identities), which take
    /// theirs from the same counter). PostgreSQL: a sequence's `nextval`.
    async fn reserve_visitor_id(&self) -> StoreResult<VisitorId>;

    /// Stores the visitor `id` (reserved earlier) known by `token_hash`,
    /// with their browser and latest page when known. Stores nothing if
    /// that visitor is stored already.
    async fn keep_visitor(
        &self,
        id: VisitorId,
        token_hash: &[u8],
        client: Option<&ClientFacts>,
        page: Option<&PageViewRow>,
    ) -> StoreResult<()>;

    /// Deletes at most `limit` conversations closed before `before` (unix
    /// ms), with their messages, notes, ratings, agents and search entries,
    /// in one short transaction; answers how many.
    async fn sweep_closed(&self, before: i64, limit: i64) -> StoreResult<u64>;

    /// Visitors stored before `before` (unix ms) who have no conversation
    /// left, at most `limit`, oldest first.
    async fn idle_visitors(&self, before: i64, limit: i64) -> StoreResult<Vec<VisitorId>>;

    /// Deletes these visitors, unless a conversation of theirs appeared
    /// meanwhile; answers how many are gone.
    async fn forget_visitors(&self, ids: &[VisitorId]) -> StoreResult<u64>;

    /// Deletes sessions past their absolute expiry, or unused since
    /// `idle_since` (unix ms); answers how many.
    async fn sweep_sessions(&self, now: i64, idle_since: i64) -> StoreResult<u64>;

    /// Everything stored about a visitor (`None`: no such visitor).
    async fn export_visitor(&self, visitor: VisitorId) -> StoreResult<Option<VisitorExport>>;

    /// Deletes a visitor and everything about them, from every table and
    /// from search, unless they have an open conversation.
    async fn delete_visitor(&self, visitor: VisitorId) -> StoreResult<Deleted>;
}
