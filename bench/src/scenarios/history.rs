//! The history scenario: one conversation filled with many stored messages,
//! then its newest page (`conversation_history`) timed as its agent.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::Side;
use crate::report::{Latency, Record};
use crate::{load, procs};

/// A conversation with `messages` stored messages (sent over the socket,
/// pipelined), then `conversation_history` timed as its serving agent.
pub async fn history(side: &Side, messages: usize, repeats: usize) -> Result<Record> {
    let mut r = Record::new("history", side.name).param("messages", messages as f64);
    let visitor = load::open_conversation(side.target, "").await?;
    let conversation = visitor.conversation.context("no conversation id")?;
    let agent = visitor.agent.clone().context("no serving agent")?;
    let cookie = side
        .cookies
        .get(&agent)
        .with_context(|| format!("the conversation went to {agent}, who is not a bench agent"))?
        .clone();
    // Fill: a window of sends ahead of the acks.
    let (mut sink, mut stream) = visitor.ws.split();
    let (acked_tx, mut acked_rx) = watch::channel(0usize);
    let reader = tokio::spawn(async move {
        let mut acked = 0;
        while let Some(Ok(frame)) = stream.next().await {
            if let Message::Text(text) = frame {
                if text.starts_with("{\"type\":\"ack\"") {
                    acked += 1;
                    acked_tx.send_replace(acked);
                } else if text.starts_with("{\"type\":\"error\"") {
                    return Err(text.to_string());
                }
            }
        }
        Ok(acked)
    });
    let fill_started = Instant::now();
    let fill = async {
        for k in 0..messages {
            while k >= *acked_rx.borrow() + 200 {
                if acked_rx.changed().await.is_err() {
                    bail!("the visitor socket ended after {} acks", *acked_rx.borrow());
                }
            }
            let frame = format!(
                "{{\"type\":\"send\",\"data\":{{\"id\":\"h-{k}\",\"text\":\"history message {k}: the quick brown fox jumps over the lazy dog\"}}}}"
            );
            sink.send(Message::text(frame)).await?;
        }
        while *acked_rx.borrow() < messages {
            if acked_rx.changed().await.is_err() {
                bail!("the visitor socket ended after {} acks", *acked_rx.borrow());
            }
        }
        Ok(())
    };
    let filled = tokio::time::timeout(Duration::from_secs(300), fill).await;
    let fill_s = fill_started.elapsed().as_secs_f64();
    drop(sink);
    reader.abort();
    match filled {
        Err(_) => bail!("storing {messages} messages took over 300 s"),
        Ok(Err(e)) => bail!("storing the history failed (are the limits raised?): {e:#}"),
        Ok(Ok(())) => {}
    }
    r.set("fill_s", fill_s);
    r.set("fill_msgs_per_s", messages as f64 / fill_s);
    side.recorder
        .settle(Duration::from_millis(300), Duration::from_secs(30))
        .await;
    // Time the history call.
    let body = format!("conversation={conversation}");
    let mut times = Vec::new();
    let mut bytes = 0;
    let mut returned = 0;
    for _ in 0..repeats {
        let response = procs::http(
            side.target.addr,
            "POST",
            "/api/conversation_history",
            Some(&cookie),
            Some(&body),
        )
        .await?;
        if response.status != 200 {
            bail!(
                "conversation_history: HTTP {} {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            );
        }
        times.push(response.took.as_micros() as u32);
        bytes = response.body.len();
        if returned == 0 {
            returned = serde_json::from_slice::<kefu::api::HistoryPage>(&response.body)
                .map_or(0, |p| p.messages.len());
        }
    }
    let lat = Latency::of_us(&mut times);
    r.set("history_median_ms", lat.p50);
    r.set("history_min_ms", f64::from(times[0]) / 1000.0);
    r.set("history_max_ms", lat.max);
    r.set("response_kib", bytes as f64 / 1024.0);
    r.set("messages_returned", returned as f64);
    r.goal(
        "< 100 ms for the newest page of a 10,000-message conversation",
        Some(lat.p50 < 100.0),
    );
    r.note(format!(
        "newest page: {returned} messages, {:.1} KiB; older pages load on demand",
        bytes as f64 / 1024.0
    ));
    Ok(r)
}
