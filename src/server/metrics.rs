//! `/metrics` in Prometheus' text format, through the `metrics` facade and
//! its Prometheus exporter (docs/OPERATIONS.md lists every name).
//!
//! Nothing here costs the live path more than an atomic add: the handles
//! are registered once ([`handles`]), the writer records per batch (not per
//! message), the first-response time once per conversation, and what is
//! live (sockets, agents, conversations) is counted from the hub's tables
//! when scraped. Without `--metrics-addr` or `--metrics-token` no recorder
//! is installed and every handle is a no-op.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use axum::http::{header, HeaderMap};
use metrics::{Counter, Gauge, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::protocol::ErrorCode;
use crate::server::hub::Gauges;
use crate::server::secrets::token_hash;

/// Sockets registered after `hello`, by `role` (`visitor`, `agent`).
pub const SOCKETS: &str = "kefu_sockets";
/// Agents with a console open, by `status` (`online`, `away`).
pub const AGENTS: &str = "kefu_agents";
/// Open conversations (assigned or queued).
pub const CONVERSATIONS_OPEN: &str = "kefu_conversations_open";
/// Open conversations waiting for an agent.
pub const CONVERSATIONS_QUEUED: &str = "kefu_conversations_queued";
/// Messages stored since start, by `kind` (`chat`: visitors' and agents';
/// `system`: assignments, closings).
pub const MESSAGES_STORED: &str = "kefu_messages_stored_total";
/// Error frames sent to clients, by `reason` (the `ErrorCode`).
pub const FRAMES_REFUSED: &str = "kefu_frames_refused_total";
/// Sign-ins refused for a wrong name or password.
pub const SIGNIN_FAILURES: &str = "kefu_signin_failures_total";
/// Messages per transaction of the group-commit writer.
pub const WRITER_BATCH_SIZE: &str = "kefu_writer_batch_size";
/// Seconds from a batch's `BEGIN` to its `COMMIT`.
pub const WRITER_COMMIT_SECONDS: &str = "kefu_writer_commit_seconds";
/// Seconds from a visitor's first message in a conversation to the first
/// agent reply.
pub const FIRST_RESPONSE_SECONDS: &str = "kefu_first_response_seconds";

/// The handles the live path records through, registered once.
pub struct Handles {
    /// [`MESSAGES_STORED`] `kind="chat"`.
    pub messages_chat: Counter,
    /// [`MESSAGES_STORED`] `kind="system"`.
    pub messages_system: Counter,
    /// [`SIGNIN_FAILURES`].
    pub signin_failures: Counter,
    /// [`WRITER_BATCH_SIZE`].
    pub batch_size: Histogram,
    /// [`WRITER_COMMIT_SECONDS`].
    pub commit_seconds: Histogram,
    /// [`FIRST_RESPONSE_SECONDS`].
    pub first_response: Histogram,
    visitor_sockets: Gauge,
    agent_sockets: Gauge,
    agents_online: Gauge,
    agents_away: Gauge,
    conversations_open: Gauge,
    conversations_queued: Gauge,
}

static HANDLES: OnceLock<Handles> = OnceLock::new();
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// The handles, registered with the recorder on first use (no-ops if none
/// was installed by then: [`install`] runs before the server starts).
pub fn handles() -> &'static Handles {
    HANDLES.get_or_init(|| Handles {
        messages_chat: metrics::counter!(MESSAGES_STORED, "kind" => "chat"),
        messages_system: metrics::counter!(MESSAGES_STORED, "kind" => "system"),
        signin_failures: metrics::counter!(SIGNIN_FAILURES),
        batch_size: metrics::histogram!(WRITER_BATCH_SIZE),
        commit_seconds: metrics::histogram!(WRITER_COMMIT_SECONDS),
        first_response: metrics::histogram!(FIRST_RESPONSE_SECONDS),
        visitor_sockets: metrics::gauge!(SOCKETS, "role" => "visitor"),
        agent_sockets: metrics::gauge!(SOCKETS, "role" => "agent"),
        agents_online: metrics::gauge!(AGENTS, "status" => "online"),
        agents_away: metrics::gauge!(AGENTS, "status" => "away"),
        conversations_open: metrics::gauge!(CONVERSATIONS_OPEN),
        conversations_queued: metrics::gauge!(CONVERSATIONS_QUEUED),
    })
}

