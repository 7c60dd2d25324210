//! A client that behaves like the bundled ones when its node goes away:
//! it opens its socket through the load balancer again (retrying while
//! nothing answers), says hello with its token and the last seq it holds of
//! each conversation, and sends again, marked as resends, the messages not
//! acknowledged yet. Never panics on a broken socket: the tests of nodes
//! dying use it.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use kefu::protocol::{ChatMessage, ClientMsg, ConversationId, Resume, ServerMsg, PROTOCOL_VERSION};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::MaybeTlsStream;

use super::client::{send, Ws};

/// How long a client keeps trying to get back before the test fails.
const GIVE_UP: Duration = Duration::from_secs(30);

/// One resilient socket (a visitor's or an agent's).
pub struct Resilient {
    who: String,
    addr: SocketAddr,
    path: &'static str,
    cookie: Option<String>,
    /// The visitor's token, once welcomed.
    pub token: Option<String>,
    ws: Option<Ws>,
    /// Highest seq held per conversation (what a resume asks after).
    held: HashMap<ConversationId, i64>,
    /// Sent and not acknowledged: id → (conversation, text).
    pending: BTreeMap<String, (Option<ConversationId>, String)>,
    /// Acknowledged: id → seq.
    pub acked: BTreeMap<String, i64>,
    /// Every message received, in arrival order (replays included).
    pub messages: Vec<ChatMessage>,
    /// Every other frame received.
    pub frames: Vec<ServerMsg>,
    /// How long each way back took: from noticing the socket gone to the welcome.
    pub outages: Vec<Duration>,
    /// Conversations the last agent welcome listed.
    pub serves: Vec<ConversationId>,
}

impl Resilient {
    /// Opens a visitor's socket through `addr` (a new visitor).
    pub async fn visitor(addr: SocketAddr, who: &str) -> Self {
        Self::open(addr, "/ws/visitor", None, who).await
    }

    /// Opens an agent's socket through `addr` with the `Cookie` value `cookie`.
    pub async fn agent(addr: SocketAddr, cookie: &str, who: &str) -> Self {
        Self::open(addr, "/ws/agent", Some(cookie.to_owned()), who).await
    }

    async fn open(addr: SocketAddr, path: &'static str, cookie: Option<String>, who: &str) -> Self {
        let mut client = Self {
            who: who.to_owned(),
            addr,
            path,
            cookie,
            token: None,
            ws: None,
            held: HashMap::new(),
            pending: BTreeMap::new(),
            acked: BTreeMap::new(),
            messages: Vec::new(),
            frames: Vec::new(),
            outages: Vec::new(),
            serves: Vec::new(),
        };
        client.reconnect().await;
        client.outages.clear();
        client
    }

