//! The Redis side of a cluster: one publisher task (events in the order
//! they were published, pipelined), one subscriber task (reconnecting by
//! itself, announcing each new subscription so the hub catches up), and
//! this node's presence, rewritten every [`HEARTBEAT`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use redis::aio::ConnectionManager;
use tokio::sync::{mpsc, oneshot};

use super::{Event, Presence};
use crate::server::secrets::new_token;

/// The channel every node publishes on and listens to.
const CHANNEL: &str = "kefu:events";
/// The set of nodes that announced themselves (each with a presence key).
const NODES: &str = "kefu:nodes";
/// How often a node rewrites its presence.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// How long a node's presence outlives its last heartbeat.
pub const TTL: Duration = Duration::from_secs(10);
/// Most events sent to Redis in one round trip.
const PIPELINE: usize = 512;
/// The wait before subscribing again after Redis went away.
const RETRY: Duration = Duration::from_millis(250);

/// What the subscriber hands the hub.
#[derive(Debug)]
pub enum Incoming {
    /// (Re)subscribed: anything published meanwhile may be lost; catch up
    /// from the database.
    Connected,
    /// Another node's event.
    Event(Event),
}

/// Wire form of an event: who sent it.
#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    node: String,
    #[serde(flatten)]
    event: Event,
}

enum Out {
    Event(Event),
    Flush(oneshot::Sender<()>),
}

struct Inner {
    node: String,
    out: mpsc::UnboundedSender<Out>,
    conn: ConnectionManager,
    presence: Mutex<Presence>,
}

/// This node's link to the others; cheap to clone.
#[derive(Clone)]
pub struct Bus(Arc<Inner>);

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus").field("node", &self.0.node).finish()
    }
}

impl Bus {
    /// Connects to Redis at `url` and starts the publisher, subscriber and
    /// heartbeat tasks; the receiver gets what other nodes publish.
    pub async fn connect(url: &str) -> anyhow::Result<(Bus, mpsc::UnboundedReceiver<Incoming>)> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client.clone()).await?;
        let node = new_token()[..16].to_owned();
        let (out, queued) = mpsc::unbounded_channel();
        let (incoming, received) = mpsc::unbounded_channel();
        let bus = Bus(Arc::new(Inner {
            node: node.clone(),
            out,
            conn: conn.clone(),
            presence: Mutex::default(),
        }));
        tokio::spawn(publish(conn, node.clone(), queued));
        tokio::spawn(subscribe(client, node.clone(), incoming));
        tokio::spawn(heartbeat(bus.clone()));
        tracing::info!(node = %node, "joined the cluster through Redis");
        Ok((bus, received))
    }

    /// This node's id (random at each start).
    pub fn node(&self) -> &str {
        &self.0.node
    }

    /// Queues `event` for the other nodes; never waits.
    pub fn publish(&self, event: Event) {
        let _ = self.0.out.send(Out::Event(event));
    }

    /// Waits until every event published before this call was handed to
    /// Redis (or dropped because Redis was away).
    pub async fn flush(&self) {
        let (done, flushed) = oneshot::channel();
        if self.0.out.send(Out::Flush(done)).is_ok() {
            let _ = flushed.await;
        }
    }

    /// Replaces this node's presence. A change of agents is written at once
    /// (a decision may depend on it); visitors coming and going wait for
    /// the next heartbeat, so that thousands of visitors connecting do not
    /// rewrite the whole list each.
    pub async fn set_presence(&self, presence: Presence) {
        let agents_changed = {
            let mut held = self.0.presence.lock().unwrap_or_else(|e| e.into_inner());
            let changed = held.agents != presence.agents;
            *held = presence;
            changed
        };
        if agents_changed {
            self.write_presence().await;
        }
    }

    async fn write_presence(&self) {
        let json = {
            let held = self.0.presence.lock().unwrap_or_else(|e| e.into_inner());
            serde_json::to_string(&*held).unwrap_or_default()
        };
        let key = format!("kefu:node:{}", self.0.node);
        let written: redis::RedisResult<()> = redis::pipe()
            .cmd("SET")
            .arg(&key)
            .arg(json)
            .arg("PX")
            .arg(TTL.as_millis() as u64)
            .ignore()
            .cmd("SADD")
            .arg(NODES)
            .arg(&self.0.node)
            .ignore()
            .query_async(&mut self.0.conn.clone())
            .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, "writing this node's presence to Redis failed");
        }
    }

    /// Who the other live nodes hold. Fails while Redis is away: callers
    /// must not take that for "nobody".
    pub async fn others(&self) -> redis::RedisResult<Presence> {
        let mut conn = self.0.conn.clone();
        let nodes: Vec<String> = redis::cmd("SMEMBERS")
            .arg(NODES)
            .query_async(&mut conn)
            .await?;
        let nodes: Vec<String> = nodes.into_iter().filter(|n| *n != self.0.node).collect();
        let mut all = Presence::default();
        if nodes.is_empty() {
            return Ok(all);
        }
        let keys: Vec<String> = nodes.iter().map(|n| format!("kefu:node:{n}")).collect();
        let values: Vec<Option<String>> =
            redis::cmd("MGET").arg(&keys).query_async(&mut conn).await?;
        for (node, value) in nodes.iter().zip(values) {
            match value.and_then(|v| serde_json::from_str::<Presence>(&v).ok()) {
                Some(presence) => all.extend(presence),
                None => {
                    // Its presence expired: the node is gone.
                    let _: redis::RedisResult<()> = redis::cmd("SREM")
                        .arg(NODES)
                        .arg(node)
                        .query_async(&mut conn)
                        .await;
                }
            }
        }
        Ok(all)
    }
}

