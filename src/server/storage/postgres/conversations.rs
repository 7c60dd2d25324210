//! Visitors and their conversations.

use async_trait::async_trait;

use super::Postgres;
use crate::protocol::{AgentId, ConversationId};
use crate::server::storage::rows::CONVERSATION_COLUMNS;
use crate::server::storage::{now_ms, ConversationRow, Conversations, StoreResult, VisitorId};

#[async_trait]
impl Conversations for Postgres {
    // Anonymous visitors only: a verified visitor's own hash is never issued.
    async fn visitor_by_token(&self, token_hash: &[u8]) -> StoreResult<Option<VisitorId>> {
        sqlx::query_scalar("SELECT id FROM visitors WHERE token_hash = $1 AND external_id IS NULL")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(Into::into)
    }

    async fn create_visitor(&self, token_hash: &[u8]) -> StoreResult<VisitorId> {
        sqlx::query_scalar(
            "INSERT INTO visitors (token_hash, created_at) VALUES ($1, $2) RETURNING id",
        )
        .bind(token_hash)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn create_conversation(&self, visitor: VisitorId) -> StoreResult<ConversationId> {
        let now = now_ms();
        // The id comes from the sequence: never one given before, deleted or not.
        sqlx::query_scalar(
            "INSERT INTO conversations (visitor_id, status, created_at, queued_at)
             VALUES ($1, 'queued', $2, $2) RETURNING id",
        )
        .bind(visitor)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn conversations_since(&self, visitor: VisitorId, since: i64) -> StoreResult<i64> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM conversations WHERE visitor_id = $1 AND created_at > $2",
        )
        .bind(visitor)
        .bind(since)
        .fetch_one(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn open_conversations(&self) -> StoreResult<Vec<ConversationRow>> {
        sqlx::query_as(&format!(
            "SELECT {CONVERSATION_COLUMNS} WHERE c.status != 'closed' ORDER BY c.queued_at, c.id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn latest_conversation(
        &self,
        visitor: VisitorId,
    ) -> StoreResult<Option<ConversationRow>> {
        sqlx::query_as(&format!(
            "SELECT {CONVERSATION_COLUMNS} WHERE c.visitor_id = $1 ORDER BY c.id DESC LIMIT 1"
        ))
        .bind(visitor)
        .fetch_optional(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn conversation(&self, id: ConversationId) -> StoreResult<Option<ConversationRow>> {
        sqlx::query_as(&format!("SELECT {CONVERSATION_COLUMNS} WHERE c.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(Into::into)
    }

    async fn assign(&self, id: ConversationId, agent: AgentId) -> StoreResult<()> {
        // One statement: the conversation and the agents who served it change together.
        sqlx::query(
            "WITH c AS (
                 UPDATE conversations SET agent_id = $1, status = 'assigned' WHERE id = $2
                 RETURNING id
             )
             INSERT INTO conversation_agents (agent_id, conversation_id)
             SELECT $1, id FROM c ON CONFLICT DO NOTHING",
        )
        .bind(agent)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn requeue(&self, id: ConversationId) -> StoreResult<()> {
        sqlx::query(
            "UPDATE conversations SET agent_id = NULL, status = 'queued'
             WHERE id = $1 AND status != 'closed'",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn close(&self, id: ConversationId) -> StoreResult<()> {
        // The reports' first-response figure, once, at close (as on SQLite).
        sqlx::query(
            "UPDATE conversations SET status = 'closed', closed_at = $1,
                first_response_ms = (
                    SELECT MIN(a.sent_at) FROM messages a
                    WHERE a.conversation_id = $2 AND a.author = 'agent'
                      AND a.sent_at >= (SELECT MIN(v.sent_at) FROM messages v
                                        WHERE v.conversation_id = $2 AND v.author = 'visitor')
                ) - (
                    SELECT MIN(v.sent_at) FROM messages v
                    WHERE v.conversation_id = $2 AND v.author = 'visitor'
                )
             WHERE id = $2",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn set_agent_read(&self, id: ConversationId, seq: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE conversations SET agent_read_seq = GREATEST(agent_read_seq, LEAST($1, last_seq))
             WHERE id = $2",
        )
        .bind(seq)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn set_visitor_read(&self, id: ConversationId, seq: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE conversations SET visitor_read_seq = GREATEST(visitor_read_seq, LEAST($1, last_seq))
             WHERE id = $2",
        )
        .bind(seq)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
