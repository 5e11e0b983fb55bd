//! The Redis 7.0 parameters forkv accepts, checks and reports but does not
//! act on: replication, cluster, TLS, lazy freeing, defragmentation, the
//! process title and the like (shutdown-on-sigterm and shutdown-on-sigint
//! aside: a signalled shutdown reads them here). A redis.conf written for Redis (Debian's
//! stock file included) starts forkv unchanged, and CONFIG GET/SET/REWRITE
//! answer for them as Redis does, with Redis's defaults, bounds and error
//! texts (the table follows Redis 7.0.15's `static_configs`). Values that
//! would promise what forkv cannot do (a TLS port, cluster mode, a unix
//! socket, following a master) are refused instead of ignored.

use super::parse_memory;
use crate::util::parse_i64;
use std::collections::BTreeMap;

/// How a parameter's value is written and checked.
#[derive(Debug)]
pub enum Kind {
    Bool(bool),
    Number {
        min: i128,
        max: i128,
        default: i128,
        unit: Unit,
    },
    /// `multi`: several names at once, each a bit (shutdown-on-sigterm).
    Enum {
        names: &'static [(&'static str, u32)],
        default: u32,
        multi: bool,
    },
    Text(&'static str),
    /// Three integers, each between -2000 and 2000.
    OomScores,
    /// `replicaof <host> <port>`: only `no one` is accepted.
    ReplicaOf,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unit {
    Plain,
    /// 1gb, 64mb, 100k or bytes.
    Memory,
    /// A memory value or a percentage (`10%`, kept negative as in Redis).
    MemoryOrPercent,
    Octal,
}

#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    /// CONFIG SET may change it.
    pub mutable: bool,
    /// CONFIG GET lists it only when asked by its exact name.
    pub hidden: bool,
    pub kind: Kind,
}

const fn p(name: &'static str, alias: Option<&'static str>, mutable: bool, hidden: bool, kind: Kind) -> Param {
    Param { name, alias, mutable, hidden, kind }
}

const I32_MIN: i128 = i32::MIN as i128;
const I32_MAX: i128 = i32::MAX as i128;
const U32_MAX: i128 = u32::MAX as i128;
const I64_MAX: i128 = i64::MAX as i128;
const U64_MAX: i128 = u64::MAX as i128;

const SUPERVISED: &[(&str, u32)] = &[("upstart", 3), ("systemd", 2), ("auto", 1), ("no", 0)];
const SYSLOG_FACILITY: &[(&str, u32)] = &[
    ("user", 8),
    ("local0", 128),
    ("local1", 136),
    ("local2", 144),
    ("local3", 152),
    ("local4", 160),
    ("local5", 168),
    ("local6", 176),
    ("local7", 184),
];
const REPL_DISKLESS_LOAD: &[(&str, u32)] = &[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)];
const OOM_SCORE_ADJ: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)];
const SANITIZE_DUMP_PAYLOAD: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("clients", 2)];
const CLUSTER_ENDPOINT_TYPE: &[(&str, u32)] = &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)];
const PROPAGATION_ERROR_BEHAVIOR: &[(&str, u32)] = &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)];
pub const SHUTDOWN_SAVE: u32 = 1;
pub const SHUTDOWN_NOSAVE: u32 = 2;
pub const SHUTDOWN_FORCE: u32 = 8;
const SHUTDOWN_ON_SIG: &[(&str, u32)] =
    &[("default", 0), ("save", SHUTDOWN_SAVE), ("nosave", SHUTDOWN_NOSAVE), ("now", 4), ("force", SHUTDOWN_FORCE)];
const TLS_AUTH_CLIENTS: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("optional", 2)];

use Kind::*;
use Unit::*;