/// Sends queued events in order, many per round trip.
async fn publish(
    mut conn: ConnectionManager,
    node: String,
    mut queued: mpsc::UnboundedReceiver<Out>,
) {
    let mut batch = Vec::with_capacity(PIPELINE);
    while queued.recv_many(&mut batch, PIPELINE).await > 0 {
        let mut pipe = redis::pipe();
        let mut flushes = Vec::new();
        let mut any = false;
        for out in batch.drain(..) {
            match out {
                Out::Event(event) => {
                    let envelope = Envelope {
                        node: node.clone(),
                        event,
                    };
                    if let Ok(json) = serde_json::to_string(&envelope) {
                        pipe.cmd("PUBLISH").arg(CHANNEL).arg(json).ignore();
                        any = true;
                    }
                }
                Out::Flush(done) => flushes.push(done),
            }
        }
        if any {
            let sent: redis::RedisResult<()> = pipe.query_async(&mut conn).await;
            if let Err(e) = sent {
                // The other nodes catch up from the database once Redis is back.
                tracing::warn!(error = %e, "publishing to Redis failed");
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Listens to the other nodes, subscribing again whenever the connection ends.
async fn subscribe(client: redis::Client, node: String, incoming: mpsc::UnboundedSender<Incoming>) {
    loop {
        match listen(&client, &node, &incoming).await {
            Ok(()) => tracing::warn!("the Redis subscription ended; subscribing again"),
            Err(e) => tracing::warn!(error = %e, "subscribing to Redis failed; retrying"),
        }
        if incoming.is_closed() {
            return;
        }
        tokio::time::sleep(RETRY).await;
    }
}

async fn listen(
    client: &redis::Client,
    node: &str,
    incoming: &mpsc::UnboundedSender<Incoming>,
) -> redis::RedisResult<()> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(CHANNEL).await?;
    let _ = incoming.send(Incoming::Connected);
    let mut messages = pubsub.on_message();
    while let Some(msg) = messages.next().await {
        let Ok(text) = msg.get_payload::<String>() else {
            continue;
        };
        match serde_json::from_str::<Envelope>(&text) {
            Ok(envelope) if envelope.node != node => {
                if incoming.send(Incoming::Event(envelope.event)).is_err() {
                    return Ok(());
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "an unreadable event on Redis"),
        }
    }
    Ok(())
}

/// Rewrites this node's presence before it expires.
async fn heartbeat(bus: Bus) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    loop {
        tick.tick().await;
        bus.write_presence().await;
    }
}
