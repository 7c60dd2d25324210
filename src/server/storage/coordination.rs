//! What several nodes on one database decide together (`--redis`, on
//! PostgreSQL only): one lock around the hub's decisions, and the agents'
//! grace deadlines, which outlive the node that set them.

use async_trait::async_trait;

use super::StoreResult;
use crate::protocol::AgentId;

/// Held while one node makes a decision (assignment, queue, close,
/// transfer, requeue): no other node decides meanwhile. Released when
/// dropped (at once, or when the node's connection to the database ends).
pub struct DecisionLock(Box<dyn Release>);

impl DecisionLock {
    /// Wraps what releases the lock.
    pub fn new(release: impl Release + 'static) -> Self {
        Self(Box::new(release))
    }

    /// Releases the lock and waits until the database has.
    pub async fn release(self) {
        self.0.release().await;
    }
}

/// How a backend lets go of its decision lock.
#[async_trait]
pub trait Release: Send {
    /// Lets go; never fails (a broken connection releases it too).
    async fn release(self: Box<Self>);
}

/// The cluster's shared decisions, kept in the database.
#[async_trait]
pub trait Coordination: Send + Sync {
    /// Waits for the cluster-wide decision lock.
    async fn decision_lock(&self) -> StoreResult<DecisionLock>;

    /// Starts `agent`'s grace period, ending at `deadline_ms`, unless one
    /// runs already: `true` when this call started it.
    async fn start_grace(&self, agent: AgentId, deadline_ms: i64) -> StoreResult<bool>;

    /// Ends `agent`'s grace period (they are back, or were requeued).
    async fn end_grace(&self, agent: AgentId) -> StoreResult<()>;

    /// Every grace period running: (agent, deadline in ms since the epoch).
    async fn grace_deadlines(&self) -> StoreResult<Vec<(AgentId, i64)>>;
}
