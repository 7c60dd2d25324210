//! The hub's rules, driven without sockets: each "socket" is a [`Conn`]
//! whose frames are read from its [`Drain`], over a real SQLite file.

use std::time::Duration;

use super::*;
use crate::protocol::{ConversationStatus, MessageId, Party, ServerMsg};
use crate::server::hours::HoursGate;
use crate::server::storage::sqlite::Sqlite;
use crate::server::storage::NewMessage;

/// A hub over a fresh database (kept while the folder lives).
async fn hub(grace: Duration) -> (tempfile::TempDir, Storage, Hub) {
    let dir = tempfile::tempdir().expect("tempdir");
    let storage: Storage = Arc::new(
        Sqlite::open_file(&dir.path().join("kefu.db"))
            .await
            .expect("opens"),
    );
    let hub = Hub::load(storage.clone(), grace).await.expect("loads");
    (dir, storage, hub)
}

/// A socket seen from the hub: the handle it routes to, and what reached it.
struct Socket {
    conn: Conn,
    drain: Drain,
}

impl Socket {
    fn new(hub: &Hub) -> Self {
        let (conn, drain) = Conn::new(hub.next_conn_id());
        Self { conn, drain }
    }

    /// Every frame queued for this socket so far.
    async fn frames(&self) -> Vec<ServerMsg> {
        let mut out = Vec::new();
        while let Ok(Some(batch)) =
            tokio::time::timeout(Duration::from_millis(20), self.drain.next_batch()).await
        {
            for frame in batch {
                if let Outbound::Frame(text) = frame {
                    out.push(serde_json::from_str(text.as_str()).expect("a server message"));
                }
            }
        }
        out
    }

    /// The newest summary of each conversation this socket was sent.
    async fn summaries(&self) -> Vec<ConversationSummary> {
        let mut latest: Vec<ConversationSummary> = Vec::new();
        for msg in self.frames().await {
            if let ServerMsg::Conversation { conversation } = msg {
                latest.retain(|c| c.id != conversation.id);
                latest.push(conversation);
            }
        }
        latest
    }
}

async fn agent(storage: &Storage, name: &str, capacity: u32) -> AgentInfo {
    storage
        .create_agent(name, "hash", capacity, false, false)
        .await
        .expect("creates")
        .expect("a row")
        .info()
}

async fn online_agent(
    hub: &Hub,
    storage: &Storage,
    name: &str,
    capacity: u32,
) -> (AgentInfo, Socket) {
    let info = agent(storage, name, capacity).await;
    let socket = Socket::new(hub);
    hub.agent_connected(&info, &socket.conn, &[]).await;
    (info, socket)
}

/// A visitor with a socket open who sent a first message (which opens
/// their conversation).
async fn visitor_writes(hub: &Hub, storage: &Storage, token: &[u8]) -> (VisitorId, Socket) {
    let visitor = storage.create_visitor(token).await.expect("visitor");
    let socket = Socket::new(hub);
    hub.visitor_connected(visitor, &socket.conn, &[]).await;
    let msg = NewMessage::from_visitor(MessageId(format!("{token:?}")), "hi".into(), false);
    hub.open_and_post(visitor, &socket.conn, msg).await;
    (visitor, socket)
}

fn served_by(hub: &Hub, agent: &AgentInfo) -> usize {
    hub.conversations_of(agent.id).len()
}

#[tokio::test]
async fn a_new_conversation_goes_to_the_agent_with_most_free_capacity() {
    let (_dir, storage, hub) = hub(Duration::from_secs(60)).await;
    let (ann, _a) = online_agent(&hub, &storage, "Ann", 2).await;
    let (bob, _b) = online_agent(&hub, &storage, "Bob", 5).await;
    visitor_writes(&hub, &storage, b"v1").await;
    assert_eq!((served_by(&hub, &ann), served_by(&hub, &bob)), (0, 1));
    // Bob 4 free, Ann 2 free: Bob again, until they are level.
    visitor_writes(&hub, &storage, b"v2").await;
    visitor_writes(&hub, &storage, b"v3").await;
    assert_eq!((served_by(&hub, &ann), served_by(&hub, &bob)), (0, 3));
    visitor_writes(&hub, &storage, b"v4").await;
    visitor_writes(&hub, &storage, b"v5").await;
    assert_eq!(served_by(&hub, &ann) + served_by(&hub, &bob), 5);
    assert_eq!(
        served_by(&hub, &ann),
        1,
        "2 free each after v4: the tie goes to Ann"
    );
}

