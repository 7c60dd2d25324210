#![cfg(feature = "ssr")]
//! Private notes (issue 13, item 5), over real sockets and a real SQLite
//! file: a note reaches the serving agent's sockets, their history pages
//! and their replay, and never a visitor — not live, not in the visitor's
//! history, not on replay after a reconnect — however the visitor asks.
//!
//! Run with `cargo test --features ssr --test notes`.

use std::time::Duration;

use kefu::api::HistoryPage;
use kefu::protocol::{
    ChatNote, ClientMsg, ConversationId, ErrorCode, MessageId, Resume, ServerMsg,
};
use kefu::server::config::Security;

mod common;
use common::*;

/// How long "nothing arrives" checks listen.
const QUIET: Duration = Duration::from_millis(500);

/// The words of the note in these tests: no frame or page a visitor gets
/// may contain them.
const SECRET: &str = "VIP: refund approved, do not tell";

fn note(id: &str, conversation: ConversationId, text: &str, resend: bool) -> ClientMsg {
    ClientMsg::Note {
        id: MessageId(id.into()),
        conversation,
        text: text.into(),
        resend,
    }
}

/// Waits for the note with this id on `client`.
async fn expect_note(client: &mut common::client::Client, id: &str) -> ChatNote {
    client
        .expect_map("the note", |m| match m {
            ServerMsg::Note { note } if note.id.0 == id => Some(note.clone()),
            _ => None,
        })
        .await
}

/// Fails if any of `frames` is a note or carries the secret's words.
fn assert_no_note(frames: &[ServerMsg], when: &str) {
    for frame in frames {
        assert!(
            !matches!(frame, ServerMsg::Note { .. }),
            "{when}: the visitor got a note: {frame:?}"
        );
        let json = serde_json::to_string(frame).expect("encodes");
        assert!(!json.contains(SECRET), "{when}: the visitor read {json}");
    }
}

async fn agent_history(server: &Server, cookie: &str, c: ConversationId) -> HistoryPage {
    server
        .call(
            "conversation_history",
            &[("conversation", &c.0.to_string())],
            Some(cookie),
        )
        .await
        .json()
}

#[tokio::test]
async fn a_note_reaches_agents_only_live_in_history_and_on_replay() {
    let server = start(Security::default()).await;
    let (cookie, mut ann, mut chat) = server.agent_with_chat("Ann", 5).await;
    let c = chat.conversation;
    chat.visitor.say("v-1", "I want my money back").await;
    let (_, asked) = chat.visitor.expect_ack("v-1").await;
    ann.expect_message("the question", |m| m.id.0 == "v-1")
        .await;
    // A second console of Ann's gets it live too.
    let (mut ann2, _) = server.agent_named("ann-2", &cookie, vec![]).await;

    ann.send(&note("n-1", c, SECRET, false)).await;
    let stored = expect_note(&mut ann, "n-1").await;
    assert_eq!(
        (
            stored.after_seq,
            stored.author_name.as_str(),
            stored.text.as_str()
        ),
        (asked, "Ann", SECRET),
        "anchored after the newest message, signed by Ann"
    );
    assert_eq!(expect_note(&mut ann2, "n-1").await, stored);
    assert_no_note(&chat.visitor.collect_for(QUIET).await, "live");

    // The note took no seq: the next message follows the question's.
    ann.say_in(c, "a-1", "Let me check.").await;
    let (_, reply) = ann.expect_ack("a-1").await;
    assert_eq!(reply, asked + 1, "no gap in the visitor's sequence");
    let frames = chat.visitor.collect_for(QUIET).await;
    assert_no_note(&frames, "after the reply");

    // The agent's history page holds it; the visitor's does not.
    let page = agent_history(&server, &cookie, c).await;
    assert_eq!(page.notes, vec![stored.clone()]);
    let response = server
        .call("visitor_history", &[("token", &chat.token)], None)
        .await;
    assert!(response.ok(), "{response:?}");
    assert!(!response.body.contains(SECRET), "{}", response.body);
    assert!(!response.body.contains("\"notes\""), "{}", response.body);
    // Nor any earlier page of it.
    let response = server
        .call(
            "visitor_history",
            &[("token", &chat.token), ("before", &(reply + 1).to_string())],
            None,
        )
        .await;
    assert!(!response.body.contains(SECRET), "{}", response.body);

    // A reconnecting visitor resuming from anywhere is replayed no note.
    for after in [0, asked - 1, asked] {
        let (mut again, _) = server
            .visitor(
                Some(chat.token.clone()),
                vec![Resume {
                    conversation: c,
                    after,
                }],
            )
            .await;
        let frames = again.collect_for(QUIET).await;
        assert!(
            frames
                .iter()
                .any(|f| matches!(f, ServerMsg::Message { message } if message.id.0 == "a-1")),
            "the replay itself works: {frames:?}"
        );
        assert_no_note(&frames, &format!("replay after {after}"));
    }

    // An agent's reconnecting console is replayed the note it may have missed.
    ann2.close().await;
    let (mut back, _) = server
        .agent_named(
            "ann-back",
            &cookie,
            vec![Resume {
                conversation: c,
                after: asked,
            }],
        )
        .await;
    assert_eq!(expect_note(&mut back, "n-1").await, stored);
}

