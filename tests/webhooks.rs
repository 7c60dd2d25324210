#![cfg(feature = "ssr")]
//! Webhooks (issue 14, item 8) over the real server (on SQLite, or
//! PostgreSQL: [`common::engines`]) and a real HTTP receiver on a free
//! local port: a scripted chat's events arrive signed, once each, in order
//! per conversation; a receiver that is down gets everything when it comes
//! back; undelivered events survive a SIGKILL of the real binary; bad URLs
//! are refused with their codes.
//!
//! Run with `cargo test --features ssr --test webhooks` (on PostgreSQL:
//! `KEFU_TEST_BACKEND=postgres scripts/engines.sh run -- cargo test …`).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use kefu::error::{AppError, Invalid};
use kefu::protocol::webhooks::{DeliveryStatus, WebhookDelivery, WebhookInfo};
use kefu::protocol::{ClientMsg, ConversationId};
use kefu::server::config::Security;
use kefu::server::webhooks::Config;
use serde_json::Value;
use sha2::Sha256;

mod common;
use common::client::{upgrade_at, Client};
use common::engines::{param, raw};
use common::*;

/// Bound on waiting for deliveries.
const WAIT: Duration = Duration::from_secs(20);

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Hit {
    signature: String,
    delivery: String,
    event: String,
    body: String,
}

impl Hit {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("the body is JSON")
    }
}

/// A real HTTP receiver: records every POST to `/hook` and answers with
/// `status`; `/moved` answers a redirect to `/hook`.
#[derive(Clone)]
struct Receiver {
    hits: Arc<Mutex<Vec<Hit>>>,
    status: Arc<AtomicU16>,
    /// Requests that followed `/moved`'s redirect.
    followed: Arc<AtomicU16>,
}

impl Receiver {
    fn new() -> Self {
        Self {
            hits: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
            followed: Arc::default(),
        }
    }

