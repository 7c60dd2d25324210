#![cfg(feature = "ssr")]
//! Nodes die and restart under load (issue 15's failure tests): the real
//! `kefu` binary as three processes on one real PostgreSQL database and one
//! real Redis, behind a real HAProxy, with clients that get back through
//! the balancer as the bundled ones do (`common::resilient`).
//!
//! Needs PostgreSQL (`KEFU_TEST_POSTGRES`, from scripts/engines.sh),
//! `redis-server` and `haproxy` (`make unit` has all three).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kefu::protocol::{
    Author, ClientMsg, ConversationId, ConversationStatus, ServerMsg, SystemEvent,
};
use sqlx::Row;

mod common;
use common::engines::{fresh_postgres, raw, Balancer, RedisServer};
use common::process::{add_agent, free_addr, Kefu};
use common::resilient::Resilient;

/// No rate limit in the way of a burst: every client comes from 127.0.0.1
/// (the balancer) here.
const UNLIMITED: &[(&str, &str)] = &[
    ("KEFU_MSG_BURST", "100000"),
    ("KEFU_MSG_RATE", "100000"),
    ("KEFU_ADDR_MSG_BURST", "100000"),
    ("KEFU_ADDR_MSG_RATE", "100000"),
    ("KEFU_MAX_CONNS_PER_ADDR", "10000"),
    ("RUST_LOG", "info"),
];

/// Three nodes, their engines and their balancer.
struct Cluster {
    dir: tempfile::TempDir,
    db: String,
    redis: RedisServer,
    grace: String,
    addrs: Vec<SocketAddr>,
    nodes: Vec<Option<Kefu>>,
    balancer: Balancer,
}

impl Cluster {
    async fn start(grace_secs: u32) -> Self {
        let server = std::env::var("KEFU_TEST_POSTGRES").expect(
            "KEFU_TEST_POSTGRES (a PostgreSQL server's URL): run through scripts/engines.sh",
        );
        let db = fresh_postgres(&server).await;
        let redis = RedisServer::start();
        let dir = tempfile::tempdir().expect("a temporary folder");
        let addrs: Vec<SocketAddr> = (0..3).map(|_| free_addr()).collect();
        let balancer = Balancer::start(&addrs);
        let mut cluster = Self {
            dir,
            db,
            redis,
            grace: grace_secs.to_string(),
            addrs,
            nodes: Vec::new(),
            balancer,
        };
        for i in 0..3 {
            let node = cluster.node(i).await;
            cluster.nodes.push(Some(node));
        }
        cluster
    }

    fn db(&self) -> PathBuf {
        PathBuf::from(&self.db)
    }

    fn node_dir(&self, i: usize) -> PathBuf {
        let dir = self.dir.path().join(format!("node{i}"));
        std::fs::create_dir_all(&dir).expect("a node's folder");
        dir
    }

    async fn node(&self, i: usize) -> Kefu {
        let redis = self.redis.url();
        Kefu::start_on(
            self.addrs[i],
            &self.node_dir(i),
            Path::new(&self.db),
            &[],
            &["--redis", &redis, "--grace-secs", &self.grace],
            UNLIMITED,
        )
        .await
    }

    fn lb(&self) -> SocketAddr {
        self.balancer.addr()
    }

    /// SIGKILL: the node dies at once, its sockets break.
    fn kill(&mut self, i: usize) {
        if let Some(mut node) = self.nodes[i].take() {
            let _ = node.child.kill();
            let _ = node.child.wait();
        }
    }