#[tokio::test]
async fn ties_go_to_the_agent_idle_longest() {
    let (_dir, storage, hub) = hub(Duration::from_secs(60)).await;
    let (ann, _a) = online_agent(&hub, &storage, "Ann", 3).await;
    let (bob, _b) = online_agent(&hub, &storage, "Bob", 3).await;
    // Both have 3 free: one of them gets it (and so is no longer idle longest)...
    visitor_writes(&hub, &storage, b"v1").await;
    let first = if served_by(&hub, &ann) == 1 {
        &bob
    } else {
        &ann
    };
    // ...and after the other one levels them at 2 free each, the first
    // (assigned longer ago) gets the next.
    visitor_writes(&hub, &storage, b"v2").await;
    assert_eq!((served_by(&hub, &ann), served_by(&hub, &bob)), (1, 1));
    visitor_writes(&hub, &storage, b"v3").await;
    assert_eq!(
        served_by(&hub, first),
        1,
        "the agent assigned most recently waits"
    );
}

#[tokio::test]
async fn without_free_capacity_visitors_queue_and_learn_their_place() {
    let (_dir, storage, hub) = hub(Duration::from_secs(60)).await;
    let (ann, _a) = online_agent(&hub, &storage, "Ann", 1).await;
    visitor_writes(&hub, &storage, b"v1").await;
    let (_, second) = visitor_writes(&hub, &storage, b"v2").await;
    let (_, third) = visitor_writes(&hub, &storage, b"v3").await;
    assert_eq!(served_by(&hub, &ann), 1);
    let place = |s: &[ConversationSummary]| {
        let c = s.last().expect("a summary");
        (c.status, c.queue_position)
    };
    assert_eq!(
        place(&second.summaries().await),
        (ConversationStatus::Queued, Some(1))
    );
    assert_eq!(
        place(&third.summaries().await),
        (ConversationStatus::Queued, Some(2))
    );
    // Ann closes hers: the head of the queue is hers, the next moves up.
    let mine = hub.conversations_of(ann.id)[0];
    let closer = Socket::new(&hub);
    hub.close(&ann, mine, &closer.conn).await;
    assert_eq!(
        place(&second.summaries().await).0,
        ConversationStatus::Assigned
    );
    assert_eq!(
        place(&third.summaries().await),
        (ConversationStatus::Queued, Some(1))
    );
}

#[tokio::test]
async fn after_the_grace_period_an_absent_agents_conversations_are_requeued_to_another() {
    let (_dir, storage, hub) = hub(Duration::from_millis(100)).await;
    let (ann, a) = online_agent(&hub, &storage, "Ann", 5).await;
    let (_, visitor) = visitor_writes(&hub, &storage, b"v1").await;
    assert_eq!(served_by(&hub, &ann), 1);
    hub.agent_disconnected(ann.id, a.conn.id()).await;
    // Within the grace period nothing moves.
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(served_by(&hub, &ann), 1);
    let (bob, _b) = online_agent(&hub, &storage, "Bob", 5).await;
    assert_eq!(served_by(&hub, &bob), 0, "Ann may still come back");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!((served_by(&hub, &ann), served_by(&hub, &bob)), (0, 1));
    let summary = visitor.summaries().await.pop().expect("a summary");
    assert_eq!(summary.agent_name.as_deref(), Some("Bob"));
}

