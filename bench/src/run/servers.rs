//! The servers of a run: starts the relay and kefu (or finds the one at
//! `--url`), signs the agents in, runs the chosen scenarios against both
//! sides (sequence.rs) and stops them. kefu's database is a SQLite file in
//! the run's folder, or the PostgreSQL database of `--postgres` (shared by
//! `--nodes` kefu processes, for the cluster scenario).

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::sequence::scenarios_all;
use crate::load::{Flavor, Target};
use crate::report::{Curve, Record};
use crate::scenarios::Side;
use crate::{cluster, pg, procs, redis, Cli, Plan, Scenario};

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
    // The cluster scenario runs only when asked for, and alone (run/mod.rs).
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
