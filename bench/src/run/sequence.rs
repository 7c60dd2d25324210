//! The chosen scenarios in their order, against both sides in turn (the
//! relay first, then kefu), each printed as a table as soon as it is known,
//! with kefu's ratio to the relay; the maxrate steps as the chart's curves
//! and kefu's overhead over the relay at 1,000 msgs/s.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use super::asset_tables::asset_tables;
use crate::report::{self, Curve, Record};
use crate::scenarios::{self, Side};
use crate::{cluster, Plan, Scenario};

/// Runs the scenarios that `wants` picks (the cluster one alone) against
/// `kefu` and `relay`, printing each table; adds their records to
/// `records` and the maxrate steps' latency to `curves`.
#[allow(clippy::too_many_arguments)]
pub async fn scenarios_all(
    plan: &Plan,
    wants: &dyn Fn(Scenario) -> bool,
    names: &[String],
    kefu: &mut Side,
    mut relay: Option<&mut Side>,
    site: &Path,
    records: &mut Vec<Record>,
    curves: &mut Vec<Curve>,
) -> Result<()> {
    if wants(Scenario::Cluster) {
        records.push(cluster::run(plan, names, kefu).await?);
        return Ok(());
    }
    let show = |title: &str, rs: &[Record], cols: &[(&str, &str)]| {
        let refs: Vec<&Record> = rs.iter().collect();
        let title = format!("{title} [db: {}]", plan.db);
        println!("{}", report::table(&title, &refs, cols));
    };
    // With its ratio row: [kefu, relay, kefu/relay].
    let pair = |k: Record, r: Option<Record>| -> Vec<Record> {
        match r {
            Some(r) => {
                let ratio = report::ratio(&k, &r);
                vec![k, r, ratio]
            }
            None => vec![k],
        }
    };

    if wants(Scenario::Idle) {
        println!(
            "\nidle: opening {} idle visitor sockets on each server…",
            plan.idle
        );
        let r = match relay.as_deref() {
            Some(side) => Some(scenarios::idle(side, plan.idle).await),
            None => None,
        };
        let k = scenarios::idle(kefu, plan.idle).await;
        let rs = pair(k, r);
        show(
            &format!(
                "idle: {} sockets, each a hello (kefu: a new visitor row each)",
                plan.idle
            ),
            &rs,
            &[
                ("connected", "open"),
                ("connect_per_s", "conn/s"),
                ("setup_p50_ms", "setup p50 ms"),
                ("setup_p99_ms", "setup p99 ms"),
                ("rss_before_mib", "RSS before MiB"),
                ("rss_after_mib", "RSS after MiB"),
                ("rss_per_conn_kib", "KiB/conn"),
                ("marginal_kib_per_conn", "marginal KiB/conn"),
                ("disk_bytes_per_conn", "db+WAL B/conn"),
                ("close_all_s", "close all s"),
                ("listen_overflows", "listen drops"),
            ],
        );
        records.extend(rs);
    }

    let needs_load = wants(Scenario::Chat)
        || wants(Scenario::ChatIdle)
        || wants(Scenario::ChatPings)
        || wants(Scenario::Maxrate);
    if needs_load || wants(Scenario::History) {
        kefu.connect_agents(names).await?;
    }
    if needs_load {
        let keys: Vec<String> = (0..names.len()).map(|i| format!("a{i}")).collect();
        if let Some(side) = relay.as_deref_mut() {
            side.connect_agents(&keys).await?;
            side.open_conversations(plan.conversations, &keys).await?;
        }
        let took = kefu.open_conversations(plan.conversations, names).await?;
        println!(
            "\nopened {} conversations on kefu in {:.2} s ({} agents)",
            plan.conversations,
            took.as_secs_f64(),
            names.len()
        );
    }
    let mut chat_cols: Vec<(&str, &str)> = vec![
        ("sent", "sent"),
        ("delivered_pct", "deliv %"),
        ("p50_ms", "p50 ms"),
        ("p99_ms", "p99 ms"),
        ("p999_ms", "p99.9 ms"),
        ("max_ms", "max ms"),
        ("server_cpu_pct", "srv CPU %"),
        ("cpu_s_per_1k_msgs", "CPU s/1k msg"),
        ("file_syscalls_per_msg", "file syscalls/msg"),
        ("ctx_switches_per_msg", "ctx sw/msg"),
        ("disk_write_kib_per_msg", "disk KiB/msg"),
        ("core_idle_pct", "core idle %"),
        ("core_steal_pct", "core steal %"),
        ("bench_cpu_pct", "bench CPU %"),
        ("late_sends", "late sends"),
        ("error_frames", "errors"),
    ];
    if kefu.postgres.is_some() {
        // The database's processes, beside kefu's own figures.
        chat_cols.splice(
            8..8,
            [
                ("pg_cpu_pct", "PG CPU %"),
                ("pg_cpu_s_per_1k_msgs", "PG CPU s/1k msg"),
                ("pg_file_syscalls_per_msg", "PG file syscalls/msg"),
                ("pg_wal_kib_per_msg", "PG WAL KiB/msg"),
            ],
        );
    }
    let chat_cols = chat_cols.as_slice();
    let offered = plan.rate * plan.conversations as f64;
    let mut chat_pair: Option<(Record, Option<Record>)> = None;
    if wants(Scenario::Chat) {
        println!(
            "\nchat: {} conversations × {} msgs/s for {:?}…",
            plan.conversations, plan.rate, plan.duration
        );
        let r = match relay.as_deref_mut() {
            Some(side) => Some(scenarios::phase(side, "chat", plan.rate, plan.duration).await),
            None => None,
        };
        let mut k = scenarios::phase(kefu, "chat", plan.rate, plan.duration).await;
        k.goal(
            &format!("p99 <= {} ms, delivery >= 99.9 %", scenarios::P99_LIMIT_MS),
            Some(scenarios::held(&k)),
        );
        chat_pair = Some((k.clone(), r.clone()));
        let rs = pair(k, r);
        show(
            &format!("chat: {} conversations × {} msgs/s = {offered} msgs/s for {:?}, latency send→agent", plan.conversations, plan.rate, plan.duration),
            &rs,
            chat_cols,
        );
        records.extend(rs);
    }

    // The chat again with idle sockets open: quiet, or pinging in step.
    let idle_chats = [
        (
            Scenario::ChatIdle,
            plan.idle_during_chat,
            false,
            format!("chat with {} idle sockets open", plan.idle_during_chat),
        ),
        (
            Scenario::ChatPings,
            plan.idle_pinging,
            true,
            format!(
                "chat while {} idle sockets ping within 2 s, 3 s in",
                plan.idle_pinging
            ),
        ),
    ];
    for (scenario, m, pinging, title) in idle_chats {
        if !wants(scenario) {
            continue;
        }
        println!("\n{title}…");
        let r = match relay.as_deref_mut() {
            Some(side) => {
                Some(scenarios::chat_with_idle(side, m, pinging, plan.rate, plan.duration).await)
            }
            None => None,
        };
        let k = scenarios::chat_with_idle(kefu, m, pinging, plan.rate, plan.duration).await;
        let rs = pair(k, r);
        show(
            &format!("{title}: {offered} msgs/s for {:?}", plan.duration),
            &rs,
            chat_cols,
        );
        records.extend(rs);
        kefu.recorder
            .settle(Duration::from_millis(500), Duration::from_secs(30))
            .await;
    }

    let mut steps_k: Vec<Record> = Vec::new();
    let mut steps_r: Vec<Record> = Vec::new();
    if wants(Scenario::Maxrate) {
        println!(
            "\nmaxrate: total rate stepped up over {} conversations, {:?} per step, relay and kefu in turn",
            plan.conversations, plan.step
        );
        // Relay and kefu take turns at each rate.
        let mut search_r = scenarios::Search::default();
        let mut search_k = scenarios::Search::default();
        for &total in &plan.steps {
            if let Some(side) = relay.as_deref_mut() {
                if search_r.searching() {
                    search_r.step(side, total, plan.step).await;
                }
            }
            if search_k.searching() {
                search_k.step(kefu, total, plan.step).await;
            }
            if !search_k.searching() && (relay.is_none() || !search_r.searching()) {
                break;
            }
        }
        let r = relay
            .as_deref()
            .map(|side| search_r.summary(side, plan.step));
        let k = search_k.summary(kefu, plan.step);
        steps_r = search_r.steps;
        steps_k = search_k.steps;
        let rs = pair(k, r);
        show(
            "maxrate: highest total msgs/s with p99 <= 100 ms and delivery >= 99.9 %",
            &rs,
            &[
                ("max_held_per_s", "max held msgs/s"),
                ("first_failed_per_s", "first failed msgs/s"),
                ("p99_ms_at_max", "p99 ms at max"),
                ("cpu_s_per_1k_msgs_at_max", "CPU s/1k msg at max"),
                ("pg_cpu_s_per_1k_msgs_at_max", "PG CPU s/1k msg at max"),
            ],
        );
        let best_k = rs[0].get("max_held_per_s").unwrap_or(0.0);
        records.extend(rs);
        records.extend(steps_r.iter().cloned());
        records.extend(steps_k.iter().cloned());
        if best_k > 0.0 {
            let m = plan.idle_during_maxrate;
            println!("\nmaxrate with {m} idle sockets open (kefu): 90 % of {best_k:.0} msgs/s, then all of it");
            let r = scenarios::maxrate_with_idle(kefu, m, best_k, plan.step).await;
            show(
                &format!("maxrate with {m} idle sockets open"),
                std::slice::from_ref(&r),
                &[
                    ("idle_open", "idle open"),
                    ("max_held_per_s", "max held msgs/s"),
                    ("held_pct_of_max", "% of max without idle"),
                ],
            );
            records.push(r);
        }
        for (side, steps, color) in [
            ("kefu", &steps_k, "#d62728"),
            ("relay", &steps_r, "#1f77b4"),
        ] {
            if steps.is_empty() {
                continue;
            }
            let points = |key: &str| -> Vec<(f64, f64)> {
                // The last attempt at each rate (a failed step is retried once).
                let mut by_rate: Vec<(f64, f64)> = Vec::new();
                for s in steps.iter() {
                    let (Some(x), Some(y)) = (s.params.get("offered_per_s"), s.get(key)) else {
                        continue;
                    };
                    match by_rate.last_mut() {
                        Some(last) if last.0 == *x => last.1 = y,
                        _ => by_rate.push((*x, y)),
                    }
                }
                by_rate
            };
            curves.push(Curve {
                label: format!("{side} p99"),
                color,
                dashed: false,
                points: points("p99_ms"),
            });
            curves.push(Curve {
                label: format!("{side} p50"),
                color,
                dashed: true,
                points: points("p50_ms"),
            });
        }
    }

    // kefu's p99 overhead over the relay at 1,000 msgs/s.
    let at_1k = match &chat_pair {
        Some((k, Some(r))) if (offered - 1000.0).abs() < 1e-9 => {
            Some((k.clone(), r.clone(), "chat"))
        }
        _ => {
            let find = |steps: &[Record]| {
                steps
                    .iter()
                    .find(|s| s.params.get("offered_per_s") == Some(&1000.0))
                    .cloned()
            };
            find(&steps_k)
                .zip(find(&steps_r))
                .map(|(k, r)| (k, r, "maxrate step"))
        }
    };
    if let Some((k, r, from)) = at_1k {
        let mut d = Record::new("overhead at 1k msgs/s", "kefu-relay");
        let (kp, rp) = (k.get("p99_ms"), r.get("p99_ms"));
        d.set("kefu_p99_ms", kp.unwrap_or(f64::NAN));
        d.set("relay_p99_ms", rp.unwrap_or(f64::NAN));
        let delta = kp.zip(rp).map(|(a, b)| a - b);
        d.set("delta_p99_ms", delta.unwrap_or(f64::NAN));
        d.set("kefu_p50_ms", k.get("p50_ms").unwrap_or(f64::NAN));
        d.set("relay_p50_ms", r.get("p50_ms").unwrap_or(f64::NAN));
        d.goal(
            "kefu p99 - relay p99 <= 2 ms at 1,000 msgs/s",
            delta.map(|x| x <= 2.0),
        );
        d.note(format!("from the {from} run at 1,000 msgs/s"));
        show(
            "overhead at 1,000 msgs/s",
            std::slice::from_ref(&d),
            &[
                ("kefu_p50_ms", "kefu p50"),
                ("relay_p50_ms", "relay p50"),
                ("kefu_p99_ms", "kefu p99"),
                ("relay_p99_ms", "relay p99"),
                ("delta_p99_ms", "p99 delta ms"),
            ],
        );
        records.push(d);
    }

    if wants(Scenario::History) {
        println!(
            "\nhistory: storing {} messages in one conversation…",
            plan.history
        );
        let h = scenarios::history(kefu, plan.history, plan.history_repeats).await?;
        show(
            &format!(
                "history: conversation_history of a {}-message conversation, as its agent",
                plan.history
            ),
            std::slice::from_ref(&h),
            &[
                ("fill_msgs_per_s", "stored msgs/s (1 conv, pipelined)"),
                ("history_median_ms", "median ms"),
                ("history_min_ms", "min ms"),
                ("history_max_ms", "max ms"),
                ("response_kib", "response KiB"),
                ("messages_returned", "messages"),
            ],
        );
        records.push(h);
    }

    if wants(Scenario::Assets) {
        asset_tables(site, kefu, &show, records).await?;
    }
    Ok(())
}
