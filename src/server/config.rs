//! Command-line and environment configuration.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// kefu: live customer-service chat in one binary.
#[derive(Debug, Parser)]
#[command(name = "kefu", version, about)]
pub struct Cli {
    /// The SQLite database file (created with its folder on first start).
    #[arg(long, env = "KEFU_DB", default_value = "data/kefu.db", global = true)]
    pub db: PathBuf,
    /// What to do; `serve` when left out.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// kefu's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the widget, the console and the WebSockets (the default).
    Serve(ServeArgs),
    /// Manage agent accounts.
    #[command(subcommand)]
    Agent(AgentCommand),
}

/// Options of `kefu serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KEFU_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Seconds an agent who went offline keeps their conversations.
    #[arg(long, env = "KEFU_GRACE_SECS", default_value_t = 30)]
    pub grace_secs: u64,
    /// Seconds after which an agent whose console is hidden (another tab
    /// in front, the window minimised) goes away by itself, and back online
    /// when the console shows again. Unset: only the agent's own choice.
    #[arg(long = "away-after-idle", env = "KEFU_AWAY_AFTER_IDLE_SECS", value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub away_after_idle_secs: Option<u32>,
    /// Origins, cookies, proxies and abuse limits.
    #[command(flatten)]
    pub security: Security,
}

/// Who may call kefu from where; see docs/SECURITY.md.
#[derive(Debug, Clone, Args)]
pub struct Security {
    /// Sites allowed to embed the widget (frame-ancestors) and open visitor
    /// sockets, e.g. https://shop.example.com. Repeat, or separate with commas.
    #[arg(
        long = "allow-origin",
        env = "KEFU_ALLOW_ORIGINS",
        value_delimiter = ','
    )]
    pub allow_origins: Vec<String>,
    /// Mark the session cookie Secure (set this when kefu is served over https).
    #[arg(long, env = "KEFU_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Behind a reverse proxy: take the client address from X-Forwarded-For
    /// and the scheme from X-Forwarded-Proto.
    #[arg(long, env = "KEFU_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// Abuse limits.
    #[command(flatten)]
    pub limits: Limits,
}

/// Abuse limits, each configurable; the defaults suit a support chat
/// (people type, they do not script). docs/SECURITY.md lists them.
#[derive(Debug, Clone, Args)]
pub struct Limits {
    /// Messages one connection may send in a burst.
    #[arg(long, env = "KEFU_MSG_BURST", default_value_t = 20)]
    pub msg_burst: u32,
    /// Messages per second one connection may sustain.
    #[arg(long, env = "KEFU_MSG_RATE", default_value_t = 5.0)]
    pub msg_rate: f64,
    /// Messages all connections of one address may send in a burst.
    #[arg(long, env = "KEFU_ADDR_MSG_BURST", default_value_t = 100)]
    pub addr_msg_burst: u32,
    /// Messages per second all connections of one address may sustain.
    #[arg(long, env = "KEFU_ADDR_MSG_RATE", default_value_t = 20.0)]
    pub addr_msg_rate: f64,
    /// Open WebSocket connections per client address.
    #[arg(long, env = "KEFU_MAX_CONNS_PER_ADDR", default_value_t = 200)]
    pub max_conns_per_addr: u32,
    /// Open WebSocket connections per visitor (tabs of one browser).
    #[arg(long, env = "KEFU_MAX_CONNS_PER_VISITOR", default_value_t = 10)]
    pub max_conns_per_visitor: u32,
    /// Conversations one visitor may start per hour.
    #[arg(long, env = "KEFU_MAX_CONVERSATIONS_PER_HOUR", default_value_t = 10)]
    pub max_conversations_per_hour: u32,
    /// Failed sign-ins per account (four times as many per address) within
    /// 15 minutes before each further attempt must wait, twice as long each time.
    #[arg(long, env = "KEFU_SIGNIN_FAILURES", default_value_t = 5)]
    pub signin_failures: u32,
    /// Hours without use after which a session ends.
    #[arg(long, env = "KEFU_SESSION_IDLE_HOURS", default_value_t = 12)]
    pub session_idle_hours: u64,
    /// Days after which a session ends, used or not.
    #[arg(long, env = "KEFU_SESSION_MAX_DAYS", default_value_t = 30)]
    pub session_max_days: u64,
}

impl Default for Security {
    /// The documented defaults (what `kefu serve` uses without flags or env).
    fn default() -> Self {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            security: Security,
        }
        Only::try_parse_from(["kefu"])
            .map(|o| o.security)
            .unwrap_or_else(|e| panic!("the security defaults parse: {e}"))
    }
}

impl Limits {
    /// No practical limit on rates or connections (load tests, benchmarks).
    pub fn unlimited() -> Self {
        Self {
            msg_burst: u32::MAX / 2,
            msg_rate: 1e9,
            addr_msg_burst: u32::MAX / 2,
            addr_msg_rate: 1e9,
            max_conns_per_addr: u32::MAX,
            max_conns_per_visitor: u32::MAX,
            max_conversations_per_hour: u32::MAX,
            ..Security::default().limits
        }
    }
}

/// `kefu agent …`
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Add an agent account.
    Add {
        /// Sign-in and display name.
        #[arg(long)]
        name: String,
        /// Password (read from the KEFU_AGENT_PASSWORD variable, or standard input, when left out).
        #[arg(long, env = "KEFU_AGENT_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Concurrent conversations.
        #[arg(long, default_value_t = crate::accounts::DEFAULT_CAPACITY)]
        capacity: u32,
        /// Make the agent an admin.
        #[arg(long)]
        admin: bool,
    },
    /// List agent accounts.
    List,
}
