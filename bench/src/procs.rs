//! Processes and the OS: the kefu server and the relay as child processes
//! (pinned with `taskset` when it exists), `kefu agent add`, readings from
//! /proc, and a tiny HTTP/1.1 client for the server functions and pages.

use std::ffi::{OsStr, OsString};
use std::fs::OpenOptions;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Linux clock ticks per second (`getconf CLK_TCK`; 100 on every common build).
pub const CLOCK_TICKS: f64 = 100.0;
/// How long one HTTP exchange may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

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

/// A port nobody listens on right now.
pub fn free_addr() -> Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

/// Whether `taskset` (util-linux) can be run.
pub fn has_taskset() -> bool {
    Command::new("taskset")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Cores this process may run on.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Pins this process (its main thread, so every thread started after this) to `core`.
pub fn pin_self(core: usize) -> bool {
    Command::new("taskset")
        .args(["-cp", &core.to_string(), &std::process::id().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The soft limit on open files of this process (inherited by the servers it starts).
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// The 1-, 5- and 15-minute load averages, as `uptime` prints them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// Resident memory of `pid`, in KiB (VmRSS).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User plus system CPU time of `pid` so far, in seconds (all its threads).
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields after it are fixed.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after `) `.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / CLOCK_TICKS)
}

/// Counters of a process that explain where its time goes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    /// read-like plus write-like system calls (/proc/<pid>/io syscr + syscw).
    pub syscalls: f64,
    /// Bytes the process caused to be written to storage (write_bytes).
    pub disk_write_bytes: f64,
    /// Context switches, voluntary and not, summed over its threads.
    pub context_switches: f64,
}

/// Reads [`Counters`] of `pid` (None when /proc does not tell).
pub fn counters(pid: u32) -> Option<Counters> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    let field = |name: &str| -> Option<f64> {
        io.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim_start_matches(':').trim().parse().ok())
    };
    let mut switches = 0.0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
    {
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        for line in status.lines() {
            if line.starts_with("voluntary_ctxt_switches")
                || line.starts_with("nonvoluntary_ctxt_switches")
            {
                switches += line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(0.0);
            }
        }
    }
    Some(Counters {
        syscalls: field("syscr")? + field("syscw")?,
        disk_write_bytes: field("write_bytes")?,
        context_switches: switches,
    })
}

/// The kernel's count of connections dropped because a listen queue was
/// full (TcpExt ListenOverflows, machine-wide).
pub fn listen_overflows() -> Option<f64> {
    let netstat = std::fs::read_to_string("/proc/net/netstat").ok()?;
    let mut lines = netstat.lines().filter(|l| l.starts_with("TcpExt:"));
    let names = lines.next()?.split_whitespace();
    let values = lines.next()?.split_whitespace();
    names
        .zip(values)
        .find(|(n, _)| *n == "ListenOverflows")
        .and_then(|(_, v)| v.parse().ok())
}

/// Open sockets of `pid` (its file descriptors that are sockets).
pub fn socket_count(pid: u32) -> Option<usize> {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    Some(
        fds.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .filter(|target| target.to_string_lossy().starts_with("socket:"))
            .count(),
    )
}

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

/// One HTTP response.
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// From the first byte written to the last byte read.
    pub took: Duration,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `kefu_session=<token>` from Set-Cookie, for the Cookie header.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .iter()
            .filter(|(name, _)| name == "set-cookie")
            .filter_map(|(_, value)| value.split(';').next())
            .find(|pair| pair.starts_with("kefu_session=") && pair.len() > "kefu_session=".len())
            .map(str::to_owned)
    }
}

/// One request with `Connection: close`; reads the whole response.
/// Bytes on the wire (headers and body) for `GET path` from a browser that
/// accepts brotli and gzip, as a first visit downloads it.
pub async fn transferred(addr: SocketAddr, path: &str) -> Result<usize> {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Accept-Encoding: gzip, deflate, br\r\n\r\n"
    );
    Ok(exchange(addr, &request, "GET", path).await?.0.len())
}

/// Sends `request` on a new connection and reads the whole answer, raw,
/// with the time from sending to the connection's end.
async fn exchange(
    addr: SocketAddr,
    request: &str,
    method: &str,
    path: &str,
) -> Result<(Vec<u8>, Duration)> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let started = Instant::now();
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>((raw, started.elapsed()))
    };
    tokio::time::timeout(HTTP_TIMEOUT, exchange)
        .await
        .with_context(|| format!("{method} {path}: no complete response in {HTTP_TIMEOUT:?}"))?
        .with_context(|| format!("{method} {path}"))
}

pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> Result<HttpResponse> {
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(cookie) = cookie {
        request.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    match form {
        Some(body) => request.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )),
        None => request.push_str("\r\n"),
    }
    let (raw, took) = exchange(addr, &request, method, path).await?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .with_context(|| format!("{method} {path}: not an HTTP response"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("{method} {path}: bad status line"))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let mut response = HttpResponse {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
        took,
    };
    if response
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        response.body = dechunk(&response.body)
            .with_context(|| format!("{method} {path}: bad chunked body"))?;
    }
    Ok(response)
}

/// Decodes a `Transfer-Encoding: chunked` body.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_line = std::str::from_utf8(&raw[..end]).ok()?;
        let size = usize::from_str_radix(size_line.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

/// Signs an agent in; returns `kefu_session=<token>`.
pub async fn sign_in(addr: SocketAddr, name: &str, password: &str) -> Result<String> {
    let body = format!(
        "name={}&password={}",
        form_escape(name),
        form_escape(password)
    );
    let response = http(addr, "POST", "/api/sign_in", None, Some(&body)).await?;
    if response.status != 200 {
        bail!(
            "sign_in as {name} refused: HTTP {} {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        );
    }
    response
        .session_cookie()
        .context("sign_in set no kefu_session cookie")
}

/// application/x-www-form-urlencoded escaping.
pub fn form_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Size of `data` after `gzip -9`, or `None` without gzip.
pub fn gzip_size(data: &[u8]) -> Option<u64> {
    use std::io::Write;
    let mut child = Command::new("gzip")
        .args(["-9", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let data = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let output = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    output
        .status
        .success()
        .then_some(output.stdout.len() as u64)
}
