//! Agent accounts and their sign-in sessions.

use sqlx::FromRow;

use super::{now_ms, Storage};
use crate::protocol::{AgentId, AgentInfo};

/// An agent account as stored.
#[derive(Debug, Clone, FromRow)]
pub struct AgentRow {
    /// Row id.
    pub id: AgentId,
    /// Unique, case-insensitive.
    pub name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Admins manage agents.
    pub is_admin: bool,
    /// Concurrent conversations.
    pub capacity: i64,
    /// Disabled agents cannot sign in.
    pub disabled: bool,
}

impl AgentRow {
    /// What the browser may know of this agent.
    pub fn info(&self) -> AgentInfo {
        AgentInfo {
            id: self.id,
            name: self.name.clone(),
            is_admin: self.is_admin,
            capacity: self.capacity.max(0) as u32,
            disabled: self.disabled,
        }
    }
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateAgentError {
    /// The name is taken (names are case-insensitive).
    #[error("an agent with that name already exists")]
    NameTaken,
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl Storage {
    /// How many agent accounts exist.
    pub async fn agent_count(&self) -> sqlx::Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM agents")
            .fetch_one(&self.pool)
            .await
    }

    /// Creates an account. With `only_if_none`, fails unless no account exists
    /// yet (first-run setup), atomically.
    pub async fn create_agent(
        &self,
        name: &str,
        password_hash: &str,
        capacity: u32,
        is_admin: bool,
        only_if_none: bool,
    ) -> Result<Option<AgentRow>, CreateAgentError> {
        let sql = if only_if_none {
            "INSERT INTO agents (name, password_hash, is_admin, capacity, created_at)
             SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM agents)
             RETURNING id, name, password_hash, is_admin, capacity, disabled"
        } else {
            "INSERT INTO agents (name, password_hash, is_admin, capacity, created_at)
             VALUES (?, ?, ?, ?, ?)
             RETURNING id, name, password_hash, is_admin, capacity, disabled"
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
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(CreateAgentError::NameTaken)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Looks an account up by name (case-insensitive).
    pub async fn agent_by_name(&self, name: &str) -> sqlx::Result<Option<AgentRow>> {
        sqlx::query_as(
            "SELECT id, name, password_hash, is_admin, capacity, disabled FROM agents WHERE name = ?",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await
    }

    /// Every account, by name.
    pub async fn list_agents(&self) -> sqlx::Result<Vec<AgentRow>> {
        sqlx::query_as(
            "SELECT id, name, password_hash, is_admin, capacity, disabled FROM agents ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
    }

    // ---- sessions ----

    /// Stores a session for `agent` that ends at `expires_at` (ms).
    pub async fn create_session(
        &self,
        token_hash: &[u8],
        agent: AgentId,
        expires_at: i64,
    ) -> sqlx::Result<()> {
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

    /// The enabled agent behind a session that is neither past its absolute
    /// expiry nor unused since `idle_since` (ms). With `touch`, marks the
    /// session used (at most once a minute, to spare writes).
    pub async fn session_agent(
        &self,
        token_hash: &[u8],
        idle_since: i64,
        touch: bool,
    ) -> sqlx::Result<Option<AgentRow>> {
        let now = now_ms();
        let agent: Option<AgentRow> = sqlx::query_as(
            "SELECT a.id, a.name, a.password_hash, a.is_admin, a.capacity, a.disabled
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

    /// Ends every session of an agent.
    pub async fn delete_agent_sessions(&self, agent: AgentId) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE agent_id = ?")
            .bind(agent)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// One agent account.
    pub async fn agent_by_id(&self, id: AgentId) -> sqlx::Result<Option<AgentRow>> {
        sqlx::query_as(
            "SELECT id, name, password_hash, is_admin, capacity, disabled FROM agents WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
    }

    /// Changes an agent's capacity and enabled state.
    pub async fn update_agent(
        &self,
        id: AgentId,
        capacity: u32,
        disabled: bool,
    ) -> sqlx::Result<Option<AgentRow>> {
        sqlx::query_as(
            "UPDATE agents SET capacity = ?, disabled = ? WHERE id = ?
             RETURNING id, name, password_hash, is_admin, capacity, disabled",
        )
        .bind(i64::from(capacity))
        .bind(disabled)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
    }

    /// Removes an agent account. Their past messages keep their name; their
    /// conversations must already be closed or requeued.
    pub async fn delete_agent(&self, id: AgentId) -> sqlx::Result<bool> {
        let mut tx = self.pool.begin().await?;
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

    /// Ends a session.
    pub async fn delete_session(&self, token_hash: &[u8]) -> sqlx::Result<()> {
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
            Err(CreateAgentError::NameTaken)
        ));
    }
}
