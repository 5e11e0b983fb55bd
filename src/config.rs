//! Configuration with redis.conf's directive names and syntax: a config file,
//! `--directive value` command-line overrides, and CONFIG GET/SET at runtime.

mod accepted;

use crate::glob::glob_match;
use crate::util::format_f64_trimmed;
use std::path::PathBuf;

/// What a shutdown does about the final save: SHUTDOWN's SAVE / NOSAVE /
/// FORCE, or `shutdown-on-sigterm` / `shutdown-on-sigint` for a signal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShutdownFlags {
    /// None: save when save points are configured.
    pub save: Option<bool>,
    /// Exit even if the final save fails.
    pub force: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    Always,
    EverySec,
    No,
}

impl FsyncPolicy {
    pub fn name(self) -> &'static str {
        match self {
            FsyncPolicy::Always => "always",
            FsyncPolicy::EverySec => "everysec",
            FsyncPolicy::No => "no",
        }
    }
}

/// Who may take a protected action (`enable-protected-configs`,
/// `enable-debug-command`): nobody (Redis 7's default, so that a client
/// cannot point `dir` and `dbfilename` at another file to overwrite it),
/// everybody, or clients on the loopback address only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtectedAction {
    No,
    Yes,
    Local,
}

impl ProtectedAction {
    const NAMES: [(&'static str, ProtectedAction); 3] =
        [("no", ProtectedAction::No), ("yes", ProtectedAction::Yes), ("local", ProtectedAction::Local)];

    fn parse(v: &str) -> Result<ProtectedAction, String> {
        let found = Self::NAMES.iter().find(|(name, _)| name.eq_ignore_ascii_case(v));
        found.map(|&(_, p)| p).ok_or_else(|| "argument(s) must be one of the following: no, yes, local".into())
    }

    fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(_, p)| *p == self).expect("every value is named").0
    }

    /// Whether a client (`local`: connected from 127.0.0.1 or ::1) may.
    pub fn allows(self, local: bool) -> bool {
        self == ProtectedAction::Yes || (self == ProtectedAction::Local && local)
    }

    /// Redis's refusal of protected `command` when `option` does not
    /// allow the client.
    pub fn refusal(command: &str, option: &str) -> String {
        format!(
            "ERR {command} command not allowed. If the {option} option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."
        )
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub bind: Vec<String>,
    pub port: u16,
    pub tcp_backlog: i32,
    /// Refuse clients off the loopback address while the default user has
    /// no password.
    pub protected_mode: bool,
    pub dir: PathBuf,
    pub dbfilename: String,
    pub appendonly: bool,
    pub appendfilename: String,
    pub appendfsync: FsyncPolicy,
    pub aof_load_truncated: bool,
    /// The AOF rewrite writes the dataset as an RDB preamble, not commands.
    pub aof_use_rdb_preamble: bool,
    pub auto_aof_rewrite_percentage: u64,
    pub auto_aof_rewrite_min_size: u64,
    pub save: Vec<(u64, u64)>,
    pub stop_writes_on_bgsave_error: bool,
    pub rdbcompression: bool,
    pub rdbchecksum: bool,
    pub requirepass: Option<String>,
    /// The ACL file ACL LOAD and SAVE use (empty: none).
    pub aclfile: String,
    pub acllog_max_len: u64,
    /// `acl-pubsub-default allchannels` (else `resetchannels`).
    pub acl_pubsub_default_all: bool,
    /// The config file's `user` lines: the name, then its rules.
    pub users: Vec<Vec<String>>,
    /// `rename-command from to` lines, in order (an empty `to` removes).
    pub renames: Vec<(String, String)>,
    pub maxclients: u64,
    /// Writes are refused unless this many replicas (lagging at most
    /// `min_replicas_max_lag` s) are connected: with none, while both are set.
    pub min_replicas_to_write: u32,
    pub min_replicas_max_lag: u32,
    pub databases: usize,
    pub hz: u64,
    pub loglevel: String,
    pub log_format: String,
    pub logfile: String,
    pub pidfile: String,
    pub timeout: u64,
    pub tcp_keepalive: u64,
    /// Commands taking at least this many microseconds go to the slow log
    /// (-1: none, 0: all).
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    /// Most keys the client-side caching table remembers (0: no limit).
    pub tracking_table_max_keys: u64,
    /// Milliseconds; 0 turns the latency monitor off.
    pub latency_monitor_threshold: u64,
    /// Per-command latency histograms (LATENCY HISTOGRAM, INFO latencystats).
    pub latency_tracking: bool,
    /// The percentiles INFO latencystats shows.
    pub latency_tracking_info_percentiles: Vec<f64>,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub client_output_buffer_limit: crate::output_limit::Limits,
    pub maxmemory: u64,
    pub maxmemory_policy: crate::eviction::Policy,
    /// Keys sampled per db for each eviction (LRU, LFU and TTL policies).
    pub maxmemory_samples: u32,
    /// How long one eviction pass may run (see `eviction::time_limit_us`).
    pub maxmemory_eviction_tenacity: u32,
    pub lfu_log_factor: u32,
    /// Minutes after which an LFU counter loses one.
    pub lfu_decay_time: u32,
    pub list_max_listpack_size: i64,
    pub hash_max_listpack_entries: u64,
    pub hash_max_listpack_value: u64,
    pub set_max_intset_entries: u64,
    pub zset_max_listpack_entries: u64,
    pub zset_max_listpack_value: u64,
    /// A sparse HyperLogLog longer than this turns dense.
    pub hll_sparse_max_bytes: u64,
    /// Keyspace notification classes (`engine::notify` flags); 0 is off.
    pub notify_keyspace_events: u32,
    pub daemonize: bool,
    /// I/O arbiters for connections; 1 runs them on the keyspace's arbiter.
    pub io_threads: usize,
    pub enable_protected_configs: ProtectedAction,
    pub enable_debug_command: ProtectedAction,
    /// Accepted for redis.conf compatibility: forkv has no MODULE command.
    pub enable_module_command: ProtectedAction,
    /// The config file this came from, for CONFIG REWRITE and INFO.
    pub config_file: Option<PathBuf>,
    /// While the file and the arguments are read: a `save` was seen, so the
    /// next ones add to it (Redis's save_loaded).
    pub(crate) save_loaded: bool,
    /// Redis parameters forkv keeps without acting on them.
    pub accepted: accepted::Values,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: vec!["127.0.0.1".into()],
            port: 6379,
            tcp_backlog: 511,
            protected_mode: true,
            dir: PathBuf::from("."),
            dbfilename: "dump.rdb".into(),
            appendonly: false,
            appendfilename: "appendonly.aof".into(),
            appendfsync: FsyncPolicy::EverySec,
            aof_load_truncated: true,
            aof_use_rdb_preamble: true,
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 * 1024 * 1024,
            save: vec![(3600, 1), (300, 100), (60, 10000)],
            stop_writes_on_bgsave_error: true,
            rdbcompression: true,
            rdbchecksum: true,
            requirepass: None,
            aclfile: String::new(),
            acllog_max_len: 128,
            acl_pubsub_default_all: false,
            users: Vec::new(),
            renames: Vec::new(),
            maxclients: 10000,
            min_replicas_to_write: 0,
            min_replicas_max_lag: 10,
            databases: 16,
            hz: 10,
            loglevel: "notice".into(),
            log_format: "text".into(),
            logfile: String::new(),
            pidfile: String::new(),
            timeout: 0,
            tcp_keepalive: 300,
            slowlog_log_slower_than: 10_000,
            slowlog_max_len: 128,
            tracking_table_max_keys: 1_000_000,
            latency_monitor_threshold: 0,
            latency_tracking: true,
            latency_tracking_info_percentiles: vec![50.0, 99.0, 99.9],
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            client_output_buffer_limit: Default::default(),
            maxmemory: 0,
            maxmemory_policy: crate::eviction::Policy::NoEviction,
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            list_max_listpack_size: -2,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            hll_sparse_max_bytes: 3000,
            notify_keyspace_events: 0,
            daemonize: false,
            io_threads: 1,
            enable_protected_configs: ProtectedAction::No,
            enable_debug_command: ProtectedAction::No,
            enable_module_command: ProtectedAction::No,
            config_file: None,
            save_loaded: false,
            accepted: accepted::Values::default(),
        }
    }
}

