#![cfg(feature = "ssr")]
//! The retention sweep (issue 14, item 6) over the real server and its
//! database (SQLite, or PostgreSQL: [`common::engines`]): closed
//! conversations older than the limit go from every table and from search
//! (recent and open ones stay), then visitors left with nothing, and
//! expired sessions; without a limit nothing goes.
//!
//! Run with `cargo test --features ssr --test retention` (on PostgreSQL:
//! `KEFU_TEST_BACKEND=postgres scripts/engines.sh run -- cargo test …`).

use std::time::Duration;

use kefu::server::config::Security;
use kefu::server::retention::{sweep, Policy};

mod common;
use common::engines::{on_postgres, param};
use common::stored::*;
use common::*;

#[tokio::test]
async fn the_sweep_forgets_old_closed_conversations_everywhere_and_keeps_the_rest() {
    let server = start(Security::default()).await;
    let (boss_id, boss) = server.signed_in_agent("Boss", true).await;
    let (_, mut ann) = server.online_agent("Ann", 10).await;
    let db = db(&server).await;
    let (old_socket, old, old_visitor) = chat(&server, &mut ann, "Ann", "zebraold", false).await;
    let (_recent_socket, recent, recent_visitor) =
        chat(&server, &mut ann, "Ann", "zebranew", false).await;
    let (_open_socket, open, open_visitor) =
        chat(&server, &mut ann, "Ann", "zebraopen", true).await;
    age(&db, old, old_visitor, 40).await;
    age(&db, open, open_visitor, 40).await;
    age(&db, recent, recent_visitor, 10).await;
    assert_eq!(found(&server, &boss, "zebraold").await, 2, "indexed first");
    assert!(conversation_rows(&db, old).await >= 6);
    // A session past its expiry, one unused for too long, and the boss's own.
    for (hash, expires, seen) in [
        (&b"expired"[..], -DAY_MS, 0),
        (&b"idle"[..], DAY_MS, -2 * DAY_MS),
    ] {
        let now = kefu::server::storage::now_ms();
        sqlx::query(&format!(
            "INSERT INTO sessions (token_hash, agent_id, created_at, expires_at, last_seen_at)
             VALUES ({}, {}, {}, {}, {})",
            param(1),
            param(2),
            param(3),
            param(4),
            param(5)
        ))
        .bind(hash.to_vec())
        .bind(boss_id.0)
        .bind(now - 3 * DAY_MS)
        .bind(now + expires)
        .bind(now + seen)
        .execute(&db)
        .await
        .expect("adds a session");
    }
    old_socket.close().await;
    gone(&server, old_visitor).await;

    let policy = Policy {
        retain_days: Some(30),
        session_idle: Duration::from_secs(12 * 3600),
    };
    let swept = sweep(&server.state.storage, &server.state.hub, policy)
        .await
        .expect("sweeps");
    assert_eq!(swept.conversations, 1, "{swept:?}");
    assert_eq!(swept.visitors, 1, "{swept:?}");

    assert_eq!(conversation_rows(&db, old).await, 0, "the old one is gone");
    if !on_postgres() {
        assert_eq!(indexed(&db, "zebraold").await, 0, "and out of the index");
    }
    assert_eq!(found(&server, &boss, "zebraold").await, 0);
    for table in ["visitors WHERE id", "visitor_context WHERE visitor_id"] {
        let sql = format!("SELECT COUNT(*) FROM {table} = {}", param(1));
        assert_eq!(count(&db, &sql, old_visitor.0).await, 0, "{table}");
    }
    // The recent closed one and the open one (however old) stay, searchable.
    assert!(conversation_rows(&db, recent).await >= 6);
    assert!(conversation_rows(&db, open).await >= 5);
    if !on_postgres() {
        assert_eq!(indexed(&db, "zebranew").await, 2);
    }
    assert_eq!(found(&server, &boss, "zebranew").await, 2);
    assert_eq!(found(&server, &boss, "zebraopen").await, 2);
    for v in [recent_visitor, open_visitor] {
        let sql = format!("SELECT COUNT(*) FROM visitors WHERE id = {}", param(1));
        assert_eq!(count(&db, &sql, v.0).await, 1);
    }
    // Expired and idle sessions are gone; the boss is still signed in.
    let sessions: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_all(&db)
        .await
        .expect("reads");
    assert_eq!(sessions.len(), 2, "the boss's and Ann's sessions");
    assert!(!sessions.iter().any(|h| h == b"expired" || h == b"idle"));
    assert!(server.call("list_agents", &[], Some(&boss)).await.ok());

    // Without a retention, conversations stay whatever their age.
    age(&db, recent, recent_visitor, 400).await;
    let kept = Policy {
        retain_days: None,
        ..policy
    };
    let swept = sweep(&server.state.storage, &server.state.hub, kept)
        .await
        .expect("sweeps");
    assert_eq!(swept.conversations, 0);
    assert!(conversation_rows(&db, recent).await >= 6);
}
