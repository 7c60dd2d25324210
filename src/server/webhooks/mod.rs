//! Webhooks: events derived from what is stored, delivered by one
//! background task, signed, retried with exponential backoff.
//!
//! Nothing here runs on the message path: the writer and the hub do not
//! know webhooks exist. Every half second while a webhook is registered,
//! the task asks storage to turn what was committed since into deliveries
//! (`Webhooks::derive_webhook_events`: durable cursors, so a crash loses
//! nothing), then sends what is due, each conversation's events in order,
//! and records how each try went. A receiver that fails gets its delivery
//! again after [`Config::retry_ms`], twice as long each time up to
//! [`MAX_RETRY_DELAY`], until [`Config::give_up_hours`] after the event:
//! then it is marked failed. At least once: a crash between sending and
//! recording sends again, with the same event id. With no webhook
//! registered the task sleeps until one is.

mod send;
pub mod target;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use tokio::sync::Notify;

use crate::server::storage::{now_ms, DueDelivery, Outcome, Storage, StoreResult};
pub use send::{signature, MAX_ANSWER_BYTES};

/// How often the task looks for new events while a webhook is registered.
const TICK: Duration = Duration::from_millis(500);
/// The shortest pause between two rounds while behind.
const PAUSE: Duration = Duration::from_millis(10);
/// Events derived in one transaction, at most.
const BUDGET: usize = 500;
/// (webhook, conversation) pairs sent to at once, at most.
const GROUPS: usize = 32;
/// Longest wait between two tries of one delivery.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(10 * 60);
/// Pending deliveries one webhook may have; events beyond are dropped for
/// it (logged), so a dead receiver cannot grow the database without bound.
pub const MAX_PENDING: i64 = 100_000;
/// How long finished deliveries stay listed.
const KEEP: Duration = Duration::from_secs(7 * 24 * 3600);
/// How often given-up and old deliveries are swept.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Webhook delivery settings of `kefu serve`.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Refuse webhook URLs whose host is (or resolves to) a loopback,
    /// private, link-local or other internal address, when saved and at
    /// each delivery.
    #[arg(long = "webhooks-deny-private", env = "KEFU_WEBHOOKS_DENY_PRIVATE")]
    pub deny_private: bool,
    /// Seconds a delivery may take (connecting, sending, reading the answer).
    #[arg(long = "webhook-timeout-secs", env = "KEFU_WEBHOOK_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=60))]
    pub timeout_secs: u64,
    /// Milliseconds before a failed delivery's first retry (doubling each
    /// time, up to 10 minutes).
    #[arg(long = "webhook-retry-ms", env = "KEFU_WEBHOOK_RETRY_MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub retry_ms: u64,
    /// Hours after an event at which its delivery is given up (failed).
    #[arg(long = "webhook-give-up-hours", env = "KEFU_WEBHOOK_GIVE_UP_HOURS", default_value_t = 24,
          value_parser = clap::value_parser!(u64).range(1..=168))]
    pub give_up_hours: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            deny_private: false,
            timeout_secs: 10,
            retry_ms: 5_000,
            give_up_hours: 24,
        }
    }
}

impl Config {
    /// When to try again after `attempts` failed tries of an event derived
    /// at `created_at`; `None`: give up.
    pub fn retry_at(&self, attempts: i64, created_at: i64, now: i64) -> Option<i64> {
        let give_up = (self.give_up_hours * 3600 * 1000) as i64;
        if now - created_at >= give_up {
            return None;
        }
        let doublings = attempts.saturating_sub(1).clamp(0, 30) as u32;
        let delay = self
            .retry_ms
            .saturating_mul(1u64 << doublings)
            .min(MAX_RETRY_DELAY.as_millis() as u64);
        Some(now + delay as i64)
    }
}

struct Inner {
    storage: Storage,
    config: Mutex<Config>,
    /// kefu's own listener, never a webhook's target.
    own: Mutex<Option<SocketAddr>>,
    deny_private: Arc<AtomicBool>,
    client: Mutex<reqwest::Client>,
    /// Whether any webhook is registered (the task sleeps otherwise).
    active: AtomicBool,
    wake: Notify,
}

/// Handle to the webhook task; cheap to clone.
#[derive(Clone)]
pub struct Webhooks(Arc<Inner>);

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Webhooks")
    }
}

impl Webhooks {
    /// Starts the task over `storage` with the default [`Config`].
    pub async fn start(storage: Storage) -> anyhow::Result<Self> {
        let active = !storage.webhooks().await?.is_empty();
        let deny_private = Arc::new(AtomicBool::new(false));
        let config = Config::default();
        let client = client(&config, &deny_private)?;
        let inner = Arc::new(Inner {
            storage,
            config: Mutex::new(config),
            own: Mutex::new(None),
            deny_private,
            client: Mutex::new(client),
            active: AtomicBool::new(active),
            wake: Notify::new(),
        });
        tokio::spawn(run(inner.clone()));
        Ok(Self(inner))
    }

    /// Applies `kefu serve`'s settings.
    pub fn configure(&self, config: Config) -> anyhow::Result<()> {
        self.0
            .deny_private
            .store(config.deny_private, Ordering::Relaxed);
        let fresh = client(&config, &self.0.deny_private)?;
        if let Ok(mut c) = self.0.client.lock() {
            *c = fresh;
        }
        if let Ok(mut c) = self.0.config.lock() {
            *c = config;
        }
        Ok(())
    }

