//! MEMORY USAGE: what a key and its value take, estimated from the entry's
//! layout and the value's allocations, as redis-cli --memkeys and
//! monitoring tools ask for it; MALLOC-STATS and PURGE, handed to jemalloc;
//! STATS and DOCTOR from the allocator's figures.

use crate::engine::key_finders::memory_usage_key;
use crate::engine::table::{cmd, CommandSpec, CONTAINER, READONLY};
use crate::engine::{Call, Engine};
use crate::memory;

pub static COMMANDS: &[CommandSpec] =
    &[cmd("memory", -2, READONLY | CONTAINER, (0, 0, 0), memory).keys_by(memory_usage_key)];

/// Elements of a big collection MEMORY USAGE measures by default.
const DEFAULT_SAMPLES: usize = 5;

const HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
];

fn memory(e: &mut Engine, c: &mut Call) {
    let sub = c.arg(1).to_ascii_lowercase();
    match (sub.as_slice(), c.argc()) {
        (b"help", 2) => c.out.help(HELP),
        (b"usage", 3..) => usage(e, c),
        (b"malloc-stats", 2) => c.out.verbatim(&memory::malloc_stats()),
        (b"purge", 2) if memory::purge() => c.out.ok(),
        (b"purge", 2) => c.out.error("ERR Error purging dirty pages"),
        (b"stats", 2) => stats(e, c),
        (b"doctor", 2) => {
            let report = doctor_report(e);
            c.out.verbatim(&report);
        }
        _ => c.subcommand_error(&["usage", "malloc-stats", "purge", "help", "stats", "doctor"]),
    }
}

/// What a dict of `len` keys costs beyond its keys and values, as Redis
/// counts it: an entry each and a bucket pointer per slot.
fn hashtable_overhead(len: usize) -> u64 {
    const ENTRY: usize = 24;
    const BUCKET: usize = 8;
    if len == 0 {
        return 0;
    }
    (len * ENTRY + len.next_power_of_two() * BUCKET) as u64
}

/// Redis's memory overhead breakdown, from what forkv accounts for: the
/// allocator's figures, the script cache's bodies, the function libraries'
/// code and the dbs' dicts; buffers it does not track (clients,
/// replication, AOF) count as 0.
struct Overhead {
    figures: memory::MemoryFigures,
    lua_caches: u64,
    functions_caches: u64,
    /// (db index, main dict, expires dict) for each db with keys.
    dbs: Vec<(usize, u64, u64)>,
    total: u64,
    keys: u64,
}

impl Overhead {
    fn read(e: &mut Engine) -> Overhead {
        let figures = memory::MemoryFigures::read(e);
        let lua_caches = e.scripts.scripts.values().map(|s| s.body.len() as u64).sum();
        let dbs: Vec<(usize, u64, u64)> = (e.dbs.iter().enumerate())
            .filter(|(_, db)| !db.is_empty())
            .map(|(i, db)| (i, hashtable_overhead(db.len()), hashtable_overhead(db.expires_len())))
            .collect();
        let functions_caches = e.functions.memory() as u64;
        let total = lua_caches + functions_caches + dbs.iter().map(|&(_, main, expires)| main + expires).sum::<u64>();
        let keys = e.dbs.iter().map(|db| db.len() as u64).sum();
        Overhead { figures, lua_caches, functions_caches, dbs, total, keys }
    }
}

