//! Visitors' ratings and what the admins' reports read (issue 14): the
//! [`Ratings`] part of the store and the row each report is made from.

use async_trait::async_trait;

use super::StoreResult;
use crate::protocol::rating::Rating;
use crate::protocol::ConversationId;

/// Ratings, the "opened offline" mark, and the rows reports are computed from.
#[async_trait]
pub trait Ratings: Send + Sync {
    /// Stores a rating of `conversation` at `at` (ms); `false` (and
    /// nothing stored) if it has one already.
    async fn rate(
        &self,
        conversation: ConversationId,
        score: u8,
        comment: &str,
        at: i64,
    ) -> StoreResult<bool>;

    /// The rating of `conversation`, if any.
    async fn rating(&self, conversation: ConversationId) -> StoreResult<Option<Rating>>;

    /// Marks `conversation` as opened while no agent was available (a
    /// message left for later: a missed chat in reports).
    async fn mark_offline(&self, conversation: ConversationId) -> StoreResult<()>;

    /// Every conversation started at `from` <= created_at < `to` (ms),
    /// with what reports need of it (one indexed range, no messages read).
    async fn report_rows(&self, from: i64, to: i64) -> StoreResult<Vec<ReportRow>>;
}

/// One conversation as reports see it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReportRow {
    /// When it started (ms).
    pub created_at: i64,
    /// When it closed (ms), if it did.
    pub closed_at: Option<i64>,
    /// From the visitor's first message to the first agent reply (ms),
    /// set at close; none without a reply.
    pub first_response_ms: Option<i64>,
    /// Opened while no agent was available.
    pub offline: bool,
    /// The agent who served it last (who closed it), by name.
    pub agent_name: Option<String>,
    /// The visitor's rating.
    pub score: Option<i64>,
}
