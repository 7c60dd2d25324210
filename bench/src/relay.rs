//! The baseline: a bare WebSocket relay (`kefu-bench relay --addr …`), run
//! as its own process on the same core as kefu would be. No storage, no
//! routing table beyond a map of agent sockets, no JSON: every text frame a
//! socket at `/visitor/<key>` sends is forwarded as is to the socket at
//! `/agent/<key>` (frames for a key with no agent are dropped). Each agent
//! socket has a writer task fed by a bounded channel, like kefu's outboxes,
//! and the same 4 KiB buffers as kefu's sockets. It answers nothing.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use futures::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;

use super::load::ws_config;

/// Frames that may wait for one agent socket.
const OUTBOX: usize = 1024;

type Agents = Arc<Mutex<HashMap<String, mpsc::Sender<Message>>>>;

/// Serves until killed.
pub fn run(addr: SocketAddr) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(addr).await?;
        let agents: Agents = Arc::default();
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(serve(stream, agents.clone()));
        }
    })
}

async fn serve(stream: TcpStream, agents: Agents) {
    let _ = stream.set_nodelay(true);
    let mut path = String::new();
    #[allow(clippy::result_large_err)] // the signature tungstenite asks for
    let callback = |req: &Request, resp: Response| {
        path = req.uri().path().to_owned();
        Ok(resp)
    };
    let Ok(ws) =
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(ws_config())).await
    else {
        return;
    };
    let (mut sink, mut stream) = ws.split();
    if let Some(key) = path.strip_prefix("/agent/") {
        let (tx, mut rx) = mpsc::channel::<Message>(OUTBOX);
        lock(&agents).insert(key.to_owned(), tx);
        let writer = tokio::spawn(async move {
            while let Some(frame) = rx.recv().await {
                if sink.send(frame).await.is_err() {
                    break;
                }
            }
        });
        // Read (and ignore) what the agent sends until it goes away.
        while let Some(Ok(frame)) = stream.next().await {
            if frame.is_close() {
                break;
            }
        }
        lock(&agents).remove(key);
        writer.abort();
    } else {
        let key = path.strip_prefix("/visitor/").unwrap_or("").to_owned();
        let mut agent: Option<mpsc::Sender<Message>> = None;
        while let Some(Ok(frame)) = stream.next().await {
            match frame {
                Message::Text(_) => {
                    if agent.as_ref().is_none_or(mpsc::Sender::is_closed) {
                        agent = lock(&agents).get(&key).cloned();
                    }
                    if let Some(tx) = &agent {
                        let _ = tx.send(frame).await;
                    }
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
    }
}

fn lock(agents: &Agents) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::Sender<Message>>> {
    agents.lock().unwrap_or_else(|e| e.into_inner())
}
