//! The hub's routing tables: who is connected (agents with their sockets
//! and conversations, visitors' sockets) and which conversations are live,
//! with the sends that fan a frame out to the right sockets.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;

use super::first_response::FirstWait;
use super::typing::TypingPace;
use super::{encode, Conn};
use crate::protocol::{
    AgentId, ConversationId, ConversationStatus, ConversationSummary, Party, ServerMsg,
};
use crate::server::cluster::{Bus, Event, Presence, Target};
use crate::server::hours::HoursGate;
use crate::server::storage::{VisitorId, VisitorProfile};

/// An agent the hub knows: their sockets and the conversations they serve.
pub(super) struct AgentLive {
    pub(super) name: String,
    pub(super) capacity: u32,
    pub(super) conns: Vec<Conn>,
    pub(super) convs: BTreeSet<ConversationId>,
    pub(super) idle_since: Instant,
    /// Bumped on every online/offline change; a grace timer acts only if it still matches.
    pub(super) epoch: u64,
    /// Chose "away": keeps their conversations, gets no new ones.
    pub(super) away: bool,
    /// Has a console open on another node (`--redis`).
    pub(super) remote: bool,
}

impl AgentLive {
    pub(super) fn new(name: String, capacity: u32) -> Self {
        Self {
            name,
            capacity,
            conns: Vec::new(),
            convs: BTreeSet::new(),
            idle_since: Instant::now(),
            epoch: 0,
            away: false,
            remote: false,
        }
    }

    pub(super) fn online(&self) -> bool {
        !self.conns.is_empty() || self.remote
    }

    /// Online and not away: may be given new conversations.
    pub(super) fn available(&self) -> bool {
        self.online() && !self.away
    }

    pub(super) fn free(&self) -> u32 {
        self.capacity.saturating_sub(self.convs.len() as u32)
    }
}

/// An open conversation: its visitor, its agent (none while queued), its counters.
pub(super) struct ConvLive {
    pub(super) visitor: VisitorId,
    pub(super) agent: Option<AgentId>,
    pub(super) last_seq: i64,
    pub(super) agent_read_seq: i64,
    pub(super) visitor_read_seq: i64,
    /// What labels the visitor in the agent's tab.
    pub(super) profile: VisitorProfile,
    /// The pace of each side's typing frames (never stored).
    pub(super) typing: TypingPace,
    /// The visitor's first wait for an agent (`kefu_first_response_seconds`).
    pub(super) first_wait: FirstWait,
    /// In a cluster: stored messages that reached this node before an
    /// earlier one, held until the gap is filled (`replica.rs`).
    pub(super) ahead: BTreeMap<i64, (Utf8Bytes, Option<u64>)>,
    /// In a cluster: the conversation's last seq in the database at the
    /// last reload, and at the last catch-up (`cluster.rs`).
    pub(super) stored_seq: i64,
    pub(super) caught_up_to: i64,
}

impl ConvLive {
    /// A conversation as the hub first sees it.
    pub(super) fn new(visitor: VisitorId, agent: Option<AgentId>, profile: VisitorProfile) -> Self {
        Self {
            visitor,
            agent,
            last_seq: 0,
            agent_read_seq: 0,
            visitor_read_seq: 0,
            profile,
            typing: TypingPace::default(),
            first_wait: FirstWait::default(),
            ahead: BTreeMap::new(),
            stored_seq: 0,
            caught_up_to: 0,
        }
    }
}

#[derive(Default)]
/// The routing tables, behind the hub's mutex.
pub(super) struct State {
    pub(super) agents: HashMap<AgentId, AgentLive>,
    pub(super) visitors: HashMap<VisitorId, Vec<Conn>>,
    pub(super) convs: HashMap<ConversationId, ConvLive>,
    pub(super) by_visitor: HashMap<VisitorId, ConversationId>,
    pub(super) queue: VecDeque<ConversationId>,
    /// Queued conversations an agent handed back (see `transfer.rs`): not
    /// given to that agent again.
    pub(super) returned: HashMap<ConversationId, AgentId>,
    /// Business hours now: closed to new chats, and when the team is back.
    pub(super) hours: HoursGate,
    /// In a cluster: where frames for other nodes' sockets go.
    pub(super) bus: Option<Bus>,
    /// In a cluster: who the other nodes hold.
    pub(super) remote: Presence,
    /// In a cluster: the highest seq pushed to this node's sockets of a
    /// conversation the replica did not know yet (`replica.rs`).
    pub(super) early: HashMap<ConversationId, i64>,
}

impl State {
    /// Whether any agent would take a new conversation now (online and
    /// not away, within business hours): what visitors are told as
    /// "agents online".
    pub(super) fn agents_online(&self) -> bool {
        !self.hours.closed && self.agents.values().any(AgentLive::available)
    }

    /// What visitors are told about availability.
    pub(super) fn availability(&self) -> ServerMsg {
        ServerMsg::Availability {
            agents_online: self.agents_online(),
            back_at: self.hours.back_at,
        }
    }

    pub(super) fn summary(&self, id: ConversationId) -> Option<ConversationSummary> {
        let conv = self.convs.get(&id)?;
        let agent = conv.agent.and_then(|a| self.agents.get(&a));
        Some(ConversationSummary {
            id,
            status: if conv.agent.is_some() {
                ConversationStatus::Assigned
            } else {
                ConversationStatus::Queued
            },
            visitor_label: conv.visitor.label(),
            visitor_number: conv.visitor.0,
            agent_name: agent.map(|a| a.name.clone()),
            visitor_online: self.visitor_connected(conv.visitor),
            agent_online: agent.is_some_and(AgentLive::online),
            last_seq: conv.last_seq,
            agent_read_seq: conv.agent_read_seq,
            visitor_read_seq: conv.visitor_read_seq,
            queue_position: self
                .queue
                .iter()
                .position(|c| *c == id)
                .map(|p| p as u32 + 1),
            visitor_name: conv.profile.name.clone(),
            visitor_email: conv.profile.email.clone(),
            verified: conv.profile.verified,
            rating: None,
        })
    }

