//! `--postgres URL`: the run's own database on a PostgreSQL server (created
//! before kefu starts, dropped after it stopped), and readings of the
//! server: CPU and file syscalls summed over the postmaster and all its
//! children, and the WAL it wrote (its insert position).
//!
//! The postmaster is found without being told: the bench asks its own
//! session for `pg_backend_pid()`, and a backend's parent is the postmaster
//! (every PostgreSQL process is a direct child of it). `--postgres-pid`
//! overrides that, for a server whose processes this machine's /proc sees
//! under other ids (a container's own pid namespace).

use std::time::Duration;

use anyhow::{bail, Context, Result};
use sqlx::{Connection, PgConnection, Row};

use super::procs::CLOCK_TICKS;

/// How long connecting, creating or dropping the database may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The database this run created on a PostgreSQL server.
pub struct Database {
    /// The server's URL as given (it names some database to connect to).
    server: String,
    /// The run's database.
    pub name: String,
    /// The URL kefu gets as `--db`.
    pub url: String,
    /// The postmaster's process id.
    pub postmaster: Option<u32>,
    /// `SHOW server_version`.
    pub version: String,
}

async fn connect(server: &str) -> Result<PgConnection> {
    tokio::time::timeout(TIMEOUT, PgConnection::connect(server))
        .await
        .context("connecting to PostgreSQL: timed out")?
        .with_context(|| format!("connecting to PostgreSQL at {}", redact(server)))
}

impl Database {
    /// Creates a fresh database `kefu_bench_<pid>` on the server at `server`
    /// and finds the postmaster (or takes `pid`).
    pub async fn create(server: &str, pid: Option<u32>) -> Result<Self> {
        let mut admin = connect(server).await?;
        let row = sqlx::query("SELECT current_setting('server_version'), pg_backend_pid()")
            .fetch_one(&mut admin)
            .await?;
        let version: String = row.try_get(0)?;
        let backend: i32 = row.try_get(1)?;
        let postmaster = match pid {
            Some(pid) => Some(pid),
            None => u32::try_from(backend).ok().and_then(parent),
        };
        let name = format!("kefu_bench_{}", std::process::id());
        // One left by an earlier run whose process had the same id.
        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        let _ = sqlx::query(&drop).execute(&mut admin).await;
        let create = format!("CREATE DATABASE {name}");
        tokio::time::timeout(TIMEOUT, sqlx::query(&create).execute(&mut admin))
            .await
            .context("CREATE DATABASE: timed out")?
            .with_context(|| format!("CREATE DATABASE {name}"))?;
        let _ = admin.close().await;
        let url = with_database(server, &name)?;
        Ok(Self {
            server: server.to_owned(),
            name,
            url,
            postmaster,
            version,
        })
    }

    /// Drops the run's database (after kefu stopped; `WITH (FORCE)` ends
    /// any session it left behind).
    pub async fn drop_database(self) -> Result<()> {
        let mut admin = connect(&self.server).await?;
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        tokio::time::timeout(TIMEOUT, sqlx::query(&sql).execute(&mut admin))
            .await
            .context("DROP DATABASE: timed out")??;
        Ok(())
    }
}

/// The URL `server` with its database replaced by `name` (query kept).
pub fn with_database(server: &str, name: &str) -> Result<String> {
    let Some(scheme_end) = server.find("://") else {
        bail!("--postgres {}: expected postgres://…", redact(server));
    };
    let after = scheme_end + 3;
    let rest = &server[after..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let query = tail.find('?').map_or("", |q| &tail[q..]);
    Ok(format!("{}{authority}/{name}{query}", &server[..after]))
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    let Some(after) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[after..]
        .find(['/', '?'])
        .map_or(url.len(), |i| after + i);
    match url[after..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &url[after..after + at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}{}", &url[..after], &url[after + at..])
        }
        None => url.to_owned(),
    }
}

/// Fields of `/proc/<pid>/stat` after the command name (`) ` onwards), so
/// that index 0 is the state (field 3 of the whole line).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// The parent of `pid` (field 4 of its stat).
fn parent(pid: u32) -> Option<u32> {
    stat_fields(pid)?.get(1)?.parse().ok()
}

/// utime + stime + cutime + cstime (fields 14–17), in seconds: the process's
/// own CPU and that of its children it has reaped.
fn cpu_with_reaped(fields: &[String]) -> Option<f64> {
    let ticks: Option<Vec<f64>> = (11..=14)
        .map(|i| fields.get(i)?.parse::<f64>().ok())
        .collect();
    Some(ticks?.iter().sum::<f64>() / CLOCK_TICKS)
}

/// `syscr + syscw` of `/proc/<pid>/io`: reads and writes of files (socket
/// `send`/`recv` are not among them). Needs the right to trace `pid`.
fn file_syscalls(pid: u32) -> Option<f64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    let field = |name: &str| -> Option<f64> {
        io.lines()
            .find_map(|l| l.strip_prefix(name))?
            .trim()
            .parse()
            .ok()
    };
    Some(field("syscr:")? + field("syscw:")?)
}

