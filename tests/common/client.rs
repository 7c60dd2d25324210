//! A WebSocket client speaking kefu's protocol, for the integration tests:
//! opens sockets (or records the HTTP status that refused them), says hello,
//! sends typed frames, and waits for the frames a test expects (close frames
//! included), failing with every frame seen meanwhile when one does not come.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use kefu::protocol::{
    AgentInfo, ChatMessage, ClientMsg, ConversationId, ConversationSummary, ErrorCode, MessageId,
    Resume, ServerMsg, VisitorInfo, PROTOCOL_VERSION,
};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{connect, Server};

/// How long any single expectation may wait for its frame, unless the
/// client was given other patience ([`Client::with_patience`]).
pub const EXPECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The client side of one socket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One WebSocket client; `who` names it in failure messages.
pub struct Client {
    pub ws: Ws,
    pub who: String,
    /// How long each expectation waits for its frame.
    pub patience: Duration,
}

/// A server frame as a message; a frame that does not parse fails the test.
pub fn decode(who: &str, text: &str) -> ServerMsg {
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{who}: the server sent a bad frame {text:?}: {e}"))
}

/// What happened next on a socket.
#[derive(Debug)]
pub enum Event {
    /// A server message.
    Msg(ServerMsg),
    /// A close frame (`None`: one without a code).
    Closed(Option<Closed>),
    /// The stream ended without a close frame.
    Ended,
    /// Nothing within the time given.
    Timeout,
}

/// The code and reason of a close frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub code: u16,
    pub reason: String,
}

/// What a visitor's welcome said.
#[derive(Debug)]
pub struct VisitorWelcome {
    pub info: VisitorInfo,
    pub agents_online: bool,
}

/// What an agent's welcome said.
#[derive(Debug)]
pub struct AgentWelcome {
    pub info: AgentInfo,
    /// The open conversations the agent serves at connect time.
    pub conversations: Option<Vec<ConversationId>>,
}

impl AgentWelcome {
    /// The conversations the agent serves (none when the welcome listed none).
    pub fn serves(&self) -> Vec<ConversationId> {
        self.conversations.clone().unwrap_or_default()
    }
}

impl Client {
    /// Wraps an open socket.
    pub fn new(ws: Ws, who: &str) -> Self {
        Self {
            ws,
            who: who.to_owned(),
            patience: EXPECT_TIMEOUT,
        }
    }

    /// The same client, each expectation waiting up to `wait` (rather than
    /// [`EXPECT_TIMEOUT`]).
    pub fn with_patience(mut self, wait: Duration) -> Self {
        self.patience = wait;
        self
    }

    /// The same client under another name (for failure messages).
    pub fn named(mut self, who: &str) -> Self {
        self.who = who.to_owned();
        self
    }

    /// Sends one client message.
    pub async fn send(&mut self, msg: &ClientMsg) {
        let text = serde_json::to_string(msg).expect("a client message serializes");
        self.send_raw(text).await;
    }

    /// Sends a text frame as is.
    pub async fn send_raw(&mut self, text: String) {
        self.ws
            .send(Message::text(text))
            .await
            .unwrap_or_else(|e| panic!("{}: sending a frame failed: {e}", self.who));
    }

    /// Sends a message as a visitor (the conversation is implied).
    pub async fn say(&mut self, id: &str, text: &str) {
        self.send(&send(id, None, text, false)).await;
    }

    /// Sends a visitor's message again, marked as a resend (as the bundled
    /// clients do for every message not acknowledged).
    pub async fn say_again(&mut self, id: &str, text: &str) {
        self.send(&send(id, None, text, true)).await;
    }

    /// Sends a message into `conversation` (as an agent).
    pub async fn say_in(&mut self, conversation: ConversationId, id: &str, text: &str) {
        self.send(&send(id, Some(conversation), text, false)).await;
    }

    /// Sends an agent's message again, marked as a resend.
    pub async fn say_in_again(&mut self, conversation: ConversationId, id: &str, text: &str) {
        self.send(&send(id, Some(conversation), text, true)).await;
    }

