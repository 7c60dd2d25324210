#![cfg(feature = "ssr")]
//! Running kefu as a service, against the real binary over real sockets:
//! health and readiness (503 while draining), `/metrics` after a scripted
//! chat, JSON logs with connection ids and no secrets, and `kefu backup`
//! taken in the middle of a burst, then restored.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use kefu::protocol::{ClientMsg, ConversationStatus, ErrorCode, MessageId, ServerMsg};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

mod common;
use common::process::{add_agent, free_addr, kefu_cli, Kefu};
use common::{parse_response, HttpResponse, PASSWORD};

/// Environment lifting the abuse limits (the burst is a script, not a person).
const UNLIMITED: &[(&str, &str)] = &[
    ("RUST_LOG", "info"),
    ("KEFU_MSG_BURST", "1000000"),
    ("KEFU_MSG_RATE", "1000000"),
    ("KEFU_ADDR_MSG_BURST", "1000000"),
    ("KEFU_ADDR_MSG_RATE", "1000000"),
];

fn db_in(dir: &TempDir) -> std::path::PathBuf {
    dir.path().join("kefu.db")
}

/// `GET path` that reports a refused or cut connection as `None` instead of failing.
async fn try_get(addr: std::net::SocketAddr, path: &str) -> Option<HttpResponse> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut raw))
        .await
        .ok()?
        .ok()?;
    (!raw.is_empty()).then(|| parse_response(&raw))
}

#[tokio::test]
async fn readyz_turns_503_from_sigterm_while_sockets_drain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut kefu = Kefu::start(dir.path(), &db_in(&dir), &[], &[], &[("RUST_LOG", "info")]).await;

    let health = kefu.get("/healthz", &[]).await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));
    let ready = kefu.get("/readyz", &[]).await;
    assert_eq!((ready.status, ready.body.as_str()), (200, "ready"));
    // Metrics are off by default: nothing on the public listener.
    assert_eq!(kefu.get("/metrics", &[]).await.status, 404);

    // A socket that never answers the server's close keeps the drain going
    // (the server waits for its close frame, bounded).
    let (visitor, _) = kefu.visitor().await;
    kefu.sigterm();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = Vec::new();
    let not_ready = loop {
        assert!(
            Instant::now() < deadline,
            "no 503 from /readyz within 5 s of SIGTERM; answers: {seen:?}; log:\n{}",
            kefu.log()
        );
        let answer = match try_get(kefu.addr, "/readyz").await {
            Some(r) if r.status == 503 => break r,
            Some(r) => r.status.to_string(),
            None => "refused".to_owned(),
        };
        if seen.last() != Some(&answer) {
            seen.push(answer);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(not_ready.body, "not ready", "reveals nothing else");
    // Still serving while draining: alive, only not ready.
    let alive = try_get(kefu.addr, "/healthz")
        .await
        .expect("the listener answers while sockets drain");
    assert_eq!(alive.status, 200);
    drop(visitor);
    let end = Instant::now() + Duration::from_secs(15);
    while !kefu.exited() {
        assert!(Instant::now() < end, "kefu did not exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Prometheus' text format as `name{labels}` → value (comments skipped).
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.to_owned(), f64::from_str(value).ok()?))
        })
        .collect()
}

fn value(samples: &BTreeMap<String, f64>, name: &str) -> f64 {
    *samples
        .get(name)
        .unwrap_or_else(|| panic!("no sample {name} in {samples:#?}"))
}

