//! Where a core's time went during a phase (`/proc/stat`): busy, idle, or
//! stolen by the hypervisor. On a shared virtual machine the servers' core
//! can be saturated with kefu and its database using well under 100 % of
//! it: the rest was the host's ("steal"), which varies from run to run.

/// Cumulative times of one core (or of all, the `cpu` line), in ticks.
#[derive(Clone, Copy, Debug, Default)]
pub struct Times {
    /// idle + iowait.
    pub idle: f64,
    /// Time the hypervisor ran something else while this core wanted to run.
    pub steal: f64,
    /// Every field (user … steal; guest time is inside user already).
    pub total: f64,
}

/// The times of `core`, or of all cores together with `None`.
pub fn times(core: Option<usize>) -> Option<Times> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let name = core.map_or_else(|| "cpu".to_owned(), |c| format!("cpu{c}"));
    let line = stat
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name.as_str()))?;
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    (v.len() == 8).then(|| Times {
        idle: v[3] + v[4],
        steal: v[7],
        total: v.iter().sum(),
    })
}

/// Idle and stolen shares (percent) between two readings.
pub fn shares(a: Times, b: Times) -> Option<(f64, f64)> {
    let total = b.total - a.total;
    (total > 0.0).then(|| {
        (
            100.0 * (b.idle - a.idle) / total,
            100.0 * (b.steal - a.steal) / total,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proc_stat() {
        let all = times(None).expect("/proc/stat has a cpu line");
        assert!(all.total > 0.0 && all.idle <= all.total);
        let later = times(None).expect("again");
        if let Some((idle, steal)) = shares(all, later) {
            assert!((0.0..=100.0).contains(&idle) && (0.0..=100.0).contains(&steal));
        }
    }
}
