#![cfg(feature = "ssr")]
//! Personal data (issue 14, item 6) over the real server and its database
//! (SQLite, or PostgreSQL: [`common::engines`]): `kefu visitor export` and
//! `delete` (the binary) and the console's `delete_visitor` leave no trace
//! in any table, which the test finds by reading the schema; and nothing is
//! stored for a visitor who does nothing worth keeping.
//!
//! Run with `cargo test --features ssr --test privacy` (on PostgreSQL:
//! `KEFU_TEST_BACKEND=postgres scripts/engines.sh run -- cargo test …`).

use std::collections::BTreeSet;
use std::time::Duration;

use kefu::error::{AppError, Invalid};
use kefu::protocol::{ClientMsg, ConversationId, ConversationStatus};
use kefu::server::config::Security;
use kefu::server::storage::VisitorId;
use sqlx::AnyPool;

mod common;
use common::engines::{on_postgres, param};
use common::stored::*;
use common::*;

/// Every table holding a visitor's or a conversation's data, by the column
/// that says whose: what deleting a visitor must cover. A new table with a
/// `visitor_id` or `conversation_id` column fails
/// [`visitor_delete_leaves_no_trace_in_any_table`] until it is added here
/// and to the deletion (`storage/sqlite/retention.rs` and
/// `storage/postgres/retention.rs`).
const COVERED: &[&str] = &[
    "conversation_agents",
    "conversations",
    "messages",
    "notes",
    "ratings",
    "visitor_context",
    "visitor_tokens",
    "visitors",
    "webhook_deliveries",
];

/// Every table of the schema with a column naming a visitor or a
/// conversation: on SQLite from `sqlite_master` (the search index's own
/// tables aside), on PostgreSQL from `information_schema` (the public
/// schema's tables; PostgreSQL has no search tables, its index is on
/// `messages`). sqlx's own `_sqlx_migrations` is left out on both.
async fn personal_tables(db: &AnyPool) -> Vec<(String, Vec<String>)> {
    let (tables_sql, columns_sql) = if on_postgres() {
        (
            "SELECT table_name::TEXT FROM information_schema.tables
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
               AND table_name != '_sqlx_migrations'"
                .to_owned(),
            format!(
                "SELECT column_name::TEXT FROM information_schema.columns
                 WHERE table_schema = 'public' AND table_name = {}",
                param(1)
            ),
        )
    } else {
        (
            "SELECT name FROM sqlite_master WHERE type = 'table'
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'
             AND name NOT LIKE 'message_text%'"
                .to_owned(),
            "SELECT name FROM pragma_table_info(?)".to_owned(),
        )
    };
    let tables: Vec<String> = sqlx::query_scalar(&tables_sql)
        .fetch_all(db)
        .await
        .expect("lists tables");
    assert!(
        tables.iter().any(|t| t == "messages"),
        "the schema was read: {tables:?}"
    );
    let mut personal = Vec::new();
    for table in tables {
        let columns: Vec<String> = sqlx::query_scalar(&columns_sql)
            .bind(&table)
            .fetch_all(db)
            .await
            .expect("lists columns");
        let whose: Vec<String> = columns
            .into_iter()
            .filter(|c| c == "visitor_id" || c == "conversation_id")
            .collect();
        if !whose.is_empty() || table == "visitors" || table == "conversations" {
            personal.push((table, whose));
        }
    }
    personal
}

/// Rows left anywhere that belong to `visitor` or its `conversations`.
async fn traces(db: &AnyPool, visitor: VisitorId, conversations: &[ConversationId]) -> i64 {
    let p = param(1);
    let mut n = count(
        db,
        &format!("SELECT COUNT(*) FROM visitors WHERE id = {p}"),
        visitor.0,
    )
    .await;
    for (table, columns) in personal_tables(db).await {
        for column in columns {
            if column == "visitor_id" {
                let sql = format!("SELECT COUNT(*) FROM {table} WHERE visitor_id = {p}");
                n += count(db, &sql, visitor.0).await;
            } else {
                for c in conversations {
                    let sql = format!("SELECT COUNT(*) FROM {table} WHERE conversation_id = {p}");
                    n += count(db, &sql, c.0).await;
                }
            }
        }
    }
    for c in conversations {
        let sql = format!("SELECT COUNT(*) FROM conversations WHERE id = {p}");
        n += count(db, &sql, c.0).await;
    }
    n
}

