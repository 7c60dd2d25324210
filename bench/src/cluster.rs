//! The cluster scenario (`--only cluster`, with `--nodes N --redis URL`):
//! the chat's load (scenarios::phase, its visitors, agents and latency
//! marks) spread over N kefu nodes that share one PostgreSQL database and
//! one Redis, with no balancer: the load generator picks each socket's node
//! itself, so it knows which messages cross from one node to another.
//!
//! Figures: CPU seconds per 1,000 messages of each node, of PostgreSQL (all
//! its processes) and of Redis, so that the capacity of N nodes can be
//! computed; latency of messages whose visitor and agent are on the same
//! node beside those that go through Redis to another node.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::time::Instant;

use super::load::{self, Target};
use super::procs::{self, Server};
use super::report::{self, Latency, Record};
use super::scenarios::{self, Side};
use super::Plan;

/// Agents, whatever the number of nodes (so that one node and three differ
/// in nothing else): two per node of three.
pub const AGENTS: usize = 6;
/// Messages by where their two sides are: (figure prefix, row label).
const CLASSES: [(&str, &str); 2] = [("same_node", "same node"), ("cross_node", "across nodes")];
const SAME: u8 = 0;
const CROSS: u8 = 1;
/// An unmeasured phase first: pools, caches and Redis connections warm.
const WARM_UP: Duration = Duration::from_secs(3);
/// After the agents connect, before conversations open: every node must
/// see every agent online (presence is written to Redis at once and
/// rewritten every 2 s).
const PRESENCE_WAIT: Duration = Duration::from_secs(3);

/// The kefu nodes of a run and the Redis server between them.
#[derive(Clone, Debug)]
pub struct Nodes {
    pub targets: Vec<Target>,
    /// Each node's process id, in the order of `targets`.
    pub pids: Vec<u32>,
    /// Redis' process id (None: no Redis, or not found).
    pub redis_pid: Option<u32>,
}

impl Nodes {
    /// Where agent `i` (or visitor `i`, with `visitor`) goes, as (node
    /// index, target). Agent i is on node i mod N; visitor i on node
    /// (i + i div N) mod N, a Latin square: kefu gives conversations to the
    /// agents in turn (most free capacity, then idle longest), so with
    /// visitors on node i mod N too every pair could land on one node; this
    /// way about one conversation in N does, and each node holds as many
    /// visitors as the others.
    pub fn place(&self, i: usize, visitor: bool) -> (usize, Target) {
        let n = self.targets.len().max(1);
        let node = if visitor { (i + i / n) % n } else { i % n };
        (node, self.targets[node])
    }
}

/// Starts one node: `kefu --db DB serve --addr … --grace-secs 3600
/// [--redis URL]` with every abuse limit lifted, pinned to `core`, its
/// output in `log`.
pub fn spawn_node(
    kefu: &Path,
    db: &OsStr,
    site: &Path,
    redis: Option<&str>,
    core: Option<usize>,
    log: PathBuf,
) -> Result<Server> {
    let addr = procs::free_addr()?;
    let mut args: Vec<OsString> = vec![
        "--db".into(),
        db.to_owned(),
        "serve".into(),
        "--addr".into(),
        addr.to_string().into(),
        "--grace-secs".into(),
        "3600".into(),
    ];
    if let Some(url) = redis {
        args.extend(["--redis".into(), url.into()]);
    }
    let site_root = site.display().to_string();
    let mut envs: Vec<(&str, &str)> = procs::UNLIMITED.to_vec();
    envs.extend([
        ("LEPTOS_SITE_ROOT", site_root.as_str()),
        ("LEPTOS_OUTPUT_NAME", "kefu"),
        ("RUST_LOG", "warn"),
    ]);
    Server::spawn("kefu", kefu, &args, &envs, core, addr, log)
}

/// Latency figures of each class (`same_node_p99_ms`, …) from a phase's
/// latencies and their classes, both in arrival order (nothing when the
/// recorder did not classify).
pub fn set_by_class(r: &mut Record, latencies: &[u32], classes: &[u8]) {
    if classes.len() != latencies.len() {
        return;
    }
    for (c, (key, _)) in CLASSES.iter().enumerate() {
        let mut of: Vec<u32> = latencies
            .iter()
            .zip(classes)
            .filter(|(_, k)| usize::from(**k) == c)
            .map(|(us, _)| *us)
            .collect();
        let lat = Latency::of_us(&mut of);
        r.set(&format!("{key}_delivered"), lat.count as f64);
        r.set(&format!("{key}_p50_ms"), lat.p50);
        r.set(&format!("{key}_p99_ms"), lat.p99);
        r.set(&format!("{key}_p999_ms"), lat.p999);
        r.set(&format!("{key}_max_ms"), lat.max);
    }
    let unknown = classes.iter().filter(|k| **k == u8::MAX).count();
    if unknown > 0 {
        r.set("unclassified_delivered", unknown as f64);
    }
}

