#![cfg(feature = "ssr")]
//! Closed conversations and search (issue 13, item 8) over the real server:
//! agents find and read only the conversations they have served, admins
//! all; English and Chinese text, short Chinese words, names and emails;
//! quotes and operators are taken literally, never a server error.
//!
//! Run with `cargo test --features ssr --test archive`.

use kefu::error::{AppError, Invalid};
use kefu::protocol::archive::{ClosedPage, SearchHit};
use kefu::protocol::{Author, ClientMsg, ConversationId, HistoryPage};
use kefu::server::config::Security;

mod common;
use common::client::Client;
use common::*;

async fn search(server: &Server, cookie: &str, query: &str) -> Vec<SearchHit> {
    let response = server
        .call("search_conversations", &[("query", query)], Some(cookie))
        .await;
    assert!(response.ok(), "{query:?}: {}", response.status);
    response.json()
}

/// (conversation, seq) of each hit.
async fn found(server: &Server, cookie: &str, query: &str) -> Vec<(ConversationId, Option<i64>)> {
    search(server, cookie, query)
        .await
        .iter()
        .map(|h| (h.conversation, h.seq))
        .collect()
}

async fn say(visitor: &mut Client, id: &str, text: &str) -> i64 {
    visitor.say(id, text).await;
    visitor.expect_ack(id).await.1
}

async fn closed(server: &Server, cookie: &str, args: &[(&str, &str)]) -> ClosedPage {
    server
        .call("closed_conversations", args, Some(cookie))
        .await
        .json()
}

#[tokio::test]
async fn agents_find_only_what_they_served_in_english_and_chinese() {
    let server = start(Security::default()).await;
    let (_, boss) = server.signed_in_agent("Boss", true).await;
    let (ann_cookie, mut ann, mut a) = server.agent_with_chat("Ann", 1).await;
    a.visitor
        .send(&ClientMsg::Profile {
            name: Some("Lin Wei".into()),
            email: Some("lin.wei@example.com".into()),
        })
        .await;
    let refund = say(&mut a.visitor, "a1", "Where is my REFUND for order 12345?").await;
    let chinese = say(&mut a.visitor, "a2", "我想申请退款，订单还没到").await;
    let quoted = say(&mut a.visitor, "a3", "Is the \"quoted\" 50% off AND more?").await;
    ann.say_in(a.conversation, "ann-1", "Your refund is on its way")
        .await;
    let reply = ann.expect_ack("ann-1").await.1;

    let (bob_cookie, _bob, mut b) = server.agent_with_chat("Bob", 1).await;
    let bobs = say(&mut b.visitor, "b1", "refund secretword please").await;

    // Ann: her conversation's messages, newest first; nothing of Bob's.
    let conv = a.conversation;
    assert_eq!(
        found(&server, &ann_cookie, "refund").await,
        [(conv, Some(reply)), (conv, Some(refund))]
    );
    assert!(found(&server, &ann_cookie, "secretword").await.is_empty());
    assert_eq!(
        found(&server, &bob_cookie, "refund").await,
        [(b.conversation, Some(bobs))]
    );
    assert!(found(&server, &bob_cookie, "退款").await.is_empty());
    // Admins find both.
    let all = found(&server, &boss, "refund").await;
    assert_eq!(all.len(), 3, "{all:?}");
    assert_eq!(all[0], (b.conversation, Some(bobs)));

    // Chinese: a phrase (in the trigram index), a two-character word and
    // one character (too short for it: read from the messages instead).
    for query in ["申请退款", "退款", "退", "订单 退款"] {
        assert_eq!(
            found(&server, &ann_cookie, query).await,
            [(conv, Some(chinese))],
            "{query}"
        );
    }
    // Every word must be there; the match is shown as written, with its context.
    assert_eq!(
        found(&server, &ann_cookie, "refund 12345").await,
        [(conv, Some(refund))]
    );
    assert!(found(&server, &ann_cookie, "refund 99999").await.is_empty());
    let hit = &search(&server, &ann_cookie, "refund 12345").await[0];
    assert_eq!(
        (
            hit.before.as_str(),
            hit.matched.as_str(),
            hit.after.as_str()
        ),
        ("Where is my ", "REFUND", " for order 12345?")
    );
    assert_eq!(hit.author, Some(Author::Visitor));

    // The visitor's name and email find the conversation.
    for query in ["Lin Wei", "lin.wei@example", "WEI"] {
        let hits = search(&server, &ann_cookie, query).await;
        assert_eq!(
            hits.iter()
                .map(|h| (h.conversation, h.seq))
                .collect::<Vec<_>>(),
            [(conv, None)],
            "{query}"
        );
        assert_eq!(hits[0].visitor.name.as_deref(), Some("Lin Wei"));
    }
    assert!(found(&server, &bob_cookie, "Lin Wei").await.is_empty());

    // System notices ("Assigned to Ann") are not searched as if written.
    assert!(search(&server, &boss, "Assigned")
        .await
        .iter()
        .all(|h| h.author != Some(Author::System)));
    assert!(found(&server, &boss, "assigned").await.is_empty());

    // Quotes and operators are taken literally, never a server error.
    assert_eq!(
        found(&server, &ann_cookie, "\"quoted\"").await,
        [(conv, Some(quoted))]
    );
    assert_eq!(
        found(&server, &ann_cookie, "50%").await,
        [(conv, Some(quoted))]
    );
    assert_eq!(
        found(&server, &ann_cookie, "AND").await,
        [(conv, Some(quoted))]
    );
    for query in [
        "\"",
        "\"refund",
        "refund\"",
        "refund OR",
        "NEAR(refund)",
        "*",
        "re*",
        "^refund",
        "body:refund",
        "(",
        ")",
        "'",
        "\\",
        "%",
        "_",
        "-refund",
        "a\u{0}b",
        "OR AND NOT",
    ] {
        let hits = found(&server, &ann_cookie, query).await;
        assert!(
            hits.iter().all(|(c, _)| *c == conv),
            "{query:?}: only Ann's conversation, if anything: {hits:?}"
        );
    }
    // A lone % is a literal per cent sign, not a wildcard.
    assert_eq!(
        found(&server, &ann_cookie, "%").await,
        [(conv, Some(quoted))]
    );
    assert!(found(&server, &ann_cookie, "   ").await.is_empty());
    let response = server
        .call(
            "search_conversations",
            &[("query", &"x".repeat(201))],
            Some(&ann_cookie),
        )
        .await;
    assert_eq!(
        response.app_error(),
        AppError::Invalid(Invalid::SearchTooLong)
    );
    let response = server
        .call("search_conversations", &[("query", "refund")], None)
        .await;
    assert_eq!(response.app_error(), AppError::Unauthorized);
}

