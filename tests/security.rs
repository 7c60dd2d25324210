#![cfg(feature = "ssr")]
//! Tests of the security rules (issue "Security"): who may read what, who may
//! manage agents, which origins may call in, how sessions end, sign-in
//! throttling, rate and connection limits, response headers, cookies and log
//! hygiene. Each test fails if its rule is taken out.
//!
//! The real app runs in-process on 127.0.0.1 (with client addresses known, as
//! `kefu serve` does) over a temporary SQLite file. Server functions are called
//! with a tiny HTTP/1.1 client; sockets are the shared test client of
//! `tests/common/client.rs`. Where a rule is per address, a second client
//! address comes from binding the client socket to 127.0.0.2 (all of 127/8 is
//! loopback on Linux).
//!
//! Run with `cargo test --features ssr --test security`.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::SinkExt;
use kefu::api::{ConsoleView, HistoryPage, VisitorThread};
use kefu::error::AppError;
use kefu::protocol::{
    AgentInfo, Author, ChatMessage, ClientMsg, ConversationId, ConversationStatus, ErrorCode,
    MessageId, Resume, ServerMsg,
};
use kefu::server::config::{Limits, Security};
use kefu::server::secrets;
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::Message;

mod common;
use common::chat::about;
use common::client::{Event, EXPECT_TIMEOUT};
use common::*;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// How long "nothing more arrives" checks listen.
const QUIET: Duration = Duration::from_millis(500);
/// A second client address (the first is 127.0.0.1).
const OTHER_ADDR: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

fn now_ms() -> i64 {
    kefu::server::storage::now_ms()
}

/// The documented defaults.
async fn start_default() -> Server {
    start(Security::default()).await
}

/// Default security with other limits.
fn with_limits(limits: Limits) -> Security {
    Security {
        limits,
        ..Security::default()
    }
}

impl Server {
    /// This server's own origin, as a browser on its pages sends it.
    fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Signs in over HTTP from `from`; the session cookie on success.
    async fn sign_in_from(
        &self,
        from: Option<IpAddr>,
        name: &str,
        password: &str,
    ) -> Result<String, AppError> {
        let response = self
            .call_with(
                from,
                "sign_in",
                &[("name", name), ("password", password)],
                &[],
            )
            .await;
        if response.ok() {
            let info: AgentInfo = response.json();
            assert!(
                info.name.eq_ignore_ascii_case(name),
                "signed in as {info:?}"
            );
            let set_cookie = response
                .header("set-cookie")
                .unwrap_or_else(|| panic!("a successful sign-in sets a cookie: {response:?}"));
            Ok(cookie_of(set_cookie))
        } else {
            assert!(
                response.header("set-cookie").is_none(),
                "a refused sign-in sets no cookie: {response:?}"
            );
            Err(response.app_error())
        }
    }

    async fn sign_in(&self, name: &str, password: &str) -> Result<String, AppError> {
        self.sign_in_from(None, name, password).await
    }

    /// A second connection to the database, to age sessions.
    async fn db(&self) -> sqlx::AnyPool {
        common::engines::raw(&self.db_url).await
    }

    /// The stored messages of a conversation.
    async fn stored(&self, conversation: ConversationId) -> Vec<ChatMessage> {
        self.state
            .storage
            .messages_after(conversation, 0, 100_000)
            .await
            .expect("reading messages")
    }
}

/// The session token in a `Cookie` header value.
fn token_of(cookie: &str) -> &str {
    cookie
        .strip_prefix("kefu_session=")
        .expect("a kefu_session cookie")
}

// ---------------------------------------------------------------------------
// 1. Visitors see only their own conversation
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_visitor_token_reads_only_its_own_conversation() {
    let server = start_default().await;
    let (cookie, mut agent, chat) = server.agent_with_chat("Ann", 5).await;
    let (mut a, token_a, conv_a) = (chat.visitor, chat.token, chat.conversation);
    a.say("a-secret", "A's secret: card 4242").await;
    a.expect_ack("a-secret").await;
    let chat = server.assigned_chat(&mut agent, "Ann").await;
    let (mut b, token_b, conv_b) = (chat.visitor, chat.token, chat.conversation);
    b.say("b-1", "B's question").await;
    b.expect_ack("b-1").await;
    assert_ne!(conv_a, conv_b);

    // The control: A's token reads A's conversation.
    let thread: Option<VisitorThread> = server
        .call("visitor_history", &[("token", &token_a)], None)
        .await
        .json();
    let thread = thread.expect("A has a conversation");
    assert_eq!(thread.conversation.id, conv_a);
    assert!(thread.page.messages.iter().any(|m| m.id.0 == "a-secret"));

    // B's token reads B's conversation, and nothing of A's.
    let thread: Option<VisitorThread> = server
        .call("visitor_history", &[("token", &token_b)], None)
        .await
        .json();
    let thread = thread.expect("B has a conversation");
    assert_eq!(thread.conversation.id, conv_b);
    assert!(
        thread
            .page
            .messages
            .iter()
            .all(|m| m.conversation == conv_b),
        "B's history holds another conversation's messages: {thread:#?}"
    );
    assert!(
        !thread
            .page
            .messages
            .iter()
            .any(|m| m.text.contains("secret")),
        "B's history shows A's message: {thread:#?}"
    );
    assert!(thread.page.messages.iter().any(|m| m.id.0 == "b-1"));

    // Tokens that are not a visitor's read nothing at all.
    for bogus in ["", "not-a-token", &"0".repeat(64)] {
        let response = server
            .call("visitor_history", &[("token", bogus)], None)
            .await;
        assert_eq!(
            response.app_error(),
            AppError::NotFound,
            "token {bogus:?}: {response:?}"
        );
    }
    // Nor does an agent's session token.
    let response = server
        .call("visitor_history", &[("token", token_of(&cookie))], None)
        .await;
    assert_eq!(response.app_error(), AppError::NotFound);

    // On the socket, B (with its own token) resuming A's conversation gets none of it.
    let (mut b2, _) = server
        .visitor(
            Some(token_b.clone()),
            vec![Resume {
                conversation: conv_a,
                after: 0,
            }],
        )
        .await;
    let frames = b2.collect_for(QUIET).await;
    let leaked: Vec<&ServerMsg> = frames.iter().filter(|m| about(m, conv_a)).collect();
    assert!(leaked.is_empty(), "B received A's frames: {leaked:#?}");
    // And A's later messages do not reach B's sockets either.
    a.say("a-later", "another secret").await;
    a.expect_ack("a-later").await;
    for client in [&mut b, &mut b2] {
        let frames = client.collect_for(QUIET).await;
        assert!(
            !frames.iter().any(|m| about(m, conv_a)),
            "B received A's frames: {frames:#?}"
        );
    }
}

