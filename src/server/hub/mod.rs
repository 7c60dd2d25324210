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

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::auth::new_token;
pub use super::outbox::{encode, Conn, Outbound, OUTBOX_BYTES};
use super::storage::{Storage, VisitorId};
use crate::protocol::{
    AgentId, AgentInfo, ConversationId, ConversationStatus, ConversationSummary, ErrorCode, Party,
    Resume, ServerMsg, SystemEvent,
};

/// Most messages replayed per conversation on resume.
const REPLAY_LIMIT: i64 = 100_000;

mod messages;
mod state;

pub use messages::{Submitted, Typed};
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
}

/// The switchboard; cheap to clone.
#[derive(Clone)]
pub struct Hub(Arc<Inner>);

impl Hub {
    /// Builds the hub from what storage holds: queued conversations wait, and
    /// agents who had conversations get their grace period to come back.
    pub async fn load(storage: Storage, grace: Duration) -> sqlx::Result<Self> {
        let hub = Hub(Arc::new(Inner {
            storage: storage.clone(),
            grace,
            conversations_per_hour: std::sync::atomic::AtomicU32::new(u32::MAX),
            state: Mutex::new(State::default()),
            lifecycle: tokio::sync::Mutex::new(()),
            next_conn: AtomicU64::new(1),
        }));
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
                    st.agents
                        .entry(agent)
                        .or_insert_with(|| AgentLive::new(info.name.clone(), info.capacity as u32))
                        .convs
                        .insert(row.id);
                    away.insert(agent);
                } else {
                    st.queue.push_back(row.id);
                }
                st.by_visitor.insert(row.visitor_id, row.id);
                st.convs.insert(
                    row.id,
                    ConvLive {
                        visitor: row.visitor_id,
                        agent: row.agent_id,
                        last_seq: row.last_seq,
                        agent_read_seq: row.agent_read_seq,
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

    /// The storage this hub writes to.
    pub fn storage(&self) -> &Storage {
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
        row: &super::storage::ConversationRow,
    ) -> ConversationSummary {
        self.state()
            .summary(row.id)
            .unwrap_or_else(|| closed_summary(row))
    }

    // ---- connections ----

    /// Registers a visitor socket; tells the agent the visitor is (back) online;
    /// sends this socket the visitor's newest conversation and what it missed.
    /// The socket is held ([`Conn::hold`]) meanwhile: messages announced
    /// after it was registered follow the replayed ones.
    pub async fn visitor_connected(&self, visitor: VisitorId, conn: &Conn, resume: &[Resume]) {
        let _guard = self.0.lifecycle.lock().await;
        conn.hold();
        let open = {
            let mut st = self.state();
            let conns = st.visitors.entry(visitor).or_default();
            conns.push(conn.clone());
            let first = conns.len() == 1;
            let open = st.by_visitor.get(&visitor).copied();
            if let (true, Some(id)) = (first, open) {
                if let Some(agent) = st.convs.get(&id).and_then(|c| c.agent) {
                    st.to_agent(
                        agent,
                        &encode(&ServerMsg::Presence {
                            conversation: id,
                            party: Party::Visitor,
                            online: true,
                        }),
                    );
                    st.announce(id);
                }
            }
            open.and_then(|id| st.summary(id))
        };
        let summary = match open {
            Some(summary) => Some(summary),
            None => match self.storage().latest_conversation(visitor).await {
                Ok(row) => row.map(|row| closed_summary(&row)),
                Err(e) => {
                    tracing::error!(error = %e, "loading a visitor's conversation failed");
                    None
                }
            },
        };
        if let Some(summary) = summary {
            let id = summary.id;
            // Announced when registered (live summaries): nothing later is replayed.
            let upto = summary.last_seq;
            conn.send(&ServerMsg::Conversation {
                conversation: summary,
            })
            .await;
            if let Some(r) = resume.iter().find(|r| r.conversation == id) {
                self.replay(conn, id, r.after, upto).await;
            }
        }
        conn.release();
    }

    /// Forgets a visitor socket; the last one gone tells the agent the visitor left.
    pub async fn visitor_disconnected(&self, visitor: VisitorId, conn_id: u64) {
        let _guard = self.0.lifecycle.lock().await;
        let mut st = self.state();
        let Some(conns) = st.visitors.get_mut(&visitor) else {
            return;
        };
        conns.retain(|c| c.id() != conn_id);
        if !conns.is_empty() {
            return;
        }
        st.visitors.remove(&visitor);
        if let Some(&id) = st.by_visitor.get(&visitor) {
            if let Some(agent) = st.convs.get(&id).and_then(|c| c.agent) {
                st.to_agent(
                    agent,
                    &encode(&ServerMsg::Presence {
                        conversation: id,
                        party: Party::Visitor,
                        online: false,
                    }),
                );
                st.announce(id);
            }
        }
    }

    /// Registers an agent socket, sends it every conversation the agent
    /// serves (replaying what it missed; held meanwhile, as in
    /// [`Hub::visitor_connected`]), and hands out queued conversations.
    pub async fn agent_connected(&self, agent: &AgentInfo, conn: &Conn, resume: &[Resume]) {
        let _guard = self.0.lifecycle.lock().await;
        conn.hold();
        let summaries = {
            let mut st = self.state();
            let was_any_online = st.agents_online();
            let live = st
                .agents
                .entry(agent.id)
                .or_insert_with(|| AgentLive::new(agent.name.clone(), agent.capacity));
            live.name = agent.name.clone();
            live.capacity = agent.capacity;
            live.conns.push(conn.clone());
            let back = live.conns.len() == 1;
            if back {
                live.epoch += 1;
                live.idle_since = Instant::now();
            }
            let convs: Vec<ConversationId> = live.convs.iter().copied().collect();
            if back {
                let frame_for = |id| {
                    encode(&ServerMsg::Presence {
                        conversation: id,
                        party: Party::Agent,
                        online: true,
                    })
                };
                for &id in &convs {
                    if let Some(c) = st.convs.get(&id) {
                        st.to_visitor(c.visitor, &frame_for(id));
                    }
                }
                if !was_any_online {
                    st.broadcast_availability();
                }
            }
            let summaries: Vec<ConversationSummary> =
                convs.iter().filter_map(|id| st.summary(*id)).collect();
            if back {
                for &id in &convs {
                    if let Some(c) = st.convs.get(&id) {
                        if let Some(s) = st.summary(id) {
                            st.to_visitor(
                                c.visitor,
                                &encode(&ServerMsg::Conversation { conversation: s }),
                            );
                        }
                    }
                }
            }
            summaries
        };
        // The summaries' last seqs were read when the socket was registered:
        // later messages reach it live.
        let upto: Vec<(ConversationId, i64)> =
            summaries.iter().map(|s| (s.id, s.last_seq)).collect();
        for summary in summaries {
            conn.send(&ServerMsg::Conversation {
                conversation: summary,
            })
            .await;
        }
        for r in resume {
            if let Some(&(_, last)) = upto.iter().find(|(id, _)| *id == r.conversation) {
                self.replay(conn, r.conversation, r.after, last).await;
            }
        }
        conn.release();
        self.dispatch().await;
    }

    /// Forgets an agent socket; the last one gone starts the grace period.
    pub async fn agent_disconnected(&self, agent: AgentId, conn_id: u64) {
        let _guard = self.0.lifecycle.lock().await;
        let epoch = {
            let mut st = self.state();
            let Some(live) = st.agents.get_mut(&agent) else {
                return;
            };
            live.conns.retain(|c| c.id() != conn_id);
            if live.online() {
                return;
            }
            live.epoch += 1;
            let epoch = live.epoch;
            let convs: Vec<ConversationId> = live.convs.iter().copied().collect();
            for id in convs {
                if let Some(c) = st.convs.get(&id) {
                    st.to_visitor(
                        c.visitor,
                        &encode(&ServerMsg::Presence {
                            conversation: id,
                            party: Party::Agent,
                            online: false,
                        }),
                    );
                }
                st.announce(id);
            }
            if !st.agents_online() {
                st.broadcast_availability();
            }
            epoch
        };
        self.start_grace(agent, epoch);
    }

    fn start_grace(&self, agent: AgentId, epoch: u64) {
        let hub = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(hub.0.grace).await;
            hub.grace_expired(agent, epoch).await;
        });
    }

