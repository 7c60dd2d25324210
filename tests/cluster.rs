#![cfg(feature = "ssr")]
//! Several nodes as one (issue 15): in-process nodes on one real PostgreSQL
//! database and one real Redis of the test's own, each node with its own
//! hub, listener and sockets — a visitor on one node and their agent on
//! another chat as on one node; assignment across nodes never goes over
//! capacity, and the queue is one queue.
//!
//! Needs PostgreSQL (`KEFU_TEST_POSTGRES`, from scripts/engines.sh) and
//! `redis-server` (`make unit` has both).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::future::join_all;
use kefu::protocol::{ClientMsg, ConversationId, ConversationStatus, ServerMsg};

mod common;
use common::chat::messages;
use common::client::Client;
use common::engines::{fresh_postgres, RedisServer};
use common::{start_with, Server, Setup};

/// `n` nodes on one fresh database and `redis`.
async fn nodes(n: usize, redis: &RedisServer) -> Vec<Server> {
    let server = std::env::var("KEFU_TEST_POSTGRES")
        .expect("KEFU_TEST_POSTGRES (a PostgreSQL server's URL): run through scripts/engines.sh");
    let url = fresh_postgres(&server).await;
    // Bursts of pipelined messages: no rate limit in the way.
    let security = common::unlimited_messages();
    let mut nodes = Vec::new();
    for _ in 0..n {
        nodes.push(
            start_with(Setup {
                db_url: Some(url.clone()),
                redis: Some(redis.url()),
                security: security.clone(),
                ..Setup::default()
            })
            .await,
        );
    }
    nodes
}

/// Reads `client`'s frames until none comes for `quiet`.
async fn drain(client: &mut Client, quiet: Duration) -> Vec<ServerMsg> {
    let mut frames = Vec::new();
    while let Some(frame) = client.next_within(quiet).await {
        frames.push(frame);
    }
    frames
}

#[tokio::test]
async fn a_visitor_on_one_node_and_their_agent_on_another_chat_both_ways_in_seq_order() {
    let redis = RedisServer::start();
    let nodes = nodes(2, &redis).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    // The agent's console is on node B; the visitor's widget on node A.
    let (_, mut agent) = b.online_agent("Ann", 5).await;
    let chat = a.assigned_chat(&mut agent, "Ann").await;
    let (mut visitor, id) = (chat.visitor, chat.conversation);

    // Both type at once: 60 each, pipelined, without waiting for acks.
    const EACH: usize = 60;
    for i in 0..EACH {
        visitor
            .say(&format!("v{i}"), &format!("from the visitor {i}"))
            .await;
        agent
            .say_in(id, &format!("a{i}"), &format!("from the agent {i}"))
            .await;
    }
    let heard_by_agent = drain(&mut agent, Duration::from_secs(5)).await;
    let heard_by_visitor = drain(&mut visitor, Duration::from_secs(5)).await;

    for (who, frames, own, other) in [
        ("agent", &heard_by_agent, "a", "v"),
        ("visitor", &heard_by_visitor, "v", "a"),
    ] {
        let acked: Vec<i64> = frames
            .iter()
            .filter_map(|f| match f {
                ServerMsg::Ack { seq, id: m, .. } if m.0.starts_with(own) => Some(*seq),
                _ => None,
            })
            .collect();
        assert_eq!(acked.len(), EACH, "the {who} got an ack for each of theirs");
        let theirs: Vec<(i64, String)> = messages(frames)
            .filter(|m| m.conversation == id && m.id.0.starts_with(other))
            .map(|m| (m.seq, m.id.0.clone()))
            .collect();
        assert_eq!(
            theirs.len(),
            EACH,
            "the {who} got each of the other side's messages exactly once: {theirs:?}"
        );
        let ids: Vec<String> = theirs.iter().map(|(_, m)| m.clone()).collect();
        let sent: Vec<String> = (0..EACH).map(|i| format!("{other}{i}")).collect();
        assert_eq!(ids, sent, "the {who} got them in the order they were sent");
        // Every seq the other side's messages and this side's acks took:
        // all of the conversation's, each once, arriving in seq order.
        let seqs: Vec<i64> = messages(frames)
            .filter(|m| m.conversation == id)
            .map(|m| m.seq)
            .collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "the {who}'s messages arrive in seq order: {seqs:?}"
        );
        let mut all: BTreeSet<i64> = seqs.into_iter().collect();
        all.extend(acked);
        let first = chat.seen_by_agent.seq;
        let expected: BTreeSet<i64> = (first + 1..=first + 2 * EACH as i64).collect();
        assert_eq!(
            all, expected,
            "the {who} saw every seq after the assignment"
        );
    }
}

