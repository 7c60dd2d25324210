#![cfg(feature = "ssr")]
//! Transfers (issue 13, item 3), over real sockets and a real SQLite file:
//! an agent hands a conversation to a colleague (with a note the receiver
//! reads in the history) or back to the queue; admins move any open one;
//! a receiver who is unknown, disabled, offline, away or at capacity is
//! refused with its own error code, and the conversation stays put.
//!
//! Run with `cargo test --features ssr --test transfer`.

use std::time::Duration;

use kefu::api::HistoryPage;
use kefu::protocol::{
    AgentId, Author, ClientMsg, ConversationId, ConversationStatus, ErrorCode, ServerMsg,
    SystemEvent,
};
use kefu::server::config::Security;

mod common;
use common::chat::{about, is_assigned_to};
use common::client::Client;
use common::*;

/// How long "nothing arrives" checks listen.
const QUIET: Duration = Duration::from_millis(500);

fn transfer(conversation: ConversationId, to: Option<AgentId>, note: Option<&str>) -> ClientMsg {
    ClientMsg::Transfer {
        conversation,
        to,
        note: note.map(str::to_owned),
    }
}

fn is_event(m: &kefu::protocol::ChatMessage, event: &SystemEvent) -> bool {
    m.author == Author::System && m.event.as_ref() == Some(event)
}

async fn set_status(server: &Server, cookie: &str, status: &str) {
    let () = server
        .call("set_status", &[("status", status)], Some(cookie))
        .await
        .json();
}

/// The agent a conversation's row names (what a restart would load).
async fn stored_agent(server: &Server, c: ConversationId) -> Option<AgentId> {
    server
        .state
        .storage
        .conversation(c)
        .await
        .expect("reads")
        .expect("exists")
        .agent_id
}

/// An agent (capacity 5) with a socket open: (id, cookie, socket).
async fn online(server: &Server, name: &str, capacity: u32) -> (AgentId, String, Client) {
    let id = server.add_agent_with(name, capacity, false).await;
    let cookie = server.session_for(id).await;
    let (socket, _) = server.agent_named(name, &cookie, vec![]).await;
    (id, cookie, socket)
}

#[tokio::test]
async fn an_agent_hands_a_conversation_to_a_colleague_with_a_note() {
    let server = start(Security::default()).await;
    let (ann_id, ann_cookie, mut ann) = online(&server, "Ann", 5).await;
    let mut chat = server.assigned_chat(&mut ann, "Ann").await;
    let c = chat.conversation;
    chat.visitor.say("v-1", "my order never came").await;
    ann.expect_message("the question", |m| m.id.0 == "v-1")
        .await;
    let (bo_id, bo_cookie, mut bo) = online(&server, "Bo", 5).await;

    ann.send(&transfer(
        c,
        Some(bo_id),
        Some("order 1234, wants a refund"),
    ))
    .await;

    // Bo gets the conversation, its history, the note and the notice.
    bo.expect_conversation("the conversation, now Bo's", |s| {
        s.id == c && s.agent_name.as_deref() == Some("Bo")
    })
    .await;
    let transferred = SystemEvent::Transferred { agent: "Bo".into() };
    bo.expect_message("the transfer notice", |m| is_event(m, &transferred))
        .await;
    let note = bo
        .expect_map("the note", |m| match m {
            ServerMsg::Note { note } => Some(note.clone()),
            _ => None,
        })
        .await;
    assert_eq!(
        (note.author_name.as_str(), note.text.as_str()),
        ("Ann", "order 1234, wants a refund")
    );
    let page: HistoryPage = server
        .call(
            "conversation_history",
            &[("conversation", &c.0.to_string())],
            Some(&bo_cookie),
        )
        .await
        .json();
    assert!(page.messages.iter().any(|m| m.id.0 == "v-1"), "{page:?}");
    assert!(page.messages.iter().any(|m| is_event(m, &transferred)));
    assert_eq!(page.notes, vec![note]);

    // The visitor is told whom they chat with now, and never the note.
    let seen = chat
        .visitor
        .expect_message("You are now chatting with Bo", |m| {
            is_event(m, &transferred)
        })
        .await;
    assert_eq!(seen.conversation, c);
    for frame in chat.visitor.collect_for(QUIET).await {
        let json = serde_json::to_string(&frame).expect("encodes");
        assert!(!json.contains("wants a refund"), "{json}");
    }

    // Ann's consoles learn it is Bo's; loads follow.
    ann.expect_conversation("the conversation, now Bo's", |s| {
        s.id == c && s.agent_name.as_deref() == Some("Bo")
    })
    .await;
    let loads = server.state.hub.agent_loads();
    assert_eq!((loads[&ann_id].1, loads[&bo_id].1), (0, 1));
    assert_eq!(stored_agent(&server, c).await, Some(bo_id));
    let agents: Vec<kefu::protocol::AgentInfo> = server
        .call("transfer_targets", &[], Some(&ann_cookie))
        .await
        .json();
    let listed: Vec<(&str, Option<u32>)> =
        agents.iter().map(|a| (a.name.as_str(), a.load)).collect();
    assert_eq!(listed, [("Bo", Some(1))], "everyone but Ann, with loads");

    // From now on Bo serves the visitor, and Ann no longer can.
    bo.say_in(c, "b-1", "Hi, Bo here.").await;
    chat.visitor
        .expect_message("Bo's reply", |m| m.id.0 == "b-1")
        .await;
    chat.visitor.say("v-2", "thanks").await;
    bo.expect_message("the visitor's thanks", |m| m.id.0 == "v-2")
        .await;
    ann.say_in(c, "a-late", "me again").await;
    ann.expect_error(ErrorCode::Forbidden).await;
    assert!(ann
        .collect_for(QUIET)
        .await
        .iter()
        .all(|f| !matches!(f, ServerMsg::Message { .. })));
}