#[tokio::test]
async fn visitor_delete_leaves_no_trace_in_any_table() {
    let server = start(Security::default()).await;
    let (_, boss) = server.signed_in_agent("Boss", true).await;
    let (_, ann_cookie) = server.signed_in_agent("Ann", false).await;
    let (ann_socket, _) = server.agent(&ann_cookie, vec![]).await;
    drop(ann_socket);
    let (_, mut bob) = server.online_agent("Bob", 10).await;
    let db = db(&server).await;

    // The schema's personal tables are exactly those the deletion covers.
    let tables: BTreeSet<String> = personal_tables(&db)
        .await
        .into_iter()
        .map(|t| t.0)
        .collect();
    let covered: BTreeSet<String> = COVERED.iter().map(|t| t.to_string()).collect();
    assert_eq!(
        tables, covered,
        "a table holds visitors' or conversations' data: delete it with the visitor \
         (storage/sqlite/retention.rs, storage/postgres/retention.rs) and list it in COVERED"
    );

    let (mut socket, first, visitor) = chat(&server, &mut bob, "Bob", "yakfirst", false).await;
    // A second conversation of the same visitor, left open for now.
    socket.send(&ClientMsg::Start).await;
    let second = socket
        .expect_conversation("the second", |c| {
            c.status == ConversationStatus::Assigned && c.id != first
        })
        .await
        .id;
    socket.say("y2", "again yaksecond").await;
    socket.expect_ack("y2").await;
    let (_other_socket, other, other_visitor) =
        chat(&server, &mut bob, "Bob", "yakother", false).await;
    assert_eq!(found(&server, &boss, "yakfirst").await, 2);
    assert_eq!(found(&server, &boss, "yaksecond").await, 1);

    let delete = |cookie: String| {
        let server = &server;
        async move {
            let id = visitor.0.to_string();
            server
                .call("delete_visitor", &[("visitor", &id)], Some(&cookie))
                .await
        }
    };
    // Only admins; never while connected or with an open conversation.
    let refused = delete(ann_cookie.clone()).await;
    assert_eq!(refused.app_error(), AppError::Forbidden);
    let refused = delete(boss.clone()).await;
    assert_eq!(
        refused.app_error(),
        AppError::Invalid(Invalid::VisitorActive)
    );
    socket.close().await;
    gone(&server, visitor).await;
    // Disconnected, but still an open conversation (queued or assigned).
    let refused = delete(boss.clone()).await;
    assert_eq!(
        refused.app_error(),
        AppError::Invalid(Invalid::VisitorActive)
    );
    bob.send(&ClientMsg::Close {
        conversation: second,
    })
    .await;
    for _ in 0..200 {
        let closed = count(
            &db,
            &format!(
                "SELECT COUNT(*) FROM conversations WHERE id = {} AND status = 'closed'",
                param(1)
            ),
            second.0,
        )
        .await;
        if closed == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The export holds everything, and no token hash.
    let exported = std::process::Command::new(env!("CARGO_BIN_EXE_kefu"))
        .args(["--db", &server.db_url])
        .args(["visitor", "export", &visitor.0.to_string()])
        .output()
        .expect("runs kefu");
    assert!(exported.status.success(), "{exported:?}");
    let json: serde_json::Value = serde_json::from_slice(&exported.stdout).expect("JSON");
    let text = json.to_string();
    for part in [
        "hello yakfirst number 1",
        "again yaksecond",
        "private yakfirst",
        "fine yakfirst",
        "https://shop.example.com/yakfirst",
        "Asia/Shanghai",
        "Bob",
    ] {
        assert!(text.contains(part), "{part} in {text}");
    }
    assert!(!text.contains("token_hash"), "{text}");
    assert_eq!(json["conversations"].as_array().map(Vec::len), Some(2));

    assert!(traces(&db, visitor, &[first, second]).await > 10);
    let done = delete(boss.clone()).await;
    assert!(done.ok(), "{}", done.status);
    assert_eq!(traces(&db, visitor, &[first, second]).await, 0);
    if !on_postgres() {
        assert_eq!(indexed(&db, "yakfirst").await, 0);
        assert_eq!(indexed(&db, "yaksecond").await, 0);
    }
    assert_eq!(found(&server, &boss, "yakfirst").await, 0);
    assert_eq!(found(&server, &boss, "yaksecond").await, 0);
    // Twice: not found.
    assert_eq!(delete(boss.clone()).await.app_error(), AppError::NotFound);
    // The other visitor is untouched.
    assert!(traces(&db, other_visitor, &[other]).await > 10);
    if !on_postgres() {
        assert_eq!(indexed(&db, "yakother").await, 2);
    }
    assert_eq!(found(&server, &boss, "yakother").await, 2);

    // The binary's `visitor delete` does the same (the server still running).
    _other_socket.close().await;
    gone(&server, other_visitor).await;
    let kefu = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kefu"))
            .args(["--db", &server.db_url])
            .args(args)
            .output()
            .expect("runs kefu")
    };
    let id = other_visitor.0.to_string();
    let deleted = kefu(&["visitor", "delete", &id]);
    assert!(deleted.status.success(), "{deleted:?}");
    assert_eq!(traces(&db, other_visitor, &[other]).await, 0);
    if !on_postgres() {
        assert_eq!(indexed(&db, "yakother").await, 0);
    }
    assert_eq!(found(&server, &boss, "yakother").await, 0);
    let again = kefu(&["visitor", "delete", &id]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("no visitor"));
}

