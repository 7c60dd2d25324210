#![cfg(feature = "ssr")]
//! Read positions (issue 13, item 2), over real sockets: each side's is
//! stored per conversation, told to the other side ("Seen"), never moves
//! backwards or past the end, survives reconnects, and a visitor can mark
//! only their own conversation.
//!
//! Run with `cargo test --features ssr --test seen`.

use std::time::Duration;

use kefu::protocol::{ClientMsg, ConversationId, Party, ServerMsg};
use kefu::server::config::Security;

mod common;
use common::*;

/// How long "nothing arrives" checks listen.
const QUIET: Duration = Duration::from_millis(500);

fn read(conversation: ConversationId, seq: i64) -> ClientMsg {
    ClientMsg::Read { conversation, seq }
}

/// The `seen` frames among `frames`: (conversation, party, seq).
fn seens(frames: &[ServerMsg]) -> Vec<(ConversationId, Party, i64)> {
    frames
        .iter()
        .filter_map(|f| match f {
            ServerMsg::Seen {
                conversation,
                party,
                seq,
            } => Some((*conversation, *party, *seq)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn each_side_learns_what_the_other_has_seen_and_it_is_stored() {
    let server = start(Security::default()).await;
    let (ann_cookie, mut ann, mut chat) = server.agent_with_chat("Ann", 5).await;
    let id = chat.conversation;
    let (mut second_tab, _) = server.visitor(Some(chat.token.clone()), vec![]).await;
    second_tab.ping_until_pong().await;

    // The visitor asks; Ann reads it: the visitor's tabs learn it was seen.
    chat.visitor.say("v-1", "where is my order?").await;
    let (_, question) = chat.visitor.expect_ack("v-1").await;
    ann.send(&read(id, question)).await;
    for (who, tab) in [
        ("first tab", &mut chat.visitor),
        ("second tab", &mut second_tab),
    ] {
        let seen = tab
            .expect_map(&format!("{who}: Ann saw it"), |m| match m {
                ServerMsg::Seen {
                    party: Party::Agent,
                    seq,
                    ..
                } => Some(*seq),
                _ => None,
            })
            .await;
        assert_eq!(seen, question, "{who}");
    }

    // Ann answers; the visitor reads it, claiming far more than exists:
    // the mark stops at the end, Ann and the visitor's other tab hear of it.
    ann.say_in(id, "a-1", "on its way").await;
    let (_, answer) = ann.expect_ack("a-1").await;
    chat.visitor
        .expect_message("the answer", |m| m.text == "on its way")
        .await;
    chat.visitor.send(&read(id, 1_000)).await;
    let to_ann = ann
        .expect_map("the visitor saw it", |m| match m {
            ServerMsg::Seen {
                party: Party::Visitor,
                seq,
                ..
            } => Some(*seq),
            _ => None,
        })
        .await;
    assert_eq!(to_ann, answer);
    let frames = second_tab.collect_for(QUIET).await;
    assert!(
        seens(&frames).contains(&(id, Party::Visitor, answer)),
        "the visitor's other tab clears its unread count: {frames:?}"
    );

    // Going backwards changes nothing, and tells nobody.
    chat.visitor.collect_for(QUIET).await;
    chat.visitor.send(&read(id, 1)).await;
    ann.send(&read(id, 1)).await;
    assert!(seens(&ann.collect_for(QUIET).await).is_empty());
    assert!(seens(&chat.visitor.collect_for(QUIET).await)
        .iter()
        .all(|s| s.1 != Party::Visitor));

    // Stored, and in the summaries both sides get when they come back.
    let row = server
        .state
        .storage
        .conversation(id)
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(
        (row.agent_read_seq, row.visitor_read_seq),
        (question, answer)
    );
    chat.visitor.close().await;
    let (mut visitor, _) = server.visitor(Some(chat.token.clone()), vec![]).await;
    let summary = visitor
        .expect_conversation("the summary", |c| c.id == id)
        .await;
    assert_eq!(
        (summary.agent_read_seq, summary.visitor_read_seq),
        (question, answer)
    );
    ann.close().await;
    let (mut ann, _) = server.agent(&ann_cookie, vec![]).await;
    let summary = ann.expect_conversation("the summary", |c| c.id == id).await;
    assert_eq!(
        (summary.agent_read_seq, summary.visitor_read_seq),
        (question, answer)
    );
}

#[tokio::test]
async fn a_visitor_cannot_mark_another_conversation_read() {
    let server = start(Security::default()).await;
    let (_, mut ann) = server.online_agent("Ann", 5).await;
    let mut a = server.assigned_chat(&mut ann, "Ann").await;
    let mut b = server.assigned_chat(&mut ann, "Ann").await;
    ann.say_in(b.conversation, "a-1", "hello B").await;
    let (_, to_b) = ann.expect_ack("a-1").await;
    b.visitor
        .expect_message("Ann's hello", |m| m.text == "hello B")
        .await;

    // Visitor A claims to have read B's conversation.
    a.visitor.send(&read(b.conversation, to_b)).await;
    a.visitor.ping_until_pong().await;
    for (who, client) in [("Ann", &mut ann), ("visitor B", &mut b.visitor)] {
        let frames = client.collect_for(QUIET).await;
        assert!(seens(&frames).is_empty(), "{who} hears nothing: {frames:?}");
    }
    let row = server
        .state
        .storage
        .conversation(b.conversation)
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(row.visitor_read_seq, 0, "nothing stored for B");
}
