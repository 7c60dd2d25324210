//! The scenarios. Each runs against one side (kefu or the relay) and returns
//! its figures as a [`Record`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::load::{self, Flavor, Phase, Recorder, Target, VisitorStats};
use super::report::{Latency, Record};
use super::{cluster, cores, pg, procs};

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

// ---------------------------------------------------------------------------
// idle
// ---------------------------------------------------------------------------

/// `n` idle visitor sockets: memory per connection and connect rate.
pub async fn idle(side: &Side, n: usize) -> Record {
    let mut r = Record::new("idle", side.name).param("connections", n as f64);
    let rss0 = side.rss();
    let db0 = side.db_bytes();
    let sockets0 = side.pid.and_then(procs::socket_count);
    let overflows0 = procs::listen_overflows();
    // A tenth first: what grows once (SQLite's page caches, hash tables, the
    // allocator's arenas) mostly grows then, so the other nine tenths give
    // the marginal cost of one more socket.
    let first = load::open_idle(side.target, n / 10, CONNECT_CONCURRENCY).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_tenth = side.rss();
    let rest = load::open_idle(side.target, n - n / 10, CONNECT_CONCURRENCY).await;
    if let (Some(a), Some(b)) = (overflows0, procs::listen_overflows()) {
        r.set("listen_overflows", b - a);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss1 = side.rss();
    let connected = (first.connected + rest.connected) as f64;
    r.set("connected", connected);
    r.set("failed", (first.failed + rest.failed) as f64);
    r.set(
        "connect_per_s",
        connected / (first.took + rest.took).as_secs_f64(),
    );
    let mut setup = first.setup_us.clone();
    setup.extend_from_slice(&rest.setup_us);
    let lat = Latency::of_us(&mut setup);
    r.set("setup_p50_ms", lat.p50);
    r.set("setup_p99_ms", lat.p99);
    if let (Some(a), Some(b)) = (rss0, rss1) {
        r.set("rss_before_mib", a / 1024.0);
        r.set("rss_after_mib", b / 1024.0);
        if connected > 0.0 {
            r.set("rss_per_conn_kib", (b - a) / connected);
        }
        if let (Some(t), true) = (rss_tenth, rest.connected > 0) {
            r.set("marginal_kib_per_conn", (b - t) / rest.connected as f64);
        }
    }
    if let (Some(a), Some(b)) = (db0, side.db_bytes()) {
        if connected > 0.0 {
            r.set("disk_bytes_per_conn", (b - a) / connected);
        }
    }
    if let Some(e) = first.first_error.as_ref().or(rest.first_error.as_ref()) {
        r.note(format!("first connect error: {e}"));
    }
    if side.name == "kefu" {
        let per = r.get("rss_per_conn_kib");
        r.goal(
            &format!("<= {IDLE_GOAL_KIB} KiB of server RSS per idle connection"),
            per.map(|p| p <= IDLE_GOAL_KIB),
        );
    }
    // Close them all and wait for the server to let go of the sockets.
    let closing = Instant::now();
    first.close(Duration::from_secs(30)).await;
    rest.close(Duration::from_secs(30)).await;
    if let (Some(pid), Some(sockets0)) = (side.pid, sockets0) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if procs::socket_count(pid).is_none_or(|n| n <= sockets0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    r.set("close_all_s", closing.elapsed().as_secs_f64());
    r
}

// ---------------------------------------------------------------------------
// chat, maxrate
// ---------------------------------------------------------------------------

/// Runs one load phase on every conversation of `side`: `rate` messages/s
/// each for `duration`. Figures: delivery, latency, server CPU.
pub async fn phase(side: &mut Side, scenario: &str, rate: f64, duration: Duration) -> Record {
    let id = side.next_phase;
    side.next_phase += 1;
    let n = side.conversations;
    let scheduled: usize = (0..n)
        .map(|i| load::schedule(i, n, rate, duration).count())
        .sum();
    let mut r = Record::new(scenario, side.name)
        .param("conversations", n as f64)
        .param("rate_per_conversation", rate)
        .param("offered_per_s", rate * n as f64)
        .param("duration_s", duration.as_secs_f64());
    // Only the chat scenarios type (maxrate measures messages alone).
    let typing = if scenario.starts_with("chat") {
        side.typing
    } else {
        0.0
    };
    if typing > 0.0 {
        r = r.param("typing_per_conversation", typing);
    }
    let sent = Arc::new(AtomicU64::new(0));
    let late = Arc::new(AtomicU64::new(0));
    let errors0 = side.visitor_stats.errors.load(Ordering::Relaxed);
    let drops0 = side.recorder.agent_drops.load(Ordering::Relaxed);
    let start = Instant::now() + Duration::from_millis(300);
    side.recorder.begin(id);
    let cpu0 = side.cpu();
    let counters0 = side.pid.and_then(procs::counters);
    let pg0 = match side.postgres.as_mut() {
        Some(probe) => probe.read().await,
        None => None,
    };
    let own0 = procs::cpu_secs(std::process::id());
    let core0 = cores::times(side.core);
    let wall0 = Instant::now();
    side.phases.send_replace(Some(Phase {
        id,
        rate,
        start,
        duration,
        sent: sent.clone(),
        late: late.clone(),
        typing,
    }));
    tokio::time::sleep_until(start + duration).await;
    // Drain: until everything arrived, or nothing more for 2 s, or 10 s.
    let hard = start + duration + Duration::from_secs(10);
    let mut last = (side.recorder.count(), Instant::now());
    while Instant::now() < hard {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let c = side.recorder.count();
        if c >= scheduled {
            break;
        }
        if c != last.0 {
            last = (c, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(2) {
            break;
        }
    }
    let cpu1 = side.cpu();
    let counters1 = side.pid.and_then(procs::counters);
    let pg1 = match side.postgres.as_mut() {
        Some(probe) => probe.read().await,
        None => None,
    };
    let own1 = procs::cpu_secs(std::process::id());
    let core1 = cores::times(side.core);
    let wall = wall0.elapsed().as_secs_f64();
    side.phases.send_replace(None);
    let (mut lats, classes) = side.recorder.finish_classified();
    // Before the sort below: `classes` is in arrival order.
    cluster::set_by_class(&mut r, &lats, &classes);
    let delivered = lats.len() as f64;
    let lat = Latency::of_us(&mut lats);
    r.set("scheduled", scheduled as f64);
    r.set("sent", sent.load(Ordering::Relaxed) as f64);
    r.set("delivered", delivered);
    r.set("delivered_pct", 100.0 * delivered / scheduled.max(1) as f64);
    r.set("p50_ms", lat.p50);
    r.set("p99_ms", lat.p99);
    r.set("p999_ms", lat.p999);
    r.set("max_ms", lat.max);
    if let (Some(a), Some(b)) = (cpu0, cpu1) {
        r.set("server_cpu_s", b - a);
        if delivered > 0.0 {
            r.set("cpu_s_per_1k_msgs", (b - a) / (delivered / 1000.0));
        }
        r.set("server_cpu_pct", 100.0 * (b - a) / wall);
    }
    if let (Some(a), Some(b)) = (counters0, counters1) {
        if delivered > 0.0 {
            r.set(
                "file_syscalls_per_msg",
                (b.syscalls - a.syscalls) / delivered,
            );
            r.set(
                "ctx_switches_per_msg",
                (b.context_switches - a.context_switches) / delivered,
            );
            r.set(
                "disk_write_kib_per_msg",
                (b.disk_write_bytes - a.disk_write_bytes) / 1024.0 / delivered,
            );
        }
    }
    if let (Some(a), Some(b)) = (pg0, pg1) {
        set_postgres(&mut r, a, b, delivered, wall);
    }
    if let (Some(a), Some(b)) = (own0, own1) {
        r.set("bench_cpu_pct", 100.0 * (b - a) / wall);
    }
    if let Some((idle, steal)) = core0.zip(core1).and_then(|(a, b)| cores::shares(a, b)) {
        r.set("core_idle_pct", idle);
        r.set("core_steal_pct", steal);
    }
    r.set("late_sends", late.load(Ordering::Relaxed) as f64);
    let errors = side.visitor_stats.errors.load(Ordering::Relaxed) - errors0;
    let drops = side.recorder.agent_drops.load(Ordering::Relaxed) - drops0;
    r.set("error_frames", errors as f64);
    r.set("agent_drops", drops as f64);
    let dropped = side.visitor_stats.dropped.load(Ordering::Relaxed);
    if dropped > 0 {
        r.note(format!("{dropped} visitor sockets dropped so far"));
    }
    r
}

/// The PostgreSQL server's figures of a phase, from its usage before (`a`)
/// and after (`b`): its CPU (all its processes), per 1,000 messages and as
/// a share of one core; the file syscalls of its live processes and the
/// WAL it wrote, per message.
fn set_postgres(r: &mut Record, a: pg::Usage, b: pg::Usage, delivered: f64, wall: f64) {
    let cpu = b.cpu_secs - a.cpu_secs;
    r.set("pg_cpu_s", cpu);
    r.set("pg_cpu_pct", 100.0 * cpu / wall);
    r.set("pg_processes", b.processes as f64);
    if delivered > 0.0 {
        r.set("pg_cpu_s_per_1k_msgs", cpu / (delivered / 1000.0));
        if let (Some(x), Some(y)) = (a.file_syscalls, b.file_syscalls) {
            // A process that ended takes its count along: never below 0.
            r.set("pg_file_syscalls_per_msg", (y - x).max(0.0) / delivered);
        }
        if let (Some(x), Some(y)) = (a.wal_bytes, b.wal_bytes) {
            r.set("pg_wal_kib_per_msg", (y - x) / 1024.0 / delivered);
        }
        if let Some(kefu) = r.get("server_cpu_s") {
            r.set(
                "total_cpu_s_per_1k_msgs",
                (kefu + cpu) / (delivered / 1000.0),
            );
        }
    }
}

/// When the wave of pings comes in a phase of [`chat_with_idle`].
const WAVE_AFTER: Duration = Duration::from_secs(3);

/// Chat at `rate` per conversation while `idle` idle sockets are open. With
/// `pinging`, they all ping within two seconds from [`WAVE_AFTER`] into the
/// phase (and every 20 s after): the case of browsers that reconnected
/// together after a restart, whose cost shows in the p99.9 and max.
pub async fn chat_with_idle(
    side: &mut Side,
    idle: usize,
    pinging: bool,
    rate: f64,
    duration: Duration,
) -> Record {
    let set = load::open_idle(side.target, idle, CONNECT_CONCURRENCY).await;
    let waves = async {
        if pinging {
            tokio::time::sleep(WAVE_AFTER).await;
            set.ping_all();
        }
    };
    let name = if pinging { "chat+pings" } else { "chat+idle" };
    let (mut r, ()) = tokio::join!(phase(side, name, rate, duration), waves);
    r.params.insert("idle_connections".into(), idle as f64);
    r.set("idle_open", set.connected as f64);
    set.close(Duration::from_secs(30)).await;
    r
}

/// The cost of idle sockets at full load: with `idle` idle visitor sockets
/// open, kefu is run at 90 % of `best` (its highest rate that held with none
/// open), then at `best`. The goal: no more than 10 % less with them open.
pub async fn maxrate_with_idle(
    side: &mut Side,
    idle: usize,
    best: f64,
    duration: Duration,
) -> Record {
    let set = load::open_idle(side.target, idle, CONNECT_CONCURRENCY).await;
    let mut search = Search::default();
    for total in [0.9 * best, best] {
        search.step(side, total, duration).await;
        if !search.searching() {
            break;
        }
    }
    let mut r = Record::new("maxrate+idle", side.name)
        .param("idle_connections", idle as f64)
        .param("max_without_idle_per_s", best);
    r.set("idle_open", set.connected as f64);
    r.set("max_held_per_s", search.best.unwrap_or(0.0));
    r.set(
        "held_pct_of_max",
        100.0 * search.best.unwrap_or(0.0) / best.max(1.0),
    );
    r.goal(
        "no more than 10 % below the rate held with no idle sockets",
        Some(search.best.is_some_and(|b| b >= 0.9 * best)),
    );
    set.close(Duration::from_secs(30)).await;
    r
}

/// Whether a load step held: p99 within the limit and (almost) everything delivered.
pub fn held(r: &Record) -> bool {
    r.get("p99_ms").is_some_and(|p| p <= P99_LIMIT_MS)
        && r.get("delivered_pct")
            .is_some_and(|d| d >= DELIVERY_LIMIT * 100.0)
}

/// Where one side's search for its highest sustainable rate stands. The
/// caller steps both sides in turn at each rate, so that kefu and the relay
/// meet the same moments of a shared machine.
#[derive(Default)]
pub struct Search {
    pub steps: Vec<Record>,
    best: Option<f64>,
    failed_at: Option<f64>,
}

impl Search {
    /// Whether no step has failed yet.
    pub fn searching(&self) -> bool {
        self.failed_at.is_none()
    }

    /// Runs the step at `total` msgs/s over all conversations of `side`. A
    /// failed step is run once more: one stall of a shared machine should
    /// not end the search.
    pub async fn step(&mut self, side: &mut Side, total: f64, duration: Duration) {
        let per = total / side.conversations.max(1) as f64;
        let mut ok = false;
        for attempt in 1..=2 {
            let mut step = phase(side, "maxrate step", per, duration).await;
            ok = held(&step);
            step.set("held", if ok { 1.0 } else { 0.0 });
            step.set("attempt", attempt as f64);
            let pg_cpu = match step.get("pg_cpu_pct") {
                Some(p) => format!("  PG CPU {p:>5.1} %"),
                None => String::new(),
            };
            let core = match (step.get("core_idle_pct"), step.get("core_steal_pct")) {
                (Some(idle), Some(steal)) => {
                    format!("  core idle {idle:>4.1} % steal {steal:>4.1} %")
                }
                _ => String::new(),
            };
            println!(
                "  {:>5} {:>7.0} msgs/s: p50 {:>7.2} ms  p99 {:>8.2} ms  max {:>8.2} ms  delivered {:>7.3} %  server CPU {:>5.1} %{pg_cpu}{core}  bench CPU {:>5.1} %  late sends {:>6}  {}",
                side.name,
                total,
                step.get("p50_ms").unwrap_or(f64::NAN),
                step.get("p99_ms").unwrap_or(f64::NAN),
                step.get("max_ms").unwrap_or(f64::NAN),
                step.get("delivered_pct").unwrap_or(f64::NAN),
                step.get("server_cpu_pct").unwrap_or(f64::NAN),
                step.get("bench_cpu_pct").unwrap_or(f64::NAN),
                step.get("late_sends").unwrap_or(0.0),
                if ok { "held" } else if attempt == 1 { "failed, once more" } else { "FAILED" }
            );
            self.steps.push(step);
            side.recorder
                .settle(Duration::from_millis(500), Duration::from_secs(30))
                .await;
            if ok {
                break;
            }
        }
        if ok {
            self.best = Some(total);
        } else {
            self.failed_at = Some(total);
        }
    }

    /// The result: the highest rate that held, and the first that did not.
    pub fn summary(&self, side: &Side, duration: Duration) -> Record {
        let mut summary = Record::new("maxrate", side.name)
            .param("conversations", side.conversations as f64)
            .param("step_s", duration.as_secs_f64());
        summary.set("max_held_per_s", self.best.unwrap_or(0.0));
        // The step that held at the highest rate: its tail and its cost.
        // (Steps rise, so the last one held is at the best rate.)
        let at_max = self.steps.iter().rev().find(|s| s.get("held") == Some(1.0));
        if let Some(step) = at_max {
            for key in [
                "p50_ms",
                "p99_ms",
                "cpu_s_per_1k_msgs",
                "server_cpu_pct",
                "pg_cpu_s_per_1k_msgs",
                "pg_cpu_pct",
                "total_cpu_s_per_1k_msgs",
            ] {
                if let Some(v) = step.get(key) {
                    summary.set(&format!("{key}_at_max"), v);
                }
            }
        }
        match self.failed_at {
            Some(f) => summary.set("first_failed_per_s", f),
            None => summary.note("every step held: the true limit is higher than the last step"),
        }
        if side.name == "kefu" {
            summary.goal(
                &format!(
                    "report the highest total rate with p99 <= {P99_LIMIT_MS} ms and delivery >= {} % (a failed step is retried once)",
                    DELIVERY_LIMIT * 100.0
                ),
                None,
            );
        }
        summary
    }
}

// ---------------------------------------------------------------------------
// history
// ---------------------------------------------------------------------------

/// A conversation with `messages` stored messages (sent over the socket,
/// pipelined), then `conversation_history` timed as its serving agent.
pub async fn history(side: &Side, messages: usize, repeats: usize) -> Result<Record> {
    let mut r = Record::new("history", side.name).param("messages", messages as f64);
    let visitor = load::open_conversation(side.target, "").await?;
    let conversation = visitor.conversation.context("no conversation id")?;
    let agent = visitor.agent.clone().context("no serving agent")?;
    let cookie = side
        .cookies
        .get(&agent)
        .with_context(|| format!("the conversation went to {agent}, who is not a bench agent"))?
        .clone();
    // Fill: a window of sends ahead of the acks.
    let (mut sink, mut stream) = visitor.ws.split();
    let (acked_tx, mut acked_rx) = watch::channel(0usize);
    let reader = tokio::spawn(async move {
        let mut acked = 0;
        while let Some(Ok(frame)) = stream.next().await {
            if let Message::Text(text) = frame {
                if text.starts_with("{\"type\":\"ack\"") {
                    acked += 1;
                    acked_tx.send_replace(acked);
                } else if text.starts_with("{\"type\":\"error\"") {
                    return Err(text.to_string());
                }
            }
        }
        Ok(acked)
    });
    let fill_started = Instant::now();
    let fill = async {
        for k in 0..messages {
            while k >= *acked_rx.borrow() + 200 {
                if acked_rx.changed().await.is_err() {
                    bail!("the visitor socket ended after {} acks", *acked_rx.borrow());
                }
            }
            let frame = format!(
                "{{\"type\":\"send\",\"data\":{{\"id\":\"h-{k}\",\"text\":\"history message {k}: the quick brown fox jumps over the lazy dog\"}}}}"
            );
            sink.send(Message::text(frame)).await?;
        }
        while *acked_rx.borrow() < messages {
            if acked_rx.changed().await.is_err() {
                bail!("the visitor socket ended after {} acks", *acked_rx.borrow());
            }
        }
        Ok(())
    };
    let filled = tokio::time::timeout(Duration::from_secs(300), fill).await;
    let fill_s = fill_started.elapsed().as_secs_f64();
    drop(sink);
    reader.abort();
    match filled {
        Err(_) => bail!("storing {messages} messages took over 300 s"),
        Ok(Err(e)) => bail!("storing the history failed (are the limits raised?): {e:#}"),
        Ok(Ok(())) => {}
    }
    r.set("fill_s", fill_s);
    r.set("fill_msgs_per_s", messages as f64 / fill_s);
    side.recorder
        .settle(Duration::from_millis(300), Duration::from_secs(30))
        .await;
    // Time the history call.
    let body = format!("conversation={conversation}");
    let mut times = Vec::new();
    let mut bytes = 0;
    let mut returned = 0;
    for _ in 0..repeats {
        let response = procs::http(
            side.target.addr,
            "POST",
            "/api/conversation_history",
            Some(&cookie),
            Some(&body),
        )
        .await?;
        if response.status != 200 {
            bail!(
                "conversation_history: HTTP {} {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            );
        }
        times.push(response.took.as_micros() as u32);
        bytes = response.body.len();
        if returned == 0 {
            returned = serde_json::from_slice::<kefu::api::HistoryPage>(&response.body)
                .map_or(0, |p| p.messages.len());
        }
    }
    let lat = Latency::of_us(&mut times);
    r.set("history_median_ms", lat.p50);
    r.set("history_min_ms", f64::from(times[0]) / 1000.0);
    r.set("history_max_ms", lat.max);
    r.set("response_kib", bytes as f64 / 1024.0);
    r.set("messages_returned", returned as f64);
    r.goal(
        "< 100 ms for the newest page of a 10,000-message conversation",
        Some(lat.p50 < 100.0),
    );
    r.note(format!(
        "newest page: {returned} messages, {:.1} KiB; older pages load on demand",
        bytes as f64 / 1024.0
    ));
    Ok(r)
}