/// Second names of directives (Redis's aliases): listed by CONFIG GET,
/// never written by CONFIG REWRITE.
fn is_alias(name: &str) -> bool {
    name.contains("ziplist") || name.contains("slaves")
}

/// Directives CONFIG SET changes only under `enable-protected-configs`.
const PROTECTED: &[&str] = &["dir", "dbfilename"];

/// Directive names, in CONFIG GET order. `true` marks those CONFIG SET may change.
const DIRECTIVES: &[(&str, bool)] = &[
    ("bind", false),
    ("port", false),
    ("tcp-backlog", false),
    ("protected-mode", true),
    ("dir", true),
    ("dbfilename", true),
    ("appendonly", true),
    ("appendfilename", false),
    ("appendfsync", true),
    ("aof-load-truncated", true),
    ("aof-use-rdb-preamble", true),
    ("auto-aof-rewrite-percentage", true),
    ("auto-aof-rewrite-min-size", true),
    ("save", true),
    ("stop-writes-on-bgsave-error", true),
    ("rdbcompression", true),
    ("rdbchecksum", true),
    ("requirepass", true),
    ("aclfile", false),
    ("acllog-max-len", true),
    ("acl-pubsub-default", true),
    ("maxclients", true),
    ("min-replicas-to-write", true),
    ("min-slaves-to-write", true),
    ("min-replicas-max-lag", true),
    ("min-slaves-max-lag", true),
    ("databases", false),
    ("hz", true),
    ("loglevel", true),
    ("log-format", false),
    ("logfile", false),
    ("pidfile", false),
    ("timeout", true),
    ("tcp-keepalive", true),
    ("slowlog-log-slower-than", true),
    ("slowlog-max-len", true),
    ("tracking-table-max-keys", true),
    ("latency-monitor-threshold", true),
    ("latency-tracking", true),
    ("latency-tracking-info-percentiles", true),
    ("proto-max-bulk-len", true),
    ("client-query-buffer-limit", true),
    ("client-output-buffer-limit", true),
    ("maxmemory", true),
    ("maxmemory-policy", true),
    ("maxmemory-samples", true),
    ("maxmemory-eviction-tenacity", true),
    ("lfu-log-factor", true),
    ("lfu-decay-time", true),
    ("list-max-listpack-size", true),
    ("list-max-ziplist-size", true),
    ("hash-max-listpack-entries", true),
    ("hash-max-ziplist-entries", true),
    ("hash-max-listpack-value", true),
    ("hash-max-ziplist-value", true),
    ("set-max-intset-entries", true),
    ("zset-max-listpack-entries", true),
    ("zset-max-ziplist-entries", true),
    ("zset-max-listpack-value", true),
    ("zset-max-ziplist-value", true),
    ("hll-sparse-max-bytes", true),
    ("notify-keyspace-events", true),
    ("daemonize", false),
    ("enable-protected-configs", false),
    ("enable-debug-command", false),
    ("enable-module-command", false),
    ("io-threads", false),
];

fn parse_bool(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

/// Parses sizes like Redis's memtoull: digits, then nothing or a unit
/// (b, k, kb, m, mb, g, gb, any case); no sign. Unlike Redis, a size past
/// 2^64 is an error rather than a wrapped number.
pub fn parse_memory(v: &str) -> Result<u64, String> {
    let bad = || "argument must be a memory value".to_string();
    let digits_end = v.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(v.len());
    let (digits, unit) = v.split_at(digits_end);
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1 << 10,
        "m" => 1_000_000,
        "mb" => 1 << 20,
        "g" => 1_000_000_000,
        "gb" => 1 << 30,
        _ => return Err(bad()),
    };
    // As strtoull reads them, no digits at all are 0.
    let n: u64 = if digits.is_empty() { 0 } else { digits.parse().map_err(|_| bad())? };
    n.checked_mul(mult).ok_or_else(bad)
}

/// proto-max-bulk-len and client-query-buffer-limit: Redis's bounds.
fn parse_memory_at_least_1mb(v: &str) -> Result<u64, String> {
    let n = parse_memory(v)?;
    if !(1024 * 1024..=i64::MAX as u64).contains(&n) {
        return Err("argument must be between 1048576 and 9223372036854775807 inclusive".into());
    }
    Ok(n)
}

fn parse_num<T: std::str::FromStr>(v: &str) -> Result<T, String> {
    v.parse().map_err(|_| "argument couldn't be parsed into an integer".to_string())
}

/// An integer directive with Redis's bounds and its error text.
fn parse_ranged(v: &str, min: i64, max: i64) -> Result<i64, String> {
    let n: i64 = parse_num(v)?;
    if !(min..=max).contains(&n) {
        return Err(format!("argument must be between {min} and {max} inclusive"));
    }
    Ok(n)
}

