//! The run from end to end: checks the flags, prints the header (load
//! average, cores and pinning, open-files limit, the PostgreSQL and Redis
//! servers), creates the run's PostgreSQL database and drops it after, runs
//! the servers and scenarios (servers.rs, sequence.rs), then appends the
//! records to `<out>/<date>.jsonl` and draws the latency chart.

mod asset_tables;
mod sequence;
mod servers;

use anyhow::{bail, Result};

use super::{pg, procs, redis, report, Cli, Plan, Scenario};

/// Runs the whole benchmark that `cli` and `plan` ask for, on `cores`
/// cores (the servers on core 0 when `pinned`), and writes its results.
pub async fn run(cli: Cli, mut plan: Plan, cores: usize, pinned: bool) -> Result<()> {
    let cluster = cli.only.contains(&Scenario::Cluster);
    if cluster && cli.only.len() > 1 {
        bail!("--only cluster runs alone (its agents and conversations are its own)");
    }
    if cluster && cli.url.is_some() {
        bail!("the cluster scenario starts its own nodes: no --url");
    }
    if cli.nodes > 1 && (!cluster || cli.redis.is_none()) {
        bail!(
            "--nodes {} is for --only cluster, with --redis (and --postgres)",
            cli.nodes
        );
    }
    let load_before = procs::load_average();
    let fd_limit = procs::open_files_limit();
    println!(
        "kefu-bench ({} mode, db: {}), load average {load_before}, {} cores, open-files limit {}",
        plan.mode,
        plan.db,
        cores,
        fd_limit.map_or("unknown".into(), |l| l.to_string()),
    );
    println!(
        "  {}",
        if pinned {
            "servers pinned to core 0 (taskset), the load generator to core 1"
        } else {
            "no pinning (taskset missing or a single core): servers and load share the cores"
        }
    );
    if let Some(limit) = fd_limit {
        let room = (limit as usize).saturating_sub(2 * plan.conversations + 2_000);
        if plan.idle > room {
            println!(
                "  idle sockets capped at {room} (asked {}): raise `ulimit -n` for more",
                plan.idle
            );
            plan.idle = room;
        }
        plan.idle_during_chat = plan.idle_during_chat.min(room);
        plan.idle_pinging = plan.idle_pinging.min(room);
    }
    let database = match &cli.postgres {
        Some(server) => Some(postgres(server, cli.postgres_pid, pinned).await?),
        None => None,
    };
    let redis = match &cli.redis {
        Some(url) => Some(redis_server(url, cli.redis_pid, pinned).await?),
        None => None,
    };
    if cluster || cli.nodes > 1 {
        println!(
            "  {} kefu node(s){}",
            cli.nodes,
            if redis.is_some() {
                ", joined through Redis"
            } else {
                ""
            }
        );
    }
    let core = pinned.then_some(0);
    let work = std::env::temp_dir().join(format!("kefu-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let result = servers::run_in(&cli, &plan, core, &work, database.as_ref(), redis.as_ref()).await;
    let _ = std::fs::remove_dir_all(&work);
    let postgres_version = database.as_ref().map(|d| d.version.clone());
    if let Some(database) = database {
        if let Err(e) = database.drop_database().await {
            eprintln!("kefu-bench: could not drop the run's database: {e:#}");
        }
    }
    let (records, curves) = result?;

    let load_after = procs::load_average();
    println!("\nload average before {load_before}, after {load_after} (other work on the machine makes figures noisy)");
    let run = serde_json::json!({
        "date": report::today(),
        "mode": plan.mode,
        "load_before": load_before,
        "load_after": load_after,
        "cores": cores,
        "pinned": pinned,
        "open_files_limit": fd_limit,
        "commit": git_commit(),
        "target": cli.url.clone().unwrap_or_else(|| "own".into()),
        "db": plan.db,
        "postgres_version": postgres_version,
        "nodes": cli.nodes,
        "redis_version": redis.as_ref().map(|r| r.version.clone()),
    });
    let jsonl = report::append_jsonl(&cli.out, &run, &records)?;
    println!("results appended to {jsonl}");
    if !curves.is_empty() {
        let svg = report::svg(
            &format!(
                "kefu vs bare relay: latency against load ({} mode, db: {})",
                plan.mode, plan.db
            ),
            &curves,
        );
        // The PostgreSQL run keeps the SQLite run's chart.
        let path = cli.out.join(match plan.db {
            "postgres" => "latency-postgres.svg",
            _ => "latency.svg",
        });
        std::fs::write(&path, svg)?;
        println!("chart written to {}", path.display());
    }
    Ok(())
}

/// Creates the run's database on the PostgreSQL server at `server` and
/// says where its processes run.
async fn postgres(server: &str, pid: Option<u32>, pinned: bool) -> Result<pg::Database> {
    let database = pg::Database::create(server, pid).await?;
    let cores = database.postmaster.and_then(pg::cores_of);
    println!(
        "  PostgreSQL {} at {}, database {}; postmaster {}",
        database.version,
        pg::redact(server),
        database.name,
        match (database.postmaster, &cores) {
            (Some(pid), Some(cores)) => format!("pid {pid} on cores {cores}"),
            _ => "not found: no PostgreSQL CPU figures (give --postgres-pid)".into(),
        },
    );
    if pinned && cores.as_deref().is_some_and(|c| c != "0") {
        println!("  PostgreSQL is not pinned to core 0 (scripts/engines.sh with KEFU_ENGINES_CORE=0 is): it shares the load generator's core");
    }
    Ok(database)
}

/// Finds the Redis server at `url` (its pid, for its CPU) and says where it runs.
async fn redis_server(url: &str, pid: Option<u32>, pinned: bool) -> Result<redis::Server> {
    let server = redis::Server::probe(url, pid).await?;
    let cores = server.pid.and_then(pg::cores_of);
    println!(
        "  Redis {} at {}; {}",
        server.version,
        redis::redact(url),
        match (server.pid, &cores) {
            (Some(pid), Some(cores)) => format!("pid {pid} on cores {cores}"),
            _ => "its process not found: no Redis CPU figures (give --redis-pid)".into(),
        },
    );
    if pinned && cores.as_deref().is_some_and(|c| c != "0") {
        println!("  Redis is not pinned to core 0 (scripts/engines.sh with KEFU_ENGINES_CORE=0 is): it shares the load generator's core");
    }
    Ok(server)
}

fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
