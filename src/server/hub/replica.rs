//! The routing tables as a replica, in a cluster (`--redis`): rebuilt from
//! the database and the other nodes' presence, and the frames other nodes
//! relay, pushed to this node's sockets — stored messages in seq order,
//! held back while an earlier one is missing.

use std::collections::{BTreeSet, HashMap, HashSet};

use axum::extract::ws::Utf8Bytes;

use super::first_response::FirstWait;
use super::state::{AgentLive, ConvLive, State};
use super::Conn;
use crate::protocol::{AgentId, ConversationId};
use crate::server::cluster::{Presence, Target};
use crate::server::storage::{AgentRow, ConversationRow};

impl State {
    /// This node's sockets for `to`, and for both sides of `conv` when given.
    pub(super) fn local_conns(&self, to: &[Target], conv: Option<ConversationId>) -> Vec<Conn> {
        if to.is_empty() {
            // A conversation's own two sides: their sockets are distinct,
            // nothing to deduplicate (the path of every stored message).
            return conv
                .map(|id| self.conv_sockets(id).cloned().collect())
                .unwrap_or_default();
        }
        let mut targets: Vec<Target> = to.to_vec();
        if let Some(id) = conv {
            targets.extend(self.parties(id));
        }
        let mut seen = HashSet::new();
        let mut conns = Vec::new();
        for target in targets {
            let found: Vec<&Conn> = match target {
                Target::Visitor(v) => self.visitors.get(&v).into_iter().flatten().collect(),
                Target::Agent(a) => self
                    .agents
                    .get(&a)
                    .into_iter()
                    .flat_map(|a| &a.conns)
                    .collect(),
                Target::Visitors => self.visitors.values().flatten().collect(),
            };
            for conn in found {
                if seen.insert(conn.id()) {
                    conns.push(conn.clone());
                }
            }
        }
        conns
    }

    /// Pushes stored message `seq` of conversation `id` to this node's
    /// sockets of it (and of `to`) but `except`, in seq order: a message
    /// already pushed is dropped, one that comes before its predecessor is
    /// held until the gap is filled. `true` when a gap waits to be filled
    /// from the database.
    pub(super) fn deliver_in_order(
        &mut self,
        id: ConversationId,
        seq: i64,
        frame: Utf8Bytes,
        except: Option<u64>,
        to: &[Target],
    ) -> bool {
        let Some(conv) = self.convs.get_mut(&id) else {
            // Not known here yet (a reload is on its way): its sockets have
            // it, and the reload starts the conversation after it.
            let pushed = self.early.entry(id).or_default();
            if seq <= *pushed {
                return false;
            }
            *pushed = seq;
            for conn in self.local_conns(to, None) {
                if Some(conn.id()) != except {
                    conn.push(&frame);
                }
            }
            return false;
        };
        if seq <= conv.last_seq {
            return false;
        }
        if seq > conv.last_seq + 1 {
            conv.ahead.insert(seq, (frame, except));
            return true;
        }
        let mut ready = vec![(frame, except)];
        conv.last_seq = seq;
        while let Some(next) = conv.ahead.remove(&(conv.last_seq + 1)) {
            conv.last_seq += 1;
            ready.push(next);
        }
        let gap = !conv.ahead.is_empty();
        let conns = self.local_conns(to, Some(id));
        for (frame, except) in ready {
            for conn in &conns {
                if Some(conn.id()) != except {
                    conn.push(&frame);
                }
            }
        }
        gap
    }

    /// Rebuilds the shared tables from the database's open conversations
    /// and agents and, when Redis answered, the other nodes' presence;
    /// this node's sockets, and each conversation's delivered seq, stay.
    pub(super) fn sync(
        &mut self,
        rows: Vec<ConversationRow>,
        agents: &[AgentRow],
        others: Option<Presence>,
    ) {
        let open: HashSet<ConversationId> = rows.iter().map(|r| r.id).collect();
        self.convs.retain(|id, _| open.contains(id));
        self.by_visitor.retain(|_, id| open.contains(id));
        self.returned.retain(|id, _| open.contains(id));
        self.queue.clear();
        let mut serving: HashMap<AgentId, BTreeSet<ConversationId>> = HashMap::new();
        for row in rows {
            let early = self.early.remove(&row.id);
            let conv = self.convs.entry(row.id).or_insert_with(|| ConvLive {
                // What this node's sockets were given before it knew the
                // conversation (the database may have read less than that,
                // or more: the next catch-up fills up to what it read).
                last_seq: early.unwrap_or(row.last_seq),
                caught_up_to: row.last_seq,
                first_wait: if row.last_seq > 0 {
                    FirstWait::Done
                } else {
                    FirstWait::Unasked
                },
                ..ConvLive::new(row.visitor_id, row.agent_id, row.visitor.clone())
            });
            conv.agent = row.agent_id;
            conv.stored_seq = row.last_seq;
            conv.agent_read_seq = conv.agent_read_seq.max(row.agent_read_seq);
            conv.visitor_read_seq = conv.visitor_read_seq.max(row.visitor_read_seq);
            conv.profile = row.visitor;
            self.by_visitor.insert(row.visitor_id, row.id);
            match row.agent_id {
                Some(agent) => {
                    serving.entry(agent).or_default().insert(row.id);
                }
                None => self.queue.push_back(row.id),
            }
        }
        // Entries of conversations closed before this node knew them are
        // never taken: keep the map from growing without end.
        if self.early.len() > 10_000 {
            self.early.clear();
        }
        if let Some(others) = others {
            self.remote = others;
        }
        for row in agents {
            let info = row.info();
            let wanted = serving.contains_key(&info.id) || self.remote.agents.contains(&info.id);
            if wanted && !info.disabled {
                self.agents
                    .entry(info.id)
                    .or_insert_with(|| AgentLive::new(info.name.clone(), info.capacity));
            }
            if let Some(live) = self.agents.get_mut(&info.id) {
                live.name = info.name.clone();
                live.capacity = info.capacity;
                live.away = info.away;
            }
        }
        // Disabled or deleted: never given a conversation again (their
        // sockets are closed by the revocation every node hears).
        let enabled: HashSet<AgentId> = agents
            .iter()
            .filter(|a| !a.disabled)
            .map(|a| a.id)
            .collect();
        self.agents.retain(|id, _| enabled.contains(id));
        let remote = &self.remote.agents;
        for (id, live) in self.agents.iter_mut() {
            live.convs = serving.remove(id).unwrap_or_default();
            live.remote = remote.contains(id);
        }
        self.agents
            .retain(|_, live| live.online() || !live.convs.is_empty());
    }

    /// Takes the other nodes' latest presence; `true` when it names an
    /// agent this replica does not know yet (a reload is due).
    pub(super) fn set_remote(&mut self, others: Presence) -> bool {
        for (id, live) in self.agents.iter_mut() {
            live.remote = others.agents.contains(id);
        }
        let unknown = others.agents.iter().any(|a| !self.agents.contains_key(a));
        self.remote = others;
        unknown
    }

    /// Who has a socket open on this node.
    pub(super) fn local_presence(&self) -> Presence {
        Presence {
            agents: self
                .agents
                .iter()
                .filter(|(_, a)| !a.conns.is_empty())
                .map(|(id, _)| *id)
                .collect(),
            visitors: self.visitors.keys().copied().collect(),
        }
    }
}
