//! The idle scenario: many idle visitor sockets, and what each costs the
//! server (memory, database growth), how fast they connect and close.

use std::time::Duration;

use tokio::time::Instant;

use super::{Side, CONNECT_CONCURRENCY, IDLE_GOAL_KIB};
use crate::report::{Latency, Record};
use crate::{load, procs};

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
