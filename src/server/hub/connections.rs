//! Sockets coming and going: registration with the snapshot and replay a
//! new socket gets, presence notices, and the start of an agent's grace period.

use std::time::Instant;

use super::state::AgentLive;
use super::{closed_summary, encode, Conn, Hub};
use crate::protocol::{
    AgentId, AgentInfo, ConversationId, ConversationSummary, Party, Resume, ServerMsg,
};
use crate::server::storage::VisitorId;

impl Hub {
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
            if first {
                st.visitor_presence(visitor, true);
            }
            open.and_then(|id| st.summary(id))
        };
        self.publish_presence().await;
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
        {
            let mut st = self.state();
            let Some(conns) = st.visitors.get_mut(&visitor) else {
                return;
            };
            conns.retain(|c| c.id() != conn_id);
            if !conns.is_empty() {
                return;
            }
            st.visitors.remove(&visitor);
            st.visitor_presence(visitor, false);
        }
        self.forget_unstored(visitor);
        self.publish_presence().await;
    }

    /// Registers an agent socket, sends it every conversation the agent
    /// serves (replaying what it missed; held meanwhile, as in
    /// [`Hub::visitor_connected`]), and hands out queued conversations.
    pub async fn agent_connected(&self, agent: &AgentInfo, conn: &Conn, resume: &[Resume]) {
        let _guard = self.decide().await;
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
            live.away = agent.away;
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
        self.publish_presence().await;
        if let Some(cluster) = &self.0.cluster {
            if let Err(e) = cluster.coord.end_grace(agent.id).await {
                tracing::warn!(error = %e, "ending a grace period failed");
            }
        }
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
                self.replay_notes(conn, r.conversation, r.after).await;
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
                // Still here through another socket (or on another node).
                None
            } else {
                live.epoch += 1;
                Some(live.epoch)
            }
        };
        let Some(epoch) = epoch else {
            self.publish_presence().await;
            return;
        };
        {
            let st = self.state();
            if !st.agents.contains_key(&agent) {
                return;
            }
            st.agent_left(agent);
            if !st.agents_online() {
                st.broadcast_availability();
            }
        }
        self.publish_presence().await;
        self.start_grace(agent, epoch);
    }
}