#[tokio::test]
async fn a_transfer_to_an_agent_who_cannot_take_it_is_refused_and_changes_nothing() {
    let server = start(Security::default()).await;
    // Fay (capacity 1) is full; Eve is away; both before Ann's chat, which
    // goes to Ann.
    let (fay, _, mut fay_socket) = online(&server, "Fay", 1).await;
    let _fay_chat = server.assigned_chat(&mut fay_socket, "Fay").await;
    let (eve, eve_cookie, _eve_socket) = online(&server, "Eve", 5).await;
    set_status(&server, &eve_cookie, "away").await;
    let (ann_id, _, mut ann) = online(&server, "Ann", 5).await;
    let mut chat = server.assigned_chat(&mut ann, "Ann").await;
    let c = chat.conversation;
    let cy = server.add_agent("Cy", false).await;
    let dee = server.add_agent("Dee", false).await;
    server
        .state
        .storage
        .update_agent(dee, 5, true)
        .await
        .expect("disables");

    for (to, code) in [
        (AgentId(9_999), ErrorCode::AgentUnknown),
        (dee, ErrorCode::AgentDisabled),
        (cy, ErrorCode::AgentOffline),
        (eve, ErrorCode::AgentAway),
        (fay, ErrorCode::AgentAtCapacity),
        (ann_id, ErrorCode::Forbidden),
    ] {
        ann.send(&transfer(c, Some(to), Some("a note"))).await;
        ann.expect_error(code).await;
        assert!(server.state.hub.serves(ann_id, c), "{code:?}: still Ann's");
        assert_eq!(stored_agent(&server, c).await, Some(ann_id), "{code:?}");
    }
    // A note over the length limit refuses the transfer before anything.
    let (bo, _, _bo_socket) = online(&server, "Bo", 5).await;
    ann.send(&transfer(c, Some(bo), Some(&"x".repeat(4001))))
        .await;
    ann.expect_error(ErrorCode::TextTooLong).await;
    assert!(server.state.hub.serves(ann_id, c));

    // An agent who does not serve it cannot give it away.
    let (_, _, mut gus) = online(&server, "Gus", 5).await;
    gus.send(&transfer(c, Some(bo), None)).await;
    gus.expect_error(ErrorCode::Forbidden).await;
    gus.send(&transfer(c, None, None)).await;
    gus.expect_error(ErrorCode::Forbidden).await;
    assert!(server.state.hub.serves(ann_id, c));

    // Nothing reached the visitor; no refused note was stored.
    let frames = chat.visitor.collect_for(QUIET).await;
    assert!(
        frames
            .iter()
            .all(|f| !matches!(f, ServerMsg::Message { .. })),
        "{frames:?}"
    );
    let notes = server
        .state
        .storage
        .notes_between(c, 0, i64::MAX, 10)
        .await
        .expect("reads");
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(server.state.hub.agent_loads()[&ann_id].1, 1);
}

