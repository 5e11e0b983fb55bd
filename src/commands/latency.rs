//! LATENCY LATEST/HISTORY/RESET/GRAPH/DOCTOR/HISTOGRAM/HELP over the
//! engine's latency monitor.

use crate::config::FsyncPolicy;
use crate::engine::latency::DoctorContext;
use crate::engine::table::{cmd, CommandSpec, ADMIN, CONTAINER, LOADING};
use crate::engine::{Call, Engine};
use crate::memory;

pub static COMMANDS: &[CommandSpec] = &[cmd("latency", -2, ADMIN | LOADING | CONTAINER, (0, 0, 0), latency)];

const HELP: &[&str] = &[
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Prints this help.",
];

fn latency(e: &mut Engine, c: &mut Call) {
    let sub = c.arg(1).to_ascii_lowercase();
    let now = e.now / 1000;
    match (sub.as_slice(), c.argc()) {
        (b"help", 2) => c.out.help(HELP),
        (b"latest", 2) => {
            c.out.array(e.latency.latest().len());
            for (event, time, millis, max) in e.latency.latest() {
                c.out.array(4);
                c.out.bulk(event.as_bytes());
                c.out.int(time);
                c.out.int(millis as i64);
                c.out.int(max as i64);
            }
        }
        (b"history", 3) => {
            let samples = e.latency.history(c.arg(2));
            c.out.array(samples.len());
            for (time, millis) in samples {
                c.out.array(2);
                c.out.int(time);
                c.out.int(millis as i64);
            }
        }
        (b"reset", 2) => c.out.int(e.latency.reset(None) as i64),
        (b"reset", _) => {
            let resets: usize = (2..c.argc()).map(|i| e.latency.reset(Some(c.arg(i)))).sum();
            c.out.int(resets as i64);
        }
        (b"graph", 3) => match e.latency.graph(c.arg(2), now) {
            Some(graph) => c.out.verbatim(&graph),
            None => {
                let event = String::from_utf8_lossy(c.arg(2));
                c.out.error(&format!("ERR No samples available for event '{event}'"))
            }
        },
        (b"doctor", 2) => {
            let ctx = DoctorContext {
                threshold: e.config.latency_monitor_threshold,
                slowlog_slower_than_us: e.config.slowlog_log_slower_than,
                slowlog_max_len: e.config.slowlog_max_len,
                fork_gb_per_sec: fork_gb_per_sec(e),
                appendfsync_always: e.config.appendfsync == FsyncPolicy::Always,
                anon_huge_pages: memory::smaps_rollup_bytes("AnonHugePages:") > 0,
            };
            c.out.verbatim(&e.latency.doctor(&ctx, now));
        }
        (b"histogram", _) => histogram(e, c),
        _ => c.subcommand_error(&["doctor", "graph", "help", "histogram", "history", "latest", "reset"]),
    }
}

/// LATENCY HISTOGRAM [command ...]: each named command's latency
/// distribution (a container's name covers its subcommands, `config|get`
/// names one), or every command's; names without calls are left out.
fn histogram(e: &mut Engine, c: &mut Call) {
    let all = e.commands.all();
    let tracked: Vec<_> = e.stats.commands.latency_histograms(|id| all[id].name).collect();
    let wanted: Vec<_> = if c.argc() == 2 {
        tracked
    } else {
        let names: Vec<String> = c.args[2..].iter().map(|a| String::from_utf8_lossy(a).to_ascii_lowercase()).collect();
        names
            .iter()
            .flat_map(|want| {
                tracked.iter().copied().filter(move |(name, _)| {
                    name == want
                        || !want.contains('|') && name.strip_prefix(want.as_str()).is_some_and(|r| r.starts_with('|'))
                })
            })
            .collect()
    };
    c.out.map(wanted.len());
    for (name, h) in wanted {
        c.out.bulk(name.as_bytes());
        c.out.map(2);
        c.out.bulk(b"calls");
        c.out.int(h.calls() as i64);
        c.out.bulk(b"histogram_usec");
        let buckets = h.cumulative_usec();
        c.out.map(buckets.len());
        for (usec, calls) in buckets {
            c.out.int(usec as i64);
            c.out.int(calls as i64);
        }
    }
}

/// Memory copied per second of the last fork (Redis's stat_fork_rate).
fn fork_gb_per_sec(e: &Engine) -> f64 {
    match e.persistence.latest_fork_usec {
        0 => 0.0,
        usec => memory::used_memory() as f64 * 1e6 / usec as f64 / (1u64 << 30) as f64,
    }
}
