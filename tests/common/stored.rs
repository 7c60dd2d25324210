//! Reading and ageing what the server stored, straight in its SQLite file
//! (as an operator's `sqlite3` would), and the chats the retention and
//! privacy tests set up.

use std::time::Duration;

use kefu::protocol::{ClientMsg, ConversationId, ConversationStatus, MessageId};
use kefu::server::storage::VisitorId;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

use super::client::Client;
use super::Server;

/// A day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// A second connection to the server's database file, as an operator's
/// `sqlite3` would be.
pub async fn db(server: &Server) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(&server.db)
        .busy_timeout(Duration::from_secs(10));
    SqlitePool::connect_with(options).await.expect("opens")
}

/// The one number `sql` (with one `?`, bound to `id`) answers.
pub async fn count(db: &SqlitePool, sql: &str, id: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Rows of the full-text index holding `word`.
pub async fn indexed(db: &SqlitePool, word: &str) -> i64 {
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
        sqlx::query(
            "INSERT INTO ratings (conversation_id, score, comment, created_at) VALUES (?, 4, ?, ?)",
        )
        .bind(conversation)
        .bind(format!("fine {word}"))
        .bind(kefu::server::storage::now_ms())
        .execute(&db(server).await)
        .await
        .expect("rates");
    }
    (c.visitor, conversation, VisitorId(number))
}

/// Makes a conversation and its visitor look `days` old, straight in the file.
pub async fn age(db: &SqlitePool, conversation: ConversationId, visitor: VisitorId, days: i64) {
    let then = kefu::server::storage::now_ms() - days * DAY_MS;
    sqlx::query(
        "UPDATE conversations SET created_at = ?1, queued_at = ?1,
             closed_at = CASE WHEN closed_at IS NULL THEN NULL ELSE ?1 END
         WHERE id = ?2",
    )
    .bind(then)
    .bind(conversation)
    .execute(db)
    .await
    .expect("ages the conversation");
    sqlx::query("UPDATE visitors SET created_at = ? WHERE id = ?")
        .bind(then)
        .bind(visitor)
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
pub async fn conversation_rows(db: &SqlitePool, conversation: ConversationId) -> i64 {
    let mut n = count(
        db,
        "SELECT COUNT(*) FROM conversations WHERE id = ?",
        conversation.0,
    )
    .await;
    for table in ["messages", "notes", "ratings", "conversation_agents"] {
        n += count(
            db,
            &format!("SELECT COUNT(*) FROM {table} WHERE conversation_id = ?"),
            conversation.0,
        )
        .await;
    }
    n
}