    /// After the grace period: an agent still away loses their conversations to the queue.
    async fn grace_expired(&self, agent: AgentId, epoch: u64) {
        let _guard = self.0.lifecycle.lock().await;
        let (name, convs) = {
            let mut st = self.state();
            let Some(live) = st.agents.get_mut(&agent) else {
                return;
            };
            if live.online() || live.epoch != epoch {
                return;
            }
            (live.name.clone(), std::mem::take(&mut live.convs))
        };
        self.requeue(&name, convs).await;
    }

    /// An agent was disabled or removed: their conversations go back to the
    /// queue at once, and the hub forgets them until they sign in again.
    pub async fn agent_removed(&self, agent: AgentId) {
        let _guard = self.0.lifecycle.lock().await;
        let Some(live) = self.state().agents.remove(&agent) else {
            return;
        };
        self.requeue(&live.name, live.convs).await;
        if !self.state().agents_online() {
            self.state().broadcast_availability();
        }
    }

    /// Puts `convs` (taken from agent `name`) back at the head of the queue,
    /// tells their visitors, and hands them out again (lifecycle lock held).
    async fn requeue(&self, name: &str, convs: BTreeSet<ConversationId>) {
        // Oldest first, ahead of conversations that queued later.
        for &id in convs.iter().rev() {
            if let Err(e) = self.storage().requeue(id).await {
                tracing::error!(error = %e, "requeueing a conversation failed");
            }
            {
                let mut st = self.state();
                if let Some(c) = st.convs.get_mut(&id) {
                    c.agent = None;
                }
                st.queue.push_front(id);
            }
        }
        for &id in &convs {
            self.post_system(
                id,
                SystemEvent::Requeued {
                    agent: name.to_owned(),
                },
            )
            .await;
            self.state().announce(id);
        }
        self.dispatch().await;
    }