/// A visitor's socket and the latest summary it got of its conversation.
struct Waiting {
    client: Client,
    conversation: Option<ConversationId>,
    status: Option<ConversationStatus>,
    position: Option<u32>,
}

impl Waiting {
    /// Reads until the conversation's summary came (decisions are taken
    /// one at a time across the nodes: a hundred take a while on a busy
    /// machine), then until quiet, keeping the latest summary.
    async fn settle(&mut self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while self.status.is_none() && std::time::Instant::now() < deadline {
            if let Some(ServerMsg::Conversation { conversation }) =
                self.client.next_within(Duration::from_millis(500)).await
            {
                self.conversation = Some(conversation.id);
                self.status = Some(conversation.status);
                self.position = conversation.queue_position;
            }
        }
        for frame in drain(&mut self.client, Duration::from_secs(2)).await {
            if let ServerMsg::Conversation { conversation } = frame {
                self.conversation = Some(conversation.id);
                self.status = Some(conversation.status);
                self.position = conversation.queue_position;
            }
        }
    }
}

#[tokio::test]
async fn a_hundred_visitors_on_three_nodes_fill_five_agents_to_capacity_and_wait_in_one_queue() {
    let redis = RedisServer::start();
    let nodes = nodes(3, &redis).await;
    let mut agents = Vec::new();
    for i in 0..5 {
        let node = &nodes[i % 3];
        let id = node.add_agent_with(&format!("agent{i}"), 3, false).await;
        let (agent, _) = node.agent(&node.session_for(id).await, vec![]).await;
        agents.push((id, agent));
    }
    let mut waiting = Vec::new();
    for i in 0..100 {
        let (client, _) = nodes[i % 3].visitor(None, vec![]).await;
        waiting.push(Waiting {
            client,
            conversation: None,
            status: None,
            position: None,
        });
    }
    // All at once.
    join_all(waiting.iter_mut().map(|w| w.client.send(&ClientMsg::Start))).await;
    join_all(waiting.iter_mut().map(|w| w.settle())).await;
    // Places announced after a visitor's own settle.
    join_all(waiting.iter_mut().map(|w| w.settle())).await;

    let check = |waiting: &[Waiting], assigned: usize| {
        let served = waiting
            .iter()
            .filter(|w| w.status == Some(ConversationStatus::Assigned))
            .count();
        assert_eq!(
            served, assigned,
            "exactly {assigned} conversations are assigned"
        );
        let mut positions: Vec<u32> = waiting
            .iter()
            .filter(|w| w.status == Some(ConversationStatus::Queued))
            .map(|w| w.position.expect("a queued visitor knows their place"))
            .collect();
        positions.sort_unstable();
        let expected: Vec<u32> = (1..=(waiting.len() - assigned) as u32).collect();
        assert_eq!(positions, expected, "the others wait with distinct places");
    };
    check(&waiting, 15);
    let loads = load_per_agent(&nodes[0]).await;
    assert_eq!(
        loads.values().copied().collect::<Vec<_>>(),
        vec![3; 5],
        "{loads:?}"
    );

    // Each agent closes one: five more are served, the queue moves up by five.
    join_all(
        agents
            .iter_mut()
            .map(|(_, a)| drain(a, Duration::from_millis(500))),
    )
    .await;
    let open: Vec<ConversationId> = waiting
        .iter()
        .filter(|w| w.status == Some(ConversationStatus::Assigned))
        .filter_map(|w| w.conversation)
        .collect();
    let rows = nodes[0]
        .state
        .storage
        .open_conversations()
        .await
        .expect("reading");
    let mut closed = BTreeSet::new();
    for (me, agent) in &mut agents {
        let me = *me;
        let pick = rows
            .iter()
            .find(|r| r.agent_id == Some(me) && open.contains(&r.id))
            .expect("each agent serves three")
            .id;
        agent.send(&ClientMsg::Close { conversation: pick }).await;
        closed.insert(pick);
    }
    join_all(waiting.iter_mut().map(|w| w.settle())).await;
    join_all(waiting.iter_mut().map(|w| w.settle())).await;
    let still: Vec<Waiting> = waiting
        .into_iter()
        .filter(|w| !w.conversation.is_some_and(|c| closed.contains(&c)))
        .collect();
    check(&still, 15);
    let loads = load_per_agent(&nodes[1]).await;
    assert_eq!(
        loads.values().copied().collect::<Vec<_>>(),
        vec![3; 5],
        "{loads:?}"
    );
}