/// CPU seconds so far of each node and of Redis.
fn cpu_now(nodes: &Nodes) -> (Vec<Option<f64>>, Option<f64>) {
    let each = nodes.pids.iter().map(|p| procs::cpu_secs(*p)).collect();
    (each, nodes.redis_pid.and_then(procs::cpu_secs))
}

/// Sets `<key>_cpu_s`, `<key>_cpu_pct` (of one core) and
/// `<key>_cpu_s_per_1k_msgs` from CPU seconds `cpu` over `wall` seconds.
fn set_cpu(r: &mut Record, key: &str, cpu: f64, wall: f64, delivered: f64) {
    r.set(&format!("{key}_cpu_s"), cpu);
    r.set(&format!("{key}_cpu_pct"), 100.0 * cpu / wall);
    if delivered > 0.0 {
        r.set(
            &format!("{key}_cpu_s_per_1k_msgs"),
            cpu / (delivered / 1000.0),
        );
    }
}

/// Runs the scenario on `side` (whose `cluster` says where the nodes are):
/// agents `names` spread over the nodes, `plan.conversations` visitors
/// too, a warm-up, then one phase of `plan.rate` messages per second per
/// conversation for `plan.duration`. Prints its tables; returns its record.
pub async fn run(plan: &Plan, names: &[String], side: &mut Side) -> Result<Record> {
    let nodes = side
        .cluster
        .clone()
        .context("the cluster scenario needs its nodes")?;
    let n = nodes.targets.len();
    side.connect_agents(names).await?;
    if n > 1 {
        tokio::time::sleep(PRESENCE_WAIT).await;
    }
    let took = side.open_conversations(plan.conversations, names).await?;
    println!(
        "\ncluster: {n} node(s); opened {} conversations in {:.2} s ({} agents)",
        plan.conversations,
        took.as_secs_f64(),
        names.len()
    );

    // Which conversations have both sides on one node.
    let agent_node: HashMap<&str, usize> = (0..names.len())
        .map(|i| (names[i].as_str(), nodes.place(i, false).0))
        .collect();
    let mut by_id = HashMap::new();
    let mut of_visitor = Vec::with_capacity(side.opened.len());
    for (conversation, agent, node) in &side.opened {
        let class = match agent.as_deref().and_then(|a| agent_node.get(a)) {
            Some(a) if a == node => SAME,
            Some(_) => CROSS,
            None => u8::MAX,
        };
        if let Some(id) = conversation {
            by_id.insert(*id, class);
        }
        of_visitor.push(class);
    }
    side.recorder.classify(by_id);
    // kefu's CPU is read per node here, not as one process by the phase.
    side.pid = None;

    println!("  warm-up: {WARM_UP:?} at the same rate, not measured…");
    let _ = scenarios::phase(side, "cluster warm-up", plan.rate, WARM_UP).await;
    side.recorder
        .settle(Duration::from_millis(500), Duration::from_secs(30))
        .await;
    println!(
        "  {} msgs/s for {:?}…",
        plan.rate * plan.conversations as f64,
        plan.duration
    );
    let (nodes0, redis0) = cpu_now(&nodes);
    let wall0 = Instant::now();
    let mut r = scenarios::phase(side, "cluster", plan.rate, plan.duration).await;
    let (nodes1, redis1) = cpu_now(&nodes);
    let wall = wall0.elapsed().as_secs_f64();
    r.params.insert("nodes".into(), n as f64);
    r.params.insert("agents".into(), names.len() as f64);
    let delivered = r.get("delivered").unwrap_or(0.0);

    let mut kefu_cpu = Some(0.0);
    for (i, (a, b)) in nodes0.iter().zip(&nodes1).enumerate() {
        let cpu = a.zip(*b).map(|(a, b)| b - a);
        if let Some(cpu) = cpu {
            set_cpu(&mut r, &format!("node{}", i + 1), cpu, wall, delivered);
        }
        kefu_cpu = kefu_cpu.zip(cpu).map(|(sum, c)| sum + c);
    }
    let redis_cpu = redis0.zip(redis1).map(|(a, b)| b - a);
    if let Some(cpu) = kefu_cpu {
        set_cpu(&mut r, "kefu", cpu, wall, delivered);
    }
    if let Some(cpu) = redis_cpu {
        set_cpu(&mut r, "redis", cpu, wall, delivered);
    }
    // The total is what was measured: no PostgreSQL on SQLite, no Redis
    // without --redis (or when its process was not found: the header says).
    let parts = [
        ("the nodes", kefu_cpu),
        ("PostgreSQL", r.get("pg_cpu_s")),
        ("Redis", redis_cpu),
    ];
    let total: f64 = parts.iter().filter_map(|(_, cpu)| *cpu).sum();
    set_cpu(&mut r, "total", total, wall, delivered);
    let measured: Vec<&str> = parts
        .iter()
        .filter(|(_, cpu)| cpu.is_some())
        .map(|(name, _)| *name)
        .collect();
    let share = match side.core {
        Some(core) => format!("share core {core}"),
        None => "and the load share the cores".into(),
    };
    r.note(format!(
        "{n} node(s); total: {} ({share}): read the cost per message, not a speed-up",
        measured.join(", ")
    ));

    for (c, (key, _)) in CLASSES.iter().enumerate() {
        let mine: Vec<usize> = (0..of_visitor.len())
            .filter(|i| usize::from(of_visitor[*i]) == c)
            .collect();
        let scheduled: usize = mine
            .iter()
            .map(|i| load::schedule(*i, of_visitor.len(), plan.rate, plan.duration).count())
            .sum();
        r.set(&format!("{key}_conversations"), mine.len() as f64);
        r.set(&format!("{key}_scheduled"), scheduled as f64);
        if let (Some(d), true) = (r.get(&format!("{key}_delivered")), scheduled > 0) {
            r.set(
                &format!("{key}_delivered_pct"),
                100.0 * d / scheduled as f64,
            );
        }
    }
    print_tables(plan, &r, n);
    Ok(r)
}

