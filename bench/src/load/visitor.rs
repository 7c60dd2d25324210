//! Visitors in conversation: opening a visitor socket (on kefu, with a
//! conversation assigned to an agent), and the task that sends each phase's
//! messages on a fixed schedule (open loop), pings in between and drains
//! what the server sends.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use futures::{SinkExt, StreamExt};
use kefu::protocol::{ClientMsg, ConversationStatus, ServerMsg};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::connect::{expect, ws_connect, Flavor, Target, Ws};
use super::{encode, hello, ns_at, ping, PING_EVERY};

/// A send this late after it was due counts as "late" (the load generator lagging).
const LATE: Duration = Duration::from_millis(10);
/// After a phase's end, senders give up on what they could not write by then.
const SEND_SLACK: Duration = Duration::from_secs(5);

/// What a conversation's visitor is told to do.
#[derive(Clone)]
pub struct Phase {
    pub id: u32,
    /// Messages per second of each conversation.
    pub rate: f64,
    pub start: Instant,
    pub duration: Duration,
    pub sent: Arc<AtomicU64>,
    pub late: Arc<AtomicU64>,
    /// `typing` frames per second of each visitor, beside its messages.
    pub typing: f64,
}

/// When conversation `i` of `n` sends, relative to the phase start: every
/// 1/rate seconds, conversations spread evenly over the period.
pub fn schedule(
    i: usize,
    n: usize,
    rate: f64,
    duration: Duration,
) -> impl Iterator<Item = Duration> {
    let period = 1.0 / rate;
    let offset = period * i as f64 / n.max(1) as f64;
    let end = duration.as_secs_f64();
    (0u64..)
        .map(move |k| offset + k as f64 * period)
        .take_while(move |t| *t < end)
        .map(Duration::from_secs_f64)
}

/// A visitor with an open (kefu: assigned) conversation.
pub struct Visitor {
    pub ws: Ws,
    /// kefu: the serving agent's name.
    pub agent: Option<String>,
    /// kefu: the conversation id.
    pub conversation: Option<i64>,
}

/// Opens a visitor socket and, on kefu, a conversation assigned to an agent.
/// On the relay the visitor is paired with agent `key`.
pub async fn open_conversation(target: Target, key: &str) -> Result<Visitor> {
    match target.flavor {
        Flavor::Relay => {
            let mut ws = ws_connect(target.addr, &format!("/visitor/{key}"), None).await?;
            ws.send(hello()).await?;
            Ok(Visitor {
                ws,
                agent: None,
                conversation: None,
            })
        }
        Flavor::Kefu => {
            let mut ws = ws_connect(target.addr, "/ws/visitor", None).await?;
            ws.send(hello()).await?;
            expect(&mut ws, "the visitor's welcome", |m| {
                matches!(
                    m,
                    ServerMsg::Welcome {
                        visitor: Some(_),
                        ..
                    }
                )
                .then_some(())
            })
            .await?;
            ws.send(encode(&ClientMsg::Start)).await?;
            let (conversation, agent) = expect(&mut ws, "an assigned conversation", |m| match m {
                ServerMsg::Conversation { conversation }
                    if conversation.status == ConversationStatus::Assigned =>
                {
                    Some((conversation.id.0, conversation.agent_name))
                }
                ServerMsg::Availability {
                    agents_online: false,
                    ..
                } => None,
                _ => None,
            })
            .await?;
            Ok(Visitor {
                ws,
                agent,
                conversation: Some(conversation),
            })
        }
    }
}

/// Counters shared by all visitor tasks of a target.
#[derive(Default)]
pub struct VisitorStats {
    /// Visitor sockets that ended before the bench stopped them.
    pub dropped: AtomicU64,
    /// `error` frames received (kefu), e.g. `slow_down` or `storage`.
    pub errors: AtomicU64,
}

/// Runs a conversation's visitor: sends each phase's messages on schedule,
/// pings in between, drains what the server sends (kefu: acks).
pub fn spawn_visitor(
    visitor: Visitor,
    index: usize,
    count: usize,
    mut phases: watch::Receiver<Option<Phase>>,
    stats: Arc<VisitorStats>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let (mut sink, mut stream) = visitor.ws.split();
        let gone = Arc::new(AtomicBool::new(false));
        let reader = {
            let stats = stats.clone();
            let gone = gone.clone();
            tokio::spawn(async move {
                while let Some(Ok(frame)) = stream.next().await {
                    if let Message::Text(text) = frame {
                        if text.starts_with("{\"type\":\"error\"") {
                            stats.errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                gone.store(true, Ordering::SeqCst);
            })
        };
        let mut keepalive = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
        let mut failed = false;
        loop {
            tokio::select! {
                changed = phases.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let phase = phases.borrow_and_update().clone();
                    if let Some(phase) = phase {
                        if !run_phase(&mut sink, index, count, &phase).await {
                            failed = true;
                            break;
                        }
                    }
                }
                _ = keepalive.tick() => {
                    if sink.send(ping()).await.is_err() {
                        failed = true;
                        break;
                    }
                }
            }
        }
        if failed || gone.load(Ordering::SeqCst) {
            stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
        reader.abort();
    })
}

/// Sends one phase's messages; false when the socket failed.
async fn run_phase(
    sink: &mut futures::stream::SplitSink<Ws, Message>,
    index: usize,
    count: usize,
    phase: &Phase,
) -> bool {
    let give_up = phase.start + phase.duration + SEND_SLACK;
    // Typing frames halfway between the conversations' message slots, each
    // with a draft the size of a short sentence (never timed: only
    // messages carry a mark).
    let typing = (phase.typing > 0.0)
        .then(|| schedule(index, count, phase.typing, phase.duration))
        .into_iter()
        .flatten()
        .map(|at| (at + Duration::from_secs_f64(0.5 / phase.rate), None));
    let messages = schedule(index, count, phase.rate, phase.duration)
        .enumerate()
        .map(|(k, at)| (at, Some(k)));
    let mut frames: Vec<(Duration, Option<usize>)> = messages.chain(typing).collect();
    frames.sort_by_key(|(at, _)| *at);
    for (offset, k) in frames {
        let due = phase.start + offset;
        let Some(k) = k else {
            if Instant::now() > give_up {
                return true;
            }
            let frame = format!(
                "{{\"type\":\"typing\",\"data\":{{\"active\":true,\"draft\":\"is my order {index} on its way yet\"}}}}"
            );
            tokio::time::sleep_until(due).await;
            match tokio::time::timeout_at(give_up, sink.send(Message::text(frame))).await {
                Ok(Ok(())) => continue,
                Ok(Err(_)) => return false,
                Err(_) => return true,
            }
        };
        tokio::time::sleep_until(due).await;
        let now = Instant::now();
        if now > give_up {
            return true;
        }
        if now.duration_since(due) > LATE {
            phase.late.fetch_add(1, Ordering::Relaxed);
        }
        let frame = format!(
            "{{\"type\":\"send\",\"data\":{{\"id\":\"p{}-{k}\",\"text\":\"b {} {}\"}}}}",
            phase.id,
            phase.id,
            ns_at(due)
        );
        match tokio::time::timeout_at(give_up, sink.send(Message::text(frame))).await {
            Ok(Ok(())) => {
                phase.sent.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Err(_)) => return false,
            Err(_) => return true,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_counts() {
        let d = Duration::from_secs(2);
        assert_eq!(schedule(0, 4, 10.0, d).count(), 20);
        assert_eq!(schedule(3, 4, 10.0, d).count(), 20);
        assert!(schedule(3, 4, 10.0, d).all(|t| t < d));
    }
}
