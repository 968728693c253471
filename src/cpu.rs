//! The CPU time the process has used, as the kernel counts it: what `INFO cpu` reports as
//! `used_cpu_user` and `used_cpu_sys`.

use std::time::Duration;

use crate::protocol::info::CpuTimes;

/// The process's user and system CPU time, or `None` where the system does not say
/// (anything but Linux, or a `/proc` that cannot be read). The split between user and
/// system is read from `/proc/self/stat`, in clock ticks (usually 10 ms); the total from
/// the process's CPU clock, to the nanosecond, so that a benchmark of a second or two
/// reads the server's CPU time per request as exactly as Redis's and memcached's.
#[cfg(unix)]
pub fn used() -> Option<CpuTimes> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let ticks = parse_stat(&stat, rustix::param::clock_ticks_per_second())?;
    let clock = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    let total = u64::try_from(clock.tv_sec).ok().and_then(|secs| {
        Duration::from_secs(secs)
            .checked_add(Duration::from_nanos(u64::try_from(clock.tv_nsec).ok()?))
    });
    Some(total.map_or(ticks, |total| split_like(total, ticks)))
}

/// `total` split between user and system in the proportion of `ticks`.
#[cfg_attr(not(unix), allow(dead_code))]
fn split_like(total: Duration, ticks: CpuTimes) -> CpuTimes {
    let counted = ticks.user + ticks.system;
    if counted.is_zero() {
        return CpuTimes {
            user: total,
            system: Duration::ZERO,
        };
    }
    let user = total.mul_f64(ticks.user.as_secs_f64() / counted.as_secs_f64());
    CpuTimes {
        user,
        system: total.saturating_sub(user),
    }
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
    fn the_precise_total_is_split_as_the_ticks_are() {
        let ticks = CpuTimes {
            user: Duration::from_millis(300),
            system: Duration::from_millis(100),
        };
        let split = split_like(Duration::from_micros(412_345), ticks);
        assert_eq!(split.user + split.system, Duration::from_micros(412_345));
        assert_eq!(split.user.as_micros(), 309_258);
        let none = CpuTimes {
            user: Duration::ZERO,
            system: Duration::ZERO,
        };
        assert_eq!(
            split_like(Duration::from_millis(5), none).user,
            Duration::from_millis(5)
        );
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_running_process_has_a_cpu_time() {
        assert!(used().is_some());
    }
}
