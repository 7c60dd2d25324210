//! Canned replies: an agent's own and the shared ones (`agent_id` NULL).

use async_trait::async_trait;

use super::Postgres;
use crate::protocol::canned::CannedReply;
use crate::protocol::AgentId;
use crate::server::storage::rows::{canned_reply, CannedRow};
use crate::server::storage::{now_ms, Canned, Owner, StoreError, StoreResult};

#[async_trait]
impl Canned for Postgres {
    // By shortcut in byte order (the "C" collation, as SQLite's BINARY),
    // an agent's own before a shared one with the same shortcut.
    async fn canned_for(&self, agent: AgentId) -> StoreResult<Vec<CannedReply>> {
        let rows: Vec<CannedRow> = sqlx::query_as(
            "SELECT id, shortcut, body, agent_id IS NULL FROM canned_replies
             WHERE agent_id = $1 OR agent_id IS NULL
             ORDER BY shortcut COLLATE \"C\", agent_id IS NULL",
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
        let mut tx = self.pool.begin().await?;
        // Two adds at once (two nodes) must not both pass the count below:
        // the lock (to the commit) makes the later one count the earlier.
        // Reads go on meanwhile.
        sqlx::query("LOCK TABLE canned_replies IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
        let row: Option<CannedRow> = sqlx::query_as(
            "INSERT INTO canned_replies (agent_id, shortcut, body, created_at, updated_at)
             SELECT $1, $2, $3, $4, $4
             WHERE (SELECT COUNT(*) FROM canned_replies
                    WHERE COALESCE(agent_id, 0) = COALESCE($1, 0)) < $5
             RETURNING id, shortcut, body, agent_id IS NULL",
        )
        .bind(owner)
        .bind(shortcut)
        .bind(text)
        .bind(now)
        .bind(max)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::taken)?;
        tx.commit().await?;
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
            "UPDATE canned_replies SET shortcut = $1, body = $2, updated_at = $3
             WHERE id = $4 AND COALESCE(agent_id, 0) = COALESCE($5, 0)
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
            "DELETE FROM canned_replies WHERE id = $1 AND COALESCE(agent_id, 0) = COALESCE($2, 0)",
        )
        .bind(id)
        .bind(owner.agent())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
