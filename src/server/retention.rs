//! The retention sweep (`--retain-days`): closed conversations older than
//! the limit go, with everything that hangs on them; then visitors left
//! with nothing; and, retention set or not, expired sessions.
//!
//! It runs at start and then every [`EVERY`], in batches of [`BATCH`]
//! conversations (and [`VISITOR_BATCH`] visitors), each in its own short transaction taken while the
//! message writer waits between two of its batches (see
//! `storage/sqlite/retention.rs`), with a pause between them as long as the
//! batch took: chat is never held up for long, however much there is to
//! forget.

use std::time::{Duration, Instant};

use super::hub::Hub;
use super::storage::{now_ms, Storage, StoreResult, Swept};

/// How often the sweep runs.
pub const EVERY: Duration = Duration::from_secs(3600);
/// Conversations deleted per transaction, at most. Forgetting a message's
/// search entry is most of the cost: on a busy 2-core machine, batches of
/// 100 conversations of 20 messages held the writer for a median 89 ms
/// (p90 175 ms), batches of 20 for a median 26 ms (p90 73 ms).
pub const BATCH: i64 = 20;
/// Visitors deleted per transaction, at most (each is a few rows: 100 took 11 ms).
pub const VISITOR_BATCH: i64 = 100;
/// The shortest pause between two batches.
const PAUSE: Duration = Duration::from_millis(20);
/// A day in milliseconds.
const DAY_MS: i64 = 86_400_000;

/// What the sweep needs to know.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Closed conversations older than this many days are deleted (`None`: kept forever).
    pub retain_days: Option<u32>,
    /// Sessions unused for this long have ended.
    pub session_idle: Duration,
}

/// Waits as long as the last batch took (at least [`PAUSE`]).
async fn pause(started: Instant) {
    tokio::time::sleep(started.elapsed().max(PAUSE)).await;
}

/// One full sweep: everything the policy says is due, in batches.
pub async fn sweep(storage: &Storage, hub: &Hub, policy: Policy) -> StoreResult<Swept> {
    let now = now_ms();
    let idle_ms = i64::try_from(policy.session_idle.as_millis()).unwrap_or(i64::MAX);
    let sessions = storage
        .sweep_sessions(now, now.saturating_sub(idle_ms))
        .await?;
    if sessions > 0 {
        tracing::info!(sessions, "retention: expired sessions deleted");
    }
    let mut swept = Swept::default();
    let Some(days) = policy.retain_days else {
        return Ok(swept);
    };
    let cutoff = now.saturating_sub(i64::from(days).saturating_mul(DAY_MS));
    loop {
        let started = Instant::now();
        let n = storage.sweep_closed(cutoff, BATCH).await?;
        swept.conversations += n;
        if n < BATCH as u64 {
            break;
        }
        pause(started).await;
    }
    // Visitors first stored before the cutoff with no conversation left,
    // unless connected right now (they may be about to write).
    let mut skipped = Vec::new();
    loop {
        let started = Instant::now();
        let idle = storage.idle_visitors(cutoff, VISITOR_BATCH).await?;
        let connected = hub.connected_visitors(&idle);
        let due: Vec<_> = idle
            .iter()
            .copied()
            .filter(|v| !connected.contains(v) && !skipped.contains(v))
            .collect();
        swept.visitors += storage.forget_visitors(&due).await?;
        // Connected ones stay listed: skip them, and stop once only they remain.
        skipped.extend(connected);
        if (idle.len() as i64) < VISITOR_BATCH || due.is_empty() {
            break;
        }
        pause(started).await;
    }
    if swept.conversations > 0 || swept.visitors > 0 {
        tracing::info!(
            days,
            conversations = swept.conversations,
            visitors = swept.visitors,
            "retention: old conversations and their visitors deleted"
        );
    }
    Ok(swept)
}

/// Runs [`sweep`] now and then every [`EVERY`], for as long as the process.
pub fn start(storage: Storage, hub: Hub, policy: Policy) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(e) = sweep(&storage, &hub, policy).await {
                tracing::warn!(error = %e, "the retention sweep failed; retrying later");
            }
        }
    });
}
