//! The two WebSocket endpoints: `/ws/visitor` and `/ws/agent`.
//!
//! Each socket gets a writer task fed by a bounded outbox and a reader loop
//! that decodes [`ClientMsg`] frames and hands them to the [`Hub`]. A bad
//! frame is answered with a typed error and never closes the socket.

use std::net::IpAddr;

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::stream::FuturesOrdered;
use futures::{SinkExt, StreamExt};
use tokio::sync::broadcast;

use super::auth;
use super::hub::{Conn, Hub, Outbound, Peer, Posting};
use super::limits::{KeyedBuckets, Permit, TokenBucket};
use super::outbox;
use super::security::{ClientAddr, Revoked, SecurityState};
use super::shutdown::Shutdown;
use super::AppState;
use crate::protocol::{
    check_text, AgentId, AgentInfo, ClientMsg, ErrorCode, MessageId, Resume, ServerMsg,
    TextProblem, VisitorInfo, MAX_FRAME_BYTES, MAX_MESSAGE_ID_LEN, PROTOCOL_VERSION,
};

/// Frames larger than this close the socket outright (1009); frames between
/// [`MAX_FRAME_BYTES`] and this get a typed `frame_too_large` error.
const HARD_FRAME_LIMIT: usize = 4 * MAX_FRAME_BYTES;
/// A socket that says nothing for this long is closed (clients ping every 20 s).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Time allowed for the first frame.
/// Most messages of one socket waiting for storage at once.
const MAX_IN_FLIGHT: usize = 256;
const HELLO_TIMEOUT: Duration = Duration::from_secs(15);
/// How often an agent socket re-checks that its session is still valid.
const SESSION_CHECK: Duration = Duration::from_secs(60);
/// Time the writer gets to flush after the reader is done.
const WRITER_FLUSH: Duration = Duration::from_secs(2);

/// What `hello` said.
struct Hello {
    version: u16,
    token: Option<String>,
    resume: Vec<Resume>,
}

/// Bytes each socket reads at a time: a `hello` or `ping` fits; a larger
/// frame grows the buffer to its own length once its header is read. Every
/// idle socket holds one such buffer, so it is kept small (tungstenite's
/// default is 128 KiB).
const READ_BUFFER: usize = 256;

fn upgrade(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.max_frame_size(HARD_FRAME_LIMIT)
        .max_message_size(HARD_FRAME_LIMIT)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(4 * 1024)
}

/// `GET /ws/visitor`: anyone may connect; identity comes from the token in `hello`.
pub async fn visitor_socket(
    ws: WebSocketUpgrade,
    addr: Option<Extension<ClientAddr>>,
    State(state): State<AppState>,
) -> Response {
    let addr = client(addr);
    match admit(&state, addr) {
        Ok(permit) => upgrade(ws).on_upgrade(move |socket| {
            spawn(socket, state, Who::Visitor, addr, permit);
            std::future::ready(())
        }),
        Err(refusal) => refusal.into_response(),
    }
}

/// Who a socket was opened by, as far as the upgrade request tells.
enum Who {
    Visitor,
    Agent {
        info: AgentInfo,
        /// Hash of the session token, to close the socket when the session ends.
        session: Vec<u8>,
    },
}

fn client(addr: Option<Extension<ClientAddr>>) -> ClientAddr {
    addr.map(|Extension(a)| a)
        .unwrap_or(ClientAddr(std::net::IpAddr::V4(
            std::net::Ipv4Addr::UNSPECIFIED,
        )))
}

/// Refuses new sockets while restarting, and past the per-address cap.
fn admit(
    state: &AppState,
    addr: ClientAddr,
) -> Result<Permit<std::net::IpAddr>, (StatusCode, &'static str)> {
    if state.shutdown.is_shutting_down() {
        return Err((StatusCode::SERVICE_UNAVAILABLE, "restarting; try again"));
    }
    state.security.conns_per_addr.acquire(addr.0).ok_or((
        StatusCode::TOO_MANY_REQUESTS,
        "too many connections from your address",
    ))
}