// ---------------------------------------------------------------------------
// 2. Agent management is for admins
// ---------------------------------------------------------------------------

#[tokio::test]
async fn only_admins_manage_agents() {
    let server = start_default().await;
    let (boss, admin_cookie) = server.signed_in_agent("Boss", true).await;
    let (bob, bob_cookie) = server.signed_in_agent("Bob", false).await;
    let storage = &server.state.storage;
    let (boss_id, bob_id) = (boss.0.to_string(), bob.0.to_string());

    let attempts: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("list_agents", vec![]),
        (
            "add_agent",
            vec![
                ("name", "Eve"),
                ("password", PASSWORD),
                ("capacity", "3"),
                ("admin", "on"),
            ],
        ),
        (
            "update_agent",
            vec![("id", &boss_id), ("capacity", "9"), ("disabled", "on")],
        ),
        ("update_agent", vec![("id", &bob_id), ("capacity", "9")]),
        ("remove_agent", vec![("id", &boss_id)]),
    ];
    for (name, args) in &attempts {
        let response = server.call(name, args, Some(&bob_cookie)).await;
        assert_eq!(
            response.app_error(),
            AppError::Forbidden,
            "{name} by a non-admin: {response:?}"
        );
        let response = server.call(name, args, None).await;
        assert_eq!(
            response.app_error(),
            AppError::Unauthorized,
            "{name} signed out: {response:?}"
        );
    }

    // Nothing changed.
    let agents = storage.list_agents().await.expect("listing agents");
    let summary: Vec<(String, bool, i64, bool)> = agents
        .iter()
        .map(|a| (a.name.clone(), a.is_admin, a.capacity, a.disabled))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("Bob".to_owned(), false, 5, false),
            ("Boss".to_owned(), true, 5, false),
        ],
        "a refused call changed the accounts"
    );
    // Both sessions still work.
    for cookie in [&admin_cookie, &bob_cookie] {
        let view: ConsoleView = server
            .call("console_session", &[], Some(cookie))
            .await
            .json();
        assert!(matches!(view, ConsoleView::SignedIn(_)), "{view:?}");
    }

    // The admin may do all of it.
    let list: Vec<AgentInfo> = server
        .call("list_agents", &[], Some(&admin_cookie))
        .await
        .json();
    assert_eq!(list.len(), 2);
    assert!(
        list.iter().all(|a| !format!("{a:?}").contains("argon2")),
        "password hashes are never sent: {list:?}"
    );
    let eve: AgentInfo = server
        .call(
            "add_agent",
            &[("name", "Eve"), ("password", PASSWORD), ("capacity", "3")],
            Some(&admin_cookie),
        )
        .await
        .json();
    assert_eq!((eve.name.as_str(), eve.is_admin), ("Eve", false));
    assert!(storage
        .agent_by_name("Eve")
        .await
        .expect("reading")
        .is_some());
    let eve_id = eve.id.0.to_string();
    let updated: AgentInfo = server
        .call(
            "update_agent",
            &[("id", &eve_id), ("capacity", "7")],
            Some(&admin_cookie),
        )
        .await
        .json();
    assert_eq!(updated.capacity, 7);
    let row = storage
        .agent_by_id(eve.id)
        .await
        .expect("reading")
        .expect("Eve exists");
    assert_eq!(row.capacity, 7);
    let () = server
        .call("remove_agent", &[("id", &eve_id)], Some(&admin_cookie))
        .await
        .json();
    assert!(storage
        .agent_by_id(eve.id)
        .await
        .expect("reading")
        .is_none());

    // An admin cannot lock themselves out.
    let response = server
        .call(
            "update_agent",
            &[("id", &boss_id), ("capacity", "5"), ("disabled", "on")],
            Some(&admin_cookie),
        )
        .await;
    assert!(
        matches!(response.app_error(), AppError::Invalid(_)),
        "{response:?}"
    );
}

#[tokio::test]
async fn agents_read_only_the_conversations_they_serve() {
    let server = start_default().await;
    let (_, ann) = server.signed_in_agent("Ann", false).await;
    let (_, bob) = server.signed_in_agent("Bob", false).await;
    let (_, boss) = server.signed_in_agent("Boss", true).await;
    let (mut ann_tab, _) = server.agent(&ann, vec![]).await;
    let chat = server.assigned_chat(&mut ann_tab, "Ann").await;
    let (mut visitor, conv) = (chat.visitor, chat.conversation);
    visitor.say("v-1", "for Ann only").await;
    visitor.expect_ack("v-1").await;
    let conv_id = conv.0.to_string();
    let args = [("conversation", conv_id.as_str())];

    let page: HistoryPage = server
        .call("conversation_history", &args, Some(&ann))
        .await
        .json();
    assert!(page.messages.iter().any(|m| m.id.0 == "v-1"), "{page:?}");
    let response = server.call("conversation_history", &args, Some(&bob)).await;
    assert_eq!(
        response.app_error(),
        AppError::NotFound,
        "another agent reads a conversation they do not serve: {response:?}"
    );
    // A missing id looks the same as someone else's.
    let response = server
        .call(
            "conversation_history",
            &[("conversation", "999999")],
            Some(&bob),
        )
        .await;
    assert_eq!(response.app_error(), AppError::NotFound);
    let response = server.call("conversation_history", &args, None).await;
    assert_eq!(response.app_error(), AppError::Unauthorized);
    // Admins may read any.
    let page: HistoryPage = server
        .call("conversation_history", &args, Some(&boss))
        .await
        .json();
    assert!(page.messages.iter().any(|m| m.id.0 == "v-1"));
}

// ---------------------------------------------------------------------------
// 3. Origins
// ---------------------------------------------------------------------------