/// The record as two tables: CPU by process, latency by where the sides are.
fn print_tables(plan: &Plan, r: &Record, n: usize) {
    let title = |what: &str| {
        format!(
            "cluster, {n} node(s): {} conversations × {} msgs/s = {} msgs/s for {:?}, {what} [db: {}]",
            plan.conversations,
            plan.rate,
            plan.rate * plan.conversations as f64,
            plan.duration,
            plan.db
        )
    };
    let mut processes: Vec<(String, String)> = (1..=n)
        .map(|i| (format!("node {i}"), format!("node{i}")))
        .collect();
    if n > 1 {
        processes.push(("kefu, all nodes".into(), "kefu".into()));
    }
    processes.extend([
        ("PostgreSQL".into(), "pg".into()),
        ("Redis".into(), "redis".into()),
        ("total".into(), "total".into()),
    ]);
    let rows: Vec<Record> = processes
        .iter()
        .map(|(label, key)| {
            let mut row = Record::new("cluster", label);
            for unit in ["cpu_s", "cpu_pct", "cpu_s_per_1k_msgs"] {
                if let Some(v) = r.get(&format!("{key}_{unit}")) {
                    row.set(unit, v);
                }
            }
            row
        })
        .filter(|row| !row.figures.is_empty())
        .collect();
    let refs: Vec<&Record> = rows.iter().collect();
    let columns = [
        ("cpu_s_per_1k_msgs", "CPU s/1k msg"),
        ("cpu_pct", "CPU % of a core"),
        ("cpu_s", "CPU s"),
    ];
    println!(
        "{}",
        report::table(&title("CPU by process"), &refs, &columns)
    );

    let mut rows: Vec<Record> = CLASSES
        .iter()
        .map(|(key, label)| {
            let mut row = Record::new("cluster", label);
            for f in [
                "conversations",
                "delivered",
                "delivered_pct",
                "p50_ms",
                "p99_ms",
                "p999_ms",
                "max_ms",
            ] {
                if let Some(v) = r.get(&format!("{key}_{f}")) {
                    row.set(f, v);
                }
            }
            row
        })
        .collect();
    let mut all = r.clone();
    all.target = "all".into();
    all.set("conversations", plan.conversations as f64);
    all.notes.clear();
    rows.push(all);
    let refs: Vec<&Record> = rows.iter().collect();
    let mut table = report::table(
        &title("latency send→agent by where visitor and agent are"),
        &refs,
        &[
            ("conversations", "conversations"),
            ("delivered", "delivered"),
            ("delivered_pct", "deliv %"),
            ("p50_ms", "p50 ms"),
            ("p99_ms", "p99 ms"),
            ("p999_ms", "p99.9 ms"),
            ("max_ms", "max ms"),
            ("core_idle_pct", "core idle %"),
            ("core_steal_pct", "core steal %"),
            ("bench_cpu_pct", "bench CPU %"),
            ("late_sends", "late sends"),
            ("error_frames", "errors"),
        ],
    );
    for note in &r.notes {
        table.push_str(&format!("  note: {note}\n"));
    }
    println!("{table}");
}