#[tokio::test]
async fn an_agent_back_within_the_grace_period_keeps_their_conversations() {
    let (_dir, storage, hub) = hub(Duration::from_millis(100)).await;
    let (ann, a) = online_agent(&hub, &storage, "Ann", 5).await;
    visitor_writes(&hub, &storage, b"v1").await;
    hub.agent_disconnected(ann.id, a.conn.id()).await;
    let again = Socket::new(&hub);
    hub.agent_connected(&ann, &again.conn, &[]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(served_by(&hub, &ann), 1);
}

#[tokio::test]
async fn the_agent_is_told_when_the_visitor_leaves_and_comes_back() {
    let (_dir, storage, hub) = hub(Duration::from_secs(60)).await;
    let (_ann, a) = online_agent(&hub, &storage, "Ann", 5).await;
    let (visitor, v) = visitor_writes(&hub, &storage, b"v1").await;
    a.frames().await;
    hub.visitor_disconnected(visitor, v.conn.id()).await;
    let presence = |frames: Vec<ServerMsg>| {
        frames
            .into_iter()
            .filter_map(|m| match m {
                ServerMsg::Presence { party, online, .. } => Some((party, online)),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(presence(a.frames().await), [(Party::Visitor, false)]);
    let back = Socket::new(&hub);
    hub.visitor_connected(visitor, &back.conn, &[]).await;
    assert_eq!(presence(a.frames().await), [(Party::Visitor, true)]);
}

/// Away (issue 13, item 10): no new conversations, the old ones kept, and
/// coming back online takes what waited.
#[tokio::test]
async fn an_away_agent_keeps_their_conversations_but_gets_no_new_ones() {
    let (_dir, storage, hub) = hub(Duration::from_secs(60)).await;
    let (ann, _a) = online_agent(&hub, &storage, "Ann", 5).await;
    visitor_writes(&hub, &storage, b"v1").await;
    assert_eq!(served_by(&hub, &ann), 1);
    let (bob, _b) = online_agent(&hub, &storage, "Bob", 1).await;

    hub.set_away(ann.id, true).await;
    visitor_writes(&hub, &storage, b"v2").await;
    assert_eq!((served_by(&hub, &ann), served_by(&hub, &bob)), (1, 1));
    // Bob is full and Ann away: the next one waits in the queue.
    let (_, waiting) = visitor_writes(&hub, &storage, b"v3").await;
    assert_eq!((served_by(&hub, &ann), served_by(&hub, &bob)), (1, 1));
    assert_eq!(
        waiting.summaries().await.last().map(|c| c.status),
        Some(ConversationStatus::Queued)
    );
    hub.set_away(ann.id, false).await;
    assert_eq!(
        served_by(&hub, &ann),
        2,
        "back online, Ann takes the waiting one"
    );
}

#[tokio::test]
async fn with_every_online_agent_away_visitors_are_told_nobody_is_online() {
    let (_dir, storage, hub) = hub(Duration::from_secs(60)).await;
    let (ann, _a) = online_agent(&hub, &storage, "Ann", 5).await;
    assert!(hub.agents_online());
    let visitor = storage.create_visitor(b"v").await.expect("visitor");
    let socket = Socket::new(&hub);
    hub.visitor_connected(visitor, &socket.conn, &[]).await;
    hub.set_away(ann.id, true).await;
    assert!(!hub.agents_online());
    assert!(socket.frames().await.contains(&ServerMsg::Availability {
        back_at: None,
        agents_online: false
    }));
    hub.set_away(ann.id, false).await;
    assert!(socket.frames().await.contains(&ServerMsg::Availability {
        back_at: None,
        agents_online: true
    }));
}

#[tokio::test]
async fn outside_business_hours_visitors_are_told_nobody_is_in_and_when_they_are_back() {
    let (_dir, storage, hub) = hub(Duration::from_secs(60)).await;
    let (ann, _a) = online_agent(&hub, &storage, "Ann", 5).await;
    let visitor = storage.create_visitor(b"v").await.expect("visitor");
    let socket = Socket::new(&hub);
    hub.visitor_connected(visitor, &socket.conn, &[]).await;
    let back = 1_796_371_200_000;
    hub.set_hours(HoursGate {
        closed: true,
        back_at: Some(back),
    });
    assert!(
        !hub.agents_online(),
        "an agent is signed in, but it is after hours"
    );
    let closed = ServerMsg::Availability {
        agents_online: false,
        back_at: Some(back),
    };
    assert!(socket.frames().await.contains(&closed));
    // Opening the chat now opens no conversation: the widget offers the form.
    hub.visitor_start(visitor, &socket.conn).await;
    assert_eq!(socket.frames().await.last(), Some(&closed));
    assert!(hub.conversations_of(ann.id).is_empty());
    // Kept open outside hours: live again, still saying when the team is back.
    hub.set_hours(HoursGate {
        closed: false,
        back_at: Some(back),
    });
    assert!(socket.frames().await.contains(&ServerMsg::Availability {
        agents_online: true,
        back_at: Some(back),
    }));
    hub.set_hours(HoursGate::default());
    assert!(hub.agents_online());
}