#[tokio::test]
async fn foreign_origins_are_refused() {
    let server = start_default().await;
    let (_, cookie) = server.signed_in_agent("Ann", false).await;
    let evil = "https://evil.example";
    let own = server.origin();
    let same_host_other_port = "http://127.0.0.1:1".to_owned();

    for bad in [evil, "null", &same_host_other_port] {
        assert_eq!(
            server.refused("/ws/visitor", &[("Origin", bad)]).await,
            StatusCode::FORBIDDEN,
            "a visitor socket from {bad}"
        );
        assert_eq!(
            server
                .refused("/ws/agent", &[("Origin", bad), ("Cookie", &cookie)])
                .await,
            StatusCode::FORBIDDEN,
            "an agent socket (with a valid session) from {bad}"
        );
    }

    // The server's own pages, and non-browser clients (no Origin), are let in.
    for headers in [vec![("Origin", own.as_str())], vec![]] {
        let mut visitor = server
            .upgrade("/ws/visitor", None, &headers)
            .await
            .unwrap_or_else(|s| panic!("a visitor socket with {headers:?} got {s}"));
        visitor.hello_visitor(None, vec![]).await;
        let mut with_cookie = headers.clone();
        with_cookie.push(("Cookie", &cookie));
        let mut agent = server
            .upgrade("/ws/agent", None, &with_cookie)
            .await
            .unwrap_or_else(|s| panic!("an agent socket with {headers:?} got {s}"));
        assert_eq!(agent.hello_agent(vec![]).await.info.name, "Ann");
    }

    // Server functions: a foreign page cannot sign in (even with the right
    // password), nor read anything.
    server.add_agent("Bea", false).await;
    let args = [("name", "Bea"), ("password", PASSWORD)];
    let response = server
        .call_with(None, "sign_in", &args, &[("Origin", evil)])
        .await;
    assert_eq!(response.status, 403, "{response:?}");
    assert!(response.header("set-cookie").is_none());
    let response = server
        .call_with(
            None,
            "console_session",
            &[],
            &[("Origin", evil), ("Cookie", &cookie)],
        )
        .await;
    assert_eq!(response.status, 403, "{response:?}");
    let response = server
        .call_with(
            None,
            "visitor_history",
            &[("token", "x")],
            &[("Origin", evil)],
        )
        .await;
    assert_eq!(response.status, 403, "{response:?}");
    // The control: the same sign-in from the server's own page works.
    let response = server
        .call_with(None, "sign_in", &args, &[("Origin", &own)])
        .await;
    assert!(response.ok(), "{response:?}");
    assert!(response.header("set-cookie").is_some());
}

#[tokio::test]
async fn allowed_origins_may_open_visitor_sockets_but_not_agent_ones() {
    let shop = "https://shop.example";
    let server = start(Security {
        allow_origins: vec![shop.into()],
        ..Security::default()
    })
    .await;
    let (_, cookie) = server.signed_in_agent("Ann", false).await;

    let mut visitor = server
        .upgrade("/ws/visitor", None, &[("Origin", shop)])
        .await
        .unwrap_or_else(|s| panic!("a visitor socket from the allowed site got {s}"));
    visitor.hello_visitor(None, vec![]).await;
    assert_eq!(
        server
            .refused("/ws/agent", &[("Origin", shop), ("Cookie", &cookie)])
            .await,
        StatusCode::FORBIDDEN,
        "the console's socket is not for embedding sites"
    );
    assert_eq!(
        server
            .refused("/ws/visitor", &[("Origin", "https://evil.example")])
            .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        server
            .refused(
                "/ws/visitor",
                &[("Origin", "https://shop.example.evil.example")]
            )
            .await,
        StatusCode::FORBIDDEN,
        "a look-alike origin"
    );

    // The widget's server functions are open to the site; agent ones are not.
    let response = server
        .call_with(None, "agent_availability", &[], &[("Origin", shop)])
        .await;
    let online: bool = response.json();
    assert!(!online);
    let response = server
        .call_with(
            None,
            "visitor_history",
            &[("token", "x")],
            &[("Origin", shop)],
        )
        .await;
    assert_eq!(response.app_error(), AppError::NotFound, "{response:?}");
    let response = server
        .call_with(
            None,
            "sign_in",
            &[("name", "Ann"), ("password", PASSWORD)],
            &[("Origin", shop)],
        )
        .await;
    assert_eq!(response.status, 403, "{response:?}");
    let response = server
        .call_with(
            None,
            "list_agents",
            &[],
            &[("Origin", shop), ("Cookie", &cookie)],
        )
        .await;
    assert_eq!(response.status, 403, "{response:?}");
}

// ---------------------------------------------------------------------------
// 4. Sessions end: sign-out, expiry, disabled agents
// ---------------------------------------------------------------------------

#[tokio::test]
async fn signing_out_closes_the_agent_socket_and_ends_the_session() {
    let server = start_default().await;
    server.add_agent("Ann", false).await;
    let cookie = server.sign_in("Ann", PASSWORD).await.expect("Ann signs in");
    let other = server
        .sign_in("Ann", PASSWORD)
        .await
        .expect("Ann signs in elsewhere");
    let (mut tab1, _) = server.agent(&cookie, vec![]).await;
    let (mut tab2, _) = server.agent(&cookie, vec![]).await;
    let (mut elsewhere, _) = server.agent(&other, vec![]).await;
    tab1.ping_until_pong().await;

    let response = server.call("sign_out", &[], Some(&cookie)).await;
    assert!(response.ok(), "{response:?}");
    let cleared = response
        .header("set-cookie")
        .expect("the cookie is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    assert_eq!(
        tab1.expect_close().await.code,
        4001,
        "the open socket is closed"
    );
    assert_eq!(
        tab2.expect_close().await.code,
        4001,
        "every tab of the session"
    );
    assert_eq!(
        server.refused("/ws/agent", &[("Cookie", &cookie)]).await,
        StatusCode::UNAUTHORIZED,
        "the old cookie opens no new socket"
    );
    let view: ConsoleView = server
        .call("console_session", &[], Some(&cookie))
        .await
        .json();
    assert_eq!(view, ConsoleView::SignedOut);
    let response = server.call("list_agents", &[], Some(&cookie)).await;
    assert_eq!(response.app_error(), AppError::Unauthorized);

    // Another session of the same agent is not touched.
    elsewhere.ping_until_pong().await;
    let (mut again, _) = server.agent(&other, vec![]).await;
    again.ping_until_pong().await;
}

