//! Agent accounts and their sign-in sessions.

use async_trait::async_trait;

use super::Postgres;
use crate::protocol::AgentId;
use crate::server::storage::rows::AGENT_COLUMNS;
use crate::server::storage::{now_ms, Accounts, AgentRow, StoreError, StoreResult};

#[async_trait]
impl Accounts for Postgres {
    async fn agent_count(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM agents")
            .fetch_one(&self.pool)
            .await
            .map_err(Into::into)
    }

    async fn create_agent(
        &self,
        name: &str,
        password_hash: &str,
        capacity: u32,
        is_admin: bool,
        only_if_none: bool,
    ) -> StoreResult<Option<AgentRow>> {
        let mut tx = self.pool.begin().await?;
        let sql = if only_if_none {
            // First-run setup on several nodes at once: the lock (held to the
            // commit) makes the others' check wait and then see this account,
            // so exactly one is created.
            sqlx::query("LOCK TABLE agents IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
            format!(
                "INSERT INTO agents (name, password_hash, is_admin, capacity, created_at)
                 SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM agents)
                 RETURNING {AGENT_COLUMNS}"
            )
        } else {
            format!(
                "INSERT INTO agents (name, password_hash, is_admin, capacity, created_at)
                 VALUES ($1, $2, $3, $4, $5)
                 RETURNING {AGENT_COLUMNS}"
            )
        };
        let row = sqlx::query_as::<_, AgentRow>(&sql)
            .bind(name)
            .bind(password_hash)
            .bind(is_admin)
            .bind(i64::from(capacity))
            .bind(now_ms())
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::taken)?;
        tx.commit().await?;
        Ok(row)
    }

    // `lower(name)` is what the unique index holds: names are case-insensitive.
    async fn agent_by_name(&self, name: &str) -> StoreResult<Option<AgentRow>> {
        sqlx::query_as(&format!(
            "SELECT {AGENT_COLUMNS} FROM agents WHERE lower(name) = lower($1)"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(Into::into)
    }

    // SQLite orders by `name COLLATE NOCASE`: bytes, ASCII letters folded.
    // `lower` under the "C" collation folds only ASCII letters too, and
    // "C" compares bytes whatever the database's locale.
    async fn list_agents(&self) -> StoreResult<Vec<AgentRow>> {
        sqlx::query_as(&format!(
            "SELECT {AGENT_COLUMNS} FROM agents ORDER BY lower(name COLLATE \"C\"), id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(Into::into)
    }

    // ---- sessions ----

    async fn create_session(
        &self,
        token_hash: &[u8],
        agent: AgentId,
        expires_at: i64,
    ) -> StoreResult<()> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO sessions (token_hash, agent_id, created_at, expires_at, last_seen_at)
             VALUES ($1, $2, $3, $4, $3)",
        )
        .bind(token_hash)
        .bind(agent)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session_agent(
        &self,
        token_hash: &[u8],
        idle_since: i64,
        touch: bool,
    ) -> StoreResult<Option<AgentRow>> {
        let now = now_ms();
        let agent: Option<AgentRow> = sqlx::query_as(
            "SELECT a.id, a.name, a.password_hash, a.is_admin, a.capacity, a.disabled, a.away
             FROM sessions s JOIN agents a ON a.id = s.agent_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3
               AND a.disabled = FALSE",
        )
        .bind(token_hash)
        .bind(now)
        .bind(idle_since)
        .fetch_optional(&self.pool)
        .await?;
        if agent.is_some() && touch {
            sqlx::query(
                "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2 AND last_seen_at < $3",
            )
            .bind(now)
            .bind(token_hash)
            .bind(now - 60_000)
            .execute(&self.pool)
            .await?;
        }
        Ok(agent)
    }

    async fn delete_agent_sessions(&self, agent: AgentId) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE agent_id = $1")
            .bind(agent)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_other_sessions(&self, agent: AgentId, keep: &[u8]) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE agent_id = $1 AND token_hash != $2")
            .bind(agent)
            .bind(keep)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn set_password(
        &self,
        id: AgentId,
        password_hash: &str,
    ) -> StoreResult<Option<AgentRow>> {
        sqlx::query_as(&format!(
            "UPDATE agents SET password_hash = $1 WHERE id = $2 RETURNING {AGENT_COLUMNS}"
        ))
        .bind(password_hash)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn agent_by_id(&self, id: AgentId) -> StoreResult<Option<AgentRow>> {
        sqlx::query_as(&format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(Into::into)
    }

    async fn update_agent(
        &self,
        id: AgentId,
        capacity: u32,
        disabled: bool,
    ) -> StoreResult<Option<AgentRow>> {
        sqlx::query_as(&format!(
            "UPDATE agents SET capacity = $1, disabled = $2 WHERE id = $3
             RETURNING {AGENT_COLUMNS}"
        ))
        .bind(i64::from(capacity))
        .bind(disabled)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn delete_agent(&self, id: AgentId) -> StoreResult<bool> {
        // Their served list (conversation_agents) and own canned replies go
        // by ON DELETE CASCADE, their notes keep the name (SET NULL); a
        // conversation still open with them makes the DELETE fail.
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE agent_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE conversations SET agent_id = NULL WHERE agent_id = $1 AND status = 'closed'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let gone = sqlx::query("DELETE FROM agents WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(gone > 0)
    }

    async fn agent_lang(&self, id: AgentId) -> StoreResult<Option<String>> {
        let lang: Option<Option<String>> =
            sqlx::query_scalar("SELECT lang FROM agents WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(lang.flatten())
    }

    async fn set_agent_lang(&self, id: AgentId, lang: &str) -> StoreResult<()> {
        sqlx::query("UPDATE agents SET lang = $1 WHERE id = $2")
            .bind(lang)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn agent_notify(&self, id: AgentId) -> StoreResult<bool> {
        let notify: Option<bool> = sqlx::query_scalar("SELECT notify FROM agents WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(notify.unwrap_or(false))
    }

    async fn set_agent_notify(&self, id: AgentId, notify: bool) -> StoreResult<()> {
        sqlx::query("UPDATE agents SET notify = $1 WHERE id = $2")
            .bind(notify)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn set_agent_away(&self, id: AgentId, away: bool) -> StoreResult<()> {
        sqlx::query("UPDATE agents SET away = $1 WHERE id = $2")
            .bind(away)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
