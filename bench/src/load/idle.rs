//! Idle sockets: many visitor sockets that say hello and then only ping,
//! opened a bounded number at a time, made to ping in one wave on demand.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use kefu::protocol::ServerMsg;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::connect::{expect, ws_connect, Flavor, Target};
use super::{hello, ping, PING_EVERY};

/// How far apart the first and the last ping of a wave of idle sockets are
/// ([`IdleSet::ping_all`]).
pub const WAVE_SPREAD: Duration = Duration::from_secs(2);

/// Many open sockets that only ping.
pub struct IdleSet {
    stop: watch::Sender<bool>,
    /// Bumped by [`IdleSet::ping_all`]: every socket pings at once.
    waves: watch::Sender<u64>,
    tasks: Vec<JoinHandle<()>>,
    pub connected: usize,
    pub failed: usize,
    pub first_error: Option<String>,
    /// From the first connect to the last welcome.
    pub took: Duration,
    /// Each connection's connect + handshake + hello → welcome, in µs.
    pub setup_us: Vec<u32>,
}

impl IdleSet {
    /// Makes every socket ping within the next [`WAVE_SPREAD`] (evenly
    /// spread over it, in the order they opened) and keep its 20 s schedule
    /// from there: their pings are then in step, as those of browsers that
    /// all reconnected within two seconds after a restart.
    pub fn ping_all(&self) {
        self.waves.send_modify(|n| *n += 1);
    }

    /// Closes every socket (drops them), waiting at most `max` for the tasks.
    pub async fn close(self, max: Duration) {
        let _ = self.stop.send(true);
        let deadline = Instant::now() + max;
        for task in self.tasks {
            let abort = task.abort_handle();
            if tokio::time::timeout_at(deadline, task).await.is_err() {
                abort.abort();
            }
        }
    }
}

/// Opens `n` idle visitor sockets, `concurrency` handshakes at a time. On
/// kefu each says a tokenless hello (a new visitor row each) and waits for
/// its welcome; on the relay it says hello to nobody.
pub async fn open_idle(target: Target, n: usize, concurrency: usize) -> IdleSet {
    let (stop, stop_rx) = watch::channel(false);
    let (waves, waves_rx) = watch::channel(0u64);
    let gate = Arc::new(Semaphore::new(concurrency));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<Result<u32, String>>();
    let started = Instant::now();
    let open = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        // This socket's place in a wave of pings.
        let offset = WAVE_SPREAD.mul_f64(i as f64 / n.max(1) as f64);
        let gate = gate.clone();
        let done = done_tx.clone();
        let mut stop = stop_rx.clone();
        let mut wave = waves_rx.clone();
        let open = open.clone();
        tasks.push(tokio::spawn(async move {
            let Ok(permit) = gate.acquire_owned().await else {
                return;
            };
            let t0 = Instant::now();
            let result = async {
                let path = match target.flavor {
                    Flavor::Kefu => "/ws/visitor",
                    Flavor::Relay => "/visitor/idle",
                };
                let mut ws = ws_connect(target.addr, path, None).await?;
                ws.send(hello()).await?;
                if target.flavor == Flavor::Kefu {
                    expect(&mut ws, "the welcome", |m| {
                        matches!(m, ServerMsg::Welcome { .. }).then_some(())
                    })
                    .await?;
                }
                Ok::<_, anyhow::Error>(ws)
            }
            .await;
            drop(permit);
            let mut ws = match result {
                Ok(ws) => {
                    open.fetch_add(1, Ordering::Relaxed);
                    let _ = done.send(Ok(t0.elapsed().as_micros() as u32));
                    ws
                }
                Err(e) => {
                    let _ = done.send(Err(format!("{e:#}")));
                    return;
                }
            };
            drop(done);
            let mut keepalive = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
            loop {
                tokio::select! {
                    frame = ws.next() => match frame {
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                        Some(Ok(_)) => {}
                    },
                    _ = keepalive.tick() => {
                        if ws.send(ping()).await.is_err() {
                            break;
                        }
                    }
                    Ok(()) = wave.changed() => {
                        keepalive.reset_at(Instant::now() + offset);
                    }
                    _ = stop.changed() => break,
                }
            }
        }));
    }
    drop(done_tx);
    let mut set = IdleSet {
        stop,
        waves,
        tasks,
        connected: 0,
        failed: 0,
        first_error: None,
        took: Duration::ZERO,
        setup_us: Vec::with_capacity(n),
    };
    // Every task reports once (or drops its sender); bounded by the connect timeout.
    while let Some(outcome) = done_rx.recv().await {
        match outcome {
            Ok(us) => {
                set.connected += 1;
                set.setup_us.push(us);
            }
            Err(e) => {
                set.failed += 1;
                set.first_error.get_or_insert(e);
            }
        }
        if set.connected + set.failed == n {
            break;
        }
    }
    set.took = started.elapsed();
    set
}
