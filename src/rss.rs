//! The process's resident memory, as the kernel counts it: what `INFO` reports as
//! `used_memory_rss` beside the charged memory, so operators see both.

/// Bytes of the process resident in RAM, or `None` where the system does not say
/// (anything but Linux, or a `/proc` that cannot be read).
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn a_running_process_has_resident_memory() {
        let bytes = super::resident_bytes().unwrap();
        assert!(bytes > 1 << 20, "{bytes}");
        assert_eq!(bytes % 1024, 0);
    }
}
