//! The hub in a cluster (`--redis`): decisions under the database's lock on
//! state read afresh, the other nodes' frames delivered here, gaps filled
//! from the database, presence written to Redis (grace periods: `grace.rs`).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{mpsc, MutexGuard, Notify};

use super::{encode, Hub, REPLAY_LIMIT};
use crate::protocol::{AgentId, ConversationId, ServerMsg};
use crate::server::cluster::{Bus, Event, Incoming, Target};
use crate::server::storage::coordination::{Coordination, DecisionLock};
use crate::server::storage::StoreResult;

/// What other nodes ask of this node's edge.
#[derive(Debug, Clone)]
pub enum Elsewhere {
    /// Close the sockets of sessions that ended (the edge's revocation, as JSON).
    Revoked(String),
    /// Read the site's settings again.
    Settings,
}

/// What a clustered hub holds beside its tables.
pub(crate) struct Clustered {
    pub(super) bus: Bus,
    pub(super) coord: Arc<dyn Coordination>,
    /// Wakes the reloader (other nodes changed the shared state).
    pub(super) reload: Notify,
}

impl Clustered {
    /// Joins the hub's cluster parts.
    pub(crate) fn new(bus: Bus, coord: Arc<dyn Coordination>) -> Self {
        Self {
            bus,
            coord,
            reload: Notify::new(),
        }
    }
}

/// Held while the hub decides: this node's lifecycle lock and, in a
/// cluster, the database's decision lock. When dropped, the other nodes
/// are told to reload, and the lock is let go only once everything this
/// decision published has reached Redis (so a later decision's frames
/// never overtake it).
pub(super) struct Decision<'a> {
    _local: MutexGuard<'a, ()>,
    held: Option<(Bus, Option<DecisionLock>)>,
}

impl Drop for Decision<'_> {
    fn drop(&mut self) {
        if let Some((bus, lock)) = self.held.take() {
            bus.publish(Event::Changed);
            tokio::spawn(async move {
                bus.flush().await;
                if let Some(lock) = lock {
                    lock.release().await;
                }
            });
        }
    }
}