fn parse_percentiles(v: &str) -> Result<Vec<f64>, String> {
    v.split_whitespace()
        .map(|w| match w.parse::<f64>() {
            Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
            Ok(p) if !p.is_nan() => {
                Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into())
            }
            _ => Err("Invalid latency-tracking-info-percentiles parameters".into()),
        })
        .collect()
}

fn parse_save(v: &str) -> Result<Vec<(u64, u64)>, String> {
    let words: Vec<&str> = v.split_whitespace().collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    if !words.len().is_multiple_of(2) {
        return Err("Invalid save parameters".into());
    }
    words
        .chunks(2)
        .map(|p| match (p[0].parse(), p[1].parse()) {
            (Ok(s), Ok(c)) => Ok((s, c)),
            _ => Err("Invalid save parameters".into()),
        })
        .collect()
}

impl Config {
    /// Applies one directive; `args` are the words after the name.
    pub fn apply(&mut self, name: &str, args: &[String]) -> Result<(), String> {
        let name = name.to_ascii_lowercase();
        let joined = args.join(" ");
        let one = || -> Result<&str, String> {
            match args {
                [v] => Ok(v.as_str()),
                _ => Err("wrong number of arguments".into()),
            }
        };
        match name.as_str() {
            "bind" => {
                if args.is_empty() {
                    return Err("wrong number of arguments".into());
                }
                self.bind = args.iter().flat_map(|a| a.split_whitespace().map(str::to_string)).collect();
            }
            "port" => self.port = parse_num(one()?)?,
            "tcp-backlog" => self.tcp_backlog = parse_ranged(one()?, 0, i32::MAX as i64)? as i32,
            "protected-mode" => self.protected_mode = parse_bool(one()?)?,
            "dir" => self.dir = PathBuf::from(one()?),
            "dbfilename" => {
                let v = one()?;
                if v.contains('/') {
                    return Err("dbfilename can't be a path, just a filename".into());
                }
                self.dbfilename = v.into();
            }
            "appendonly" => self.appendonly = parse_bool(one()?)?,
            "appendfilename" => {
                let v = one()?;
                if v.contains('/') {
                    return Err("appendfilename can't be a path, just a filename".into());
                }
                self.appendfilename = v.into();
            }
            "appendfsync" => {
                self.appendfsync = match one()?.to_ascii_lowercase().as_str() {
                    "always" => FsyncPolicy::Always,
                    "everysec" => FsyncPolicy::EverySec,
                    "no" => FsyncPolicy::No,
                    _ => return Err("argument(s) must be one of the following: always, everysec, no".into()),
                }
            }
            "aof-load-truncated" => self.aof_load_truncated = parse_bool(one()?)?,
            "aof-use-rdb-preamble" => self.aof_use_rdb_preamble = parse_bool(one()?)?,
            "auto-aof-rewrite-percentage" => self.auto_aof_rewrite_percentage = parse_num(one()?)?,
            "auto-aof-rewrite-min-size" => self.auto_aof_rewrite_min_size = parse_memory(one()?)?,
            "save" => {
                // Several `save` lines in a file add up; CONFIG SET replaces.
                self.save = parse_save(&joined)?;
            }
            "stop-writes-on-bgsave-error" => self.stop_writes_on_bgsave_error = parse_bool(one()?)?,
            "rdbcompression" => self.rdbcompression = parse_bool(one()?)?,
            "rdbchecksum" => self.rdbchecksum = parse_bool(one()?)?,
            "requirepass" => {
                let v = one()?;
                self.requirepass = if v.is_empty() { None } else { Some(v.into()) };
            }
            "min-replicas-to-write" | "min-slaves-to-write" => {
                self.min_replicas_to_write = parse_ranged(one()?, 0, i32::MAX as i64)? as u32
            }
            "min-replicas-max-lag" | "min-slaves-max-lag" => {
                self.min_replicas_max_lag = parse_ranged(one()?, 0, i32::MAX as i64)? as u32
            }
            "maxclients" => {
                let n: u64 = parse_num(one()?)?;
                if n == 0 {
                    return Err("argument must be between 1 and 4294967295 inclusive".into());
                }
                self.maxclients = n;
            }
            "databases" => {
                let n: usize = parse_num(one()?)?;
                if n == 0 {
                    return Err("argument must be between 1 and 2147483647 inclusive".into());
                }
                self.databases = n;
            }
            "hz" => self.hz = parse_num::<u64>(one()?)?.clamp(1, 500),
            "loglevel" => {
                let v = one()?.to_ascii_lowercase();
                if !["debug", "verbose", "notice", "warning", "nothing"].contains(&v.as_str()) {
                    return Err(
                        "argument(s) must be one of the following: debug, verbose, notice, warning, nothing".into()
                    );
                }
                self.loglevel = v;
            }
            "log-format" => {
                let v = one()?.to_ascii_lowercase();
                if v != "text" && v != "json" {
                    return Err("argument(s) must be one of the following: text, json".into());
                }
                self.log_format = v;
            }
            "logfile" => self.logfile = one()?.into(),
            "pidfile" => self.pidfile = one()?.into(),
            "timeout" => self.timeout = parse_num(one()?)?,
            "tcp-keepalive" => self.tcp_keepalive = parse_num(one()?)?,
            "slowlog-log-slower-than" => {
                let n: i64 = parse_num(one()?)?;
                if n < -1 {
                    return Err("argument must be between -1 and 9223372036854775807 inclusive".into());
                }
                self.slowlog_log_slower_than = n;
            }
            "slowlog-max-len" => {
                let n: i64 = parse_num(one()?)?;
                if n < 0 {
                    return Err("argument must be between 0 and 9223372036854775807 inclusive".into());
                }
                self.slowlog_max_len = n as u64;
            }
            "tracking-table-max-keys" => self.tracking_table_max_keys = parse_ranged(one()?, 0, i64::MAX)? as u64,
            "latency-monitor-threshold" => {
                let n: i64 = parse_num(one()?)?;
                if n < 0 {
                    return Err("argument must be between 0 and 9223372036854775807 inclusive".into());
                }
                self.latency_monitor_threshold = n as u64;
            }
            "latency-tracking" => self.latency_tracking = parse_bool(one()?)?,
            "latency-tracking-info-percentiles" => self.latency_tracking_info_percentiles = parse_percentiles(&joined)?,
            "proto-max-bulk-len" => self.proto_max_bulk_len = parse_memory_at_least_1mb(one()?)?,
            "client-query-buffer-limit" => self.client_query_buffer_limit = parse_memory_at_least_1mb(one()?)?,
            // Each line or value changes the classes it names.
            "client-output-buffer-limit" => self.client_output_buffer_limit.set(args)?,
            "maxmemory" => self.maxmemory = parse_memory(one()?)?,
            "maxmemory-policy" => {
                self.maxmemory_policy = crate::eviction::Policy::parse(one()?).ok_or_else(|| {
                    let names: Vec<&str> = crate::eviction::Policy::ALL.iter().map(|p| p.name()).collect();
                    format!("argument(s) must be one of the following: {}", names.join(", "))
                })?
            }
            "maxmemory-samples" => self.maxmemory_samples = parse_ranged(one()?, 1, i32::MAX as i64)? as u32,
            "maxmemory-eviction-tenacity" => self.maxmemory_eviction_tenacity = parse_ranged(one()?, 0, 100)? as u32,
            "lfu-log-factor" => self.lfu_log_factor = parse_ranged(one()?, 0, i32::MAX as i64)? as u32,
            "lfu-decay-time" => self.lfu_decay_time = parse_ranged(one()?, 0, i32::MAX as i64)? as u32,
            "list-max-listpack-size" | "list-max-ziplist-size" => self.list_max_listpack_size = parse_num(one()?)?,
            "hash-max-listpack-entries" | "hash-max-ziplist-entries" => {
                self.hash_max_listpack_entries = parse_num(one()?)?
            }
            "hash-max-listpack-value" | "hash-max-ziplist-value" => self.hash_max_listpack_value = parse_num(one()?)?,
            "set-max-intset-entries" => self.set_max_intset_entries = parse_num(one()?)?,
            "zset-max-listpack-entries" | "zset-max-ziplist-entries" => {
                self.zset_max_listpack_entries = parse_num(one()?)?
            }
            "zset-max-listpack-value" | "zset-max-ziplist-value" => self.zset_max_listpack_value = parse_num(one()?)?,
            "hll-sparse-max-bytes" => {
                let n = parse_memory(one()?)?;
                if n > i64::MAX as u64 {
                    return Err("argument must be between 0 and 9223372036854775807 inclusive".into());
                }
                self.hll_sparse_max_bytes = n;
            }
            "notify-keyspace-events" => {
                self.notify_keyspace_events = crate::engine::notify::parse_flags(one()?)
                    .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?
            }
            "daemonize" => self.daemonize = parse_bool(one()?)?,
            "aclfile" => self.aclfile = one()?.into(),
            "acllog-max-len" => self.acllog_max_len = parse_ranged(one()?, 0, i64::MAX)? as u64,
            "acl-pubsub-default" => {
                self.acl_pubsub_default_all = match one()?.to_ascii_lowercase().as_str() {
                    "allchannels" => true,
                    "resetchannels" => false,
                    _ => return Err("argument(s) must be one of the following: allchannels, resetchannels".into()),
                }
            }
            // Checked when the users are made, after the whole file is read.
            "user" if !args.is_empty() => self.users.push(args.to_vec()),
            "rename-command" => match args {
                [from, to] => self.renames.push((from.clone(), to.clone())),
                _ => return Err("wrong number of arguments".into()),
            },
            "io-threads" => self.io_threads = parse_ranged(one()?, 1, 128)? as usize,
            "enable-protected-configs" => self.enable_protected_configs = ProtectedAction::parse(one()?)?,
            "enable-debug-command" => self.enable_debug_command = ProtectedAction::parse(one()?)?,
            "enable-module-command" => self.enable_module_command = ProtectedAction::parse(one()?)?,
            _ => match accepted::find(&name) {
                Some(param) => self.accepted.set(param, args)?,
                None => return Err(format!("Bad directive or wrong number of arguments: '{name}'")),
            },
        }
        Ok(())
    }