    /// Gets back through `addr` from now on (the load balancer, once its
    /// first node is gone).
    pub fn through(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Sends a message (`conversation` for an agent's); kept until acknowledged.
    pub async fn say(&mut self, id: &str, conversation: Option<ConversationId>, text: &str) {
        self.pending
            .insert(id.to_owned(), (conversation, text.to_owned()));
        let msg = send(id, conversation, text, false);
        self.write(&msg).await;
    }

    /// Sends a client message as is (best effort).
    pub async fn send(&mut self, msg: &ClientMsg) {
        self.write(msg).await;
    }

    /// How many messages wait for their ack.
    pub fn unacked(&self) -> usize {
        self.pending.len()
    }

    /// Reads what arrives for `wait`, getting back whenever the socket goes.
    pub async fn pump(&mut self, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let Some(ws) = self.ws.as_mut() else {
                self.reconnect().await;
                continue;
            };
            match tokio::time::timeout_at(deadline, ws.next()).await {
                Err(_) => return,
                Ok(Some(Ok(Message::Text(text)))) => {
                    if let Ok(msg) = serde_json::from_str::<ServerMsg>(&text) {
                        self.take(msg);
                    }
                }
                Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => {
                    self.ws = None;
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Reads until `done` holds (getting back as needed), for at most `limit`.
    pub async fn pump_until(&mut self, limit: Duration, mut done: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + limit;
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "{}: not done within {limit:?} ({} unacknowledged)",
                self.who,
                self.pending.len()
            );
            self.pump(Duration::from_millis(100)).await;
        }
    }

    fn take(&mut self, msg: ServerMsg) {
        match msg {
            ServerMsg::Ack {
                id,
                conversation,
                seq,
            } => {
                self.pending.remove(&id.0);
                self.acked.insert(id.0, seq);
                let held = self.held.entry(conversation).or_default();
                *held = (*held).max(seq);
            }
            ServerMsg::Message { message } => {
                let held = self.held.entry(message.conversation).or_default();
                *held = (*held).max(message.seq);
                self.messages.push(message);
            }
            ServerMsg::Conversation { ref conversation } => {
                self.held.entry(conversation.id).or_default();
                self.frames.push(msg);
            }
            other => self.frames.push(other),
        }
    }

    async fn write(&mut self, msg: &ClientMsg) {
        let text = serde_json::to_string(msg).expect("a client message serializes");
        if let Some(ws) = self.ws.as_mut() {
            if ws.send(Message::text(text)).await.is_err() {
                self.ws = None;
            }
        }
    }

    /// Opens the socket again until a welcome comes, then resends what
    /// was not acknowledged.
    async fn reconnect(&mut self) {
        let started = Instant::now();
        loop {
            assert!(
                started.elapsed() < GIVE_UP,
                "{}: could not get back within {GIVE_UP:?}",
                self.who
            );
            if let Some(ws) = self.try_open().await {
                self.ws = Some(ws);
                if self.hello().await {
                    break;
                }
                self.ws = None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.outages.push(started.elapsed());
        let pending: Vec<(String, Option<ConversationId>, String)> = self
            .pending
            .iter()
            .map(|(id, (c, t))| (id.clone(), *c, t.clone()))
            .collect();
        for (id, conversation, text) in pending {
            self.write(&send(&id, conversation, &text, true)).await;
        }
    }

    async fn try_open(&self) -> Option<Ws> {
        let stream = tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(self.addr))
            .await
            .ok()?
            .ok()?;
        let _ = stream.set_nodelay(true);
        let mut request = format!("ws://{}{}", self.addr, self.path)
            .into_client_request()
            .ok()?;
        if let Some(cookie) = &self.cookie {
            request
                .headers_mut()
                .insert("Cookie", HeaderValue::from_str(cookie).ok()?);
        }
        let upgrade = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream));
        let (ws, _) = tokio::time::timeout(Duration::from_secs(2), upgrade)
            .await
            .ok()?
            .ok()?;
        Some(ws)
    }

    /// Says hello and waits for the welcome; `false` if the socket failed.
    async fn hello(&mut self) -> bool {
        let resume = self
            .held
            .iter()
            .map(|(conversation, after)| Resume {
                conversation: *conversation,
                after: *after,
            })
            .collect();
        let hello = ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            token: self.token.clone(),
            resume,
            identity: None,
        };
        self.write(&hello).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        loop {
            let Some(ws) = self.ws.as_mut() else {
                return false;
            };
            match tokio::time::timeout_at(deadline, ws.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    match serde_json::from_str::<ServerMsg>(&text) {
                        Ok(ServerMsg::Welcome {
                            visitor,
                            conversations,
                            ..
                        }) => {
                            if let Some(token) = visitor.and_then(|v| v.token) {
                                self.token = Some(token);
                            }
                            self.serves = conversations.unwrap_or_default();
                            return true;
                        }
                        Ok(other) => self.take(other),
                        Err(_) => {}
                    }
                }
                Ok(Some(Ok(_))) => {}
                _ => return false,
            }
        }
    }
}
