//! Memory figures for INFO: the allocator's count of live bytes and the
//! process's resident set, read from jemalloc and /proc like Redis does.

/// jemalloc's byte counts: live allocations, the pages holding them
/// (active), and what it has resident (active plus metadata and dirty
/// pages not yet returned).
pub struct AllocatorStats {
    pub allocated: u64,
    pub active: u64,
    pub resident: u64,
}

pub fn allocator_stats() -> AllocatorStats {
    use tikv_jemalloc_ctl::stats;
    let _ = tikv_jemalloc_ctl::epoch::advance();
    let read = |r: tikv_jemalloc_ctl::Result<usize>| r.map(|v| v as u64).unwrap_or(0);
    AllocatorStats {
        allocated: read(stats::allocated::read()),
        active: read(stats::active::read()),
        resident: read(stats::resident::read()),
    }
}

/// The bytes jemalloc really hands out for a request of `bytes` (its size
/// class), so a buffer can use all of it, as Redis's sds uses the usable
/// size of its allocation.
pub fn size_class(bytes: usize) -> usize {
    // SAFETY: nallocx only computes a size; it allocates nothing.
    let class = unsafe { tikv_jemalloc_sys::nallocx(bytes, 0) };
    class.max(bytes)
}

/// Bytes allocated by the program (jemalloc's stats.allocated).
pub fn used_memory() -> u64 {
    allocator_stats().allocated
}

/// jemalloc's full statistics report (MEMORY MALLOC-STATS).
pub fn malloc_stats() -> String {
    let mut report = Vec::new();
    let _ = tikv_jemalloc_ctl::stats_print::stats_print(&mut report, Default::default());
    String::from_utf8_lossy(&report).into_owned()
}

/// Has jemalloc hand every arena's unused dirty pages back to the system
/// (MEMORY PURGE), as Redis does: `arena.<narenas>.purge` means all arenas.
pub fn purge() -> bool {
    let Ok(narenas) = tikv_jemalloc_ctl::arenas::narenas::read() else { return false };
    let name = format!("arena.{narenas}.purge\0");
    let null = std::ptr::null_mut();
    // SAFETY: a NUL-terminated name; purge reads and writes nothing.
    unsafe { tikv_jemalloc_sys::mallctl(name.as_ptr().cast(), null, null.cast(), null, 0) == 0 }
}

/// Resident set size from /proc/self/statm.
pub fn rss() -> u64 {
    let page = 4096;
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
        .map(|pages| pages * page)
        .unwrap_or(0)
}

/// A size field of /proc/self/smaps_rollup (e.g. "Private_Dirty:"),
/// summed over all mappings by the kernel, in bytes.
pub fn smaps_rollup_bytes(field: &str) -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/smaps_rollup") else { return 0 };
    text.lines()
        .filter(|l| l.starts_with(field))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum::<u64>()
        * 1024
}

/// Total physical memory from /proc/meminfo.
pub fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Redis's bytesToHuman: 1.50M, 12.00K, 900B.
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    const K: f64 = 1024.0;
    if b < K {
        format!("{bytes}B")
    } else if b < K * K {
        format!("{:.2}K", b / K)
    } else if b < K * K * K {
        format!("{:.2}M", b / (K * K))
    } else if b < K * K * K * K {
        format!("{:.2}G", b / (K * K * K))
    } else {
        format!("{:.2}T", b / (K * K * K * K))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn human_sizes() {
        assert_eq!(super::human(900), "900B");
        assert_eq!(super::human(1536), "1.50K");
        assert_eq!(super::human(3 * 1024 * 1024), "3.00M");
        assert!(super::rss() > 0);
    }
}
