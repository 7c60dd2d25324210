//! The maxrate scenario: the search for the highest total rate whose step
//! holds, and kefu's highest rate again with idle sockets open.

use std::time::Duration;

use super::{phase, Side, CONNECT_CONCURRENCY, DELIVERY_LIMIT, P99_LIMIT_MS};
use crate::load;
use crate::report::Record;

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
