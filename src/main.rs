//! kefu's binary: `kefu serve` (the default), `kefu agent …`, `kefu visitor …` and `kefu backup`.

use std::io::BufRead;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;
use clap::Parser;
use kefu::routes::router;
use kefu::server::config::{AgentCommand, Cli, Command, LogFormat, ServeArgs, VisitorCommand};
use kefu::server::edge::assets::AssetNames;
use kefu::server::storage::{self, sqlite, Database};
use kefu::server::{secrets, AppState};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logs(cli.log_format);
    match cli.command {
        None => serve(&cli.db, default_serve_args()?).await,
        Some(Command::Serve(args)) => serve(&cli.db, args).await,
        Some(Command::Agent(cmd)) => agent(&cli.db, cmd).await,
        Some(Command::Visitor(cmd)) => visitor(&cli.db, cmd).await,
        Some(Command::Backup { file }) => backup(&cli.db, &file).await,
    }
}

/// Logs to standard output at `RUST_LOG` (default: info), as text or JSON.
fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => logs.init(),
        // Span fields (`conn`, `role`) on every line, in `span` and `spans`.
        LogFormat::Json => logs.json().init(),
    }
}

/// `kefu backup FILE`.
async fn backup(db: &str, file: &std::path::Path) -> anyhow::Result<()> {
    let db = match Database::parse(db) {
        Database::Sqlite(path) => path,
        Database::Postgres(_) => anyhow::bail!(
            "kefu backup copies a SQLite file; back up PostgreSQL with pg_dump (docs/DEPLOY.md)"
        ),
    };
    let db = db.as_path();
    let copy = sqlite::backup(db, file)
        .await
        .with_context(|| format!("backing up {} into {}", db.display(), file.display()))?;
    println!(
        "backed up {} into {} ({} bytes, {} messages)",
        db.display(),
        file.display(),
        copy.bytes,
        copy.messages
    );
    Ok(())
}

/// `kefu` alone means `kefu serve`, with the serve flags' environment variables.
fn default_serve_args() -> anyhow::Result<ServeArgs> {
    #[derive(Parser)]
    struct Only {
        #[command(flatten)]
        args: ServeArgs,
    }
    Ok(Only::try_parse_from(["kefu"])?.args)
}

async fn serve(db: &str, args: ServeArgs) -> anyhow::Result<()> {
    let mut leptos_options = leptos::prelude::get_configuration(None)
        .context("reading the Leptos configuration")?
        .leptos_options;
    leptos_options.site_addr = args.addr;
    // `make build` leaves a hash file beside the binary when the bundles'
    // names carry hashes; Leptos' HydrationScripts reads it only if told to.
    let assets = AssetNames::beside_exe(&leptos_options).context("reading the hash file")?;
    leptos_options.hash_files = assets.hashed;
    // Before anything records (the writer registers its handles on first use).
    let exporter = if args.metrics_addr.is_some() || args.metrics_token.is_some() {
        Some(kefu::server::metrics::install(
            args.metrics_token.as_deref(),
        )?)
    } else {
        None
    };
    let grace = Duration::from_secs(args.grace_secs);
    let opened = match &args.redis {
        Some(redis) => AppState::open_clustered(leptos_options, db, grace, redis).await,
        None => AppState::open(leptos_options, db, grace).await,
    };
    let mut state = opened
        .with_context(|| format!("opening the database at {}", Database::parse(db)))?
        .with_security(args.security)
        .with_assets(assets)
        .with_away_after_idle(args.away_after_idle_secs);
    kefu::server::retention::start(
        state.storage.clone(),
        state.hub.clone(),
        kefu::server::retention::Policy {
            retain_days: args.retain_days,
            session_idle: Duration::from_secs(
                state
                    .security
                    .config
                    .limits
                    .session_idle_hours
                    .saturating_mul(3600),
            ),
        },
    );
    match args.retain_days {
        Some(days) => tracing::info!(days, "closed conversations are kept {days} days"),
        None => tracing::info!("closed conversations are kept forever (no --retain-days)"),
    }
    if let Some(exporter) = exporter {
        state = state.with_metrics(exporter);
    }
    if let Some(addr) = args.metrics_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening for /metrics on {addr}"))?;
        tracing::info!("metrics on http://{}/metrics", listener.local_addr()?);
        let ops = kefu::server::edge::ops::router(state.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, ops).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    state
        .webhooks
        .configure(args.webhooks)
        .context("starting the webhooks' HTTP client")?;
    let shutdown = state.shutdown.clone();
    let listener = listen(args.addr).with_context(|| format!("listening on {}", args.addr))?;
    state.webhooks.set_own_addr(listener.local_addr()?);
    tracing::info!(
        "kefu is serving on http://{} (database {})",
        listener.local_addr()?,
        Database::parse(db)
    );
    // Small frames (acks, messages) go out at once: no Nagle delay.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown({
        let shutdown = shutdown.clone();
        async move {
            shutdown_signal().await;
            tracing::info!("shutting down: telling every socket the server restarts");
            // From here `/readyz` says 503 and new sockets are refused, while
            // the listener still answers: load balancers see "not ready"
            // (not a refused connection) until the sockets have drained.
            shutdown.begin();
            if !shutdown.drained(DRAIN).await {
                tracing::warn!(
                    open = shutdown.live(),
                    "sockets still open after {DRAIN:?}; exiting anyway"
                );
            }
        }
    })
    .await
    .context("serving")?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => {
            let _ = ctrl_c.await;
            return;
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}

