//! A socket's first exchange: waiting for `hello`, checking the version,
//! identifying the visitor (by signed identity or token) or taking the
//! agent (from the session), `welcome`, and registering the socket with the hub.

use futures::StreamExt;

use super::guards::End;
use super::{decode, read_error, Frames, IDLE_TIMEOUT};
use crate::protocol::{ClientMsg, ErrorCode, Resume, ServerMsg, VisitorInfo, PROTOCOL_VERSION};
use crate::server::edge::visitors;
use crate::server::hub::{Conn, Hub, Peer};
use crate::server::storage::Storage;

/// What `hello` said.
pub(super) struct Hello {
    version: u16,
    token: Option<String>,
    resume: Vec<Resume>,
    identity: Option<String>,
}

/// Reads the next client message; `Err` when the socket is done.
async fn next_msg<S: Frames>(stream: &mut S, conn: &Conn) -> Result<ClientMsg, End> {
    loop {
        let frame = match tokio::time::timeout(IDLE_TIMEOUT, stream.next()).await {
            Ok(Some(Ok(frame))) => frame,
            Ok(Some(Err(e))) => return Err(read_error(&e)),
            _ => return Err(End::Gone),
        };
        if let Some(msg) = decode(frame, conn).map_err(|()| End::Gone)? {
            return Ok(msg);
        }
    }
}

/// Waits for `hello`; other frames meanwhile get `hello_first`. A text
/// frame that is not UTF-8 closes the socket with 1007.
pub(super) async fn read_hello<S: Frames>(stream: &mut S, conn: &Conn) -> Option<Hello> {
    loop {
        match next_msg(stream, conn).await {
            Ok(ClientMsg::Hello {
                version,
                token,
                resume,
                identity,
            }) => {
                return Some(Hello {
                    version,
                    token,
                    resume,
                    identity,
                })
            }
            Err(End::InvalidText) => {
                close_invalid_text(conn).await;
                return None;
            }
            Ok(_) => {
                conn.send(&ServerMsg::error(ErrorCode::HelloFirst, None))
                    .await
            }
            Err(_) => return None,
        }
    }
}

/// Closes a socket that sent a text frame that is not UTF-8 (RFC 6455 §7.4.1: 1007).
pub(super) async fn close_invalid_text(conn: &Conn) {
    conn.close(1007, "text frames must be UTF-8").await;
}

/// Identifies the peer, welcomes it and registers it with the hub.
pub(super) async fn register(
    hello: Hello,
    conn: &Conn,
    hub: &Hub,
    storage: &Storage,
    agent: Option<crate::protocol::AgentInfo>,
) -> Option<Peer> {
    let Hello {
        version,
        token,
        resume,
        identity,
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
            let who = visitors::identify(storage, hub, token.as_deref(), identity.as_deref()).await;
            let who = match who {
                Ok(who) => who,
                Err(e) => {
                    // Not a new visitor: a storage failure. Let the client retry.
                    tracing::error!(error = %e, "identifying a visitor failed");
                    conn.close(1011, "try again later").await;
                    return None;
                }
            };
            let visitor = who.visitor;
            if let Some(hash) = who.unstored {
                hub.hold_unstored(visitor, hash);
            }
            if let Some(profile) = who.verified {
                hub.relabel(visitor, profile).await;
            }
            conn.send(&ServerMsg::Welcome {
                visitor: Some(VisitorInfo {
                    label: visitor.label(),
                    token: who.issued,
                }),
                agent: None,
                agents_online: hub.agents_online(),
                conversations: None,
            })
            .await;
            if let Some(code) = who.refused {
                conn.send(&ServerMsg::error(code, None)).await;
            }
            hub.visitor_connected(visitor, conn, &resume).await;
            Some(Peer::Visitor(visitor))
        }
    }
}