/// `GET /ws/agent`: needs a valid session cookie; 401 otherwise.
pub async fn agent_socket(
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    addr: Option<Extension<ClientAddr>>,
    State(state): State<AppState>,
) -> Response {
    let addr = client(addr);
    let permit = match admit(&state, addr) {
        Ok(permit) => permit,
        Err(refusal) => return refusal.into_response(),
    };
    let session = auth::session_token(&headers).map(|t| auth::token_hash(&t));
    let limits = &state.security.config.limits;
    let agent = match &session {
        Some(hash) => auth::session_agent(state.hub.storage(), hash, limits).await,
        None => Ok(None),
    };
    match (agent, session) {
        (Ok(Some(agent)), Some(session)) => {
            let who = Who::Agent {
                info: agent.info(),
                session,
            };
            upgrade(ws).on_upgrade(move |socket| {
                spawn(socket, state, who, addr, permit);
                std::future::ready(())
            })
        }
        (Ok(_), _) => (StatusCode::UNAUTHORIZED, "sign in first").into_response(),
        (Err(e), _) => {
            tracing::error!(error = %e, "session lookup failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "try again later").into_response()
        }
    }
}

fn error(code: ErrorCode, message: &str, id: Option<MessageId>) -> ServerMsg {
    ServerMsg::Error {
        code,
        message: message.to_owned(),
        id,
    }
}

/// Reads the next client message; `Err(())` when the socket is done.
async fn next_msg(
    stream: &mut futures::stream::SplitStream<WebSocket>,
    conn: &Conn,
) -> Result<ClientMsg, ()> {
    loop {
        let frame = match tokio::time::timeout(IDLE_TIMEOUT, stream.next()).await {
            Ok(Some(Ok(frame))) => frame,
            _ => return Err(()),
        };
        if let Some(msg) = decode(frame, conn)? {
            return Ok(msg);
        }
    }
}

/// One frame as a client message: `Ok(None)` for frames that carry none
/// (control frames, or bad ones, which the client is told about without
/// waiting), `Err(())` for a close.
fn decode(frame: Message, conn: &Conn) -> Result<Option<ClientMsg>, ()> {
    let text = match frame {
        Message::Text(text) => text,
        Message::Binary(_) => {
            conn.reply(&error(ErrorCode::BadFrame, "send JSON text frames", None));
            return Ok(None);
        }
        Message::Close(_) => return Err(()),
        Message::Ping(_) | Message::Pong(_) => return Ok(None),
    };
    if text.len() > MAX_FRAME_BYTES {
        conn.reply(&error(
            ErrorCode::FrameTooLarge,
            "frames are limited to 64 KiB",
            None,
        ));
        return Ok(None);
    }
    match serde_json::from_str::<ClientMsg>(&text) {
        Ok(msg) => Ok(Some(msg)),
        Err(e) => {
            conn.reply(&error(
                ErrorCode::BadFrame,
                &format!("not a kefu message: {e}"),
                None,
            ));
            Ok(None)
        }
    }
}

/// What a socket's task keeps of the app state (not Leptos' options: every
/// byte here is held by every open socket).
struct Ctx {
    hub: Hub,
    shutdown: Shutdown,
    security: SecurityState,
}

/// Sets a socket up and spawns its task. The setup happens here, outside
/// the task, so that the task's future holds only what the socket needs
/// while it lives (not the upgrade's arguments).
fn spawn(socket: WebSocket, state: AppState, who: Who, addr: ClientAddr, permit: Permit<IpAddr>) {
    let ctx = Ctx {
        hub: state.hub.clone(),
        shutdown: state.shutdown.clone(),
        security: state.security.clone(),
    };
    drop(state);
    let open = ctx.shutdown.guard();
    let (sink, stream) = socket.split();
    let (conn, outbox) = Conn::new(ctx.hub.next_conn_id());
    let writer = tokio::spawn(write_out(sink, outbox));
    tokio::spawn(async move {
        let _open = open;
        let _addr_permit = permit;
        run(ctx, stream, conn, writer, who, addr).await;
    });
}

/// The socket's writer: frames queued together go out in one write, fed one
/// by one and flushed when the outbox is empty (or a close frame ends the
/// socket).
async fn write_out(
    mut sink: futures::stream::SplitSink<WebSocket, Message>,
    outbox: outbox::Writer,
) {
    while let Some(batch) = outbox.next_batch().await {
        for out in batch {
            let result = match out {
                Outbound::Frame(frame) => sink.feed(Message::Text(frame)).await,
                Outbound::Close(code, reason) => {
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame {
                            code,
                            reason: Utf8Bytes::from_static(reason),
                        })))
                        .await;
                    return;
                }
            };
            if result.is_err() {
                return;
            }
        }
        if sink.flush().await.is_err() {
            return;
        }
    }
}

