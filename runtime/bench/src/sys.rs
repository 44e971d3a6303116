//! CPU accounting from `/proc`: the whole machine (busy and I/O wait, from `/proc/stat`)
//! and one process tree (user + system time of a server and its children, exited
//! children included once their parent has reaped them).

use std::collections::HashMap;
use std::time::Duration;

/// Jiffies of the `cpu` line of `/proc/stat`.
#[derive(Debug, Clone, Copy, Default)]
pub struct MachineCpu {
    busy: u64,
    iowait: u64,
    total: u64,
}

impl MachineCpu {
    pub fn now() -> Self {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let fields: Vec<u64> = stat
            .lines()
            .find(|l| l.starts_with("cpu "))
            .map(|l| {
                l.split_whitespace()
                    .skip(1)
                    .filter_map(|v| v.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        // user nice system idle iowait irq softirq steal (guest time is inside user).
        let get = |i: usize| fields.get(i).copied().unwrap_or(0);
        let total: u64 = (0..8).map(get).sum();
        Self {
            busy: total - get(3) - get(4),
            iowait: get(4),
            total,
        }
    }

    /// (busy %, iowait %) of all CPUs since `earlier`; 100 % is every CPU busy.
    pub fn since(&self, earlier: &Self) -> (f64, f64) {
        let total = self.total.saturating_sub(earlier.total).max(1) as f64;
        (
            100.0 * self.busy.saturating_sub(earlier.busy) as f64 / total,
            100.0 * self.iowait.saturating_sub(earlier.iowait) as f64 / total,
        )
    }
}

/// CPU time (user + system) used so far by `root` and every descendant, including the
/// children they have reaped.
pub fn tree_cpu(root: u32) -> Duration {
    let mut parent = HashMap::new();
    let mut ticks = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Duration::ZERO;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The command name is in parentheses and may hold spaces: fields start after it.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        // rest[0] is the state (field 3); ppid is field 4, utime..cstime fields 14..=17.
        let num = |i: usize| {
            f.get(i - 3)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        parent.insert(pid, num(4) as u32);
        ticks.insert(pid, num(14) + num(15) + num(16) + num(17));
    }
    let in_tree = |mut pid: u32| {
        for _ in 0..64 {
            if pid == root {
                return true;
            }
            match parent.get(&pid) {
                Some(&p) if p != 0 => pid = p,
                _ => return false,
            }
        }
        false
    };
    let total: u64 = ticks
        .iter()
        .filter(|(pid, _)| in_tree(**pid))
        .map(|(_, t)| t)
        .sum();
    Duration::from_secs_f64(total as f64 / clock_ticks())
}

fn clock_ticks() -> f64 {
    crate::report::output("getconf", &["CLK_TCK"])
        .and_then(|v| v.parse().ok())
        .unwrap_or(100.0)
}

/// The peak resident memory of a process (`VmHWM`), in MiB.
pub fn peak_rss_mib(pid: u32) -> Option<f64> {
    status_mib(pid, "VmHWM:")
}

/// The resident memory of a process now (`VmRSS`), in MiB.
pub fn rss_mib(pid: u32) -> Option<f64> {
    status_mib(pid, "VmRSS:")
}

/// The sum of the peak resident memory of `root` and its live descendants, in MiB
/// (shared pages are counted once per process: an upper bound).
pub fn tree_rss_mib(root: u32) -> Option<f64> {
    let mut total = peak_rss_mib(root)?;
    let mut frontier = vec![root];
    while let Some(pid) = frontier.pop() {
        let children =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        for child in children
            .split_whitespace()
            .filter_map(|c| c.parse::<u32>().ok())
        {
            total += peak_rss_mib(child).unwrap_or(0.0);
            frontier.push(child);
        }
    }
    Some(total)
}

fn status_mib(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_uses_some_cpu_and_memory() {
        let me = std::process::id();
        // Spin until the kernel has counted a tick of CPU (10 ms) for this process, however
        // busy the machine is; a bound on the wall time keeps a broken reading from hanging.
        let spin = std::time::Instant::now();
        while tree_cpu(me).is_zero() && spin.elapsed() < Duration::from_secs(60) {
            std::hint::black_box(0u64);
        }
        assert!(tree_cpu(me) > Duration::ZERO);
        assert!(peak_rss_mib(me).is_some_and(|m| m > 0.0));
        let (busy, iowait) = MachineCpu::now().since(&MachineCpu::default());
        assert!((0.0..=100.0).contains(&busy) && (0.0..=100.0).contains(&iowait));
    }
}
