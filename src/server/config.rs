//! Command-line and environment configuration.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// kefu: live customer-service chat in one binary.
#[derive(Debug, Parser)]
#[command(name = "kefu", version, about)]
pub struct Cli {
    /// The database: a SQLite file (created with its folder on first start;
    /// `sqlite://FILE` also works) or a PostgreSQL URL (`postgres://…`),
    /// which every node of a cluster shares.
    #[arg(long, env = "KEFU_DB", default_value = "data/kefu.db", global = true)]
    pub db: String,
    /// How log lines are written: `text` for people, `json` (one object a
    /// line) for log collectors.
    #[arg(long, env = "KEFU_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
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
    /// What is stored about a visitor: export it, or delete it.
    #[command(subcommand)]
    Visitor(VisitorCommand),
    /// Copy the database, consistently, into a new file (safe while kefu
    /// serves; docs/OPERATIONS.md shows how to restore it).
    Backup {
        /// The copy to write; must not exist yet.
        file: PathBuf,
    },
}

/// The log lines' format (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, span fields (the connection id) included.
    Json,
}

/// Shortest `--metrics-token` accepted: it guards `/metrics` on the public listener.
pub const MIN_METRICS_TOKEN_CHARS: usize = 16;

fn metrics_token(value: &str) -> Result<String, String> {
    let token = value.trim();
    if token.chars().count() < MIN_METRICS_TOKEN_CHARS {
        return Err(format!(
            "the metrics token must be at least {MIN_METRICS_TOKEN_CHARS} characters"
        ));
    }
    if !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err("the metrics token must be printable ASCII without spaces".into());
    }
    Ok(token.to_owned())
}

/// `kefu visitor …`
#[derive(Debug, Subcommand)]
pub enum VisitorCommand {
    /// Print everything stored about a visitor as JSON.
    Export {
        /// The visitor's id (the number of "Visitor N", shown in the console's visitor panel).
        id: i64,
    },
    /// Delete a visitor and everything about them, from every table and from
    /// search (refused while they have an open conversation).
    Delete {
        /// The visitor's id.
        id: i64,
    },
}

/// Parses `--retain-days`: a whole number of days, at least 1.
fn retain_days(value: &str) -> Result<u32, String> {
    match value.trim().parse::<u32>() {
        Ok(0) => Err(
            "0 would delete every closed conversation at once; give at least 1 day, \
                      or leave --retain-days unset to keep conversations forever"
                .into(),
        ),
        Ok(days) if days <= MAX_RETAIN_DAYS => Ok(days),
        _ => Err(format!(
            "a whole number of days from 1 to {MAX_RETAIN_DAYS}"
        )),
    }
}

/// The longest retention `--retain-days` takes (a hundred years).
pub const MAX_RETAIN_DAYS: u32 = 36_500;

/// Options of `kefu serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KEFU_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Joins the other nodes on the same PostgreSQL database through this
    /// Redis server (`redis://host:port/`): many nodes behind a load balancer.
    #[arg(long, env = "KEFU_REDIS")]
    pub redis: Option<String>,
    /// Seconds an agent who went offline keeps their conversations.
    #[arg(long, env = "KEFU_GRACE_SECS", default_value_t = 30)]
    pub grace_secs: u64,
    /// Seconds after which an agent whose console is hidden (another tab
    /// in front, the window minimised) goes away by itself, and back online
    /// when the console shows again. Unset: only the agent's own choice.
    #[arg(long = "away-after-idle", env = "KEFU_AWAY_AFTER_IDLE_SECS", value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub away_after_idle_secs: Option<u32>,
    /// Days a closed conversation is kept: older ones are deleted with
    /// their messages, notes and ratings, then visitors left with nothing
    /// (see docs/OPERATIONS.md). Unset: kept forever.
    #[arg(long, env = "KEFU_RETAIN_DAYS", value_parser = retain_days)]
    pub retain_days: Option<u32>,
    /// Serve `/metrics` (Prometheus) on this separate address, e.g.
    /// 127.0.0.1:9100, open to whoever reaches it (unless a token is set).
    /// Off by default.
    #[arg(long, env = "KEFU_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// Serve `/metrics` on the public address too, to requests carrying
    /// `Authorization: Bearer <token>` (401 without it); also required on
    /// --metrics-addr when set. At least 16 characters.
    #[arg(long, env = "KEFU_METRICS_TOKEN", hide_env_values = true, value_parser = metrics_token)]
    pub metrics_token: Option<String>,
    /// Origins, cookies, proxies and abuse limits.
    #[command(flatten)]
    pub security: Security,
    /// Webhook deliveries (docs/OPERATIONS.md, "Webhooks").
    #[command(flatten)]
    pub webhooks: super::webhooks::Config,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retain_days_refuses_zero_and_garbage_with_a_reason() {
        let parse = |args: &[&str]| Cli::try_parse_from(args.iter().copied());
        let zero = parse(&["kefu", "serve", "--retain-days", "0"]).expect_err("refused");
        assert!(zero.to_string().contains("at least 1 day"), "{zero}");
        assert!(parse(&["kefu", "serve", "--retain-days", "-3"]).is_err());
        assert!(parse(&["kefu", "serve", "--retain-days", "soon"]).is_err());
        let ok = parse(&["kefu", "serve", "--retain-days", "30"]).expect("parses");
        match ok.command {
            Some(Command::Serve(args)) => assert_eq!(args.retain_days, Some(30)),
            other => panic!("{other:?}"),
        }
        match parse(&["kefu", "visitor", "delete", "7"])
            .expect("parses")
            .command
        {
            Some(Command::Visitor(VisitorCommand::Delete { id: 7 })) => {}
            other => panic!("{other:?}"),
        }
    }
}