    /// A deploy: SIGTERM, wait for the exit, start it again on its address.
    async fn restart(&mut self, i: usize) -> Instant {
        let mut node = self.nodes[i].take().expect("the node runs");
        node.sigterm();
        let stopped = Instant::now();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !node.exited() {
            assert!(Instant::now() < deadline, "node {i} exits after SIGTERM");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.nodes[i] = Some(self.node(i).await);
        stopped
    }

    /// An agent (capacity 100) signed in through node `i`: the cookie.
    async fn agent_cookie(&self, name: &str, i: usize) -> String {
        add_agent(&self.db(), name).await;
        self.nodes[i]
            .as_ref()
            .expect("the node runs")
            .cookie(name)
            .await
    }

    /// Every message stored in `conversation`: (seq, client id, author).
    async fn stored(&self, conversation: ConversationId) -> Vec<(i64, String, String)> {
        let pool = raw(&self.db).await;
        // Always PostgreSQL here: `$1`.
        sqlx::query(
            "SELECT seq, client_id, author FROM messages WHERE conversation_id = $1 ORDER BY seq",
        )
        .bind(conversation.0)
        .fetch_all(&pool)
        .await
        .expect("reading the messages")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
    }
}

/// A visitor's socket on `addr` with an assigned conversation.
async fn assigned_visitor(addr: SocketAddr, who: &str) -> (Resilient, ConversationId) {
    let mut visitor = Resilient::visitor(addr, who).await;
    visitor.send(&ClientMsg::Start).await;
    let mut id = None;
    visitor
        .pump_until(Duration::from_secs(30), |v| {
            v.frames.iter().any(|f| {
                matches!(f, ServerMsg::Conversation { conversation }
                    if conversation.status == ConversationStatus::Assigned)
            })
        })
        .await;
    for frame in &visitor.frames {
        if let ServerMsg::Conversation { conversation } = frame {
            id = Some(conversation.id);
        }
    }
    (visitor, id.expect("the visitor's conversation"))
}

/// The ids of `author`'s messages in `conversation` as `client` received them.
fn received(client: &Resilient, conversation: ConversationId, author: Author) -> Vec<String> {
    client
        .messages
        .iter()
        .filter(|m| m.conversation == conversation && m.author == author)
        .map(|m| m.id.0.clone())
        .collect()
}

/// Every seq of the conversation is stored once, from 1 up, without gaps,
/// and each of `ids` is stored exactly once.
fn assert_stored_once(stored: &[(i64, String, String)], ids: &[String]) {
    let seqs: Vec<i64> = stored.iter().map(|(s, _, _)| *s).collect();
    let expected: Vec<i64> = (1..=stored.len() as i64).collect();
    assert_eq!(seqs, expected, "seqs are contiguous from 1");
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, id, _) in stored {
        *count.entry(id.as_str()).or_default() += 1;
    }
    for id in ids {
        assert_eq!(
            count.get(id.as_str()),
            Some(&1),
            "{id} is stored exactly once"
        );
    }
}

#[tokio::test]
async fn the_visitors_node_dies_mid_burst_and_every_message_is_stored_and_delivered_once() {
    let mut cluster = Cluster::start(30).await;
    let cookie = cluster.agent_cookie("Ann", 1).await;
    // The agent on node 1, the visitor on node 0 (both directly), so that
    // killing node 0 kills the visitor's socket only.
    let mut agent = Resilient::agent(cluster.addrs[1], &cookie, "agent").await;
    let (mut visitor, id) = assigned_visitor(cluster.addrs[0], "visitor").await;

    const BURST: usize = 1_200;
    let ids: Vec<String> = (0..BURST).map(|i| format!("m{i:04}")).collect();
    for (i, m) in ids.iter().enumerate() {
        if i == 500 {
            cluster.kill(0);
            // From here the visitor gets back through the balancer.
            visitor = visitor.through(cluster.lb());
        }
        visitor.say(m, None, &format!("burst {m}")).await;
        if i % 100 == 99 {
            visitor.pump(Duration::from_millis(20)).await;
        }
    }
    visitor
        .pump_until(Duration::from_secs(60), |v| v.unacked() == 0)
        .await;
    agent
        .pump_until(Duration::from_secs(30), |a| {
            received(a, id, Author::Visitor).len() >= BURST
        })
        .await;
    agent.pump(Duration::from_secs(1)).await;

    assert!(
        visitor.outages.len() == 1,
        "the visitor got back once: {:?}",
        visitor.outages
    );
    assert_eq!(visitor.acked.len(), BURST, "every message is acknowledged");
    let stored = cluster.stored(id).await;
    assert_stored_once(&stored, &ids);
    for m in &ids {
        assert_eq!(
            stored.iter().find(|(_, c, _)| c == m).map(|(s, _, _)| *s),
            visitor.acked.get(m).copied(),
            "{m}'s ack names its stored seq"
        );
    }
    assert_eq!(
        received(&agent, id, Author::Visitor),
        ids,
        "the agent has each message exactly once, in order"
    );
}

