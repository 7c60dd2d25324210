//! The agent side: what agent sockets record ([`Recorder`]: the latency of
//! every marked message of the running phase, by class when asked), and the
//! agent sockets themselves, which read, time and reconnect.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::{Context, Result};
use futures::{SinkExt, StreamExt};
use kefu::protocol::ServerMsg;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::connect::{expect, ws_connect, Flavor, Target};
use super::{hello, ns_at, ping, PING_EVERY};

/// Marker of a timed message's text (`b <phase> <due ns>`).
const MARK: &str = "\"text\":\"b ";

/// What every agent socket of one target records.
#[derive(Default)]
pub struct Recorder {
    phase: AtomicU32,
    latencies_us: Mutex<Vec<u32>>,
    /// Conversation id → class, when set ([`Recorder::classify`]).
    classes: OnceLock<HashMap<i64, u8>>,
    /// The class of each latency, in the order of `latencies_us` (always
    /// locked after it).
    classes_seen: Mutex<Vec<u8>>,
    /// Frames received on agent sockets, any kind (to see when traffic has settled).
    pub frames: AtomicU64,
    /// Agent sockets that ended unexpectedly (each is reconnected).
    pub agent_drops: AtomicU64,
}

impl Recorder {
    /// Starts recording the messages of phase `id` only.
    pub fn begin(&self, id: u32) {
        let mut latencies = self.latencies_us.lock().unwrap_or_else(|e| e.into_inner());
        latencies.clear();
        self.classes_seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.phase.store(id, Ordering::SeqCst);
    }

    /// Sorts every message from now on by its conversation into a class
    /// (the cluster scenario: same node or across nodes; an unknown
    /// conversation is class `u8::MAX`). Once per recorder.
    pub fn classify(&self, classes: HashMap<i64, u8>) {
        let _ = self.classes.set(classes);
    }

    /// Stops recording; returns the latencies of the phase, in µs, and
    /// (once [`Recorder::classify`] was called) the class of each.
    pub fn finish_classified(&self) -> (Vec<u32>, Vec<u8>) {
        self.phase.store(0, Ordering::SeqCst);
        let mut latencies = self.latencies_us.lock().unwrap_or_else(|e| e.into_inner());
        let mut classes = self.classes_seen.lock().unwrap_or_else(|e| e.into_inner());
        (
            std::mem::take(&mut *latencies),
            std::mem::take(&mut *classes),
        )
    }

    /// Messages recorded so far in the running phase.
    pub fn count(&self) -> usize {
        self.latencies_us
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    fn frame(&self, text: &str) {
        self.frames.fetch_add(1, Ordering::Relaxed);
        let Some((phase, due_ns)) = parse_mark(text) else {
            return;
        };
        if phase == 0 || phase != self.phase.load(Ordering::Relaxed) {
            return;
        }
        let now = ns_at(Instant::now());
        let us = (now.saturating_sub(due_ns) / 1000).min(u64::from(u32::MAX)) as u32;
        let mut latencies = self.latencies_us.lock().unwrap_or_else(|e| e.into_inner());
        latencies.push(us);
        if let Some(classes) = self.classes.get() {
            let class = parse_conversation(text).and_then(|c| classes.get(&c).copied());
            self.classes_seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(class.unwrap_or(u8::MAX));
        }
    }

    /// Waits until agent sockets have received nothing for `quiet`, at most `max`.
    pub async fn settle(&self, quiet: Duration, max: Duration) {
        let deadline = Instant::now() + max;
        let mut last = self.frames.load(Ordering::Relaxed);
        while Instant::now() < deadline {
            tokio::time::sleep(quiet).await;
            let now = self.frames.load(Ordering::Relaxed);
            if now == last {
                return;
            }
            last = now;
        }
    }
}

/// `…"text":"b <phase> <ns>"…` → (phase, ns).
fn parse_mark(text: &str) -> Option<(u32, u64)> {
    let at = text.find(MARK)? + MARK.len();
    let rest = &text[at..];
    let (phase, rest) = rest.split_once(' ')?;
    let end = rest.find('"')?;
    Some((phase.parse().ok()?, rest[..end].parse().ok()?))
}

/// The conversation id of a kefu `message` frame (`…"conversation":<id>…`).
fn parse_conversation(text: &str) -> Option<i64> {
    const KEY: &str = "\"conversation\":";
    let rest = &text[text.find(KEY)? + KEY.len()..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Starts an agent socket that reads and times messages until `stop`, with a
/// ping every 20 s, reconnecting (at most 20 times) when it drops.
pub async fn spawn_agent(
    target: Target,
    key: String,
    cookie: Option<String>,
    recorder: Arc<Recorder>,
    mut stop: watch::Receiver<bool>,
) -> Result<JoinHandle<()>> {
    let path = match target.flavor {
        Flavor::Kefu => "/ws/agent".to_owned(),
        Flavor::Relay => format!("/agent/{key}"),
    };
    let connect = {
        let path = path.clone();
        let cookie = cookie.clone();
        move || {
            let path = path.clone();
            let cookie = cookie.clone();
            async move {
                let mut ws = ws_connect(target.addr, &path, cookie.as_deref()).await?;
                if target.flavor == Flavor::Kefu {
                    ws.send(hello()).await?;
                    expect(&mut ws, "the agent's welcome", |m| {
                        matches!(m, ServerMsg::Welcome { agent: Some(_), .. }).then_some(())
                    })
                    .await?;
                }
                Ok::<_, anyhow::Error>(ws)
            }
        }
    };
    let first = connect().await.with_context(|| format!("agent {key}"))?;
    Ok(tokio::spawn(async move {
        let mut ws = Some(first);
        for _attempt in 0..20 {
            let mut socket = match ws.take() {
                Some(s) => s,
                None => match connect().await {
                    Ok(s) => s,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                },
            };
            let mut keepalive = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
            loop {
                tokio::select! {
                    frame = socket.next() => match frame {
                        Some(Ok(Message::Text(text))) => recorder.frame(&text),
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                        Some(Ok(_)) => {}
                    },
                    _ = keepalive.tick() => {
                        if socket.send(ping()).await.is_err() {
                            break;
                        }
                    }
                    _ = stop.changed() => return,
                }
            }
            if *stop.borrow() {
                return;
            }
            recorder.agent_drops.fetch_add(1, Ordering::Relaxed);
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_parse() {
        let kefu = r#"{"type":"message","data":{"message":{"id":"p3-7","conversation":2,"seq":9,"author":"visitor","text":"b 3 123456789","sent_at":5}}}"#;
        assert_eq!(parse_mark(kefu), Some((3, 123_456_789)));
        let relay = r#"{"type":"send","data":{"id":"p3-7","text":"b 3 42"}}"#;
        assert_eq!(parse_mark(relay), Some((3, 42)));
        assert_eq!(parse_mark(r#"{"type":"pong"}"#), None);
        assert_eq!(parse_conversation(kefu), Some(2));
        assert_eq!(parse_conversation(relay), None);
    }
}
