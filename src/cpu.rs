//! The CPU time the process has used, as the kernel counts it: what `INFO cpu` reports as
//! `used_cpu_user` and `used_cpu_sys`.

use std::time::Duration;

use crate::protocol::info::CpuTimes;

/// The process's user and system CPU time, or `None` where the system does not say
/// (anything but Linux, or a `/proc` that cannot be read). Read from `/proc/self/stat`,
/// in clock ticks (usually 10 ms).
#[cfg(unix)]
pub fn used() -> Option<CpuTimes> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_stat(&stat, rustix::param::clock_ticks_per_second())
}

/// Not available off Unix.
#[cfg(not(unix))]
pub fn used() -> Option<CpuTimes> {
    None
}

/// `utime` and `stime` of a `/proc/<pid>/stat` line, the 14th and 15th fields, counted
/// after the command name's closing parenthesis (the name may hold spaces).
#[cfg_attr(not(unix), allow(dead_code))]
fn parse_stat(stat: &str, ticks_per_second: u64) -> Option<CpuTimes> {
    let (_, fields) = stat.rsplit_once(')')?;
    let mut fields = fields.split_whitespace().skip(11);
    let mut time = || -> Option<Duration> {
        let ticks: u64 = fields.next()?.parse().ok()?;
        let micros = u128::from(ticks) * 1_000_000 / u128::from(ticks_per_second.max(1));
        Some(Duration::from_micros(u64::try_from(micros).ok()?))
    };
    Some(CpuTimes {
        user: time()?,
        system: time()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_after_the_command_name() {
        let stat = "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 130 0 0 20 0 3 0";
        let cpu = parse_stat(stat, 100).unwrap();
        assert_eq!(cpu.user, Duration::from_millis(2500));
        assert_eq!(cpu.system, Duration::from_millis(1300));
        assert!(parse_stat("no parenthesis", 100).is_none());
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_running_process_has_a_cpu_time() {
        assert!(used().is_some());
    }
}
