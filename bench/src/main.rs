//! `kefu-bench`: the benchmark harness behind `make bench` (bench/README.md),
//! a workspace member of its own so that the product's `ssr` build carries
//! none of its dependencies (its WebSocket client, the baseline relay).
//!
//! Starts the release `kefu` next to this binary on a temporary database
//! (or targets a running one with `--url`), and a bare WebSocket relay as a
//! baseline, both pinned to core 0 with `taskset` while this process pins
//! itself to core 1. Then runs the scenarios against both, prints each
//! figure next to its goal and as a ratio to the relay's, and appends one
//! JSON line per result to `<out>/<date>.jsonl` (plus `<out>/latency.svg`).
//! Every load targets 127.0.0.1 only; every loop is bounded.
//!
//! kefu runs on SQLite by default; with `--postgres URL` on a database of
//! its own on that PostgreSQL server, whose CPU is then measured as well.
//! With `--redis URL --nodes N` it starts N nodes on that database joined
//! through that Redis, for the `cluster` scenario (cluster.rs).

mod assets;
mod cluster;
mod cores;
mod load;
mod pg;
mod procs;
mod redis;
mod relay;
mod report;
mod run;
mod scenarios;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use clap::{Parser, Subcommand, ValueEnum};

/// Load, latency and memory benchmarks of kefu against a bare relay.
#[derive(Debug, Parser)]
#[command(name = "kefu-bench", args_override_self = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Sub>,
    /// Quick mode (the default): a few minutes.
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// Full mode: the sizes of the goals (100,000 idle sockets, …); much longer.
    #[arg(long)]
    full: bool,
    /// Where results go: <out>/<date>.jsonl and <out>/latency.svg.
    #[arg(long, default_value = "bench/results")]
    out: PathBuf,
    /// Target a running kefu (http://127.0.0.1:PORT) instead of starting one.
    /// Its limits must be raised (bench/README.md); needs --db.
    #[arg(long, requires = "db")]
    url: Option<String>,
    /// With --url: that server's database, for `kefu agent add`.
    #[arg(long, requires = "url")]
    db: Option<PathBuf>,
    /// With --url: that server's process id, for its memory and CPU figures.
    #[arg(long, requires = "url")]
    pid: Option<u32>,
    /// Run kefu on PostgreSQL: the URL of a server (naming any database on
    /// it); the bench creates a database of its own there and drops it after.
    #[arg(long, conflicts_with = "url")]
    postgres: Option<String>,
    /// The PostgreSQL server's postmaster pid, for its CPU figures (default:
    /// the parent of the bench's own backend, pg_backend_pid()).
    #[arg(long)]
    postgres_pid: Option<u32>,
    /// Join kefu's nodes through this Redis server (`redis://HOST:PORT/`),
    /// as `kefu serve --redis`; its CPU is measured too. Needs --postgres.
    #[arg(long, requires = "postgres")]
    redis: Option<String>,
    /// The Redis server's pid, for its CPU figures (default: `process_id`
    /// of its `INFO server`).
    #[arg(long, requires = "redis")]
    redis_pid: Option<u32>,
    /// kefu nodes to start on the one database (more than one: with
    /// --redis, for `--only cluster`).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
    nodes: u16,
    /// The kefu binary (default: `kefu` next to this one).
    #[arg(long)]
    kefu: Option<PathBuf>,
    /// The site root with pkg/ (default: ../site from this binary's folder).
    #[arg(long)]
    site: Option<PathBuf>,
    /// Run only these scenarios.
    #[arg(long, value_delimiter = ',')]
    only: Vec<Scenario>,
    /// Skip the relay baseline.
    #[arg(long)]
    no_relay: bool,
    /// Idle sockets in the idle scenario (quick 5,000; full 100,000; capped by the open-files limit).
    #[arg(long)]
    idle: Option<usize>,
    /// Conversations in the chat and maxrate scenarios (quick 100; full 1,000).
    #[arg(long)]
    conversations: Option<usize>,
    /// Messages per second of each conversation in the chat scenarios (quick 10; full 1).
    #[arg(long)]
    rate: Option<f64>,
    /// Seconds of each chat scenario (10).
    #[arg(long)]
    duration: Option<f64>,
    /// Idle sockets open during the second chat scenario (quick 1,000; full 5,000).
    #[arg(long)]
    idle_during_chat: Option<usize>,
    /// Idle sockets pinging in step during the third chat scenario (5,000).
    #[arg(long)]
    idle_pinging: Option<usize>,
    /// Seconds of each maxrate step (quick 5; full 10).
    #[arg(long)]
    step_secs: Option<f64>,
    /// Stored messages in the history scenario (10,000).
    #[arg(long)]
    history: Option<usize>,
    /// `typing` frames per second each visitor sends (with a draft) during
    /// the chat scenarios, beside its messages (0: none; the widget sends
    /// at most 2).
    #[arg(long, default_value_t = 0.0)]
    typing: f64,
}