/// Redis 7.0.15's parameters that forkv has no use for, in its table's order.
pub const PARAMS: &[Param] = &[
    p("io-threads-do-reads", None, false, false, Bool(false)),
    p("always-show-logo", None, false, false, Bool(false)),
    p("rdb-del-sync-files", None, true, false, Bool(false)),
    p("activerehashing", None, true, false, Bool(true)),
    p("set-proc-title", None, false, false, Bool(true)),
    p("dynamic-hz", None, true, false, Bool(true)),
    p("lazyfree-lazy-eviction", None, true, false, Bool(false)),
    p("lazyfree-lazy-expire", None, true, false, Bool(false)),
    p("lazyfree-lazy-server-del", None, true, false, Bool(false)),
    p("lazyfree-lazy-user-del", None, true, false, Bool(false)),
    p("lazyfree-lazy-user-flush", None, true, false, Bool(false)),
    p("repl-disable-tcp-nodelay", None, true, false, Bool(false)),
    p("repl-diskless-sync", None, true, false, Bool(true)),
    p("aof-rewrite-incremental-fsync", None, true, false, Bool(true)),
    p("no-appendfsync-on-rewrite", None, true, false, Bool(false)),
    p("cluster-require-full-coverage", None, true, false, Bool(true)),
    p("rdb-save-incremental-fsync", None, true, false, Bool(true)),
    p("aof-timestamp-enabled", None, true, false, Bool(false)),
    p("cluster-replica-no-failover", Some("cluster-slave-no-failover"), true, false, Bool(false)),
    p("replica-lazy-flush", Some("slave-lazy-flush"), true, false, Bool(false)),
    p("replica-serve-stale-data", Some("slave-serve-stale-data"), true, false, Bool(true)),
    p("replica-read-only", Some("slave-read-only"), true, false, Bool(true)),
    p("replica-ignore-maxmemory", Some("slave-ignore-maxmemory"), true, false, Bool(true)),
    p("jemalloc-bg-thread", None, true, false, Bool(true)),
    p("activedefrag", None, true, false, Bool(false)),
    p("syslog-enabled", None, false, false, Bool(false)),
    p("cluster-enabled", None, false, false, Bool(false)),
    p("cluster-allow-reads-when-down", None, true, false, Bool(false)),
    p("cluster-allow-pubsubshard-when-down", None, true, false, Bool(true)),
    p("crash-log-enabled", None, true, false, Bool(true)),
    p("crash-memcheck-enabled", None, true, false, Bool(true)),
    p("use-exit-on-panic", None, true, true, Bool(false)),
    p("disable-thp", None, false, false, Bool(true)),
    p("cluster-allow-replica-migration", None, true, false, Bool(true)),
    p("replica-announced", None, true, false, Bool(true)),
    p("aof-disable-auto-gc", None, true, false, Bool(false)),
    p("replica-ignore-disk-write-errors", None, true, false, Bool(false)),
    p("unixsocket", None, false, false, Text("")),
    p("replica-announce-ip", Some("slave-announce-ip"), true, false, Text("")),
    p("masteruser", None, true, false, Text("")),
    p("cluster-announce-ip", None, true, false, Text("")),
    p("cluster-config-file", None, false, false, Text("nodes.conf")),
    p("cluster-announce-hostname", None, true, false, Text("")),
    p("syslog-ident", None, false, false, Text("redis")),
    p("appenddirname", None, false, false, Text("appendonlydir")),
    p("server_cpulist", None, false, false, Text("")),
    p("bio_cpulist", None, false, false, Text("")),
    p("aof_rewrite_cpulist", None, false, false, Text("")),
    p("bgsave_cpulist", None, false, false, Text("")),
    p("ignore-warnings", None, true, false, Text("")),
    p("proc-title-template", None, true, false, Text("{title} {listen-addr} {server-mode}")),
    p("bind-source-addr", None, true, false, Text("")),
    p("masterauth", None, true, false, Text("")),
    p("supervised", None, false, false, Enum { names: SUPERVISED, default: 0, multi: false }),
    p("syslog-facility", None, false, false, Enum { names: SYSLOG_FACILITY, default: 128, multi: false }),
    p("repl-diskless-load", None, true, false, Enum { names: REPL_DISKLESS_LOAD, default: 0, multi: false }),
    p("oom-score-adj", None, true, false, Enum { names: OOM_SCORE_ADJ, default: 0, multi: false }),
    p("sanitize-dump-payload", None, true, false, Enum { names: SANITIZE_DUMP_PAYLOAD, default: 0, multi: false }),
    p(
        "cluster-preferred-endpoint-type",
        None,
        true,
        false,
        Enum { names: CLUSTER_ENDPOINT_TYPE, default: 0, multi: false },
    ),
    p(
        "propagation-error-behavior",
        None,
        true,
        false,
        Enum { names: PROPAGATION_ERROR_BEHAVIOR, default: 0, multi: false },
    ),
    p("shutdown-on-sigint", None, true, false, Enum { names: SHUTDOWN_ON_SIG, default: 0, multi: true }),
    p("shutdown-on-sigterm", None, true, false, Enum { names: SHUTDOWN_ON_SIG, default: 0, multi: true }),
    p(
        "cluster-replica-validity-factor",
        Some("cluster-slave-validity-factor"),
        true,
        false,
        Number { min: 0, max: I32_MAX, default: 10, unit: Plain },
    ),
    p("cluster-migration-barrier", None, true, false, Number { min: 0, max: I32_MAX, default: 1, unit: Plain }),
    p("active-defrag-cycle-min", None, true, false, Number { min: 1, max: 99, default: 1, unit: Plain }),
    p("active-defrag-cycle-max", None, true, false, Number { min: 1, max: 99, default: 25, unit: Plain }),
    p("active-defrag-threshold-lower", None, true, false, Number { min: 0, max: 1000, default: 10, unit: Plain }),
    p("active-defrag-threshold-upper", None, true, false, Number { min: 0, max: 1000, default: 100, unit: Plain }),
    p(
        "replica-priority",
        Some("slave-priority"),
        true,
        false,
        Number { min: 0, max: I32_MAX, default: 100, unit: Plain },
    ),
    p("repl-diskless-sync-delay", None, true, false, Number { min: 0, max: I32_MAX, default: 5, unit: Plain }),
    p(
        "replica-announce-port",
        Some("slave-announce-port"),
        true,
        false,
        Number { min: 0, max: 65535, default: 0, unit: Plain },
    ),
    p("cluster-port", None, false, false, Number { min: 0, max: 65535, default: 0, unit: Plain }),
    p("cluster-announce-bus-port", None, true, false, Number { min: 0, max: 65535, default: 0, unit: Plain }),
    p("cluster-announce-port", None, true, false, Number { min: 0, max: 65535, default: 0, unit: Plain }),
    p("cluster-announce-tls-port", None, true, false, Number { min: 0, max: 65535, default: 0, unit: Plain }),
    p("repl-timeout", None, true, false, Number { min: 1, max: I32_MAX, default: 60, unit: Plain }),
    p(
        "repl-ping-replica-period",
        Some("repl-ping-slave-period"),
        true,
        false,
        Number { min: 1, max: I32_MAX, default: 10, unit: Plain },
    ),
    p("list-compress-depth", None, true, false, Number { min: 0, max: I32_MAX, default: 0, unit: Plain }),
    p("rdb-key-save-delay", None, true, true, Number { min: I32_MIN, max: I32_MAX, default: 0, unit: Plain }),
    p("key-load-delay", None, true, true, Number { min: I32_MIN, max: I32_MAX, default: 0, unit: Plain }),
    p("active-expire-effort", None, true, false, Number { min: 1, max: 10, default: 1, unit: Plain }),
    p("watchdog-period", None, true, true, Number { min: 0, max: I32_MAX, default: 0, unit: Plain }),
    p("shutdown-timeout", None, true, false, Number { min: 0, max: I32_MAX, default: 10, unit: Plain }),
    p("repl-diskless-sync-max-replicas", None, true, false, Number { min: 0, max: I32_MAX, default: 0, unit: Plain }),
    p("unixsocketperm", None, false, false, Number { min: 0, max: 0o777, default: 0, unit: Octal }),
    p("socket-mark-id", None, false, false, Number { min: 0, max: U32_MAX, default: 0, unit: Plain }),
    p("active-defrag-max-scan-fields", None, true, false, Number { min: 1, max: I64_MAX, default: 1000, unit: Plain }),
    p(
        "busy-reply-threshold",
        Some("lua-time-limit"),
        true,
        false,
        Number { min: 0, max: I64_MAX, default: 5000, unit: Plain },
    ),
    p("cluster-node-timeout", None, true, false, Number { min: 0, max: I64_MAX, default: 15000, unit: Plain }),
    p("stream-node-max-entries", None, true, false, Number { min: 0, max: I64_MAX, default: 100, unit: Plain }),
    p("repl-backlog-size", None, true, false, Number { min: 1, max: I64_MAX, default: 1024 * 1024, unit: Memory }),
    p("cluster-link-sendbuf-limit", None, true, false, Number { min: 0, max: U64_MAX, default: 0, unit: Memory }),
    p(
        "active-defrag-ignore-bytes",
        None,
        true,
        false,
        Number { min: 1, max: I64_MAX, default: 100 << 20, unit: Memory },
    ),
    p("stream-node-max-bytes", None, true, false, Number { min: 0, max: I64_MAX, default: 4096, unit: Memory }),
    p("maxmemory-clients", None, true, false, Number { min: -100, max: I64_MAX, default: 0, unit: MemoryOrPercent }),
    p("repl-backlog-ttl", None, true, false, Number { min: 0, max: I64_MAX, default: 60 * 60, unit: Plain }),
    p(
        "loading-process-events-interval-bytes",
        None,
        true,
        true,
        Number { min: 1024, max: I32_MAX, default: 1024 * 1024 * 2, unit: Plain },
    ),
    p("tls-port", None, true, false, Number { min: 0, max: 65535, default: 0, unit: Plain }),
    p("tls-session-cache-size", None, true, false, Number { min: 0, max: I32_MAX, default: 20 * 1024, unit: Plain }),
    p("tls-session-cache-timeout", None, true, false, Number { min: 0, max: I32_MAX, default: 300, unit: Plain }),
    p("tls-cluster", None, true, false, Bool(false)),
    p("tls-replication", None, true, false, Bool(false)),
    p("tls-auth-clients", None, true, false, Enum { names: TLS_AUTH_CLIENTS, default: 1, multi: false }),
    p("tls-prefer-server-ciphers", None, true, false, Bool(false)),
    p("tls-session-caching", None, true, false, Bool(true)),
    p("tls-cert-file", None, true, false, Text("")),
    p("tls-key-file", None, true, false, Text("")),
    p("tls-key-file-pass", None, true, false, Text("")),
    p("tls-client-cert-file", None, true, false, Text("")),
    p("tls-client-key-file", None, true, false, Text("")),
    p("tls-client-key-file-pass", None, true, false, Text("")),
    p("tls-dh-params-file", None, true, false, Text("")),
    p("tls-ca-cert-file", None, true, false, Text("")),
    p("tls-ca-cert-dir", None, true, false, Text("")),
    p("tls-protocols", None, true, false, Text("")),
    p("tls-ciphers", None, true, false, Text("")),
    p("tls-ciphersuites", None, true, false, Text("")),
    p("oom-score-adj-values", None, true, false, OomScores),
    p("replicaof", Some("slaveof"), false, false, ReplicaOf),
];

