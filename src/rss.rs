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

/// The same figure from `/proc/self/statm`, which the kernel writes without formatting
/// the rest of the status: cheap enough for the store to read every few milliseconds.
#[cfg(unix)]
pub fn resident_bytes_fast() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    // Fields: size, resident, shared, ... in pages.
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * rustix::param::page_size() as u64)
}

/// Not available off Unix.
#[cfg(not(unix))]
pub fn resident_bytes_fast() -> Option<u64> {
    None
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

    #[test]
    #[cfg(target_os = "linux")]
    fn statm_and_status_agree() {
        // Both count the same pages; allow for what this thread touches in between.
        let status = super::resident_bytes().unwrap();
        let statm = super::resident_bytes_fast().unwrap();
        assert!(statm.abs_diff(status) < 4 << 20, "{statm} against {status}");
    }
}
