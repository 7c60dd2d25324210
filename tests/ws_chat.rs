#![cfg(feature = "ssr")]
//! End-to-end tests of the chat protocol: the real axum app on an ephemeral
//! port, a temporary SQLite file, and real WebSocket clients speaking JSON.
//!
//! Run with `cargo test --features ssr --test ws_chat`.

use std::time::{Duration, Instant};

use futures::SinkExt;
use kefu::protocol::{
    Author, ClientMsg, ConversationId, ConversationStatus, ErrorCode, MessageId, Party, Resume,
    ServerMsg, SystemEvent, MAX_TEXT_CHARS,
};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::Message;

mod common;
use common::chat::{is_assigned_to, messages, seqs_of};
use common::client::{Client, EXPECT_TIMEOUT};
use common::{start_with, Server, Setup};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// How long "nothing more arrives" checks listen.
const QUIET: Duration = Duration::from_millis(500);
/// Grace period for tests that do not exercise it (long enough never to expire).
const LONG_GRACE: Duration = Duration::from_secs(60);

/// Starts the app with the given agent grace period (client addresses
/// unknown, so no per-address limit applies).
async fn start_server(grace: Duration) -> Server {
    start_with(Setup {
        grace,
        client_addresses: false,
        ..Setup::default()
    })
    .await
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[tokio::test]
async fn full_chat_between_visitor_and_agent() {
    let server = start_server(LONG_GRACE).await;
    let cookie = server.agent_cookie("Ann", 3).await;
    let (mut agent, welcome) = server.agent(&cookie, vec![]).await;
    assert_eq!(welcome.info.name, "Ann");
    assert_eq!(welcome.info.capacity, 3);
    assert_eq!(
        welcome.conversations,
        Some(vec![]),
        "a new agent serves nothing"
    );

    let (mut visitor, welcome) = server.visitor(None, vec![]).await;
    assert!(welcome.agents_online, "the welcome says an agent is online");
    let token = welcome
        .info
        .token
        .clone()
        .expect("a new visitor gets a token");
    assert!(!token.is_empty());
    assert!(
        welcome.info.label.starts_with("Visitor "),
        "label {:?}",
        welcome.info.label
    );

    visitor.send(&ClientMsg::Start).await;
    let v_conv = visitor
        .expect_conversation("the assigned conversation", |c| {
            c.status == ConversationStatus::Assigned
        })
        .await;
    assert_eq!(v_conv.agent_name.as_deref(), Some("Ann"));
    assert_eq!(v_conv.visitor_label, welcome.info.label);
    let id = v_conv.id;
    let a_conv = agent
        .expect_conversation("the assigned conversation", |c| c.id == id)
        .await;
    assert_eq!(a_conv.status, ConversationStatus::Assigned);
    assert_eq!(a_conv.visitor_label, welcome.info.label);
    assert!(a_conv.visitor_online);

    for (side, client) in [("visitor", &mut visitor), ("agent", &mut agent)] {
        let sys = client
            .expect_message("the assigned system message", |m| m.conversation == id)
            .await;
        assert_eq!(sys.author, Author::System, "{side}: {sys:?}");
        assert_eq!(
            sys.event,
            Some(SystemEvent::Assigned {
                agent: "Ann".into()
            }),
            "{side}"
        );
        assert_eq!(sys.seq, 1, "{side}: the assignment is the first message");
    }

    // Visitor → agent.
    visitor.say("v-1", "hello").await;
    let (acked_conv, seq) = visitor.expect_ack("v-1").await;
    assert_eq!(acked_conv, id);
    assert_eq!(seq, 2);
    let got = agent
        .expect_message("the visitor's hello", |m| m.author != Author::System)
        .await;
    assert_eq!(got.author, Author::Visitor);
    assert_eq!(got.text, "hello");
    assert_eq!(got.seq, seq);
    assert_eq!(got.id, MessageId("v-1".into()));
    assert_eq!(got.author_name, None);

    // Agent → visitor.
    agent.say_in(id, "a-1", "hi, how can I help?").await;
    let (acked_conv, seq) = agent.expect_ack("a-1").await;
    assert_eq!((acked_conv, seq), (id, 3));
    let got = visitor
        .expect_message("the agent's reply", |m| m.author == Author::Agent)
        .await;
    assert_eq!(got.text, "hi, how can I help?");
    assert_eq!(got.author_name.as_deref(), Some("Ann"));
    assert_eq!(got.seq, 3);

    // A visitor cannot pose as the agent: extra fields are ignored, the server sets the author.
    visitor
        .send_raw(
            r#"{"type":"send","data":{"id":"v-2","text":"I am the boss","author":"agent","author_name":"Boss"}}"#
                .to_owned(),
        )
        .await;
    let (_, seq) = visitor.expect_ack("v-2").await;
    assert_eq!(seq, 4);
    let got = agent
        .expect_message("the visitor's second message", |m| m.seq == 4)
        .await;
    assert_eq!(got.author, Author::Visitor);
    assert_eq!(got.author_name, None);
    assert_eq!(got.text, "I am the boss");
}

#[tokio::test]
async fn malformed_frames_get_bad_frame_and_the_socket_keeps_working() {
    let server = start_server(LONG_GRACE).await;
    let (mut v1, _) = server.visitor(None, vec![]).await;
    let (mut v2, _) = server.visitor(None, vec![]).await;

    v1.send_raw("not json".to_owned()).await;
    v1.next_is_error(ErrorCode::BadFrame).await;
    v1.send_raw(r#"{"type":"nope"}"#.to_owned()).await;
    v1.next_is_error(ErrorCode::BadFrame).await;
    v1.send_raw(r#"{"type":"send","data":{"text":"no id"}}"#.to_owned())
        .await;
    v1.next_is_error(ErrorCode::BadFrame).await;
    v1.ws
        .send(Message::binary(vec![1u8, 2, 3]))
        .await
        .expect("sending a binary frame");
    v1.next_is_error(ErrorCode::BadFrame).await;

    // Still alive, and nothing else was pending.
    v1.ping_pong().await;
    v1.ping_pong().await;
    // The other visitor saw none of it.
    v2.ping_pong().await;
    // And the first one can still chat.
    v1.say("after-bad", "still here").await;
    v1.expect_ack("after-bad").await;
}

#[tokio::test]
async fn oversized_frames_get_frame_too_large_and_the_socket_keeps_working() {
    let server = start_server(LONG_GRACE).await;
    let (mut visitor, _) = server.visitor(None, vec![]).await;

    // A well-formed send of ~70 000 bytes: refused for its size, before parsing.
    let frame = format!(
        r#"{{"type":"send","data":{{"id":"big","text":"{}"}}}}"#,
        "a".repeat(70_000)
    );
    assert!(frame.len() > 64 * 1024);
    visitor.send_raw(frame).await;
    visitor.next_is_error(ErrorCode::FrameTooLarge).await;

    // Plain junk of that size too.
    visitor.send_raw("x".repeat(70_000)).await;
    visitor.next_is_error(ErrorCode::FrameTooLarge).await;

    visitor.ping_pong().await;
    // The oversized message was never stored: the next message is the first of its conversation.
    visitor.say("small", "a small one").await;
    let (_, seq) = visitor.expect_ack("small").await;
    assert_eq!(seq, 1, "the oversized frame stored nothing");
}

#[tokio::test]
async fn text_rules_are_enforced() {
    let server = start_server(LONG_GRACE).await;
    let (mut visitor, welcome) = server.visitor(None, vec![]).await;

    visitor.say("blank", "  \n\t ").await;
    let id = visitor.next_is_error(ErrorCode::EmptyText).await;
    assert_eq!(id, Some(MessageId("blank".into())));

    visitor.say("empty", "").await;
    visitor.next_is_error(ErrorCode::EmptyText).await;

    visitor.say("long", &"a".repeat(MAX_TEXT_CHARS + 1)).await;
    let id = visitor.next_is_error(ErrorCode::TextTooLong).await;
    assert_eq!(
        id,
        Some(MessageId("long".into())),
        "the refused id is echoed"
    );

    // Characters, not bytes: 4001 two-byte characters are too long as well.
    visitor.say("long-e", &"é".repeat(MAX_TEXT_CHARS + 1)).await;
    let id = visitor.next_is_error(ErrorCode::TextTooLong).await;
    assert_eq!(id, Some(MessageId("long-e".into())));

    visitor.say(&"i".repeat(65), "fine text").await;
    visitor.next_is_error(ErrorCode::BadMessageId).await;

    // Exactly the limit is fine, in characters (8000 bytes here). The
    // sending socket gets the ack; another tab of the visitor the message.
    let max = "é".repeat(MAX_TEXT_CHARS);
    let (mut other_tab, _) = server.visitor(welcome.info.token.clone(), vec![]).await;
    visitor.say("max", &max).await;
    let (conv, seq) = visitor.expect_ack("max").await;
    let stored = other_tab
        .expect_message("the stored 4000-character message", |m| m.id.0 == "max")
        .await;
    assert_eq!(seq, 1, "none of the refused messages was stored");
    assert_eq!(stored.conversation, conv);
    assert_eq!(stored.seq, 1);
    assert_eq!(stored.text.chars().count(), MAX_TEXT_CHARS);
    assert_eq!(stored.text, max);
}

/// Each side's message reaches every socket of the conversation once: the
/// sending socket as an ack (no copy of its own message: the ack carries the
/// seq), every other socket (the other side, and the sender's other tabs) as
/// the message.
#[tokio::test]
async fn the_sending_socket_gets_the_ack_and_every_other_socket_the_message() {
    let server = start_server(LONG_GRACE).await;
    let (cookie, mut agent, chat) = server.agent_with_chat("Ann", 5).await;
    let (mut visitor, welcome, conv) = (chat.visitor, chat.welcome, chat.conversation);
    let token = welcome.info.token.clone().expect("a new visitor's token");
    let (mut visitor_tab, _) = server.visitor(Some(token), vec![]).await;
    let (mut agent_tab, _) = server.agent(&cookie, vec![]).await;

    for (sender, id) in [("visitor", "v-1"), ("agent", "a-1")] {
        match sender {
            "visitor" => visitor.say(id, "hello from one tab").await,
            _ => agent.say_in(conv, id, "a reply from one tab").await,
        }
        let (sending, others): (&mut Client, [&mut Client; 3]) = match sender {
            "visitor" => (&mut visitor, [&mut visitor_tab, &mut agent, &mut agent_tab]),
            _ => (&mut agent, [&mut agent_tab, &mut visitor, &mut visitor_tab]),
        };
        // Every frame the sending socket gets, up to its ack and a while after.
        let mut seen = Vec::new();
        let (acked, seq) = loop {
            match sending.next_within(EXPECT_TIMEOUT).await {
                Some(ServerMsg::Ack {
                    id: a,
                    conversation,
                    seq,
                }) if a.0 == id => break (conversation, seq),
                Some(other) => seen.push(other),
                None => panic!("{sender}: no ack of {id}; frames seen: {seen:#?}"),
            }
        };
        assert_eq!(acked, conv);
        for other in others {
            let got = other
                .expect_message(&format!("{sender}'s {id}"), |m| m.id.0 == id)
                .await;
            assert_eq!((got.conversation, got.seq), (conv, seq), "{}", other.who);
        }
        seen.extend(sending.collect_for(QUIET).await);
        assert!(
            !seen
                .iter()
                .any(|m| matches!(m, ServerMsg::Message { message } if message.id.0 == id)),
            "{sender}: the sending socket gets no copy of its message: {seen:#?}"
        );
    }
}

#[tokio::test]
async fn resending_the_same_id_stores_and_delivers_once() {
    let server = start_server(LONG_GRACE).await;
    let (_, mut agent, chat) = server.agent_with_chat("Ann", 5).await;
    let (mut visitor, conv) = (chat.visitor, chat.conversation);

    let mut seqs = Vec::new();
    for attempt in 0..3 {
        if attempt == 0 {
            visitor.say("same-id", "only once").await;
        } else {
            visitor.say_again("same-id", "only once").await;
        }
        let (c, seq) = visitor.expect_ack("same-id").await;
        assert_eq!(c, conv);
        seqs.push(seq);
    }
    assert_eq!(
        seqs,
        vec![2, 2, 2],
        "every resend is acked with the same seq"
    );

    let first = agent
        .expect_message("the message", |m| m.author == Author::Visitor)
        .await;
    assert_eq!((first.id.0.as_str(), first.seq), ("same-id", 2));

    visitor.say("next-id", "a different one").await;
    let (_, seq) = visitor.expect_ack("next-id").await;
    assert_eq!(seq, 3, "the duplicates took no seq");
    let next = agent
        .expect_message("the next message", |m| m.author == Author::Visitor)
        .await;
    assert_eq!(
        (next.id.0.as_str(), next.seq, next.text.as_str()),
        ("next-id", 3, "a different one"),
        "the agent got a duplicate instead of the next message"
    );

    // The visitor's own copy came once as well.
    let visitor_copies = seqs_of(&visitor.collect_for(QUIET).await, "same-id");
    assert!(
        visitor_copies.is_empty(),
        "no further copies of the message arrive, got {visitor_copies:?}"
    );

    // An agent resending its own id is deduplicated too.
    agent.say_in(conv, "agent-id", "reply").await;
    let (_, a1) = agent.expect_ack("agent-id").await;
    agent.say_in_again(conv, "agent-id", "reply").await;
    let (_, a2) = agent.expect_ack("agent-id").await;
    assert_eq!((a1, a2), (4, 4));
}

#[tokio::test]
async fn visitors_cannot_see_other_conversations_or_act_as_agents() {
    let server = start_server(LONG_GRACE).await;
    let (_, mut agent, chat) = server.agent_with_chat("Ann", 5).await;
    let (mut visitor_a, conv_a) = (chat.visitor, chat.conversation);
    visitor_a.say("a-secret", "my card number is 1234").await;
    visitor_a.expect_ack("a-secret").await;
    agent.say_in(conv_a, "a-reply", "thanks").await;
    agent.expect_ack("a-reply").await;

    // B claims to resume A's conversation.
    let (mut visitor_b, welcome_b) = server
        .visitor(
            None,
            vec![Resume {
                conversation: conv_a,
                after: 0,
            }],
        )
        .await;
    assert!(welcome_b.info.token.is_some());
    let frames = visitor_b.collect_for(QUIET).await;
    let leaked: Vec<&ServerMsg> = frames
        .iter()
        .filter(|m| match m {
            ServerMsg::Message { message } => message.conversation == conv_a,
            ServerMsg::Conversation { conversation } => conversation.id == conv_a,
            ServerMsg::Ack { conversation, .. }
            | ServerMsg::Presence { conversation, .. }
            | ServerMsg::ReadUpTo { conversation, .. }
            | ServerMsg::Typing { conversation, .. }
            | ServerMsg::Seen { conversation, .. } => *conversation == conv_a,
            _ => false,
        })
        .collect();
    assert!(leaked.is_empty(), "B received A's frames: {leaked:#?}");
    assert!(
        !frames.iter().any(|m| matches!(
            m,
            ServerMsg::Message { .. } | ServerMsg::Conversation { .. }
        )),
        "a new visitor has no conversation or messages: {frames:#?}"
    );

    // Agent-only actions are refused on the visitor socket.
    visitor_b
        .send(&ClientMsg::Close {
            conversation: conv_a,
        })
        .await;
    visitor_b.next_is_error(ErrorCode::WrongRole).await;
    // A read mark is the visitor's own to set, on their own conversation
    // only: B's on A's is ignored (nothing answered, nothing stored).
    visitor_b
        .send(&ClientMsg::Read {
            conversation: conv_a,
            seq: 3,
        })
        .await;
    visitor_b.ping_pong().await;
    let row = server
        .state
        .storage
        .conversation(conv_a)
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(row.visitor_read_seq, 0, "B marked nothing of A's");
    visitor_a
        .send(&ClientMsg::Close {
            conversation: conv_a,
        })
        .await;
    visitor_a.expect_error(ErrorCode::WrongRole).await;

    // B's message goes into a conversation of its own, never into A's.
    visitor_b.say("b-1", "hello from B").await;
    let (conv_b, seq) = visitor_b.expect_ack("b-1").await;
    assert_ne!(conv_b, conv_a);
    assert_eq!(seq, 1);
    // A's conversation is still open and untouched by B.
    let frames_a = visitor_a.collect_for(QUIET).await;
    assert!(
        !frames_a.iter().any(|m| matches!(
            m,
            ServerMsg::Message { message } if message.id.0 == "b-1"
        ) || matches!(
            m,
            ServerMsg::Conversation { conversation } if conversation.status == ConversationStatus::Closed
        )),
        "A saw B's message or a close: {frames_a:#?}"
    );
    visitor_a.say("a-2", "still open?").await;
    let (c, seq) = visitor_a.expect_ack("a-2").await;
    assert_eq!((c, seq), (conv_a, 4));
}

#[tokio::test]
async fn agent_socket_requires_a_valid_session() {
    let server = start_server(LONG_GRACE).await;

    assert_eq!(
        server.refused("/ws/agent", &[]).await,
        StatusCode::UNAUTHORIZED
    );

    for bogus in ["kefu_session=deadbeef", "kefu_session=", "other=1"] {
        assert_eq!(
            server.refused("/ws/agent", &[("Cookie", bogus)]).await,
            StatusCode::UNAUTHORIZED,
            "cookie {bogus:?}"
        );
    }

    // The control: a real session is let in.
    let cookie = server.agent_cookie("Ann", 1).await;
    let (mut agent, welcome) = server.agent(&cookie, vec![]).await;
    assert_eq!(welcome.info.name, "Ann");
    agent.ping_pong().await;
}

#[tokio::test]
async fn full_agents_queue_visitors_until_a_conversation_closes() {
    let server = start_server(LONG_GRACE).await;
    let (_, mut agent, chat) = server.agent_with_chat("Ann", 1).await;
    let (mut v1, conv1) = (chat.visitor, chat.conversation);

    let (mut v2, _) = server.visitor(None, vec![]).await;
    v2.send(&ClientMsg::Start).await;
    let queued = v2
        .expect_conversation("the queued conversation", |_| true)
        .await;
    assert_eq!(queued.status, ConversationStatus::Queued);
    assert_eq!(queued.queue_position, Some(1));
    assert_eq!(queued.agent_name, None);
    let conv2 = queued.id;
    assert_ne!(conv2, conv1);
    // Nothing assigns it while the agent is full.
    let early = v2.collect_for(QUIET).await;
    assert!(
        !early.iter().any(|m| matches!(
            m,
            ServerMsg::Conversation { conversation } if conversation.status == ConversationStatus::Assigned
        )),
        "a full agent got another conversation: {early:#?}"
    );

    agent
        .send(&ClientMsg::Close {
            conversation: conv1,
        })
        .await;
    let closed_msg = v1
        .expect_message("the closed system message", |m| {
            m.author == Author::System && m.seq > 1
        })
        .await;
    assert_eq!(
        closed_msg.event,
        Some(SystemEvent::Closed {
            agent: "Ann".into()
        })
    );
    let closed = v1
        .expect_conversation("the closed conversation", |c| c.id == conv1)
        .await;
    assert_eq!(closed.status, ConversationStatus::Closed);
    agent
        .expect_conversation("conversation 1 closed", |c| {
            c.id == conv1 && c.status == ConversationStatus::Closed
        })
        .await;

    let assigned = v2
        .expect_conversation("the conversation assigned", |c| {
            c.status == ConversationStatus::Assigned
        })
        .await;
    assert_eq!(assigned.id, conv2);
    assert_eq!(assigned.agent_name.as_deref(), Some("Ann"));
    assert_eq!(assigned.queue_position, None);
    v2.expect_message("the assigned system message", |m| is_assigned_to(m, "Ann"))
        .await;
    agent
        .expect_conversation("conversation 2 assigned", |c| {
            c.id == conv2 && c.status == ConversationStatus::Assigned
        })
        .await;

    // The closed conversation takes no more messages.
    v1.say("late", "are you there?").await;
    let (c, _) = v1.expect_ack("late").await;
    assert_ne!(
        c, conv1,
        "a visitor's message after the close opens a new conversation"
    );
}

/// A server with agent grace period `grace` where Ann and Bob have
/// accounts (capacity 5) and only Ann is online, serving a new visitor's
/// chat: the server, Ann's and Bob's cookies, Ann's socket, the visitor's
/// socket and the conversation.
async fn ann_serving_bob_signed_up(
    grace: Duration,
) -> (Server, String, String, Client, Client, ConversationId) {
    let server = start_server(grace).await;
    let cookie_a = server.agent_cookie("Ann", 5).await;
    let cookie_b = server.agent_cookie("Bob", 5).await;
    let (mut agent_a, _) = server.agent(&cookie_a, vec![]).await;
    let chat = server.assigned_chat(&mut agent_a, "Ann").await;
    (
        server,
        cookie_a,
        cookie_b,
        agent_a,
        chat.visitor,
        chat.conversation,
    )
}

#[tokio::test]
async fn an_agent_gone_past_the_grace_period_loses_the_conversation_to_another() {
    let grace = Duration::from_millis(300);
    let (server, cookie_a, cookie_b, agent_a, mut visitor, conv) =
        ann_serving_bob_signed_up(grace).await;

    let gone_at = Instant::now();
    agent_a.close().await;
    let presence = visitor
        .expect_msg("the agent going offline", |m| {
            matches!(
                m,
                ServerMsg::Presence {
                    party: Party::Agent,
                    ..
                }
            )
        })
        .await;
    assert_eq!(
        presence,
        ServerMsg::Presence {
            conversation: conv,
            party: Party::Agent,
            online: false
        }
    );

    let (mut agent_b, _) = server.agent(&cookie_b, vec![]).await;
    // Within the grace period Bob does not get Ann's conversation.
    let early = agent_b.collect_for(Duration::from_millis(100)).await;
    assert!(
        !early
            .iter()
            .any(|m| matches!(m, ServerMsg::Conversation { .. })),
        "Bob got a conversation during Ann's grace period: {early:#?}"
    );

    let requeued = visitor
        .expect_message("the requeued system message", |m| {
            m.author == Author::System && m.seq > 1
        })
        .await;
    assert!(
        gone_at.elapsed() >= grace,
        "requeued after {:?}, before the grace period ended",
        gone_at.elapsed()
    );
    assert_eq!(
        requeued.event,
        Some(SystemEvent::Requeued {
            agent: "Ann".into()
        })
    );
    let reassigned = visitor
        .expect_message("the reassigned system message", |m| {
            m.author == Author::System && m.seq > requeued.seq
        })
        .await;
    assert_eq!(
        reassigned.event,
        Some(SystemEvent::Assigned {
            agent: "Bob".into()
        })
    );
    let summary = agent_b
        .expect_conversation("Ann's conversation", |c| c.id == conv)
        .await;
    assert_eq!(summary.status, ConversationStatus::Assigned);
    assert_eq!(summary.agent_name.as_deref(), Some("Bob"));

    // Bob now serves it.
    visitor.say("to-bob", "hello Bob").await;
    visitor.expect_ack("to-bob").await;
    let got = agent_b
        .expect_message("the visitor's message", |m| m.author == Author::Visitor)
        .await;
    assert_eq!(got.text, "hello Bob");

    // Ann, back, no longer serves it.
    let (mut agent_a, welcome) = server.agent(&cookie_a, vec![]).await;
    assert_eq!(
        welcome.conversations,
        Some(vec![]),
        "Ann's welcome lists nothing"
    );
    agent_a.say_in(conv, "ann-late", "I'm back").await;
    agent_a.expect_error(ErrorCode::Forbidden).await;
}

#[tokio::test]
async fn an_agent_back_within_the_grace_period_keeps_the_conversation() {
    let grace = Duration::from_millis(800);
    let (server, cookie_a, cookie_b, agent_a, mut visitor, conv) =
        ann_serving_bob_signed_up(grace).await;
    let (mut agent_b, _) = server.agent(&cookie_b, vec![]).await;

    agent_a.close().await;
    visitor
        .expect_msg("the agent going offline", |m| {
            matches!(m, ServerMsg::Presence { online: false, .. })
        })
        .await;
    let (mut agent_a, welcome) = server.agent(&cookie_a, vec![]).await;
    assert_eq!(
        welcome.conversations,
        Some(vec![conv]),
        "Ann's welcome lists her conversation"
    );
    let summary = agent_a
        .expect_conversation("the kept conversation", |c| c.id == conv)
        .await;
    assert_eq!(summary.status, ConversationStatus::Assigned);
    visitor
        .expect_msg("the agent back online", |m| {
            matches!(
                m,
                ServerMsg::Presence {
                    party: Party::Agent,
                    online: true,
                    ..
                }
            )
        })
        .await;

    // Past the original grace period nothing is requeued.
    let frames = visitor
        .collect_for(grace + Duration::from_millis(400))
        .await;
    assert!(
        !frames.iter().any(|m| matches!(
            m,
            ServerMsg::Message { message } if message.author == Author::System
        )),
        "the conversation was requeued although Ann came back: {frames:#?}"
    );
    let frames_b = agent_b.collect_for(Duration::from_millis(50)).await;
    assert!(
        !frames_b
            .iter()
            .any(|m| matches!(m, ServerMsg::Conversation { .. })),
        "Bob got Ann's conversation: {frames_b:#?}"
    );
}

#[tokio::test]
async fn a_reconnecting_visitor_resumes_where_it_left_off() {
    let server = start_server(LONG_GRACE).await;
    let (_, mut agent, chat) = server.agent_with_chat("Ann", 5).await;
    let (mut visitor, welcome, conv) = (chat.visitor, chat.welcome, chat.conversation);
    let token = welcome
        .info
        .token
        .clone()
        .expect("a new visitor gets a token");

    visitor.say("m-1", "one").await; // seq 2
    visitor.expect_ack("m-1").await;
    agent.say_in(conv, "m-2", "two").await; // seq 3
    agent.expect_ack("m-2").await;
    visitor.say("m-3", "three").await; // seq 4
    let (_, last) = visitor.expect_ack("m-3").await;
    assert_eq!(last, 4);
    visitor.close().await;
    agent
        .expect_msg("the visitor going offline", |m| {
            matches!(
                m,
                ServerMsg::Presence {
                    party: Party::Visitor,
                    online: false,
                    ..
                }
            )
        })
        .await;

    // While away, the agent writes once more (seq 5).
    agent.say_in(conv, "m-4", "four").await;
    agent.expect_ack("m-4").await;

    let after = 2;
    let (mut visitor, again) = server
        .visitor(
            Some(token.clone()),
            vec![Resume {
                conversation: conv,
                after,
            }],
        )
        .await;
    assert_eq!(again.info.label, welcome.info.label, "the same visitor");
    assert_eq!(again.info.token, None, "a known token is not reissued");

    let frames = visitor.collect_for(QUIET).await;
    let summary = frames
        .iter()
        .find_map(|m| match m {
            ServerMsg::Conversation { conversation } => Some(conversation.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no conversation summary on reconnect: {frames:#?}"));
    assert_eq!(summary.id, conv);
    assert_eq!(summary.status, ConversationStatus::Assigned);
    assert_eq!(summary.agent_name.as_deref(), Some("Ann"));
    assert_eq!(summary.last_seq, 5);
    let replayed: Vec<(i64, String)> = messages(&frames).map(|m| (m.seq, m.text.clone())).collect();
    assert_eq!(
        replayed,
        vec![(3, "two".into()), (4, "three".into()), (5, "four".into())],
        "exactly the messages after seq {after}, once each, in order"
    );
    agent
        .expect_msg("the visitor back online", |m| {
            matches!(
                m,
                ServerMsg::Presence {
                    party: Party::Visitor,
                    online: true,
                    ..
                }
            )
        })
        .await;

    // A third connection without resume gets the summary but no replay.
    let (mut third, again) = server.visitor(Some(token), vec![]).await;
    assert_eq!(again.info.label, welcome.info.label);
    let frames = third.collect_for(QUIET).await;
    assert!(
        frames.iter().any(
            |m| matches!(m, ServerMsg::Conversation { conversation } if conversation.id == conv)
        ),
        "no summary: {frames:#?}"
    );
    assert!(
        !frames
            .iter()
            .any(|m| matches!(m, ServerMsg::Message { .. })),
        "messages replayed without a resume: {frames:#?}"
    );

    // An unknown token gets a fresh identity.
    let (_, fresh) = server
        .visitor(Some("not-a-real-token".into()), vec![])
        .await;
    assert!(fresh.info.token.is_some());
    assert_ne!(fresh.info.label, welcome.info.label);
}

#[tokio::test]
async fn messages_left_while_no_agent_is_online_wait_for_one() {
    let server = start_server(LONG_GRACE).await;
    let (mut visitor, welcome) = server.visitor(None, vec![]).await;
    assert!(!welcome.agents_online);

    visitor.send(&ClientMsg::Start).await;
    match visitor.next_within(EXPECT_TIMEOUT).await {
        Some(ServerMsg::Availability {
            agents_online: false,
            back_at: None,
        }) => {}
        other => panic!("expected availability false after start, got {other:?}"),
    }

    visitor.say("left-1", "please call me back").await;
    // The conversation is opened (and announced) before the message is stored.
    let queued = visitor
        .expect_conversation("the queued conversation", |_| true)
        .await;
    assert_eq!(queued.status, ConversationStatus::Queued);
    assert_eq!(queued.queue_position, Some(1));
    let (conv, seq) = visitor.expect_ack("left-1").await;
    assert_eq!(conv, queued.id);
    assert_eq!(seq, 1);

    let cookie = server.agent_cookie("Ann", 2).await;
    let (mut agent, _) = server.agent(&cookie, vec![]).await;
    let summary = agent
        .expect_conversation("the waiting conversation", |c| c.id == conv)
        .await;
    assert_eq!(summary.status, ConversationStatus::Assigned);
    assert!(
        summary.last_seq >= 1,
        "the left message is in it: {summary:?}"
    );
    assert_eq!(summary.agent_name.as_deref(), Some("Ann"));
    let sys = agent
        .expect_message("the assigned system message", |m| m.conversation == conv)
        .await;
    assert!(is_assigned_to(&sys, "Ann"), "{sys:?}");
    assert_eq!(sys.seq, 2);

    // The visitor hears that an agent came and took the conversation.
    visitor
        .expect_msg("availability true", |m| {
            matches!(
                m,
                ServerMsg::Availability {
                    agents_online: true,
                    ..
                }
            )
        })
        .await;
    visitor
        .expect_message("the assigned system message", |m| is_assigned_to(m, "Ann"))
        .await;

    // The agent can read the left message by resuming.
    let (mut second_tab, _) = server
        .agent(
            &cookie,
            vec![Resume {
                conversation: conv,
                after: 0,
            }],
        )
        .await;
    let left = second_tab
        .expect_message("the left message", |m| m.seq == 1)
        .await;
    assert_eq!(left.text, "please call me back");
    assert_eq!(left.author, Author::Visitor);
}
