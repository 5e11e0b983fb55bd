//! The cluster, replication and module commands of Redis, answered as a
//! standalone Redis without them answers: clients and tools probe them
//! (redis-py's cluster client sends CLUSTER, admin tools MODULE LIST,
//! operators REPLICAOF NO ONE), and an unknown-command error would read as
//! a broken server rather than as "not here".

use crate::config::ProtectedAction;
use crate::engine::table::{arity_fits, cmd, CommandSpec, ADMIN, FAST, LOADING};
use crate::engine::{Call, Engine, NOT_INTEGER, SYNTAX};
use crate::util::parse_i64;

// CLUSTER and MODULE are not flagged CONTAINER: INFO commandstats counts
// them under their own names, since no subcommand of theirs does anything.
pub static COMMANDS: &[CommandSpec] = &[
    cmd("cluster", -2, 0, (0, 0, 0), cluster),
    cmd("readonly", 1, FAST | LOADING, (0, 0, 0), cluster_disabled),
    cmd("readwrite", 1, FAST | LOADING, (0, 0, 0), cluster_disabled),
    cmd("asking", 1, FAST, (0, 0, 0), cluster_disabled),
    cmd("replicaof", 3, ADMIN, (0, 0, 0), replicaof),
    cmd("slaveof", 3, ADMIN, (0, 0, 0), replicaof),
    cmd("failover", -1, ADMIN, (0, 0, 0), failover),
    cmd("sync", 1, ADMIN, (0, 0, 0), no_replication),
    cmd("psync", -3, ADMIN, (0, 0, 0), no_replication),
    cmd("replconf", -1, ADMIN | LOADING, (0, 0, 0), no_replication),
    cmd("module", -2, ADMIN, (0, 0, 0), module),
];

const CLUSTER_DISABLED: &str = "ERR This instance has cluster support disabled";
const NO_REPLICATION: &str = "ERR forkv does not replicate: it runs standalone (REPLICAOF NO ONE is accepted)";

/// CLUSTER's subcommands and their arities, checked before the answer as
/// Redis checks a subcommand's existence and arity first.
const CLUSTER_SUBCOMMANDS: &[(&str, i32)] = &[
    ("addslots", -3),
    ("addslotsrange", -4),
    ("bumpepoch", 2),
    ("count-failure-reports", 3),
    ("countkeysinslot", 3),
    ("delslots", -3),
    ("delslotsrange", -4),
    ("failover", -2),
    ("flushslots", 2),
    ("forget", 3),
    ("getkeysinslot", 4),
    ("help", 2),
    ("info", 2),
    ("keyslot", 3),
    ("links", 2),
    ("meet", -4),
    ("myid", 2),
    ("nodes", 2),
    ("replicas", 3),
    ("replicate", 3),
    ("reset", -2),
    ("saveconfig", 2),
    ("set-config-epoch", 3),
    ("setslot", -4),
    ("shards", 2),
    ("slaves", 3),
    ("slots", 2),
];

const MODULE_SUBCOMMANDS: &[(&str, i32)] = &[("help", 2), ("list", 2), ("load", -3), ("loadex", -3), ("unload", 3)];

const MODULE_HELP: &[&str] = &[
    "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LIST",
    "    Return a list of loaded modules.",
    "LOAD <path> [<arg> ...]",
    "    Load a module library from <path>, passing to it any optional arguments.",
    "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
    "    Load a module library from <path>, while passing it module configurations and optional arguments.",
    "UNLOAD <name>",
    "    Unload a module.",
    "HELP",
    "    Prints this help.",
];

/// The subcommand's name when it is one of `known` with a fitting
/// argument count; otherwise Redis's error has been answered.
fn subcommand(c: &mut Call, known: &[(&'static str, i32)]) -> Option<&'static str> {
    let sub = c.arg(1).to_ascii_lowercase();
    let found = known.iter().find(|(name, _)| name.as_bytes() == sub.as_slice());
    match found {
        Some(&(name, arity)) if arity_fits(arity, c.argc()) => Some(name),
        _ => {
            let names: Vec<&str> = known.iter().map(|&(name, _)| name).collect();
            c.subcommand_error(&names);
            None
        }
    }
}

fn cluster(_: &mut Engine, c: &mut Call) {
    if subcommand(c, CLUSTER_SUBCOMMANDS).is_some() {
        c.out.error(CLUSTER_DISABLED);
    }
}

fn cluster_disabled(_: &mut Engine, c: &mut Call) {
    c.out.error(CLUSTER_DISABLED);
}

/// REPLICAOF NO ONE: already a master, OK. A master to follow is refused
/// once its port has been checked as Redis checks it.
fn replicaof(_: &mut Engine, c: &mut Call) {
    if c.is(1, "no") && c.is(2, "one") {
        return c.out.ok();
    }
    if !parse_i64(c.arg(2)).is_some_and(|port| (0..=65535).contains(&port)) {
        return c.out.error("ERR Invalid master port");
    }
    c.out.error(NO_REPLICATION);
}

/// FAILOVER parses its options as Redis does, then finds no replica.
fn failover(_: &mut Engine, c: &mut Call) {
    if c.argc() == 2 && c.is(1, "abort") {
        return c.out.error("ERR No failover in progress.");
    }
    let (mut timeout, mut to, mut force) = (false, false, false);
    let mut i = 1;
    while i < c.argc() {
        if c.is(i, "timeout") && i + 1 < c.argc() && !timeout {
            match parse_i64(c.arg(i + 1)) {
                None => return c.out.error(NOT_INTEGER),
                Some(ms) if ms <= 0 => return c.out.error("ERR FAILOVER timeout must be greater than 0"),
                Some(_) => timeout = true,
            }
            i += 2;
        } else if c.is(i, "to") && i + 2 < c.argc() && !to {
            if parse_i64(c.arg(i + 2)).is_none() {
                return c.out.error(NOT_INTEGER);
            }
            to = true;
            i += 3;
        } else if c.is(i, "force") && !force {
            force = true;
            i += 1;
        } else {
            return c.out.error(SYNTAX);
        }
    }
    c.out.error("ERR FAILOVER requires connected replicas.");
}

fn no_replication(_: &mut Engine, c: &mut Call) {
    c.out.error(NO_REPLICATION);
}

/// MODULE: none are loaded, and none can be. LOAD, LOADEX and UNLOAD are
/// protected actions in Redis 7 (`enable-module-command`).
fn module(e: &mut Engine, c: &mut Call) {
    let Some(sub) = subcommand(c, MODULE_SUBCOMMANDS) else { return };
    match sub {
        "help" => c.out.help(MODULE_HELP),
        "list" => c.out.array(0),
        _ if !e.config.enable_module_command.allows(c.client.is_local()) => {
            c.out.error(&ProtectedAction::refusal("MODULE", "enable-module-command"))
        }
        "unload" => c.out.error("ERR Error unloading module: no such module with that name"),
        _ => c.out.error("ERR Error loading the extension. Please check the server logs."),
    }
}
