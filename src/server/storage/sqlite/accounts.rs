//! Agent accounts and their sign-in sessions.

use async_trait::async_trait;

use super::Sqlite;
use crate::protocol::AgentId;
use crate::server::storage::{now_ms, Accounts, AgentRow, StoreError, StoreResult};

#[async_trait]
impl Accounts for Sqlite {
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
        let sql = if only_if_none {
            "INSERT INTO agents (name, password_hash, is_admin, capacity, created_at)
             SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM agents)
             RETURNING id, name, password_hash, is_admin, capacity, disabled, away"
        } else {
            "INSERT INTO agents (name, password_hash, is_admin, capacity, created_at)
             VALUES (?, ?, ?, ?, ?)
             RETURNING id, name, password_hash, is_admin, capacity, disabled, away"
        };
        let row = sqlx::query_as::<_, AgentRow>(sql)
            .bind(name)
            .bind(password_hash)
            .bind(is_admin)
            .bind(capacity as i64)
            .bind(now_ms())
            .fetch_optional(&self.pool)
            .await;
        match row {
            Ok(row) => Ok(row),
            Err(e) => Err(StoreError::taken(e)),
        }
    }

    async fn agent_by_name(&self, name: &str) -> StoreResult<Option<AgentRow>> {
        sqlx::query_as(
            "SELECT id, name, password_hash, is_admin, capacity, disabled, away FROM agents WHERE name = ?",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn list_agents(&self) -> StoreResult<Vec<AgentRow>> {
        sqlx::query_as(
            "SELECT id, name, password_hash, is_admin, capacity, disabled, away FROM agents ORDER BY name",
        )
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
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(agent)
        .bind(now)
        .bind(expires_at)
        .bind(now)
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
             WHERE s.token_hash = ? AND s.expires_at > ? AND s.last_seen_at > ? AND a.disabled = 0",
        )
        .bind(token_hash)
        .bind(now)
        .bind(idle_since)
        .fetch_optional(&self.pool)
        .await?;
        if agent.is_some() && touch {
            sqlx::query(
                "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ? AND last_seen_at < ?",
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
        sqlx::query("DELETE FROM sessions WHERE agent_id = ?")
            .bind(agent)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_other_sessions(&self, agent: AgentId, keep: &[u8]) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE agent_id = ? AND token_hash != ?")
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
        sqlx::query_as(
            "UPDATE agents SET password_hash = ? WHERE id = ?
             RETURNING id, name, password_hash, is_admin, capacity, disabled, away",
        )
        .bind(password_hash)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn agent_by_id(&self, id: AgentId) -> StoreResult<Option<AgentRow>> {
        sqlx::query_as(
            "SELECT id, name, password_hash, is_admin, capacity, disabled, away FROM agents WHERE id = ?",
        )
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
        sqlx::query_as(
            "UPDATE agents SET capacity = ?, disabled = ? WHERE id = ?
             RETURNING id, name, password_hash, is_admin, capacity, disabled, away",
        )
        .bind(i64::from(capacity))
        .bind(disabled)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn delete_agent(&self, id: AgentId) -> StoreResult<bool> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM sessions WHERE agent_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE conversations SET agent_id = NULL WHERE agent_id = ? AND status = 'closed'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let gone = sqlx::query("DELETE FROM agents WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(gone > 0)
    }

    async fn agent_lang(&self, id: AgentId) -> StoreResult<Option<String>> {
        let lang: Option<Option<String>> =
            sqlx::query_scalar("SELECT lang FROM agents WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(lang.flatten())
    }

    async fn set_agent_lang(&self, id: AgentId, lang: &str) -> StoreResult<()> {
        sqlx::query("UPDATE agents SET lang = ? WHERE id = ?")
            .bind(lang)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn agent_notify(&self, id: AgentId) -> StoreResult<bool> {
        let notify: Option<bool> = sqlx::query_scalar("SELECT notify FROM agents WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(notify.unwrap_or(false))
    }

    async fn set_agent_notify(&self, id: AgentId, notify: bool) -> StoreResult<()> {
        sqlx::query("UPDATE agents SET notify = ? WHERE id = ?")
            .bind(notify)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn set_agent_away(&self, id: AgentId, away: bool) -> StoreResult<()> {
        sqlx::query("UPDATE agents SET away = ? WHERE id = ?")
            .bind(away)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::temp;
    use super::*;

    #[tokio::test]
    async fn first_admin_can_be_created_only_once() {
        let (_dir, s) = temp().await;
        let first = s.create_agent("Ann", "h", 5, true, true).await.expect("ok");
        assert!(first.is_some());
        let second = s.create_agent("Bob", "h", 5, true, true).await.expect("ok");
        assert!(second.is_none());
        assert!(matches!(
            s.create_agent("ann", "h", 5, false, false).await,
            Err(StoreError::NameTaken)
        ));
    }
}