    /// The current value of a directive, as CONFIG GET shows it.
    pub fn get(&self, name: &str) -> Option<String> {
        let yes_no = |b: bool| if b { "yes".to_string() } else { "no".to_string() };
        Some(match name {
            "bind" => self.bind.join(" "),
            "port" => self.port.to_string(),
            "tcp-backlog" => self.tcp_backlog.to_string(),
            "protected-mode" => yes_no(self.protected_mode),
            "dir" => std::fs::canonicalize(&self.dir).unwrap_or(self.dir.clone()).display().to_string(),
            "dbfilename" => self.dbfilename.clone(),
            "appendonly" => yes_no(self.appendonly),
            "appendfilename" => self.appendfilename.clone(),
            "appendfsync" => self.appendfsync.name().into(),
            "aof-load-truncated" => yes_no(self.aof_load_truncated),
            "aof-use-rdb-preamble" => yes_no(self.aof_use_rdb_preamble),
            "auto-aof-rewrite-percentage" => self.auto_aof_rewrite_percentage.to_string(),
            "auto-aof-rewrite-min-size" => self.auto_aof_rewrite_min_size.to_string(),
            "save" => self.save.iter().map(|(s, c)| format!("{s} {c}")).collect::<Vec<_>>().join(" "),
            "stop-writes-on-bgsave-error" => yes_no(self.stop_writes_on_bgsave_error),
            "rdbcompression" => yes_no(self.rdbcompression),
            "rdbchecksum" => yes_no(self.rdbchecksum),
            "requirepass" => self.requirepass.clone().unwrap_or_default(),
            "aclfile" => self.aclfile.clone(),
            "acllog-max-len" => self.acllog_max_len.to_string(),
            "acl-pubsub-default" => if self.acl_pubsub_default_all { "allchannels" } else { "resetchannels" }.into(),
            "maxclients" => self.maxclients.to_string(),
            "min-replicas-to-write" | "min-slaves-to-write" => self.min_replicas_to_write.to_string(),
            "min-replicas-max-lag" | "min-slaves-max-lag" => self.min_replicas_max_lag.to_string(),
            "databases" => self.databases.to_string(),
            "hz" => self.hz.to_string(),
            "loglevel" => self.loglevel.clone(),
            "log-format" => self.log_format.clone(),
            "logfile" => self.logfile.clone(),
            "pidfile" => self.pidfile.clone(),
            "timeout" => self.timeout.to_string(),
            "tcp-keepalive" => self.tcp_keepalive.to_string(),
            "slowlog-log-slower-than" => self.slowlog_log_slower_than.to_string(),
            "slowlog-max-len" => self.slowlog_max_len.to_string(),
            "tracking-table-max-keys" => self.tracking_table_max_keys.to_string(),
            "latency-monitor-threshold" => self.latency_monitor_threshold.to_string(),
            "latency-tracking" => yes_no(self.latency_tracking),
            "latency-tracking-info-percentiles" => self
                .latency_tracking_info_percentiles
                .iter()
                .map(|p| format_f64_trimmed(*p))
                .collect::<Vec<_>>()
                .join(" "),
            "proto-max-bulk-len" => self.proto_max_bulk_len.to_string(),
            "client-query-buffer-limit" => self.client_query_buffer_limit.to_string(),
            "client-output-buffer-limit" => self.client_output_buffer_limit.config_value(),
            "maxmemory" => self.maxmemory.to_string(),
            "maxmemory-policy" => self.maxmemory_policy.name().into(),
            "maxmemory-samples" => self.maxmemory_samples.to_string(),
            "maxmemory-eviction-tenacity" => self.maxmemory_eviction_tenacity.to_string(),
            "lfu-log-factor" => self.lfu_log_factor.to_string(),
            "lfu-decay-time" => self.lfu_decay_time.to_string(),
            "list-max-listpack-size" | "list-max-ziplist-size" => self.list_max_listpack_size.to_string(),
            "hash-max-listpack-entries" | "hash-max-ziplist-entries" => self.hash_max_listpack_entries.to_string(),
            "hash-max-listpack-value" | "hash-max-ziplist-value" => self.hash_max_listpack_value.to_string(),
            "set-max-intset-entries" => self.set_max_intset_entries.to_string(),
            "zset-max-listpack-entries" | "zset-max-ziplist-entries" => self.zset_max_listpack_entries.to_string(),
            "zset-max-listpack-value" | "zset-max-ziplist-value" => self.zset_max_listpack_value.to_string(),
            "hll-sparse-max-bytes" => self.hll_sparse_max_bytes.to_string(),
            "notify-keyspace-events" => crate::engine::notify::format_flags(self.notify_keyspace_events),
            "daemonize" => yes_no(self.daemonize),
            "io-threads" => self.io_threads.to_string(),
            "enable-protected-configs" => self.enable_protected_configs.name().into(),
            "enable-debug-command" => self.enable_debug_command.name().into(),
            "enable-module-command" => self.enable_module_command.name().into(),
            _ => return accepted::find(name).map(|param| self.accepted.get(param)),
        })
    }

