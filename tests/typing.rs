#![cfg(feature = "ssr")]
//! Typing and drafts (issue 13, item 1), over real sockets: they reach only
//! the other side of their own conversation, whatever a hostile client
//! names; drafts only while admins allow them; a flood is paced and slows
//! no other conversation; nothing of it is stored.
//!
//! Run with `cargo test --features ssr --test typing`.

use std::time::{Duration, Instant};

use kefu::protocol::{ClientMsg, ConversationId, ErrorCode, Party, ServerMsg, MAX_DRAFT_CHARS};
use kefu::server::config::Security;

mod common;
use common::chat::AssignedChat;
use common::client::Client;
use common::*;

/// How long "nothing arrives" checks listen.
const QUIET: Duration = Duration::from_millis(600);

fn typing(conversation: Option<ConversationId>, active: bool, draft: Option<&str>) -> ClientMsg {
    ClientMsg::Typing {
        conversation,
        active,
        draft: draft.map(str::to_owned),
    }
}

/// The typing frames among `frames`: (conversation, party, active, draft).
fn typings(frames: &[ServerMsg]) -> Vec<(ConversationId, Party, bool, Option<String>)> {
    frames
        .iter()
        .filter_map(|f| match f {
            ServerMsg::Typing {
                conversation,
                party,
                active,
                draft,
            } => Some((*conversation, *party, *active, draft.clone())),
            _ => None,
        })
        .collect()
}

/// Ann serves visitors A and B; Bob serves visitor C.
struct Floor {
    server: Server,
    ann: Client,
    bob: Client,
    a: AssignedChat,
    b: AssignedChat,
    c: AssignedChat,
}

async fn floor() -> Floor {
    let server = start(Security::default()).await;
    let (_, mut ann) = server.online_agent("Ann", 5).await;
    let a = server.assigned_chat(&mut ann, "Ann").await;
    let b = server.assigned_chat(&mut ann, "Ann").await;
    let (_, mut bob) = server.online_agent("Bob", 5).await;
    let c = server.assigned_chat(&mut bob, "Bob").await;
    Floor {
        server,
        ann,
        bob,
        a,
        b,
        c,
    }
}

#[tokio::test]
async fn typing_reaches_only_the_other_side_of_its_own_conversation() {
    let mut f = floor().await;

    // Visitor B names A's conversation: visitors cannot choose one, so it
    // is B's own typing that Ann sees, in B's conversation.
    f.b.visitor
        .send(&typing(Some(f.a.conversation), true, Some("hello from B")))
        .await;
    let seen = f
        .ann
        .expect_map("B's typing", |m: &ServerMsg| match m {
            ServerMsg::Typing {
                conversation,
                party: Party::Visitor,
                draft,
                ..
            } => Some((*conversation, draft.clone())),
            _ => None,
        })
        .await;
    assert_eq!(seen, (f.b.conversation, Some("hello from B".to_owned())));

    // Bob names A's conversation, which he does not serve: nobody hears of it.
    f.bob
        .send(&typing(Some(f.a.conversation), true, None))
        .await;
    // Ann types in A's conversation, with a draft a hostile client adds:
    // visitor A sees Ann typing, never a draft; visitor B sees nothing.
    f.ann
        .send(&typing(Some(f.a.conversation), true, Some("secret")))
        .await;
    let to_a = typings(&f.a.visitor.collect_for(QUIET).await);
    assert_eq!(to_a, [(f.a.conversation, Party::Agent, true, None)]);
    for (who, client) in [
        ("visitor B", &mut f.b.visitor),
        ("visitor C", &mut f.c.visitor),
        ("Bob", &mut f.bob),
        ("Ann", &mut f.ann),
    ] {
        let frames = client.collect_for(QUIET).await;
        assert!(
            typings(&frames).is_empty(),
            "{who} hears of no other typing: {frames:?}"
        );
    }

    // A visitor's second tab hears the agent too; the agent's own tabs do not.
    let (mut a2, _) = f.server.visitor(Some(f.a.token.clone()), vec![]).await;
    a2.ping_until_pong().await;
    f.ann
        .send(&typing(Some(f.a.conversation), false, None))
        .await;
    let stopped = a2
        .expect_map("Ann stopped typing", |m| match m {
            ServerMsg::Typing {
                party: Party::Agent,
                active,
                ..
            } => Some(*active),
            _ => None,
        })
        .await;
    assert!(!stopped);

    // Typing is never stored: the conversation's last seq did not move.
    let row = f
        .server
        .state
        .storage
        .conversation(f.a.conversation)
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(row.last_seq, f.a.seen_by_visitor.seq);
}