/// Sets a session's last use to `ago` before now.
async fn age_session(db: &sqlx::AnyPool, cookie: &str, column: &str, value: i64) {
    let hash = secrets::token_hash(token_of(cookie));
    let (p1, p2) = (common::engines::param(1), common::engines::param(2));
    let done = sqlx::query(&format!(
        "UPDATE sessions SET {column} = {p1} WHERE token_hash = {p2}"
    ))
    .bind(value)
    .bind(hash)
    .execute(db)
    .await
    .expect("updating the session");
    assert_eq!(done.rows_affected(), 1, "the session row exists");
}

const HOUR_MS: i64 = 3_600_000;

#[tokio::test]
async fn idle_or_expired_sessions_cannot_open_the_agent_socket() {
    let server = start_default().await;
    server.add_agent("Ann", false).await;
    let db = server.db().await;

    // Unused for 13 hours (idle limit 12): over.
    let idle = server.sign_in("Ann", PASSWORD).await.expect("sign in");
    let (tab, _) = server.agent(&idle, vec![]).await;
    tab.close().await;
    age_session(&db, &idle, "last_seen_at", now_ms() - 13 * HOUR_MS).await;
    assert_eq!(
        server.refused("/ws/agent", &[("Cookie", &idle)]).await,
        StatusCode::UNAUTHORIZED,
        "an idle session"
    );
    let view: ConsoleView = server
        .call("console_session", &[], Some(&idle))
        .await
        .json();
    assert_eq!(view, ConsoleView::SignedOut);

    // Past its absolute expiry, although used a moment ago: over.
    let expired = server.sign_in("Ann", PASSWORD).await.expect("sign in");
    age_session(&db, &expired, "expires_at", now_ms() - 1_000).await;
    assert_eq!(
        server.refused("/ws/agent", &[("Cookie", &expired)]).await,
        StatusCode::UNAUTHORIZED,
        "an expired session"
    );

    // The control: unused for 11 hours is still within the limit.
    let recent = server.sign_in("Ann", PASSWORD).await.expect("sign in");
    age_session(&db, &recent, "last_seen_at", now_ms() - 11 * HOUR_MS).await;
    let (mut tab, _) = server.agent(&recent, vec![]).await;
    tab.ping_until_pong().await;
}

#[tokio::test]
async fn the_idle_limit_is_configurable() {
    let server = start(with_limits(Limits {
        session_idle_hours: 1,
        ..Security::default().limits
    }))
    .await;
    server.add_agent("Ann", false).await;
    let db = server.db().await;
    let fresh = server.sign_in("Ann", PASSWORD).await.expect("sign in");
    server.agent(&fresh, vec![]).await.0.ping_until_pong().await;
    let stale = server.sign_in("Ann", PASSWORD).await.expect("sign in");
    age_session(&db, &stale, "last_seen_at", now_ms() - 2 * HOUR_MS).await;
    assert_eq!(
        server.refused("/ws/agent", &[("Cookie", &stale)]).await,
        StatusCode::UNAUTHORIZED,
        "unused for 2 hours with a 1-hour idle limit"
    );
}

// Slow (about a minute): an open socket's session is re-checked every 60 s,
// and pings every 20 s (as the console sends them) must not postpone that.
#[tokio::test]
async fn an_open_agent_socket_closes_once_its_session_expires() {
    let server = start_default().await;
    server.add_agent("Ann", false).await;
    let db = server.db().await;
    let cookie = server.sign_in("Ann", PASSWORD).await.expect("sign in");
    let (mut tab, _) = server.agent(&cookie, vec![]).await;
    age_session(&db, &cookie, "expires_at", now_ms() - 1_000).await;
    let deadline = Instant::now() + Duration::from_secs(75);
    let mut next_ping = Instant::now();
    loop {
        if Instant::now() >= next_ping {
            tab.send(&ClientMsg::Ping).await;
            next_ping += Duration::from_secs(20);
        }
        assert!(
            Instant::now() < deadline,
            "the socket of an expired session is still open after 75 s"
        );
        let wait = next_ping
            .min(deadline)
            .saturating_duration_since(Instant::now());
        match tab.next_event(wait).await {
            Event::Closed(Some(closed)) => {
                assert_eq!(closed.code, 4001);
                return;
            }
            Event::Msg(_) | Event::Timeout => {}
            other => panic!("the socket ended without 4001: {other:?}"),
        }
    }
}

#[tokio::test]
async fn disabling_or_removing_an_agent_closes_their_sockets_and_blocks_sign_in() {
    let server = start_default().await;
    let (_, admin) = server.signed_in_agent("Boss", true).await;
    let bob = server.add_agent("Bob", false).await;
    let bob_id = bob.0.to_string();
    let cookie = server.sign_in("Bob", PASSWORD).await.expect("Bob signs in");
    let (mut tab, _) = server.agent(&cookie, vec![]).await;
    let (mut boss_tab, _) = server.agent(&admin, vec![]).await;

    let info: AgentInfo = server
        .call(
            "update_agent",
            &[("id", &bob_id), ("capacity", "5"), ("disabled", "on")],
            Some(&admin),
        )
        .await
        .json();
    assert!(info.disabled);
    assert_eq!(
        tab.expect_close().await.code,
        4001,
        "Bob's open socket closes"
    );
    assert_eq!(
        server.refused("/ws/agent", &[("Cookie", &cookie)]).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.sign_in("Bob", PASSWORD).await.err(),
        Some(AppError::WrongCredentials),
        "a disabled agent cannot sign in"
    );
    boss_tab.ping_until_pong().await;

    // Enabled again, Bob may sign in (so the refusal above was the disabling).
    let info: AgentInfo = server
        .call(
            "update_agent",
            &[("id", &bob_id), ("capacity", "5")],
            Some(&admin),
        )
        .await
        .json();
    assert!(!info.disabled);
    let cookie = server
        .sign_in("Bob", PASSWORD)
        .await
        .expect("Bob signs in again");
    let (mut tab, _) = server.agent(&cookie, vec![]).await;

    // Removed: the socket closes, and the account is gone.
    let () = server
        .call("remove_agent", &[("id", &bob_id)], Some(&admin))
        .await
        .json();
    assert_eq!(
        tab.expect_close().await.code,
        4001,
        "a removed agent's socket"
    );
    assert_eq!(
        server.refused("/ws/agent", &[("Cookie", &cookie)]).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.sign_in("Bob", PASSWORD).await.err(),
        Some(AppError::WrongCredentials)
    );
    boss_tab.ping_until_pong().await;
}

