#![cfg(feature = "ssr")]
//! PostgreSQL goes away mid-chat and comes back (issue 15's failure test):
//! senders get the storage error and keep their messages to send again;
//! once it is back, everything is stored once and nothing acknowledged is
//! lost. The test runs its own PostgreSQL server (durable commits) so that
//! it can crash it without touching any other test's.
//!
//! The same with two nodes (the visitor's and the agent's) and Redis
//! between them.
//!
//! Needs PostgreSQL's server programs and redis-server (`make unit`
//! installs them).

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use kefu::protocol::{Author, ErrorCode, ServerMsg};

mod common;
use common::client::Client;
use common::engines::{fresh_postgres, PgServer, RedisServer};
use common::{start_with, Setup};

/// Messages sent in each phase: before, during and after the outage.
const EACH: usize = 40;
/// How long a resend waits for the database to come back, at most.
const PATIENCE: Duration = Duration::from_secs(60);

/// What the visitor's socket said about each message id: the seq of its
/// ack, and how many storage errors it got first.
#[derive(Default)]
struct Outcomes {
    acked: BTreeMap<String, i64>,
    refused: BTreeMap<String, usize>,
}

impl Outcomes {
    /// Reads frames until each of `ids` is acknowledged or refused.
    async fn settle(&mut self, visitor: &mut Client, ids: &[String]) -> Vec<String> {
        let mut waiting: HashSet<&String> = ids.iter().collect();
        let mut refused_now = Vec::new();
        while !waiting.is_empty() {
            match visitor.next_within(Duration::from_secs(20)).await {
                Some(ServerMsg::Ack { id, seq, .. }) => {
                    waiting.remove(&id.0);
                    self.acked.insert(id.0, seq);
                }
                Some(ServerMsg::Error {
                    code: ErrorCode::Storage,
                    id: Some(id),
                    ..
                }) => {
                    waiting.remove(&id.0);
                    *self.refused.entry(id.0.clone()).or_default() += 1;
                    refused_now.push(id.0);
                }
                Some(_) => {}
                None => panic!("no answer for {} messages within 20 s", waiting.len()),
            }
        }
        refused_now
    }
}

fn text(id: &str) -> String {
    format!("words of {id}")
}

#[tokio::test]
async fn a_database_restart_loses_nothing_acknowledged_and_stores_each_resend_once() {
    outage(None).await;
}

#[tokio::test]
async fn with_two_nodes_a_database_restart_loses_nothing_either() {
    // The visitor on one node, the agent on another, Redis between them.
    let redis = RedisServer::start();
    outage(Some(&redis)).await;
}

/// The visitor chats before, during and after a PostgreSQL crash; with
/// `redis`, through a second node that holds the agent's socket.
async fn outage(redis: Option<&RedisServer>) {
    let pg = PgServer::start();
    let db_url = fresh_postgres(&pg.url()).await;
    // A client that resends keeps within no rate limit here: lift them.
    let security = common::unlimited_messages();
    let setup = || Setup {
        db_url: Some(db_url.clone()),
        security: security.clone(),
        redis: redis.map(RedisServer::url),
        ..Setup::default()
    };
    let server = start_with(setup()).await;
    let agents_node = match redis {
        Some(_) => Some(start_with(setup()).await),
        None => None,
    };
    let (_, mut agent) = agents_node
        .as_ref()
        .unwrap_or(&server)
        .online_agent("Ann", 5)
        .await;
    let chat = server.assigned_chat(&mut agent, "Ann").await;
    let (mut visitor, conversation) = (chat.visitor, chat.conversation);
    let mut outcomes = Outcomes::default();

    // Before: stored and acknowledged.
    let before: Vec<String> = (0..EACH).map(|i| format!("before-{i}")).collect();
    for id in &before {
        visitor.say(id, &text(id)).await;
    }
    assert!(outcomes.settle(&mut visitor, &before).await.is_empty());

    // The database crashes; what is sent now cannot be stored.
    pg.crash();
    let during: Vec<String> = (0..EACH).map(|i| format!("during-{i}")).collect();
    for id in &during {
        visitor.say(id, &text(id)).await;
    }
    let refused = outcomes.settle(&mut visitor, &during).await;
    assert_eq!(
        refused.len(),
        EACH,
        "every message sent while the database is down gets the storage error"
    );

    // It comes back; the client sends again what was refused, marked as
    // resends, until each is acknowledged, and goes on chatting.
    pg.up();
    let after: Vec<String> = (0..EACH).map(|i| format!("after-{i}")).collect();
    let started = Instant::now();
    let mut pending = refused;
    while !pending.is_empty() {
        assert!(
            started.elapsed() < PATIENCE,
            "{} messages still refused {PATIENCE:?} after the database came back",
            pending.len()
        );
        for id in &pending {
            visitor.say_again(id, &text(id)).await;
        }
        pending = outcomes.settle(&mut visitor, &pending).await;
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    for id in &after {
        visitor.say(id, &text(id)).await;
    }
    let mut last = outcomes.settle(&mut visitor, &after).await;
    while !last.is_empty() {
        assert!(
            started.elapsed() < PATIENCE,
            "messages after the outage refused"
        );
        for id in &last {
            visitor.say_again(id, &text(id)).await;
        }
        last = outcomes.settle(&mut visitor, &last).await;
    }

    // Every message acknowledged, each stored once, seqs gapless.
    let sent: Vec<&String> = before.iter().chain(&during).chain(&after).collect();
    assert_eq!(
        outcomes.acked.len(),
        3 * EACH,
        "every message is acknowledged"
    );
    let stored = server
        .state
        .storage
        .messages_after(conversation, 0, 10_000)
        .await
        .expect("the history reads");
    assert!(
        stored.iter().zip(1..).all(|(m, seq)| m.seq == seq),
        "seqs are gapless: {:?}",
        stored.iter().map(|m| m.seq).collect::<Vec<_>>()
    );
    let visitor_ids: Vec<&str> = stored
        .iter()
        .filter(|m| m.author == Author::Visitor)
        .map(|m| m.id.0.as_str())
        .collect();
    assert_eq!(visitor_ids.len(), 3 * EACH, "each message stored once");
    for id in &sent {
        let seq = outcomes.acked[id.as_str()];
        let row = stored.iter().find(|m| m.id.0 == **id).expect("stored");
        assert_eq!((row.seq, row.text.as_str()), (seq, text(id).as_str()));
    }

    // The agent got each message exactly once.
    let mut delivered: BTreeMap<String, usize> = BTreeMap::new();
    while delivered.len() < 3 * EACH {
        match agent.next_within(Duration::from_secs(20)).await {
            Some(ServerMsg::Message { message }) if message.author == Author::Visitor => {
                *delivered.entry(message.id.0).or_default() += 1;
            }
            Some(_) => {}
            None => panic!("the agent got {} of {} messages", delivered.len(), 3 * EACH),
        }
    }
    for frame in agent.collect_for(Duration::from_millis(500)).await {
        if let ServerMsg::Message { message } = frame {
            *delivered.entry(message.id.0).or_default() += 1;
        }
    }
    assert!(
        delivered.values().all(|n| *n == 1),
        "the agent got a message twice: {delivered:?}"
    );
    println!(
        "outage: {} refusals, all {} messages stored once; back after {:?}",
        outcomes.refused.values().sum::<usize>(),
        3 * EACH,
        started.elapsed()
    );
}
