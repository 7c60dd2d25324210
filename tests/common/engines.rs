//! Which database the integration tests run on: SQLite (a temporary file,
//! the default) or, with `KEFU_TEST_BACKEND=postgres`, a fresh database
//! on the PostgreSQL server at `KEFU_TEST_POSTGRES` (scripts/engines.sh
//! starts one and sets both; `make unit` runs the chat, delivery and
//! security tests that way too).

use std::sync::atomic::{AtomicU32, Ordering};

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