#[tokio::test]
async fn closed_conversations_page_newest_first_and_open_read_only_to_who_served_them() {
    let server = start(Security::default()).await;
    let (_, boss) = server.signed_in_agent("Boss", true).await;
    let (ann_cookie, mut ann) = server.online_agent("Ann", 5).await;
    let mut convs = Vec::new();
    for i in 0..3 {
        let mut chat = server.assigned_chat(&mut ann, "Ann").await;
        say(
            &mut chat.visitor,
            &format!("v{i}"),
            &format!("question {i}"),
        )
        .await;
        ann.send(&ClientMsg::Close {
            conversation: chat.conversation,
        })
        .await;
        chat.visitor
            .expect_conversation("closed", |c| {
                c.id == chat.conversation && c.status == kefu::protocol::ConversationStatus::Closed
            })
            .await;
        convs.push(chat.conversation);
    }
    // Ann goes offline, so Bob's visitor is his.
    ann.close().await;
    let (bob_cookie, _bob, bobs_chat) = server.agent_with_chat("Bob", 1).await;

    let page = closed(&server, &ann_cookie, &[]).await;
    let ids: Vec<ConversationId> = page.conversations.iter().map(|c| c.id).collect();
    assert_eq!(ids, [convs[2], convs[1], convs[0]], "newest closed first");
    assert!(!page.more);
    assert_eq!(
        page.conversations[0].last_text.as_deref(),
        Some("question 2")
    );
    // The next page starts after the given one.
    let first = &page.conversations[0];
    let rest = closed(
        &server,
        &ann_cookie,
        &[
            ("before_closed_at", &first.closed_at.to_string()),
            ("before_id", &first.id.0.to_string()),
        ],
    )
    .await;
    assert_eq!(
        rest.conversations.iter().map(|c| c.id).collect::<Vec<_>>(),
        [convs[1], convs[0]]
    );
    // Bob served none of them (his own is still open); the admin sees all.
    assert!(closed(&server, &bob_cookie, &[])
        .await
        .conversations
        .is_empty());
    assert_eq!(closed(&server, &boss, &[]).await.conversations.len(), 3);

    // The whole history of a closed conversation, to who served it and admins only.
    let history = |cookie: String, conversation: ConversationId| {
        let server = &server;
        async move {
            server
                .call(
                    "conversation_history",
                    &[("conversation", &conversation.0.to_string())],
                    Some(&cookie),
                )
                .await
        }
    };
    let page: HistoryPage = history(ann_cookie.clone(), convs[0]).await.json();
    assert!(page.messages.iter().any(|m| m.text == "question 0"));
    let page: HistoryPage = history(boss.clone(), convs[0]).await.json();
    assert!(page.messages.iter().any(|m| m.text == "question 0"));
    assert_eq!(
        history(bob_cookie.clone(), convs[0]).await.app_error(),
        AppError::NotFound
    );
    assert_eq!(
        history(ann_cookie.clone(), bobs_chat.conversation)
            .await
            .app_error(),
        AppError::NotFound
    );
}
