//! The live switchboard: who is connected, which agent serves which
//! conversation, the queue, and delivery of every event to the right sockets.
//!
//! Rules kept here:
//! - storage first, then announce: a message is delivered only after it is stored;
//! - lifecycle changes (start, assign, close, requeue, presence) run one at a
//!   time under an async lock, so their storage writes cannot interleave;
//! - the routing tables sit behind a std `Mutex` that is never held across an
//!   `.await`; sends into sockets never block (a socket whose queue is full is
//!   closed and resumes from storage when it reconnects).
//!
//! This file holds the tables' owner and its read-only questions;
//! `connections.rs` sockets coming and going, `lifecycle.rs` the queue and
//! a conversation's life, `messages.rs` a message from the writer to the
//! sockets, `state.rs` the routing tables themselves, `status.rs` agents'
//! online/away choice, `transfer.rs` handing a conversation on, `notes.rs`
//! agents' private notes, `ratings.rs` visitors rating closed
//! conversations, `typing.rs` typing frames passed to the other side,
//! `visits.rs` visitors' page views, `hours.rs` business hours opening and
//! closing the chat to new visitors, `gauges.rs` the figures `/metrics`
//! reads, `first_response.rs` how long a visitor waited for a reply,
//! `unstored.rs` visitors held in memory until they do something worth storing.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::server::secrets::new_token;
mod outbox;
use crate::protocol::{AgentId, AgentInfo, ConversationId, ConversationSummary};
use crate::server::storage::{Storage, StoreResult, VisitorId};
pub use outbox::{encode, Conn, Drain, Outbound, OUTBOX_BYTES};

/// Most messages replayed per conversation on resume.
const REPLAY_LIMIT: i64 = 100_000;

mod cluster;
mod connections;
mod first_response;
mod gauges;
mod grace;
mod hours;
mod lifecycle;
mod messages;
mod notes;
mod profiles;
mod ratings;
mod replica;
mod state;
mod status;
#[cfg(test)]
mod tests;
mod transfer;
mod typing;
mod unstored;
mod visits;

pub use cluster::Elsewhere;
pub use gauges::Gauges;
pub use messages::Submitted;
pub use ratings::check_rating;
use state::{AgentLive, ConvLive, State};

/// Who is on the other end of a socket.
#[derive(Clone, Debug)]
pub enum Peer {
    /// A visitor.
    Visitor(VisitorId),
    /// A signed-in agent.
    Agent(AgentInfo),
}

struct Inner {
    storage: Storage,
    grace: Duration,
    conversations_per_hour: std::sync::atomic::AtomicU32,
    state: Mutex<State>,
    lifecycle: tokio::sync::Mutex<()>,
    next_conn: AtomicU64,
    /// Visitors not stored yet (see `unstored.rs`).
    unstored: Mutex<unstored::Unstoreds>,
    /// In a cluster: Redis and the shared decisions (see `cluster.rs`).
    cluster: Option<cluster::Clustered>,
    /// What other nodes tell this node's edge.
    elsewhere: tokio::sync::broadcast::Sender<cluster::Elsewhere>,
}

/// The switchboard; cheap to clone.
#[derive(Clone)]
pub struct Hub(Arc<Inner>);

impl Hub {
    /// Builds the hub from what storage holds: queued conversations wait, and
    /// agents who had conversations get their grace period to come back.
    pub async fn load(storage: Storage, grace: Duration) -> StoreResult<Self> {
        Self::load_with(storage, grace, None).await
    }

    /// [`Hub::load`] for one node of several (`--redis`): decisions are
    /// taken under the database's lock, frames for other nodes' sockets go
    /// over `bus`, and theirs arrive on `incoming`.
    pub async fn load_clustered(
        storage: Storage,
        grace: Duration,
        bus: crate::server::cluster::Bus,
        coord: Arc<dyn crate::server::storage::coordination::Coordination>,
        incoming: tokio::sync::mpsc::UnboundedReceiver<crate::server::cluster::Incoming>,
    ) -> StoreResult<Self> {
        let hub =
            Self::load_with(storage, grace, Some(cluster::Clustered::new(bus, coord))).await?;
        hub.join(incoming);
        Ok(hub)
    }

