#![cfg(feature = "ssr")]
//! Delivery guarantees at the edges, against the real axum app on an
//! ephemeral port with a temporary SQLite file and real WebSocket clients:
//!
//! - a socket dropped in the middle of a burst resumes with every message
//!   once, in seq order, with no gap (agent side and visitor side);
//! - one message id sent three times is stored and delivered once, live and
//!   on replay after a reconnect;
//! - a failed write reaches the sender as a `storage` error carrying the id,
//!   the server keeps serving, and a resend with the same id succeeds once;
//! - a socket that stops reading is cut off once its queue is full, without
//!   holding up the sender, and gets every message on its return.
//!
//! Run with `cargo test --features ssr --test delivery`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use kefu::protocol::{
    Author, ChatMessage, ClientMsg, ConversationId, ConversationStatus, ErrorCode, MessageId,
    Resume, ServerMsg, MAX_TEXT_CHARS,
};
use kefu::server::config::{Limits, Security};
use kefu::server::hub::OUTBOX_BYTES;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

mod common;
use common::chat::{is_assigned_to, messages, seqs_of, AssignedChat};
use common::client::{decode, Client};
use common::{start_with, Server, Setup};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// How long "nothing more arrives" checks listen.
const QUIET: Duration = Duration::from_millis(500);
/// Messages in one burst.
const BURST: usize = 300;
/// Burst messages a side receives before its socket is dropped.
const DROP_AFTER: usize = 100;
/// How long a whole burst may take to be acknowledged, or to be caught up with.
const BURST_TIMEOUT: Duration = Duration::from_secs(20);
/// Busy timeout of the storage in the storage-error test.
const SHORT_BUSY: Duration = Duration::from_millis(200);

/// Starts the app without abuse limits (the bursts here are far above the
/// ones meant for people typing); with `busy_timeout`, its storage waits
/// that long for a locked database.
async fn start_server(busy_timeout: Option<Duration>) -> Server {
    start_with(Setup {
        security: Security {
            limits: Limits::unlimited(),
            ..Security::default()
        },
        busy_timeout,
        client_addresses: false,
        ..Setup::default()
    })
    .await
}

impl Client {
    /// Reads `conversation`'s message frames until the messages held (`held`,
    /// updated as they arrive) cover every seq in 1..=`last`. Returns those
    /// frames in arrival order, repeats included.
    async fn catch_up(
        &mut self,
        conversation: ConversationId,
        held: &mut BTreeMap<i64, ChatMessage>,
        last: i64,
    ) -> Vec<ChatMessage> {
        let deadline = Instant::now() + BURST_TIMEOUT;
        let mut arrived = Vec::new();
        let mut others = Vec::new();
        while (1..=last).any(|s| !held.contains_key(&s)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_within(left).await {
                Some(ServerMsg::Message { message }) if message.conversation == conversation => {
                    held.entry(message.seq).or_insert_with(|| message.clone());
                    arrived.push(message);
                }
                Some(other) => others.push(other),
                None => {
                    let missing: Vec<i64> = (1..=last).filter(|s| !held.contains_key(s)).collect();
                    panic!(
                        "{}: timed out after {BURST_TIMEOUT:?} catching up to seq {last}; \
                         {} messages arrived, seqs still missing: {missing:?}; \
                         other frames: {others:#?}",
                        self.who,
                        arrived.len()
                    );
                }
            }
        }
        arrived
    }
}

impl Client {
    /// Reads `n` message frames, each the next seq of its conversation
    /// after `last_seen` (updated as they arrive).
    async fn in_seq_order(&mut self, last_seen: &mut BTreeMap<ConversationId, i64>, n: usize) {
        let deadline = Instant::now() + BURST_TIMEOUT;
        let mut got = 0;
        while got < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_within(left).await {
                Some(ServerMsg::Message { message }) => {
                    let last = last_seen.entry(message.conversation).or_insert(0);
                    assert_eq!(
                        message.seq,
                        *last + 1,
                        "{}: in conversation {:?}, seq {} arrived after seq {}",
                        self.who,
                        message.conversation,
                        message.seq,
                        last
                    );
                    *last = message.seq;
                    got += 1;
                }
                Some(_) => {}
                None => panic!(
                    "{}: only {got} of {n} messages arrived within {BURST_TIMEOUT:?}",
                    self.who
                ),
            }
        }
    }
}