    /// Serves on `addr` (a port picked earlier, or 0); returns where.
    async fn serve(&self, addr: SocketAddr) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("the receiver binds");
        let at = listener.local_addr().expect("an address");
        let app = axum::Router::new()
            .route("/hook", post(record))
            .route("/moved", post(moved))
            .route("/elsewhere", post(elsewhere))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        at
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().expect("the hits").clone()
    }

    /// Waits until `done` holds for the hits so far.
    async fn until(&self, what: &str, done: impl Fn(&[Hit]) -> bool) -> Vec<Hit> {
        let start = Instant::now();
        loop {
            let hits = self.hits();
            if done(&hits) {
                return hits;
            }
            assert!(
                start.elapsed() < WAIT,
                "{what}: not within {WAIT:?}; got {:#?}",
                hits.iter().map(|h| &h.delivery).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn record(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    r.hits.lock().expect("the hits").push(Hit {
        signature: header("x-kefu-signature"),
        delivery: header("x-kefu-delivery"),
        event: header("x-kefu-event"),
        body,
    });
    StatusCode::from_u16(r.status.load(Ordering::SeqCst)).unwrap_or(StatusCode::OK)
}

async fn moved() -> (StatusCode, [(&'static str, &'static str); 1]) {
    (StatusCode::FOUND, [("location", "/elsewhere")])
}

async fn elsewhere(State(r): State<Receiver>) -> StatusCode {
    r.followed.fetch_add(1, Ordering::SeqCst);
    StatusCode::OK
}

/// A port nobody listens on right now.
fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding an ephemeral port");
    listener.local_addr().expect("the listener has an address")
}

/// Checks `X-Kefu-Signature` as a receiver would: HMAC-SHA256 of
/// "<t>.<body>" with the webhook's secret, and a fresh `t`.
fn verify(hit: &Hit, secret: &str) {
    let (t, v1) = hit
        .signature
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
        .unwrap_or_else(|| panic!("a t=…,v1=… signature: {hit:?}"));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("a key");
    mac.update(format!("{t}.{}", hit.body).as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(v1, expected, "the signature matches: {hit:?}");
    let t: u64 = t.parse().expect("t is unix seconds");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    assert!(now.abs_diff(t) < 120, "t is now: {t} vs {now}");
}

const ALL_EVENTS: [(&str, &str); 4] = [
    ("conversation_created", "on"),
    ("message_created", "on"),
    ("conversation_closed", "on"),
    ("rating_given", "on"),
];

async fn register(server: &Server, cookie: &str, url: &str) -> WebhookInfo {
    let mut args = vec![("url", url)];
    args.extend_from_slice(&ALL_EVENTS);
    server
        .call("save_webhook", &args, Some(cookie))
        .await
        .json()
}

/// A server whose failed deliveries are retried after 200 ms (doubling).
async fn quick_server() -> Server {
    let server = start(Security::default()).await;
    server
        .state
        .webhooks
        .configure(Config {
            retry_ms: 200,
            ..Config::default()
        })
        .expect("configures");
    server
}

/// The events of `conversation`, in the order received.
fn of(hits: &[Hit], conversation: ConversationId) -> Vec<Hit> {
    hits.iter()
        .filter(|h| h.json()["data"]["conversation_id"] == conversation.0)
        .cloned()
        .collect()
}

/// A visitor's three lines, two replies, and the agent closes; then a
/// rating is stored as the ratings branch will store it.
async fn scripted_chat(server: &Server) -> ConversationId {
    let (_, mut agent, mut chat) = server.agent_with_chat("Ann", 5).await;
    let c = chat.conversation;
    for i in 1..=3 {
        chat.visitor
            .say(&format!("v{i}"), &format!("hello {i}"))
            .await;
        chat.visitor.expect_ack(&format!("v{i}")).await;
    }
    for i in 1..=2 {
        agent
            .say_in(c, &format!("a{i}"), &format!("reply {i}"))
            .await;
        agent.expect_ack(&format!("a{i}")).await;
    }
    agent.send(&ClientMsg::Close { conversation: c }).await;
    chat.visitor
        .expect_conversation("closed", |x| {
            x.id == c && x.status == kefu::protocol::ConversationStatus::Closed
        })
        .await;
    let pool = raw(&server.db_url).await;
    let sql = format!(
        "INSERT INTO ratings (conversation_id, score, comment, created_at) VALUES ({}, 5, 'great', {})",
        param(1),
        param(2)
    );
    sqlx::query(&sql)
        .bind(c.0)
        .bind(kefu::server::storage::now_ms())
        .execute(&pool)
        .await
        .expect("a rating");
    c
}

fn types(hits: &[Hit]) -> Vec<String> {
    hits.iter()
        .map(|h| h.json()["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_chat_arrives_signed_once_each_and_in_order() {
    let server = quick_server().await;
    let receiver = Receiver::new();
    let at = receiver.serve("127.0.0.1:0".parse().expect("addr")).await;
    let (_, boss) = server.signed_in_agent("Boss", true).await;
    let hook = register(&server, &boss, &format!("http://{at}/hook")).await;
    assert_eq!(hook.events.len(), 4);
    assert_eq!(hook.secret.len(), 64);

    let c = scripted_chat(&server).await;
    let hits = receiver
        .until("the chat's 7 events", |h| of(h, c).len() >= 7)
        .await;
    let mine = of(&hits, c);
    assert_eq!(
        types(&mine),
        [
            "conversation.created",
            "message.created",
            "message.created",
            "message.created",
            "message.created",
            "message.created",
            "conversation.closed",
            "rating.given"
        ][..mine.len()]
    );
    let mine = of(
        &receiver.until("the rating", |h| of(h, c).len() >= 8).await,
        c,
    );
    assert_eq!(mine.len(), 8, "nothing more: {:?}", types(&mine));
    let bodies: Vec<String> = mine
        .iter()
        .filter(|h| h.event == "message.created")
        .map(|h| {
            h.json()["data"]["body"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        bodies,
        ["hello 1", "hello 2", "hello 3", "reply 1", "reply 2"]
    );
    let seqs: Vec<i64> = mine
        .iter()
        .filter(|h| h.event == "message.created")
        .map(|h| h.json()["data"]["seq"].as_i64().unwrap_or_default())
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in seq order: {seqs:?}"
    );
    let ids: BTreeSet<&str> = mine.iter().map(|h| h.delivery.as_str()).collect();
    assert_eq!(ids.len(), mine.len(), "each event once");
    for h in &mine {
        verify(h, &hook.secret);
        let body = h.json();
        assert_eq!(body["id"], h.delivery.as_str());
        assert_eq!(body["type"], h.event.as_str());
        assert!(body["created_at"].as_i64().is_some_and(|t| t > 0), "{body}");
    }
    assert_eq!(mine[7].json()["data"]["score"], 5);

    // The console lists them, delivered.
    let listed: Vec<WebhookDelivery> = server
        .call("webhook_deliveries", &[], Some(&boss))
        .await
        .json();
    assert!(listed.len() >= 8);
    assert!(listed.iter().all(|d| d.status == DeliveryStatus::Delivered
        && d.attempts == 1
        && d.last_status == Some(200)));

    // A rotated secret signs what comes next.
    let fresh: String = server
        .call(
            "rotate_webhook_secret",
            &[("id", &hook.id.to_string())],
            Some(&boss),
        )
        .await
        .json();
    let (mut visitor_b, _) = server.visitor(None, vec![]).await;
    visitor_b.say("b1", "another").await;
    let hits = receiver
        .until("the next conversation", |h| h.len() > mine.len())
        .await;
    verify(hits.last().expect("a hit"), &fresh);
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_everything_when_it_comes_back() {
    let server = quick_server().await;
    let down = free_addr();
    let (_, boss) = server.signed_in_agent("Boss", true).await;
    register(&server, &boss, &format!("http://{down}/hook")).await;
    let c = scripted_chat(&server).await;

    // Tried and failed (nobody listens), still pending.
    let start = Instant::now();
    loop {
        let listed: Vec<WebhookDelivery> = server
            .call("webhook_deliveries", &[], Some(&boss))
            .await
            .json();
        if listed
            .iter()
            .any(|d| d.attempts >= 2 && d.last_error.as_deref() == Some("connect"))
        {
            assert!(listed.iter().all(|d| d.status == DeliveryStatus::Pending));
            break;
        }
        assert!(start.elapsed() < WAIT, "no failed tries: {listed:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let receiver = Receiver::new();
    receiver.serve(down).await;
    let hits = receiver
        .until("all 8 events", |h| of(h, c).len() >= 8)
        .await;
    let mine = of(&hits, c);
    assert_eq!(types(&mine)[0], "conversation.created");
    assert_eq!(types(&mine)[6], "conversation.closed");
    let ids: BTreeSet<&str> = mine.iter().map(|h| h.delivery.as_str()).collect();
    assert_eq!(ids.len(), mine.len(), "each event once");
    let listed: Vec<WebhookDelivery> = server
        .call("webhook_deliveries", &[], Some(&boss))
        .await
        .json();
    assert!(listed.iter().all(|d| d.status == DeliveryStatus::Delivered));
}

#[tokio::test]
async fn failing_answers_are_retried_and_redirects_are_not_followed() {
    let server = quick_server().await;
    let receiver = Receiver::new();
    receiver.status.store(500, Ordering::SeqCst);
    let at = receiver.serve("127.0.0.1:0".parse().expect("addr")).await;
    let (_, boss) = server.signed_in_agent("Boss", true).await;
    register(&server, &boss, &format!("http://{at}/hook")).await;
    let moved = register(&server, &boss, &format!("http://{at}/moved")).await;
    let (mut visitor, _) = server.visitor(None, vec![]).await;
    visitor.say("x1", "hello").await;

    // The conversation's first event fails; its message waits behind it.
    let tried = receiver.until("three tries", |h| h.len() >= 3).await;
    assert!(
        tried.iter().all(|h| h.event == "conversation.created"),
        "{tried:?}"
    );
    receiver.status.store(200, Ordering::SeqCst);
    let hits = receiver
        .until("the message after", |h| {
            h.iter().any(|h| h.event == "message.created")
        })
        .await;
    let (before, after) = hits.split_at(hits.len() - 1);
    assert!(before.len() >= 4);
    assert!(
        before
            .iter()
            .all(|h| h.delivery == "conversation.created:1"),
        "the same event id on every retry: {before:?}"
    );
    assert_eq!(after[0].delivery, "message.created:1:1");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let listed: Vec<WebhookDelivery> = server
        .call("webhook_deliveries", &[], Some(&boss))
        .await
        .json();
    let to_moved = listed
        .iter()
        .find(|d| d.webhook_id == moved.id && d.event_type == "conversation.created")
        .expect("a delivery to the redirecting URL");
    assert_eq!(to_moved.status, DeliveryStatus::Pending);
    assert_eq!(to_moved.last_error.as_deref(), Some("http_302"));
    assert_eq!(receiver.hits().len(), hits.len(), "nothing more");
    assert_eq!(
        receiver.followed.load(Ordering::SeqCst),
        0,
        "the redirect was not followed"
    );
}

#[tokio::test]
async fn bad_urls_are_refused_with_their_codes() {
    let server = quick_server().await;
    let (_, boss) = server.signed_in_agent("Boss", true).await;
    let (_, ann) = server.signed_in_agent("Ann", false).await;
    let refused = |url: String, events: &'static [(&'static str, &'static str)]| {
        let (server, boss) = (&server, &boss);
        async move {
            let mut args = vec![("url", url.as_str())];
            args.extend_from_slice(events);
            server
                .call("save_webhook", &args, Some(boss))
                .await
                .app_error()
        }
    };
    let own = server.addr;
    for url in [
        "ftp://hooks.example/",
        "javascript:alert(1)",
        "hooks.example/x",
        "https://user:pw@hooks.example/",
        "",
    ] {
        assert_eq!(
            refused(url.to_owned(), &ALL_EVENTS).await,
            AppError::Invalid(Invalid::WebhookUrl),
            "{url}"
        );
    }
    let long = format!("https://h.example/{}", "a".repeat(2000));
    assert_eq!(
        refused(long, &ALL_EVENTS).await,
        AppError::Invalid(Invalid::WebhookUrl)
    );
    for url in [
        format!("http://{own}/hook"),
        format!("http://localhost:{}/", own.port()),
        format!("http://[::1]:{}/", own.port()),
    ] {
        assert_eq!(
            refused(url.clone(), &ALL_EVENTS).await,
            AppError::Invalid(Invalid::WebhookSelf),
            "{url}"
        );
    }
    assert_eq!(
        refused("https://hooks.example/".into(), &[]).await,
        AppError::Invalid(Invalid::WebhookEvents)
    );
    let by_agent = server
        .call(
            "save_webhook",
            &[("url", "https://hooks.example/"), ALL_EVENTS[0]],
            Some(&ann),
        )
        .await
        .app_error();
    assert_eq!(by_agent, AppError::Forbidden);
    let none: Vec<WebhookInfo> = server.call("webhooks", &[], Some(&boss)).await.json();
    assert!(none.is_empty(), "nothing refused was saved: {none:?}");

    // A loopback receiver is fine until private addresses are denied; then
    // it is refused when saved and at delivery.
    let receiver = Receiver::new();
    let at = receiver.serve("127.0.0.1:0".parse().expect("addr")).await;
    register(&server, &boss, &format!("http://{at}/hook")).await;
    server
        .state
        .webhooks
        .configure(Config {
            retry_ms: 200,
            deny_private: true,
            ..Config::default()
        })
        .expect("configures");
    for url in [
        format!("http://{at}/hook"),
        "http://10.1.2.3/".into(),
        "http://169.254.169.254/".into(),
    ] {
        assert_eq!(
            refused(url.clone(), &ALL_EVENTS).await,
            AppError::Invalid(Invalid::WebhookPrivate),
            "{url}"
        );
    }
    let (mut visitor, _) = server.visitor(None, vec![]).await;
    visitor.say("x1", "hello").await;
    let start = Instant::now();
    loop {
        let listed: Vec<WebhookDelivery> = server
            .call("webhook_deliveries", &[], Some(&boss))
            .await
            .json();
        if listed
            .iter()
            .any(|d| d.last_error.as_deref() == Some("private_address"))
        {
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "not refused at delivery: {listed:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        receiver.hits().is_empty(),
        "nothing reached the private address"
    );
}

// ---------------------------------------------------------------------------
// Across a SIGKILL of the real binary
// ---------------------------------------------------------------------------

const KEFU: &str = env!("CARGO_BIN_EXE_kefu");

struct Kefu(Child);

impl Kefu {
    /// The binary serving `db` (a SQLite file's path or a PostgreSQL URL).
    fn start(dir: &Path, db: &str, addr: SocketAddr) -> Self {
        let child = Command::new(KEFU)
            .args(["--db", db])
            .args([
                "serve",
                "--addr",
                &addr.to_string(),
                "--webhook-retry-ms",
                "200",
            ])
            .env("LEPTOS_SITE_ROOT", dir.join("site"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting kefu");
        Kefu(child)
    }

    async fn ready(addr: SocketAddr) {
        let start = Instant::now();
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            assert!(start.elapsed() < WAIT, "kefu is not listening");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Kefu {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Pending deliveries in `db` (a database URL), and the most tries of one.
async fn pending_tried(db: &str) -> (i64, i64) {
    let pool = raw(db).await;
    let row: (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COALESCE(MAX(attempts), 0) FROM webhook_deliveries WHERE status = 'pending'",
    )
    .fetch_one(&pool)
    .await
    .expect("counts");
    pool.close().await;
    row
}

#[tokio::test]
async fn undelivered_events_survive_a_sigkill() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // The binary's database: a file here, or a fresh PostgreSQL database.
    let db = match common::engines::postgres_server() {
        Some(server) => common::engines::fresh_postgres(&server).await,
        None => format!("sqlite://{}", dir.path().join("kefu.db").display()),
    };
    let out = Command::new(KEFU)
        .args(["--db", &db])
        .args([
            "agent",
            "add",
            "--admin",
            "--name",
            "Boss",
            "--password",
            PASSWORD,
        ])
        .env("RUST_LOG", "warn")
        .output()
        .expect("kefu agent add");
    assert!(out.status.success(), "{out:?}");
    let addr = free_addr();
    let mut kefu = Kefu::start(dir.path(), &db, addr);
    Kefu::ready(addr).await;

    let signed = http_request(
        addr,
        None,
        "POST",
        "/api/sign_in",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json"),
        ],
        &form(&[("name", "Boss"), ("password", PASSWORD)]),
    )
    .await;
    let cookie = cookie_of(signed.header("set-cookie").expect("a session cookie"));
    let down = free_addr();
    let url = format!("http://{down}/hook");
    let mut args = vec![("url", url.as_str())];
    args.extend_from_slice(&ALL_EVENTS);
    let saved = http_request(
        addr,
        None,
        "POST",
        "/api/save_webhook",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json"),
            ("Cookie", &cookie),
        ],
        &form(&args),
    )
    .await;
    let hook: WebhookInfo = saved.json();

    // A visitor writes three lines (queued: no agent online).
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let mut visitor: Client = upgrade_at(addr, stream, "/ws/visitor", &[])
        .await
        .expect("upgrades")
        .named("visitor");
    visitor.hello(None, vec![]).await;
    let mut c = None;
    for i in 1..=3 {
        visitor.say(&format!("v{i}"), &format!("line {i}")).await;
        c = Some(visitor.expect_ack(&format!("v{i}")).await.0);
    }
    let c = c.expect("a conversation");
    // Every event is derived and tried at least once, then kefu dies.
    let start = Instant::now();
    loop {
        let (pending, tries) = pending_tried(&db).await;
        if pending >= 4 && tries >= 1 {
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "not tried: {pending} pending, {tries} tries"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    kefu.0.kill().expect("SIGKILL");
    kefu.0.wait().expect("reaped");
    drop(visitor);

    let receiver = Receiver::new();
    receiver.serve(down).await;
    let _kefu = Kefu::start(dir.path(), &db, addr);
    Kefu::ready(addr).await;
    receiver
        .until("the 4 events", |h| of(h, c).len() >= 4)
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let hits = receiver.hits();
    assert_eq!(
        types(&of(&hits, c)),
        [
            "conversation.created",
            "message.created",
            "message.created",
            "message.created"
        ]
    );
    // The receiver was down until the restart: any repeat would be a bug.
    let ids: BTreeSet<&str> = hits.iter().map(|h| h.delivery.as_str()).collect();
    assert_eq!(ids.len(), hits.len(), "no event id twice");
    for h in &hits {
        verify(h, &hook.secret);
    }
}