/// What a PostgreSQL server has done so far.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    /// CPU seconds (user + system) of the postmaster and all its children,
    /// the live ones and those that ended (through the postmaster's cutime).
    pub cpu_secs: f64,
    /// File reads and writes of the live processes (None when /proc does
    /// not let this user read their io).
    pub file_syscalls: Option<f64>,
    /// Live processes counted.
    pub processes: usize,
    /// The WAL insert position in bytes (`pg_current_wal_lsn()`), when read.
    pub wal_bytes: Option<f64>,
}

/// Reads a PostgreSQL server's [`Usage`]: from /proc through its
/// postmaster, and its WAL position through a connection of its own.
pub struct Probe {
    postmaster: Option<u32>,
    conn: Option<PgConnection>,
}

impl Probe {
    /// A probe of the server of `database` (its CPU, syscalls and WAL).
    pub async fn of(database: &Database) -> Result<Self> {
        Ok(Self {
            postmaster: database.postmaster,
            conn: Some(connect(&database.url).await?),
        })
    }

    /// A probe of the postmaster `pid` alone (its CPU and syscalls, no WAL).
    pub fn of_pid(pid: u32) -> Self {
        Self {
            postmaster: Some(pid),
            conn: None,
        }
    }

    /// The server's usage so far (None without a postmaster to read).
    pub async fn read(&mut self) -> Option<Usage> {
        let mut usage = tree_usage(self.postmaster?)?;
        if let Some(conn) = self.conn.as_mut() {
            let lsn = sqlx::query_scalar::<_, f64>("SELECT (pg_current_wal_lsn() - '0/0')::float8");
            usage.wal_bytes = tokio::time::timeout(TIMEOUT, lsn.fetch_one(conn))
                .await
                .ok()
                .and_then(Result::ok);
        }
        Some(usage)
    }
}

/// [`Usage`] of the postmaster `postmaster` and its children, found by
/// scanning /proc for processes whose parent it is.
pub fn tree_usage(postmaster: u32) -> Option<Usage> {
    let mut usage = Usage {
        cpu_secs: cpu_with_reaped(&stat_fields(postmaster)?)?,
        file_syscalls: file_syscalls(postmaster),
        processes: 1,
        wal_bytes: None,
    };
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Some(fields) = stat_fields(pid) else {
            continue; // ended meanwhile
        };
        if fields.get(1).and_then(|p| p.parse::<u32>().ok()) != Some(postmaster) {
            continue;
        }
        if let Some(cpu) = cpu_with_reaped(&fields) {
            usage.cpu_secs += cpu;
            usage.processes += 1;
        }
        usage.file_syscalls = usage
            .file_syscalls
            .zip(file_syscalls(pid))
            .map(|(a, b)| a + b);
    }
    Some(usage)
}

/// The cores `pid` may run on (`Cpus_allowed_list`), e.g. `0` or `0-1`.
pub fn cores_of(pid: u32) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .map(|v| v.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_in_url() {
        let with = |u: &str| with_database(u, "b").expect("a URL");
        assert_eq!(
            with("postgres://kefu@127.0.0.1:5432/postgres"),
            "postgres://kefu@127.0.0.1:5432/b"
        );
        assert_eq!(with("postgres://u:p@h"), "postgres://u:p@h/b");
        assert_eq!(
            with("postgresql://h/x?sslmode=disable"),
            "postgresql://h/b?sslmode=disable"
        );
        assert_eq!(with("postgres:///x?host=/tmp"), "postgres:///b?host=/tmp");
        assert!(with_database("kefu.db", "b").is_err());
    }

    #[test]
    fn password_left_out() {
        assert_eq!(redact("postgres://u:secret@h:1/d"), "postgres://u@h:1/d");
        assert_eq!(redact("postgres://h/d"), "postgres://h/d");
    }

    #[test]
    fn process_tree() {
        // This test's process stands in for a postmaster: a child it has is
        // counted while alive, and its CPU stays counted once reaped.
        let me = std::process::id();
        assert_eq!(parent(me), Some(std::os::unix::process::parent_id()));
        let before = tree_usage(me).expect("our own stat");
        let mut child = std::process::Command::new("sh")
            .args([
                "-c",
                "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; sleep 1",
            ])
            .spawn()
            .expect("sh");
        std::thread::sleep(Duration::from_millis(300));
        let during = tree_usage(me).expect("our own stat");
        assert!(during.processes > before.processes);
        child.wait().expect("the child ends");
        let after = tree_usage(me).expect("our own stat");
        assert!(after.cpu_secs >= during.cpu_secs);
        assert!(
            after.cpu_secs - before.cpu_secs >= 0.1,
            "{before:?} {after:?}"
        );
    }
}
