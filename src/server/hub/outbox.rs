//! A socket's outgoing queue, and [`Conn`], the hub's handle on it.
//!
//! Every open socket holds one of these, idle or not, so it is kept small: a
//! `VecDeque` that allocates only while frames wait (and gives its memory
//! back once drained after a burst) and three `Notify`s, in one `Arc`.
//! (A tokio `mpsc` channel allocates a 32-slot block up front: ~1.3 KiB per
//! socket, a fifth of the per-socket budget.)

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::Notify;

use crate::protocol::ServerMsg;

/// How many bytes of frames may wait for a slow socket before it is
/// closed. Counted in bytes, not frames: one commit can hand an agent
/// serving many busy conversations a thousand small frames at once, while
/// a few hundred of the longest messages (4,000 characters, up to 12 KB
/// each) already make megabytes.
pub const OUTBOX_BYTES: usize = 4 << 20;

/// What the hub hands a connection's writer.
#[derive(Debug)]
pub enum Outbound {
    /// A serialized [`ServerMsg`].
    Frame(Utf8Bytes),
    /// Close the socket with this code and reason.
    Close(u16, &'static str),
}

/// The frames waiting, and their size.
#[derive(Debug, Default)]
struct Queue {
    frames: VecDeque<Outbound>,
    bytes: usize,
    /// While the socket's own task sends what a new socket must see first
    /// (its conversations, what it missed), live frames wait here; see
    /// [`Conn::hold`]. Boxed: 8 bytes in every idle socket; only sockets
    /// being set up pay for the rest.
    held: Option<Box<Queue>>,
}

impl Queue {
    fn has_room(&self) -> bool {
        self.bytes < OUTBOX_BYTES
    }

    fn push(&mut self, item: Outbound) {
        if let Outbound::Frame(f) = &item {
            self.bytes += f.len();
        }
        self.frames.push_back(item);
    }

    /// Queues a live frame: behind the held ones while held. Held frames
    /// have a budget of their own, so that they never keep the socket's own
    /// task from sending. False (nothing queued) when the budget is spent.
    fn push_live(&mut self, item: Outbound) -> bool {
        let queue = match &mut self.held {
            Some(held) => &mut **held,
            None => self,
        };
        if !queue.has_room() {
            return false;
        }
        queue.push(item);
        true
    }
}

#[derive(Debug, Default)]
struct Outbox {
    frames: Mutex<Queue>,
    /// Handles alive (the writer's end is not one).
    senders: AtomicUsize,
    /// Frames are waiting, or the last handle went.
    ready: Notify,
    /// The writer made room.
    room: Notify,
    /// A frame found the queue full: the socket should be closed.
    overflow: Notify,
}

impl Outbox {
    fn frames(&self) -> MutexGuard<'_, Queue> {
        self.frames.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The hub's handle on one open socket. Cloning it counts as one more
/// sender; the writer ends once every handle is gone and the queue is empty.
#[derive(Debug)]
pub struct Conn {
    id: u64,
    out: Arc<Outbox>,
}

impl Clone for Conn {
    fn clone(&self) -> Self {
        self.out.senders.fetch_add(1, Ordering::AcqRel);
        Self {
            id: self.id,
            out: self.out.clone(),
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if self.out.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.out.ready.notify_one();
        }
    }
}

impl Conn {
    /// A handle on a new, empty outbox, and the writer's end of it.
    pub fn new(id: u64) -> (Self, Drain) {
        let out = Arc::new(Outbox {
            senders: AtomicUsize::new(1),
            ..Outbox::default()
        });
        (
            Self {
                id,
                out: out.clone(),
            },
            Drain { out },
        )
    }

    /// This socket's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Queues a frame without waiting; a full outbox marks the socket for
    /// closing. While the socket is held ([`Conn::hold`]) the frame waits
    /// behind what the socket's own task sends.
    pub fn push(&self, frame: &Utf8Bytes) {
        let queued = self.out.frames().push_live(Outbound::Frame(frame.clone()));
        if queued {
            self.out.ready.notify_one();
        } else {
            self.out.overflow.notify_one();
        }
    }

