//! Visitors and their conversations.

use sqlx::FromRow;

use super::{now_ms, Storage, VisitorId};
use crate::protocol::{AgentId, ConversationId, ConversationStatus};

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
}

impl ConversationRow {
    /// Parsed status.
    pub fn status(&self) -> ConversationStatus {
        ConversationStatus::parse(&self.status)
    }
}

impl Storage {
    /// The visitor with this token hash.
    pub async fn visitor_by_token(&self, token_hash: &[u8]) -> sqlx::Result<Option<VisitorId>> {
        sqlx::query_scalar("SELECT id FROM visitors WHERE token_hash = ?")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
    }

    /// Creates a visitor known by this token hash.
    pub async fn create_visitor(&self, token_hash: &[u8]) -> sqlx::Result<VisitorId> {
        sqlx::query_scalar(
            "INSERT INTO visitors (token_hash, created_at) VALUES (?, ?) RETURNING id",
        )
        .bind(token_hash)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await
    }

    // ---- conversations ----

    const CONVERSATION_COLUMNS: &'static str =
        "c.id, c.visitor_id, c.agent_id, a.name AS agent_name, c.status, c.last_seq, c.agent_read_seq
         FROM conversations c LEFT JOIN agents a ON a.id = c.agent_id";

    /// Opens a new, queued conversation for `visitor`.
    pub async fn create_conversation(&self, visitor: VisitorId) -> sqlx::Result<ConversationId> {
        let now = now_ms();
        sqlx::query_scalar(
            "INSERT INTO conversations (visitor_id, status, created_at, queued_at)
             VALUES (?, 'queued', ?, ?) RETURNING id",
        )
        .bind(visitor)
        .bind(now)
        .bind(now)
        .fetch_one(&self.pool)
        .await
    }

    /// How many conversations `visitor` started after `since` (ms).
    pub async fn conversations_since(&self, visitor: VisitorId, since: i64) -> sqlx::Result<i64> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM conversations WHERE visitor_id = ? AND created_at > ?",
        )
        .bind(visitor)
        .bind(since)
        .fetch_one(&self.pool)
        .await
    }

    /// Every conversation not yet closed, oldest queued first.
    pub async fn open_conversations(&self) -> sqlx::Result<Vec<ConversationRow>> {
        sqlx::query_as(&format!(
            "SELECT {} WHERE c.status != 'closed' ORDER BY c.queued_at, c.id",
            Self::CONVERSATION_COLUMNS
        ))
        .fetch_all(&self.pool)
        .await
    }

    /// The visitor's newest conversation, open or closed.
    pub async fn latest_conversation(
        &self,
        visitor: VisitorId,
    ) -> sqlx::Result<Option<ConversationRow>> {
        sqlx::query_as(&format!(
            "SELECT {} WHERE c.visitor_id = ? ORDER BY c.id DESC LIMIT 1",
            Self::CONVERSATION_COLUMNS
        ))
        .bind(visitor)
        .fetch_optional(&self.pool)
        .await
    }

    /// One conversation.
    pub async fn conversation(&self, id: ConversationId) -> sqlx::Result<Option<ConversationRow>> {
        sqlx::query_as(&format!(
            "SELECT {} WHERE c.id = ?",
            Self::CONVERSATION_COLUMNS
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
    }

    /// Gives a conversation to an agent.
    pub async fn assign(&self, id: ConversationId, agent: AgentId) -> sqlx::Result<()> {
        sqlx::query("UPDATE conversations SET agent_id = ?, status = 'assigned' WHERE id = ?")
            .bind(agent)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Puts a conversation back in the queue.
    pub async fn requeue(&self, id: ConversationId) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE conversations SET agent_id = NULL, status = 'queued' WHERE id = ? AND status != 'closed'",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Closes a conversation.
    pub async fn close(&self, id: ConversationId) -> sqlx::Result<()> {
        sqlx::query("UPDATE conversations SET status = 'closed', closed_at = ? WHERE id = ?")
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records how far the agent has read.
    pub async fn set_agent_read(&self, id: ConversationId, seq: i64) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE conversations SET agent_read_seq = MAX(agent_read_seq, MIN(?, last_seq)) WHERE id = ?",
        )
        .bind(seq)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
