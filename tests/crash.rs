#![cfg(feature = "ssr")]
//! Crash tests against the real `kefu` binary, run as a child process on a
//! temporary database: an agent and eight visitors chat over real sockets,
//! the visitors send a pipelined burst, and the server is killed (SIGKILL)
//! or stopped (SIGTERM) in the middle of it. After a restart the clients do
//! what the bundled client does (reconnect with `resume`, resend every
//! message not acknowledged, same ids), and the tests check that nothing
//! acknowledged was lost and nothing is stored or delivered twice.
//!
//! Run with `cargo test --features ssr --test crash -- --nocapture` to see the figures.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{SinkExt, Stream, StreamExt};
use kefu::protocol::{
    Author, ChatMessage, ClientMsg, ConversationId, ConversationStatus, MessageId, Resume,
    ServerMsg, SystemEvent, VisitorInfo,
};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

mod common;
use common::client::{upgrade_at, Client, Ws};
use common::{cookie_of, form, http_request, PASSWORD};

// ---------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------

/// The binary under test, built by Cargo for this test.
const KEFU: &str = env!("CARGO_BIN_EXE_kefu");
/// Visitor sockets, one conversation each.
const VISITORS: usize = 8;
/// Messages each visitor sends.
const PER_VISITOR: usize = 150;
/// The server is stopped once this many messages are acknowledged in all (or
/// delivered to the agent, whichever comes first).
const STOP_AFTER: usize = 400;
/// Bound on any single wait for a frame or a step.
const STEP: Duration = Duration::from_secs(10);
/// Bound on a socket's whole life in one phase of the test.
const PHASE: Duration = Duration::from_secs(25);
/// How long SIGTERM may take to end the process.
const TERM_EXIT: Duration = Duration::from_secs(15);
/// How long "nothing more arrives" checks listen.
const QUIET: Duration = Duration::from_millis(300);
/// Environment for `kefu serve` lifting the rate and connection limits.
const UNLIMITED: &[(&str, &str)] = &[
    ("KEFU_MSG_BURST", "1000000"),
    ("KEFU_MSG_RATE", "1000000"),
    ("KEFU_ADDR_MSG_BURST", "1000000"),
    ("KEFU_ADDR_MSG_RATE", "1000000"),
    ("KEFU_MAX_CONNS_PER_ADDR", "100000"),
    ("KEFU_MAX_CONNS_PER_VISITOR", "100000"),
    ("KEFU_MAX_CONVERSATIONS_PER_HOUR", "100000"),
];
/// Receive buffer of a slow visitor's socket (the kernel may round it up).
const SMALL_RECV_BUFFER: u32 = 4096;
/// A slow visitor pauses this long after every [`SLOW_EVERY`] frames.
const SLOW_PAUSE: Duration = Duration::from_millis(10);
/// See [`SLOW_PAUSE`].
const SLOW_EVERY: usize = 2;

type Conv = ConversationId;

// ---------------------------------------------------------------------------
// The server process
// ---------------------------------------------------------------------------

/// A running `kefu serve`; killed when dropped, so a failing test never leaves it behind.
struct Kefu {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Kefu {
    /// Starts `kefu --db <db> serve --addr <addr> --grace-secs 60`, output to `<dir>/server.log`.
    fn start(dir: &Path, db: &Path, addr: SocketAddr) -> Self {
        let log = dir.join("server.log");
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("opening the server log");
        let err = out.try_clone().expect("cloning the log handle");
        let child = Command::new(KEFU)
            .arg("--db")
            .arg(db)
            .arg("serve")
            .arg("--addr")
            .arg(addr.to_string())
            .arg("--grace-secs")
            .arg("60")
            .env("LEPTOS_SITE_ROOT", dir.join("site"))
            .env("RUST_LOG", "warn")
            // The burst is far above the abuse limits meant for people typing
            // (environment rather than flags: a build without them ignores these).
            .envs(UNLIMITED.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {KEFU}: {e}"));
        Kefu { child, addr, log }
    }

    /// What the server printed so far (all runs).
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_else(|e| format!("(no log: {e})"))
    }

    /// Waits until the port accepts connections.
    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + STEP;
        loop {
            if let Some(status) = self.child.try_wait().expect("polling the server process") {
                panic!(
                    "kefu exited with {status} before listening on {}; log:\n{}",
                    self.addr,
                    self.log()
                );
            }
            if TcpStream::connect(self.addr).await.is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "kefu is not listening on {} after {STEP:?}; log:\n{}",
                self.addr,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reaps the process.
    fn sigkill(&mut self) {
        self.child.kill().expect("killing the server");
        self.child.wait().expect("reaping the server");
    }

    /// SIGTERM through `kill(1)`.
    fn sigterm(&self) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("running kill -TERM");
        assert!(status.success(), "kill -TERM failed: {status}");
    }