    /// From now until [`Conn::release`], frames pushed by others (live
    /// deliveries, notices) wait, while those the socket's own task sends
    /// ([`Conn::send`]) go out. A socket being set up holds while it sends
    /// its conversations and replays what it missed from storage, so that
    /// every message delivered live since it was registered follows the
    /// replayed ones, in seq order.
    pub fn hold(&self) {
        let mut frames = self.out.frames();
        if frames.held.is_none() {
            frames.held = Some(Box::default());
        }
    }

    /// Ends [`Conn::hold`]: the frames that waited follow what was sent.
    pub fn release(&self) {
        let mut frames = self.out.frames();
        if let Some(held) = frames.held.take() {
            let empty = held.frames.is_empty();
            frames.bytes += held.bytes;
            frames.frames.extend(held.frames);
            drop(frames);
            if !empty {
                self.out.ready.notify_one();
            }
        }
    }

    /// Queues a reply without waiting (see [`Conn::push`]).
    pub fn reply(&self, msg: &ServerMsg) {
        self.push(&encode(msg));
    }

    /// Queues a message, waiting for room (for replies and replay on the
    /// socket's own task).
    pub async fn send(&self, msg: &ServerMsg) {
        self.queue(Outbound::Frame(encode(msg))).await;
    }

    /// Asks the writer to close the socket with `code` and `reason`.
    pub async fn close(&self, code: u16, reason: &'static str) {
        self.queue(Outbound::Close(code, reason)).await;
    }

    async fn queue(&self, item: Outbound) {
        loop {
            let room = self.out.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            {
                let mut frames = self.out.frames();
                if frames.has_room() {
                    frames.push(item);
                    drop(frames);
                    self.out.ready.notify_one();
                    return;
                }
            }
            room.await;
        }
    }