async fn run(
    ctx: Ctx,
    mut stream: futures::stream::SplitStream<WebSocket>,
    conn: Conn,
    writer: tokio::task::JoinHandle<()>,
    who: Who,
    addr: ClientAddr,
) {
    let hub = &ctx.hub;
    let shutdown = &ctx.shutdown;
    let mut overflowed = false;
    // Boxed (as are the other one-off steps below) so that their state does
    // not stay reserved in every idle socket's task.
    let hello = Box::pin(tokio::time::timeout(
        HELLO_TIMEOUT,
        read_hello(&mut stream, &conn),
    ))
    .await
    .ok()
    .flatten();
    let agent = match &who {
        Who::Agent { info, .. } => Some(info.clone()),
        Who::Visitor => None,
    };
    if let Some(hello) = hello {
        if let Some(peer) = Box::pin(register(hello, &conn, hub, agent)).await {
            let _visitor_permit = match &peer {
                Peer::Visitor(v) => match ctx.security.conns_per_visitor.acquire(*v) {
                    Some(p) => Some(p),
                    None => {
                        Box::pin(hub.visitor_disconnected(*v, conn.id())).await;
                        conn.close(4008, "too many open chats for this visitor")
                            .await;
                        return Box::pin(finish(conn, writer, &mut stream, false)).await;
                    }
                },
                Peer::Agent(_) => None,
            };
            let mut pace = Pace::new(&ctx.security, addr, matches!(who, Who::Visitor));
            let ended = Ended {
                shutdown,
                revoked: match &who {
                    Who::Agent { info, session } => Some(Box::new(Revocation {
                        rx: ctx.security.revocations(),
                        agent: info.id,
                        session: session.clone(),
                        ctx: &ctx,
                        check: tokio::time::interval_at(
                            tokio::time::Instant::now() + SESSION_CHECK,
                            SESSION_CHECK,
                        ),
                        last_use: Instant::now(),
                        check_due: false,
                    })),
                    Who::Visitor => None,
                },
            };
            let end = serve(&mut stream, &conn, hub, &peer, ended, &mut pace).await;
            overflowed = end == End::Overflow;
            if end == End::Revoked {
                conn.close(4001, "signed out").await;
            }
            if shutdown.is_shutting_down() {
                // The process is going away: no presence notices, clients reconnect to the next one.
                conn.close(1012, "server restarting").await;
            } else {
                match &peer {
                    Peer::Visitor(v) => Box::pin(hub.visitor_disconnected(*v, conn.id())).await,
                    Peer::Agent(a) => Box::pin(hub.agent_disconnected(a.id, conn.id())).await,
                }
            }
        }
    }
    Box::pin(finish(conn, writer, &mut stream, overflowed)).await;
}

/// Lets the writer flush what is queued (a close frame last, if any), then
/// reads and discards until the peer's close, so that the socket ends with a
/// clean close rather than a reset that would throw away frames still in
/// flight to the peer (its last acks, the close frame). Bounded, and skipped
/// for a peer that does not read.
async fn finish(
    conn: Conn,
    mut writer: tokio::task::JoinHandle<()>,
    stream: &mut futures::stream::SplitStream<WebSocket>,
    overflowed: bool,
) {
    drop(conn);
    if overflowed {
        writer.abort();
        return;
    }
    let drain = async {
        let _ = (&mut writer).await;
        while let Some(Ok(frame)) = stream.next().await {
            if matches!(frame, Message::Close(_)) {
                break;
            }
        }
    };
    if tokio::time::timeout(WRITER_FLUSH, drain).await.is_err() {
        writer.abort();
    }
}