#[tokio::test]
async fn the_agents_node_dies_and_the_agent_comes_back_on_another_within_the_grace_period() {
    let mut cluster = Cluster::start(30).await;
    let cookie = cluster.agent_cookie("Ann", 2).await;
    let mut agent = Resilient::agent(cluster.addrs[2], &cookie, "agent").await;
    let (mut first, one) = assigned_visitor(cluster.addrs[0], "first").await;
    let (mut second, two) = assigned_visitor(cluster.addrs[1], "second").await;
    agent.pump(Duration::from_millis(500)).await;

    cluster.kill(2);
    agent = agent.through(cluster.lb());
    agent.pump(Duration::from_millis(500)).await;
    let mut serves = agent.serves.clone();
    serves.sort();
    assert_eq!(
        serves,
        vec![one, two],
        "back on another node, the agent keeps both"
    );
    // Past the dead node's presence (10 s): nothing is requeued, the chats go on.
    tokio::time::sleep(Duration::from_secs(12)).await;
    first.say("after-one", None, "still there?").await;
    second.say("after-two", None, "hello?").await;
    agent
        .pump_until(Duration::from_secs(30), |a| {
            a.messages
                .iter()
                .filter(|m| m.id.0.starts_with("after-"))
                .count()
                == 2
        })
        .await;
    for conversation in [one, two] {
        assert_eq!(
            requeues(&agent, conversation),
            0,
            "{conversation:?} was not requeued"
        );
    }
    first.pump(Duration::from_millis(200)).await;
    assert!(
        !first
            .messages
            .iter()
            .any(|m| matches!(m.event.as_ref(), Some(SystemEvent::Requeued { .. }))),
        "the visitor never saw their chat requeued"
    );
}

/// How many "requeued" notices `client` got in `conversation`.
fn requeues(client: &Resilient, conversation: ConversationId) -> usize {
    client
        .messages
        .iter()
        .filter(|m| {
            m.conversation == conversation
                && matches!(m.event.as_ref(), Some(SystemEvent::Requeued { .. }))
        })
        .count()
}

#[tokio::test]
async fn when_the_agents_node_dies_and_the_grace_period_ends_their_chats_go_to_another_agent() {
    let mut cluster = Cluster::start(2).await;
    let ann = cluster.agent_cookie("Ann", 2).await;
    let _ann = Resilient::agent(cluster.addrs[2], &ann, "Ann").await;
    let (mut visitor, id) = assigned_visitor(cluster.addrs[0], "visitor").await;
    let bob = cluster.agent_cookie("Bob", 1).await;
    let mut bob = Resilient::agent(cluster.addrs[1], &bob, "Bob").await;

    cluster.kill(2);
    // Ann's presence expires (≤ 10 s), her grace (2 s) ends, a live node
    // requeues the chat and it goes to Bob.
    visitor
        .pump_until(Duration::from_secs(30), |v| {
            v.messages.iter().any(|m| {
                m.conversation == id
                    && matches!(m.event.as_ref(), Some(SystemEvent::Assigned { agent }) if agent == "Bob")
            })
        })
        .await;
    assert!(requeues(&visitor, id) == 1, "requeued once");
    bob.pump_until(Duration::from_secs(30), |b| {
        b.frames.iter().any(|f| {
            matches!(f, ServerMsg::Conversation { conversation }
                if conversation.id == id && conversation.status == ConversationStatus::Assigned)
        })
    })
    .await;
    visitor.say("to-bob", None, "are you there?").await;
    bob.pump_until(Duration::from_secs(30), |b| {
        b.messages.iter().any(|m| m.id.0 == "to-bob")
    })
    .await;
}

