//! Ratings, the "opened offline" mark, and the rows of reports.

use async_trait::async_trait;

use super::Postgres;
use crate::protocol::rating::Rating;
use crate::protocol::ConversationId;
use crate::server::storage::{Ratings, ReportRow, StoreResult};

#[async_trait]
impl Ratings for Postgres {
    async fn rate(
        &self,
        conversation: ConversationId,
        score: u8,
        comment: &str,
        at: i64,
    ) -> StoreResult<bool> {
        // The primary key makes it once per conversation, even when two
        // sockets of the visitor (on any nodes) rate at the same moment.
        let done = sqlx::query(
            "INSERT INTO ratings (conversation_id, score, comment, created_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (conversation_id) DO NOTHING",
        )
        .bind(conversation)
        .bind(i64::from(score))
        .bind(comment)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn rating(&self, conversation: ConversationId) -> StoreResult<Option<Rating>> {
        let row: Option<(i64, String, i64)> = sqlx::query_as(
            "SELECT score, comment, created_at FROM ratings WHERE conversation_id = $1",
        )
        .bind(conversation)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(score, comment, at)| Rating {
            score: u8::try_from(score).unwrap_or(0),
            comment,
            at,
        }))
    }

    async fn mark_offline(&self, conversation: ConversationId) -> StoreResult<()> {
        sqlx::query("UPDATE conversations SET offline = TRUE WHERE id = $1")
            .bind(conversation)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn report_rows(&self, from: i64, to: i64) -> StoreResult<Vec<ReportRow>> {
        sqlx::query_as(
            "SELECT c.created_at, c.closed_at, c.first_response_ms, c.offline,
                    a.name AS agent_name, r.score
             FROM conversations c
             LEFT JOIN agents a ON a.id = c.agent_id
             LEFT JOIN ratings r ON r.conversation_id = c.id
             WHERE c.created_at >= $1 AND c.created_at < $2",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .map_err(Into::into)
    }
}