/// Waits for `hello`; other frames meanwhile get `hello_first`.
async fn read_hello(
    stream: &mut futures::stream::SplitStream<WebSocket>,
    conn: &Conn,
) -> Option<Hello> {
    loop {
        match next_msg(stream, conn).await {
            Ok(ClientMsg::Hello {
                version,
                token,
                resume,
            }) => {
                return Some(Hello {
                    version,
                    token,
                    resume,
                })
            }
            Ok(_) => {
                conn.send(&error(
                    ErrorCode::HelloFirst,
                    "the first message must be hello",
                    None,
                ))
                .await
            }
            Err(()) => return None,
        }
    }
}

/// Identifies the peer, welcomes it and registers it with the hub.
async fn register(
    hello: Hello,
    conn: &Conn,
    hub: &Hub,
    agent: Option<crate::protocol::AgentInfo>,
) -> Option<Peer> {
    let Hello {
        version,
        token,
        resume,
    } = hello;
    if version != PROTOCOL_VERSION {
        conn.close(4000, "unsupported protocol version").await;
        return None;
    }
    let resume: Vec<Resume> = resume.into_iter().take(1000).collect();
    match agent {
        Some(info) => {
            conn.send(&ServerMsg::Welcome {
                visitor: None,
                agent: Some(info.clone()),
                agents_online: true,
                conversations: Some(hub.conversations_of(info.id)),
            })
            .await;
            hub.agent_connected(&info, conn, &resume).await;
            Some(Peer::Agent(info))
        }
        None => {
            let storage = hub.storage();
            let known = match &token {
                Some(t) if t.len() <= 128 => {
                    match storage.visitor_by_token(&auth::token_hash(t)).await {
                        Ok(found) => found,
                        Err(e) => {
                            // Not a new visitor: a storage failure. Let the client retry.
                            tracing::error!(error = %e, "looking up a visitor failed");
                            conn.close(1011, "try again later").await;
                            return None;
                        }
                    }
                }
                _ => None,
            };
            let (visitor, issued) = match known {
                Some(v) => (v, None),
                None => {
                    let token = auth::new_token();
                    match storage.create_visitor(&auth::token_hash(&token)).await {
                        Ok(v) => (v, Some(token)),
                        Err(e) => {
                            tracing::error!(error = %e, "creating a visitor failed");
                            conn.close(1011, "try again later").await;
                            return None;
                        }
                    }
                }
            };
            conn.send(&ServerMsg::Welcome {
                visitor: Some(VisitorInfo {
                    label: visitor.label(),
                    token: issued,
                }),
                agent: None,
                agents_online: hub.agents_online(),
                conversations: None,
            })
            .await;
            hub.visitor_connected(visitor, conn, &resume).await;
            Some(Peer::Visitor(visitor))
        }
    }
}

/// Checks a `send`'s id and text; on a problem, the sender gets the typed error.
async fn checked_send(conn: &Conn, id: &MessageId, text: &str) -> bool {
    let problem = if id.0.is_empty() || id.0.len() > MAX_MESSAGE_ID_LEN {
        Some((
            ErrorCode::BadMessageId,
            "message ids are 1 to 64 characters",
        ))
    } else {
        match check_text(text) {
            Ok(()) => None,
            Err(TextProblem::Blank) => Some((ErrorCode::EmptyText, "the message is empty")),
            Err(TextProblem::TooLong) => Some((
                ErrorCode::TextTooLong,
                "messages are limited to 4,000 characters",
            )),
        }
    };
    match problem {
        Some((code, message)) => {
            conn.send(&error(code, message, Some(id.clone()))).await;
            false
        }
        None => true,
    }
}

/// Why a socket's reader loop ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// The peer went away (or went silent).
    Gone,
    /// The server is restarting.
    Shutdown,
    /// Its outbox overflowed.
    Overflow,
    /// The agent's session ended (signed out, expired, disabled).
    Revoked,
}

/// An agent socket's tie to its session.
struct Revocation<'a> {
    rx: broadcast::Receiver<Revoked>,
    agent: AgentId,
    session: Vec<u8>,
    ctx: &'a Ctx,
    /// Kept across frames, so the periodic check runs however busy the socket is.
    check: tokio::time::Interval,
    /// When a message last marked the session used.
    last_use: Instant,
    /// A periodic check is due (survives this future being dropped).
    check_due: bool,
}

