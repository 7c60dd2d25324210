//! The conversations' lifecycle: grace periods and requeueing, opening,
//! assignment by capacity (the queue), closing.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::state::ConvLive;
use super::{encode, Conn, Hub};
use crate::protocol::{
    AgentId, AgentInfo, ConversationId, ConversationStatus, ErrorCode, ServerMsg, SystemEvent,
};
use crate::server::storage::{VisitorId, VisitorProfile};

impl Hub {
    pub(super) fn start_grace(&self, agent: AgentId, epoch: u64) {
        if self.clustered() {
            // Deadlines in the database, kept by every node's sweep (`cluster.rs`).
            return;
        }
        let hub = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(hub.0.grace).await;
            hub.grace_expired(agent, epoch).await;
        });
    }

    /// After the grace period: an agent still away loses their conversations to the queue.
    async fn grace_expired(&self, agent: AgentId, epoch: u64) {
        let _guard = self.decide().await;
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
        let _guard = self.decide().await;
        let (live, convs) = {
            let mut st = self.state();
            let live = st.agents.remove(&agent);
            // Every conversation stored as theirs (in a cluster the reload
            // under the decision may have dropped a disabled agent already).
            let convs: BTreeSet<ConversationId> = st
                .convs
                .iter()
                .filter(|(_, c)| c.agent == Some(agent))
                .map(|(id, _)| *id)
                .collect();
            (live, convs)
        };
        let name = match live {
            Some(live) => live.name,
            None if convs.is_empty() => return,
            None => match self.storage().agent_by_id(agent).await {
                Ok(row) => row.map(|r| r.name).unwrap_or_default(),
                Err(e) => {
                    tracing::warn!(error = %e, "reading a removed agent's name failed");
                    String::new()
                }
            },
        };
        self.requeue(&name, convs).await;
        if !self.state().agents_online() {
            self.state().broadcast_availability();
        }
    }

    /// Puts `convs` (taken from agent `name`) back at the head of the queue,
    /// tells their visitors, and hands them out again (lifecycle lock held).
    pub(super) async fn requeue(&self, name: &str, convs: BTreeSet<ConversationId>) {
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

    /// The visitor opened the chat: open a conversation if none is open and an agent is online.
    pub async fn visitor_start(&self, visitor: VisitorId, conn: &Conn) {
        let _guard = self.decide().await;
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
            let availability = self.state().availability();
            conn.send(&availability).await;
            return;
        }
        if self.open_conversation(visitor, conn).await.is_some() {
            self.dispatch().await;
        }
    }

    /// Creates and queues a conversation (lifecycle lock held by the caller).
    pub(super) async fn open_conversation(
        &self,
        visitor: VisitorId,
        conn: &Conn,
    ) -> Option<ConversationId> {
        let limit = self.0.conversations_per_hour.load(Ordering::Relaxed);
        let since = crate::server::storage::now_ms() - 3_600_000;
        match self.storage().conversations_since(visitor, since).await {
            Ok(n) if n >= i64::from(limit) => {
                conn.send(&ServerMsg::error(ErrorCode::SlowDown, None))
                    .await;
                return None;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "counting conversations failed"),
        }
        // What labels the visitor for the agent who will serve them.
        let profile = self
            .storage()
            .visitor_profile(visitor)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "reading a visitor's label failed");
                VisitorProfile::default()
            });
        // A conversation is worth keeping: so, from now on, is its visitor.
        if let Err(e) = self.keep(visitor).await {
            tracing::error!(error = %e, "storing a visitor failed");
            conn.send(&ServerMsg::error(ErrorCode::Storage, None)).await;
            return None;
        }
        let offline = !self.state().agents_online();
        match self.storage().create_conversation(visitor).await {
            Ok(id) => {
                // A message left while no one could take it: a missed
                // chat in reports (one more write, only then).
                if offline {
                    if let Err(e) = self.storage().mark_offline(id).await {
                        tracing::warn!(error = %e, "marking a conversation offline failed");
                    }
                }
                let mut st = self.state();
                st.convs.insert(id, ConvLive::new(visitor, None, profile));
                st.by_visitor.insert(visitor, id);
                st.queue.push_back(id);
                st.announce(id);
                Some(id)
            }
            Err(e) => {
                tracing::error!(error = %e, "creating a conversation failed");
                conn.send(&ServerMsg::error(ErrorCode::Storage, None)).await;
                None
            }
        }
    }

    /// Hands queued conversations to online agents with free capacity, in
    /// queue order, then tells every waiting visitor their place.
    pub(super) async fn dispatch(&self) {
        loop {
            // The oldest queued conversation someone can take: the head,
            // unless no one but the agent who handed it back could.
            let next = {
                let st = self.state();
                st.queue
                    .iter()
                    .find_map(|&id| {
                        let except = st.returned.get(&id).copied();
                        st.pick_agent_except(except).map(|agent| (id, agent))
                    })
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
                st.returned.remove(&id);
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
        let _guard = self.decide().await;
        if !self.serves(agent.id, id) {
            conn.send(&ServerMsg::error(ErrorCode::Forbidden, None))
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
            conn.send(&ServerMsg::error(ErrorCode::Storage, None)).await;
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
            st.returned.remove(&id);
            if let Some(a) = st.agents.get_mut(&agent.id) {
                a.convs.remove(&id);
            }
        }
        self.dispatch().await;
    }

    /// An admin changed an agent's name or capacity.
    pub async fn agent_updated(&self, agent: &AgentInfo) {
        let _guard = self.decide().await;
        if let Some(live) = self.state().agents.get_mut(&agent.id) {
            live.name = agent.name.clone();
            live.capacity = agent.capacity;
        }
        self.dispatch().await;
    }
}