// ---------------------------------------------------------------------------
// 5. Sign-in throttling
// ---------------------------------------------------------------------------

#[tokio::test]
async fn repeated_wrong_passwords_throttle_the_account_then_the_address() {
    let server = start_default().await;
    assert_eq!(Security::default().limits.signin_failures, 5);
    server.add_agent("Ann", false).await;
    server.add_agent("Bob", false).await;

    for i in 1..=5 {
        assert_eq!(
            server.sign_in("Ann", "wrong password").await.err(),
            Some(AppError::WrongCredentials),
            "wrong password #{i}"
        );
    }
    // The 6th attempt is refused before the password is even checked: the right one too.
    let retry = match server.sign_in("Ann", PASSWORD).await {
        Err(AppError::TooManyAttempts { retry_after_secs }) => retry_after_secs,
        other => panic!("the 6th attempt got {other:?}"),
    };
    assert!(retry >= 1, "retry after {retry} s");
    // Any spelling of the name, from any address.
    for (from, name) in [(None, "ann"), (Some(OTHER_ADDR), "Ann")] {
        assert!(
            matches!(
                server.sign_in_from(from, name, PASSWORD).await,
                Err(AppError::TooManyAttempts { .. })
            ),
            "{name} from {from:?}"
        );
    }
    // Another account from the same address is not affected (5 < 20 per address).
    server
        .sign_in("Bob", PASSWORD)
        .await
        .expect("Bob is not throttled");
    // The wait is temporary.
    tokio::time::sleep(Duration::from_secs(retry) + Duration::from_millis(200)).await;
    server
        .sign_in("Ann", PASSWORD)
        .await
        .expect("Ann signs in after waiting");

    // The address: 20 failures across names (5 above, 15 here), each name failing once.
    for i in 0..15 {
        let name = format!("nobody-{i}");
        assert_eq!(
            server.sign_in(&name, "guess").await.err(),
            Some(AppError::WrongCredentials),
            "{name}"
        );
    }
    // Now this address is throttled, whatever the name (right password or not)…
    assert!(
        matches!(
            server.sign_in("Bob", PASSWORD).await,
            Err(AppError::TooManyAttempts { retry_after_secs }) if retry_after_secs >= 1
        ),
        "the address is throttled after 20 failures"
    );
    // …and claiming another address in a proxy header does not help (no trusted proxy).
    let response = server
        .call_with(
            None,
            "sign_in",
            &[("name", "Bob"), ("password", PASSWORD)],
            &[("X-Forwarded-For", "203.0.113.9")],
        )
        .await;
    assert!(
        matches!(response.app_error(), AppError::TooManyAttempts { .. }),
        "{response:?}"
    );
    // Another address is not throttled.
    server
        .sign_in_from(Some(OTHER_ADDR), "Bob", PASSWORD)
        .await
        .expect("Bob signs in from another address");
}

// ---------------------------------------------------------------------------
// 6. Message rates
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_flooding_visitor_is_slowed_down_while_another_chats_undisturbed() {
    // Per-connection limits as documented; the address limit out of the way
    // (every test client comes from 127.0.0.1).
    let server = start(with_limits(Limits {
        addr_msg_burst: 100_000,
        addr_msg_rate: 100_000.0,
        ..Security::default().limits
    }))
    .await;
    let (_, mut agent, chat) = server.agent_with_chat("Ann", 5).await;
    let (mut flooder, conv_a) = (chat.visitor, chat.conversation);
    let chat = server.assigned_chat(&mut agent, "Ann").await;
    let (mut b, conv_b) = (chat.visitor, chat.conversation);

    const FLOOD: usize = 200;
    let flood = tokio::spawn(async move {
        for i in 0..FLOOD {
            let text = serde_json::to_string(&ClientMsg::Send {
                id: MessageId(format!("f-{i}")),
                conversation: None,
                text: format!("flood {i}"),
                resend: false,
            })
            .expect("serializes");
            flooder
                .ws
                .feed(Message::text(text))
                .await
                .expect("queueing a frame");
        }
        flooder.ws.flush().await.expect("sending the flood");
        // Every id gets an ack or a slow_down.
        let mut acked = Vec::new();
        let mut refused = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while acked.len() + refused.len() < FLOOD {
            let left = deadline.saturating_duration_since(Instant::now());
            match flooder.next_within(left).await {
                Some(ServerMsg::Ack { id, .. }) => acked.push(id.0),
                Some(ServerMsg::Error {
                    code: ErrorCode::SlowDown,
                    id,
                    ..
                }) => refused.push(id.expect("a refused send names its id").0),
                Some(ServerMsg::Error { code, .. }) => panic!("unexpected error {code:?}"),
                Some(_) => {}
                None => panic!(
                    "the flood got {} acks and {} refusals of {FLOOD}",
                    acked.len(),
                    refused.len()
                ),
            }
        }
        (flooder, acked, refused)
    });

    // Meanwhile B chats: every message acked and delivered.
    for i in 0..3 {
        let id = format!("b-{i}");
        b.say(&id, &format!("question {i}")).await;
        let (conv, _) = b.expect_ack(&id).await;
        assert_eq!(conv, conv_b);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (mut flooder, acked, refused) = flood.await.expect("the flood task");
    assert!(
        !refused.is_empty(),
        "200 messages at once were all accepted"
    );
    // The burst is 20 frames; the visitor's `start` took one.
    assert!(
        acked.len() >= 15,
        "the burst allowance was honoured: {} acked",
        acked.len()
    );
    assert!(
        acked.len() < 100,
        "most of the flood is refused: {} acked",
        acked.len()
    );

    // The agent got B's three messages and only the accepted ones of A's.
    let mut from_b = Vec::new();
    let mut from_a = Vec::new();
    let deadline = Instant::now() + EXPECT_TIMEOUT;
    while from_b.len() < 3 || from_a.len() < acked.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        match agent.next_within(left).await {
            Some(ServerMsg::Message { message }) if message.author == Author::Visitor => {
                if message.conversation == conv_b {
                    from_b.push(message.id.0);
                } else {
                    assert_eq!(message.conversation, conv_a);
                    from_a.push(message.id.0);
                }
            }
            Some(_) => {}
            None => panic!(
                "the agent got {from_b:?} from B and {} of {} accepted from A",
                from_a.len(),
                acked.len()
            ),
        }
    }
    assert_eq!(from_b, vec!["b-0", "b-1", "b-2"]);
    let late = agent.collect_for(QUIET).await;
    assert!(
        !late.iter().any(|m| matches!(m, ServerMsg::Message { .. })),
        "the agent got more messages: {late:#?}"
    );
    from_a.sort();
    let mut acked_sorted = acked.clone();
    acked_sorted.sort();
    assert_eq!(
        from_a, acked_sorted,
        "the agent got exactly the accepted messages"
    );

    // Refused messages were not stored.
    let stored: Vec<String> = server
        .stored(conv_a)
        .await
        .into_iter()
        .filter(|m| m.author == Author::Visitor)
        .map(|m| m.id.0)
        .collect();
    for id in &refused {
        assert!(!stored.contains(id), "refused {id} was stored");
    }
    assert_eq!(stored.len(), acked.len());

    // Slowed down, not shut out: a refused message goes through later.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let retry = &refused[0];
    flooder.say(retry, &format!("flood {}", &retry[2..])).await;
    flooder.expect_ack(retry).await;
}