#[tokio::test]
async fn drafts_reach_agents_only_while_admins_allow_them() {
    let server = start(Security::default()).await;
    let (_, admin) = server.signed_in_agent("Root", true).await;
    let (_, mut ann) = server.online_agent("Ann", 5).await;
    let mut chat = server.assigned_chat(&mut ann, "Ann").await;
    let said = |m: &ServerMsg| match m {
        ServerMsg::Typing {
            party: Party::Visitor,
            active: true,
            draft,
            ..
        } => Some(draft.clone()),
        _ => None,
    };

    chat.visitor
        .send(&typing(None, true, Some("my card number is")))
        .await;
    let draft = ann.expect_map("the draft", said).await;
    assert_eq!(draft.as_deref(), Some("my card number is"));

    // The admin turns previews off (the box left unticked).
    let saved = server
        .call(
            "save_site_settings",
            &[
                ("color", "#2563eb"),
                ("title", ""),
                ("greeting", ""),
                ("position", "right"),
                ("offline_text", ""),
                ("prechat_name", "off"),
                ("prechat_email", "off"),
                ("allowed_origins", ""),
            ],
            Some(&admin),
        )
        .await;
    assert!(saved.ok(), "{saved:?}");
    assert!(!server.state.site.get().draft_preview);

    // Wait out the per-side pace, then type again: "typing" still flows,
    // the text does not.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    chat.visitor
        .send(&typing(None, true, Some("my card number is 4111")))
        .await;
    let draft = ann.expect_map("typing without a draft", said).await;
    assert_eq!(draft, None);
}

#[tokio::test]
async fn a_flood_of_typing_is_paced_refused_when_too_long_and_slows_nobody() {
    let mut f = floor().await;

    // Visitor A floods; visitor B asks something meanwhile.
    let flood_start = Instant::now();
    for i in 0..500 {
        f.a.visitor
            .send(&typing(None, true, Some(&format!("draft {i}"))))
            .await;
    }
    f.b.visitor.say("b-1", "is anyone there?").await;
    f.b.visitor.expect_ack("b-1").await;
    let frames = f
        .ann
        .frames_until(
            "B's question",
            |m| matches!(m, ServerMsg::Message { message } if message.text == "is anyone there?"),
        )
        .await;
    let waited = flood_start.elapsed();
    assert!(
        waited < Duration::from_secs(2),
        "B's message took {waited:?} behind A's flood"
    );
    let mut more = frames;
    more.extend(f.ann.collect_for(Duration::from_millis(800)).await);
    let forwarded = typings(&more)
        .iter()
        .filter(|t| t.0 == f.a.conversation)
        .count();
    assert!(
        (1..=4).contains(&forwarded),
        "Ann got {forwarded} of A's 500 typing frames"
    );

    // Typing costs no message allowance: A can still send at once.
    f.a.visitor.say("a-1", "sorry, cat on keyboard").await;
    f.a.visitor.expect_ack("a-1").await;

    // Over-long drafts and agents' frames without a conversation are refused.
    let long = "字".repeat(MAX_DRAFT_CHARS + 1);
    f.c.visitor.send(&typing(None, true, Some(&long))).await;
    f.c.visitor.expect_error(ErrorCode::TextTooLong).await;
    f.bob.send(&typing(None, true, None)).await;
    f.bob.expect_error(ErrorCode::BadFrame).await;
    let frames = f.bob.collect_for(QUIET).await;
    assert!(typings(&frames).is_empty(), "the long draft went nowhere");
}