/// Checks that the assignment is the first message of the chat (seq 1),
/// and that both sides saw the same one.
fn assignment_is_first(chat: &AssignedChat) {
    assert_eq!(
        chat.seen_by_agent.seq, 1,
        "the assignment is the first message"
    );
    assert_eq!(chat.seen_by_visitor, chat.seen_by_agent);
}

/// `n` distinct message ids, UUID-shaped.
fn burst_ids(tag: u32, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{tag:08x}-0000-4000-8000-{i:012x}"))
        .collect()
}

/// The seqs of the last few acks of a burst so far, in the order sent.
fn last_acks(acks: &BTreeMap<String, i64>, ids: &[String]) -> Vec<i64> {
    let n = acks.len();
    ids[n.saturating_sub(5)..n]
        .iter()
        .map(|id| acks[id])
        .collect()
}

/// Sends `ids` as one pipelined burst (no waiting for acks) while reading the
/// socket, each text padded with `pad` more characters; returns the client
/// and every ack (id → seq) once all have arrived. Fails the test unless
/// the acks arrive in the order sent, with rising seqs.
/// `acked` counts acks as they come, for the test to watch.
async fn burst(
    client: Client,
    conversation: Option<ConversationId>,
    ids: Vec<String>,
    acked: Arc<AtomicUsize>,
    pad: usize,
) -> (Client, BTreeMap<String, i64>) {
    let padding = "x".repeat(pad);
    let Client { ws, who, patience } = client;
    let (mut sink, mut stream) = ws.split();
    let writer = async {
        for id in &ids {
            let msg = ClientMsg::Send {
                id: MessageId(id.clone()),
                conversation,
                text: format!("burst message {id}{padding}"),
                resend: false,
            };
            let text = serde_json::to_string(&msg).expect("a client message serializes");
            sink.send(Message::text(text))
                .await
                .unwrap_or_else(|e| panic!("{who}: sending burst message {id} failed: {e}"));
        }
    };
    let reader = async {
        let mut acks = BTreeMap::new();
        let deadline = tokio::time::Instant::now() + BURST_TIMEOUT;
        while acks.len() < ids.len() {
            let frame = match tokio::time::timeout_at(deadline, stream.next()).await {
                Err(_) => panic!(
                    "{who}: only {} of {} burst messages acknowledged within {BURST_TIMEOUT:?}",
                    acks.len(),
                    ids.len()
                ),
                Ok(None) => panic!("{who}: the socket ended during the burst"),
                Ok(Some(Err(e))) => panic!("{who}: the socket failed during the burst: {e}"),
                Ok(Some(Ok(frame))) => frame,
            };
            match frame {
                Message::Text(text) => match decode(&who, &text) {
                    ServerMsg::Ack { id, seq, .. } => {
                        // Acks come in the order sent, with rising seqs.
                        let expected = &ids[acks.len()];
                        assert_eq!(
                            &id.0,
                            expected,
                            "{who}: ack {} of the burst is for {} (seq {seq}), not for the \
                             message sent {}th; the acks before it: {:?}",
                            acks.len() + 1,
                            id.0,
                            acks.len() + 1,
                            last_acks(&acks, &ids),
                        );
                        if let Some(prev) = acks.values().max() {
                            assert!(seq > *prev, "{who}: ack of seq {seq} after seq {prev}");
                        }
                        if let Some(old) = acks.insert(id.0.clone(), seq) {
                            panic!("{who}: {} acknowledged twice ({old}, {seq})", id.0);
                        }
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                    ServerMsg::Error { code, id, message } => {
                        panic!("{who}: error {code:?} for {id:?} during the burst: {message}")
                    }
                    _ => {}
                },
                Message::Close(frame) => panic!("{who}: closed during the burst: {frame:?}"),
                _ => {}
            }
        }
        acks
    };
    let ((), acks) = futures::join!(writer, reader);
    let ws = sink
        .reunite(stream)
        .expect("the two halves belong to one socket");
    (Client { ws, who, patience }, acks)
}

/// Which side loses its socket in the middle of the burst.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Dropped {
    /// The visitor bursts, the agent's socket dies.
    Agent,
    /// The agent bursts, the visitor's socket dies.
    Visitor,
}

/// The receive buffer of a socket whose reader stalls (fixed, so the kernel
/// does not grow it while nobody reads).
const STALLED_RCVBUF: u32 = 64 * 1024;

