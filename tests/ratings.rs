#![cfg(feature = "ssr")]
//! Ratings (issue 14, item 3), over real sockets and a real SQLite file:
//! the visitor rates their closed conversation once, 1–5, with a comment
//! of bounded length; every other attempt gets its own error code and
//! stores nothing; the agent who closed it is told live and reads it in
//! the conversation's history; a reconnecting widget learns it was rated.
//!
//! Run with `cargo test --features ssr --test ratings`.

use kefu::api::HistoryPage;
use kefu::protocol::rating::MAX_RATING_COMMENT_CHARS;
use kefu::protocol::{ClientMsg, ConversationId, ConversationStatus, ErrorCode, ServerMsg};
use kefu::server::config::Security;

mod common;
use common::*;

fn rate(conversation: ConversationId, score: u8, comment: &str) -> ClientMsg {
    ClientMsg::Rate {
        conversation,
        score,
        comment: comment.into(),
    }
}

#[tokio::test]
async fn the_visitor_rates_a_closed_conversation_once_and_the_agent_sees_it() {
    let server = start(Security::default()).await;
    let (cookie, mut ann, mut chat) = server.agent_with_chat("Ann", 5).await;
    let c = chat.conversation;
    chat.visitor.say("v-1", "Where is my parcel?").await;
    chat.visitor.expect_ack("v-1").await;
    ann.say_in(c, "a-1", "On its way").await;
    ann.expect_ack("a-1").await;

    // Not before the close.
    chat.visitor.send(&rate(c, 5, "")).await;
    chat.visitor.expect_error(ErrorCode::ConversationOpen).await;

    ann.send(&ClientMsg::Close { conversation: c }).await;
    chat.visitor
        .expect_conversation("the close", |s| {
            s.id == c && s.status == ConversationStatus::Closed && s.rating.is_none()
        })
        .await;

    // Scores out of 1–5, an over-long comment, the agent, another visitor:
    // each refused with its own code.
    chat.visitor.send(&rate(c, 0, "")).await;
    chat.visitor.expect_error(ErrorCode::RatingScore).await;
    chat.visitor.send(&rate(c, 6, "")).await;
    chat.visitor.expect_error(ErrorCode::RatingScore).await;
    let long = "x".repeat(MAX_RATING_COMMENT_CHARS + 1);
    chat.visitor.send(&rate(c, 4, &long)).await;
    chat.visitor
        .expect_error(ErrorCode::RatingCommentTooLong)
        .await;
    ann.send(&rate(c, 5, "")).await;
    ann.expect_error(ErrorCode::WrongRole).await;
    let (mut other, _) = server.visitor_named("other", None, vec![]).await;
    other.send(&rate(c, 1, "")).await;
    other.expect_error(ErrorCode::Forbidden).await;
    other.send(&rate(ConversationId(9_999), 1, "")).await;
    other.expect_error(ErrorCode::Forbidden).await;

    // The real one: at the comment limit exactly.
    let comment = "快".repeat(MAX_RATING_COMMENT_CHARS);
    chat.visitor.send(&rate(c, 4, &comment)).await;
    let summary = chat
        .visitor
        .expect_conversation("the rated summary", |s| s.id == c && s.rating.is_some())
        .await;
    assert_eq!(summary.rating, Some(4));
    assert_eq!(summary.status, ConversationStatus::Closed);
    let rated = ann
        .expect_map("the rating, live", |m| match m {
            ServerMsg::Rated {
                conversation,
                rating,
            } if *conversation == c => Some(rating.clone()),
            _ => None,
        })
        .await;
    assert_eq!((rated.score, rated.comment.as_str()), (4, comment.as_str()));

    // Once only.
    chat.visitor.send(&rate(c, 1, "changed my mind")).await;
    chat.visitor.expect_error(ErrorCode::AlreadyRated).await;

    // The agent's history of it carries the rating; the stored one is the first.
    let page: HistoryPage = server
        .call(
            "conversation_history",
            &[("conversation", &c.0.to_string())],
            Some(&cookie),
        )
        .await
        .json();
    let stored = page.rating.expect("the rating in the agent's history");
    assert_eq!((stored.score, stored.comment), (4, comment));

    // A reloaded widget learns it rated already.
    let (mut again, _) = server
        .visitor_named("reloaded", Some(chat.token.clone()), vec![])
        .await;
    let summary = again
        .expect_conversation("the closed conversation", |s| s.id == c)
        .await;
    assert_eq!(summary.rating, Some(4));
}