/// MEMORY STATS: Redis 7.0's fields, in its order.
fn stats(e: &mut Engine, c: &mut Call) {
    let o = Overhead::read(e);
    let f = &o.figures;
    let (used, alloc) = (f.used, &f.alloc);
    let dataset = used.saturating_sub(o.total);
    let percent = |part: u64, whole: u64| if whole > 0 { part as f64 * 100.0 / whole as f64 } else { 0.0 };
    c.out.map(27 + o.dbs.len());
    for (name, value) in [
        ("peak.allocated", f.peak),
        ("total.allocated", used),
        ("startup.allocated", 0),
        ("replication.backlog", 0),
        ("clients.slaves", 0),
        ("clients.normal", 0),
        ("cluster.links", 0),
        ("aof.buffer", 0),
        ("lua.caches", o.lua_caches),
        ("functions.caches", o.functions_caches),
    ] {
        c.out.bulk(name.as_bytes());
        c.out.int(value as i64);
    }
    for &(db, main, expires) in &o.dbs {
        c.out.bulk(format!("db.{db}").as_bytes());
        c.out.map(3);
        c.out.bulk(b"overhead.hashtable.main");
        c.out.int(main as i64);
        c.out.bulk(b"overhead.hashtable.expires");
        c.out.int(expires as i64);
        c.out.bulk(b"overhead.hashtable.slot-to-keys");
        c.out.int(0);
    }
    let ints = [
        ("overhead.total", o.total as i64),
        ("keys.count", o.keys as i64),
        ("keys.bytes-per-key", used.checked_div(o.keys).unwrap_or(0) as i64),
        ("dataset.bytes", dataset as i64),
    ];
    for (name, value) in ints {
        c.out.bulk(name.as_bytes());
        c.out.int(value);
    }
    c.out.bulk(b"dataset.percentage");
    c.out.double(percent(dataset, used));
    c.out.bulk(b"peak.percentage");
    c.out.double(percent(used, f.peak));
    for (name, value) in [
        ("allocator.allocated", alloc.allocated),
        ("allocator.active", alloc.active),
        ("allocator.resident", alloc.resident),
    ] {
        c.out.bulk(name.as_bytes());
        c.out.int(value as i64);
    }
    for (name, (numerator, denominator)) in [
        ("allocator-fragmentation", (alloc.active, used)),
        ("allocator-rss", (alloc.resident, alloc.active)),
        ("rss-overhead", (f.rss, alloc.resident)),
    ] {
        c.out.bulk(format!("{name}.ratio").as_bytes());
        c.out.double(memory::ratio(numerator, denominator));
        c.out.bulk(format!("{name}.bytes").as_bytes());
        c.out.int(memory::diff(numerator, denominator));
    }
    c.out.bulk(b"fragmentation");
    c.out.double(memory::ratio(f.rss, used));
    c.out.bulk(b"fragmentation.bytes");
    c.out.int(memory::diff(f.rss, used));
}

/// MEMORY DOCTOR: Redis's checks and texts, for what forkv measures
/// (it keeps no per-client or replica buffer figures).
fn doctor_report(e: &mut Engine) -> String {
    const TEN_MB: i64 = 10 << 20;
    let o = Overhead::read(e);
    let f = &o.figures;
    if f.used < 5 << 20 {
        return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n".to_string();
    }
    let high = |(a, b): (u64, u64), limit: f64| memory::ratio(a, b) > limit && memory::diff(a, b) > TEN_MB;
    let issues: Vec<&str> = [
        (memory::ratio(f.peak, f.used) > 1.5, " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n"),
        (high((f.rss, f.used), 1.4), " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"jemalloc\".\n\n"),
        (high((f.alloc.active, f.used), 1.1), " * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n"),
        (high((f.alloc.resident, f.alloc.active), 1.1), " * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n"),
        (high((f.rss, f.alloc.resident), 1.1), " * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n"),
        (e.scripts.scripts.len() > 1000, " * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your memory.\n\n"),
    ]
    .into_iter()
    .filter_map(|(found, text)| found.then_some(text))
    .collect();
    if issues.is_empty() {
        return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n".to_string();
    }
    let mut s = "Sam, I detected a few issues in this Redis instance memory implants:\n\n".to_string();
    s.extend(issues);
    s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
    s
}

fn usage(e: &mut Engine, c: &mut Call) {
    let mut samples = DEFAULT_SAMPLES;
    let mut i = 3;
    while i < c.argc() {
        if !c.is(i, "SAMPLES") || i + 1 >= c.argc() {
            return c.out.error("ERR syntax error");
        }
        let Some(n) = c.int_arg(i + 1) else { return };
        // 0 means every element; negative counts are a syntax error, as in Redis.
        samples = match usize::try_from(n) {
            Ok(n) => n,
            Err(_) => return c.out.error("ERR syntax error"),
        };
        i += 2;
    }
    let db = &e.dbs[c.db()];
    match db.find(c.arg(2)) {
        Some(slot) => c.out.int(db.memory_usage(slot, samples) as i64),
        None => c.out.null(),
    }
}
