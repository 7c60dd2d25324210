//! What a process uses, read from /proc: its resident memory, its CPU time,
//! its syscalls, storage writes and context switches, its open sockets; and
//! the kernel's count of listen-queue drops.

/// Linux clock ticks per second (`getconf CLK_TCK`; 100 on every common build).
pub const CLOCK_TICKS: f64 = 100.0;

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