    /// Whether `visitor` has a socket open, here or (in a cluster) on another node.
    pub(super) fn visitor_connected(&self, visitor: VisitorId) -> bool {
        self.visitors.contains_key(&visitor) || self.remote.visitors.contains(&visitor)
    }

    pub(super) fn to_visitor(&self, visitor: VisitorId, frame: &Utf8Bytes) {
        for conn in self.visitors.get(&visitor).into_iter().flatten() {
            conn.push(frame);
        }
        self.relay(|_| vec![Target::Visitor(visitor)], None, frame);
    }

    pub(super) fn to_agent(&self, agent: AgentId, frame: &Utf8Bytes) {
        for conn in self.agents.get(&agent).into_iter().flat_map(|a| &a.conns) {
            conn.push(frame);
        }
        self.relay(|_| vec![Target::Agent(agent)], None, frame);
    }

    /// In a cluster: hands `frame` to the other nodes, for their sockets of
    /// `to` (asked only then: on one node a send allocates nothing more).
    pub(super) fn relay(
        &self,
        to: impl FnOnce(&Self) -> Vec<Target>,
        conv: Option<(ConversationId, i64)>,
        frame: &Utf8Bytes,
    ) {
        if let Some(bus) = &self.bus {
            bus.publish(Event::Frame {
                to: to(self),
                conv: conv.map(|(id, _)| id),
                seq: conv.map(|(_, seq)| seq),
                frame: frame.as_str().to_owned(),
            });
        }
    }

    /// Both sides of conversation `id`, as targets of a relayed frame.
    pub(super) fn parties(&self, id: ConversationId) -> Vec<Target> {
        let Some(conv) = self.convs.get(&id) else {
            return Vec::new();
        };
        let mut to = vec![Target::Visitor(conv.visitor)];
        to.extend(conv.agent.map(Target::Agent));
        to
    }

    /// Sends a conversation's event to both sides.
    pub(super) fn to_both(&self, id: ConversationId, frame: &Utf8Bytes) {
        self.to_both_except(id, frame, None);
    }

    /// Sends a conversation's event to every socket of both sides but
    /// `except` (a sender, which learns of its own message from the ack).
    pub(super) fn to_both_except(
        &self,
        id: ConversationId,
        frame: &Utf8Bytes,
        except: Option<u64>,
    ) {
        if !self.convs.contains_key(&id) {
            return;
        }
        self.relay(|st| st.parties(id), None, frame);
        for conn in self.conv_sockets(id) {
            if Some(conn.id()) != except {
                conn.push(frame);
            }
        }
    }

    /// This node's sockets of both sides of conversation `id` (distinct:
    /// a socket is a visitor's or an agent's).
    pub(super) fn conv_sockets(&self, id: ConversationId) -> impl Iterator<Item = &Conn> + '_ {
        let conv = self.convs.get(&id);
        let visitor = conv
            .and_then(|c| self.visitors.get(&c.visitor))
            .into_iter()
            .flatten();
        let agent = conv
            .and_then(|c| c.agent)
            .and_then(|a| self.agents.get(&a))
            .into_iter()
            .flat_map(|a| &a.conns);
        visitor.chain(agent)
    }

    /// Tells the agent serving `visitor`'s open conversation, if any, that
    /// the visitor came (`online`) or left, and refreshes its summary.
    pub(super) fn visitor_presence(&self, visitor: VisitorId, online: bool) {
        let Some(&id) = self.by_visitor.get(&visitor) else {
            return;
        };
        if let Some(agent) = self.convs.get(&id).and_then(|c| c.agent) {
            let notice = ServerMsg::Presence {
                conversation: id,
                party: Party::Visitor,
                online,
            };
            self.to_agent(agent, &encode(&notice));
            self.announce(id);
        }
    }

    /// Tells the visitors of every conversation `agent` serves that the
    /// agent left, and refreshes the summaries.
    pub(super) fn agent_left(&self, agent: AgentId) {
        let Some(live) = self.agents.get(&agent) else {
            return;
        };
        for &id in &live.convs {
            if let Some(c) = self.convs.get(&id) {
                self.to_visitor(
                    c.visitor,
                    &encode(&ServerMsg::Presence {
                        conversation: id,
                        party: Party::Agent,
                        online: false,
                    }),
                );
            }
            self.announce(id);
        }
    }

    /// Sends the conversation's fresh summary to both sides.
    pub(super) fn announce(&self, id: ConversationId) {
        if let Some(summary) = self.summary(id) {
            self.to_both(
                id,
                &encode(&ServerMsg::Conversation {
                    conversation: summary,
                }),
            );
        }
    }

    pub(super) fn broadcast_availability(&self) {
        let frame = encode(&self.availability());
        for conns in self.visitors.values() {
            for conn in conns {
                conn.push(&frame);
            }
        }
        self.relay(|_| vec![Target::Visitors], None, &frame);
    }

    /// The available (online, not away) agent with the most free capacity;
    /// ties go to the one idle longest; never `except` (the agent who
    /// handed the conversation back).
    pub(super) fn pick_agent_except(&self, except: Option<AgentId>) -> Option<AgentId> {
        self.agents
            .iter()
            .filter(|(id, a)| Some(**id) != except && a.available() && a.free() > 0)
            .max_by(|(_, a), (_, b)| {
                a.free()
                    .cmp(&b.free())
                    .then(b.idle_since.cmp(&a.idle_since))
            })
            .map(|(id, _)| *id)
    }
}
