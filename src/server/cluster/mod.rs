//! Several kefu nodes on one PostgreSQL database acting as one (`--redis`).
//!
//! PostgreSQL stays the record and the judge: every message is stored (and
//! given its seq) before anyone hears of it, and the hub's decisions
//! (assignment, the queue, close, transfer, requeue) are taken one at a time
//! across the cluster under a lock in the database, on state read afresh
//! from it (`hub/cluster.rs`). Redis only carries news between nodes, over
//! [`Bus`]:
//! - frames for sockets held by other nodes ([`Event::Frame`]), published
//!   after the commit; a lost one is found again in the database (a node
//!   that sees a gap in a conversation's seqs reads it; after any
//!   reconnection to Redis every node reads what it may have missed);
//! - that the shared state changed ([`Event::Changed`]): others reload it;
//! - which agents and visitors each node holds ([`Presence`]), rewritten
//!   every [`bus::HEARTBEAT`] under a key that expires after [`bus::TTL`],
//!   so a node that dies takes its agents offline within that time.

pub mod bus;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::protocol::{AgentId, ConversationId};
use crate::server::storage::VisitorId;

pub use bus::{Bus, Incoming};

/// What one node tells the others.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Event {
    /// A frame for every socket these parties hold on other nodes.
    Frame {
        /// Who it is for.
        to: Vec<Target>,
        /// The conversation it is about, when it is a stored message: the
        /// receiving node delivers it in seq order (filling gaps from the
        /// database) to that conversation's sockets.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conv: Option<ConversationId>,
        /// The stored message's seq (with `conv`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<i64>,
        /// The frame's JSON text, as sockets get it.
        frame: String,
    },
    /// The shared state (conversations, agents, presence) changed: reload it.
    Changed,
    /// An admin saved the site's settings: read them again.
    Settings,
    /// Sessions ended (sign-out, disabled agent, new password): the edge's
    /// revocation, as it wrote it, for the sockets other nodes hold.
    Revoked {
        /// The edge's JSON of what ends.
        what: String,
    },
}

/// The receivers of a relayed frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Every socket of one visitor.
    Visitor(VisitorId),
    /// Every socket of one agent.
    Agent(AgentId),
    /// Every visitor's socket (availability).
    Visitors,
}

/// Who has a socket open on a node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// Agents with a console open.
    pub agents: BTreeSet<AgentId>,
    /// Visitors with a widget open.
    pub visitors: BTreeSet<VisitorId>,
}

impl Presence {
    /// Adds what `other` holds.
    pub fn extend(&mut self, other: Presence) {
        self.agents.extend(other.agents);
        self.visitors.extend(other.visitors);
    }
}