    /// The settings in force.
    pub fn config(&self) -> Config {
        self.0.config.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Tells the task kefu's own listening address (never a target).
    pub fn set_own_addr(&self, addr: SocketAddr) {
        if let Ok(mut own) = self.0.own.lock() {
            *own = Some(addr);
        }
    }

    /// kefu's own listening address, once known.
    pub fn own_addr(&self) -> Option<SocketAddr> {
        self.0.own.lock().ok().and_then(|o| *o)
    }

    /// Webhooks were added or removed: the task looks again.
    pub async fn changed(&self) -> StoreResult<()> {
        let any = !self.0.storage.webhooks().await?.is_empty();
        self.0.active.store(any, Ordering::Relaxed);
        self.0.wake.notify_one();
        Ok(())
    }
}

/// The HTTP client: rustls, no redirects followed, no proxy, a timeout per
/// delivery, and the guarded resolver.
fn client(config: &Config, deny_private: &Arc<AtomicBool>) -> anyhow::Result<reqwest::Client> {
    // reqwest is built without a default crypto provider: rustls' ring one
    // (installing it twice is harmless, the first stays). rustls 0.23.48
    // deprecates it for lacking post-quantum key exchange; aws-lc-rs has
    // it but needs a C and CMake build, and classic key exchange is what
    // webhook receivers speak today.
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(config.timeout_secs))
        .connect_timeout(Duration::from_secs(config.timeout_secs.min(5)))
        .user_agent(concat!("kefu-webhooks/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(target::Guarded {
            deny_private: deny_private.clone(),
        }))
        .build()?)
}

async fn run(inner: Arc<Inner>) {
    let mut pruned: Option<Instant> = None;
    loop {
        if !inner.active.load(Ordering::Relaxed) {
            inner.wake.notified().await;
            continue;
        }
        let started = Instant::now();
        let busy = match round(&inner, &mut pruned).await {
            Ok(busy) => busy,
            Err(e) => {
                tracing::warn!(error = %e, "webhook round failed; trying again");
                false
            }
        };
        if busy {
            // Behind: go on, but leave the writer at least as much time
            // as this round took (as the search indexer does).
            tokio::time::sleep(started.elapsed().max(PAUSE)).await;
        } else {
            let _ = tokio::time::timeout(TICK, inner.wake.notified()).await;
        }
    }
}

/// Derives, prunes now and then, and sends what is due; whether there is
/// more to do at once.
async fn round(inner: &Inner, pruned: &mut Option<Instant>) -> StoreResult<bool> {
    let storage = &inner.storage;
    let config = inner.config.lock().map(|c| c.clone()).unwrap_or_default();
    let now = now_ms();
    let derived = storage
        .derive_webhook_events(now, BUDGET, MAX_PENDING)
        .await?;
    if pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
        let give_up = (config.give_up_hours * 3600 * 1000) as i64;
        storage
            .prune_deliveries(now - give_up, now - KEEP.as_millis() as i64)
            .await?;
        *pruned = Some(Instant::now());
    }
    let due = storage.due_deliveries(now, GROUPS).await?;
    let groups = due.len();
    if groups > 0 {
        let client = inner.client.lock().ok().map(|c| c.clone());
        let Some(client) = client else {
            return Ok(false);
        };
        let own = inner.own.lock().ok().and_then(|o| *o);
        let sends = due
            .into_iter()
            .map(|group| send_group(&client, &config, own, group));
        let outcomes: Vec<Outcome> = futures::future::join_all(sends)
            .await
            .into_iter()
            .flatten()
            .collect();
        storage.record_outcomes(&outcomes, now_ms()).await?;
    }
    Ok(derived >= BUDGET || groups >= GROUPS)
}

/// Sends one conversation's due deliveries in order, stopping at the first
/// that fails (the rest wait behind its retry).
async fn send_group(
    client: &reqwest::Client,
    config: &Config,
    own: Option<SocketAddr>,
    group: Vec<DueDelivery>,
) -> Vec<Outcome> {
    let mut outcomes = Vec::with_capacity(group.len());
    for d in group {
        let tried = send::send(client, &d, own, config.deny_private).await;
        let attempts = d.attempts + 1;
        match tried {
            Ok(status) => outcomes.push(Outcome {
                id: d.id,
                attempts,
                error: None,
                http_status: Some(status),
                retry_at: None,
            }),
            Err((error, http_status)) => {
                let retry_at = config.retry_at(attempts, d.created_at, now_ms());
                tracing::debug!(event = %d.event_id, %error, "webhook delivery failed");
                outcomes.push(Outcome {
                    id: d.id,
                    attempts,
                    error: Some(error),
                    http_status,
                    retry_at,
                });
                break;
            }
        }
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_up_to_ten_minutes_and_stop_after_the_give_up_time() {
        let c = Config::default();
        assert_eq!(c.retry_at(1, 0, 0), Some(5_000));
        assert_eq!(c.retry_at(2, 0, 0), Some(10_000));
        assert_eq!(c.retry_at(3, 0, 0), Some(20_000));
        assert_eq!(c.retry_at(20, 0, 0), Some(600_000));
        let day = 24 * 3600 * 1000;
        assert_eq!(c.retry_at(100, 0, day - 1), Some(day - 1 + 600_000));
        assert_eq!(c.retry_at(100, 0, day), None);
    }
}
