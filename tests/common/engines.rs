//! Which database the integration tests run on: SQLite (a temporary file,
//! the default) or, with `KEFU_TEST_BACKEND=postgres`, a fresh database
//! on the PostgreSQL server at `KEFU_TEST_POSTGRES` (scripts/engines.sh
//! starts one and sets both; `make unit` runs the chat, delivery and
//! security tests that way too); the Redis server at `KEFU_TEST_REDIS`
//! (scripts/engines.sh too); and a test's own engines it may stop and
//! start: [`PgServer`], [`RedisServer`], and [`Balancer`] (HAProxy) in front
//! of several nodes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::Connection;

/// The PostgreSQL server's URL when the tests run on PostgreSQL.
pub fn postgres_server() -> Option<String> {
    if std::env::var("KEFU_TEST_BACKEND").ok()?.as_str() != "postgres" {
        return None;
    }
    Some(std::env::var("KEFU_TEST_POSTGRES").expect(
        "KEFU_TEST_BACKEND=postgres needs KEFU_TEST_POSTGRES, the server's URL \
         (scripts/engines.sh run -- cargo test … sets both)",
    ))
}

/// Whether the tests run on PostgreSQL.
pub fn on_postgres() -> bool {
    postgres_server().is_some()
}

/// Creates an empty database on the server at `server` (a URL naming any
/// database on it) and returns its URL: one per test server, so tests never
/// see each other's rows.
pub async fn fresh_postgres(server: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "kefu_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    let mut admin = sqlx::PgConnection::connect(server)
        .await
        .expect("connecting to the test PostgreSQL server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("creating a test database");
    let mut url = reqwest::Url::parse(server).expect("KEFU_TEST_POSTGRES is a URL");
    url.set_path(&name);
    url.to_string()
}

/// A second connection to a test server's database, for tests that change
/// rows behind the server's back (ageing a session, say): SQLite or
/// PostgreSQL alike. Write statements with [`param`] placeholders.
pub async fn raw(db_url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(db_url)
        .await
        .expect("a second connection to the test database")
}

/// The `n`th (from 1) statement parameter, as the backend writes it.
pub fn param(n: usize) -> String {
    if on_postgres() {
        format!("${n}")
    } else {
        "?".to_owned()
    }
}

/// A PostgreSQL server of a test's own, which the test may stop and start
/// (the shared one of `scripts/engines.sh` serves every other test):
/// `initdb` in a temporary folder, run as the `postgres` user when the
/// tests run as root (PostgreSQL refuses root), on a free port, with
/// durable commits (fsync on). Stopped by its process id when dropped.
pub struct PgServer {
    bin: std::path::PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl PgServer {
    /// Creates and starts the server.
    pub fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server is installed (/usr/lib/postgresql)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("initdb").exists())
            .max()
            .expect("a PostgreSQL version with initdb");
        let dir = tempfile::tempdir().expect("a temporary folder");
        if is_root() {
            run(
                "chown",
                &["postgres:postgres", &dir.path().to_string_lossy()],
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let server = Self { bin, dir, port };
        server.ctl(&[
            "initdb",
            "-D",
            &server.data(),
            "-A",
            "trust",
            "-U",
            "kefu",
            "--no-sync",
        ]);
        server.up();
        server
    }

    /// The URL of its `postgres` database (tests create their own on it).
    pub fn url(&self) -> String {
        format!("postgres://kefu@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops it at once, as a crash would (`pg_ctl stop -m immediate`):
    /// connections break, nothing committed is lost.
    pub fn crash(&self) {
        self.ctl(&[
            "pg_ctl",
            "-D",
            &self.data(),
            "-w",
            "stop",
            "-m",
            "immediate",
        ]);
    }

    /// Starts it (again), waiting until it accepts connections.
    pub fn up(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").to_string_lossy().into_owned();
        self.ctl(&[
            "pg_ctl",
            "-D",
            &self.data(),
            "-l",
            &log,
            "-w",
            "-o",
            &options,
            "start",
        ]);
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    /// Runs one of PostgreSQL's programs, as `postgres` when root.
    fn ctl(&self, args: &[&str]) {
        let program = self.bin.join(args[0]).to_string_lossy().into_owned();
        if is_root() {
            let mut all = vec!["-u", "postgres", "--", program.as_str()];
            all.extend(&args[1..]);
            run("runuser", &all);
        } else {
            run(&program, &args[1..]);
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let pid = std::fs::read_to_string(self.dir.path().join("data/postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<i32>().ok()));
        if let Some(pid) = pid {
            // SIGQUIT: PostgreSQL's immediate shutdown.
            let _ = std::process::Command::new("kill")
                .args(["-QUIT", &pid.to_string()])
                .status();
        }
    }
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn run(program: &str, args: &[&str]) {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The Redis server's URL for tests that run several nodes, from
/// `KEFU_TEST_REDIS` (scripts/engines.sh starts one and sets it).
pub fn redis_server() -> Option<String> {
    std::env::var("KEFU_TEST_REDIS").ok()
}

/// A port of 127.0.0.1 nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Waits until `ready` holds, up to `limit`; panics with `what` otherwise.
fn wait_until(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether something accepts connections at `addr`.
fn accepts(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// A Redis server of a test's own, which the test may stop and start again
/// on the same port (the shared one of `scripts/engines.sh` serves every
/// other test): `redis-server` on a free port of 127.0.0.1, nothing kept on
/// disk, its log in a temporary folder. Killed by its process id when
/// dropped.
pub struct RedisServer {
    dir: tempfile::TempDir,
    port: u16,
    child: Mutex<Option<Child>>,
}

impl RedisServer {
    /// Starts the server, waiting until it answers PING.
    pub fn start() -> Self {
        let server = Self {
            dir: tempfile::tempdir().expect("a temporary folder"),
            port: free_port(),
            child: Mutex::new(None),
        };
        server.up();
        server
    }

    /// Its URL, `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Kills it (SIGKILL, as a crash would: every connection and
    /// subscription breaks, and it kept nothing) and waits until its port
    /// refuses connections. Does nothing when it is stopped.
    pub fn stop(&self) {
        if let Some(mut child) = self.child.lock().expect("the child's lock").take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        wait_until(Duration::from_secs(10), "Redis' port closes", || {
            !accepts(self.addr())
        });
    }

    /// Starts it (again) on the same port, empty, waiting until it answers
    /// PING. Does nothing when it runs.
    pub fn up(&self) {
        let mut slot = self.child.lock().expect("the child's lock");
        if slot.is_some() {
            return;
        }
        let log = self.dir.path().join("redis.log");
        let mut child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (apt-get install redis-server)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !pong(self.addr()) {
            let exited = child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "redis-server on port {} did not answer PING ({exited:?}): {}",
                    self.port,
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        *slot = Some(child);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.get_mut().ok().and_then(Option::take) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Whether a Redis server at `addr` answers `PING` with `+PONG`.
fn pong(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut answer = [0u8; 16];
    stream.write_all(b"PING\r\n").is_ok()
        && stream
            .read(&mut answer)
            .is_ok_and(|n| answer[..n].starts_with(b"+PONG"))
}

/// HAProxy in front of kefu nodes, as in production (docs/DEPLOY.md, "Many
/// nodes"; scripts/cluster.sh has the same configuration): HTTP mode, round
/// robin, no sticky sessions, WebSockets tunnelled for up to an hour, a
/// connection a node refuses tried again on another, and a node taken out
/// after two failed `GET /readyz` checks 500 ms apart and back after one
/// good one. Runs in the foreground as a child process on a
/// free port of 127.0.0.1; killed when dropped.
pub struct Balancer {
    _dir: tempfile::TempDir,
    addr: SocketAddr,
    child: Child,
}

impl Balancer {
    /// Writes the configuration for `backends`, checks it (`haproxy -c`),
    /// starts HAProxy and waits until its port accepts connections.
    pub fn start(backends: &[SocketAddr]) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let config = dir.path().join("haproxy.cfg");
        std::fs::write(&config, haproxy_config(addr, backends)).expect("writing haproxy.cfg");
        let config = config.to_string_lossy().into_owned();
        run("haproxy", &["-c", "-f", &config]);
        let log = std::fs::File::create(dir.path().join("haproxy.log")).expect("haproxy's log");
        let mut child = Command::new("haproxy")
            .args(["-f", &config, "-db"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("haproxy's log"))
            .stderr(log)
            .spawn()
            .expect("haproxy runs (apt-get install haproxy)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !accepts(addr) {
            let exited = child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "haproxy did not listen on {addr} ({exited:?}): {}",
                    std::fs::read_to_string(dir.path().join("haproxy.log")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            _dir: dir,
            addr,
            child,
        }
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the address as a URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// HAProxy's configuration: a frontend on `addr`, `backends` behind it.
fn haproxy_config(addr: SocketAddr, backends: &[SocketAddr]) -> String {
    let mut config = format!(
        "global\n\
         \x20   maxconn 4096\n\
         defaults\n\
         \x20   mode http\n\
         \x20   maxconn 4096\n\
         \x20   timeout connect 2s\n\
         \x20   timeout client 60s\n\
         \x20   timeout server 60s\n\
         \x20   timeout tunnel 1h\n\
         \x20   option redispatch 1\n\
         frontend kefu\n\
         \x20   bind {addr}\n\
         \x20   default_backend nodes\n\
         backend nodes\n\
         \x20   balance roundrobin\n\
         \x20   option httpchk GET /readyz\n\
         \x20   http-check expect status 200\n"
    );
    for (i, backend) in backends.iter().enumerate() {
        config.push_str(&format!(
            "    server node{} {backend} check inter 500ms fall 2 rise 1\n",
            i + 1
        ));
    }
    config
}
