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
