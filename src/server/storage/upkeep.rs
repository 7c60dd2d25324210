//! What running kefu as a service asks of the database: whether it answers
//! (`/readyz`).

use async_trait::async_trait;

use super::StoreResult;

/// The database's health, for readiness probes.
#[async_trait]
pub trait Upkeep: Send + Sync {
    /// A cheap query that reads the database file: `Ok` when it answers.
    async fn ping(&self) -> StoreResult<()>;
}
