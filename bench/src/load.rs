//! The load generator: WebSocket clients for kefu and for the relay, the
//! same way for both. Agents read and time every message; visitors send on a
//! fixed schedule (open loop: the timestamp in each message is the time it
//! was *due*, so a server that falls behind cannot hide it by slowing the
//! sender down); idle sockets say hello and then only ping.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use futures::{SinkExt, StreamExt};
use kefu::protocol::{ClientMsg, ConversationStatus, ServerMsg, PROTOCOL_VERSION};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// A client socket.
pub type Ws = WebSocketStream<TcpStream>;

/// Keep-alive period (the protocol asks for a ping every 20 s).
const PING_EVERY: Duration = Duration::from_secs(20);
/// How far apart the first and the last ping of a wave of idle sockets are
/// ([`IdleSet::ping_all`]).
pub const WAVE_SPREAD: Duration = Duration::from_secs(2);
/// Bound on connecting plus the first answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// A send this late after it was due counts as "late" (the load generator lagging).
const LATE: Duration = Duration::from_millis(10);
/// After a phase's end, senders give up on what they could not write by then.
const SEND_SLACK: Duration = Duration::from_secs(5);
/// Connections per source address (127.1.x.1) before moving to the next one,
/// so the ephemeral ports of one address never run out.
const CONNS_PER_SOURCE: u64 = 16_000;
/// Marker of a timed message's text (`b <phase> <due ns>`).
const MARK: &str = "\"text\":\"b ";

/// Buffers like kefu's own sockets (4 KiB each way), on every bench socket.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
}

fn base() -> std::time::Instant {
    static BASE: OnceLock<std::time::Instant> = OnceLock::new();
    *BASE.get_or_init(std::time::Instant::now)
}

/// Nanoseconds since the process-wide base instant.
fn ns_at(at: Instant) -> u64 {
    at.into_std().saturating_duration_since(base()).as_nanos() as u64
}

/// Which server the clients talk to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    Kefu,
    Relay,
}

/// One target of the load: where, and which protocol.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    pub flavor: Flavor,
    pub addr: SocketAddr,
}

/// Opens a client WebSocket to `path`, from a rotating 127.1.x.1 address.
pub async fn ws_connect(addr: SocketAddr, path: &str, cookie: Option<&str>) -> Result<Ws> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let source = Ipv4Addr::new(127, 1, (n / CONNS_PER_SOURCE % 250) as u8, 1);
    let connect = async {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::V4(SocketAddrV4::new(source, 0)))?;
        let stream = socket.connect(addr).await?;
        stream.set_nodelay(true)?;
        let mut request = format!("ws://{addr}{path}").into_client_request()?;
        if let Some(cookie) = cookie {
            request
                .headers_mut()
                .insert(header::COOKIE, HeaderValue::from_str(cookie)?);
        }
        let (ws, _) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(ws_config())).await?;
        Ok::<_, anyhow::Error>(ws)
    };
    tokio::time::timeout(CONNECT_TIMEOUT, connect)
        .await
        .map_err(|_| anyhow!("connecting to {path} timed out"))?
}

fn encode(msg: &ClientMsg) -> Message {
    Message::text(serde_json::to_string(msg).unwrap_or_default())
}

fn hello() -> Message {
    encode(&ClientMsg::Hello {
        version: PROTOCOL_VERSION,
        token: None,
        resume: Vec::new(),
        identity: None,
    })
}

fn ping() -> Message {
    encode(&ClientMsg::Ping)
}

