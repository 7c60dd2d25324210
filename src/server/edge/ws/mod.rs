//! The two WebSocket endpoints: `/ws/visitor` and `/ws/agent`.
//!
//! Each socket gets a writer task fed by a bounded outbox and a reader loop
//! that decodes [`ClientMsg`] frames and hands them to the [`Hub`]. A bad
//! frame is answered with a typed error and never closes the socket.
//!
//! Here: the endpoints, each socket's set-up and end; `frames.rs` decoding
//! what comes in and writing what goes out; `hello.rs` the first exchange
//! and registration; `serve.rs` the reader loop;
//! `guards.rs` what else ends a socket and the pace of its messages.

use std::net::IpAddr;

use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::{Sink, Stream, StreamExt};
use tracing::Instrument;

use crate::protocol::{AgentInfo, MAX_FRAME_BYTES};
use crate::server::edge::auth;
use crate::server::edge::limits::Permit;
use crate::server::edge::security::{ClientAddr, SecurityState};
use crate::server::edge::trace::ConnId;
use crate::server::hub::{Conn, Hub, Peer};
use crate::server::secrets;
use crate::server::shutdown::Shutdown;
use crate::server::storage::{ClientFacts, Storage};
use crate::server::AppState;

/// A socket's incoming frames, as the reader loop reads them: axum's
/// WebSocket in the server, any stream (a channel) where that is handier.
pub trait Frames: Stream<Item = Result<Message, axum::Error>> + Unpin + Send {}

impl<T: Stream<Item = Result<Message, axum::Error>> + Unpin + Send> Frames for T {}

mod frames;
mod guards;
mod hello;
mod serve;

use frames::{decode, read_error, write_out};
use guards::{End, Ended, Pace, Revocation};
use hello::{close_invalid_text, read_hello, register};
use serve::serve;

/// Frames larger than this end the socket outright (dropped, without a
/// close frame: docs/PROTOCOL.md); frames between [`MAX_FRAME_BYTES`] and
/// this get a typed `frame_too_large` error.
const HARD_FRAME_LIMIT: usize = 4 * MAX_FRAME_BYTES;
/// A socket that says nothing for this long is closed (clients ping every 20 s).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Most messages of one socket waiting for storage at once.
const MAX_IN_FLIGHT: usize = 256;
/// Time allowed for the first frame.
const HELLO_TIMEOUT: Duration = Duration::from_secs(15);
/// How often an agent socket re-checks that its session is still valid.
const SESSION_CHECK: Duration = Duration::from_secs(60);
/// Time the writer gets to flush after the reader is done.
const WRITER_FLUSH: Duration = Duration::from_secs(2);

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
    headers: HeaderMap,
    addr: Option<Extension<ClientAddr>>,
    id: Option<Extension<ConnId>>,
    State(state): State<AppState>,
) -> Response {
    let addr = client(addr);
    match admit(&state, addr) {
        Ok(permit) => {
            // Read now: the request's headers are gone once upgraded.
            let facts = Some(Box::new(crate::server::edge::visits::client_facts(
                &headers,
            )));
            upgrade(ws).on_upgrade(move |socket| {
                spawn(socket, state, Who::Visitor(facts), addr, permit, id);
                std::future::ready(())
            })
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// Who a socket was opened by, as far as the upgrade request tells.
enum Who {
    /// A visitor, with what their browser said of itself (stored once
    /// they are known).
    Visitor(Option<Box<ClientFacts>>),
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
    id: Option<Extension<ConnId>>,
    State(state): State<AppState>,
) -> Response {
    let addr = client(addr);
    let permit = match admit(&state, addr) {
        Ok(permit) => permit,
        Err(refusal) => return refusal.into_response(),
    };
    let session = auth::session_token(&headers).map(|t| secrets::token_hash(&t));
    let limits = &state.security.config.limits;
    let agent = match &session {
        Some(hash) => auth::session_agent(&state.storage, hash, limits).await,
        None => Ok(None),
    };
    match (agent, session) {
        (Ok(Some(agent)), Some(session)) => {
            let who = Who::Agent {
                info: agent.info(),
                session,
            };
            upgrade(ws).on_upgrade(move |socket| {
                spawn(socket, state, who, addr, permit, id);
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

/// What a socket's task keeps of the app state (not Leptos' options: every
/// byte here is held by every open socket).
struct Ctx {
    hub: Hub,
    storage: Storage,
    shutdown: Shutdown,
    security: SecurityState,
    /// Admins' settings (whether drafts are previewed).
    site: crate::server::site::Site,
}

/// Sets a socket up and spawns its task. The setup happens here, outside
/// the task, so that the task's future holds only what the socket needs
/// while it lives (not the upgrade's arguments).
fn spawn<W>(
    socket: W,
    state: AppState,
    who: Who,
    addr: ClientAddr,
    permit: Permit<IpAddr>,
    id: Option<Extension<ConnId>>,
) where
    W: Frames + Sink<Message, Error = axum::Error> + 'static,
{
    let ctx = Ctx {
        hub: state.hub.clone(),
        storage: state.storage.clone(),
        shutdown: state.shutdown.clone(),
        security: state.security.clone(),
        site: state.site.clone(),
    };
    drop(state);
    let open = ctx.shutdown.guard();
    let (sink, stream) = socket.split();
    // The upgrade request's id (see `edge::trace`): its lines and the socket's match.
    let id = id.map_or_else(|| ctx.hub.next_conn_id(), |Extension(ConnId(id))| id);
    let role = match who {
        Who::Visitor(_) => "visitor",
        Who::Agent { .. } => "agent",
    };
    let span = tracing::info_span!("socket", conn = id, role);
    let (conn, outbox) = Conn::new(id);
    let writer = tokio::spawn(write_out(sink, outbox));
    tokio::spawn(
        async move {
            let _open = open;
            let _addr_permit = permit;
            tracing::info!("socket opened");
            run(ctx, stream, conn, writer, who, addr).await;
            tracing::info!("socket closed");
        }
        .instrument(span),
    );
}

async fn run<S: Frames>(
    ctx: Ctx,
    mut stream: S,
    conn: Conn,
    writer: tokio::task::JoinHandle<()>,
    mut who: Who,
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
        Who::Visitor(_) => None,
    };
    if let Some(hello) = hello {
        if let Some(peer) = Box::pin(register(hello, &conn, hub, &ctx.storage, agent)).await {
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
            if let (Peer::Visitor(v), Who::Visitor(facts)) = (&peer, &mut who) {
                // Off the socket's path, and not kept while it lives.
                // Held by the hub instead while the visitor is not stored.
                let facts = facts.take().and_then(|f| hub.client_facts(*v, *f));
                if let Some(facts) = facts {
                    let (storage, v) = (ctx.storage.clone(), *v);
                    tokio::spawn(async move {
                        if let Err(e) = storage.record_client(v, &facts).await {
                            tracing::warn!(error = %e, "storing a visitor's browser failed");
                        }
                    });
                }
            }
            let mut pace = Pace::new(&ctx.security, addr, matches!(who, Who::Visitor(_)));
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
                    Who::Visitor(_) => None,
                },
            };
            let end = serve(&mut stream, &conn, hub, &ctx.site, &peer, ended, &mut pace).await;
            overflowed = end == End::Overflow;
            if end == End::Revoked {
                conn.close(4001, "signed out").await;
            }
            if end == End::InvalidText {
                close_invalid_text(&conn).await;
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
async fn finish<S: Frames>(
    conn: Conn,
    mut writer: tokio::task::JoinHandle<()>,
    stream: &mut S,
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
