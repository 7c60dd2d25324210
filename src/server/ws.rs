//! The two WebSocket endpoints: `/ws/visitor` and `/ws/agent`.
//!
//! Each socket gets a writer task fed by a bounded outbox and a reader loop
//! that decodes [`ClientMsg`] frames and hands them to the [`Hub`]. A bad
//! frame is answered with a typed error and never closes the socket.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use tokio::sync::{mpsc, Notify};

use super::auth;
use super::hub::{Conn, Hub, Outbound, Peer, OUTBOX_FRAMES};
use super::shutdown::Shutdown;
use super::AppState;
use crate::protocol::{
    check_text, ClientMsg, ErrorCode, MessageId, Resume, ServerMsg, TextProblem, VisitorInfo,
    MAX_FRAME_BYTES, MAX_MESSAGE_ID_LEN, PROTOCOL_VERSION,
};

/// Frames larger than this close the socket outright (1009); frames between
/// [`MAX_FRAME_BYTES`] and this get a typed `frame_too_large` error.
const HARD_FRAME_LIMIT: usize = 4 * MAX_FRAME_BYTES;
/// A socket that says nothing for this long is closed (clients ping every 20 s).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Time allowed for the first frame.
const HELLO_TIMEOUT: Duration = Duration::from_secs(15);
/// Time the writer gets to flush after the reader is done.
const WRITER_FLUSH: Duration = Duration::from_secs(2);

/// What `hello` said.
struct Hello {
    version: u16,
    token: Option<String>,
    resume: Vec<Resume>,
}

fn upgrade(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.max_frame_size(HARD_FRAME_LIMIT)
        .max_message_size(HARD_FRAME_LIMIT)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
}

/// `GET /ws/visitor`: anyone may connect; identity comes from the token in `hello`.
pub async fn visitor_socket(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    if state.shutdown.is_shutting_down() {
        return restarting();
    }
    upgrade(ws).on_upgrade(move |socket| run(socket, state, None))
}

fn restarting() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, "restarting; try again").into_response()
}

/// `GET /ws/agent`: needs a valid session cookie; 401 otherwise.
pub async fn agent_socket(
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    State(state): State<AppState>,
) -> Response {
    if state.shutdown.is_shutting_down() {
        return restarting();
    }
    match auth::current_agent(state.hub.storage(), &headers).await {
        Ok(Some(agent)) => {
            let info = agent.info();
            upgrade(ws).on_upgrade(move |socket| run(socket, state, Some(info)))
        }
        Ok(None) => (StatusCode::UNAUTHORIZED, "sign in first").into_response(),
        Err(e) => {
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
        let text = match frame {
            Message::Text(text) => text,
            Message::Binary(_) => {
                conn.send(&error(ErrorCode::BadFrame, "send JSON text frames", None))
                    .await;
                continue;
            }
            Message::Close(_) => return Err(()),
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        if text.len() > MAX_FRAME_BYTES {
            conn.send(&error(
                ErrorCode::FrameTooLarge,
                "frames are limited to 64 KiB",
                None,
            ))
            .await;
            continue;
        }
        match serde_json::from_str::<ClientMsg>(&text) {
            Ok(msg) => return Ok(msg),
            Err(e) => {
                conn.send(&error(
                    ErrorCode::BadFrame,
                    &format!("not a kefu message: {e}"),
                    None,
                ))
                .await;
            }
        }
    }
}

async fn run(socket: WebSocket, state: AppState, agent: Option<crate::protocol::AgentInfo>) {
    let _open = state.shutdown.guard();
    let hub = state.hub;
    let shutdown = state.shutdown;
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::channel::<Outbound>(OUTBOX_FRAMES);
    let overflow = Arc::new(Notify::new());
    let conn = Conn::new(hub.next_conn_id(), tx, overflow.clone());

    let mut writer = tokio::spawn(async move {
        while let Some(out) = rx.recv().await {
            let result = match out {
                Outbound::Frame(frame) => sink.send(Message::Text(frame)).await,
                Outbound::Close(code, reason) => {
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame {
                            code,
                            reason: Utf8Bytes::from_static(reason),
                        })))
                        .await;
                    break;
                }
            };
            if result.is_err() {
                break;
            }
        }
    });

    let mut overflowed = false;
    let hello = tokio::time::timeout(HELLO_TIMEOUT, read_hello(&mut stream, &conn))
        .await
        .ok()
        .flatten();
    if let Some(hello) = hello {
        if let Some(peer) = register(hello, &conn, &hub, agent).await {
            overflowed = serve(&mut stream, &conn, &hub, &peer, &shutdown, &overflow).await;
            if shutdown.is_shutting_down() {
                // The process is going away: no presence notices, clients reconnect to the next one.
                conn.close(1012, "server restarting").await;
            } else {
                match &peer {
                    Peer::Visitor(v) => hub.visitor_disconnected(*v, conn.id()).await,
                    Peer::Agent(a) => hub.agent_disconnected(a.id, conn.id()).await,
                }
            }
        }
    }
    drop(conn);
    // Let the writer flush a close frame, but never wait on a peer that does not read.
    if overflowed
        || tokio::time::timeout(WRITER_FLUSH, &mut writer)
            .await
            .is_err()
    {
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

/// The reader loop after `hello`. Each frame is handled to the end before
/// the next is read, so a shutdown never cuts a frame's handling in half.
/// Returns true when the socket is dropped for not keeping up.
async fn serve(
    stream: &mut futures::stream::SplitStream<WebSocket>,
    conn: &Conn,
    hub: &Hub,
    peer: &Peer,
    shutdown: &Shutdown,
    overflow: &Notify,
) -> bool {
    loop {
        let msg = tokio::select! {
            msg = next_msg(stream, conn) => match msg {
                Ok(msg) => msg,
                Err(()) => return false,
            },
            _ = shutdown.wait_begun() => return false,
            _ = overflow.notified() => {
                tracing::debug!("closing a socket that could not keep up");
                return true;
            }
        };
        handle(msg, conn, hub, peer).await;
    }
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
            (ClientMsg::Send { id, text, .. }, Peer::Visitor(v)) => {
                if checked_send(conn, &id, &text).await {
                    hub.visitor_send(*v, conn, id, &text).await;
                }
            }
            (
                ClientMsg::Send {
                    id,
                    conversation,
                    text,
                },
                Peer::Agent(a),
            ) => match conversation {
                None => {
                    conn.send(&error(
                        ErrorCode::BadFrame,
                        "agents must name the conversation",
                        Some(id),
                    ))
                    .await
                }
                Some(c) => {
                    if checked_send(conn, &id, &text).await {
                        hub.agent_send(a, conn, c, id, &text).await;
                    }
                }
            },
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