/// The parameter `name` (or its alias) names, if any.
pub fn find(name: &str) -> Option<&'static Param> {
    PARAMS.iter().find(|p| p.name == name || p.alias == Some(name))
}

/// Whether the value is several words written unquoted (CONFIG REWRITE).
pub fn is_multi_word(name: &str) -> bool {
    find(name).is_some_and(|p| matches!(p.kind, Enum { multi: true, .. } | OomScores))
}

/// Values set away from their defaults, by parameter name, as CONFIG GET
/// shows them.
#[derive(Clone, Debug, Default)]
pub struct Values(BTreeMap<&'static str, String>);

impl Values {
    /// Checks `args` (the words after the name) and keeps the value.
    pub fn set(&mut self, param: &'static Param, args: &[String]) -> Result<(), String> {
        let value = parse(param, args)?;
        if let Some(why) = unsupported(param.name, &value) {
            return Err(why.into());
        }
        self.0.insert(param.name, value);
        Ok(())
    }

    /// The value CONFIG GET shows.
    pub fn get(&self, param: &Param) -> String {
        self.0.get(param.name).cloned().unwrap_or_else(|| default_value(param))
    }

    /// The bits of a multi-name parameter's value (0 for any other).
    pub fn flags(&self, name: &str) -> u32 {
        match find(name) {
            Some(p @ Param { kind: Enum { names, multi: true, .. }, .. }) => {
                enum_value(names, &self.get(p).split(' ').collect::<Vec<_>>()).unwrap_or(0)
            }
            _ => 0,
        }
    }

    /// Parameters whose value differs from Redis's default, for CONFIG REWRITE.
    pub fn changed(&self) -> impl Iterator<Item = (&'static str, &String)> + '_ {
        self.0
            .iter()
            .filter(|(name, value)| find(name).is_some_and(|p| **value != default_value(p)))
            .map(|(name, value)| (*name, value))
    }
}

fn default_value(param: &Param) -> String {
    match param.kind {
        Bool(b) => yes_no(b),
        Number { default, unit, .. } => format_number(default, unit),
        Enum { names, default, multi } => enum_name(names, default, multi),
        Text(text) => text.into(),
        OomScores => "0 200 800".into(),
        ReplicaOf => String::new(),
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

/// Multi-word values (CONFIG SET passes one argument) are split into words.
fn words(args: &[String]) -> Vec<&str> {
    args.iter().flat_map(|a| a.split_whitespace()).collect()
}

fn parse(param: &Param, args: &[String]) -> Result<String, String> {
    let one = || match args {
        [v] => Ok(v.as_str()),
        _ => Err("wrong number of arguments".to_string()),
    };
    match param.kind {
        Bool(_) => match one()?.to_ascii_lowercase().as_str() {
            "yes" => Ok(yes_no(true)),
            "no" => Ok(yes_no(false)),
            _ => Err("argument must be 'yes' or 'no'".into()),
        },
        Number { min, max, unit, .. } => {
            let n = parse_number(one()?, unit)?;
            check_bounds(n, min, max, unit)?;
            Ok(format_number(n, unit))
        }
        Enum { names, multi, .. } => {
            let words = if multi { words(args) } else { vec![one()?] };
            let value = enum_value(names, &words).ok_or_else(|| {
                let all: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
                format!("argument(s) must be one of the following: {}", all.join(", "))
            })?;
            if names == SHUTDOWN_ON_SIG && value & 1 != 0 && value & 2 != 0 {
                return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
            }
            Ok(enum_name(names, value, multi))
        }
        Text(_) => one().map(str::to_string),
        OomScores => {
            let words = words(args);
            if words.len() != 3 {
                return Err("wrong number of arguments".into());
            }
            let scores: Option<Vec<i64>> =
                words.iter().map(|w| parse_i64(w.as_bytes()).filter(|v| (-2000..=2000).contains(v))).collect();
            let scores = scores.ok_or("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")?;
            Ok(scores.iter().map(i64::to_string).collect::<Vec<_>>().join(" "))
        }
        ReplicaOf => match words(args)[..] {
            [no, one] if no.eq_ignore_ascii_case("no") && one.eq_ignore_ascii_case("one") => Ok(String::new()),
            [_, _] => Err("forkv has no replication: it cannot follow a master".into()),
            _ => Err("wrong number of arguments".into()),
        },
    }
}

/// Redis's numericParseString: the unit's syntax only, its error text.
fn parse_number(v: &str, unit: Unit) -> Result<i128, String> {
    match unit {
        Plain => {
            parse_i64(v.as_bytes()).map(i128::from).ok_or_else(|| "argument couldn't be parsed into an integer".into())
        }
        Memory => memory(v).ok_or_else(|| "argument must be a memory value".into()),
        MemoryOrPercent => memory(v)
            .or_else(|| {
                v.strip_suffix('%')
                    .filter(|p| !p.is_empty())
                    .and_then(|p| parse_i64(p.as_bytes()))
                    .filter(|p| *p >= 0)
                    .map(|p| -i128::from(p))
            })
            .ok_or_else(|| "argument must be a memory or percent value".into()),
        Octal => i64::from_str_radix(v, 8)
            .map(i128::from)
            .map_err(|_| "argument couldn't be parsed as an octal number".into()),
    }
}

fn memory(v: &str) -> Option<i128> {
    parse_memory(v).ok().map(i128::from)
}

fn check_bounds(n: i128, min: i128, max: i128, unit: Unit) -> Result<(), String> {
    if unit == MemoryOrPercent && n < 0 {
        return if n < min { Err(format!("percentage argument must be less or equal to {}", -min)) } else { Ok(()) };
    }
    if (min..=max).contains(&n) {
        return Ok(());
    }
    Err(match unit {
        Octal => format!("argument must be between {min:o} and {max:o} inclusive"),
        _ => format!("argument must be between {min} and {max} inclusive"),
    })
}

fn format_number(n: i128, unit: Unit) -> String {
    match unit {
        MemoryOrPercent if n < 0 => format!("{}%", -n),
        Octal => format!("{n:o}"),
        _ => n.to_string(),
    }
}

/// Redis's configEnumGetValue: every word must name a value; `multi` ORs them.
fn enum_value(names: &[(&str, u32)], words: &[&str]) -> Option<u32> {
    if words.is_empty() {
        return None;
    }
    words.iter().try_fold(0, |acc, w| {
        let found =
            names.iter().filter(|(n, _)| n.eq_ignore_ascii_case(w)).fold(None, |m, (_, v)| Some(m.unwrap_or(0) | v));
        found.map(|v| acc | v)
    })
}

/// Redis's configEnumGetName: the first exact match, else (multi) the names
/// of the bits set, else "unknown".
fn enum_name(names: &[(&str, u32)], value: u32, multi: bool) -> String {
    if let Some((name, _)) = names.iter().find(|(_, v)| *v == value) {
        return name.to_string();
    }
    let mut unmatched = value;
    let mut out = Vec::new();
    for &(name, v) in names {
        if multi && v != 0 && v == unmatched & v {
            out.push(name);
            unmatched &= !v;
        }
    }
    if out.is_empty() || unmatched != 0 {
        return "unknown".into();
    }
    out.join(" ")
}

/// Values that would promise what forkv cannot do.
fn unsupported(name: &str, value: &str) -> Option<&'static str> {
    match name {
        "tls-port" if value != "0" => Some("forkv has no TLS support: tls-port must be 0"),
        "cluster-enabled" if value == "yes" => Some("forkv has no cluster mode: cluster-enabled must be no"),
        "unixsocket" if !value.is_empty() => Some("forkv listens on TCP only: unixsocket must be empty"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(name: &str, value: &str) -> Result<String, String> {
        let mut values = Values::default();
        let param = find(name).expect("known parameter");
        values.set(param, &[value.to_string()])?;
        Ok(values.get(param))
    }

    #[test]
    fn defaults_are_redis_defaults() {
        let values = Values::default();
        let get = |name| values.get(find(name).unwrap());
        assert_eq!(get("activerehashing"), "yes");
        assert_eq!(get("lua-time-limit"), "5000");
        assert_eq!(get("repl-backlog-size"), "1048576");
        assert_eq!(get("proc-title-template"), "{title} {listen-addr} {server-mode}");
        assert_eq!(get("supervised"), "no");
        assert_eq!(get("syslog-facility"), "local0");
        assert_eq!(get("shutdown-on-sigterm"), "default");
        assert_eq!(get("oom-score-adj-values"), "0 200 800");
        assert_eq!(get("unixsocketperm"), "0");
        assert_eq!(get("slaveof"), "");
    }

    #[test]
    fn values_are_checked_with_redis_texts() {
        assert_eq!(set("repl-timeout", "30").unwrap(), "30");
        assert_eq!(set("repl-timeout", "0").unwrap_err(), "argument must be between 1 and 2147483647 inclusive");
        assert_eq!(set("repl-timeout", "x").unwrap_err(), "argument couldn't be parsed into an integer");
        assert_eq!(set("repl-backlog-size", "64mb").unwrap(), "67108864");
        assert_eq!(set("repl-backlog-size", "1x").unwrap_err(), "argument must be a memory value");
        assert_eq!(set("maxmemory-clients", "10%").unwrap(), "10%");
        assert_eq!(set("maxmemory-clients", "200%").unwrap_err(), "percentage argument must be less or equal to 100");
        assert_eq!(set("maxmemory-clients", "x").unwrap_err(), "argument must be a memory or percent value");
        assert_eq!(set("unixsocketperm", "700").unwrap(), "700");
        assert_eq!(set("unixsocketperm", "1000").unwrap_err(), "argument must be between 0 and 777 inclusive");
        assert_eq!(set("unixsocketperm", "9").unwrap_err(), "argument couldn't be parsed as an octal number");
        assert_eq!(set("activerehashing", "NO").unwrap(), "no");
        assert_eq!(set("activerehashing", "1").unwrap_err(), "argument must be 'yes' or 'no'");
        assert_eq!(set("oom-score-adj", "relative").unwrap(), "yes");
        assert_eq!(
            set("repl-diskless-load", "x").unwrap_err(),
            "argument(s) must be one of the following: disabled, on-empty-db, swapdb"
        );
        assert_eq!(set("oom-score-adj-values", "0 300 900").unwrap(), "0 300 900");
        assert!(set("oom-score-adj-values", "0 300 9000").unwrap_err().starts_with("Invalid oom-score-adj-values"));
    }

    #[test]
    fn shutdown_flags_combine_like_redis() {
        assert_eq!(set("shutdown-on-sigterm", "now nosave").unwrap(), "nosave now");
        assert_eq!(set("shutdown-on-sigint", "save force").unwrap(), "save force");
        assert_eq!(
            set("shutdown-on-sigint", "save nosave").unwrap_err(),
            "shutdown options SAVE and NOSAVE can't be used simultaneously"
        );
    }

    #[test]
    fn promises_forkv_cannot_keep_are_refused() {
        assert!(set("tls-port", "6380").is_err());
        assert_eq!(set("tls-port", "0").unwrap(), "0");
        assert!(set("cluster-enabled", "yes").is_err());
        assert!(set("unixsocket", "/run/redis.sock").is_err());
        let mut values = Values::default();
        let replicaof = find("replicaof").unwrap();
        assert!(values.set(replicaof, &["10.0.0.1".into(), "6379".into()]).is_err());
        assert!(values.set(replicaof, &["no".into(), "one".into()]).is_ok());
    }

    #[test]
    fn only_changed_values_are_rewritten() {
        let mut values = Values::default();
        values.set(find("activerehashing").unwrap(), &["yes".into()]).unwrap();
        values.set(find("slave-priority").unwrap(), &["7".into()]).unwrap();
        let changed: Vec<_> = values.changed().collect();
        assert_eq!(changed, vec![("replica-priority", &"7".to_string())]);
    }
}
