//! The browser's WebSocket driver: connects, says hello, feeds every server
//! message to a handler, sends what the UI queues, pings every 20 s, and
//! reconnects with exponential backoff and jitter (capped at 30 s).
//!
//! Dead links are noticed three ways: the socket closes; the browser says
//! it went offline (then it reconnects as soon as the browser is back
//! online); or nothing, not even a pong, arrived for 45 s.

use futures::channel::mpsc::{unbounded, UnboundedReceiver};
use futures::{FutureExt, SinkExt, StreamExt};
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
/// How often unacknowledged messages are looked at for a resend.
pub const RETRY_MS: u32 = 3_000;

/// What the page tells the driver about the network.
enum Net {
    Offline,
    Online,
}

/// What the UI plugs into the driver.
pub struct Handlers<H, M, R> {
    /// Builds `hello` at every (re)connect.
    pub hello: H,
    /// Gets every server message, `welcome` included.
    pub on_message: M,
    /// Called every [`RETRY_MS`] while connected: resend what is still unacknowledged.
    pub retry: R,
}

/// Starts the driver for the socket at `path` (e.g. `/ws/visitor`).
pub fn start<H, M, R>(outbox: Outbox, path: &'static str, handlers: Handlers<H, M, R>)
where
    H: Fn() -> ClientMsg + 'static,
    M: Fn(ServerMsg) + 'static,
    R: Fn() + 'static,
{
    let (tx, rx) = unbounded::<ClientMsg>();
    outbox.attach(tx);
    let (net_tx, net_rx) = unbounded::<Net>();
    let offline_tx = net_tx.clone();
    // The listeners live as long as the page: never removed.
    std::mem::forget(window_event_listener(leptos::ev::offline, move |_| {
        let _ = offline_tx.unbounded_send(Net::Offline);
    }));
    std::mem::forget(window_event_listener(leptos::ev::online, move |_| {
        let _ = net_tx.unbounded_send(Net::Online);
    }));
    leptos::task::spawn_local(drive(outbox, path, handlers, rx, net_rx));
}

fn frame(msg: &ClientMsg) -> Message {
    Message::Text(serde_json::to_string(msg).unwrap_or_default())
}

async fn drive<H, M, R>(
    outbox: Outbox,
    path: &'static str,
    handlers: Handlers<H, M, R>,
    mut rx: UnboundedReceiver<ClientMsg>,
    mut net: UnboundedReceiver<Net>,
) where
    H: Fn() -> ClientMsg + 'static,
    M: Fn(ServerMsg) + 'static,
    R: Fn() + 'static,
{
    let mut failures: u32 = 0;
    loop {
        if let Ok(ws) = WebSocket::open(&super::socket_url(path)) {
            let (mut sink, stream) = ws.split();
            let mut stream = stream.fuse();
            if sink.send(frame(&(handlers.hello)())).await.is_ok() {
                let mut pings = IntervalStream::new(PING_MS).fuse();
                let mut retries = IntervalStream::new(RETRY_MS).fuse();
                let mut last_heard = js_sys::Date::now();
                loop {
                    futures::select! {
                        incoming = stream.next() => match incoming {
                            Some(Ok(Message::Text(text))) => {
                                last_heard = js_sys::Date::now();
                                if let Ok(msg) = ServerMsg::from_json(&text) {
                                    if matches!(msg, ServerMsg::Welcome { .. }) {
                                        failures = 0;
                                        outbox.status.set(LinkStatus::Online);
                                    }
                                    (handlers.on_message)(msg);
                                }
                            }
                            Some(Ok(Message::Bytes(_))) => {}
                            Some(Err(_)) | None => break,
                        },
                        outgoing = rx.next() => match outgoing {
                            Some(msg) => {
                                if sink.send(frame(&msg)).await.is_err() {
                                    break;
                                }
                            }
                            None => return,
                        },
                        _ = pings.next() => {
                            // Pongs come back within a ping period: silence means a dead link.
                            if js_sys::Date::now() - last_heard > f64::from(DEAD_AFTER_MS)
                                || sink.send(frame(&ClientMsg::Ping)).await.is_err()
                            {
                                break;
                            }
                        }
                        _ = retries.next() => {
                            if outbox.status.get_untracked() == LinkStatus::Online {
                                (handlers.retry)();
                            }
                        }
                        event = net.next() => {
                            if matches!(event, Some(Net::Offline)) {
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
        // Wait out the backoff, or less if the browser says the network is back.
        let mut wait = TimeoutFuture::new(backoff_ms(failures)).fuse();
        loop {
            futures::select! {
                _ = wait => break,
                event = net.next() => {
                    if matches!(event, Some(Net::Online)) {
                        failures = 0;
                        break;
                    }
                }
            }
        }
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