#[tokio::test]
async fn back_to_the_queue_goes_to_someone_else_never_straight_back() {
    let server = start(Security::default()).await;
    let (ann_id, _, mut ann) = online(&server, "Ann", 5).await;
    let mut chat = server.assigned_chat(&mut ann, "Ann").await;
    let c = chat.conversation;

    // Ann alone hands it back: it waits, and is not given to her again.
    ann.send(&transfer(c, None, Some("could not help, sorry")))
        .await;
    let returned = SystemEvent::Returned {
        agent: "Ann".into(),
    };
    chat.visitor
        .expect_message("Ann handed it back", |m| is_event(m, &returned))
        .await;
    ann.expect_conversation("queued", |s| {
        s.id == c && s.status == ConversationStatus::Queued
    })
    .await;
    let frames = ann.collect_for(QUIET).await;
    assert!(
        !frames.iter().any(|f| match f {
            ServerMsg::Message { message } => is_assigned_to(message, "Ann"),
            _ => false,
        }),
        "not straight back to Ann: {frames:?}"
    );
    assert!(!server.state.hub.serves(ann_id, c));
    assert_eq!(stored_agent(&server, c).await, None);

    // Bo comes online and gets it, with Ann's note in its history.
    let (bo_id, bo_cookie, mut bo) = online(&server, "Bo", 5).await;
    chat.visitor
        .expect_message("Bo will serve you", |m| is_assigned_to(m, "Bo"))
        .await;
    bo.expect_conversation("Bo's now", |s| s.id == c).await;
    assert!(server.state.hub.serves(bo_id, c));
    let page: HistoryPage = server
        .call(
            "conversation_history",
            &[("conversation", &c.0.to_string())],
            Some(&bo_cookie),
        )
        .await
        .json();
    let notes: Vec<&str> = page.notes.iter().map(|n| n.text.as_str()).collect();
    assert_eq!(notes, ["could not help, sorry"]);
    assert!(ann
        .collect_for(QUIET)
        .await
        .iter()
        .all(|f| !about(f, c) || matches!(f, ServerMsg::Conversation { .. })));
}

#[tokio::test]
async fn admins_reassign_any_open_conversation() {
    let server = start(Security::default()).await;
    let (ann_id, _, mut ann) = online(&server, "Ann", 5).await;
    let mut chat = server.assigned_chat(&mut ann, "Ann").await;
    let c = chat.conversation;
    let (bo_id, _, mut bo) = online(&server, "Bo", 5).await;
    let boss = server.add_agent("Boss", true).await;
    let boss_cookie = server.session_for(boss).await;
    let (mut admin, _) = server.agent_named("Boss", &boss_cookie, vec![]).await;

    // Admins list every open conversation; agents may not.
    let open: Vec<kefu::protocol::ConversationSummary> = server
        .call("open_conversations", &[], Some(&boss_cookie))
        .await
        .json();
    let listed: Vec<_> = open
        .iter()
        .map(|s| (s.id, s.agent_name.as_deref()))
        .collect();
    assert_eq!(listed, [(c, Some("Ann"))]);
    let ann_cookie = server.session_for(ann_id).await;
    let refused = server
        .call("open_conversations", &[], Some(&ann_cookie))
        .await;
    assert_eq!(refused.app_error(), kefu::error::AppError::Forbidden);

    admin.send(&transfer(c, Some(bo_id), None)).await;
    bo.expect_conversation("Bo's now", |s| {
        s.id == c && s.agent_name.as_deref() == Some("Bo")
    })
    .await;
    chat.visitor
        .expect_message("now chatting with Bo", |m| {
            is_event(m, &SystemEvent::Transferred { agent: "Bo".into() })
        })
        .await;
    ann.expect_conversation("no longer Ann's", |s| s.id == c)
        .await;
    assert!(!server.state.hub.serves(ann_id, c));
    assert!(server.state.hub.serves(bo_id, c));
    // And back to the queue, from which it goes to whoever is free.
    admin.send(&transfer(c, None, None)).await;
    chat.visitor
        .expect_message("Boss handed it back", |m| {
            is_event(
                m,
                &SystemEvent::Returned {
                    agent: "Boss".into(),
                },
            )
        })
        .await;
    chat.visitor
        .expect_message("someone else takes it", |m| {
            m.author == Author::System && matches!(m.event, Some(SystemEvent::Assigned { .. }))
        })
        .await;
    assert!(
        !server.state.hub.serves(bo_id, c),
        "not straight back to Bo"
    );
}