#[tokio::test]
async fn connections_from_one_address_share_its_message_budget() {
    let server = start(with_limits(Limits {
        addr_msg_burst: 5,
        addr_msg_rate: 0.01,
        ..Security::default().limits
    }))
    .await;
    let (mut one, _) = server.visitor(None, vec![]).await;
    let (mut two, _) = server.visitor(None, vec![]).await;
    for i in 0..3 {
        one.say(&format!("one-{i}"), "hello").await;
        one.expect_ack(&format!("one-{i}")).await;
    }
    // Each connection is far below its own limit (20), but the address has 2 left.
    for i in 0..2 {
        two.say(&format!("two-{i}"), "hello").await;
        two.expect_ack(&format!("two-{i}")).await;
    }
    two.say("two-2", "hello").await;
    assert_eq!(
        two.expect_error(ErrorCode::SlowDown).await,
        Some(MessageId("two-2".into()))
    );
    one.say("one-3", "hello").await;
    assert_eq!(
        one.expect_error(ErrorCode::SlowDown).await,
        Some(MessageId("one-3".into()))
    );
    // Another address has its own budget.
    let mut three = server
        .upgrade("/ws/visitor", Some(OTHER_ADDR), &[])
        .await
        .expect("a socket from another address");
    three.hello_visitor(None, vec![]).await;
    three.say("three-0", "hello").await;
    three.expect_ack("three-0").await;
}

// ---------------------------------------------------------------------------
// 7. Connection and conversation caps
// ---------------------------------------------------------------------------

