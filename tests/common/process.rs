//! The real `kefu` binary as a child process on a temporary database, for
//! the tests that need what only the process does (signals, flags, its log
//! output, a second process beside it): start, wait, signal, read its log.

use std::fs::OpenOptions;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use super::client::{upgrade_at, AgentWelcome, Client, VisitorWelcome};
use super::{cookie_of, form, http_request, HttpResponse, PASSWORD};

/// The binary under test, built by Cargo for this test.
pub const KEFU: &str = env!("CARGO_BIN_EXE_kefu");
/// How long the server may take to listen.
const START: Duration = Duration::from_secs(15);

/// A port nobody listens on right now.
pub fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding an ephemeral port");
    listener.local_addr().expect("the listener has an address")
}

/// `kefu --db <db> <args…>` run to its end (a CLI command), blocking off the runtime.
pub async fn kefu_cli(db: &Path, args: &[&str]) -> Output {
    let db = db.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(KEFU)
            .arg("--db")
            .arg(&db)
            .args(&args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
    })
    .await
    .expect("the blocking task runs")
    .expect("running kefu")
}

/// Adds agent `name` (password [`PASSWORD`], capacity 100) with `kefu agent add`.
pub async fn add_agent(db: &Path, name: &str) {
    let out = kefu_cli(
        db,
        &[
            "agent",
            "add",
            "--name",
            name,
            "--password",
            PASSWORD,
            "--capacity",
            "100",
        ],
    )
    .await;
    assert!(out.status.success(), "kefu agent add failed: {out:?}");
}

/// A running `kefu serve`; killed when dropped, so a failing test never leaves it behind.
pub struct Kefu {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: PathBuf,
}

impl Kefu {
    /// Starts `kefu --db <db> [global] serve --addr <free port> [serve]`,
    /// with `env`, its output to `<dir>/server.log`; waits until it listens.
    pub async fn start(
        dir: &Path,
        db: &Path,
        global: &[&str],
        serve: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        Self::start_on(free_addr(), dir, db, global, serve, env).await
    }

    /// [`Kefu::start`] on `addr` (a node started again where its balancer expects it).
    pub async fn start_on(
        addr: SocketAddr,
        dir: &Path,
        db: &Path,
        global: &[&str],
        serve: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let log = dir.join("server.log");
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("opening the server log");
        let err = out.try_clone().expect("cloning the log handle");
        let child = Command::new(KEFU)
            .arg("--db")
            .arg(db)
            .args(global)
            .arg("serve")
            .arg("--addr")
            .arg(addr.to_string())
            .args(serve)
            .env("LEPTOS_SITE_ROOT", dir.join("site"))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {KEFU}: {e}"));
        let mut kefu = Kefu { child, addr, log };
        kefu.wait_listening(addr).await;
        kefu
    }

    /// What the server printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_else(|e| format!("(no log: {e})"))
    }

    /// Waits until `addr` accepts connections (the server's, or another of its listeners).
    pub async fn wait_listening(&mut self, addr: SocketAddr) {
        let deadline = Instant::now() + START;
        loop {
            if let Some(status) = self.child.try_wait().expect("polling the server process") {
                panic!(
                    "kefu exited with {status} before listening; log:\n{}",
                    self.log()
                );
            }
            if TcpStream::connect(addr).await.is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "kefu is not listening on {addr} after {START:?}; log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// SIGTERM through `kill(1)`.
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("running kill -TERM");
        assert!(status.success(), "kill -TERM failed: {status}");
    }

    /// Whether the process has ended.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// `GET path` with extra headers.
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
        http_request(self.addr, None, "GET", path, headers, "").await
    }

    /// Signs `name` in with `password`: the answer (a cookie on success).
    pub async fn sign_in(&self, name: &str, password: &str) -> HttpResponse {
        http_request(
            self.addr,
            None,
            "POST",
            "/api/sign_in",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Accept", "application/json"),
            ],
            &form(&[("name", name), ("password", password)]),
        )
        .await
    }

    /// Signs `name` in with [`PASSWORD`]; the `Cookie` header's value.
    pub async fn cookie(&self, name: &str) -> String {
        let answer = self.sign_in(name, PASSWORD).await;
        assert_eq!(answer.status, 200, "sign_in refused: {answer:?}");
        cookie_of(answer.header("set-cookie").expect("a session cookie"))
    }

    /// Opens `/ws/visitor` and says hello.
    pub async fn visitor(&self) -> (Client, VisitorWelcome) {
        let stream = TcpStream::connect(self.addr).await.expect("connecting");
        let mut client = upgrade_at(self.addr, stream, "/ws/visitor", &[])
            .await
            .unwrap_or_else(|s| panic!("the visitor socket was refused: {s}"));
        let welcome = client.hello_visitor(None, vec![]).await;
        (client, welcome)
    }

    /// Opens `/ws/agent` with `cookie` and says hello.
    pub async fn agent(&self, cookie: &str) -> (Client, AgentWelcome) {
        let stream = TcpStream::connect(self.addr).await.expect("connecting");
        let mut client = upgrade_at(self.addr, stream, "/ws/agent", &[("Cookie", cookie)])
            .await
            .unwrap_or_else(|s| panic!("the agent socket was refused: {s}"));
        let welcome = client.hello_agent(vec![]).await;
        (client, welcome)
    }
}

impl Drop for Kefu {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
