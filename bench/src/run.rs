//! The run: starts the relay and kefu (or finds the one at `--url`), signs
//! the agents in, runs the chosen scenarios against both sides in turn and
//! prints each result's table as soon as it is known. kefu's database is a
//! SQLite file in the run's folder, or the PostgreSQL database of `--postgres`
//! (shared by `--nodes` kefu processes, for the cluster scenario).

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::load::{Flavor, Target};
use super::report::{self, Curve, Record};
use super::scenarios::{self, Side};
use super::{assets, cluster, pg, procs, redis, Cli, Plan, Scenario};

const PASSWORD: &str = "bench password 1234";

fn exe_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    Ok(exe
        .parent()
        .context("the binary has a folder")?
        .to_path_buf())
}

/// Starts the servers, runs the scenarios, and returns every record and the
/// chart's curves. With `database`, kefu runs on that PostgreSQL database;
/// `--nodes` of them, joined through `redis` when given.
pub async fn run_in(
    cli: &Cli,
    plan: &Plan,
    core: Option<usize>,
    work: &Path,
    database: Option<&pg::Database>,
    redis: Option<&redis::Server>,
) -> Result<(Vec<Record>, Vec<Curve>)> {
    // The cluster scenario runs only when asked for, and alone (main.rs).
    let wants =
        |s: Scenario| cli.only.contains(&s) || (cli.only.is_empty() && s != Scenario::Cluster);
    let dir = exe_dir()?;
    let kefu_bin = cli.kefu.clone().unwrap_or_else(|| dir.join("kefu"));
    let site = cli.site.clone().unwrap_or_else(|| dir.join("../site"));
    let mut agents = (plan.conversations + 2).div_ceil(80).max(2);
    if wants(Scenario::Cluster) {
        agents = agents.max(cluster::AGENTS);
    }
    let names: Vec<String> = (0..agents)
        .map(|i| match cli.url {
            Some(_) => format!("bench-{}-{i}", std::process::id()),
            None => format!("bench-{i}"),
        })
        .collect();

    // The relay.
    let relay_server = if cli.no_relay || wants(Scenario::Cluster) {
        None
    } else {
        let addr = procs::free_addr()?;
        let args: Vec<OsString> = vec!["relay".into(), "--addr".into(), addr.to_string().into()];
        let mut server = procs::Server::spawn(
            "relay",
            &std::env::current_exe()?,
            &args,
            &[],
            core,
            addr,
            work.join("relay.log"),
        )?;
        server.wait_ready(Duration::from_secs(10)).await?;
        Some(server)
    };

    // kefu: our own on a fresh database, or the one at --url.
    let (kefu_servers, addr, db, pid) = match &cli.url {
        Some(url) => {
            let addr: SocketAddr = url
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .parse()
                .with_context(|| format!("--url {url}: expected http://127.0.0.1:PORT"))?;
            if addr.ip() != std::net::Ipv4Addr::LOCALHOST {
                bail!("--url: the bench loads 127.0.0.1 only");
            }
            let db = cli.db.clone().context("--url needs --db")?;
            for name in &names {
                procs::add_agent(&kefu_bin, db.as_os_str(), name, PASSWORD, 100).await?;
            }
            let sqlite = (plan.db == "sqlite").then_some(db);
            (Vec::new(), addr, sqlite, cli.pid)
        }
        None => {
            if !kefu_bin.exists() {
                bail!(
                    "{} not found: run `cargo leptos build --release` (or `make bench`)",
                    kefu_bin.display()
                );
            }
            // A SQLite file, or the URL of the run's PostgreSQL database.
            let db: OsString = match database {
                Some(d) => d.url.clone().into(),
                None => work.join("kefu.db").into(),
            };
            for name in &names {
                procs::add_agent(&kefu_bin, &db, name, PASSWORD, 100).await?;
            }
            // One node, or several on one database and one Redis.
            let mut servers = Vec::with_capacity(usize::from(cli.nodes));
            for i in 0..usize::from(cli.nodes) {
                let log = match i {
                    0 => work.join("kefu.log"),
                    _ => work.join(format!("kefu-node{}.log", i + 1)),
                };
                let redis_url = redis.map(|r| r.url.as_str());
                let server = cluster::spawn_node(&kefu_bin, &db, &site, redis_url, core, log)?;
                servers.push(server);
            }
            for server in servers.iter_mut() {
                server.wait_ready(Duration::from_secs(30)).await?;
            }
            let (addr, pid) = (servers[0].addr, servers[0].pid());
            let sqlite = database.is_none().then(|| PathBuf::from(db));
            (servers, addr, sqlite, Some(pid))
        }
    };
    let mut kefu = Side::new(
        "kefu",
        Target {
            flavor: Flavor::Kefu,
            addr,
        },
        pid,
        db,
    );
    kefu.typing = plan.typing;
    kefu.core = core;
    if !kefu_servers.is_empty() {
        kefu.cluster = Some(cluster::Nodes {
            targets: kefu_servers
                .iter()
                .map(|s| Target {
                    flavor: Flavor::Kefu,
                    addr: s.addr,
                })
                .collect(),
            pids: kefu_servers.iter().map(procs::Server::pid).collect(),
            redis_pid: redis.and_then(|r| r.pid),
        });
    }
    kefu.postgres = match database {
        Some(d) => Some(pg::Probe::of(d).await?),
        None => cli.postgres_pid.map(pg::Probe::of_pid),
    };
    for name in &names {
        let cookie = procs::sign_in(addr, name, PASSWORD).await?;
        kefu.cookies.insert(name.clone(), cookie);
    }
    let mut relay = relay_server.as_ref().map(|s| {
        Side::new(
            "relay",
            Target {
                flavor: Flavor::Relay,
                addr: s.addr,
            },
            Some(s.pid()),
            None,
        )
        .typing(plan.typing)
    });
    if let Some(r) = relay.as_mut() {
        r.core = core;
    }

    let mut records: Vec<Record> = Vec::new();
    let mut curves: Vec<Curve> = Vec::new();
    let outcome = scenarios_all(
        plan,
        &wants,
        &names,
        &mut kefu,
        relay.as_mut(),
        &site,
        &mut records,
        &mut curves,
    )
    .await;
    kefu.shutdown();
    if let Some(r) = relay.as_mut() {
        r.shutdown();
    }
    if let Err(e) = outcome {
        for (i, server) in kefu_servers.iter().enumerate() {
            eprintln!(
                "kefu's log, node {} (last lines):\n{}",
                i + 1,
                server.log_text()
            );
        }
        return Err(e);
    }
    drop(kefu_servers);
    drop(relay_server);
    Ok((records, curves))
}