    /// `shutdown-on-sigterm` (`term`) or `shutdown-on-sigint`.
    pub fn shutdown_on_signal(&self, term: bool) -> ShutdownFlags {
        let name = if term { "shutdown-on-sigterm" } else { "shutdown-on-sigint" };
        let bits = self.accepted.flags(name);
        let save = match (bits & accepted::SHUTDOWN_SAVE != 0, bits & accepted::SHUTDOWN_NOSAVE != 0) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        };
        ShutdownFlags { save, force: bits & accepted::SHUTDOWN_FORCE != 0 }
    }

    /// CONFIG GET: every directive matching any of the glob patterns.
    /// Hidden parameters match only a pattern that is their exact name.
    pub fn get_matching(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let listed = DIRECTIVES.iter().map(|(name, _)| (*name, false));
        let accepted =
            accepted::PARAMS.iter().flat_map(|p| std::iter::once(p.name).chain(p.alias).map(|n| (n, p.hidden)));
        listed
            .chain(accepted)
            .filter(|(name, hidden)| {
                patterns.iter().any(|p| {
                    if *hidden {
                        p.eq_ignore_ascii_case(name.as_bytes())
                    } else {
                        glob_match(p, name.as_bytes(), true)
                    }
                })
            })
            .filter_map(|(name, _)| self.get(name).map(|v| (name.to_string(), v)))
            .collect()
    }

    /// Whether CONFIG SET may change `name` for a client (`local`: on the
    /// loopback address). Redis checks every name of a CONFIG SET this way
    /// before it applies any value.
    pub fn settable(&self, name: &str, local: bool) -> Result<(), String> {
        let name = name.to_ascii_lowercase();
        let refuse = |why: &str| Err(format!("CONFIG SET failed (possibly related to argument '{name}') - {why}"));
        let mutable = DIRECTIVES.iter().find(|(n, _)| *n == name).map(|(_, m)| *m);
        match mutable.or_else(|| accepted::find(&name).map(|p| p.mutable)) {
            None => Err(format!("Unknown option or number of arguments for CONFIG SET - '{name}'")),
            Some(false) => refuse("can't set immutable config"),
            Some(_) if PROTECTED.contains(&name.as_str()) && !self.enable_protected_configs.allows(local) => {
                refuse("can't set protected config")
            }
            Some(_) => Ok(()),
        }
    }

    /// CONFIG SET of one directive `settable` allowed.
    pub fn set_runtime(&mut self, name: &str, value: &str) -> Result<(), String> {
        let name = name.to_ascii_lowercase();
        self.apply(&name, &[value.to_string()])
            .map_err(|e| format!("CONFIG SET failed (possibly related to argument '{name}') - {e}"))
    }

    /// Reads redis.conf syntax; errors name the line.
    pub fn load_file_text(&mut self, text: &str) -> Result<(), String> {
        self.load_text(text, 0)
    }

    /// `depth`: how many `include`s led here.
    fn load_text(&mut self, text: &str, depth: usize) -> Result<(), String> {
        for (lineno, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words = split_config_line(line).map_err(|e| format!("line {}: {e}: '{line}'", lineno + 1))?;
            let (name, args) = words.split_first().expect("non-empty line");
            let lname = name.to_ascii_lowercase();
            let result = if lname == "include" {
                match args {
                    [pattern] => self.include(pattern, depth + 1),
                    _ => Err("wrong number of arguments".into()),
                }
            } else if lname == "save" {
                self.load_save(args)
            } else {
                self.apply(&lname, args)
            };
            result.map_err(|e| format!("line {}: {e}: '{line}'", lineno + 1))?;
        }
        Ok(())
    }

    /// A `save` read from the file or the arguments: the first replaces the
    /// defaults, later ones add to it, and `save ""` clears it, as Redis
    /// reads its configuration (CONFIG SET replaces).
    fn load_save(&mut self, args: &[String]) -> Result<(), String> {
        let parsed = parse_save(&args.join(" "))?;
        if self.save_loaded && !parsed.is_empty() {
            self.save.extend(parsed);
        } else {
            self.save = parsed;
        }
        self.save_loaded = true;
        Ok(())
    }

    /// `include PATH`: that file's directives, here. As in Redis, a path with
    /// wildcards (in its last part: `conf.d/*.conf`) includes every match in
    /// name order, or nothing when none matches.
    fn include(&mut self, pattern: &str, depth: usize) -> Result<(), String> {
        const MAX_DEPTH: usize = 16;
        if depth > MAX_DEPTH {
            return Err(format!("include nested deeper than {MAX_DEPTH} files (a cycle?)"));
        }
        let path = std::path::Path::new(pattern);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let files = if name.contains(['*', '?', '[']) {
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            let mut matches: Vec<PathBuf> =
                std::fs::read_dir(dir).map(|entries| entries.flatten().map(|e| e.path()).collect()).unwrap_or_default();
            matches.retain(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| glob_match(name.as_bytes(), n.as_bytes(), false))
            });
            matches.sort();
            matches
        } else {
            vec![path.to_path_buf()]
        };
        for file in files {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("can't open config file '{}': {e}", file.display()))?;
            self.load_text(&text, depth).map_err(|e| format!("included file '{}', {e}", file.display()))?;
        }
        Ok(())
    }

    /// Parses the command line like redis-server: an optional config file
    /// first, then `--directive value...` pairs. No environment overrides.
    pub fn from_args(args: &[String]) -> Result<Config, String> {
        Config::from_sources(args, std::iter::empty()).map(|(cfg, _)| cfg)
    }

    /// The full startup order: defaults, then the config file (first
    /// argument unless it starts with `--`), then `FORKV_<DIRECTIVE>`
    /// environment variables, then `--directive value...` arguments, each
    /// overriding the one before. Returns the config and warnings about
    /// `FORKV_` variables that name no directive (ignored: Kubernetes
    /// service links and test knobs share the prefix).
    pub fn from_sources(
        args: &[String],
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(Config, Vec<String>), String> {
        let mut cfg = Config::default();
        let mut rest = args;
        if let Some(first) = args.first() {
            if !first.starts_with("--") {
                let text =
                    std::fs::read_to_string(first).map_err(|e| format!("can't open config file '{first}': {e}"))?;
                cfg.load_file_text(&text).map_err(|e| format!("config file '{first}', {e}"))?;
                // Absolute, as Redis keeps it: the server changes to `dir`
                // before CONFIG REWRITE writes the file again.
                cfg.config_file = Some(std::path::absolute(first).unwrap_or_else(|_| PathBuf::from(first)));
                rest = &args[1..];
            }
        }
        let mut warnings = Vec::new();
        let mut env: Vec<(String, String)> = env.into_iter().collect();
        env.sort();
        for (var, value) in env {
            let Some(name) = env_directive(&var) else { continue };
            if !Config::is_directive(&name) {
                warnings.push(format!("environment variable {var} names no directive; ignored"));
                continue;
            }
            cfg.apply(&name, &[value]).map_err(|e| format!("environment variable {var}: {e}"))?;
        }
        let mut i = 0;
        while i < rest.len() {
            let Some(name) = rest[i].strip_prefix("--") else {
                return Err(format!("unexpected argument '{}'", rest[i]));
            };
            let mut values = Vec::new();
            i += 1;
            while i < rest.len() && !rest[i].starts_with("--") {
                values.push(rest[i].clone());
                i += 1;
            }
            if values.is_empty() {
                values.push(String::new());
            }
            let applied = match (name, &values[..]) {
                ("include", [path]) => cfg.include(path, 1),
                ("save", _) => cfg.load_save(&values),
                _ => cfg.apply(name, &values),
            };
            applied.map_err(|e| format!("--{name}: {e}"))?;
        }
        Ok((cfg, warnings))
    }

    /// CONFIG REWRITE: updates the directives in the config file in place,
    /// keeping comments and order, and appends changed ones it lacks.
    /// `users` (`user …` lines) replace the file's user lines, as Redis
    /// writes its ACL users there.
    pub fn rewrite_file(&self, users: &str) -> Result<(), String> {
        let path = self.config_file.as_ref().ok_or("The server is running without a config file")?;
        let old = std::fs::read_to_string(path).unwrap_or_default();
        let defaults = Config::default();
        let mut written = std::collections::HashSet::new();
        let mut out = String::new();
        let mut users_written = false;
        for line in old.lines() {
            let name = line.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
            // An alias line is rewritten under the parameter's own name.
            let name = accepted::find(&name).map_or(name, |p| p.name.to_string());
            if name == "user" {
                if !users_written {
                    out.push_str(users);
                    users_written = true;
                }
            } else if line.trim_start().starts_with('#') || !Config::is_directive(&name) {
                out.push_str(line);
                out.push('\n');
            } else if !written.insert(name.clone()) {
                // Written where it first appeared.
            } else if name == "client-output-buffer-limit" {
                let ours = |l: &&str| l.split_whitespace().next().is_some_and(|w| w.eq_ignore_ascii_case(&name));
                let old_lines = old.lines().filter(ours).count();
                out.push_str(&self.client_output_buffer_limit.rewrite_lines(&name, old_lines));
            } else {
                out.push_str(&self.directive_line(&name));
            }
        }
        for (name, _) in DIRECTIVES {
            if !written.contains(*name) && self.get(name) != defaults.get(name) && !is_alias(name) {
                out.push_str(&self.directive_line(name));
            }
        }
        for (name, _) in self.accepted.changed() {
            if !written.contains(name) {
                out.push_str(&self.directive_line(name));
            }
        }
        if !users_written {
            out.push_str(users);
        }
        let tmp = path.with_extension("rewrite.tmp");
        std::fs::write(&tmp, out)
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| format!("Rewriting config file: {e}"))
    }

    fn directive_line(&self, name: &str) -> String {
        let value = self.get(name).unwrap_or_default();
        if name == "save" {
            if self.save.is_empty() {
                return "save \"\"\n".into();
            }
            return self.save.iter().map(|(s, c)| format!("save {s} {c}\n")).collect();
        }
        if name == "client-output-buffer-limit" {
            return self.client_output_buffer_limit.rewrite_lines(name, 0);
        }
        let multi_word = name == "bind" || name == "latency-tracking-info-percentiles" || accepted::is_multi_word(name);
        if value.is_empty() || value.contains(' ') && !multi_word {
            format!("{name} \"{value}\"\n")
        } else {
            format!("{name} {value}\n")
        }
    }

    pub fn is_directive(name: &str) -> bool {
        DIRECTIVES.iter().any(|(n, _)| *n == name) || accepted::find(name).is_some()
    }
}

