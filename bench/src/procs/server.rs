//! The servers the bench starts (kefu and the relay) as child processes,
//! pinned with `taskset` when asked and killed when dropped; and
//! `kefu agent add`.

use std::ffi::{OsStr, OsString};
use std::fs::OpenOptions;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::net::TcpStream;

/// Environment for `kefu serve` lifting every rate and connection limit
/// (the same knobs as `Limits::unlimited()`, through their env variables).
pub const UNLIMITED: &[(&str, &str)] = &[
    ("KEFU_MSG_BURST", "1000000000"),
    ("KEFU_MSG_RATE", "1000000000"),
    ("KEFU_ADDR_MSG_BURST", "1000000000"),
    ("KEFU_ADDR_MSG_RATE", "1000000000"),
    ("KEFU_MAX_CONNS_PER_ADDR", "1000000000"),
    ("KEFU_MAX_CONNS_PER_VISITOR", "1000000000"),
    ("KEFU_MAX_CONVERSATIONS_PER_HOUR", "1000000000"),
];

/// A server the bench started: killed when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    log: PathBuf,
    name: &'static str,
}

impl Server {
    /// Starts `program args…` with `envs`, output to `log`, pinned to `core` when given.
    pub fn spawn(
        name: &'static str,
        program: &Path,
        args: &[OsString],
        envs: &[(&str, &str)],
        core: Option<usize>,
        addr: SocketAddr,
        log: PathBuf,
    ) -> Result<Self> {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .with_context(|| format!("opening {}", log.display()))?;
        let err = out.try_clone()?;
        let mut command = match core {
            Some(core) => {
                let mut c = Command::new("taskset");
                c.args(["-c", &core.to_string()]).arg(program);
                c
            }
            None => Command::new(program),
        };
        let child = command
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        Ok(Self {
            child,
            addr,
            log,
            name,
        })
    }

    /// The process id (taskset execs the program, so this is the server's own).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the port accepts connections.
    pub async fn wait_ready(&mut self, max: Duration) -> Result<()> {
        let deadline = Instant::now() + max;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{} exited with {status} before listening on {}; log:\n{}",
                    self.name,
                    self.addr,
                    self.log_text()
                );
            }
            if TcpStream::connect(self.addr).await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "{} is not listening on {} after {max:?}; log:\n{}",
                    self.name,
                    self.addr,
                    self.log_text()
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The last lines the server printed.
    pub fn log_text(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `kefu --db <db> agent add --name <name> --password <password> --capacity <capacity>`
/// (`db`: a SQLite file or a PostgreSQL URL).
pub async fn add_agent(
    kefu: &Path,
    db: &OsStr,
    name: &str,
    password: &str,
    capacity: u32,
) -> Result<()> {
    let mut command = Command::new(kefu);
    command
        .arg("--db")
        .arg(db)
        .args(["agent", "add", "--name", name, "--password", password])
        .args(["--capacity", &capacity.to_string()])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    let output = tokio::task::spawn_blocking(move || command.output())
        .await?
        .context("running kefu agent add")?;
    if !output.status.success() {
        bail!(
            "kefu agent add --name {name} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}