    async fn load_with(
        storage: Storage,
        grace: Duration,
        cluster: Option<cluster::Clustered>,
    ) -> StoreResult<Self> {
        let bus = cluster.as_ref().map(|c| c.bus.clone());
        let hub = Hub(Arc::new(Inner {
            storage: storage.clone(),
            grace,
            conversations_per_hour: std::sync::atomic::AtomicU32::new(u32::MAX),
            state: Mutex::new(State::default()),
            lifecycle: tokio::sync::Mutex::new(()),
            next_conn: AtomicU64::new(1),
            unstored: Mutex::default(),
            cluster,
            elsewhere: tokio::sync::broadcast::channel(64).0,
        }));
        hub.state().bus = bus;
        let agents = storage.list_agents().await?;
        let open = storage.open_conversations().await?;
        let mut away = BTreeSet::new();
        {
            let mut st = hub.state();
            for row in open {
                if let Some(agent) = row.agent_id {
                    let Some(info) = agents.iter().find(|a| a.id == agent) else {
                        continue;
                    };
                    let live = st
                        .agents
                        .entry(agent)
                        .or_insert_with(|| AgentLive::new(info.name.clone(), info.capacity as u32));
                    live.away = info.away;
                    live.convs.insert(row.id);
                    away.insert(agent);
                } else {
                    st.queue.push_back(row.id);
                }
                st.by_visitor.insert(row.visitor_id, row.id);
                st.convs.insert(
                    row.id,
                    ConvLive {
                        last_seq: row.last_seq,
                        agent_read_seq: row.agent_read_seq,
                        visitor_read_seq: row.visitor_read_seq,
                        // Under way before this start: its first wait is not measured.
                        first_wait: if row.last_seq > 0 {
                            first_response::FirstWait::Done
                        } else {
                            first_response::FirstWait::Unasked
                        },
                        ..ConvLive::new(row.visitor_id, row.agent_id, row.visitor)
                    },
                );
            }
        }
        for agent in away {
            hub.start_grace(agent, 0);
        }
        Ok(hub)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many conversations one visitor may start per hour.
    pub fn set_conversation_limit(&self, per_hour: u32) {
        self.0
            .conversations_per_hour
            .store(per_hour, Ordering::Relaxed);
    }

    /// The storage this hub writes to (its own handle: the edges hold theirs in `AppState`).
    fn storage(&self) -> &Storage {
        &self.0.storage
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> u64 {
        self.0.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Whether any agent has a socket open.
    pub fn agents_online(&self) -> bool {
        self.state().agents_online()
    }

    /// The open conversations `agent` serves.
    pub fn conversations_of(&self, agent: AgentId) -> Vec<ConversationId> {
        self.state()
            .agents
            .get(&agent)
            .map(|a| a.convs.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Whether `agent` serves the open conversation `id`.
    pub fn serves(&self, agent: AgentId, id: ConversationId) -> bool {
        self.state()
            .convs
            .get(&id)
            .is_some_and(|c| c.agent == Some(agent))
    }

    /// The summary a visitor sees of their conversation `row`.
    pub fn summary_for_visitor(
        &self,
        row: &crate::server::storage::ConversationRow,
    ) -> ConversationSummary {
        self.state()
            .summary(row.id)
            .unwrap_or_else(|| closed_summary(row))
    }
}

/// A summary of a conversation the hub no longer tracks (closed).
fn closed_summary(row: &crate::server::storage::ConversationRow) -> ConversationSummary {
    ConversationSummary {
        id: row.id,
        status: row.status(),
        visitor_label: row.visitor_id.label(),
        visitor_number: row.visitor_id.0,
        agent_name: row.agent_name.clone(),
        visitor_online: true,
        agent_online: false,
        last_seq: row.last_seq,
        agent_read_seq: row.agent_read_seq,
        visitor_read_seq: row.visitor_read_seq,
        queue_position: None,
        visitor_name: row.visitor.name.clone(),
        visitor_email: row.visitor.email.clone(),
        verified: row.visitor.verified,
        rating: row.rating.and_then(|r| u8::try_from(r).ok()),
    }
}