/// Counts an error frame sent to a client. Errors are off the message
/// path (and rare), so the labelled counter is looked up here; nothing is
/// done unless metrics are on.
pub fn refused(code: ErrorCode) {
    if INSTALLED.load(Ordering::Relaxed) {
        metrics::counter!(FRAMES_REFUSED, "reason" => code.name()).increment(1);
    }
}

/// Upper bounds of the histograms' buckets.
const BATCH_BUCKETS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0,
];
const COMMIT_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];
const FIRST_RESPONSE_BUCKETS: &[f64] = &[
    5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 14400.0, 86400.0,
];
/// How often histograms' recent samples are folded into their buckets when
/// nobody scrapes (keeps their memory bounded).
const UPKEEP: Duration = Duration::from_secs(5);

/// The installed exporter: renders the scrape, and knows the token.
#[derive(Clone, Debug)]
pub struct Exporter {
    handle: PrometheusHandle,
    /// SHA-256 of `--metrics-token`, if one was set.
    token: Option<Vec<u8>>,
}

/// Installs the Prometheus recorder as the process' `metrics` recorder
/// (once per process) and starts its upkeep. Call inside the runtime,
/// before anything records.
pub fn install(token: Option<&str>) -> anyhow::Result<Exporter> {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(WRITER_BATCH_SIZE.into()), BATCH_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(WRITER_COMMIT_SECONDS.into()), COMMIT_BUCKETS)?
        .set_buckets_for_metric(
            Matcher::Full(FIRST_RESPONSE_SECONDS.into()),
            FIRST_RESPONSE_BUCKETS,
        )?;
    let handle = builder.install_recorder()?;
    describe();
    INSTALLED.store(true, Ordering::Relaxed);
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP);
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(Exporter {
        handle,
        token: token.map(token_hash),
    })
}

/// The HELP lines.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_gauge!(SOCKETS, "Sockets registered after hello, by role.");
    describe_gauge!(AGENTS, "Agents with a console open, by status.");
    describe_gauge!(
        CONVERSATIONS_OPEN,
        "Open conversations, assigned or queued."
    );
    describe_gauge!(
        CONVERSATIONS_QUEUED,
        "Open conversations waiting for an agent."
    );
    describe_counter!(MESSAGES_STORED, "Messages stored since start, by kind.");
    describe_counter!(FRAMES_REFUSED, "Error frames sent to clients, by reason.");
    describe_counter!(
        SIGNIN_FAILURES,
        "Sign-ins refused for a wrong name or password."
    );
    describe_histogram!(WRITER_BATCH_SIZE, "Messages per writer transaction.");
    describe_histogram!(
        WRITER_COMMIT_SECONDS,
        Unit::Seconds,
        "Writer transaction time, BEGIN to COMMIT."
    );
    describe_histogram!(
        FIRST_RESPONSE_SECONDS,
        Unit::Seconds,
        "Visitor's first message to the first agent reply."
    );
}

impl Exporter {
    /// Whether a token was set (only then is `/metrics` on the public listener).
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Whether the request may scrape: it carries `Authorization: Bearer
    /// <token>` when a token was set. Digests are compared, so the time taken
    /// says nothing about the token.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(want) = &self.token else {
            return true;
        };
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| token_hash(given.trim()) == *want)
    }

    /// The scrape: the live figures set from `gauges`, then everything rendered.
    pub fn render(&self, gauges: Gauges) -> String {
        let h = handles();
        h.visitor_sockets.set(gauges.visitor_sockets as f64);
        h.agent_sockets.set(gauges.agent_sockets as f64);
        h.agents_online.set(gauges.agents_online as f64);
        h.agents_away.set(gauges.agents_away as f64);
        h.conversations_open.set(gauges.conversations_open as f64);
        h.conversations_queued
            .set(gauges.conversations_queued as f64);
        self.handle.render()
    }
}
