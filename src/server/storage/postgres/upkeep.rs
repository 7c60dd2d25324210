//! Readiness (`ping`). Backups of a PostgreSQL database are `pg_dump`'s job
//! (docs/DEPLOY.md); `kefu backup` is for the SQLite file.

use async_trait::async_trait;

use super::Postgres;
use crate::server::storage::{StoreResult, Upkeep};

#[async_trait]
impl Upkeep for Postgres {
    async fn ping(&self) -> StoreResult<()> {
        // A table kefu owns, not only the connection.
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM (SELECT 1 FROM agents LIMIT 1) a")
            .fetch_one(&self.pool)
            .await?;
        Ok(())
    }
}