#[tokio::test]
async fn nobody_is_stored_until_they_do_something_worth_keeping() {
    let server = start(Security::default()).await;
    let (_, mut ann) = server.online_agent("Ann", 10).await;
    let db = db(&server).await;
    let visitors = || async {
        let sql = format!("SELECT COUNT(*) + {} FROM visitors", param(1));
        count(&db, &sql, 0).await
    };
    // The size of what is stored: SQLite's pages; on PostgreSQL, the main
    // files of the tables and indexes (not the free space and visibility
    // maps, which vacuuming may add at any time).
    let pages = || async {
        let sql = if on_postgres() {
            format!(
                "SELECT CAST(SUM(pg_relation_size(c.oid, 'main')) AS BIGINT) + {}
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')",
                param(1)
            )
        } else {
            "SELECT page_count + ? FROM pragma_page_count".to_owned()
        };
        count(&db, &sql, 0).await
    };
    let (before, pages_before) = (visitors().await, pages().await);

    // A script reconnecting without a token, saying where it is each time.
    for n in 0..60 {
        let (mut v, welcome) = server.visitor(None, vec![]).await;
        assert!(welcome.info.token.is_some(), "a token is still issued");
        v.send(&ClientMsg::PageView {
            url: format!("https://shop.example.com/{n}"),
            title: "Shop".into(),
            referrer: None,
            time_zone: None,
            utc_offset: None,
        })
        .await;
        v.ping_pong().await;
        v.close().await;
    }
    assert_eq!(visitors().await, before, "no visitor row for nobody");
    assert_eq!(pages().await, pages_before, "the database did not grow");
    let sql = format!("SELECT COUNT(*) + {} FROM visitor_context", param(1));
    let context = count(&db, &sql, 0).await;
    assert_eq!(context, 0);

    // One who stays: a second tab with their token is the same visitor.
    let (mut tab, welcome) = server.visitor(None, vec![]).await;
    let token = welcome.info.token.clone().expect("issued");
    tab.send(&ClientMsg::PageView {
        url: "https://shop.example.com/shoes".into(),
        title: "Shoes".into(),
        referrer: Some("https://search.example.com/".into()),
        time_zone: Some("Europe/Paris".into()),
        utc_offset: Some(60),
    })
    .await;
    tab.ping_pong().await;
    let (mut tab2, again) = server.visitor(Some(token.clone()), vec![]).await;
    assert_eq!(
        again.info.token, None,
        "the token is recognised before any row"
    );
    assert_eq!(again.info.label, welcome.info.label);
    assert_eq!(visitors().await, before);

    // Their first message stores them, with the page they were on.
    tab2.say("m1", "do you have these in blue?").await;
    tab2.expect_ack("m1").await;
    assert_eq!(visitors().await, before + 1);
    let page: String = sqlx::query_scalar("SELECT page_url FROM visitor_context")
        .fetch_one(&db)
        .await
        .expect("the page was stored with the visitor");
    assert_eq!(page, "https://shop.example.com/shoes");
    let conversation = ann
        .expect_conversation("their conversation", |c| {
            c.status != ConversationStatus::Closed
        })
        .await
        .id;
    tab.close().await;
    tab2.close().await;

    // Their token recognises them later, with their conversation.
    let (mut back, welcome) = server.visitor(Some(token), vec![]).await;
    assert_eq!(welcome.info.token, None, "recognised");
    let summary = back
        .expect_conversation("their conversation again", |c| c.id == conversation)
        .await;
    assert_eq!(summary.id, conversation);
    assert_eq!(visitors().await, before + 1);

    // The pre-chat form alone is worth keeping too.
    let (mut form, _) = server.visitor(None, vec![]).await;
    form.send(&ClientMsg::Profile {
        name: Some("Mei".into()),
        email: None,
    })
    .await;
    form.ping_pong().await;
    assert_eq!(visitors().await, before + 2);
}