/// Reads until `pick` accepts a decoded server message, within [`CONNECT_TIMEOUT`].
pub async fn expect<T>(
    ws: &mut Ws,
    what: &str,
    mut pick: impl FnMut(ServerMsg) -> Option<T>,
) -> Result<T> {
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| anyhow!("no {what} within {CONNECT_TIMEOUT:?}"))?;
        match frame {
            Some(Ok(Message::Text(text))) => {
                if let Ok(msg) = serde_json::from_str::<ServerMsg>(&text) {
                    if let ServerMsg::Error { code, message, .. } = &msg {
                        bail!("error {code:?} ({message}) while waiting for {what}");
                    }
                    if let Some(found) = pick(msg) {
                        return Ok(found);
                    }
                }
            }
            Some(Ok(Message::Close(frame))) => bail!("closed ({frame:?}) before {what}"),
            Some(Ok(_)) => {}
            Some(Err(e)) => bail!("socket failed before {what}: {e}"),
            None => bail!("socket ended before {what}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Latency recording (agent side)
// ---------------------------------------------------------------------------

/// What every agent socket of one target records.
#[derive(Default)]
pub struct Recorder {
    phase: AtomicU32,
    latencies_us: Mutex<Vec<u32>>,
    /// Conversation id → class, when set ([`Recorder::classify`]).
    classes: OnceLock<HashMap<i64, u8>>,
    /// The class of each latency, in the order of `latencies_us` (always
    /// locked after it).
    classes_seen: Mutex<Vec<u8>>,
    /// Frames received on agent sockets, any kind (to see when traffic has settled).
    pub frames: AtomicU64,
    /// Agent sockets that ended unexpectedly (each is reconnected).
    pub agent_drops: AtomicU64,
}

impl Recorder {
    /// Starts recording the messages of phase `id` only.
    pub fn begin(&self, id: u32) {
        let mut latencies = self.latencies_us.lock().unwrap_or_else(|e| e.into_inner());
        latencies.clear();
        self.classes_seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.phase.store(id, Ordering::SeqCst);
    }

    /// Sorts every message from now on by its conversation into a class
    /// (the cluster scenario: same node or across nodes; an unknown
    /// conversation is class `u8::MAX`). Once per recorder.
    pub fn classify(&self, classes: HashMap<i64, u8>) {
        let _ = self.classes.set(classes);
    }

    /// Stops recording; returns the latencies of the phase, in µs, and
    /// (once [`Recorder::classify`] was called) the class of each.
    pub fn finish_classified(&self) -> (Vec<u32>, Vec<u8>) {
        self.phase.store(0, Ordering::SeqCst);
        let mut latencies = self.latencies_us.lock().unwrap_or_else(|e| e.into_inner());
        let mut classes = self.classes_seen.lock().unwrap_or_else(|e| e.into_inner());
        (
            std::mem::take(&mut *latencies),
            std::mem::take(&mut *classes),
        )
    }

    /// Messages recorded so far in the running phase.
    pub fn count(&self) -> usize {
        self.latencies_us
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    fn frame(&self, text: &str) {
        self.frames.fetch_add(1, Ordering::Relaxed);
        let Some((phase, due_ns)) = parse_mark(text) else {
            return;
        };
        if phase == 0 || phase != self.phase.load(Ordering::Relaxed) {
            return;
        }
        let now = ns_at(Instant::now());
        let us = (now.saturating_sub(due_ns) / 1000).min(u64::from(u32::MAX)) as u32;
        let mut latencies = self.latencies_us.lock().unwrap_or_else(|e| e.into_inner());
        latencies.push(us);
        if let Some(classes) = self.classes.get() {
            let class = parse_conversation(text).and_then(|c| classes.get(&c).copied());
            self.classes_seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(class.unwrap_or(u8::MAX));
        }
    }

    /// Waits until agent sockets have received nothing for `quiet`, at most `max`.
    pub async fn settle(&self, quiet: Duration, max: Duration) {
        let deadline = Instant::now() + max;
        let mut last = self.frames.load(Ordering::Relaxed);
        while Instant::now() < deadline {
            tokio::time::sleep(quiet).await;
            let now = self.frames.load(Ordering::Relaxed);
            if now == last {
                return;
            }
            last = now;
        }
    }
}

/// `…"text":"b <phase> <ns>"…` → (phase, ns).
fn parse_mark(text: &str) -> Option<(u32, u64)> {
    let at = text.find(MARK)? + MARK.len();
    let rest = &text[at..];
    let (phase, rest) = rest.split_once(' ')?;
    let end = rest.find('"')?;
    Some((phase.parse().ok()?, rest[..end].parse().ok()?))
}

/// The conversation id of a kefu `message` frame (`…"conversation":<id>…`).
fn parse_conversation(text: &str) -> Option<i64> {
    const KEY: &str = "\"conversation\":";
    let rest = &text[text.find(KEY)? + KEY.len()..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

// ---------------------------------------------------------------------------
// Agents
// ---------------------------------------------------------------------------

/// Starts an agent socket that reads and times messages until `stop`, with a
/// ping every 20 s, reconnecting (at most 20 times) when it drops.
pub async fn spawn_agent(
    target: Target,
    key: String,
    cookie: Option<String>,
    recorder: Arc<Recorder>,
    mut stop: watch::Receiver<bool>,
) -> Result<JoinHandle<()>> {
    let path = match target.flavor {
        Flavor::Kefu => "/ws/agent".to_owned(),
        Flavor::Relay => format!("/agent/{key}"),
    };
    let connect = {
        let path = path.clone();
        let cookie = cookie.clone();
        move || {
            let path = path.clone();
            let cookie = cookie.clone();
            async move {
                let mut ws = ws_connect(target.addr, &path, cookie.as_deref()).await?;
                if target.flavor == Flavor::Kefu {
                    ws.send(hello()).await?;
                    expect(&mut ws, "the agent's welcome", |m| {
                        matches!(m, ServerMsg::Welcome { agent: Some(_), .. }).then_some(())
                    })
                    .await?;
                }
                Ok::<_, anyhow::Error>(ws)
            }
        }
    };
    let first = connect().await.with_context(|| format!("agent {key}"))?;
    Ok(tokio::spawn(async move {
        let mut ws = Some(first);
        for _attempt in 0..20 {
            let mut socket = match ws.take() {
                Some(s) => s,
                None => match connect().await {
                    Ok(s) => s,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                },
            };
            let mut keepalive = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
            loop {
                tokio::select! {
                    frame = socket.next() => match frame {
                        Some(Ok(Message::Text(text))) => recorder.frame(&text),
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                        Some(Ok(_)) => {}
                    },
                    _ = keepalive.tick() => {
                        if socket.send(ping()).await.is_err() {
                            break;
                        }
                    }
                    _ = stop.changed() => return,
                }
            }
            if *stop.borrow() {
                return;
            }
            recorder.agent_drops.fetch_add(1, Ordering::Relaxed);
        }
    }))
}

// ---------------------------------------------------------------------------
// Visitors in conversation
// ---------------------------------------------------------------------------

/// What a conversation's visitor is told to do.
#[derive(Clone)]
pub struct Phase {
    pub id: u32,
    /// Messages per second of each conversation.
    pub rate: f64,
    pub start: Instant,
    pub duration: Duration,
    pub sent: Arc<AtomicU64>,
    pub late: Arc<AtomicU64>,
    /// `typing` frames per second of each visitor, beside its messages.
    pub typing: f64,
}

/// When conversation `i` of `n` sends, relative to the phase start: every
/// 1/rate seconds, conversations spread evenly over the period.
pub fn schedule(
    i: usize,
    n: usize,
    rate: f64,
    duration: Duration,
) -> impl Iterator<Item = Duration> {
    let period = 1.0 / rate;
    let offset = period * i as f64 / n.max(1) as f64;
    let end = duration.as_secs_f64();
    (0u64..)
        .map(move |k| offset + k as f64 * period)
        .take_while(move |t| *t < end)
        .map(Duration::from_secs_f64)
}

/// A visitor with an open (kefu: assigned) conversation.
pub struct Visitor {
    pub ws: Ws,
    /// kefu: the serving agent's name.
    pub agent: Option<String>,
    /// kefu: the conversation id.
    pub conversation: Option<i64>,
}

/// Opens a visitor socket and, on kefu, a conversation assigned to an agent.
/// On the relay the visitor is paired with agent `key`.
pub async fn open_conversation(target: Target, key: &str) -> Result<Visitor> {
    match target.flavor {
        Flavor::Relay => {
            let mut ws = ws_connect(target.addr, &format!("/visitor/{key}"), None).await?;
            ws.send(hello()).await?;
            Ok(Visitor {
                ws,
                agent: None,
                conversation: None,
            })
        }
        Flavor::Kefu => {
            let mut ws = ws_connect(target.addr, "/ws/visitor", None).await?;
            ws.send(hello()).await?;
            expect(&mut ws, "the visitor's welcome", |m| {
                matches!(
                    m,
                    ServerMsg::Welcome {
                        visitor: Some(_),
                        ..
                    }
                )
                .then_some(())
            })
            .await?;
            ws.send(encode(&ClientMsg::Start)).await?;
            let (conversation, agent) = expect(&mut ws, "an assigned conversation", |m| match m {
                ServerMsg::Conversation { conversation }
                    if conversation.status == ConversationStatus::Assigned =>
                {
                    Some((conversation.id.0, conversation.agent_name))
                }
                ServerMsg::Availability {
                    agents_online: false,
                    ..
                } => None,
                _ => None,
            })
            .await?;
            Ok(Visitor {
                ws,
                agent,
                conversation: Some(conversation),
            })
        }
    }
}

/// Counters shared by all visitor tasks of a target.
#[derive(Default)]
pub struct VisitorStats {
    /// Visitor sockets that ended before the bench stopped them.
    pub dropped: AtomicU64,
    /// `error` frames received (kefu), e.g. `slow_down` or `storage`.
    pub errors: AtomicU64,
}

/// Runs a conversation's visitor: sends each phase's messages on schedule,
/// pings in between, drains what the server sends (kefu: acks).
pub fn spawn_visitor(
    visitor: Visitor,
    index: usize,
    count: usize,
    mut phases: watch::Receiver<Option<Phase>>,
    stats: Arc<VisitorStats>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let (mut sink, mut stream) = visitor.ws.split();
        let gone = Arc::new(AtomicBool::new(false));
        let reader = {
            let stats = stats.clone();
            let gone = gone.clone();
            tokio::spawn(async move {
                while let Some(Ok(frame)) = stream.next().await {
                    if let Message::Text(text) = frame {
                        if text.starts_with("{\"type\":\"error\"") {
                            stats.errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                gone.store(true, Ordering::SeqCst);
            })
        };
        let mut keepalive = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
        let mut failed = false;
        loop {
            tokio::select! {
                changed = phases.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let phase = phases.borrow_and_update().clone();
                    if let Some(phase) = phase {
                        if !run_phase(&mut sink, index, count, &phase).await {
                            failed = true;
                            break;
                        }
                    }
                }
                _ = keepalive.tick() => {
                    if sink.send(ping()).await.is_err() {
                        failed = true;
                        break;
                    }
                }
            }
        }
        if failed || gone.load(Ordering::SeqCst) {
            stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
        reader.abort();
    })
}

/// Sends one phase's messages; false when the socket failed.
async fn run_phase(
    sink: &mut futures::stream::SplitSink<Ws, Message>,
    index: usize,
    count: usize,
    phase: &Phase,
) -> bool {
    let give_up = phase.start + phase.duration + SEND_SLACK;
    // Typing frames halfway between the conversations' message slots, each
    // with a draft the size of a short sentence (never timed: only
    // messages carry a mark).
    let typing = (phase.typing > 0.0)
        .then(|| schedule(index, count, phase.typing, phase.duration))
        .into_iter()
        .flatten()
        .map(|at| (at + Duration::from_secs_f64(0.5 / phase.rate), None));
    let messages = schedule(index, count, phase.rate, phase.duration)
        .enumerate()
        .map(|(k, at)| (at, Some(k)));
    let mut frames: Vec<(Duration, Option<usize>)> = messages.chain(typing).collect();
    frames.sort_by_key(|(at, _)| *at);
    for (offset, k) in frames {
        let due = phase.start + offset;
        let Some(k) = k else {
            if Instant::now() > give_up {
                return true;
            }
            let frame = format!(
                "{{\"type\":\"typing\",\"data\":{{\"active\":true,\"draft\":\"is my order {index} on its way yet\"}}}}"
            );
            tokio::time::sleep_until(due).await;
            match tokio::time::timeout_at(give_up, sink.send(Message::text(frame))).await {
                Ok(Ok(())) => continue,
                Ok(Err(_)) => return false,
                Err(_) => return true,
            }
        };
        tokio::time::sleep_until(due).await;
        let now = Instant::now();
        if now > give_up {
            return true;
        }
        if now.duration_since(due) > LATE {
            phase.late.fetch_add(1, Ordering::Relaxed);
        }
        let frame = format!(
            "{{\"type\":\"send\",\"data\":{{\"id\":\"p{}-{k}\",\"text\":\"b {} {}\"}}}}",
            phase.id,
            phase.id,
            ns_at(due)
        );
        match tokio::time::timeout_at(give_up, sink.send(Message::text(frame))).await {
            Ok(Ok(())) => {
                phase.sent.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Err(_)) => return false,
            Err(_) => return true,
        }
    }
    true
}

// ---------------------------------------------------------------------------
// Idle sockets
// ---------------------------------------------------------------------------

/// Many open sockets that only ping.
pub struct IdleSet {
    stop: watch::Sender<bool>,
    /// Bumped by [`IdleSet::ping_all`]: every socket pings at once.
    waves: watch::Sender<u64>,
    tasks: Vec<JoinHandle<()>>,
    pub connected: usize,
    pub failed: usize,
    pub first_error: Option<String>,
    /// From the first connect to the last welcome.
    pub took: Duration,
    /// Each connection's connect + handshake + hello → welcome, in µs.
    pub setup_us: Vec<u32>,
}

impl IdleSet {
    /// Makes every socket ping within the next [`WAVE_SPREAD`] (evenly
    /// spread over it, in the order they opened) and keep its 20 s schedule
    /// from there: their pings are then in step, as those of browsers that
    /// all reconnected within two seconds after a restart.
    pub fn ping_all(&self) {
        self.waves.send_modify(|n| *n += 1);
    }

    /// Closes every socket (drops them), waiting at most `max` for the tasks.
    pub async fn close(self, max: Duration) {
        let _ = self.stop.send(true);
        let deadline = Instant::now() + max;
        for task in self.tasks {
            let abort = task.abort_handle();
            if tokio::time::timeout_at(deadline, task).await.is_err() {
                abort.abort();
            }
        }
    }
}

/// Opens `n` idle visitor sockets, `concurrency` handshakes at a time. On
/// kefu each says a tokenless hello (a new visitor row each) and waits for
/// its welcome; on the relay it says hello to nobody.
pub async fn open_idle(target: Target, n: usize, concurrency: usize) -> IdleSet {
    let (stop, stop_rx) = watch::channel(false);
    let (waves, waves_rx) = watch::channel(0u64);
    let gate = Arc::new(Semaphore::new(concurrency));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<Result<u32, String>>();
    let started = Instant::now();
    let open = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        // This socket's place in a wave of pings.
        let offset = WAVE_SPREAD.mul_f64(i as f64 / n.max(1) as f64);
        let gate = gate.clone();
        let done = done_tx.clone();
        let mut stop = stop_rx.clone();
        let mut wave = waves_rx.clone();
        let open = open.clone();
        tasks.push(tokio::spawn(async move {
            let Ok(permit) = gate.acquire_owned().await else {
                return;
            };
            let t0 = Instant::now();
            let result = async {
                let path = match target.flavor {
                    Flavor::Kefu => "/ws/visitor",
                    Flavor::Relay => "/visitor/idle",
                };
                let mut ws = ws_connect(target.addr, path, None).await?;
                ws.send(hello()).await?;
                if target.flavor == Flavor::Kefu {
                    expect(&mut ws, "the welcome", |m| {
                        matches!(m, ServerMsg::Welcome { .. }).then_some(())
                    })
                    .await?;
                }
                Ok::<_, anyhow::Error>(ws)
            }
            .await;
            drop(permit);
            let mut ws = match result {
                Ok(ws) => {
                    open.fetch_add(1, Ordering::Relaxed);
                    let _ = done.send(Ok(t0.elapsed().as_micros() as u32));
                    ws
                }
                Err(e) => {
                    let _ = done.send(Err(format!("{e:#}")));
                    return;
                }
            };
            drop(done);
            let mut keepalive = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
            loop {
                tokio::select! {
                    frame = ws.next() => match frame {
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                        Some(Ok(_)) => {}
                    },
                    _ = keepalive.tick() => {
                        if ws.send(ping()).await.is_err() {
                            break;
                        }
                    }
                    Ok(()) = wave.changed() => {
                        keepalive.reset_at(Instant::now() + offset);
                    }
                    _ = stop.changed() => break,
                }
            }
        }));
    }
    drop(done_tx);
    let mut set = IdleSet {
        stop,
        waves,
        tasks,
        connected: 0,
        failed: 0,
        first_error: None,
        took: Duration::ZERO,
        setup_us: Vec::with_capacity(n),
    };
    // Every task reports once (or drops its sender); bounded by the connect timeout.
    while let Some(outcome) = done_rx.recv().await {
        match outcome {
            Ok(us) => {
                set.connected += 1;
                set.setup_us.push(us);
            }
            Err(e) => {
                set.failed += 1;
                set.first_error.get_or_insert(e);
            }
        }
        if set.connected + set.failed == n {
            break;
        }
    }
    set.took = started.elapsed();
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_parse() {
        let kefu = r#"{"type":"message","data":{"message":{"id":"p3-7","conversation":2,"seq":9,"author":"visitor","text":"b 3 123456789","sent_at":5}}}"#;
        assert_eq!(parse_mark(kefu), Some((3, 123_456_789)));
        let relay = r#"{"type":"send","data":{"id":"p3-7","text":"b 3 42"}}"#;
        assert_eq!(parse_mark(relay), Some((3, 42)));
        assert_eq!(parse_mark(r#"{"type":"pong"}"#), None);
        assert_eq!(parse_conversation(kefu), Some(2));
        assert_eq!(parse_conversation(relay), None);
    }

    #[test]
    fn schedule_counts() {
        let d = Duration::from_secs(2);
        assert_eq!(schedule(0, 4, 10.0, d).count(), 20);
        assert_eq!(schedule(3, 4, 10.0, d).count(), 20);
        assert!(schedule(3, 4, 10.0, d).all(|t| t < d));
    }
}
