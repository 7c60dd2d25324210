//! What crosses a socket: incoming frames decoded into client messages
//! (or told apart as errors and closes), outgoing frames written in batches.

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use futures::{Sink, SinkExt};

use super::guards::End;
use crate::protocol::{ClientMsg, ErrorCode, ServerMsg, MAX_FRAME_BYTES};
use crate::server::hub::{Conn, Drain, Outbound};

/// Why reading a socket failed: a text frame that is not UTF-8 is told
/// apart, to be closed with 1007; anything else means the peer is gone.
pub(super) fn read_error(e: &axum::Error) -> End {
    let inner = std::error::Error::source(e);
    match inner.and_then(|e| e.downcast_ref::<tungstenite::Error>()) {
        Some(tungstenite::Error::Utf8(_)) => End::InvalidText,
        _ => End::Gone,
    }
}

/// One frame as a client message: `Ok(None)` for frames that carry none
/// (control frames, or bad ones, which the client is told about without
/// waiting), `Err(())` for a close.
pub(super) fn decode(frame: Message, conn: &Conn) -> Result<Option<ClientMsg>, ()> {
    let text = match frame {
        Message::Text(text) => text,
        Message::Binary(_) => {
            conn.reply(&ServerMsg::error(ErrorCode::BadFrame, None));
            return Ok(None);
        }
        Message::Close(_) => return Err(()),
        Message::Ping(_) | Message::Pong(_) => return Ok(None),
    };
    if text.len() > MAX_FRAME_BYTES {
        conn.reply(&ServerMsg::error(ErrorCode::FrameTooLarge, None));
        return Ok(None);
    }
    match serde_json::from_str::<ClientMsg>(&text) {
        Ok(msg) => Ok(Some(msg)),
        Err(e) => {
            tracing::debug!(error = %e, "a frame that is not a kefu message");
            conn.reply(&ServerMsg::error(ErrorCode::BadFrame, None));
            Ok(None)
        }
    }
}

/// The socket's writer: frames queued together go out in one write, fed one
/// by one and flushed when the outbox is empty (or a close frame ends the
/// socket).
pub(super) async fn write_out<K>(mut sink: K, outbox: Drain)
where
    K: Sink<Message, Error = axum::Error> + Unpin,
{
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
