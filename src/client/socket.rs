//! The browser's WebSocket driver: connects, says hello, feeds every server
//! message to a handler, sends what the UI queues, pings every 20 s, and
//! reconnects with exponential backoff and jitter (capped at 30 s).

use futures::channel::mpsc::{unbounded, UnboundedReceiver};
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message};
use gloo_timers::future::{IntervalStream, TimeoutFuture};
use leptos::prelude::*;

use crate::chat::{LinkStatus, Outbox};
use crate::protocol::{ClientMsg, ServerMsg};

/// Longest wait between reconnect attempts, in milliseconds.
const MAX_BACKOFF_MS: u32 = 30_000;
/// Keep-alive period, in milliseconds.
const PING_MS: u32 = 20_000;
/// A link that said nothing (not even a pong) for this long is dead.
const DEAD_AFTER_MS: u32 = 2 * PING_MS + 5_000;

/// Starts the driver for the socket at `path` (e.g. `/ws/visitor`).
/// `hello` builds the first frame at every (re)connect; `on_message` gets
/// every server message, `welcome` included.
pub fn start(
    outbox: Outbox,
    path: &'static str,
    hello: impl Fn() -> ClientMsg + 'static,
    on_message: impl Fn(ServerMsg) + 'static,
) {
    let (tx, rx) = unbounded::<ClientMsg>();
    outbox.attach(tx);
    leptos::task::spawn_local(drive(outbox, path, hello, on_message, rx));
}

async fn drive(
    outbox: Outbox,
    path: &'static str,
    hello: impl Fn() -> ClientMsg + 'static,
    on_message: impl Fn(ServerMsg) + 'static,
    mut rx: UnboundedReceiver<ClientMsg>,
) {
    let mut failures: u32 = 0;
    loop {
        if let Ok(ws) = WebSocket::open(&super::socket_url(path)) {
            let (mut sink, stream) = ws.split();
            let mut stream = stream.fuse();
            let hello_frame = serde_json::to_string(&hello()).unwrap_or_default();
            if sink.send(Message::Text(hello_frame)).await.is_ok() {
                let mut ticks = IntervalStream::new(PING_MS).fuse();
                let mut last_heard = js_sys::Date::now();
                loop {
                    futures::select! {
                        incoming = stream.next() => match incoming {
                            Some(Ok(Message::Text(text))) => {
                                last_heard = js_sys::Date::now();
                                if let Ok(msg) = serde_json::from_str::<ServerMsg>(&text) {
                                    if matches!(msg, ServerMsg::Welcome { .. }) {
                                        failures = 0;
                                        outbox.status.set(LinkStatus::Online);
                                    }
                                    on_message(msg);
                                }
                            }
                            Some(Ok(Message::Bytes(_))) => {}
                            Some(Err(_)) | None => break,
                        },
                        outgoing = rx.next() => match outgoing {
                            Some(msg) => {
                                let frame = serde_json::to_string(&msg).unwrap_or_default();
                                if sink.send(Message::Text(frame)).await.is_err() {
                                    break;
                                }
                            }
                            None => return,
                        },
                        _ = ticks.next() => {
                            // Pongs come back within a ping period: silence means a dead link.
                            if js_sys::Date::now() - last_heard > f64::from(DEAD_AFTER_MS) {
                                break;
                            }
                            let frame = serde_json::to_string(&ClientMsg::Ping).unwrap_or_default();
                            if sink.send(Message::Text(frame)).await.is_err() {
                                break;
                            }
                        }
                    }
                }
            }
        }
        outbox.status.set(LinkStatus::Reconnecting);
        // Frames queued for the dead socket are dropped: pending messages are resent on welcome.
        while rx.try_recv().is_ok() {}
        failures = failures.saturating_add(1);
        TimeoutFuture::new(backoff_ms(failures)).await;
    }
}

/// Exponential backoff with jitter: a random wait between half and all of
/// min(30 s, 250 ms × 2^n).
fn backoff_ms(failures: u32) -> u32 {
    let ceiling = 250u32
        .saturating_mul(1 << failures.min(7))
        .min(MAX_BACKOFF_MS);
    let jitter = js_sys::Math::random();
    ((ceiling as f64) * (0.5 + jitter / 2.0)) as u32
}