    // ---- lifecycle ----

    /// The visitor opened the chat: open a conversation if none is open and an agent is online.
    pub async fn visitor_start(&self, visitor: VisitorId, conn: &Conn) {
        let _guard = self.0.lifecycle.lock().await;
        let (open, online) = {
            let st = self.state();
            (st.by_visitor.get(&visitor).copied(), st.agents_online())
        };
        if let Some(id) = open {
            let summary = self.state().summary(id);
            if let Some(summary) = summary {
                conn.send(&ServerMsg::Conversation {
                    conversation: summary,
                })
                .await;
            }
            return;
        }
        if !online {
            conn.send(&ServerMsg::Availability {
                agents_online: false,
            })
            .await;
            return;
        }
        if self.open_conversation(visitor, conn).await.is_some() {
            self.dispatch().await;
        }
    }

    /// Creates and queues a conversation (lifecycle lock held by the caller).
    async fn open_conversation(&self, visitor: VisitorId, conn: &Conn) -> Option<ConversationId> {
        let limit = self.0.conversations_per_hour.load(Ordering::Relaxed);
        let since = super::storage::now_ms() - 3_600_000;
        match self.storage().conversations_since(visitor, since).await {
            Ok(n) if n >= i64::from(limit) => {
                conn.send(&ServerMsg::error(
                    ErrorCode::SlowDown,
                    "too many new conversations; try again later",
                    None,
                ))
                .await;
                return None;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "counting conversations failed"),
        }
        match self.storage().create_conversation(visitor).await {
            Ok(id) => {
                let mut st = self.state();
                st.convs.insert(
                    id,
                    ConvLive {
                        visitor,
                        agent: None,
                        last_seq: 0,
                        agent_read_seq: 0,
                    },
                );
                st.by_visitor.insert(visitor, id);
                st.queue.push_back(id);
                st.announce(id);
                Some(id)
            }
            Err(e) => {
                tracing::error!(error = %e, "creating a conversation failed");
                conn.send(&ServerMsg::error(
                    ErrorCode::Storage,
                    "the conversation could not be opened; try again",
                    None,
                ))
                .await;
                None
            }
        }
    }

