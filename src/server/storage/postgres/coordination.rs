//! The cluster's decision lock (a session-level advisory lock on a
//! connection of its own) and agents' grace deadlines (`agent_grace`).

use async_trait::async_trait;
use sqlx::pool::PoolConnection;

use super::Postgres;
use crate::protocol::AgentId;
use crate::server::storage::coordination::{Coordination, DecisionLock, Release};
use crate::server::storage::StoreResult;

/// The advisory lock's key: "kefu" in ASCII.
const DECISIONS: i64 = 0x6b65_6675;

/// The connection that holds the lock.
struct Held(Option<PoolConnection<sqlx::Postgres>>);

#[async_trait]
impl Release for Held {
    async fn release(mut self: Box<Self>) {
        let Some(mut conn) = self.0.take() else {
            return;
        };
        let unlocked = sqlx::query_scalar::<_, bool>("SELECT pg_advisory_unlock($1)")
            .bind(DECISIONS)
            .fetch_one(&mut *conn)
            .await;
        if !matches!(unlocked, Ok(true)) {
            // Closing the session releases whatever it held.
            conn.close_on_drop();
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(conn) = self.0.as_mut() {
            // Dropped without `release`: its session ends, and the lock with it.
            conn.close_on_drop();
        }
    }
}

#[async_trait]
impl Coordination for Postgres {
    async fn decision_lock(&self) -> StoreResult<DecisionLock> {
        let mut conn = self.pool.acquire().await?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(DECISIONS)
            .execute(&mut *conn)
            .await?;
        Ok(DecisionLock::new(Held(Some(conn))))
    }

    async fn start_grace(&self, agent: AgentId, deadline_ms: i64) -> StoreResult<bool> {
        let started = sqlx::query(
            "INSERT INTO agent_grace (agent_id, deadline_ms) VALUES ($1, $2)
             ON CONFLICT (agent_id) DO NOTHING",
        )
        .bind(agent)
        .bind(deadline_ms)
        .execute(&self.pool)
        .await?;
        Ok(started.rows_affected() == 1)
    }

    async fn end_grace(&self, agent: AgentId) -> StoreResult<()> {
        sqlx::query("DELETE FROM agent_grace WHERE agent_id = $1")
            .bind(agent)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn grace_deadlines(&self) -> StoreResult<Vec<(AgentId, i64)>> {
        sqlx::query_as("SELECT agent_id, deadline_ms FROM agent_grace")
            .fetch_all(&self.pool)
            .await
            .map_err(Into::into)
    }
}