/// Open conversations per agent, as stored.
async fn load_per_agent(node: &Server) -> BTreeMap<i64, usize> {
    let mut loads = BTreeMap::new();
    for row in node
        .state
        .storage
        .open_conversations()
        .await
        .expect("reading")
    {
        if let Some(agent) = row.agent_id {
            *loads.entry(agent.0).or_default() += 1;
        }
    }
    loads
}

#[tokio::test]
async fn messages_sent_while_redis_restarts_arrive_once_it_is_back_none_lost_or_doubled() {
    let redis = RedisServer::start();
    let nodes = nodes(2, &redis).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let (_, mut agent) = b.online_agent("Ann", 5).await;
    let chat = a.assigned_chat(&mut agent, "Ann").await;
    let (mut visitor, id) = (chat.visitor, chat.conversation);
    visitor.say("before", "before the outage").await;
    visitor.expect_ack("before").await;
    agent
        .expect_message("the message before the outage", |m| m.id.0 == "before")
        .await;

    // Redis dies (and comes back empty): PostgreSQL still stores, so the
    // visitor's messages are acknowledged; nobody can tell node B of them.
    redis.stop();
    const DURING: usize = 20;
    for i in 0..DURING {
        visitor.say(&format!("d{i}"), &format!("during {i}")).await;
        visitor.expect_ack(&format!("d{i}")).await;
    }
    redis.up();
    // Both nodes subscribe again by themselves and catch up from the database.
    let mut heard = drain(&mut agent, Duration::from_secs(5)).await;
    visitor.say("after", "after the outage").await;
    visitor.expect_ack("after").await;
    heard.extend(drain(&mut agent, Duration::from_secs(3)).await);

    let got: Vec<String> = messages(&heard)
        .filter(|m| m.conversation == id)
        .map(|m| m.id.0.clone())
        .collect();
    let mut expected: Vec<String> = (0..DURING).map(|i| format!("d{i}")).collect();
    expected.push("after".into());
    assert_eq!(got, expected, "every message once, in order");
}

#[tokio::test]
async fn an_agent_disabled_on_one_node_loses_their_socket_on_another_and_their_chat_moves_on() {
    let redis = RedisServer::start();
    let nodes = nodes(2, &redis).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let (ann_id, ann_cookie) = b.signed_in_agent("Ann", false).await;
    let (mut ann, _) = b.agent(&ann_cookie, vec![]).await;
    let chat = a.assigned_chat(&mut ann, "Ann").await;
    let (mut visitor, id) = (chat.visitor, chat.conversation);
    let (_, mut bob) = a.online_agent("Bob", 5).await;

    // The admin disables Ann through node A; her console is on node B.
    let (_, admin) = a.signed_in_agent("Boss", true).await;
    let ann_id = ann_id.0.to_string();
    let answer = a
        .call(
            "update_agent",
            &[("id", &ann_id), ("capacity", "5"), ("disabled", "on")],
            Some(&admin),
        )
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    ann.expect_close().await;
    // Her chat goes back to the queue and on to Bob, whatever node decides.
    visitor
        .expect_message("assigned to Bob", |m| {
            m.conversation == id && common::chat::is_assigned_to(m, "Bob")
        })
        .await;
    bob.expect_conversation("Ann's chat", |c| {
        c.id == id && c.status == ConversationStatus::Assigned
    })
    .await;
}

#[tokio::test]
async fn settings_an_admin_saves_on_one_node_apply_on_the_others() {
    let redis = RedisServer::start();
    let nodes = nodes(2, &redis).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let (_, admin) = a.signed_in_agent("Boss", true).await;
    let saved = a
        .call(
            "save_site_settings",
            &[
                ("color", "#10b981"),
                ("title", "Help desk"),
                ("greeting", ""),
                ("position", "left"),
                ("offline_text", ""),
                ("prechat_name", "off"),
                ("prechat_email", "off"),
                ("allowed_origins", ""),
            ],
            Some(&admin),
        )
        .await;
    assert_eq!(saved.status, 200, "{saved:?}");
    // Node B's launcher look follows, without a restart.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let config = b.get("/embed/config").await;
        if config.body.contains("#10b981") && config.body.contains("left") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "node B still serves the old look: {}",
            config.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
