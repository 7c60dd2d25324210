//! A WebSocket client speaking kefu's protocol, for the integration tests:
//! sends typed frames, and waits for the frames a test expects, failing with
//! every frame seen meanwhile when one does not come.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use kefu::protocol::{
    ChatMessage, ClientMsg, ConversationId, ConversationSummary, ErrorCode, MessageId, ServerMsg,
};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any single expectation may wait for its frame.
pub const EXPECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The client side of one socket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One WebSocket client; `who` names it in failure messages.
pub struct Client {
    pub ws: Ws,
    pub who: String,
}

/// A server frame as a message; a frame that does not parse fails the test.
pub fn decode(who: &str, text: &str) -> ServerMsg {
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{who}: the server sent a bad frame {text:?}: {e}"))
}

impl Client {
    /// Wraps an open socket.
    pub fn new(ws: Ws, who: &str) -> Self {
        Self {
            ws,
            who: who.to_owned(),
        }
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

    /// The next server message within `wait`; `None` on timeout or when the
    /// socket ends. A close frame or a binary frame fails the test.
    pub async fn next_within(&mut self, wait: Duration) -> Option<ServerMsg> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let frame = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) | Ok(None) => return None,
                Ok(Some(Err(e))) => panic!("{}: the socket failed: {e}", self.who),
                Ok(Some(Ok(frame))) => frame,
            };
            match frame {
                Message::Text(text) => return Some(decode(&self.who, &text)),
                Message::Close(frame) => {
                    panic!("{}: the server closed the socket: {frame:?}", self.who)
                }
                Message::Binary(_) => panic!("{}: the server sent a binary frame", self.who),
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            }
        }
    }

    /// Reads frames until `pick` accepts one; fails the test after
    /// [`EXPECT_TIMEOUT`], printing every frame skipped meanwhile.
    pub async fn expect_map<T>(
        &mut self,
        what: &str,
        pick: impl FnMut(&ServerMsg) -> Option<T>,
    ) -> T {
        self.expect_map_within(what, EXPECT_TIMEOUT, pick).await
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
        match self.next_within(EXPECT_TIMEOUT).await {
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
        match self.next_within(EXPECT_TIMEOUT).await {
            Some(ServerMsg::Pong) => {}
            other => panic!("{}: expected pong next, got {other:?}", self.who),
        }
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

/// A `send` frame.
fn send(id: &str, conversation: Option<ConversationId>, text: &str, resend: bool) -> ClientMsg {
    ClientMsg::Send {
        id: MessageId(id.to_owned()),
        conversation,
        text: text.to_owned(),
        resend,
    }
}