#[allow(clippy::too_many_arguments)]
async fn scenarios_all(
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
        let rs = assets::assets(site, Some(kefu.target.addr)).await?;
        let (files, rest): (Vec<Record>, Vec<Record>) =
            rs.into_iter().partition(|r| r.target.starts_with("pkg/"));
        let (opened, rest): (Vec<Record>, Vec<Record>) = rest
            .into_iter()
            .partition(|r| r.target.starts_with(assets::OPENED));
        let (snippet, pages): (Vec<Record>, Vec<Record>) = rest
            .into_iter()
            .partition(|r| r.target.starts_with(assets::SNIPPET));
        show(
            &format!("assets in {}", site.join("pkg").display()),
            &files,
            &[
                ("raw_kib", "raw KiB"),
                ("gzip_kib", "gzip -9 KiB"),
                ("wire_kib", "on the wire KiB"),
            ],
        );
        show(
            "pages: HTML plus every /pkg/ file it loads at once",
            &pages,
            &[
                ("html_raw_kib", "HTML KiB"),
                ("html_gzip_kib", "HTML gz KiB"),
                ("total_raw_kib", "total KiB"),
                ("total_gzip_kib", "total gz KiB"),
                ("total_wire_kib", "on the wire KiB"),
            ],
        );
        show(
            "the snippet on a customer's page (embed.js), chat closed",
            &snippet,
            &[
                ("raw_kib", "raw KiB"),
                ("gzip_kib", "gzip -9 KiB"),
                ("wire_kib", "on the wire KiB"),
            ],
        );
        show(
            "the opened widget (/widget, what customers' sites frame): every response",
            &opened,
            &[("raw_kib", "raw KiB"), ("wire_kib", "on the wire KiB")],
        );
        records.extend(files);
        records.extend(pages);
        records.extend(snippet);
        records.extend(opened);
    }
    Ok(())
}