    /// Waits for the process to end by itself, at most `max`.
    async fn wait_exit(&mut self, max: Duration) -> (ExitStatus, Duration) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("polling the server process") {
                return (status, start.elapsed());
            }
            assert!(
                start.elapsed() < max,
                "kefu still runs {max:?} after SIGTERM; log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Kefu {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A port nobody listens on right now.
fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding an ephemeral port");
    listener.local_addr().expect("the listener has an address")
}

/// `kefu --db <db> agent add --name Ann --password … --capacity 100`.
async fn add_agent(db: PathBuf) {
    let output = tokio::task::spawn_blocking(move || {
        Command::new(KEFU)
            .arg("--db")
            .arg(&db)
            .args(["agent", "add", "--name", "Ann", "--password", PASSWORD])
            .args(["--capacity", "100"])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
    })
    .await
    .expect("the blocking task runs")
    .expect("running kefu agent add");
    assert!(
        output.status.success(),
        "kefu agent add failed ({}):\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Signs Ann in over HTTP; returns `kefu_session=<token>` for the Cookie header.
async fn sign_in(addr: SocketAddr) -> String {
    let response = http_request(
        addr,
        None,
        "POST",
        "/api/sign_in",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json"),
        ],
        &form(&[("name", "Ann"), ("password", PASSWORD)]),
    )
    .await;
    assert_eq!(
        response.status, 200,
        "sign_in refused: headers {:?}, body {:?}",
        response.headers, response.body
    );
    let set_cookie = response.header("set-cookie").unwrap_or_else(|| {
        panic!(
            "sign_in set no kefu_session cookie: headers {:?}",
            response.headers
        )
    });
    cookie_of(set_cookie)
}

// ---------------------------------------------------------------------------
// WebSocket helpers
// ---------------------------------------------------------------------------

/// One thing read from a socket.
enum Recv {
    Msg(ServerMsg),
    /// A close frame, with its code.
    Close(Option<u16>),
    /// The socket ended (cleanly or not), with how.
    End(String),
    Timeout,
}

async fn recv<S>(stream: &mut S, who: &str, deadline: tokio::time::Instant) -> Recv
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => return Recv::Timeout,
            Ok(None) => return Recv::End("ended".into()),
            Ok(Some(Err(e))) => return Recv::End(e.to_string()),
            Ok(Some(Ok(Message::Text(text)))) => {
                return Recv::Msg(serde_json::from_str(&text).unwrap_or_else(|e| {
                    panic!("{who}: the server sent a bad frame {text:?}: {e}")
                }))
            }
            Ok(Some(Ok(Message::Close(frame)))) => {
                return Recv::Close(frame.map(|f| u16::from(f.code)))
            }
            Ok(Some(Ok(Message::Binary(_)))) => panic!("{who}: the server sent a binary frame"),
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// Reads until `pick` accepts a message; fails the test after [`STEP`],
/// printing the frames skipped meanwhile.
async fn expect<S, T>(
    stream: &mut S,
    who: &str,
    what: &str,
    mut pick: impl FnMut(&ServerMsg) -> Option<T>,
) -> T
where
    S: Stream<Item = Result<Message, WsError>> + Unpin,
{
    let deadline = tokio::time::Instant::now() + STEP;
    let mut skipped = Vec::new();
    loop {
        match recv(stream, who, deadline).await {
            Recv::Msg(msg) => match pick(&msg) {
                Some(found) => return found,
                None => skipped.push(msg),
            },
            Recv::Close(code) => {
                panic!("{who}: closed ({code:?}) while waiting for {what}; skipped: {skipped:#?}")
            }
            Recv::End(how) => {
                panic!("{who}: socket {how} while waiting for {what}; skipped: {skipped:#?}")
            }
            Recv::Timeout => {
                panic!("{who}: timed out after {STEP:?} waiting for {what}; skipped: {skipped:#?}")
            }
        }
    }
}

/// Upgrades `path` over the TCP connection `connect` makes, within [`STEP`];
/// the client waits [`STEP`] for each frame.
async fn open_socket(
    addr: SocketAddr,
    who: &str,
    connect: impl Future<Output = std::io::Result<TcpStream>>,
    path: &str,
    headers: &[(&str, &str)],
) -> Client {
    let open = async {
        let stream = connect.await?;
        Ok::<_, std::io::Error>(upgrade_at(addr, stream, path, headers).await)
    };
    tokio::time::timeout(STEP, open)
        .await
        .unwrap_or_else(|_| panic!("{who}: connecting timed out"))
        .unwrap_or_else(|e| panic!("{who}: the {path} socket does not connect: {e}"))
        .unwrap_or_else(|status| panic!("{who}: the {path} socket was refused: {status}"))
        .named(who)
        .with_patience(STEP)
}

/// Opens `/ws/visitor` and says hello; the client waits [`STEP`] for each
/// frame. With `small_buffer`, the socket's receive buffer is tiny, so a
/// slow reader leaves frames waiting on the server.
async fn connect_visitor(
    addr: SocketAddr,
    who: &str,
    token: Option<String>,
    resume: Vec<Resume>,
    small_buffer: bool,
) -> (Client, VisitorInfo) {
    let connect = async {
        let socket = tokio::net::TcpSocket::new_v4()?;
        if small_buffer {
            socket.set_recv_buffer_size(SMALL_RECV_BUFFER)?;
        }
        socket.connect(addr).await
    };
    let mut client = open_socket(addr, who, connect, "/ws/visitor", &[]).await;
    client.hello(token, resume).await;
    let info = client
        .expect_map("the welcome", |m| match m {
            ServerMsg::Welcome {
                visitor: Some(info),
                ..
            } => Some(info.clone()),
            _ => None,
        })
        .await;
    (client, info)
}

/// Opens `/ws/agent` with `cookie` and says hello: the socket, and the
/// conversations the welcome listed, sorted.
async fn connect_agent(
    addr: SocketAddr,
    who: &str,
    cookie: &str,
    resume: Vec<Resume>,
) -> (Ws, Vec<Conv>) {
    let connect = TcpStream::connect(addr);
    let mut client = open_socket(addr, who, connect, "/ws/agent", &[("Cookie", cookie)]).await;
    client.hello(None, resume).await;
    let mut convs = client
        .expect_map("the welcome", |m| match m {
            ServerMsg::Welcome {
                agent: Some(_),
                conversations,
                ..
            } => Some(conversations.clone().unwrap_or_default()),
            _ => None,
        })
        .await;
    convs.sort();
    (client.ws, convs)
}

/// Records `message`'s id under its seq in `seen`; a seq delivered twice
/// fails the test.
fn record_once(seen: &mut BTreeMap<i64, String>, who: &str, message: &ChatMessage) {
    if let Some(old) = seen.insert(message.seq, message.id.0.clone()) {
        panic!(
            "{who}: seq {} delivered twice ({old}, {message:?})",
            message.seq
        );
    }
}

fn message_text(id: &str) -> String {
    format!("crash test message {id}")
}

/// The highest seq `n` such that every seq in 1..=n is in `held`.
fn contiguous(held: &BTreeSet<i64>) -> i64 {
    let mut n = 0;
    while held.contains(&(n + 1)) {
        n += 1;
    }
    n
}

// ---------------------------------------------------------------------------
// The clients' side of the story
// ---------------------------------------------------------------------------

/// One visitor: identity and the messages it means to send, in order.
#[derive(Clone)]
struct VisitorPlan {
    who: String,
    token: String,
    label: String,
    conv: Conv,
    ids: Vec<String>,
}

/// What a visitor knew when its socket ended.
struct VisitorBefore {
    /// Messages written (or attempted) before the socket failed.
    attempted: usize,
    /// id → seq.
    acks: BTreeMap<String, i64>,
    /// seq → id of every message frame received (the assignment and its own echoes).
    seen: BTreeMap<i64, String>,
    close: Option<u16>,
    end: String,
}

/// Sends the whole plan pipelined, reading acks and echoes meanwhile, until
/// the socket ends (the server goes away in the middle).
async fn visitor_burst(
    ws: Ws,
    plan: VisitorPlan,
    seen: BTreeMap<i64, String>,
    acked: Arc<AtomicUsize>,
    enough: Arc<Notify>,
    slow: bool,
) -> VisitorBefore {
    let who = plan.who.as_str();
    let (mut sink, mut stream) = ws.split();
    let writer = async {
        let mut attempted = 0;
        for id in &plan.ids {
            let msg = ClientMsg::Send {
                id: MessageId(id.clone()),
                conversation: None,
                text: message_text(id),
                resend: false,
            };
            let text = serde_json::to_string(&msg).expect("a client message serializes");
            // Counted before the write: a failed write may still have reached the server.
            attempted += 1;
            if sink.send(Message::text(text)).await.is_err() {
                break;
            }
        }
        attempted
    };
    let reader = async {
        let mut acks = BTreeMap::new();
        let mut seen = seen;
        let mut close = None;
        let mut frames = 0;
        let deadline = tokio::time::Instant::now() + PHASE;
        let end = loop {
            let next = recv(&mut stream, who, deadline).await;
            if slow && matches!(next, Recv::Msg(_)) {
                frames += 1;
                if frames % SLOW_EVERY == 0 {
                    tokio::time::sleep(SLOW_PAUSE).await;
                }
            }
            match next {
                Recv::Msg(ServerMsg::Ack {
                    id,
                    conversation,
                    seq,
                }) => {
                    assert_eq!(
                        conversation, plan.conv,
                        "{who}: ack for another conversation"
                    );
                    if acks.insert(id.0.clone(), seq).is_some() {
                        panic!("{who}: {} acknowledged twice", id.0);
                    }
                    if acked.fetch_add(1, Ordering::SeqCst) + 1 == STOP_AFTER {
                        enough.notify_one();
                    }
                }
                Recv::Msg(ServerMsg::Message { message }) => {
                    assert_eq!(message.conversation, plan.conv, "{who}: {message:?}");
                    record_once(&mut seen, who, &message);
                }
                Recv::Msg(ServerMsg::Error { code, message, id }) => {
                    panic!("{who}: error {code:?} for {id:?}: {message}")
                }
                Recv::Msg(_) => {}
                Recv::Close(code) => close = code,
                Recv::End(how) => break how,
                Recv::Timeout => break format!("still open after {PHASE:?}"),
            }
        };
        (acks, seen, close, end)
    };
    let (attempted, (acks, seen, close, end)) = futures::join!(writer, reader);
    VisitorBefore {
        attempted,
        acks,
        seen,
        close,
        end,
    }
}

/// What the agent saw until its socket ended.
struct AgentBefore {
    /// conversation → seq → id.
    seen: BTreeMap<Conv, BTreeMap<i64, String>>,
    close: Option<u16>,
    end: String,
}

/// Listens on the agent socket until it ends; `delivered` counts the
/// visitors' messages as they arrive (a close view of what the server stored).
async fn agent_listen(mut ws: Ws, delivered: Arc<AtomicUsize>, enough: Arc<Notify>) -> AgentBefore {
    let who = "agent";
    let mut seen: BTreeMap<Conv, BTreeMap<i64, String>> = BTreeMap::new();
    let mut close = None;
    let deadline = tokio::time::Instant::now() + PHASE;
    let end = loop {
        match recv(&mut ws, who, deadline).await {
            Recv::Msg(ServerMsg::Message { message }) => {
                let conv = seen.entry(message.conversation).or_default();
                if let Some((&last, _)) = conv.last_key_value() {
                    assert!(
                        message.seq > last,
                        "{who}: in {:?}, seq {} arrived after seq {last}",
                        message.conversation,
                        message.seq
                    );
                }
                record_once(conv, who, &message);
                if message.author == Author::Visitor
                    && delivered.fetch_add(1, Ordering::SeqCst) + 1 == STOP_AFTER
                {
                    enough.notify_one();
                }
            }
            Recv::Msg(_) => {}
            Recv::Close(code) => close = code,
            Recv::End(how) => break how,
            Recv::Timeout => break format!("still open after {PHASE:?}"),
        }
    };
    AgentBefore { seen, close, end }
}

/// What a visitor got after the restart.
struct VisitorAfter {
    resumed_after: i64,
    /// The conversation's last seq in the summary after reconnecting.
    last_at_resume: i64,
    /// seq → id replayed on resume.
    replay: Vec<(i64, String)>,
    resent: usize,
    /// Resends that were stored already (acked without a new echo).
    already_stored: usize,
    /// id → seq, for the resends.
    acks: BTreeMap<String, i64>,
    /// seq → id of the echoes of the resends.
    echoes: BTreeMap<i64, String>,
}

/// Reconnects like the bundled client: hello with the token and resume after
/// the highest seq held, then resends every message not acknowledged, in order.
async fn visitor_resume(
    addr: SocketAddr,
    plan: VisitorPlan,
    before: &VisitorBefore,
) -> VisitorAfter {
    let who = format!("{} (after restart)", plan.who);
    let who = who.as_str();
    let held: BTreeSet<i64> = before
        .seen
        .keys()
        .copied()
        .chain(before.acks.values().copied())
        .collect();
    let after = contiguous(&held);
    assert_eq!(
        held.len() as i64,
        after,
        "{who}: what the visitor held before is not gapless: {held:?}"
    );
    let (client, info) = connect_visitor(
        addr,
        who,
        Some(plan.token.clone()),
        vec![Resume {
            conversation: plan.conv,
            after,
        }],
        false,
    )
    .await;
    let mut ws = client.ws;
    assert_eq!(info.label, plan.label, "{who}: the same visitor");
    assert_eq!(info.token, None, "{who}: a known token is not reissued");
    let summary = expect(&mut ws, who, "the conversation", |m| match m {
        ServerMsg::Conversation { conversation } => Some(conversation.clone()),
        _ => None,
    })
    .await;
    assert_eq!(summary.id, plan.conv, "{who}: {summary:?}");
    assert_eq!(
        summary.status,
        ConversationStatus::Assigned,
        "{who}: {summary:?}"
    );
    let last = summary.last_seq;
    assert!(
        last >= after,
        "{who}: the server lost messages: the visitor holds seq 1..={after}, the conversation ends at {last}"
    );
    let mut replay = Vec::new();
    while (replay.len() as i64) < last - after {
        let message = expect(&mut ws, who, "the replay", |m| match m {
            ServerMsg::Message { message } => Some(message.clone()),
            _ => None,
        })
        .await;
        replay.push((message.seq, message.id.0));
    }

    // Resend what is pending, pipelined, and wait for every ack.
    let pending: Vec<&String> = plan
        .ids
        .iter()
        .filter(|id| !before.acks.contains_key(*id))
        .collect();
    let (mut sink, mut stream) = ws.split();
    let writer = async {
        for id in &pending {
            let msg = ClientMsg::Send {
                id: MessageId((*id).clone()),
                conversation: None,
                text: message_text(id),
                // As the bundled clients do: the first send may be stored.
                resend: true,
            };
            let text = serde_json::to_string(&msg).expect("a client message serializes");
            sink.send(Message::text(text))
                .await
                .unwrap_or_else(|e| panic!("{who}: resending {id} failed: {e}"));
        }
    };
    let reader = async {
        let mut acks = BTreeMap::new();
        let mut echoes = BTreeMap::new();
        let deadline = tokio::time::Instant::now() + PHASE;
        while acks.len() < pending.len() {
            match recv(&mut stream, who, deadline).await {
                Recv::Msg(ServerMsg::Ack { id, seq, .. }) => {
                    if acks.insert(id.0.clone(), seq).is_some() {
                        panic!("{who}: {} acknowledged twice", id.0);
                    }
                }
                Recv::Msg(ServerMsg::Message { message }) => {
                    record_once(&mut echoes, who, &message);
                }
                Recv::Msg(ServerMsg::Error { code, message, id }) => {
                    panic!("{who}: error {code:?} for {id:?}: {message}")
                }
                Recv::Msg(_) => {}
                Recv::Close(code) => panic!("{who}: closed ({code:?}) during the resends"),
                Recv::End(how) => panic!("{who}: socket {how} during the resends"),
                Recv::Timeout => panic!(
                    "{who}: only {} of {} resends acknowledged within {PHASE:?}",
                    acks.len(),
                    pending.len()
                ),
            }
        }
        (acks, echoes)
    };
    let ((), (acks, echoes)) = futures::join!(writer, reader);
    let mut ws = sink.reunite(stream).expect("the halves of one socket");
    let _ = ws.close(None).await;
    let already_stored = acks.len() - echoes.len();
    VisitorAfter {
        resumed_after: after,
        last_at_resume: last,
        replay,
        resent: pending.len(),
        already_stored,
        acks,
        echoes,
    }
}

/// The agent socket after the restart: the live messages that arrive until
/// `targets` (conversation → last seq) is set and everything up to it is in.
async fn agent_live(
    mut ws: Ws,
    mut held: BTreeMap<Conv, BTreeSet<i64>>,
    targets: watch::Receiver<Option<BTreeMap<Conv, i64>>>,
) -> (Ws, BTreeMap<Conv, Vec<(i64, String)>>) {
    let who = "agent (after restart)";
    let mut live: BTreeMap<Conv, Vec<(i64, String)>> = BTreeMap::new();
    // Resumed from the contiguous prefix held: from there on, replayed and
    // live messages alike come in seq order.
    let mut last: BTreeMap<Conv, i64> = held.iter().map(|(c, h)| (*c, contiguous(h))).collect();
    let deadline = tokio::time::Instant::now() + PHASE;
    loop {
        if let Some(targets) = targets.borrow().as_ref() {
            if targets
                .iter()
                .all(|(conv, last)| held.get(conv).is_some_and(|h| contiguous(h) >= *last))
            {
                return (ws, live);
            }
        }
        let step = (tokio::time::Instant::now() + Duration::from_millis(50)).min(deadline);
        match recv(&mut ws, who, step).await {
            Recv::Msg(ServerMsg::Message { message }) => {
                let before = last.entry(message.conversation).or_insert(0);
                assert!(
                    message.seq > *before,
                    "{who}: in {:?}, seq {} arrived after seq {before}",
                    message.conversation,
                    message.seq
                );
                *before = message.seq;
                held.entry(message.conversation)
                    .or_default()
                    .insert(message.seq);
                live.entry(message.conversation)
                    .or_default()
                    .push((message.seq, message.id.0));
            }
            Recv::Msg(_) => {}
            Recv::Close(code) => panic!("{who}: closed ({code:?})"),
            Recv::End(how) => panic!("{who}: socket {how}"),
            Recv::Timeout if tokio::time::Instant::now() >= deadline => {
                let missing: Vec<String> = targets
                    .borrow()
                    .iter()
                    .flatten()
                    .filter_map(|(conv, last)| {
                        let h = held.get(conv).map_or(0, contiguous);
                        (h < *last).then(|| format!("{conv:?}: has 1..={h} of 1..={last}"))
                    })
                    .collect();
                panic!("{who}: not caught up within {PHASE:?}: {missing:?}");
            }
            Recv::Timeout => {}
        }
    }
}

/// A fresh agent connection resuming every conversation from 0: returns
/// conversation → the replayed (seq, id), in arrival order.
async fn full_replay(
    addr: SocketAddr,
    cookie: &str,
    targets: &BTreeMap<Conv, i64>,
) -> BTreeMap<Conv, Vec<(i64, String)>> {
    let who = "agent (full replay)";
    let resume = targets
        .keys()
        .map(|c| Resume {
            conversation: *c,
            after: 0,
        })
        .collect();
    let (mut ws, listed) = connect_agent(addr, who, cookie, resume).await;
    assert_eq!(
        listed,
        targets.keys().copied().collect::<Vec<_>>(),
        "{who}: the welcome lists every conversation"
    );
    let total: i64 = targets.values().sum();
    let mut replay: BTreeMap<Conv, Vec<(i64, String)>> = BTreeMap::new();
    let mut count = 0;
    while count < total {
        let message = expect(&mut ws, who, "the replay", |m| match m {
            ServerMsg::Message { message } => Some(message.clone()),
            _ => None,
        })
        .await;
        replay
            .entry(message.conversation)
            .or_default()
            .push((message.seq, message.id.0));
        count += 1;
    }
    let deadline = tokio::time::Instant::now() + QUIET;
    loop {
        match recv(&mut ws, who, deadline).await {
            Recv::Msg(ServerMsg::Message { message }) => {
                panic!("{who}: more than the {total} messages stored: {message:?}")
            }
            Recv::Msg(_) => {}
            Recv::Timeout => break,
            Recv::Close(code) => panic!("{who}: closed ({code:?})"),
            Recv::End(how) => panic!("{who}: socket {how}"),
        }
    }
    let _ = ws.close(None).await;
    replay
}

// ---------------------------------------------------------------------------
// The scenario
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Stop {
    /// SIGKILL: the process dies at once.
    Kill,
    /// SIGTERM: the graceful shutdown.
    Term,
}

#[derive(Debug, Clone, Copy)]
struct Scenario {
    stop: Stop,
    /// The visitors read slowly through small receive buffers during the
    /// burst, so acks are still on their way when the server goes.
    slow_visitors: bool,
    /// SIGTERM only: require the graceful promise in full: every socket gets
    /// 1012, and every message stored was acknowledged before the close.
    strict_term: bool,
}

/// Sets up the chat, bursts, stops the server in the middle, restarts it,
/// lets the clients recover, and checks everything on the wire and on disk.
async fn crash_and_restart(scenario: Scenario) {
    let stop = scenario.stop;
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("data").join("kefu.db");
    std::fs::create_dir_all(dir.path().join("site")).expect("creating the site root");
    add_agent(db.clone()).await;

    let addr = free_addr();
    let mut server = Kefu::start(dir.path(), &db, addr);
    server.wait_ready().await;
    let cookie = sign_in(addr).await;
    let (agent_ws, listed) = connect_agent(addr, "agent", &cookie, vec![]).await;
    assert!(listed.is_empty(), "a new agent serves nothing: {listed:?}");
    // The server is stopped once STOP_AFTER messages are acknowledged to the
    // visitors or delivered to the agent, whichever comes first.
    let acked = Arc::new(AtomicUsize::new(0));
    let delivered = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(Notify::new());
    let agent_task = tokio::spawn(agent_listen(agent_ws, delivered.clone(), enough.clone()));

    // Eight visitors start chatting; Ann (capacity 100) gets every conversation.
    let tag = match stop {
        Stop::Kill => 0x5191_0009u32,
        Stop::Term => 0x5191_0015u32,
    };
    let mut visitors = Vec::new();
    for n in 0..VISITORS {
        let who = format!("visitor {n}");
        let (mut client, info) =
            connect_visitor(addr, &who, None, vec![], scenario.slow_visitors).await;
        let token = info
            .token
            .clone()
            .unwrap_or_else(|| panic!("{who}: a new visitor gets a token"));
        let (conv, first) = client.start_assigned("Ann").await;
        assert_eq!(
            (first.seq, first.author, first.event.clone()),
            (
                1,
                Author::System,
                Some(SystemEvent::Assigned {
                    agent: "Ann".into()
                })
            ),
            "{who}: {first:?}"
        );
        let ids = (0..PER_VISITOR)
            .map(|i| format!("{tag:08x}-{n:04x}-4000-8000-{i:012x}"))
            .collect();
        let plan = VisitorPlan {
            who,
            token,
            label: info.label,
            conv,
            ids,
        };
        let seen = BTreeMap::from([(1, first.id.0)]);
        visitors.push((plan, client.ws, seen));
    }
    let convs: Vec<Conv> = visitors.iter().map(|(p, _, _)| p.conv).collect();
    let distinct: BTreeSet<Conv> = convs.iter().copied().collect();
    assert_eq!(distinct.len(), VISITORS, "one conversation per visitor");

    // The burst; the server goes away in the middle of it.
    let burst_started = Instant::now();
    let plans: Vec<VisitorPlan> = visitors.iter().map(|(p, _, _)| p.clone()).collect();
    let tasks: Vec<_> = visitors
        .into_iter()
        .map(|(plan, ws, seen)| {
            tokio::spawn(visitor_burst(
                ws,
                plan,
                seen,
                acked.clone(),
                enough.clone(),
                scenario.slow_visitors,
            ))
        })
        .collect();
    if tokio::time::timeout(PHASE, enough.notified())
        .await
        .is_err()
    {
        panic!(
            "only {} acks and {} deliveries to the agent of {STOP_AFTER} within {PHASE:?}; log:\n{}",
            acked.load(Ordering::SeqCst),
            delivered.load(Ordering::SeqCst),
            server.log()
        );
    }
    let acks_at_signal = acked.load(Ordering::SeqCst);
    let delivered_at_signal = delivered.load(Ordering::SeqCst);
    let burst_took = burst_started.elapsed();
    let mut term_exit = None;
    match stop {
        Stop::Kill => server.sigkill(),
        Stop::Term => {
            server.sigterm();
            let (status, took) = server.wait_exit(TERM_EXIT).await;
            assert!(
                status.success(),
                "kefu exited with {status} after SIGTERM; log:\n{}",
                server.log()
            );
            term_exit = Some(took);
        }
    }
    let mut befores = Vec::new();
    for (plan, task) in plans.iter().zip(tasks) {
        let before = tokio::time::timeout(STEP, task)
            .await
            .unwrap_or_else(|_| panic!("{}: the socket did not end after the stop", plan.who))
            .expect("the visitor task does not panic");
        befores.push(before);
    }
    let agent_before = tokio::time::timeout(STEP, agent_task)
        .await
        .expect("the agent socket ends after the stop")
        .expect("the agent task does not panic");

    let closes: Vec<Option<u16>> = std::iter::once(agent_before.close)
        .chain(befores.iter().map(|b| b.close))
        .collect();
    let ends: Vec<String> = std::iter::once(agent_before.end.clone())
        .chain(befores.iter().map(|b| b.end.clone()))
        .collect();
    if scenario.strict_term {
        assert!(
            closes.iter().all(|c| *c == Some(1012)),
            "every socket is told 1012 (agent first): {closes:?}, ends {ends:?}"
        );
    }
    let sent_before: usize = befores.iter().map(|b| b.attempted).sum();
    let acked_before: usize = befores.iter().map(|b| b.acks.len()).sum();

    // Restart on the same database and port.
    server = Kefu::start(dir.path(), &db, addr);
    server.wait_ready().await;

    // The agent comes back first, resuming after the highest seq it holds in each.
    let mut agent_held: BTreeMap<Conv, BTreeSet<i64>> = BTreeMap::new();
    for conv in &convs {
        let seqs: BTreeSet<i64> = agent_before
            .seen
            .get(conv)
            .map(|s| s.keys().copied().collect())
            .unwrap_or_default();
        assert_eq!(
            contiguous(&seqs),
            seqs.len() as i64,
            "the agent's live messages in {conv:?} came in order without gaps: {seqs:?}"
        );
        agent_held.insert(*conv, seqs);
    }
    let agent_after: BTreeMap<Conv, i64> = agent_held
        .iter()
        .map(|(c, s)| (*c, contiguous(s)))
        .collect();
    let resume = agent_after
        .iter()
        .map(|(c, after)| Resume {
            conversation: *c,
            after: *after,
        })
        .collect();
    let (mut agent_ws, listed) =
        connect_agent(addr, "agent (after restart)", &cookie, resume).await;
    assert_eq!(
        listed,
        distinct.iter().copied().collect::<Vec<_>>(),
        "after the restart Ann still serves every conversation"
    );
    let mut last_at_restart: BTreeMap<Conv, i64> = BTreeMap::new();
    let mut agent_replay: BTreeMap<Conv, Vec<(i64, String)>> = BTreeMap::new();
    let replay_done = |last: &BTreeMap<Conv, i64>, replay: &BTreeMap<Conv, Vec<(i64, String)>>| {
        last.len() == VISITORS
            && last
                .iter()
                .all(|(c, l)| replay.get(c).map_or(0, Vec::len) as i64 >= l - agent_after[c])
    };
    while !replay_done(&last_at_restart, &agent_replay) {
        expect(
            &mut agent_ws,
            "agent (after restart)",
            "the replay",
            |m| match m {
                ServerMsg::Conversation { conversation } => {
                    last_at_restart.insert(conversation.id, conversation.last_seq);
                    Some(())
                }
                ServerMsg::Message { message } => {
                    agent_replay
                        .entry(message.conversation)
                        .or_default()
                        .push((message.seq, message.id.0.clone()));
                    Some(())
                }
                _ => None,
            },
        )
        .await;
    }
    for conv in &convs {
        assert!(
            last_at_restart[conv] >= agent_after[conv],
            "{conv:?}: the server lost messages: the agent held 1..={}, the conversation ends at {}",
            agent_after[conv],
            last_at_restart[conv]
        );
    }
    for conv in &convs {
        let seqs: Vec<i64> = agent_replay
            .get(conv)
            .map(|r| r.iter().map(|(s, _)| *s).collect())
            .unwrap_or_default();
        assert_eq!(
            seqs,
            (agent_after[conv] + 1..=last_at_restart[conv]).collect::<Vec<_>>(),
            "the agent's replay of {conv:?} is exactly what it had not seen, once, in order"
        );
    }
    let mut held_now = agent_held.clone();
    for (conv, replay) in &agent_replay {
        held_now
            .entry(*conv)
            .or_default()
            .extend(replay.iter().map(|(s, _)| *s));
    }
    let (targets_tx, targets_rx) = watch::channel(None);
    let agent_task = tokio::spawn(agent_live(agent_ws, held_now, targets_rx));

    // The visitors come back and resend what was not acknowledged.
    let resumes: Vec<_> = plans
        .iter()
        .cloned()
        .zip(befores)
        .map(|(plan, before)| {
            tokio::spawn(async move {
                let after = visitor_resume(addr, plan, &before).await;
                (before, after)
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for (plan, task) in plans.iter().zip(resumes) {
        let outcome = tokio::time::timeout(PHASE, task)
            .await
            .unwrap_or_else(|_| panic!("{}: resuming took over {PHASE:?}", plan.who))
            .expect("the visitor task does not panic");
        outcomes.push(outcome);
    }

    // Every conversation's last seq, from the acks.
    let mut targets: BTreeMap<Conv, i64> = BTreeMap::new();
    for (plan, (before, after)) in plans.iter().zip(&outcomes) {
        let last = before
            .acks
            .values()
            .chain(after.acks.values())
            .copied()
            .max()
            .unwrap_or(0);
        targets.insert(plan.conv, last);
    }
    targets_tx.send_replace(Some(targets.clone()));
    let (agent_ws, agent_live_msgs) = tokio::time::timeout(PHASE, agent_task)
        .await
        .expect("the agent catches up")
        .expect("the agent task does not panic");
    drop(agent_ws);

    // Each visitor: every id stored once, in order; the replay was exactly what it missed.
    let mut replayed_to_visitors = 0;
    let mut resent = 0;
    let mut already_stored = 0;
    let mut all_acks: BTreeMap<String, (Conv, i64)> = BTreeMap::new();
    let mut acked_before_ids: Vec<(Conv, String, i64)> = Vec::new();
    for (plan, (before, after)) in plans.iter().zip(&outcomes) {
        let who = &plan.who;
        let last = targets[&plan.conv];
        assert_eq!(
            after.replay.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            (after.resumed_after + 1..=after.last_at_resume).collect::<Vec<_>>(),
            "{who}: the replay is exactly what the visitor had not seen, once, in order"
        );
        replayed_to_visitors += after.replay.len();
        resent += after.resent;
        already_stored += after.already_stored;
        // The union of everything the visitor learned: seq → id.
        let mut union: BTreeMap<i64, String> = BTreeMap::new();
        let learned = before
            .seen
            .iter()
            .map(|(s, id)| (*s, id.clone()))
            .chain(before.acks.iter().map(|(id, s)| (*s, id.clone())))
            .chain(after.replay.iter().cloned())
            .chain(after.echoes.iter().map(|(s, id)| (*s, id.clone())))
            .chain(after.acks.iter().map(|(id, s)| (*s, id.clone())));
        for (seq, id) in learned {
            if let Some(other) = union.insert(seq, id.clone()) {
                assert_eq!(other, id, "{who}: two different messages at seq {seq}");
            }
        }
        assert_eq!(
            union.keys().copied().collect::<Vec<_>>(),
            (1..=last).collect::<Vec<_>>(),
            "{who}: the visitor holds seq 1..={last} without gaps"
        );
        let mine: Vec<&String> = union.values().skip(1).collect();
        assert_eq!(
            mine,
            plan.ids.iter().collect::<Vec<_>>(),
            "{who}: every message stored once, in the order sent"
        );
        for (id, seq) in before.acks.iter().chain(&after.acks) {
            all_acks.insert(id.clone(), (plan.conv, *seq));
        }
        for (id, seq) in &before.acks {
            acked_before_ids.push((plan.conv, id.clone(), *seq));
        }
    }
    assert_eq!(all_acks.len(), VISITORS * PER_VISITOR, "every id was acked");

    // The agent: no duplicates across the restart, and everything acked before
    // the stop reached it before the stop or on its replay.
    let mut replayed_to_agent = 0;
    for conv in &convs {
        let last = targets[conv];
        let before = agent_before.seen.get(conv).cloned().unwrap_or_default();
        let replay = agent_replay.get(conv).cloned().unwrap_or_default();
        let live = agent_live_msgs.get(conv).cloned().unwrap_or_default();
        replayed_to_agent += replay.len();
        assert_eq!(
            live.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            (last_at_restart[conv] + 1..=last).collect::<Vec<_>>(),
            "{conv:?}: the agent's live messages after the restart are the new ones, once, in order"
        );
        let mut union: BTreeMap<i64, String> = before.clone();
        for (seq, id) in replay.iter().chain(&live) {
            if let Some(old) = union.insert(*seq, id.clone()) {
                panic!("{conv:?}: the agent got seq {seq} twice ({old}, {id})");
            }
        }
        assert_eq!(
            union.keys().copied().collect::<Vec<_>>(),
            (1..=last).collect::<Vec<_>>(),
            "{conv:?}: the agent holds 1..={last}"
        );
        for (seq, id) in union.iter().skip(1) {
            assert_eq!(all_acks.get(id), Some(&(*conv, *seq)), "{conv:?}: {id}");
        }
    }
    for (conv, id, seq) in &acked_before_ids {
        let delivered = agent_before
            .seen
            .get(conv)
            .and_then(|s| s.get(seq))
            .or_else(|| {
                agent_replay
                    .get(conv)
                    .and_then(|r| r.iter().find(|(s, _)| s == seq).map(|(_, id)| id))
            });
        assert_eq!(
            delivered,
            Some(id),
            "{id} (acked as {conv:?} seq {seq} before the stop) reached the agent"
        );
    }

    // A fresh agent connection replays every conversation in full.
    let full = full_replay(addr, &cookie, &targets).await;
    let mut replayed_in_full = 0;
    for (conv, last) in &targets {
        let replay = &full[conv];
        replayed_in_full += replay.len();
        assert_eq!(
            replay.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            (1..=*last).collect::<Vec<_>>(),
            "{conv:?}: the full replay is 1..={last}"
        );
        for (seq, id) in replay.iter().skip(1) {
            assert_eq!(all_acks.get(id), Some(&(*conv, *seq)), "{conv:?}: {id}");
        }
    }

    // Finally the file itself, with the server stopped.
    server.sigkill();
    let stored = check_database(&db, &all_acks, &targets).await;

    let stored_at_restart: i64 = last_at_restart.values().map(|l| l - 1).sum();
    if scenario.strict_term {
        assert_eq!(
            stored_at_restart, acked_before as i64,
            "every message stored before SIGTERM is acknowledged to its sender before the close"
        );
    }
    let closes_1012 = closes.iter().filter(|c| **c == Some(1012)).count();
    if stop == Stop::Term {
        println!("socket ends after SIGTERM (agent first): closes {closes:?}, {ends:?}");
    }
    println!(
        "crash test ({stop:?}{}): sent {sent} ({sent_before} written before the stop), \
         acknowledged before the stop {acked_before} (stopped {burst_took:.1?} into the burst, at {acks_at_signal} acked / {delivered_at_signal} delivered to the agent), \
         stored at restart {stored_at_restart} ({} stored but not acked), \
         resent {resent} ({already_stored} of them already stored), \
         stored after restart {stored} (+{VISITORS} system), \
         replayed to agent {replayed_to_agent}, replayed to visitors {replayed_to_visitors}, \
         full agent replay {replayed_in_full}, close 1012 on {closes_1012}/{} sockets{}, took {:.1?}",
        if scenario.slow_visitors {
            ", slow visitors"
        } else {
            ""
        },
        stored_at_restart - acked_before as i64,
        closes.len(),
        term_exit
            .map(|t| format!(", exited {t:.1?} after SIGTERM"))
            .unwrap_or_default(),
        started.elapsed(),
        sent = VISITORS * PER_VISITOR,
    );
}

/// Reads the stopped server's database: every id once, at its acked seq,
/// seqs 1..=last per conversation. Returns how many visitor messages are stored.
async fn check_database(
    db: &Path,
    acks: &BTreeMap<String, (Conv, i64)>,
    targets: &BTreeMap<Conv, i64>,
) -> usize {
    let mut conn = SqliteConnectOptions::new()
        .filename(db)
        .connect()
        .await
        .expect("opening the database after the stop");
    let dups: Vec<(String, i64)> = sqlx::query_as(
        "SELECT client_id, COUNT(*) FROM messages GROUP BY client_id HAVING COUNT(*) > 1",
    )
    .fetch_all(&mut conn)
    .await
    .expect("querying duplicates");
    assert!(dups.is_empty(), "ids stored more than once: {dups:?}");
    let rows: Vec<(i64, i64, String, String)> = sqlx::query_as(
        "SELECT conversation_id, seq, client_id, author FROM messages ORDER BY conversation_id, seq",
    )
    .fetch_all(&mut conn)
    .await
    .expect("reading the messages");
    let conversations: Vec<(i64, i64)> =
        sqlx::query_as("SELECT id, last_seq FROM conversations ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .expect("reading the conversations");
    conn.close().await.expect("closing the database");

    let mut by_conv: BTreeMap<Conv, Vec<i64>> = BTreeMap::new();
    let mut stored: BTreeMap<&str, (Conv, i64)> = BTreeMap::new();
    for (conv, seq, id, author) in &rows {
        by_conv.entry(ConversationId(*conv)).or_default().push(*seq);
        if author == "visitor" {
            stored.insert(id.as_str(), (ConversationId(*conv), *seq));
        }
    }
    for (conv, last) in targets {
        assert_eq!(
            by_conv.get(conv).cloned().unwrap_or_default(),
            (1..=*last).collect::<Vec<_>>(),
            "{conv:?}: stored seqs are 1..={last}"
        );
    }
    let last_seqs: BTreeMap<Conv, i64> = conversations
        .into_iter()
        .map(|(id, last)| (ConversationId(id), last))
        .collect();
    assert_eq!(&last_seqs, targets, "conversations.last_seq");
    assert_eq!(
        stored.len(),
        acks.len(),
        "every visitor message stored once"
    );
    for (id, at) in acks {
        assert_eq!(
            stored.get(id.as_str()),
            Some(at),
            "{id} is stored where its ack said"
        );
    }
    stored.len()
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// SIGKILL in the middle of the burst: every acknowledged message survives,
/// the resends of everything else are stored once, and every side catches up.
/// The visitors read slowly, so when the kill lands some messages are stored
/// whose acks never reached their sender (resent, then deduplicated).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_loses_no_acknowledged_message() {
    crash_and_restart(Scenario {
        stop: Stop::Kill,
        slow_visitors: true,
        strict_term: false,
    })
    .await;
}

/// SIGTERM in the middle of the burst: the process exits by itself, in time
/// and with success, and after the restart and the resends nothing is lost or
/// duplicated. (Close codes are recorded and printed; see the next test.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_loses_nothing() {
    crash_and_restart(Scenario {
        stop: Stop::Term,
        slow_visitors: false,
        strict_term: false,
    })
    .await;
}

/// The graceful promise in full: on SIGTERM every socket gets close 1012 after
/// the ack of the frame it was handling, so a client reading until the close
/// holds an ack for every message the server stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_closes_every_socket_with_1012_after_its_last_ack() {
    crash_and_restart(Scenario {
        stop: Stop::Term,
        slow_visitors: false,
        strict_term: true,
    })
    .await;
}
