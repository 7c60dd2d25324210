//! Canned replies: an agent's own and the shared ones (`agent_id` NULL).

use async_trait::async_trait;

use super::Sqlite;
use crate::protocol::canned::CannedReply;
use crate::protocol::AgentId;
use crate::server::storage::rows::{canned_reply, CannedRow};
use crate::server::storage::{now_ms, Canned, Owner, StoreError, StoreResult};

#[async_trait]
impl Canned for Sqlite {
    async fn canned_for(&self, agent: AgentId) -> StoreResult<Vec<CannedReply>> {
        let rows: Vec<CannedRow> = sqlx::query_as(
            "SELECT id, shortcut, body, agent_id IS NULL FROM canned_replies
             WHERE agent_id = ? OR agent_id IS NULL ORDER BY shortcut, agent_id IS NULL",
        )
        .bind(agent)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(canned_reply).collect())
    }

    async fn create_canned(
        &self,
        owner: Owner,
        shortcut: &str,
        text: &str,
        max: i64,
    ) -> StoreResult<Option<CannedReply>> {
        let now = now_ms();
        let owner = owner.agent();
        let row: Option<CannedRow> = sqlx::query_as(
            "INSERT INTO canned_replies (agent_id, shortcut, body, created_at, updated_at)
             SELECT ?1, ?2, ?3, ?4, ?4
             WHERE (SELECT COUNT(*) FROM canned_replies WHERE COALESCE(agent_id, 0) = COALESCE(?1, 0)) < ?5
             RETURNING id, shortcut, body, agent_id IS NULL",
        )
        .bind(owner)
        .bind(shortcut)
        .bind(text)
        .bind(now)
        .bind(max)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::taken)?;
        Ok(row.map(canned_reply))
    }

    async fn update_canned(
        &self,
        id: i64,
        owner: Owner,
        shortcut: &str,
        text: &str,
    ) -> StoreResult<Option<CannedReply>> {
        let row: Option<CannedRow> = sqlx::query_as(
            "UPDATE canned_replies SET shortcut = ?, body = ?, updated_at = ?
             WHERE id = ? AND COALESCE(agent_id, 0) = COALESCE(?, 0)
             RETURNING id, shortcut, body, agent_id IS NULL",
        )
        .bind(shortcut)
        .bind(text)
        .bind(now_ms())
        .bind(id)
        .bind(owner.agent())
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::taken)?;
        Ok(row.map(canned_reply))
    }

    async fn delete_canned(&self, id: i64, owner: Owner) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM canned_replies WHERE id = ? AND COALESCE(agent_id, 0) = COALESCE(?, 0)",
        )
        .bind(id)
        .bind(owner.agent())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
