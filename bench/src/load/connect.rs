//! Opening a client socket (from a rotating 127.1.x.1 source address, with
//! kefu's buffer sizes) to kefu or the relay, and reading until an expected
//! server message.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use futures::StreamExt;
use kefu::protocol::ServerMsg;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// A client socket.
pub type Ws = WebSocketStream<TcpStream>;

/// Bound on connecting plus the first answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// Connections per source address (127.1.x.1) before moving to the next one,
/// so the ephemeral ports of one address never run out.
const CONNS_PER_SOURCE: u64 = 16_000;

/// Buffers like kefu's own sockets (4 KiB each way), on every bench socket.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
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