#[derive(Debug, Subcommand)]
enum Sub {
    /// Internal: serve the baseline relay.
    #[command(hide = true)]
    Relay {
        #[arg(long)]
        addr: SocketAddr,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Idle,
    Chat,
    ChatIdle,
    /// Chat while 5,000 idle sockets ping in step.
    ChatPings,
    Maxrate,
    History,
    Assets,
    /// Only when named, and alone: the chat over `--nodes` nodes; CPU of
    /// every process and latency same-node against cross-node.
    Cluster,
}

/// Sizes of one run.
struct Plan {
    mode: &'static str,
    /// kefu's database: `sqlite` or `postgres`.
    db: &'static str,
    idle: usize,
    conversations: usize,
    rate: f64,
    duration: Duration,
    idle_during_chat: usize,
    /// Idle sockets whose pings come in one wave during a chat phase.
    idle_pinging: usize,
    steps: Vec<f64>,
    /// Idle sockets open while kefu is run at its highest rate again (the
    /// goal names 5,000).
    idle_during_maxrate: usize,
    step: Duration,
    history: usize,
    history_repeats: usize,
    budget: Duration,
    /// `typing` frames per second of each visitor in the chat scenarios.
    typing: f64,
}

impl Plan {
    fn of(cli: &Cli) -> Self {
        let full = cli.full;
        let secs = |v: Option<f64>, d: f64| Duration::from_secs_f64(v.unwrap_or(d));
        let on_postgres = cli.postgres.is_some()
            || cli
                .db
                .as_ref()
                .is_some_and(|d| d.to_string_lossy().starts_with("postgres"));
        Self {
            mode: if full { "full" } else { "quick" },
            db: if on_postgres { "postgres" } else { "sqlite" },
            idle: cli.idle.unwrap_or(if full { 100_000 } else { 5_000 }),
            conversations: cli.conversations.unwrap_or(if full { 1_000 } else { 100 }),
            rate: cli.rate.unwrap_or(if full { 1.0 } else { 10.0 }),
            duration: secs(cli.duration, 10.0),
            idle_during_chat: cli
                .idle_during_chat
                .unwrap_or(if full { 5_000 } else { 1_000 }),
            idle_pinging: cli.idle_pinging.unwrap_or(5_000),
            steps: vec![
                1_000.0, 2_000.0, 5_000.0, 10_000.0, 20_000.0, 30_000.0, 40_000.0, 50_000.0,
                60_000.0, 70_000.0, 85_000.0, 100_000.0,
            ],
            step: secs(cli.step_secs, if full { 10.0 } else { 5.0 }),
            idle_during_maxrate: 5_000,
            history: cli.history.unwrap_or(10_000),
            history_repeats: if full { 20 } else { 5 },
            budget: Duration::from_secs(if full { 3 * 3600 } else { 15 * 60 }),
            typing: cli.typing.max(0.0),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Sub::Relay { addr }) = cli.command {
        return match relay::run(addr) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("relay: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    // Before the runtime starts, so that every thread inherits the pinning.
    let cores = procs::cores();
    let pinned = cores >= 2 && procs::has_taskset() && procs::pin_self(1);
    let plan = Plan::of(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kefu-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let budget = plan.budget;
    let outcome = runtime.block_on(async move {
        tokio::time::timeout(budget, run::run(cli, plan, cores, pinned))
            .await
            .unwrap_or_else(|_| bail!("the run took over {budget:?}; stopped"))
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kefu-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