#[tokio::test]
async fn a_rolling_restart_loses_nothing_doubles_nothing_and_requeues_nothing() {
    let mut cluster = Cluster::start(30).await;
    let lb = cluster.lb();
    let mut agents = Vec::new();
    for (i, name) in ["Ann", "Bob", "Cat"].iter().enumerate() {
        let cookie = cluster.agent_cookie(name, i).await;
        agents.push(Resilient::agent(lb, &cookie, name).await);
    }
    let mut visitors = Vec::new();
    for i in 0..6 {
        visitors.push(assigned_visitor(lb, &format!("visitor{i}")).await);
    }

    // A steady chat: each visitor says something every 100 ms while the
    // three nodes restart one after another.
    let restarts = async {
        let mut stops = Vec::new();
        for i in 0..3 {
            tokio::time::sleep(Duration::from_secs(2)).await;
            stops.push(cluster.restart(i).await);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        stops
    };
    let chatting = async {
        let mut n = 0;
        let mut deadline = None::<Instant>;
        loop {
            for (v, _) in visitors.iter_mut() {
                v.say(&format!("s{n:04}"), None, &format!("steady {n}"))
                    .await;
            }
            n += 1;
            for (v, _) in visitors.iter_mut() {
                v.pump(Duration::from_millis(10)).await;
            }
            for a in agents.iter_mut() {
                a.pump(Duration::from_millis(10)).await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            if deadline.is_some_and(|d| Instant::now() > d) {
                return n;
            }
            if deadline.is_none() && n > 10_000 {
                deadline = Some(Instant::now());
            }
        }
    };
    let stops = tokio::select! {
        stops = restarts => stops,
        _ = chatting => unreachable!("the chat runs until the restarts end"),
    };
    assert_eq!(stops.len(), 3);
    for (v, _) in visitors.iter_mut() {
        v.pump_until(Duration::from_secs(30), |v| v.unacked() == 0)
            .await;
    }
    for a in agents.iter_mut() {
        a.pump(Duration::from_secs(2)).await;
    }

    let mut total = 0;
    for (v, id) in &visitors {
        let ids: Vec<String> = v
            .acked
            .keys()
            .filter(|k| k.starts_with('s'))
            .cloned()
            .collect();
        total += ids.len();
        assert_stored_once(&cluster.stored(*id).await, &ids);
        let agent = agents
            .iter()
            .find(|a| a.messages.iter().any(|m| m.conversation == *id))
            .expect("an agent serves it");
        let got: Vec<String> = received(agent, *id, Author::Visitor)
            .into_iter()
            .filter(|m| m.starts_with('s'))
            .collect();
        let unique: BTreeSet<&String> = got.iter().collect();
        assert_eq!(
            unique.len(),
            got.len(),
            "no message reached the agent twice"
        );
        assert_eq!(got, ids, "the agent has every message, in order");
        assert_eq!(requeues(agent, *id), 0, "nothing was requeued");
        assert!(
            !v.outages.is_empty(),
            "each visitor's node restarted under it"
        );
        for outage in &v.outages {
            assert!(
                *outage <= Duration::from_secs(5),
                "a visitor was back within 5 s: {outage:?}"
            );
        }
    }
    for a in &agents {
        assert!(
            !a.outages.is_empty(),
            "each agent's node restarted under them"
        );
        for outage in &a.outages {
            assert!(
                *outage <= Duration::from_secs(5),
                "an agent was back within 5 s: {outage:?}"
            );
        }
    }
    assert!(total > 100, "the chat was steady: {total} messages");
    eprintln!(
        "rolling restart: {total} messages; ways back: {:?}",
        visitors
            .iter()
            .flat_map(|(v, _)| v.outages.clone())
            .chain(agents.iter().flat_map(|a| a.outages.clone()))
            .collect::<Vec<_>>()
    );
}