#[tokio::test]
async fn too_many_sockets_from_one_address_get_429() {
    let server = start(with_limits(Limits {
        max_conns_per_addr: 3,
        ..Security::default().limits
    }))
    .await;
    let (_, cookie) = server.signed_in_agent("Ann", false).await;
    let mut open = Vec::new();
    for _ in 0..2 {
        let (client, _) = server.visitor(None, vec![]).await;
        open.push(client);
    }
    let (agent, _) = server.agent(&cookie, vec![]).await;
    assert_eq!(
        server.refused("/ws/visitor", &[]).await,
        StatusCode::TOO_MANY_REQUESTS,
        "a 4th visitor socket"
    );
    assert_eq!(
        server.refused("/ws/agent", &[("Cookie", &cookie)]).await,
        StatusCode::TOO_MANY_REQUESTS,
        "a 4th socket, agent or not"
    );
    // Another address is not affected.
    let mut other = server
        .upgrade("/ws/visitor", Some(OTHER_ADDR), &[])
        .await
        .expect("a socket from another address");
    other.hello_visitor(None, vec![]).await;

    // A closed socket frees its slot.
    agent.close().await;
    let deadline = Instant::now() + EXPECT_TIMEOUT;
    let mut client = loop {
        match server.upgrade("/ws/visitor", None, &[]).await {
            Ok(client) => break client,
            Err(StatusCode::TOO_MANY_REQUESTS) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(status) => panic!("after a close, a new socket got {status}"),
        }
    };
    client.hello_visitor(None, vec![]).await;
    // Sockets that never say hello hold a slot too.
    assert_eq!(
        server.refused("/ws/visitor", &[]).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// A text frame whose payload is not UTF-8 closes the socket with 1007
/// (RFC 6455 §7.4.1), before `hello` as after it; other sockets go on.
#[tokio::test]
async fn a_text_frame_that_is_not_utf8_closes_with_1007() {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    let server = start_default().await;
    let not_utf8 = || {
        Message::Frame(Frame::message(
            b"{\"type\":\"ping\",\"x\":\"\xff\xfe\"}".to_vec(),
            OpCode::Data(Data::Text),
            true,
        ))
    };
    let (mut bystander, _) = server.visitor(None, vec![]).await;

    let mut before_hello = server
        .upgrade("/ws/visitor", None, &[])
        .await
        .expect("the upgrade is allowed");
    before_hello.ws.send(not_utf8()).await.expect("sent");
    assert_eq!(before_hello.expect_close().await.code, 1007);

    let (mut after_hello, _) = server.visitor(None, vec![]).await;
    after_hello.ping_until_pong().await;
    after_hello.ws.send(not_utf8()).await.expect("sent");
    assert_eq!(after_hello.expect_close().await.code, 1007);

    bystander.ping_until_pong().await;
}

#[tokio::test]
async fn too_many_sockets_for_one_visitor_get_closed_with_4008() {
    let server = start(with_limits(Limits {
        max_conns_per_visitor: 2,
        ..Security::default().limits
    }))
    .await;
    let (mut first, welcome) = server.visitor(None, vec![]).await;
    let token = welcome.info.token.expect("a token");
    let (mut second, _) = server.visitor(Some(token.clone()), vec![]).await;

    let mut third = server
        .upgrade("/ws/visitor", None, &[])
        .await
        .expect("the upgrade itself is allowed");
    third.hello(Some(token.clone()), vec![]).await;
    assert_eq!(third.expect_close().await.code, 4008);
    // The first two are unaffected; another visitor is too.
    first.ping_until_pong().await;
    second.ping_until_pong().await;
    let (mut stranger, _) = server.visitor(None, vec![]).await;
    stranger.ping_until_pong().await;

    // Closing one frees a slot for the visitor.
    second.close().await;
    let deadline = Instant::now() + EXPECT_TIMEOUT;
    loop {
        let mut again = server
            .upgrade("/ws/visitor", None, &[])
            .await
            .expect("an upgrade");
        again.hello(Some(token.clone()), vec![]).await;
        match again.next_event(EXPECT_TIMEOUT).await {
            Event::Msg(ServerMsg::Welcome { .. }) => {}
            other => panic!("expected a welcome, got {other:?}"),
        }
        again.send(&ClientMsg::Ping).await;
        match again.next_event(EXPECT_TIMEOUT).await {
            Event::Msg(ServerMsg::Pong) => break,
            Event::Closed(Some(closed)) if closed.code == 4008 && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            other => panic!("after a close, the visitor's new socket got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_visitor_may_start_only_so_many_conversations_per_hour() {
    let server = start(with_limits(Limits {
        max_conversations_per_hour: 2,
        ..Security::default().limits
    }))
    .await;
    let (_, cookie) = server.signed_in_agent("Ann", false).await;
    let (mut agent, _) = server.agent(&cookie, vec![]).await;
    let (mut visitor, welcome) = server.visitor(None, vec![]).await;
    let token = welcome.info.token.expect("a token");

    for _ in 0..2 {
        visitor.send(&ClientMsg::Start).await;
        let conv = visitor
            .expect_conversation("an assigned conversation", |c| {
                c.status == ConversationStatus::Assigned
            })
            .await;
        agent
            .expect_conversation("the conversation", |c| c.id == conv.id)
            .await;
        agent
            .send(&ClientMsg::Close {
                conversation: conv.id,
            })
            .await;
        visitor
            .expect_conversation("the conversation closed", |c| {
                c.id == conv.id && c.status == ConversationStatus::Closed
            })
            .await;
    }

    // The third: refused, and nothing is opened.
    visitor.send(&ClientMsg::Start).await;
    assert_eq!(visitor.expect_error(ErrorCode::SlowDown).await, None);
    // Sending a message (which would open one) is refused as well, and not stored.
    visitor.say("third", "hello again").await;
    visitor.expect_error(ErrorCode::SlowDown).await;
    let frames = visitor.collect_for(QUIET).await;
    assert!(
        !frames
            .iter()
            .any(|m| matches!(m, ServerMsg::Ack { .. } | ServerMsg::Conversation { .. })),
        "a third conversation was opened: {frames:#?}"
    );
    let frames = agent.collect_for(QUIET).await;
    assert!(
        !frames
            .iter()
            .any(|m| matches!(m, ServerMsg::Conversation { conversation } if conversation.status != ConversationStatus::Closed)),
        "the agent got a third conversation: {frames:#?}"
    );
    // The limit follows the visitor (token), not the socket.
    let (mut again, _) = server.visitor(Some(token), vec![]).await;
    again.send(&ClientMsg::Start).await;
    again.expect_error(ErrorCode::SlowDown).await;
    // Another visitor may start one.
    let (mut other, _) = server.visitor(None, vec![]).await;
    other.send(&ClientMsg::Start).await;
    other
        .expect_conversation("another visitor's conversation", |c| {
            c.status == ConversationStatus::Assigned
        })
        .await;
}

// ---------------------------------------------------------------------------
// 8. Response headers and cookies
// ---------------------------------------------------------------------------

/// The nonce in a CSP's script-src.
fn csp_nonce(csp: &str) -> &str {
    let start = csp
        .find("'nonce-")
        .unwrap_or_else(|| panic!("no nonce in {csp:?}"))
        + "'nonce-".len();
    let len = csp[start..].find('\'').expect("the nonce ends");
    &csp[start..start + len]
}

#[tokio::test]
async fn pages_carry_a_nonce_csp_and_safety_headers() {
    let server = start(Security {
        allow_origins: vec!["https://shop.example".into()],
        ..Security::default()
    })
    .await;
    let mut nonces = Vec::new();
    for path in ["/console", "/widget", "/console"] {
        let page = server.get(path).await;
        assert_eq!(page.status, 200, "{path}: {page:?}");
        assert!(
            page.header("content-type")
                .is_some_and(|c| c.starts_with("text/html")),
            "{path}: {page:?}"
        );
        let csp = page
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{path} has no Content-Security-Policy: {page:?}"));
        assert!(csp.contains("script-src 'nonce-"), "{path}: {csp}");
        assert!(
            !csp.contains("'unsafe-inline'"),
            "{path}: inline scripts are not allowed wholesale: {csp}"
        );
        assert!(csp.contains("object-src 'none'"), "{path}: {csp}");
        let nonce = csp_nonce(csp).to_owned();
        assert!(nonce.len() >= 16, "{path}: a short nonce {nonce:?}");
        // Every script the page itself carries has the nonce.
        let scripts = page.body.matches("<script").count();
        assert!(scripts > 0, "{path}: no scripts in {}", page.body);
        assert_eq!(
            page.body.matches(&format!("nonce=\"{nonce}\"")).count(),
            scripts,
            "{path}: every <script> carries this response's nonce"
        );
        if path == "/widget" {
            assert!(
                csp.contains("frame-ancestors 'self' https://shop.example"),
                "{path}: {csp}"
            );
            assert_eq!(
                page.header("x-frame-options"),
                None,
                "the widget may be framed by the allowed sites"
            );
        } else {
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert_eq!(page.header("x-frame-options"), Some("DENY"), "{path}");
        }
        assert_eq!(
            page.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert!(page.header("referrer-policy").is_some(), "{path}");
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[2], "each response has its own nonce");

    // Without allowed origins, the widget may be framed by the server's own pages only.
    let plain = start_default().await;
    let page = plain.get("/widget").await;
    let csp = page
        .header("content-security-policy")
        .expect("the widget has a CSP");
    assert!(csp.ends_with("frame-ancestors 'self'"), "{csp}");

    // Other responses carry the generic headers too.
    let response = plain.call_with(None, "agent_availability", &[], &[]).await;
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(response.header("x-frame-options"), Some("DENY"));
}

#[tokio::test]
async fn session_cookies_are_http_only_lax_and_secure_when_configured() {
    for secure in [false, true] {
        let server = start(Security {
            secure_cookies: secure,
            ..Security::default()
        })
        .await;
        server.add_agent("Ann", false).await;
        let response = server
            .call("sign_in", &[("name", "Ann"), ("password", PASSWORD)], None)
            .await;
        assert!(response.ok(), "{response:?}");
        let cookie = response.header("set-cookie").expect("a cookie is set");
        let attributes: Vec<String> = cookie
            .split(';')
            .skip(1)
            .map(|a| a.trim().to_ascii_lowercase())
            .collect();
        assert!(attributes.contains(&"httponly".into()), "{cookie}");
        assert!(attributes.contains(&"samesite=lax".into()), "{cookie}");
        assert!(attributes.contains(&"path=/".into()), "{cookie}");
        assert_eq!(
            attributes.contains(&"secure".into()),
            secure,
            "secure_cookies = {secure}: {cookie}"
        );
        assert!(
            !response.body.contains(token_of(&cookie_of(cookie))),
            "the token is only in the HttpOnly cookie, not the body"
        );
    }

    // Behind a trusted proxy, X-Forwarded-Proto: https makes the cookie Secure.
    let server = start(Security {
        trust_proxy: true,
        ..Security::default()
    })
    .await;
    server.add_agent("Ann", false).await;
    let response = server
        .call_with(
            None,
            "sign_in",
            &[("name", "Ann"), ("password", PASSWORD)],
            &[("X-Forwarded-Proto", "https")],
        )
        .await;
    let cookie = response.header("set-cookie").expect("a cookie is set");
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn behind_a_proxy_the_address_is_the_one_it_appended_not_one_the_client_forged() {
    let server = start(Security {
        trust_proxy: true,
        ..Security::default()
    })
    .await;
    server.add_agent("Ann", false).await;
    // HAProxy's `option forwardfor` adds its own header line below any the
    // client sent: the client claims 198.51.100.7, the proxy saw 203.0.113.9.
    let through_proxy = [
        ("X-Forwarded-For", "198.51.100.7"),
        ("X-Forwarded-For", "203.0.113.9"),
    ];
    for i in 0..20 {
        let name = format!("nobody-{i}");
        let response = server
            .call_with(
                None,
                "sign_in",
                &[("name", name.as_str()), ("password", "guess")],
                &through_proxy,
            )
            .await;
        assert!(
            matches!(response.app_error(), AppError::WrongCredentials),
            "{response:?}"
        );
    }
    let sign_in_from = |addr: &'static str| {
        let server = &server;
        async move {
            server
                .call_with(
                    None,
                    "sign_in",
                    &[("name", "Ann"), ("password", PASSWORD)],
                    &[("X-Forwarded-For", addr)],
                )
                .await
        }
    };
    assert!(
        matches!(
            sign_in_from("203.0.113.9").await.app_error(),
            AppError::TooManyAttempts { .. }
        ),
        "the address the proxy saw is throttled"
    );
    let forged = sign_in_from("198.51.100.7").await;
    assert_eq!(forged.status, 200, "the forged one is not: {forged:?}");
}

// ---------------------------------------------------------------------------
// 9. Log hygiene
// ---------------------------------------------------------------------------

/// A `MakeWriter` collecting everything into one buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

// A current-thread runtime: the server's tasks run on this thread, under the
// subscriber set as this thread's default.
#[tokio::test(flavor = "current_thread")]
async fn secrets_and_message_bodies_stay_out_of_the_info_log() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer({
            let captured = captured.clone();
            move || captured.clone()
        })
        .finish();
    // tracing caches per call site whether anyone listens. With a single
    // dispatcher it asks the *calling thread's* default, so a call site first
    // hit by a test running in parallel (no subscriber) would be cached as
    // "never" for everyone. A second live dispatcher makes tracing consult all
    // registered ones instead.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();

    let server = start_default().await;
    let (_, admin) = server.signed_in_agent("Boss", true).await;
    let password = "Tr0ub4dor&3-very-secret";
    let added = server
        .call(
            "add_agent",
            &[("name", "Ann"), ("password", password), ("capacity", "5")],
            Some(&admin),
        )
        .await;
    assert!(added.ok(), "{added:?}");
    let wrong = "n0t-the-Passw0rd-xyzzy";
    assert_eq!(
        server.sign_in("Ann", wrong).await.err(),
        Some(AppError::WrongCredentials)
    );
    let cookie = server.sign_in("Ann", password).await.expect("sign in");
    let (mut agent, _) = server.agent(&cookie, vec![]).await;
    let chat = server.assigned_chat(&mut agent, "Ann").await;
    let (mut visitor, token, conv) = (chat.visitor, chat.token, chat.conversation);
    let body = "my card is 4111-1111-1111-1111";
    visitor.say("v-1", body).await;
    visitor.expect_ack("v-1").await;
    agent
        .send(&ClientMsg::Send {
            id: MessageId("a-1".into()),
            conversation: Some(conv),
            text: "agent reply zebra-quokka".into(),
            resend: false,
        })
        .await;
    agent.expect_ack("a-1").await;
    let thread: Option<VisitorThread> = server
        .call("visitor_history", &[("token", &token)], None)
        .await
        .json();
    assert!(thread.is_some());
    // A refused request and a sign-out, for good measure.
    let refused = server
        .call_with(
            None,
            "sign_in",
            &[("name", "Ann"), ("password", password)],
            &[("Origin", "https://evil.example")],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert!(server.call("sign_out", &[], Some(&cookie)).await.ok());
    assert_eq!(agent.expect_close().await.code, 4001);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let log = captured.text();
    assert!(
        log.contains("a sign-in failed") && log.contains("agent added"),
        "the capture works (the server's info events are in it): {log}"
    );
    let session = token_of(&cookie);
    let admin_session = token_of(&admin);
    for (what, secret) in [
        ("the new agent's password", password),
        ("a wrong password", wrong),
        ("the session token", session),
        ("the admin's session token", admin_session),
        ("the visitor token", token.as_str()),
        ("a visitor's message", body),
        ("a card number", "4111"),
        ("an agent's message", "zebra-quokka"),
    ] {
        assert!(!log.contains(secret), "{what} is in the log:\n{log}");
    }
}
