//! SLOWLOG GET/LEN/RESET/HELP over the engine's slow log.

use crate::engine::table::{cmd, CommandSpec, ADMIN, CONTAINER, LOADING};
use crate::engine::{Call, Engine};
use crate::util::parse_i64;

pub static COMMANDS: &[CommandSpec] = &[cmd("slowlog", -2, ADMIN | LOADING | CONTAINER, (0, 0, 0), slowlog)];

const HELP: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

fn slowlog(e: &mut Engine, c: &mut Call) {
    let sub = c.arg(1).to_ascii_lowercase();
    match (sub.as_slice(), c.argc()) {
        (b"help", 2) => c.out.help(HELP),
        (b"reset", 2) => {
            e.slowlog.reset();
            c.out.ok();
        }
        (b"len", 2) => c.out.int(e.slowlog.len() as i64),
        (b"get", 2 | 3) => {
            let count = match c.args.get(2).map(|a| parse_i64(a)) {
                None => 10,
                Some(Some(n)) if n >= -1 => n,
                Some(_) => return c.out.error("ERR count should be greater than or equal to -1"),
            };
            let count = if count == -1 { usize::MAX } else { count as usize };
            let entries: Vec<_> = e.slowlog.latest(count).collect();
            c.out.array(entries.len());
            for entry in entries {
                c.out.array(6);
                c.out.int(entry.id as i64);
                c.out.int(entry.time);
                c.out.int(entry.micros as i64);
                c.out.array(entry.args.len());
                for arg in &entry.args {
                    c.out.bulk(arg);
                }
                c.out.bulk(entry.peer.as_bytes());
                c.out.bulk(&entry.client_name);
            }
        }
        _ => c.subcommand_error(&["get", "len", "reset", "help"]),
    }
}
