//! Reading and ageing what the server stored, straight in its database
//! (as an operator's `sqlite3` or `psql` would), on either backend, and the
//! chats the retention and privacy tests set up.

use std::time::Duration;

use kefu::protocol::{ClientMsg, ConversationId, ConversationStatus, MessageId};
use kefu::server::storage::VisitorId;
use sqlx::AnyPool;

use super::client::Client;
use super::engines::{on_postgres, param, raw};
use super::Server;

/// A day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// A second connection to the server's database (its SQLite file or its
/// PostgreSQL database), as an operator's `sqlite3` or `psql` would be.
pub async fn db(server: &Server) -> AnyPool {
    raw(&server.db_url).await
}

/// The one number `sql` (with one parameter, [`param`]`(1)`, bound to
/// `id`) answers.
pub async fn count(db: &AnyPool, sql: &str, id: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Rows of SQLite's full-text index (`message_text`) holding `word`.
/// SQLite only: PostgreSQL has no such table (its trigram index covers
/// `messages.body` itself, so what leaves `messages` leaves search; check
/// that through [`found`]).
pub async fn indexed(db: &AnyPool, word: &str) -> i64 {
    assert!(!on_postgres(), "message_text is SQLite's own");
    sqlx::query_scalar("SELECT COUNT(*) FROM message_text WHERE message_text MATCH ?")
        .bind(word)
        .fetch_one(db)
        .await
        .expect("searches")
}

/// Messages the admin's search finds for `word` (waits for the indexer).
pub async fn found(server: &Server, cookie: &str, word: &str) -> usize {
    let response = server
        .call("search_conversations", &[("query", word)], Some(cookie))
        .await;
    assert!(response.ok(), "{}", response.status);
    response
        .json::<Vec<kefu::protocol::archive::SearchHit>>()
        .len()
}

/// A chat with `agent` holding a page view, two messages with `word`, a
/// note and a rating; closed unless `open`. The visitor's socket is
/// returned (still open) with the conversation and visitor id.
pub async fn chat(
    server: &Server,
    agent: &mut Client,
    agent_name: &str,
    word: &str,
    open: bool,
) -> (Client, ConversationId, VisitorId) {
    let mut c = server.assigned_chat(agent, agent_name).await;
    c.visitor
        .send(&ClientMsg::PageView {
            url: format!("https://shop.example.com/{word}"),
            title: "Shop".into(),
            referrer: None,
            time_zone: Some("Asia/Shanghai".into()),
            utc_offset: Some(480),
        })
        .await;
    for n in 0..2 {
        let id = format!("{word}-{n}");
        c.visitor
            .say(&id, &format!("hello {word} number {n}"))
            .await;
        c.visitor.expect_ack(&id).await;
    }
    let conversation = c.conversation;
    agent
        .send(&ClientMsg::Note {
            id: MessageId(format!("note-{word}")),
            conversation,
            text: format!("private {word}"),
            resend: false,
        })
        .await;
    agent
        .expect_map("the note", |f| match f {
            kefu::protocol::ServerMsg::Note { note } if note.conversation == conversation => {
                Some(())
            }
            _ => None,
        })
        .await;
    let number: i64 = c
        .welcome
        .info
        .label
        .strip_prefix("Visitor ")
        .and_then(|n| n.parse().ok())
        .expect("an anonymous visitor's label is their number");
    if !open {
        agent.send(&ClientMsg::Close { conversation }).await;
        c.visitor
            .expect_conversation("closed", |s| {
                s.id == conversation && s.status == ConversationStatus::Closed
            })
            .await;
        // Ratings come from their own branch; the table is here already.
        sqlx::query(&format!(
            "INSERT INTO ratings (conversation_id, score, comment, created_at) VALUES ({}, 4, {}, {})",
            param(1),
            param(2),
            param(3)
        ))
        .bind(conversation.0)
        .bind(format!("fine {word}"))
        .bind(kefu::server::storage::now_ms())
        .execute(&db(server).await)
        .await
        .expect("rates");
    }
    (c.visitor, conversation, VisitorId(number))
}

/// Makes a conversation and its visitor look `days` old, straight in the
/// database.
pub async fn age(db: &AnyPool, conversation: ConversationId, visitor: VisitorId, days: i64) {
    let then = kefu::server::storage::now_ms() - days * DAY_MS;
    // `?` is not numbered on SQLite: `then` is bound once per use.
    sqlx::query(&format!(
        "UPDATE conversations SET created_at = {}, queued_at = {},
             closed_at = CASE WHEN closed_at IS NULL THEN NULL ELSE {} END
         WHERE id = {}",
        param(1),
        param(2),
        param(3),
        param(4)
    ))
    .bind(then)
    .bind(then)
    .bind(then)
    .bind(conversation.0)
    .execute(db)
    .await
    .expect("ages the conversation");
    sqlx::query(&format!(
        "UPDATE visitors SET created_at = {} WHERE id = {}",
        param(1),
        param(2)
    ))
    .bind(then)
    .bind(visitor.0)
    .execute(db)
    .await
    .expect("ages the visitor");
}

/// Waits until the hub has forgotten the visitor's sockets.
pub async fn gone(server: &Server, visitor: VisitorId) {
    for _ in 0..200 {
        if server.state.hub.connected_visitors(&[visitor]).is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("visitor {visitor:?} still connected");
}

/// How many rows of `conversation`, in every covered table.
pub async fn conversation_rows(db: &AnyPool, conversation: ConversationId) -> i64 {
    let mut n = count(
        db,
        &format!("SELECT COUNT(*) FROM conversations WHERE id = {}", param(1)),
        conversation.0,
    )
    .await;
    for table in ["messages", "notes", "ratings", "conversation_agents"] {
        n += count(
            db,
            &format!(
                "SELECT COUNT(*) FROM {table} WHERE conversation_id = {}",
                param(1)
            ),
            conversation.0,
        )
        .await;
    }
    n
}