#[tokio::test]
async fn hostile_visitors_and_other_agents_cannot_write_or_read_notes() {
    let server = start(Security::default()).await;
    let (cookie, mut ann, mut chat) = server.agent_with_chat("Ann", 5).await;
    let c = chat.conversation;

    // A visitor's note, even naming their own conversation, is refused.
    chat.visitor.send(&note("v-n", c, SECRET, false)).await;
    chat.visitor.expect_error(ErrorCode::WrongRole).await;
    // So is a visitor's transfer.
    chat.visitor
        .send(&ClientMsg::Transfer {
            conversation: c,
            to: None,
            note: Some(SECRET.into()),
        })
        .await;
    chat.visitor.expect_error(ErrorCode::WrongRole).await;

    // Another agent may not write in Ann's conversation, nor read its notes.
    let (bo_cookie, mut bo) = server.online_agent("Bo", 5).await;
    bo.send(&note("b-n", c, SECRET, false)).await;
    assert_eq!(
        bo.expect_error(ErrorCode::Forbidden).await,
        Some(MessageId("b-n".into()))
    );
    ann.send(&note("n-1", c, "seen by Ann only", false)).await;
    expect_note(&mut ann, "n-1").await;
    let response = server
        .call(
            "conversation_history",
            &[("conversation", &c.0.to_string())],
            Some(&bo_cookie),
        )
        .await;
    assert!(!response.ok(), "{response:?}");
    assert!(
        bo.collect_for(QUIET)
            .await
            .iter()
            .all(|f| !matches!(f, ServerMsg::Note { .. })),
        "Bo gets no note of Ann's conversation"
    );

    // Nothing of the refused notes was stored.
    let page = agent_history(&server, &cookie, c).await;
    let texts: Vec<&str> = page.notes.iter().map(|n| n.text.as_str()).collect();
    assert_eq!(texts, ["seen by Ann only"]);
    assert_no_note(&chat.visitor.collect_for(QUIET).await, "live");

    // Notes are checked as messages are.
    ann.send(&note("n-2", c, "   ", false)).await;
    ann.expect_error(ErrorCode::EmptyText).await;
    ann.send(&note("n-3", c, &"x".repeat(4001), false)).await;
    ann.expect_error(ErrorCode::TextTooLong).await;
}

#[tokio::test]
async fn a_resent_note_is_stored_once_and_closed_conversations_take_none() {
    let server = start(Security::default()).await;
    let (cookie, mut ann, chat) = server.agent_with_chat("Ann", 5).await;
    let c = chat.conversation;
    ann.send(&note("n-1", c, "first", false)).await;
    let first = expect_note(&mut ann, "n-1").await;
    ann.send(&note("n-1", c, "first", true)).await;
    assert_eq!(
        expect_note(&mut ann, "n-1").await,
        first,
        "the stored one again"
    );
    assert_eq!(agent_history(&server, &cookie, c).await.notes, vec![first]);

    ann.send(&ClientMsg::Close { conversation: c }).await;
    ann.expect_conversation("closed", |s| {
        s.id == c && s.status == kefu::protocol::ConversationStatus::Closed
    })
    .await;
    ann.send(&note("n-2", c, "too late", false)).await;
    ann.expect_error(ErrorCode::Forbidden).await;
}