async fn agent(db: &str, cmd: AgentCommand) -> anyhow::Result<()> {
    let storage = storage::open(db)
        .await
        .with_context(|| format!("opening the database at {}", Database::parse(db)))?;
    match cmd {
        AgentCommand::Add {
            name,
            password,
            capacity,
            admin,
        } => {
            let name = kefu::accounts::clean_name(&name)
                .map_err(|e| anyhow::anyhow!("the name is refused: {e:?}"))?;
            let password = match password {
                Some(p) => p,
                None => {
                    eprintln!("password for {name}:");
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            kefu::accounts::check_password(&password).map_err(|_| {
                anyhow::anyhow!(
                    "passwords are {} to {} characters",
                    kefu::accounts::MIN_PASSWORD_CHARS,
                    kefu::accounts::MAX_PASSWORD_CHARS
                )
            })?;
            kefu::accounts::check_capacity(capacity).map_err(|_| {
                anyhow::anyhow!("capacity is 1 to {}", kefu::accounts::MAX_CAPACITY)
            })?;
            let hash = secrets::hash_password(password).await?;
            let agent = storage
                .create_agent(&name, &hash, capacity, admin, false)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .context("the agent was not created")?;
            println!(
                "added agent {} (capacity {}{})",
                agent.name,
                agent.capacity,
                if agent.is_admin { ", admin" } else { "" }
            );
        }
        AgentCommand::List => {
            for a in storage.list_agents().await? {
                println!(
                    "{}\tcapacity {}\t{}{}",
                    a.name,
                    a.capacity,
                    if a.is_admin { "admin" } else { "agent" },
                    if a.disabled { "\tdisabled" } else { "" }
                );
            }
        }
    }
    Ok(())
}

/// `kefu visitor export|delete ID`: what is stored about a visitor.
async fn visitor(db: &str, cmd: VisitorCommand) -> anyhow::Result<()> {
    use kefu::server::storage::{Deleted, VisitorId};
    let storage = storage::open(db)
        .await
        .with_context(|| format!("opening the database at {}", Database::parse(db)))?;
    match cmd {
        VisitorCommand::Export { id } => {
            let export = storage
                .export_visitor(VisitorId(id))
                .await?
                .with_context(|| format!("no visitor {id}"))?;
            println!("{}", serde_json::to_string_pretty(&export)?);
        }
        VisitorCommand::Delete { id } => match storage.delete_visitor(VisitorId(id)).await? {
            Deleted::Gone => println!("deleted visitor {id} and everything stored about them"),
            Deleted::NotFound => anyhow::bail!("no visitor {id}"),
            Deleted::Open(c) => anyhow::bail!(
                "visitor {id} has an open conversation ({}): close it first, then delete",
                c.0
            ),
        },
    }
    Ok(())
}
/// Longest wait for sockets to close after SIGTERM.
const DRAIN: Duration = Duration::from_secs(10);

/// Most connections waiting to be accepted. Every page that carries the
/// widget opens a socket, so after a restart thousands reconnect at once;
/// tokio's default backlog (128, as the standard library's) dropped
/// handshakes in bursts, each costing the client a 1 s SYN retry.
const LISTEN_BACKLOG: u32 = 4096;

fn listen(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}
