//! A registered socket's reader: frames decoded and acted on, `send`s
//! pipelined (queued for storage while the next frame is read) and
//! acknowledged in the order sent.

use axum::extract::ws::WebSocket;
use futures::stream::FuturesOrdered;
use futures::StreamExt;

use super::guards::{End, Ended, Pace};
use super::{decode, IDLE_TIMEOUT, MAX_IN_FLIGHT};
use crate::protocol::{
    check_text, ClientMsg, ErrorCode, MessageId, ServerMsg, TextProblem, MAX_MESSAGE_ID_LEN,
};
use crate::server::hub::{Conn, Hub, Peer, Posting, Typed};

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
            conn.send(&ServerMsg::error(code, message, Some(id.clone())))
                .await;
            false
        }
        None => true,
    }
}

/// The reader loop after `hello`. Messages (`send`) are pipelined: each is
/// queued for storage and the next frame is read at once, with up to
/// [`MAX_IN_FLIGHT`] waiting for their commit; they are delivered and
/// acknowledged in the order sent. Any other frame first waits until the
/// messages before it are stored. Whatever ends the loop, messages already
/// queued are still delivered.
pub(super) async fn serve(
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
            conn.reply(&ServerMsg::error(
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
                resend,
            } => {
                if let Some(r) = ended.revoked.as_mut() {
                    Box::pin(r.used()).await;
                }
                let typed = Typed { id, text, resend };
                if let Some(posting) = Box::pin(submit(conn, hub, peer, typed, conversation)).await
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
    typed: Typed,
    conversation: Option<crate::protocol::ConversationId>,
) -> Option<Posting> {
    match peer {
        Peer::Visitor(v) => {
            if checked_send(conn, &typed.id, &typed.text).await {
                return hub.visitor_submit(*v, conn, typed).await;
            }
        }
        Peer::Agent(a) => match conversation {
            None => {
                conn.send(&ServerMsg::error(
                    ErrorCode::BadFrame,
                    "agents must name the conversation",
                    Some(typed.id),
                ))
                .await
            }
            Some(c) => {
                if checked_send(conn, &typed.id, &typed.text).await {
                    return hub.agent_submit(a, conn, c, typed).await;
                }
            }
        },
    }
    None
}

/// Acts on one decoded frame.
async fn handle(msg: ClientMsg, conn: &Conn, hub: &Hub, peer: &Peer) {
    let wrong_role =
        || ServerMsg::error(ErrorCode::WrongRole, "not available on this socket", None);
    {
        match (msg, peer) {
            (ClientMsg::Ping, _) => conn.send(&ServerMsg::Pong).await,
            (ClientMsg::Hello { .. }, _) => {
                conn.send(&ServerMsg::error(
                    ErrorCode::BadFrame,
                    "hello was already said",
                    None,
                ))
                .await
            }
            (ClientMsg::Start, Peer::Visitor(v)) => hub.visitor_start(*v, conn).await,
            (
                ClientMsg::Send {
                    id,
                    conversation,
                    text,
                    resend,
                },
                _,
            ) => {
                let typed = Typed { id, text, resend };
                if let Some(posting) = submit(conn, hub, peer, typed, conversation).await {
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