/// The prefix of environment variables that set directives.
pub const ENV_PREFIX: &str = "FORKV_";

/// `FORKV_APPENDFSYNC` → `appendfsync`, `FORKV_AOF_LOAD_TRUNCATED` →
/// `aof-load-truncated`; None for variables without the prefix.
pub fn env_directive(var: &str) -> Option<String> {
    let rest = var.strip_prefix(ENV_PREFIX)?;
    (!rest.is_empty()).then(|| rest.to_ascii_lowercase().replace('_', "-"))
}

/// Splits a config line into words, honouring double and single quotes.
pub(crate) fn split_config_line(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        if c == '"' || c == '\'' {
            chars.next();
            let mut closed = false;
            while let Some(ch) = chars.next() {
                if ch == c {
                    closed = true;
                    break;
                }
                if ch == '\\' && c == '"' {
                    match chars.next() {
                        Some('n') => word.push('\n'),
                        Some('t') => word.push('\t'),
                        Some(other) => word.push(other),
                        None => break,
                    }
                } else {
                    word.push(ch);
                }
            }
            if !closed {
                return Err("unbalanced quotes".into());
            }
        } else {
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() {
                    break;
                }
                word.push(ch);
                chars.next();
            }
        }
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_redis_conf_syntax() {
        let mut c = Config::default();
        c.load_file_text("# comment\nport 7000\nappendonly yes\nsave 900 1\nsave 300 10\nrequirepass \"s3 cret\"\n")
            .unwrap();
        assert_eq!(c.port, 7000);
        assert!(c.appendonly);
        assert_eq!(c.save, vec![(900, 1), (300, 10)]);
        assert_eq!(c.requirepass.as_deref(), Some("s3 cret"));
    }

    #[test]
    fn include_reads_files_in_place_and_globs_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("conf.d")).unwrap();
        std::fs::write(d.join("conf.d/b.conf"), "port 7002\nmaxclients 5\n").unwrap();
        std::fs::write(d.join("conf.d/a.conf"), "port 7001\nhz 20\n").unwrap();
        std::fs::write(d.join("extra.conf"), "databases 4\n").unwrap();
        let main = format!(
            "port 7000\ninclude {0}/conf.d/*.conf\ninclude {0}/extra.conf\ninclude {0}/none.d/*.conf\nhz 30\n",
            d.display()
        );
        let mut c = Config::default();
        c.load_file_text(&main).unwrap();
        assert_eq!((c.port, c.maxclients, c.databases, c.hz), (7002, 5, 4, 30));

        std::fs::write(d.join("self.conf"), format!("include {}/self.conf\n", d.display())).unwrap();
        let err = Config::default().load_file_text(&format!("include {}/self.conf\n", d.display())).unwrap_err();
        assert!(err.contains("nested deeper"), "{err}");
        let err = Config::default().load_file_text(&format!("include {}/missing.conf\n", d.display())).unwrap_err();
        assert!(err.starts_with("line 1: can't open config file"), "{err}");
    }

    #[test]
    fn memory_values_parse_as_redis_memtoull() {
        assert_eq!(parse_memory("1KB"), Ok(1024));
        assert_eq!(parse_memory("3m"), Ok(3_000_000));
        assert_eq!(parse_memory("2gb"), Ok(2 << 30));
        assert_eq!(parse_memory("7b"), Ok(7));
        assert_eq!(parse_memory("mb"), Ok(0));
        for bad in ["+1", "-1", "1 mb", "1tb", "x", "99999999999999999999"] {
            assert!(parse_memory(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_lines_are_named() {
        let mut c = Config::default();
        let err = c.load_file_text("port 1\nnosuch 5\n").unwrap_err();
        assert!(err.starts_with("line 2:"), "{err}");
        let err = c.load_file_text("appendonly maybe\n").unwrap_err();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn command_line_overrides() {
        let args: Vec<String> =
            ["--port", "7001", "--save", "", "--appendfsync", "always"].iter().map(|s| s.to_string()).collect();
        let c = Config::from_args(&args).unwrap();
        assert_eq!(c.port, 7001);
        assert!(c.save.is_empty());
        assert_eq!(c.appendfsync, FsyncPolicy::Always);
    }

    #[test]
    fn environment_sits_between_file_and_command_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("forkv.conf");
        std::fs::write(&file, "port 7000\nappendfsync always\nmaxclients 10\n").unwrap();
        let args: Vec<String> = [file.to_str().unwrap(), "--maxclients", "30"].iter().map(|s| s.to_string()).collect();
        let env = [
            ("FORKV_APPENDFSYNC", "no"),
            ("FORKV_MAXCLIENTS", "20"),
            ("FORKV_AOF_LOAD_TRUNCATED", "no"),
            ("FORKV_SAVE", "900 1 60 100"),
            ("FORKV_SERVICE_HOST", "10.0.0.1"),
            ("HOME", "/root"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let (c, warnings) = Config::from_sources(&args, env).unwrap();
        assert_eq!(c.port, 7000, "file value kept");
        assert_eq!(c.appendfsync, FsyncPolicy::No, "env overrides the file");
        assert_eq!(c.maxclients, 30, "command line overrides env");
        assert!(!c.aof_load_truncated);
        assert_eq!(c.save, vec![(900, 1), (60, 100)]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("FORKV_SERVICE_HOST"));
        let err = Config::from_sources(&[], [("FORKV_PORT".to_string(), "tcp://x".to_string())]).unwrap_err();
        assert!(err.contains("FORKV_PORT"), "{err}");
    }

    #[test]
    fn save_lines_replace_the_defaults_then_add_up_across_file_and_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let (with_save, without) = (dir.path().join("a.conf"), dir.path().join("b.conf"));
        std::fs::write(&with_save, "save 900 1\n").unwrap();
        std::fs::write(&without, "loglevel notice\n").unwrap();
        let save_of = |file: &std::path::Path, extra: &[&str]| {
            let args: Vec<String> =
                std::iter::once(file.display().to_string()).chain(extra.iter().map(|s| s.to_string())).collect();
            Config::from_args(&args).unwrap().get("save").unwrap()
        };
        // Redis 7.0's rules (tests/unit/introspection.tcl).
        assert_eq!(save_of(&without, &[]), "3600 1 300 100 60 10000");
        assert_eq!(save_of(&without, &["--save", "100", "100"]), "100 100");
        assert_eq!(save_of(&with_save, &[]), "900 1");
        assert_eq!(save_of(&with_save, &["--save", "100", "100"]), "900 1 100 100");
        assert_eq!(save_of(&with_save, &["--save", ""]), "");
        assert_eq!(save_of(&with_save, &["--save", "--loglevel", "verbose"]), "");
    }

    #[test]
    fn aof_use_rdb_preamble_from_every_source() {
        assert!(Config::default().aof_use_rdb_preamble, "yes by default, as in Redis");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("forkv.conf");
        std::fs::write(&file, "aof-use-rdb-preamble no\n").unwrap();
        let args = vec![file.display().to_string()];
        assert!(!Config::from_args(&args).unwrap().aof_use_rdb_preamble, "config file");
        let env = || [("FORKV_AOF_USE_RDB_PREAMBLE".to_string(), "yes".to_string())];
        assert!(Config::from_sources(&args, env()).unwrap().0.aof_use_rdb_preamble, "env over the file");
        let with_flag = [args[0].clone(), "--aof-use-rdb-preamble".into(), "no".into()];
        assert!(!Config::from_sources(&with_flag, env()).unwrap().0.aof_use_rdb_preamble, "flag over env");

        let mut c = Config::default();
        c.set_runtime("aof-use-rdb-preamble", "no").unwrap();
        assert_eq!(c.get_matching(&[b"aof-use-*"]), [("aof-use-rdb-preamble".to_string(), "no".to_string())]);
        let err = c.set_runtime("aof-use-rdb-preamble", "maybe").unwrap_err();
        assert!(err.contains("'yes' or 'no'"), "{err}");
        c.config_file = Some(file.clone());
        std::fs::write(&file, "# kept\n").unwrap();
        c.rewrite_file("").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "# kept\naof-use-rdb-preamble no\n");
    }

    #[test]
    fn latency_tracking_percentiles_read_set_and_rewrite_as_redis() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("forkv.conf");
        std::fs::write(&file, "latency-tracking-info-percentiles 50 99.99\nlatency-tracking no\n").unwrap();
        let mut c = Config::from_args(&[file.display().to_string()]).unwrap();
        assert_eq!(c.latency_tracking_info_percentiles, [50.0, 99.99]);
        assert!(!c.latency_tracking);
        c.set_runtime("latency-tracking-info-percentiles", "90 100").unwrap();
        assert_eq!(c.get("latency-tracking-info-percentiles").unwrap(), "90 100");
        let err = c.set_runtime("latency-tracking-info-percentiles", "100.5").unwrap_err();
        assert!(err.ends_with("parameters should sit between [0.0,100.0]"), "{err}");
        let err = c.set_runtime("latency-tracking-info-percentiles", "1 x").unwrap_err();
        assert!(err.ends_with("Invalid latency-tracking-info-percentiles parameters"), "{err}");
        assert_eq!(c.latency_tracking_info_percentiles, [90.0, 100.0], "a refused value changes nothing");
        c.rewrite_file("").unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text, "latency-tracking-info-percentiles 90 100\nlatency-tracking no\n");
        c.set_runtime("latency-tracking-info-percentiles", "").unwrap();
        c.rewrite_file("").unwrap();
        assert!(std::fs::read_to_string(&file).unwrap().starts_with("latency-tracking-info-percentiles \"\"\n"));
        let reread = Config::from_args(&[file.display().to_string()]).unwrap();
        assert!(reread.latency_tracking_info_percentiles.is_empty());
    }

    #[test]
    fn notify_keyspace_events_read_set_and_rewrite_as_redis() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("forkv.conf");
        std::fs::write(&file, "notify-keyspace-events \"Ex$\"\n").unwrap();
        let mut c = Config::from_args(&[file.display().to_string()]).unwrap();
        assert_eq!(c.get("notify-keyspace-events").unwrap(), "$xE");
        let err = c.set_runtime("notify-keyspace-events", "KEq").unwrap_err();
        assert_eq!(
            err,
            "CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
        );
        assert_eq!(c.get("notify-keyspace-events").unwrap(), "$xE", "a refused value changes nothing");
        c.set_runtime("notify-keyspace-events", "KEA").unwrap();
        c.rewrite_file("").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "notify-keyspace-events AKE\n");
        let args: Vec<String> = ["--notify-keyspace-events", "gK"].iter().map(|s| s.to_string()).collect();
        assert_eq!(Config::from_args(&args).unwrap().get("notify-keyspace-events").unwrap(), "gK");
    }

    #[test]
    fn config_get_globs_and_set() {
        let mut c = Config::default();
        let got = c.get_matching(&[b"append*"]);
        assert!(got.iter().any(|(k, v)| k == "appendfsync" && v == "everysec"));
        c.set_runtime("maxclients", "5").unwrap();
        assert_eq!(c.maxclients, 5);
        assert!(c.settable("port", true).unwrap_err().ends_with("can't set immutable config"));
        assert!(c.settable("nosuch", true).unwrap_err().starts_with("Unknown option"));
        assert_eq!(parse_memory("64mb").unwrap(), 64 << 20);
        let err = c.set_runtime("proto-max-bulk-len", "1kb").unwrap_err();
        assert!(err.ends_with("argument must be between 1048576 and 9223372036854775807 inclusive"), "{err}");
        c.set_runtime("client-query-buffer-limit", "1mb").unwrap();
    }

    #[test]
    fn protected_configs_follow_their_setting() {
        let mut c = Config::default();
        assert!(c.settable("dir", true).unwrap_err().ends_with("can't set protected config"));
        assert!(c.settable("hz", false).is_ok());
        c.enable_protected_configs = ProtectedAction::Local;
        assert!(c.settable("dbfilename", true).is_ok());
        assert!(c.settable("dbfilename", false).is_err());
        c.enable_protected_configs = ProtectedAction::Yes;
        assert!(c.settable("dir", false).is_ok());
        let args: Vec<String> = ["--enable-debug-command", "LOCAL"].iter().map(|s| s.to_string()).collect();
        assert_eq!(Config::from_args(&args).unwrap().get("enable-debug-command").unwrap(), "local");
        let args: Vec<String> = ["--enable-debug-command", "maybe"].iter().map(|s| s.to_string()).collect();
        assert!(Config::from_args(&args).unwrap_err().contains("must be one of the following: no, yes, local"));
    }
}