    /// Says hello with `token` and `resume`.
    pub async fn hello(&mut self, token: Option<String>, resume: Vec<Resume>) {
        self.send(&ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            token,
            resume,
            identity: None,
        })
        .await;
    }

    /// Says hello as a visitor; the very next frame must be a visitor's welcome.
    pub async fn hello_visitor(
        &mut self,
        token: Option<String>,
        resume: Vec<Resume>,
    ) -> VisitorWelcome {
        self.hello(token, resume).await;
        match self.next_within(self.patience).await {
            Some(ServerMsg::Welcome {
                visitor: Some(info),
                agent: None,
                agents_online,
                ..
            }) => VisitorWelcome {
                info,
                agents_online,
            },
            other => panic!(
                "{}: expected a visitor welcome first, got {other:?}",
                self.who
            ),
        }
    }

    /// Says hello as an agent; the very next frame must be an agent's welcome.
    pub async fn hello_agent(&mut self, resume: Vec<Resume>) -> AgentWelcome {
        self.hello(None, resume).await;
        match self.next_within(self.patience).await {
            Some(ServerMsg::Welcome {
                visitor: None,
                agent: Some(info),
                conversations,
                ..
            }) => AgentWelcome {
                info,
                conversations,
            },
            other => panic!(
                "{}: expected an agent welcome first, got {other:?}",
                self.who
            ),
        }
    }

    /// The next thing that happens on the socket within `wait`. A frame that
    /// does not parse, a binary frame or a failed socket fails the test.
    pub async fn next_event(&mut self, wait: Duration) -> Event {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let frame = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Event::Timeout,
                Ok(None) => return Event::Ended,
                Ok(Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed))) => {
                    return Event::Ended
                }
                Ok(Some(Err(e))) => panic!("{}: the socket failed: {e}", self.who),
                Ok(Some(Ok(frame))) => frame,
            };
            match frame {
                Message::Text(text) => return Event::Msg(decode(&self.who, &text)),
                Message::Close(frame) => {
                    return Event::Closed(frame.map(|f| Closed {
                        code: u16::from(f.code),
                        reason: f.reason.to_string(),
                    }))
                }
                Message::Binary(_) => panic!("{}: the server sent a binary frame", self.who),
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            }
        }
    }

    /// The next server message within `wait`; `None` on timeout or when the
    /// socket ends. A close frame or a binary frame fails the test.
    pub async fn next_within(&mut self, wait: Duration) -> Option<ServerMsg> {
        match self.next_event(wait).await {
            Event::Msg(msg) => Some(msg),
            Event::Timeout | Event::Ended => None,
            Event::Closed(frame) => {
                panic!("{}: the server closed the socket: {frame:?}", self.who)
            }
        }
    }

    /// Reads until the server closes the socket with a code, within the
    /// client's patience; returns the code and reason.
    pub async fn expect_close(&mut self) -> Closed {
        self.expect_close_within(self.patience).await
    }

    /// Reads until the server closes the socket with a code, within `wait`;
    /// returns the code and reason. Messages before it are skipped; the
    /// socket ending otherwise fails the test.
    pub async fn expect_close_within(&mut self, wait: Duration) -> Closed {
        let deadline = Instant::now() + wait;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_event(left).await {
                Event::Msg(msg) => seen.push(msg),
                Event::Closed(Some(closed)) => return closed,
                other => panic!(
                    "{}: expected a close frame with a code within {wait:?}, got {other:?}; frames meanwhile: {seen:#?}",
                    self.who
                ),
            }
        }
    }

    /// Reads frames until `pick` accepts one; fails the test after the
    /// client's patience, printing every frame skipped meanwhile.
    pub async fn expect_map<T>(
        &mut self,
        what: &str,
        pick: impl FnMut(&ServerMsg) -> Option<T>,
    ) -> T {
        self.expect_map_within(what, self.patience, pick).await
    }

    /// [`Client::expect_map`] with its own time limit.
    pub async fn expect_map_within<T>(
        &mut self,
        what: &str,
        wait: Duration,
        mut pick: impl FnMut(&ServerMsg) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + wait;
        let mut skipped = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_within(left).await {
                Some(msg) => match pick(&msg) {
                    Some(found) => return found,
                    None => skipped.push(msg),
                },
                None => panic!(
                    "{}: timed out after {wait:?} waiting for {what}; frames seen meanwhile: {skipped:#?}",
                    self.who
                ),
            }
        }
    }

    /// Reads frames until one matches `pred`, and returns it.
    pub async fn expect_msg(
        &mut self,
        what: &str,
        mut pred: impl FnMut(&ServerMsg) -> bool,
    ) -> ServerMsg {
        self.expect_map(what, |m| pred(m).then(|| m.clone())).await
    }

    /// Every frame up to and including the first that `stop` accepts.
    pub async fn frames_until(
        &mut self,
        what: &str,
        mut stop: impl FnMut(&ServerMsg) -> bool,
    ) -> Vec<ServerMsg> {
        let mut frames = Vec::new();
        self.expect_map(what, |m| {
            frames.push(m.clone());
            stop(m).then_some(())
        })
        .await;
        frames
    }

    /// Waits for a conversation summary matching `pred`.
    pub async fn expect_conversation(
        &mut self,
        what: &str,
        mut pred: impl FnMut(&ConversationSummary) -> bool,
    ) -> ConversationSummary {
        self.expect_map(what, |m| match m {
            ServerMsg::Conversation { conversation } if pred(conversation) => {
                Some(conversation.clone())
            }
            _ => None,
        })
        .await
    }

    /// Waits for a chat message matching `pred`.
    pub async fn expect_message(
        &mut self,
        what: &str,
        mut pred: impl FnMut(&ChatMessage) -> bool,
    ) -> ChatMessage {
        self.expect_map(what, |m| match m {
            ServerMsg::Message { message } if pred(message) => Some(message.clone()),
            _ => None,
        })
        .await
    }

    /// Waits for the ack of message `id`; returns (conversation, seq).
    pub async fn expect_ack(&mut self, id: &str) -> (ConversationId, i64) {
        self.expect_map(&format!("the ack of {id:?}"), |m| match m {
            ServerMsg::Ack {
                id: acked,
                conversation,
                seq,
            } if acked.0 == id => Some((*conversation, *seq)),
            _ => None,
        })
        .await
    }

    /// Waits for an error frame with `code`; returns the message id it names.
    pub async fn expect_error(&mut self, code: ErrorCode) -> Option<MessageId> {
        self.expect_map(&format!("an error {code:?}"), |m| match m {
            ServerMsg::Error { code: c, id, .. } if *c == code => Some(id.clone()),
            _ => None,
        })
        .await
    }

    /// The very next frame must be an error with `code`.
    pub async fn next_is_error(&mut self, code: ErrorCode) -> Option<MessageId> {
        match self.next_within(self.patience).await {
            Some(ServerMsg::Error { code: c, id, .. }) if c == code => id,
            other => panic!(
                "{}: expected an error {code:?} next, got {other:?}",
                self.who
            ),
        }
    }

    /// Pings and requires the very next frame to be a pong (so nothing else was pending).
    pub async fn ping_pong(&mut self) {
        self.send(&ClientMsg::Ping).await;
        match self.next_within(self.patience).await {
            Some(ServerMsg::Pong) => {}
            other => panic!("{}: expected pong next, got {other:?}", self.who),
        }
    }

    /// Pings and waits for a pong, skipping any other frames before it.
    pub async fn ping_until_pong(&mut self) {
        self.send(&ClientMsg::Ping).await;
        self.expect_map("pong", |m| matches!(m, ServerMsg::Pong).then_some(()))
            .await;
    }

    /// Every frame that arrives within `wait`.
    pub async fn collect_for(&mut self, wait: Duration) -> Vec<ServerMsg> {
        let deadline = Instant::now() + wait;
        let mut frames = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return frames;
            }
            match self.next_within(left).await {
                Some(msg) => frames.push(msg),
                None => return frames,
            }
        }
    }

    /// Closes the socket cleanly, reading until the server's close reply
    /// (or the end), so the server saw it.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(Ok(_)) = self.ws.next().await {}
        })
        .await;
    }
}

