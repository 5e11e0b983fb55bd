//! Memory figures for INFO: the allocator's count of live bytes and the
//! process's resident set, read from jemalloc and /proc like Redis does.

/// jemalloc's byte counts: live allocations, the pages holding them
/// (active), and what it has resident (active plus metadata and dirty
/// pages not yet returned).
pub struct AllocatorStats {
    pub allocated: u64,
    /// Freed blocks the threads' caches hold for reuse: counted in
    /// `allocated`, but no longer the program's.
    pub thread_cached: u64,
    pub active: u64,
    pub resident: u64,
}

pub fn allocator_stats() -> AllocatorStats {
    use tikv_jemalloc_ctl::stats;
    let _ = tikv_jemalloc_ctl::epoch::advance();
    let read = |r: tikv_jemalloc_ctl::Result<usize>| r.map(|v| v as u64).unwrap_or(0);
    AllocatorStats {
        allocated: read(stats::allocated::read()),
        thread_cached: all_arenas_tcache_bytes().unwrap_or(0) as u64,
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

/// `stats.arenas.<all>.tcache_bytes`, which the ctl crate does not name.
fn all_arenas_tcache_bytes() -> Option<usize> {
    const NAME: &[u8] = b"stats.arenas.4096.tcache_bytes\0";
    let mut value: usize = 0;
    let mut len = std::mem::size_of::<usize>();
    // SAFETY: a NUL-terminated name whose value is a size_t, read into one.
    let rc = unsafe {
        tikv_jemalloc_sys::mallctl(
            NAME.as_ptr().cast(),
            (&mut value as *mut usize).cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    (rc == 0).then_some(value)
}

/// The figures INFO memory, MEMORY STATS and MEMORY DOCTOR share.
pub struct MemoryFigures {
    pub alloc: AllocatorStats,
    /// Redis's used_memory (see `used_memory`).
    pub used: u64,
    pub rss: u64,
    /// The highest `used` seen, kept up to date by each read.
    pub peak: u64,
}

impl MemoryFigures {
    pub fn read(e: &mut crate::engine::Engine) -> MemoryFigures {
        let alloc = allocator_stats();
        let used = alloc.allocated.saturating_sub(alloc.thread_cached);
        e.stats.used_memory_peak = e.stats.used_memory_peak.max(used);
        MemoryFigures { used, rss: rss(), peak: e.stats.used_memory_peak, alloc }
    }
}

/// Redis's ratios and differences between the allocator's and the
/// process's figures (fragmentation inside jemalloc's pages, pages it
/// holds but has not returned, memory outside the allocator).
pub fn ratio(a: u64, b: u64) -> f64 {
    if b > 0 {
        a as f64 / b as f64
    } else {
        0.0
    }
}

pub fn diff(a: u64, b: u64) -> i64 {
    a as i64 - b as i64
}

/// Bytes the program holds (Redis's used_memory): what jemalloc counts as
/// allocated, less the freed blocks parked in thread caches.
pub fn used_memory() -> u64 {
    let stats = allocator_stats();
    stats.allocated.saturating_sub(stats.thread_cached)
}

/// Used memory as `maxmemory` checks it before every command, cheaply:
/// this thread's own allocation counters (two loads, exact for what the
/// keyspace thread allocates and frees) plus what the other threads held at
/// the last `recalibrate` (the allocator's global count, too costly per
/// command: it merges every arena's statistics).
#[derive(Default)]
pub struct UsedMemory {
    /// None until the first `recalibrate` on the thread that asks.
    elsewhere: Option<i64>,
}

thread_local! {
    static THREAD_COUNTERS: Option<(ThreadLocal<u64>, ThreadLocal<u64>)> =
        tikv_jemalloc_ctl::thread::allocatedp::read().ok().zip(tikv_jemalloc_ctl::thread::deallocatedp::read().ok());
}

use tikv_jemalloc_ctl::thread::ThreadLocal;

/// Bytes this thread allocated minus bytes it freed.
fn thread_net_bytes() -> i64 {
    THREAD_COUNTERS.with(|c| c.map_or(0, |(a, d)| a.get() as i64 - d.get() as i64))
}

impl UsedMemory {
    /// Reads the allocator's global count and returns it.
    pub fn recalibrate(&mut self) -> u64 {
        let total = used_memory();
        self.elsewhere = Some(total as i64 - thread_net_bytes());
        total
    }

    pub fn now(&mut self) -> u64 {
        match self.elsewhere {
            Some(elsewhere) => (elsewhere + thread_net_bytes()).max(0) as u64,
            None => self.recalibrate(),
        }
    }
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