impl Revocation<'_> {
    /// Resolves when this socket's session ends: revoked, or found invalid
    /// by the periodic check (idle or absolute expiry).
    async fn ended(&mut self) {
        loop {
            // A check interrupted by a frame (this future is dropped then) is
            // redone first, not lost with its tick.
            if self.check_due {
                if !self.still_valid().await {
                    return;
                }
                self.check_due = false;
            }
            tokio::select! {
                r = self.rx.recv() => match r {
                    Ok(Revoked::Session(s)) if s == self.session => return,
                    Ok(Revoked::Agent(a)) if a == self.agent => return,
                    Ok(_) => {}
                    // Missed revocations: look at the session instead.
                    Err(broadcast::error::RecvError::Lagged(_)) => self.check_due = true,
                    Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
                },
                _ = self.check.tick() => self.check_due = true,
            }
        }
    }

    /// The agent acted (sent a message): the session counts as used, at most
    /// once a minute.
    async fn used(&mut self) {
        if self.last_use.elapsed() >= SESSION_CHECK {
            self.last_use = Instant::now();
            let limits = &self.ctx.security.config.limits;
            let _ = auth::session_agent(self.ctx.hub.storage(), &self.session, limits).await;
        }
    }

    async fn still_valid(&self) -> bool {
        let limits = &self.ctx.security.config.limits;
        // A storage hiccup is not a reason to throw the agent out.
        !matches!(
            auth::check_session(self.ctx.hub.storage(), &self.session, limits, false).await,
            Ok(None)
        )
    }
}

/// What can end a socket besides its peer.
struct Ended<'a> {
    shutdown: &'a Shutdown,
    /// Boxed: visitors' sockets have none, and should not carry its room.
    revoked: Option<Box<Revocation<'a>>>,
}

/// Rate limits on what a socket sends (token buckets; see docs/SECURITY.md).
struct Pace {
    own: TokenBucket,
    addr: Option<(KeyedBuckets<IpAddr>, IpAddr)>,
    visitor: bool,
}

impl Pace {
    fn new(security: &SecurityState, addr: ClientAddr, visitor: bool) -> Self {
        let l = &security.config.limits;
        Self {
            own: TokenBucket::new(l.msg_burst, l.msg_rate),
            addr: visitor.then(|| (security.addr_messages.clone(), addr.0)),
            visitor,
        }
    }

    /// Whether this frame may be acted on now. Sends always count; visitors'
    /// other frames count too (pings never do).
    fn allow(&mut self, msg: &ClientMsg) -> bool {
        let counted = match msg {
            ClientMsg::Ping => false,
            ClientMsg::Send { .. } => true,
            _ => self.visitor,
        };
        !counted
            || (self.own.try_take(Instant::now())
                && self.addr.as_ref().is_none_or(|(b, ip)| b.try_take(ip)))
    }
}

/// The reader loop after `hello`. Messages (`send`) are pipelined: each is
/// queued for storage and the next frame is read at once, with up to
/// [`MAX_IN_FLIGHT`] waiting for their commit; they are delivered and
/// acknowledged in the order sent. Any other frame first waits until the
/// messages before it are stored. Whatever ends the loop, messages already
/// queued are still delivered.
async fn serve(
    stream: &mut futures::stream::SplitStream<WebSocket>,
    conn: &Conn,
    hub: &Hub,
    peer: &Peer,
    mut ended: Ended<'_>,
    pace: &mut Pace,
) -> End {
    let mut in_flight: FuturesOrdered<InFlight> = FuturesOrdered::new();
    let end = read_loop(stream, conn, hub, peer, &mut ended, pace, &mut in_flight).await;
    while in_flight.next().await.is_some() {}
    end
}

/// A message waiting for its commit (see [`Posting`]).
type InFlight = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

