//! MEMORY USAGE: what a key and its value take, estimated from the entry's
//! layout and the value's allocations, as redis-cli --memkeys and
//! monitoring tools ask for it; MALLOC-STATS and PURGE, handed to jemalloc.

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
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
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
        _ => c.subcommand_error(&["usage", "malloc-stats", "purge", "help"]),
    }
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
