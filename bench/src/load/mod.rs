//! The load generator: WebSocket clients for kefu and for the relay, the
//! same way for both. Agents read and time every message; visitors send on a
//! fixed schedule (open loop: the timestamp in each message is the time it
//! was *due*, so a server that falls behind cannot hide it by slowing the
//! sender down); idle sockets say hello and then only ping.
//!
//! One file per kind of client: connect.rs opens a socket and reads until
//! an expected answer, agent.rs times what agent sockets receive, visitor.rs
//! sends each conversation's messages on schedule, idle.rs holds the idle
//! sockets. This file keeps what they share: the keep-alive period, the
//! clock the marks are read against, and the frames every client sends.

mod agent;
mod connect;
mod idle;
mod visitor;

pub use agent::{spawn_agent, Recorder};
pub use connect::{ws_config, Flavor, Target};
pub use idle::open_idle;
pub use visitor::{open_conversation, schedule, spawn_visitor, Phase, VisitorStats};

use std::sync::OnceLock;
use std::time::Duration;

use kefu::protocol::{ClientMsg, PROTOCOL_VERSION};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// Keep-alive period (the protocol asks for a ping every 20 s).
const PING_EVERY: Duration = Duration::from_secs(20);

fn base() -> std::time::Instant {
    static BASE: OnceLock<std::time::Instant> = OnceLock::new();
    *BASE.get_or_init(std::time::Instant::now)
}

/// Nanoseconds since the process-wide base instant.
fn ns_at(at: Instant) -> u64 {
    at.into_std().saturating_duration_since(base()).as_nanos() as u64
}

fn encode(msg: &ClientMsg) -> Message {
    Message::text(serde_json::to_string(msg).unwrap_or_default())
}

fn hello() -> Message {
    encode(&ClientMsg::Hello {
        version: PROTOCOL_VERSION,
        token: None,
        resume: Vec::new(),
        identity: None,
    })
}

fn ping() -> Message {
    encode(&ClientMsg::Ping)
}