impl Hub {
    /// Takes the locks a decision needs (see [`Decision`]); in a cluster,
    /// reloads the shared tables under them first.
    pub(super) async fn decide(&self) -> Decision<'_> {
        let local = self.0.lifecycle.lock().await;
        let Some(cluster) = &self.0.cluster else {
            return Decision {
                _local: local,
                held: None,
            };
        };
        let lock = match cluster.coord.decision_lock().await {
            Ok(lock) => Some(lock),
            Err(e) => {
                tracing::error!(error = %e, "taking the cluster's decision lock failed");
                None
            }
        };
        if let Err(e) = self.reload().await {
            tracing::error!(error = %e, "reloading the shared state failed");
        }
        Decision {
            _local: local,
            held: Some((cluster.bus.clone(), lock)),
        }
    }

    /// In a cluster: tells the other nodes to close the sockets of
    /// sessions that ended (`what`: the edge's revocation).
    pub fn revoke_elsewhere(&self, what: String) {
        if let Some(cluster) = &self.0.cluster {
            cluster.bus.publish(Event::Revoked { what });
        }
    }

    /// In a cluster: tells the other nodes an admin saved the site's settings.
    pub fn settings_saved(&self) {
        if let Some(cluster) = &self.0.cluster {
            cluster.bus.publish(Event::Settings);
        }
    }

    /// What other nodes tell this node's edge (nothing on one node).
    pub fn elsewhere(&self) -> tokio::sync::broadcast::Receiver<Elsewhere> {
        self.0.elsewhere.subscribe()
    }

    /// Whether this hub is one node of several.
    pub(super) fn clustered(&self) -> bool {
        self.0.cluster.is_some()
    }

    /// Whether this hub is one node of several (`--redis`).
    pub fn is_clustered(&self) -> bool {
        self.clustered()
    }

    /// Reads the shared tables again (lifecycle lock held by the caller).
    async fn reload(&self) -> StoreResult<()> {
        let Some(cluster) = &self.0.cluster else {
            return Ok(());
        };
        let rows = self.storage().open_conversations().await?;
        let agents = self.storage().list_agents().await?;
        let others = match cluster.bus.others().await {
            Ok(others) => Some(others),
            Err(e) => {
                tracing::warn!(error = %e, "reading the other nodes' presence failed");
                None
            }
        };
        self.state().sync(rows, &agents, others);
        Ok(())
    }

    /// In a cluster, whether `agent` serves `id` once the shared tables
    /// were read again (a decision of another node may not have reached
    /// this one yet).
    pub(super) async fn serves_now(&self, agent: AgentId, id: ConversationId) -> bool {
        if self.serves(agent, id) {
            return true;
        }
        if !self.clustered() {
            return false;
        }
        let _local = self.0.lifecycle.lock().await;
        if let Err(e) = self.reload().await {
            tracing::warn!(error = %e, "reloading the shared state failed");
        }
        self.serves(agent, id)
    }

    /// Writes who has a socket here to Redis, before anyone decides on it.
    pub(super) async fn publish_presence(&self) {
        if let Some(cluster) = &self.0.cluster {
            let presence = self.state().local_presence();
            cluster.bus.set_presence(presence).await;
        }
    }

    /// A stored message: to this node's sockets in seq order and, in a
    /// cluster, to the other nodes.
    pub(super) fn fan_out(
        &self,
        id: ConversationId,
        seq: i64,
        frame: Utf8Bytes,
        except: Option<u64>,
    ) {
        let gap = {
            let mut st = self.state();
            if !self.clustered() {
                st.to_both_except(id, &frame, except);
                return;
            }
            st.relay(|st| st.parties(id), Some((id, seq)), &frame);
            st.deliver_in_order(id, seq, frame, except, &[])
        };
        if gap {
            let hub = self.clone();
            tokio::spawn(async move { hub.fill(id, None).await });
        }
    }

    /// Reads the messages this node's sockets of `id` lack from the
    /// database and delivers them: up to `upto`, or up to the first one
    /// held back.
    async fn fill(&self, id: ConversationId, upto: Option<i64>) {
        let (after, upto) = {
            let st = self.state();
            let Some(conv) = st.convs.get(&id) else {
                return;
            };
            let held = conv.ahead.keys().next().map(|s| s - 1);
            (conv.last_seq, upto.or(held))
        };
        let Some(upto) = upto.filter(|u| *u > after) else {
            return;
        };
        match self
            .storage()
            .messages_between(id, after, upto, REPLAY_LIMIT)
            .await
        {
            Ok(messages) => {
                for message in messages {
                    let seq = message.seq;
                    let frame = encode(&ServerMsg::Message { message });
                    self.state().deliver_in_order(id, seq, frame, None, &[]);
                }
            }
            Err(e) => tracing::warn!(error = %e, "filling a gap from the database failed"),
        }
    }

    /// Starts the tasks of a clustered hub: the other nodes' events, the
    /// reloader, and the sweep.
    pub(super) fn join(&self, incoming: mpsc::UnboundedReceiver<Incoming>) {
        tokio::spawn(self.clone().listen(incoming));
        tokio::spawn(self.clone().reloader());
        tokio::spawn(self.clone().sweeper());
    }

    async fn listen(self, mut incoming: mpsc::UnboundedReceiver<Incoming>) {
        let mut batch = Vec::new();
        while incoming.recv_many(&mut batch, 256).await > 0 {
            let mut changed = false;
            let mut connected = false;
            for item in batch.drain(..) {
                match item {
                    Incoming::Connected => connected = true,
                    Incoming::Event(Event::Changed) => changed = true,
                    Incoming::Event(Event::Revoked { what }) => {
                        let _ = self.0.elsewhere.send(Elsewhere::Revoked(what));
                    }
                    Incoming::Event(Event::Settings) => {
                        let _ = self.0.elsewhere.send(Elsewhere::Settings);
                    }
                    Incoming::Event(Event::Frame {
                        to,
                        conv,
                        seq,
                        frame,
                    }) => self.relayed(to, conv, seq, frame).await,
                }
            }
            if connected {
                // Anything published while this node was not subscribed is
                // lost: catch up now, and once more when what was committed
                // meanwhile is surely announced.
                let hub = self.clone();
                tokio::spawn(async move {
                    hub.catch_up(true).await;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    hub.catch_up(true).await;
                });
            } else if changed {
                if let Some(cluster) = &self.0.cluster {
                    cluster.reload.notify_one();
                }
            }
        }
    }

    /// Another node's frame, to this node's sockets.
    async fn relayed(
        &self,
        to: Vec<Target>,
        conv: Option<ConversationId>,
        seq: Option<i64>,
        frame: String,
    ) {
        let frame = Utf8Bytes::from(frame);
        match (conv, seq) {
            (Some(id), Some(seq)) => {
                let gap = self.state().deliver_in_order(id, seq, frame, None, &to);
                if gap {
                    self.fill(id, None).await;
                }
            }
            _ => {
                for conn in self.state().local_conns(&to, conv) {
                    conn.push(&frame);
                }
            }
        }
    }

    async fn reloader(self) {
        let Some(cluster) = &self.0.cluster else {
            return;
        };
        loop {
            cluster.reload.notified().await;
            let _local = self.0.lifecycle.lock().await;
            if let Err(e) = self.reload().await {
                tracing::warn!(error = %e, "reloading the shared state failed");
            }
        }
    }

    /// Reloads, then delivers to this node's sockets what the database
    /// holds beyond what they were given: up to what was stored at the
    /// previous catch-up (`everything`: up to now, after Redis was away,
    /// with fresh summaries too).
    pub(super) async fn catch_up(&self, everything: bool) {
        {
            let _local = self.0.lifecycle.lock().await;
            if let Err(e) = self.reload().await {
                tracing::warn!(error = %e, "reloading the shared state failed");
                return;
            }
        }
        let due: Vec<(ConversationId, i64)> = {
            let mut st = self.state();
            let local: Vec<ConversationId> = st
                .convs
                .iter()
                .filter(|(id, _)| !st.local_conns(&[], Some(**id)).is_empty())
                .map(|(id, _)| *id)
                .collect();
            if everything {
                for &id in &local {
                    if let Some(summary) = st.summary(id) {
                        let frame = encode(&ServerMsg::Conversation {
                            conversation: summary,
                        });
                        for conn in st.local_conns(&[], Some(id)) {
                            conn.push(&frame);
                        }
                    }
                }
            }
            let mut due = Vec::new();
            for id in local {
                if let Some(conv) = st.convs.get_mut(&id) {
                    let upto = if everything {
                        conv.stored_seq
                    } else {
                        conv.caught_up_to
                    };
                    conv.caught_up_to = conv.stored_seq;
                    if upto > conv.last_seq {
                        due.push((id, upto));
                    }
                }
            }
            due
        };
        for (id, upto) in due {
            self.fill(id, Some(upto)).await;
        }
    }
}