    /// Hands queued conversations to online agents with free capacity, in
    /// queue order, then tells every waiting visitor their place.
    async fn dispatch(&self) {
        loop {
            let next = {
                let st = self.state();
                st.queue
                    .front()
                    .copied()
                    .zip(st.pick_agent())
                    .map(|(id, agent)| (id, agent, st.agents[&agent].name.clone()))
            };
            let Some((id, agent, name)) = next else {
                break;
            };
            if let Err(e) = self.storage().assign(id, agent).await {
                tracing::error!(error = %e, "assigning a conversation failed");
                break;
            }
            {
                let mut st = self.state();
                st.queue.retain(|c| *c != id);
                if let Some(c) = st.convs.get_mut(&id) {
                    c.agent = Some(agent);
                }
                if let Some(a) = st.agents.get_mut(&agent) {
                    a.convs.insert(id);
                    a.idle_since = Instant::now();
                }
                st.announce(id);
            }
            self.post_system(id, SystemEvent::Assigned { agent: name })
                .await;
        }
        let st = self.state();
        for &id in &st.queue {
            st.announce(id);
        }
    }

    /// The agent ends a conversation; the visitor is told, and capacity frees.
    pub async fn close(&self, agent: &AgentInfo, id: ConversationId, conn: &Conn) {
        let _guard = self.0.lifecycle.lock().await;
        if !self.serves(agent.id, id) {
            conn.send(&ServerMsg::error(
                ErrorCode::Forbidden,
                "that conversation is not yours to close",
                None,
            ))
            .await;
            return;
        }
        self.post_system(
            id,
            SystemEvent::Closed {
                agent: agent.name.clone(),
            },
        )
        .await;
        if let Err(e) = self.storage().close(id).await {
            tracing::error!(error = %e, "closing a conversation failed");
            conn.send(&ServerMsg::error(
                ErrorCode::Storage,
                "the conversation could not be closed; try again",
                None,
            ))
            .await;
            return;
        }
        {
            let mut st = self.state();
            let Some(mut summary) = st.summary(id) else {
                return;
            };
            summary.status = ConversationStatus::Closed;
            st.to_both(
                id,
                &encode(&ServerMsg::Conversation {
                    conversation: summary,
                }),
            );
            if let Some(c) = st.convs.remove(&id) {
                st.by_visitor.remove(&c.visitor);
            }
            if let Some(a) = st.agents.get_mut(&agent.id) {
                a.convs.remove(&id);
            }
        }
        self.dispatch().await;
    }

    /// An admin changed an agent's name or capacity.
    pub async fn agent_updated(&self, agent: &AgentInfo) {
        let _guard = self.0.lifecycle.lock().await;
        if let Some(live) = self.state().agents.get_mut(&agent.id) {
            live.name = agent.name.clone();
            live.capacity = agent.capacity;
        }
        self.dispatch().await;
    }
}

/// A summary of a conversation the hub no longer tracks (closed).
fn closed_summary(row: &super::storage::ConversationRow) -> ConversationSummary {
    ConversationSummary {
        id: row.id,
        status: row.status(),
        visitor_label: row.visitor_id.label(),
        agent_name: row.agent_name.clone(),
        visitor_online: true,
        agent_online: false,
        last_seq: row.last_seq,
        agent_read_seq: row.agent_read_seq,
        queue_position: None,
    }
}