    /// Resolves when a frame found this socket's outbox full.
    pub async fn overflowed(&self) {
        self.out.overflow.notified().await;
    }
}

/// The socket task's end of an outbox: it drains the frames into the socket.
#[derive(Debug)]
pub struct Drain {
    out: Arc<Outbox>,
}

impl Drain {
    /// The next frames to write: all that wait, oldest first, taken whole
    /// (an idle socket keeps no queue memory); `None` once every [`Conn`]
    /// is gone and nothing is left.
    pub async fn next_batch(&self) -> Option<VecDeque<Outbound>> {
        loop {
            let ready = self.out.ready.notified();
            tokio::pin!(ready);
            ready.as_mut().enable();
            {
                let mut frames = self.out.frames();
                if !frames.frames.is_empty() {
                    let batch = std::mem::take(&mut frames.frames);
                    frames.bytes = 0;
                    drop(frames);
                    self.out.room.notify_waiters();
                    return Some(batch);
                }
            }
            if self.out.senders.load(Ordering::Acquire) == 0 {
                return None;
            }
            ready.await;
        }
    }
}

/// Serializes a server message once; the result is shared by every recipient.
pub fn encode(msg: &ServerMsg) -> Utf8Bytes {
    // Every error frame is encoded here once: counted for `/metrics`.
    if let ServerMsg::Error { code, .. } = msg {
        crate::server::metrics::refused(*code);
    }
    serde_json::to_string(msg)
        .map(Utf8Bytes::from)
        .unwrap_or_else(|_| Utf8Bytes::from_static(r#"{"type":"unknown"}"#))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(batch: &VecDeque<Outbound>) -> Vec<String> {
        batch
            .iter()
            .map(|o| match o {
                Outbound::Frame(f) => f.to_string(),
                Outbound::Close(code, _) => format!("close {code}"),
            })
            .collect()
    }

    #[tokio::test]
    async fn frames_come_out_in_order_and_the_writer_ends_with_the_last_handle() {
        let (conn, writer) = Conn::new(1);
        let other = conn.clone();
        conn.push(&Utf8Bytes::from_static("a"));
        other.send(&ServerMsg::Pong).await;
        conn.close(1000, "bye").await;
        let batch = writer.next_batch().await.expect("frames");
        assert_eq!(text(&batch), ["a", r#"{"type":"pong"}"#, "close 1000"]);
        drop(conn);
        drop(other);
        assert!(writer.next_batch().await.is_none(), "no handle left");
    }

    #[tokio::test]
    async fn a_full_outbox_signals_overflow_and_a_waiting_sender_gets_in_after_a_drain() {
        let (conn, writer) = Conn::new(1);
        let kib = Utf8Bytes::from("x".repeat(1024));
        for _ in 0..OUTBOX_BYTES / 1024 {
            conn.push(&kib);
        }
        let overflowed = conn.overflowed();
        tokio::pin!(overflowed);
        conn.push(&Utf8Bytes::from_static("one too many"));
        tokio::time::timeout(std::time::Duration::from_secs(1), overflowed)
            .await
            .expect("overflow is signalled");
        // A waiting sender gets in once the writer has taken the frames.
        let waiting = conn.send(&ServerMsg::Pong);
        tokio::pin!(waiting);
        assert!(futures::poll!(waiting.as_mut()).is_pending());
        let batch = writer.next_batch().await.expect("frames");
        assert_eq!(batch.len(), OUTBOX_BYTES / 1024);
        waiting.await;
        let batch = writer.next_batch().await.expect("frames");
        assert_eq!(text(&batch), [r#"{"type":"pong"}"#]);
    }

    /// A socket being set up sends its own frames (what it missed) ahead
    /// of live ones pushed meanwhile, which follow in their order on release.
    #[tokio::test]
    async fn held_live_frames_follow_what_the_socket_sent_meanwhile() {
        let (conn, writer) = Conn::new(1);
        conn.push(&Utf8Bytes::from_static("before"));
        conn.hold();
        conn.push(&Utf8Bytes::from_static("live 1"));
        conn.send(&ServerMsg::Pong).await;
        let batch = writer.next_batch().await.expect("frames");
        assert_eq!(text(&batch), ["before", r#"{"type":"pong"}"#]);
        conn.push(&Utf8Bytes::from_static("live 2"));
        conn.send(&ServerMsg::Pong).await;
        conn.release();
        conn.push(&Utf8Bytes::from_static("live 3"));
        let batch = writer.next_batch().await.expect("frames");
        assert_eq!(
            text(&batch),
            [r#"{"type":"pong"}"#, "live 1", "live 2", "live 3"]
        );
    }

    /// Live frames held for a socket being set up never keep its own task
    /// from sending (which would stall its set-up with the hub's lock held):
    /// past their own budget they overflow, and the socket is closed.
    #[tokio::test]
    async fn held_frames_overflow_on_their_own_budget() {
        let (conn, writer) = Conn::new(1);
        conn.hold();
        let kib = Utf8Bytes::from("x".repeat(1024));
        for _ in 0..OUTBOX_BYTES / 1024 + 1 {
            conn.push(&kib);
        }
        let overflowed = conn.overflowed();
        tokio::pin!(overflowed);
        tokio::time::timeout(std::time::Duration::from_secs(1), overflowed)
            .await
            .expect("overflow is signalled");
        tokio::time::timeout(
            std::time::Duration::from_secs(1),
            conn.send(&ServerMsg::Pong),
        )
        .await
        .expect("the socket's own frames still go in");
        conn.release();
        let batch = writer.next_batch().await.expect("frames");
        assert_eq!(batch.len(), 1 + OUTBOX_BYTES / 1024);
        assert_eq!(text(&batch)[0], r#"{"type":"pong"}"#);
    }

    /// The bound is bytes, not frames: a commit that hands an agent thousands
    /// of short messages at once is no overflow.
    #[tokio::test]
    async fn many_short_frames_fit() {
        let (conn, writer) = Conn::new(1);
        let short = Utf8Bytes::from("y".repeat(200));
        for _ in 0..10_000 {
            conn.push(&short);
        }
        // An overflow would have left a permit: the wait would end at once.
        let overflowed = conn.overflowed();
        tokio::pin!(overflowed);
        assert!(
            futures::poll!(overflowed.as_mut()).is_pending(),
            "no overflow"
        );
        assert_eq!(writer.next_batch().await.expect("frames").len(), 10_000);
    }
}