#[tokio::test]
async fn metrics_count_a_scripted_chat() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = db_in(&dir);
    add_agent(&db, "Ann").await;
    let token = "scrape-token-0123456789";
    let metrics_addr = free_addr();
    let mut kefu = Kefu::start(
        dir.path(),
        &db,
        &[],
        &[
            "--metrics-addr",
            &metrics_addr.to_string(),
            "--metrics-token",
            token,
        ],
        &[("RUST_LOG", "info")],
    )
    .await;
    kefu.wait_listening(metrics_addr).await;
    let bearer = format!("Bearer {token}");
    let auth = [("Authorization", bearer.as_str())];

    // Never open on the public listener: the token or 401.
    assert_eq!(kefu.get("/metrics", &[]).await.status, 401);
    let wrong = [("Authorization", "Bearer scrape-token-9876543210")];
    assert_eq!(kefu.get("/metrics", &wrong).await.status, 401);
    assert_eq!(kefu.get("/metrics", &auth).await.status, 200);

    // One failed sign-in, then Ann online.
    assert_ne!(kefu.sign_in("Ann", "not the password").await.status, 200);
    let cookie = kefu.cookie("Ann").await;
    let (mut agent, _) = kefu.agent(&cookie).await;
    // A visitor writes three times; Ann answers once.
    let (mut visitor, _) = kefu.visitor().await;
    visitor.say("v1", "hello").await;
    let (conversation, _) = visitor.expect_ack("v1").await;
    agent
        .expect_conversation("the new conversation", |c| {
            c.id == conversation && c.status == ConversationStatus::Assigned
        })
        .await;
    visitor.say("v2", "anyone there?").await;
    visitor.expect_ack("v2").await;
    agent
        .say_in(conversation, "a1", "yes, how can I help")
        .await;
    agent.expect_ack("a1").await;
    visitor.say("v3", "thanks").await;
    visitor.expect_ack("v3").await;
    // A frame that is not a kefu message is refused, and counted by reason.
    visitor.send_raw("not json".into()).await;
    visitor.expect_error(ErrorCode::BadFrame).await;

    // The private listener asks for the token too, once one is set.
    let private = common::http_request(metrics_addr, None, "GET", "/metrics", &[], "").await;
    assert_eq!(private.status, 401);
    let scrape = common::http_request(metrics_addr, None, "GET", "/metrics", &auth, "").await;
    assert_eq!(scrape.status, 200, "{scrape:?}");
    let public = kefu.get("/metrics", &auth).await;
    assert!(public
        .header("content-type")
        .unwrap_or("")
        .starts_with("text/plain"));
    let s = samples(&scrape.body);
    assert_eq!(value(&s, r#"kefu_messages_stored_total{kind="chat"}"#), 4.0);
    assert!(value(&s, r#"kefu_messages_stored_total{kind="system"}"#) >= 1.0);
    assert_eq!(value(&s, r#"kefu_sockets{role="visitor"}"#), 1.0);
    assert_eq!(value(&s, r#"kefu_sockets{role="agent"}"#), 1.0);
    assert_eq!(value(&s, r#"kefu_agents{status="online"}"#), 1.0);
    assert_eq!(value(&s, r#"kefu_agents{status="away"}"#), 0.0);
    assert_eq!(value(&s, "kefu_conversations_open"), 1.0);
    assert_eq!(value(&s, "kefu_conversations_queued"), 0.0);
    assert_eq!(
        value(&s, r#"kefu_frames_refused_total{reason="bad_frame"}"#),
        1.0
    );
    assert_eq!(value(&s, "kefu_signin_failures_total"), 1.0);
    assert_eq!(value(&s, "kefu_first_response_seconds_count"), 1.0);
    assert!(value(&s, r#"kefu_first_response_seconds_bucket{le="+Inf"}"#) == 1.0);
    let batches = value(&s, "kefu_writer_batch_size_count");
    assert!(batches >= 1.0, "batches: {batches}");
    // Every message stored went through a batch.
    assert!(value(&s, "kefu_writer_batch_size_sum") >= 4.0);
    assert_eq!(value(&s, "kefu_writer_commit_seconds_count"), batches);
    drop((visitor, agent));
    drop(kefu);
}

#[tokio::test]
async fn json_logs_carry_connection_ids_and_no_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = db_in(&dir);
    add_agent(&db, "Ann").await;
    let kefu = Kefu::start(
        dir.path(),
        &db,
        &["--log-format", "json"],
        &[],
        // (as a release build has it: else Leptos prints a warning that is not JSON)
        &[("RUST_LOG", "info"), ("LEPTOS_OUTPUT_NAME", "kefu")],
    )
    .await;
    let wrong_password = "Wrong-Password-4b9e";
    assert_ne!(kefu.sign_in("Ann", wrong_password).await.status, 200);
    let cookie = kefu.cookie("Ann").await;
    let (mut agent, _) = kefu.agent(&cookie).await;
    let (mut visitor, welcome) = kefu.visitor().await;
    let visitor_token = welcome.info.token.clone().expect("a new visitor's token");
    let body = "my order number is 5531-secret-body";
    visitor.say("v1", body).await;
    let (conversation, _) = visitor.expect_ack("v1").await;
    agent
        .expect_conversation("the new conversation", |c| {
            c.id == conversation && c.status == ConversationStatus::Assigned
        })
        .await;
    let reply = "a reply body 9af0 nobody logs";
    agent.say_in(conversation, "a1", reply).await;
    agent.expect_ack("a1").await;
    visitor.close().await;
    agent.close().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(kefu);

    let log = std::fs::read_to_string(dir.path().join("server.log")).expect("the log");
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty());
    let conn_of = |line: &serde_json::Value, span: &str| {
        (line["span"]["name"] == span)
            .then(|| line["span"]["conn"].as_u64())
            .flatten()
    };
    let socket_conns: BTreeSet<u64> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "socket opened")
        .filter_map(|l| conn_of(l, "socket"))
        .collect();
    assert!(
        socket_conns.len() >= 2,
        "socket lines with a conn id: {log}"
    );
    let roles: BTreeSet<&str> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "socket closed")
        .filter_map(|l| l["span"]["role"].as_str())
        .collect();
    assert_eq!(roles, BTreeSet::from(["agent", "visitor"]), "{log}");
    assert!(
        lines.iter().any(
            |l| l["fields"]["message"] == "a sign-in failed" && conn_of(l, "request").is_some()
        ),
        "the failed sign-in's line carries its request's conn id: {log}"
    );
    let session = cookie.split('=').nth(1).expect("cookie value");
    for secret in [
        body,
        reply,
        PASSWORD,
        wrong_password,
        &visitor_token,
        session,
    ] {
        assert!(!log.contains(secret), "{secret:?} is in the log:\n{log}");
    }
}

/// Reads `ack`s from a visitor's socket into `acked` until `want` of them.
async fn read_acks<S>(mut rx: S, acked: Arc<Mutex<BTreeSet<String>>>, want: usize)
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    while let Some(Ok(frame)) = rx.next().await {
        if let Message::Text(text) = frame {
            if let Ok(ServerMsg::Ack { id, .. }) = serde_json::from_str::<ServerMsg>(&text) {
                let mut set = acked.lock().expect("lock");
                set.insert(id.0);
                if set.len() >= want {
                    return;
                }
            }
        }
    }
}

async fn stored_ids(db: &Path) -> BTreeSet<String> {
    let mut conn = SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await
        .expect("opening the copy");
    let ids: Vec<String> = sqlx::query_scalar("SELECT client_id FROM messages")
        .fetch_all(&mut conn)
        .await
        .expect("reading messages");
    conn.close().await.expect("closing");
    ids.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_mid_burst_restores_every_acknowledged_message() {
    const BURST: usize = 1500;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = db_in(&dir);
    add_agent(&db, "Ann").await;
    let kefu = Kefu::start(dir.path(), &db, &[], &[], UNLIMITED).await;
    let cookie = kefu.cookie("Ann").await;
    let (_agent, _) = kefu.agent(&cookie).await;
    let (mut visitor, _) = kefu.visitor().await;
    visitor.say("first", "hello").await;
    visitor.expect_ack("first").await;

    let (mut tx, rx) = visitor.ws.split();
    let acked = Arc::new(Mutex::new(BTreeSet::from(["first".to_owned()])));
    let reader = tokio::spawn(read_acks(rx, acked.clone(), BURST + 1));
    let sender = tokio::spawn(async move {
        for i in 0..BURST {
            let msg = ClientMsg::Send {
                id: MessageId(format!("m{i}")),
                conversation: None,
                text: format!("burst message {i}"),
                resend: false,
            };
            let text = serde_json::to_string(&msg).expect("serializes");
            tx.send(Message::text(text)).await.expect("sending");
            if i % 10 == 9 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        tx
    });
    // Mid-burst: once some are acknowledged, note which, and back up from another process.
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.lock().expect("lock").len() < 200 {
        assert!(Instant::now() < deadline, "the burst stalled");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let before: BTreeSet<String> = acked.lock().expect("lock").clone();
    let copy = dir.path().join("backup.db");
    let out = kefu_cli(&db, &["backup", copy.to_str().expect("utf-8")]).await;
    assert!(out.status.success(), "kefu backup failed: {out:?}");
    let acked_after_backup = acked.lock().expect("lock").len();
    let _tx = sender.await.expect("the sender ends");
    tokio::time::timeout(Duration::from_secs(30), reader)
        .await
        .expect("every message acknowledged")
        .expect("the reader ends");
    assert!(
        acked_after_backup < BURST + 1,
        "the backup ran during the burst ({acked_after_backup} of {} acked when it ended)",
        BURST + 1
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("backed up"), "{printed}");

    // Never overwrites, and says why.
    let again = kefu_cli(&db, &["backup", copy.to_str().expect("utf-8")]).await;
    assert!(!again.status.success());
    let why = String::from_utf8_lossy(&again.stderr);
    assert!(why.contains("exists already"), "{why}");

    // Restore as docs/OPERATIONS.md says: the copy becomes a server's database.
    let restored_dir = tempfile::tempdir().expect("tempdir");
    let restored = restored_dir.path().join("kefu.db");
    std::fs::copy(&copy, &restored).expect("copying the backup into place");
    let stored = stored_ids(&restored).await;
    let lost: Vec<&String> = before.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "acknowledged before the backup, missing from it: {lost:?}"
    );
    let server = Kefu::start(restored_dir.path(), &restored, &[], &[], UNLIMITED).await;
    assert_eq!(server.get("/readyz", &[]).await.status, 200);
    let cookie = server.cookie("Ann").await;
    let (_agent, welcome) = server.agent(&cookie).await;
    assert_eq!(
        welcome.serves().len(),
        1,
        "the conversation is back, still open"
    );
    drop(server);
    drop(kefu);
}
