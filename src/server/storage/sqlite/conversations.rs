//! Visitors and their conversations.

use async_trait::async_trait;

use super::Sqlite;
use crate::protocol::{AgentId, ConversationId};
use crate::server::storage::rows::CONVERSATION_COLUMNS;
use crate::server::storage::{now_ms, ConversationRow, Conversations, StoreResult, VisitorId};

#[async_trait]
impl Conversations for Sqlite {
    // Anonymous visitors only: a verified visitor's own hash is never issued
    // (their tokens are in `visitor_tokens`, see `identities.rs`).
    async fn visitor_by_token(&self, token_hash: &[u8]) -> StoreResult<Option<VisitorId>> {
        sqlx::query_scalar("SELECT id FROM visitors WHERE token_hash = ? AND external_id IS NULL")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(Into::into)
    }

    async fn create_visitor(&self, token_hash: &[u8]) -> StoreResult<VisitorId> {
        sqlx::query_scalar(
            "INSERT INTO visitors (id, token_hash, created_at) VALUES (?, ?, ?) RETURNING id",
        )
        .bind(self.next_visitor_id())
        .bind(token_hash)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn create_conversation(&self, visitor: VisitorId) -> StoreResult<ConversationId> {
        let now = now_ms();
        sqlx::query_scalar(
            // Above every id given before, deleted ones included (`id_floors`).
            "INSERT INTO conversations (id, visitor_id, status, created_at, queued_at)
             VALUES (MAX(COALESCE((SELECT MAX(id) FROM conversations), 0),
                         COALESCE((SELECT value FROM id_floors WHERE name = 'conversations'), 0)) + 1,
                     ?, 'queued', ?, ?)
             RETURNING id",
        )
        .bind(visitor)
        .bind(now)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn conversations_since(&self, visitor: VisitorId, since: i64) -> StoreResult<i64> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM conversations WHERE visitor_id = ? AND created_at > ?",
        )
        .bind(visitor)
        .bind(since)
        .fetch_one(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn open_conversations(&self) -> StoreResult<Vec<ConversationRow>> {
        sqlx::query_as(&format!(
            "SELECT {} WHERE c.status != 'closed' ORDER BY c.queued_at, c.id",
            CONVERSATION_COLUMNS
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
            "SELECT {} WHERE c.visitor_id = ? ORDER BY c.id DESC LIMIT 1",
            CONVERSATION_COLUMNS
        ))
        .bind(visitor)
        .fetch_optional(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn conversation(&self, id: ConversationId) -> StoreResult<Option<ConversationRow>> {
        sqlx::query_as(&format!("SELECT {} WHERE c.id = ?", CONVERSATION_COLUMNS))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(Into::into)
    }

    async fn assign(&self, id: ConversationId, agent: AgentId) -> StoreResult<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("UPDATE conversations SET agent_id = ?, status = 'assigned' WHERE id = ?")
            .bind(agent)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO conversation_agents (agent_id, conversation_id) VALUES (?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(agent)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn requeue(&self, id: ConversationId) -> StoreResult<()> {
        sqlx::query(
            "UPDATE conversations SET agent_id = NULL, status = 'queued' WHERE id = ? AND status != 'closed'",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn close(&self, id: ConversationId) -> StoreResult<()> {
        // The reports' first-response figure, from this conversation's
        // messages (their primary key's range), once, at close: nothing is
        // added to each message's write.
        sqlx::query(
            "UPDATE conversations SET status = 'closed', closed_at = ?1,
                first_response_ms = (
                    SELECT MIN(a.sent_at) FROM messages a
                    WHERE a.conversation_id = ?2 AND a.author = 'agent'
                      AND a.sent_at >= (SELECT MIN(v.sent_at) FROM messages v
                                        WHERE v.conversation_id = ?2 AND v.author = 'visitor')
                ) - (
                    SELECT MIN(v.sent_at) FROM messages v
                    WHERE v.conversation_id = ?2 AND v.author = 'visitor'
                )
             WHERE id = ?2",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn set_agent_read(&self, id: ConversationId, seq: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE conversations SET agent_read_seq = MAX(agent_read_seq, MIN(?, last_seq)) WHERE id = ?",
        )
        .bind(seq)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn set_visitor_read(&self, id: ConversationId, seq: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE conversations SET visitor_read_seq = MAX(visitor_read_seq, MIN(?, last_seq)) WHERE id = ?",
        )
        .bind(seq)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