/// A TCP connection to `addr` with a small fixed receive buffer.
async fn stalling_socket(addr: std::net::SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .set_recv_buffer_size(STALLED_RCVBUF)
        .expect("setting SO_RCVBUF");
    socket.connect(addr).await.expect("connecting")
}

/// The most a TCP socket's send buffer may grow to here (Linux).
fn tcp_wmem_max() -> u64 {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(4 << 20)
}

/// The burst-and-drop scenario; see the two tests below.
async fn drop_mid_burst(dropped: Dropped) {
    let server = start_server(None).await;
    let (cookie, agent, chat) = server.agent_with_chat("Ann", 5).await;
    assignment_is_first(&chat);
    let (visitor, token, conv) = (chat.visitor, chat.token, chat.conversation);

    let ids = burst_ids(0xb0257, BURST);
    let acked = Arc::new(AtomicUsize::new(0));
    let (sender, mut receiver, held_before, burst_author, conversation) = match dropped {
        Dropped::Agent => (visitor, agent, chat.seen_by_agent, Author::Visitor, None),
        Dropped::Visitor => (
            agent,
            visitor,
            chat.seen_by_visitor,
            Author::Agent,
            Some(conv),
        ),
    };
    let side = format!("{dropped:?}").to_lowercase();
    let sending = tokio::spawn(burst(sender, conversation, ids.clone(), acked.clone(), 0));

    // The receiving side reads part of the burst, in order and without gaps...
    let mut before = vec![held_before];
    while before.len() <= DROP_AFTER {
        let next = before.len() as i64 + 1;
        let message = receiver
            .expect_map_within(
                &format!("burst message seq {next}"),
                BURST_TIMEOUT,
                |m| match m {
                    ServerMsg::Message { message } if message.conversation == conv => {
                        Some(message.clone())
                    }
                    _ => None,
                },
            )
            .await;
        assert_eq!(
            message.seq, next,
            "{side}: live messages arrive in seq order without gaps: {message:?}"
        );
        before.push(message);
    }
    // ...then its connection dies: no close frame, unread data discarded.
    let acked_at_drop = acked.load(Ordering::SeqCst);
    drop(receiver);
    let after_seq = before.last().map_or(0, |m| m.seq);

    // It reconnects while the burst goes on, resuming after the highest seq it saw.
    let resume = vec![Resume {
        conversation: conv,
        after: after_seq,
    }];
    let mut receiver = match dropped {
        Dropped::Agent => {
            let (client, welcome) = server
                .agent_named("agent (reconnected)", &cookie, resume)
                .await;
            assert_eq!(welcome.serves(), vec![conv], "the agent still serves it");
            client
        }
        Dropped::Visitor => {
            let (client, welcome) = server
                .visitor_named("visitor (reconnected)", Some(token), resume)
                .await;
            assert_eq!(welcome.info.token, None, "a known token is not reissued");
            client
        }
    };
    let last = 1 + BURST as i64;
    let mut held: BTreeMap<i64, ChatMessage> = before.iter().map(|m| (m.seq, m.clone())).collect();
    let mut after = receiver.catch_up(conv, &mut held, last).await;
    // Anything straggling (a late repeat, or a message past the burst) shows up here.
    for frame in receiver.collect_for(QUIET).await {
        if let ServerMsg::Message { message } = frame {
            if message.conversation == conv {
                held.entry(message.seq).or_insert_with(|| message.clone());
                after.push(message);
            }
        }
    }

    let (_sender, acks) = tokio::time::timeout(BURST_TIMEOUT, sending)
        .await
        .expect("the burst finishes")
        .expect("the burst task does not panic");

    // Nothing it had before the drop came again.
    let repeated_old: Vec<i64> = after
        .iter()
        .map(|m| m.seq)
        .filter(|s| *s <= after_seq)
        .collect();
    assert!(
        repeated_old.is_empty(),
        "{side}: seqs at or below the resume point ({after_seq}) came again: {repeated_old:?}"
    );
    // After the reconnect, the replay and the live stream may overlap (the
    // protocol allows a live message to repeat a replayed one; clients merge
    // by seq), but a repeat must be the very same message.
    let mut repeats = 0;
    let mut first_copy: BTreeMap<i64, &ChatMessage> = BTreeMap::new();
    for m in &after {
        if let Some(first) = first_copy.insert(m.seq, m) {
            assert_eq!(
                first, m,
                "{side}: two different messages with seq {}",
                m.seq
            );
            repeats += 1;
        }
    }

    // The union: seq 1..=last, no gap, every burst message exactly once, in sending order.
    let seqs: Vec<i64> = held.keys().copied().collect();
    assert_eq!(
        seqs,
        (1..=last).collect::<Vec<_>>(),
        "{side}: the messages held are seq 1..={last} without gaps or extras"
    );
    assert!(is_assigned_to(&held[&1], "Ann"), "{:?}", held[&1]);
    for (i, id) in ids.iter().enumerate() {
        let seq = i as i64 + 2;
        let m = &held[&seq];
        assert_eq!(
            (m.id.0.as_str(), m.author, m.text.as_str()),
            (
                id.as_str(),
                burst_author,
                format!("burst message {id}").as_str()
            ),
            "{side}: seq {seq} holds the wrong message"
        );
        assert_eq!(acks.get(id), Some(&seq), "{side}: the ack of {id}");
    }
    let mut held_ids: Vec<&str> = held.values().map(|m| m.id.0.as_str()).collect();
    held_ids.sort_unstable();
    held_ids.dedup();
    assert_eq!(held_ids.len(), held.len(), "{side}: an id is held twice");
    assert!(
        acked_at_drop < BURST,
        "the drop was not in the middle of the burst: all {BURST} were acked already"
    );
    println!(
        "{side} dropped mid-burst: had seq 1..={after_seq} (burst acked so far: {acked_at_drop}/{BURST}), \
         got {} frames after resuming ({repeats} replay/live repeats merged), holds 1..={last}",
        after.len()
    );
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// Several visitors each pipeline 1,000 messages without waiting for acks,
/// round after round: each visitor's acks arrive in the order sent with
/// rising seqs (checked in [`burst`]), and the agent gets each
/// conversation's messages in seq order, none missing, none twice.
/// (Before acks and deliveries were announced in commit order, a message
/// whose batch had committed when its sender first looked overtook
/// earlier ones in most runs of this test.)
#[tokio::test]
async fn deep_pipelines_are_acknowledged_and_delivered_in_order() {
    const VISITORS: u32 = 8;
    const DEPTH: usize = 1_000;
    const ROUNDS: u32 = 20;
    let server = start_server(None).await;
    let cookie = server.agent_cookie("Ann", VISITORS).await;
    let (mut agent, _) = server.agent(&cookie, vec![]).await;
    let mut visitors = Vec::new();
    for _ in 0..VISITORS {
        let chat = server.assigned_chat(&mut agent, "Ann").await;
        assignment_is_first(&chat);
        let (visitor, conv) = (chat.visitor, chat.conversation);
        visitors.push((visitor, conv));
    }
    // The assignment is seq 1 in each.
    let mut last_seen: BTreeMap<ConversationId, i64> =
        visitors.iter().map(|(_, c)| (*c, 1)).collect();
    for round in 0..ROUNDS {
        let sending = visitors
            .into_iter()
            .enumerate()
            .map(|(i, (visitor, conv))| {
                let ids = burst_ids(round * VISITORS + i as u32, DEPTH);
                async move {
                    let acked = Arc::new(AtomicUsize::new(0));
                    let (visitor, acks) = burst(visitor, None, ids, acked, 0).await;
                    assert_eq!(acks.len(), DEPTH);
                    (visitor, conv)
                }
            });
        let receiving = agent.in_seq_order(&mut last_seen, VISITORS as usize * DEPTH);
        let (sent, ()) = futures::join!(futures::future::join_all(sending), receiving);
        visitors = sent;
    }
}

#[tokio::test]
async fn an_agent_dropped_mid_burst_resumes_every_message_once() {
    drop_mid_burst(Dropped::Agent).await;
}

#[tokio::test]
async fn a_visitor_dropped_mid_burst_resumes_every_message_once() {
    drop_mid_burst(Dropped::Visitor).await;
}

#[tokio::test]
async fn one_id_sent_three_times_is_stored_and_delivered_once() {
    let server = start_server(None).await;
    let (cookie, mut agent, chat) = server.agent_with_chat("Ann", 5).await;
    assignment_is_first(&chat);
    let (mut visitor, token, conv) = (chat.visitor, chat.token, chat.conversation);

    // One id sent, then resent twice, pipelined, then a different message.
    visitor.say("dup-1", "only once").await;
    for _ in 0..2 {
        visitor.say_again("dup-1", "only once").await;
    }
    visitor.say("after-dup", "the next one").await;
    let frames = visitor
        .frames_until(
            "the ack of after-dup",
            |m| matches!(m, ServerMsg::Ack { id, .. } if id.0 == "after-dup"),
        )
        .await;
    let dup_acks: Vec<(ConversationId, i64)> = frames
        .iter()
        .filter_map(|m| match m {
            ServerMsg::Ack {
                id,
                conversation,
                seq,
            } if id.0 == "dup-1" => Some((*conversation, *seq)),
            _ => None,
        })
        .collect();
    assert_eq!(
        dup_acks,
        vec![(conv, 2); 3],
        "each send is acked, all with the first seq: {frames:#?}"
    );
    let echoes = seqs_of(&frames, "dup-1");
    assert!(
        echoes.is_empty(),
        "the sending socket learns of its message from the acks, not an echo: {frames:#?}"
    );
    assert!(
        matches!(frames.last(), Some(ServerMsg::Ack { seq: 3, .. })),
        "the next message took seq 3, the duplicates none: {frames:#?}"
    );

    // The agent got it once.
    let mut agent_frames = agent
        .frames_until(
            "the message after-dup",
            |m| matches!(m, ServerMsg::Message { message } if message.id.0 == "after-dup"),
        )
        .await;
    agent_frames.extend(agent.collect_for(QUIET).await);
    let agent_copies = seqs_of(&agent_frames, "dup-1");
    assert_eq!(
        agent_copies,
        vec![2],
        "the agent gets the message once: {agent_frames:#?}"
    );

    // A fresh agent connection replaying everything sees it once too.
    agent.close().await;
    let replay_ids = |frames: &[ServerMsg]| -> Vec<(i64, String)> {
        messages(frames)
            .filter(|m| m.conversation == conv)
            .map(|m| (m.seq, m.id.0.clone()))
            .collect()
    };
    let (mut agent, _) = server
        .agent_named(
            "agent (reconnected)",
            &cookie,
            vec![Resume {
                conversation: conv,
                after: 0,
            }],
        )
        .await;
    let mut replay = agent
        .frames_until(
            "the replay of after-dup",
            |m| matches!(m, ServerMsg::Message { message } if message.id.0 == "after-dup"),
        )
        .await;
    replay.extend(agent.collect_for(QUIET).await);
    let replayed = replay_ids(&replay);
    assert_eq!(
        replayed.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        vec![1, 2, 3],
        "the replay is seq 1..=3: {replay:#?}"
    );
    assert_eq!(
        replayed.iter().filter(|(_, id)| id == "dup-1").count(),
        1,
        "the replay holds dup-1 once: {replay:#?}"
    );

    // The visitor's connection dies; like a real client it reconnects and
    // resends what it considers pending: dup-1 a fourth time.
    drop(visitor);
    let (mut visitor, _) = server
        .visitor_named(
            "visitor (reconnected)",
            Some(token),
            vec![Resume {
                conversation: conv,
                after: 3,
            }],
        )
        .await;
    visitor.say_again("dup-1", "only once").await;
    let frames = visitor
        .frames_until(
            "the ack of the fourth dup-1",
            |m| matches!(m, ServerMsg::Ack { id, .. } if id.0 == "dup-1"),
        )
        .await;
    assert!(
        matches!(frames.last(), Some(ServerMsg::Ack { conversation, seq: 2, .. }) if *conversation == conv),
        "the resend is acked with the original seq: {frames:#?}"
    );
    assert!(
        !frames
            .iter()
            .any(|m| matches!(m, ServerMsg::Message { .. })),
        "nothing is replayed or delivered again: {frames:#?}"
    );
    let late: Vec<ServerMsg> = agent
        .collect_for(QUIET)
        .await
        .into_iter()
        .filter(|m| matches!(m, ServerMsg::Message { .. }))
        .collect();
    assert!(late.is_empty(), "the agent got it again: {late:#?}");

    // And storage holds it once.
    let stored = server
        .state
        .storage
        .messages_after(conv, 0, 100)
        .await
        .expect("reading the conversation");
    assert_eq!(
        stored
            .iter()
            .map(|m| (m.seq, m.id.0.as_str()))
            .skip(1)
            .collect::<Vec<_>>(),
        vec![(2, "dup-1"), (3, "after-dup")],
        "stored: {stored:#?}"
    );
}

#[tokio::test]
async fn messages_sent_right_before_a_close_are_all_stored_first_in_order() {
    let server = start_server(None).await;
    let (_, mut agent, chat) = server.agent_with_chat("Ann", 5).await;
    assignment_is_first(&chat);
    let (mut visitor, conv) = (chat.visitor, chat.conversation);

    // The socket reads on while messages are being stored (pipelined); a
    // close sent behind them must still act only after they are stored.
    let ids = burst_ids(7, 50);
    for id in &ids {
        agent
            .send(&ClientMsg::Send {
                id: MessageId(id.clone()),
                conversation: Some(conv),
                text: format!("reply {id}"),
                resend: false,
            })
            .await;
    }
    agent.send(&ClientMsg::Close { conversation: conv }).await;
    let frames = agent
        .frames_until("the closed conversation", |m| {
            matches!(m, ServerMsg::Conversation { conversation }
                if conversation.id == conv && conversation.status == ConversationStatus::Closed)
        })
        .await;
    let acks: Vec<(String, i64)> = frames
        .iter()
        .filter_map(|m| match m {
            ServerMsg::Ack { id, seq, .. } => Some((id.0.clone(), *seq)),
            _ => None,
        })
        .collect();
    let expected: Vec<(String, i64)> = ids.iter().cloned().zip(2..).collect();
    assert_eq!(
        acks, expected,
        "every reply acked, in order, before the close: {frames:#?}"
    );
    assert!(
        !frames.iter().any(|m| matches!(m, ServerMsg::Error { .. })),
        "no reply was refused: {frames:#?}"
    );
    // The visitor got them all, in order, then the closing.
    let seen = visitor
        .frames_until("the closed conversation", |m| {
            matches!(m, ServerMsg::Conversation { conversation }
                if conversation.status == ConversationStatus::Closed)
        })
        .await;
    let texts: Vec<i64> = messages(&seen)
        .filter(|m| m.author == Author::Agent)
        .map(|m| m.seq)
        .collect();
    assert_eq!(texts, (2..52).collect::<Vec<i64>>());
}

/// An agent whose socket stops reading (a frozen tab, a dead network that
/// has not timed out yet) must not hold up the visitor, nor make the server
/// buffer without bound: once its queue is full the server closes that
/// socket, and the agent, back with `resume`, gets every message once.
#[tokio::test]
async fn a_socket_that_stops_reading_is_cut_off_without_losing_or_holding_up_anything() {
    let server = start_server(None).await;
    let cookie = server.agent_cookie("Ann", 5).await;
    let (mut agent, _) = server
        .agent_on(stalling_socket(server.addr).await, "agent", &cookie, vec![])
        .await;
    let chat = server.assigned_chat(&mut agent, "Ann").await;
    assignment_is_first(&chat);
    let (visitor, conv) = (chat.visitor, chat.conversation);

    // The agent reads nothing more. Enough full-length messages to overflow
    // its queue even after the kernel's buffers (the agent's receive buffer
    // is fixed and small; the server's send buffer may grow to wmem max).
    let frame = MAX_TEXT_CHARS as u64;
    let kernel = tcp_wmem_max() + 2 * STALLED_RCVBUF as u64;
    let n = ((OUTBOX_BYTES as u64 + kernel) / frame) as usize + 256;
    let ids = burst_ids(0x510, n);
    let acked = Arc::new(AtomicUsize::new(0));
    let (visitor, acks) = burst(visitor, None, ids.clone(), acked, MAX_TEXT_CHARS - 64).await;
    assert_eq!(
        acks.len(),
        n,
        "every message is acknowledged to the visitor"
    );

    // The stalled socket was closed by the server: reading it now gives what
    // it had buffered, then its end (no close frame: it could not be sent).
    let mut held = BTreeMap::new();
    let ended = tokio::time::timeout(BURST_TIMEOUT, async {
        loop {
            match agent.ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    if let ServerMsg::Message { message } = decode("agent", &text) {
                        held.insert(message.seq, message);
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the stalled socket is still open after {BURST_TIMEOUT:?} ({} messages read)",
        held.len()
    );
    println!(
        "the stalled agent socket gave {} of {} messages before its end",
        held.len(),
        n + 1
    );
    let last = 1 + n as i64;
    assert!(
        held.len() < n,
        "the stalled socket was cut off before all {n} messages: it had {}",
        held.len()
    );

    // Back with resume: the rest arrives, every seq once.
    // Resume after the last seq held with none missing before it.
    let after = (1..)
        .take_while(|s| held.contains_key(s))
        .last()
        .unwrap_or(0);
    let (mut back, welcome) = server
        .agent_named(
            "agent again",
            &cookie,
            vec![Resume {
                conversation: conv,
                after,
            }],
        )
        .await;
    assert_eq!(
        welcome.serves(),
        vec![conv],
        "the conversation stayed with the agent"
    );
    back.catch_up(conv, &mut held, last).await;
    assert_eq!(
        held.keys().copied().collect::<Vec<_>>(),
        (1..=last).collect::<Vec<_>>()
    );
    let texts_ok = held
        .values()
        .filter(|m| m.author == Author::Visitor)
        .all(|m| acks.get(&m.id.0) == Some(&m.seq));
    assert!(texts_ok, "each message holds the seq its ack gave");
    visitor.close().await;
    back.close().await;
}

#[tokio::test]
async fn a_storage_error_reaches_the_sender_and_a_retry_succeeds_once() {
    let server = start_server(Some(SHORT_BUSY)).await;
    let (_, mut agent, chat) = server.agent_with_chat("Ann", 5).await;
    assignment_is_first(&chat);
    let (mut visitor, conv) = (chat.visitor, chat.conversation);

    // Another process holds the write lock.
    let mut locker = SqliteConnectOptions::new()
        .filename(&server.db)
        .connect()
        .await
        .expect("a second connection to the database");
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut locker)
        .await
        .expect("taking the write lock");

    let sent = Instant::now();
    visitor.say("locked-1", "can you hear me?").await;
    let mut skipped = Vec::new();
    let (code, id) = visitor
        .expect_map("the storage error", |m| match m {
            ServerMsg::Error { code, id, .. } => Some((*code, id.clone())),
            other => {
                skipped.push(other.clone());
                None
            }
        })
        .await;
    let waited = sent.elapsed();
    assert_eq!(
        (code, id),
        (ErrorCode::Storage, Some(MessageId("locked-1".into()))),
        "the sender learns its message was not stored"
    );
    assert!(
        !skipped
            .iter()
            .any(|m| matches!(m, ServerMsg::Ack { .. } | ServerMsg::Message { .. })),
        "no ack or delivery for a message that was not stored: {skipped:#?}"
    );
    assert!(
        waited >= SHORT_BUSY / 2,
        "the write failed after {waited:?}, without waiting for the lock"
    );

    // The server keeps serving; the agent got nothing.
    visitor.ping_pong().await;
    let agent_frames = agent.collect_for(QUIET).await;
    assert!(
        !agent_frames
            .iter()
            .any(|m| matches!(m, ServerMsg::Message { .. })),
        "the agent received an unstored message: {agent_frames:#?}"
    );
    agent.ping_pong().await;

    // The lock goes away; the same id is resent and now stored, once.
    sqlx::query("ROLLBACK")
        .execute(&mut locker)
        .await
        .expect("releasing the write lock");
    locker.close().await.expect("closing the second connection");

    visitor.say_again("locked-1", "can you hear me?").await;
    let frames = visitor
        .frames_until("the ack of the resend", |m| {
            matches!(m, ServerMsg::Ack { .. } | ServerMsg::Error { .. })
        })
        .await;
    assert!(
        matches!(
            frames.last(),
            Some(ServerMsg::Ack { id, conversation, seq: 2 }) if id.0 == "locked-1" && *conversation == conv
        ),
        "the resend is stored as seq 2 (the failed write took no seq): {frames:#?}"
    );
    let message = agent
        .expect_message("the resent message", |m| m.id.0 == "locked-1")
        .await;
    assert_eq!(
        (message.seq, message.text.as_str()),
        (2, "can you hear me?")
    );
    let more: Vec<ServerMsg> = agent
        .collect_for(QUIET)
        .await
        .into_iter()
        .filter(|m| matches!(m, ServerMsg::Message { .. }))
        .collect();
    assert!(
        more.is_empty(),
        "the agent got it more than once: {more:#?}"
    );
    agent.ping_pong().await;
    println!("storage error reached the sender after {waited:?}; the resend was stored as seq 2");
}
