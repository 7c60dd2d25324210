//! Chat messages: appended through the group-commit writer, read back in pages.

use async_trait::async_trait;

use super::Postgres;
use crate::protocol::{ChatMessage, ConversationId};
use crate::server::storage::rows::{MessageRow, MESSAGE_COLUMNS};
use crate::server::storage::{Appended, Messages, NewMessage, OnCommit, StoreResult};

#[async_trait]
impl Messages for Postgres {
    async fn submit(&self, conversation: ConversationId, msg: NewMessage, then: OnCommit) {
        self.writer.submit(conversation, msg, then).await
    }

    async fn append(&self, conversation: ConversationId, msg: NewMessage) -> StoreResult<Appended> {
        self.writer.append(conversation, msg).await
    }

    async fn messages_between(
        &self,
        conversation: ConversationId,
        after: i64,
        upto: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatMessage>> {
        let rows: Vec<MessageRow> = sqlx::query_as(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE conversation_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4"
        ))
        .bind(conversation)
        .bind(after)
        .bind(upto)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(MessageRow::into_message).collect())
    }

    async fn messages_before(
        &self,
        conversation: ConversationId,
        before: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatMessage>> {
        let rows: Vec<MessageRow> = sqlx::query_as(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE conversation_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
        ))
        .bind(conversation)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .rev()
            .map(MessageRow::into_message)
            .collect())
    }
}
