//! The scenarios. Each runs against one side (kefu or the relay) and returns
//! its figures as a [`Record`](super::report::Record).
//!
//! This file holds the [`Side`] they load and the limits their goals use;
//! each scenario has a file of its own: idle.rs, chat.rs (the load phase
//! that every chat scenario, maxrate step and cluster run is made of),
//! maxrate.rs and history.rs.

mod chat;
mod history;
mod idle;
mod maxrate;

pub use chat::{chat_with_idle, phase};
pub use history::history;
pub use idle::idle;
pub use maxrate::{held, maxrate_with_idle, Search};

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::load::{self, Flavor, Phase, Recorder, Target, VisitorStats};
use super::{cluster, pg, procs};

/// p99 above this fails a load step.
pub const P99_LIMIT_MS: f64 = 100.0;
/// Delivery below this fails a load step.
pub const DELIVERY_LIMIT: f64 = 0.999;
/// Idle memory goal, KiB per connection.
pub const IDLE_GOAL_KIB: f64 = 6.0;
/// Handshakes in flight while opening many sockets: below the listen
/// backlog of 128 that tokio's `TcpListener::bind` gives both servers, so
/// that the connect rate measures the server rather than SYN retransmits.
pub const CONNECT_CONCURRENCY: usize = 100;

/// One server under load, with its agents and conversations.
pub struct Side {
    pub name: &'static str,
    pub target: Target,
    /// The server's process, when known (own server, or `--pid`).
    pub pid: Option<u32>,
    /// The server's SQLite database, when known (own server).
    pub db: Option<PathBuf>,
    /// kefu's PostgreSQL server, when kefu runs on one and it can be read
    /// (for the database's own figures).
    pub postgres: Option<pg::Probe>,
    /// The core the servers are pinned to (None: not pinned), whose idle
    /// and stolen time each phase records.
    pub core: Option<usize>,
    pub recorder: Arc<Recorder>,
    pub visitor_stats: Arc<VisitorStats>,
    phases: watch::Sender<Option<Phase>>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// kefu: agent name → session cookie.
    pub cookies: HashMap<String, String>,
    pub conversations: usize,
    next_phase: u32,
    /// `typing` frames per second each visitor sends in chat phases (0: none).
    pub typing: f64,
    /// Several kefu nodes (the cluster scenario): agent and visitor sockets
    /// spread over them instead of all on `target`.
    pub cluster: Option<cluster::Nodes>,
    /// Each conversation opened, in visitor order: its id, its agent, and
    /// the node (index in `cluster`) its visitor's socket is on.
    pub opened: Vec<(Option<i64>, Option<String>, usize)>,
}

impl Side {
    pub fn new(name: &'static str, target: Target, pid: Option<u32>, db: Option<PathBuf>) -> Self {
        Self {
            name,
            target,
            pid,
            db,
            postgres: None,
            core: None,
            recorder: Arc::default(),
            visitor_stats: Arc::default(),
            phases: watch::channel(None).0,
            stop: watch::channel(false).0,
            tasks: Vec::new(),
            cookies: HashMap::new(),
            conversations: 0,
            next_phase: 1,
            typing: 0.0,
            cluster: None,
            opened: Vec::new(),
        }
    }

    /// The node of agent `i` (or of visitor `i`, `visitor`) and its target.
    fn node_of(&self, i: usize, visitor: bool) -> (usize, Target) {
        match &self.cluster {
            Some(nodes) => nodes.place(i, visitor),
            None => (0, self.target),
        }
    }

    /// The same side, its visitors sending `per_s` typing frames a second.
    pub fn typing(mut self, per_s: f64) -> Self {
        self.typing = per_s;
        self
    }

    fn rss(&self) -> Option<f64> {
        self.pid.and_then(procs::rss_kib).map(|k| k as f64)
    }

    fn cpu(&self) -> Option<f64> {
        self.pid.and_then(procs::cpu_secs)
    }

    fn db_bytes(&self) -> Option<f64> {
        let db = self.db.as_ref()?;
        let size = |p: PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
        let wal = PathBuf::from(format!("{}-wal", db.display()));
        Some((size(db.clone()) + size(wal)) as f64)
    }

    /// Connects the agents (kefu: one socket per signed-in agent; relay: as many keys).
    pub async fn connect_agents(&mut self, keys: &[String]) -> Result<()> {
        for (i, key) in keys.iter().enumerate() {
            let cookie = self.cookies.get(key).cloned();
            if self.target.flavor == Flavor::Kefu && cookie.is_none() {
                bail!("no session cookie for agent {key}");
            }
            let task = load::spawn_agent(
                self.node_of(i, false).1,
                key.clone(),
                cookie,
                self.recorder.clone(),
                self.stop.subscribe(),
            )
            .await?;
            self.tasks.push(task);
        }
        Ok(())
    }

    /// Opens `n` conversations (visitor i paired with agent key i mod keys).
    pub async fn open_conversations(&mut self, n: usize, keys: &[String]) -> Result<Duration> {
        let started = Instant::now();
        let mut opened = Vec::with_capacity(n);
        for chunk in (0..n).collect::<Vec<_>>().chunks(32) {
            let batch = chunk.iter().map(|i| {
                let key = keys[i % keys.len()].clone();
                let (node, target) = self.node_of(*i, true);
                async move { (node, load::open_conversation(target, &key).await) }
            });
            for (node, visitor) in futures::future::join_all(batch).await {
                let visitor = visitor.context("opening a conversation")?;
                self.opened
                    .push((visitor.conversation, visitor.agent.clone(), node));
                opened.push(visitor);
            }
        }
        for (i, visitor) in opened.into_iter().enumerate() {
            self.tasks.push(load::spawn_visitor(
                visitor,
                i,
                n,
                self.phases.subscribe(),
                self.visitor_stats.clone(),
            ));
        }
        self.conversations = n;
        Ok(started.elapsed())
    }

    /// Stops every client task of this side (dropping their sockets).
    pub fn shutdown(&mut self) {
        let _ = self.stop.send(true);
        self.phases.send_replace(None);
        for task in self.tasks.drain(..) {
            task.abort();
        }
    }
}