async fn read_loop(
    stream: &mut futures::stream::SplitStream<WebSocket>,
    conn: &Conn,
    hub: &Hub,
    peer: &Peer,
    ended: &mut Ended<'_>,
    pace: &mut Pace,
    in_flight: &mut FuturesOrdered<InFlight>,
) -> End {
    let mut deadline = tokio::time::Instant::now() + IDLE_TIMEOUT;
    loop {
        let revoked = async {
            match ended.revoked.as_mut() {
                Some(r) => Box::pin(r.ended()).await,
                None => std::future::pending().await,
            }
        };
        let frame = tokio::select! {
            biased;
            Some(()) = in_flight.next(), if !in_flight.is_empty() => continue,
            frame = tokio::time::timeout_at(deadline, stream.next()),
                if in_flight.len() < MAX_IN_FLIGHT => match frame {
                Ok(Some(Ok(frame))) => frame,
                _ => return End::Gone,
            },
            _ = ended.shutdown.wait_begun() => return End::Shutdown,
            _ = conn.overflowed() => {
                tracing::debug!("closing a socket that could not keep up");
                return End::Overflow;
            }
            _ = revoked => return End::Revoked,
        };
        deadline = tokio::time::Instant::now() + IDLE_TIMEOUT;
        let msg = match decode(frame, conn) {
            Ok(Some(msg)) => msg,
            Ok(None) => continue,
            Err(()) => return End::Gone,
        };
        if !pace.allow(&msg) {
            let id = match msg {
                ClientMsg::Send { id, .. } => Some(id),
                _ => None,
            };
            conn.reply(&error(
                ErrorCode::SlowDown,
                "too many messages; slow down and retry",
                id,
            ));
            continue;
        }
        match msg {
            ClientMsg::Send {
                id,
                conversation,
                text,
            } => {
                if let Some(r) = ended.revoked.as_mut() {
                    Box::pin(r.used()).await;
                }
                if let Some(posting) =
                    Box::pin(submit(conn, hub, peer, id, conversation, &text)).await
                {
                    in_flight.push_back(Box::pin(posting.finish()));
                }
            }
            other => {
                while in_flight.next().await.is_some() {}
                Box::pin(handle(other, conn, hub, peer)).await;
            }
        }
    }
}

/// Checks a `send` and queues it for storage; `None` when it was refused
/// (the client was told) or handled to the end already.
async fn submit(
    conn: &Conn,
    hub: &Hub,
    peer: &Peer,
    id: MessageId,
    conversation: Option<crate::protocol::ConversationId>,
    text: &str,
) -> Option<Posting> {
    match peer {
        Peer::Visitor(v) => {
            if checked_send(conn, &id, text).await {
                return hub.visitor_submit(*v, conn, id, text).await;
            }
        }
        Peer::Agent(a) => match conversation {
            None => {
                conn.send(&error(
                    ErrorCode::BadFrame,
                    "agents must name the conversation",
                    Some(id),
                ))
                .await
            }
            Some(c) => {
                if checked_send(conn, &id, text).await {
                    return hub.agent_submit(a, conn, c, id, text).await;
                }
            }
        },
    }
    None
}

/// Acts on one decoded frame.
async fn handle(msg: ClientMsg, conn: &Conn, hub: &Hub, peer: &Peer) {
    let wrong_role = || error(ErrorCode::WrongRole, "not available on this socket", None);
    {
        match (msg, peer) {
            (ClientMsg::Ping, _) => conn.send(&ServerMsg::Pong).await,
            (ClientMsg::Hello { .. }, _) => {
                conn.send(&error(ErrorCode::BadFrame, "hello was already said", None))
                    .await
            }
            (ClientMsg::Start, Peer::Visitor(v)) => hub.visitor_start(*v, conn).await,
            (
                ClientMsg::Send {
                    id,
                    conversation,
                    text,
                },
                _,
            ) => {
                if let Some(posting) = submit(conn, hub, peer, id, conversation, &text).await {
                    posting.finish().await;
                }
            }
            (ClientMsg::Read { conversation, seq }, Peer::Agent(a)) => {
                hub.read(a, conversation, seq).await
            }
            (ClientMsg::Close { conversation }, Peer::Agent(a)) => {
                hub.close(a, conversation, conn).await
            }
            (ClientMsg::Start, Peer::Agent(_))
            | (ClientMsg::Read { .. }, Peer::Visitor(_))
            | (ClientMsg::Close { .. }, Peer::Visitor(_)) => conn.send(&wrong_role()).await,
        }
    }
}