impl Server {
    /// Upgrades `path` to a WebSocket from `from` (any local address when
    /// `None`) with extra request headers; the HTTP status when refused. The
    /// client is named "agent" or "visitor" after the path.
    pub async fn upgrade(
        &self,
        path: &str,
        from: Option<IpAddr>,
        headers: &[(&str, &str)],
    ) -> Result<Client, StatusCode> {
        let stream = connect(self.addr, from).await;
        self.upgrade_on(stream, path, headers).await
    }

    /// [`Server::upgrade`] over a given TCP connection.
    pub async fn upgrade_on(
        &self,
        stream: TcpStream,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Client, StatusCode> {
        upgrade_at(self.addr, stream, path, headers).await
    }

    /// The HTTP status that refuses upgrading `path` with `headers`; the
    /// socket opening fails the test.
    pub async fn refused(&self, path: &str, headers: &[(&str, &str)]) -> StatusCode {
        match self.upgrade(path, None, headers).await {
            Err(status) => status,
            Ok(_) => panic!("{path} opened with {headers:?}; expected an HTTP refusal"),
        }
    }

    /// Opens `/ws/visitor`, says hello, and returns the client with its welcome.
    pub async fn visitor(
        &self,
        token: Option<String>,
        resume: Vec<Resume>,
    ) -> (Client, VisitorWelcome) {
        self.visitor_named("visitor", token, resume).await
    }

    /// [`Server::visitor`], the client named `who`.
    pub async fn visitor_named(
        &self,
        who: &str,
        token: Option<String>,
        resume: Vec<Resume>,
    ) -> (Client, VisitorWelcome) {
        let mut client = self
            .upgrade("/ws/visitor", None, &[])
            .await
            .unwrap_or_else(|status| panic!("{who}: the visitor socket was refused: {status}"))
            .named(who);
        let welcome = client.hello_visitor(token, resume).await;
        (client, welcome)
    }

    /// Opens `/ws/agent` with `cookie`, says hello, and returns the client with its welcome.
    pub async fn agent(&self, cookie: &str, resume: Vec<Resume>) -> (Client, AgentWelcome) {
        self.agent_named("agent", cookie, resume).await
    }

    /// [`Server::agent`], the client named `who`.
    pub async fn agent_named(
        &self,
        who: &str,
        cookie: &str,
        resume: Vec<Resume>,
    ) -> (Client, AgentWelcome) {
        let stream = connect(self.addr, None).await;
        self.agent_on(stream, who, cookie, resume).await
    }

    /// [`Server::agent_named`] over a given TCP connection.
    pub async fn agent_on(
        &self,
        stream: TcpStream,
        who: &str,
        cookie: &str,
        resume: Vec<Resume>,
    ) -> (Client, AgentWelcome) {
        let mut client = self
            .upgrade_on(stream, "/ws/agent", &[("Cookie", cookie)])
            .await
            .unwrap_or_else(|status| panic!("{who}: the agent socket was refused: {status}"))
            .named(who);
        let welcome = client.hello_agent(resume).await;
        (client, welcome)
    }
}

/// Upgrades `path` of the server at `addr` to a WebSocket over `stream`,
/// with extra request headers; the HTTP status when refused. The client is
/// named "agent" or "visitor" after the path.
pub async fn upgrade_at(
    addr: SocketAddr,
    stream: TcpStream,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<Client, StatusCode> {
    let mut request = format!("ws://{addr}{path}")
        .into_client_request()
        .expect("a valid request");
    for (name, value) in headers {
        request.headers_mut().insert(
            HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            HeaderValue::from_str(value).expect("a header value"),
        );
    }
    match tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)).await {
        Ok((ws, _)) => {
            let who = if path == "/ws/agent" {
                "agent"
            } else {
                "visitor"
            };
            Ok(Client::new(ws, who))
        }
        Err(WsError::Http(response)) => Err(response.status()),
        Err(e) => panic!("upgrading {path}: expected success or an HTTP refusal, got {e}"),
    }
}

/// A `send` frame.
pub fn send(id: &str, conversation: Option<ConversationId>, text: &str, resend: bool) -> ClientMsg {
    ClientMsg::Send {
        id: MessageId(id.to_owned()),
        conversation,
        text: text.to_owned(),
        resend,
    }
}
