//! The chat scenarios: the load phase that every one of them (and each
//! maxrate step, and the cluster run) is made of, with its figures
//! (delivery, latency, CPU of the server, of PostgreSQL and of the bench),
//! and the chat with idle sockets open, quiet or pinging in step.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{Side, CONNECT_CONCURRENCY};
use crate::load::{self, Phase};
use crate::report::{Latency, Record};
use crate::{cluster, cores, pg, procs};

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
