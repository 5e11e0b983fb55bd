//! Server commands: INFO, CONFIG, TIME, SHUTDOWN, the persistence
//! triggers (which the actor layer carries out), and ROLE and WAIT as a
//! master without replicas answers them.

use crate::config::ShutdownFlags;
use crate::engine::table::{cmd, CommandSpec, ADMIN, CONTAINER, FAST, LOADING, NO_MULTI, PROTECTED};
use crate::engine::{Call, Engine, Request, Sub, LOADING_ERROR, SYNTAX};
use crate::memory::{diff, human, ratio, total_system_memory, MemoryFigures};
use crate::util::{now_us, parse_i64};
use std::fmt::Write;

pub const REDIS_VERSION: &str = "7.0.15";

pub static COMMANDS: &[CommandSpec] = &[
    cmd("info", -1, LOADING, (0, 0, 0), info),
    cmd("config", -2, ADMIN | LOADING | CONTAINER, (0, 0, 0), config),
    cmd("time", 1, FAST | LOADING, (0, 0, 0), time),
    cmd("debug", -2, ADMIN | LOADING | PROTECTED, (0, 0, 0), super::debug::debug),
    cmd("shutdown", -1, ADMIN | LOADING | NO_MULTI, (0, 0, 0), shutdown),
    cmd("bgsave", -1, ADMIN, (0, 0, 0), bgsave),
    cmd("save", 1, ADMIN | NO_MULTI, (0, 0, 0), save),
    cmd("lastsave", 1, FAST | LOADING, (0, 0, 0), lastsave),
    cmd("bgrewriteaof", 1, ADMIN | NO_MULTI, (0, 0, 0), bgrewriteaof),
    cmd("role", 1, FAST | LOADING, (0, 0, 0), role),
    cmd("wait", 3, 0, (0, 0, 0), wait),
];

fn status(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "err"
    }
}

fn section_server(e: &Engine, s: &mut String) {
    let uptime = (e.now - e.start_ms) / 1000;
    let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
    let config_file = e.config.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    let _ = write!(
        s,
        "# Server\r\nredis_version:{REDIS_VERSION}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{} {}\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\nprocess_id:{}\r\nprocess_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{uptime}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nexecutable:{exe}\r\nconfig_file:{config_file}\r\nio_threads_active:0\r\nforkv_version:{}\r\n",
        std::env::consts::OS,
        std::env::consts::ARCH,
        std::process::id(),
        e.run_id,
        e.tcp_port,
        now_us(),
        uptime / 86400,
        e.config.hz,
        e.config.hz,
        env!("CARGO_PKG_VERSION"),
    );
}

fn section_clients(e: &Engine, s: &mut String) {
    let _ = write!(
        s,
        "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:{}\r\ntracking_clients:{}\r\nclients_in_timeout_table:{}\r\n",
        e.connected_clients(),
        e.config.maxclients,
        e.blocked_clients() + e.pause.held_count(),
        e.tracking.client_count(),
        e.clients_in_timeout_table(),
    );
}

fn section_memory(e: &mut Engine, s: &mut String) {
    let MemoryFigures { alloc, used, rss, peak } = MemoryFigures::read(e);
    let allocated = alloc.allocated;
    let _ = write!(
        s,
        "# Memory\r\nused_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\nused_memory_peak:{peak}\r\nused_memory_peak_human:{}\r\nused_memory_peak_perc:{:.2}%\r\nallocator_allocated:{allocated}\r\nallocator_active:{}\r\nallocator_resident:{}\r\ntotal_system_memory:{}\r\ntotal_system_memory_human:{}\r\nnumber_of_functions:{}\r\nnumber_of_libraries:{}\r\nused_memory_functions:{}\r\nmaxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nallocator_frag_ratio:{:.2}\r\nallocator_frag_bytes:{}\r\nallocator_rss_ratio:{:.2}\r\nallocator_rss_bytes:{}\r\nrss_overhead_ratio:{:.2}\r\nrss_overhead_bytes:{}\r\nmem_fragmentation_ratio:{:.2}\r\nmem_fragmentation_bytes:{}\r\nmem_not_counted_for_evict:0\r\nmem_allocator:jemalloc\r\nlazyfree_pending_objects:0\r\nlazyfreed_objects:0\r\n",
        human(used),
        human(rss),
        human(peak),
        if peak > 0 { used as f64 * 100.0 / peak as f64 } else { 100.0 },
        alloc.active,
        alloc.resident,
        total_system_memory(),
        human(total_system_memory()),
        e.functions.function_count(),
        e.functions.library_count(),
        e.functions.memory(),
        e.config.maxmemory,
        human(e.config.maxmemory),
        e.config.maxmemory_policy.name(),
        ratio(alloc.active, used),
        diff(alloc.active, used),
        ratio(alloc.resident, alloc.active),
        diff(alloc.resident, alloc.active),
        ratio(rss, alloc.resident),
        diff(rss, alloc.resident),
        ratio(rss, used),
        diff(rss, used),
    );
}

fn section_persistence(e: &Engine, s: &mut String) {
    let p = &e.persistence;
    let now_s = e.now / 1000;
    let since = |start: i64| if start >= 0 { now_s - start } else { -1 };
    let _ = write!(
        s,
        "# Persistence\r\nloading:{}\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{}\r\nrdb_saves:{}\r\nrdb_last_cow_size:{}\r\nrdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\naof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\naof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{}\r\naof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\naof_last_write_status:{}\r\naof_last_cow_size:{}\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
        p.loading as u8,
        e.dirty,
        p.rdb_bgsave_in_progress as u8,
        p.rdb_last_save_time,
        status(p.rdb_last_bgsave_ok),
        p.rdb_last_bgsave_time_sec,
        if p.rdb_bgsave_in_progress { since(p.rdb_current_bgsave_start) } else { -1 },
        p.rdb_saves,
        p.rdb_last_cow_size,
        p.rdb_last_load_keys_expired,
        p.rdb_last_load_keys_loaded,
        e.config.appendonly as u8,
        p.aof_rewrite_in_progress as u8,
        p.aof_rewrite_scheduled as u8,
        p.aof_last_rewrite_time_sec,
        if p.aof_rewrite_in_progress { since(p.aof_current_rewrite_start) } else { -1 },
        status(p.aof_last_bgrewrite_ok),
        p.aof_rewrites,
        p.aof_rewrites_consecutive_failures,
        status(p.aof_last_write_ok),
        p.aof_last_cow_size,
    );
    if e.config.appendonly {
        let _ = write!(
            s,
            "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:{}\r\naof_buffer_length:0\r\naof_pending_bio_fsync:0\r\naof_delayed_fsync:{}\r\n",
            p.aof_current_size, p.aof_base_size, p.aof_rewrite_scheduled as u8, p.aof_delayed_fsync,
        );
    }
    if p.loading {
        let elapsed = (now_s - p.loading_start_time).max(0);
        let done = p.loading_loaded_bytes.min(p.loading_total_bytes);
        let perc = if p.loading_total_bytes > 0 { done as f64 * 100.0 / p.loading_total_bytes as f64 } else { 0.0 };
        let eta = if done > 0 { (p.loading_total_bytes - done) as f64 * elapsed as f64 / done as f64 } else { 1.0 };
        let _ = write!(
            s,
            "loading_start_time:{}\r\nloading_total_bytes:{}\r\nloading_rdb_used_mem:0\r\nloading_loaded_bytes:{done}\r\nloading_loaded_perc:{perc:.2}\r\nloading_eta_seconds:{}\r\n",
            p.loading_start_time,
            p.loading_total_bytes,
            eta.ceil() as u64,
        );
    }
}

fn section_stats(e: &Engine, s: &mut String) {
    let st = &e.stats;
    let _ = write!(
        s,
        "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\nexpired_keys:{}\r\nevicted_keys:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\nlatest_fork_usec:{}\r\ntotal_forks:{}\r\nsync_full:0\r\nsync_partial_ok:0\r\nsync_partial_err:0\r\nevicted_clients:0\r\nmigrate_cached_sockets:{}\r\ntracking_total_keys:{}\r\ntracking_total_items:{}\r\ntracking_total_prefixes:{}\r\nunexpected_error_replies:0\r\ntotal_error_replies:{}\r\n",
        st.total_connections_received,
        st.total_commands_processed,
        st.instantaneous_ops_per_sec(),
        st.total_net_input_bytes,
        st.total_net_output_bytes,
        st.rejected_connections,
        st.expired_keys,
        st.evicted_keys,
        st.keyspace_hits,
        st.keyspace_misses,
        e.pubsub.count(Sub::Channel),
        e.pubsub.count(Sub::Pattern),
        e.pubsub.count(Sub::Shard),
        e.persistence.latest_fork_usec,
        st.total_forks,
        e.migrate_links.len(),
        e.tracking.total_keys(),
        e.tracking.total_items(),
        e.tracking.total_prefixes(),
        st.commands.total_error_replies,
    );
}

fn section_replication(e: &Engine, s: &mut String) {
    let _ = write!(
        s,
        "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\nrepl_backlog_size:1048576\r\nrepl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n",
        e.run_id
    );
}

fn section_cpu(s: &mut String) {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF);
    let children = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN);
    let secs = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
    if let (Ok(u), Ok(c)) = (usage, children) {
        let _ = write!(
            s,
            "# CPU\r\nused_cpu_sys:{:.6}\r\nused_cpu_user:{:.6}\r\nused_cpu_sys_children:{:.6}\r\nused_cpu_user_children:{:.6}\r\n",
            secs(u.system_time()),
            secs(u.user_time()),
            secs(c.system_time()),
            secs(c.user_time()),
        );
    }
}

fn section_keyspace(e: &Engine, s: &mut String) {
    s.push_str("# Keyspace\r\n");
    for (i, db) in e.dbs.iter().enumerate() {
        if !db.is_empty() {
            let _ = write!(s, "db{i}:keys={},expires={},avg_ttl=0\r\n", db.len(), db.expires_len());
        }
    }
}

/// INFO's sections in Redis's order; the flag marks those `default` leaves
/// out and `all`/`everything` include.
const INFO_SECTIONS: &[(&str, bool)] = &[
    ("server", false),
    ("clients", false),
    ("memory", false),
    ("persistence", false),
    ("stats", false),
    ("replication", false),
    ("cpu", false),
    ("modules", false),
    ("commandstats", true),
    ("errorstats", false),
    ("latencystats", true),
    ("cluster", false),
    ("keyspace", false),
];

/// The INFO text for the requested sections (default: all but extras).
pub fn info_text(e: &mut Engine, sections: &[Vec<u8>]) -> String {
    let everything = sections.iter().any(|s| s == b"all" || s == b"everything");
    let default = sections.is_empty() || sections.iter().any(|s| s == b"default");
    let mut s = String::new();
    for &(name, only_in_all) in INFO_SECTIONS {
        let wanted = everything || (default && !only_in_all) || sections.iter().any(|s| s == name.as_bytes());
        if !wanted {
            continue;
        }
        if !s.is_empty() {
            s.push_str("\r\n");
        }
        match name {
            "server" => section_server(e, &mut s),
            "clients" => section_clients(e, &mut s),
            "memory" => section_memory(e, &mut s),
            "persistence" => section_persistence(e, &mut s),
            "stats" => section_stats(e, &mut s),
            "replication" => section_replication(e, &mut s),
            "cpu" => section_cpu(&mut s),
            "modules" => s.push_str("# Modules\r\n"),
            "commandstats" => {
                s.push_str("# Commandstats\r\n");
                let all = e.commands.all();
                e.stats.commands.write_commandstats(|id| all[id].name, &mut s);
            }
            "errorstats" => {
                s.push_str("# Errorstats\r\n");
                e.stats.commands.write_errorstats(&mut s);
            }
            "latencystats" => {
                s.push_str("# Latencystats\r\n");
                if e.config.latency_tracking {
                    let all = e.commands.all();
                    for (name, h) in e.stats.commands.latency_histograms(|id| all[id].name) {
                        let values = h.percentiles_usec(&e.config.latency_tracking_info_percentiles);
                        let _ = write!(s, "latency_percentiles_usec_{name}:{values}\r\n");
                    }
                }
            }
            "cluster" => s.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
            _ => section_keyspace(e, &mut s),
        }
    }
    s
}

fn info(e: &mut Engine, c: &mut Call) {
    let sections: Vec<Vec<u8>> = c.args[1..].iter().map(|a| a.to_ascii_lowercase()).collect();
    let text = info_text(e, &sections);
    c.out.verbatim(&text);
}

const CONFIG_HELP: &[&str] = &[
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
];

/// The `user` lines CONFIG REWRITE writes: every ACL user, unless the
/// users live in an aclfile.
fn config_file_users(e: &Engine) -> String {
    if e.config.aclfile.is_empty() {
        crate::acl::file::render(&e.acl)
    } else {
        String::new()
    }
}

fn config(e: &mut Engine, c: &mut Call) {
    let sub = c.arg(1).to_ascii_lowercase();
    match sub.as_slice() {
        b"get" if c.argc() >= 3 => {
            let pairs = e.config.get_matching(&c.args[2..]);
            c.out.map(pairs.len());
            for (k, v) in pairs {
                c.out.bulk(k.as_bytes());
                c.out.bulk(v.as_bytes());
            }
        }
        b"set" if c.argc() >= 4 => {
            // Parameters come in name/value pairs.
            if !c.argc().is_multiple_of(2) {
                return c.out.error(SYNTAX);
            }
            let mut trial = e.config.clone();
            let mut seen: Vec<Vec<u8>> = Vec::new();
            let local = c.client.is_local();
            for pair in c.args[2..].chunks(2) {
                if let Err(err) = e.config.settable(&String::from_utf8_lossy(pair[0]), local) {
                    return c.out.error(&format!("ERR {err}"));
                }
                // What would swap the files being loaded waits, as in Redis.
                let lower = pair[0].to_ascii_lowercase();
                if e.persistence.loading && matches!(lower.as_slice(), b"dir" | b"appendonly" | b"repl-diskless-load") {
                    return c.out.error(LOADING_ERROR);
                }
                let lower = pair[0].to_ascii_lowercase();
                if seen.contains(&lower) {
                    return c.out.error(&format!(
                        "ERR CONFIG SET failed (possibly related to argument '{}') - duplicate parameter",
                        String::from_utf8_lossy(pair[0])
                    ));
                }
                seen.push(lower);
            }
            for pair in c.args[2..].chunks(2) {
                let (name, value) = (String::from_utf8_lossy(pair[0]), String::from_utf8_lossy(pair[1]));
                if let Err(err) = trial.set_runtime(&name, &value) {
                    return c.out.error(&format!("ERR {err}"));
                }
            }
            let aof_changed = trial.appendonly != e.config.appendonly || trial.appendfsync != e.config.appendfsync;
            if trial.maxmemory != e.config.maxmemory {
                // The estimate is only kept up to date under a limit.
                e.eviction.used.recalibrate();
            }
            if trial.loglevel != e.config.loglevel {
                crate::log::set_level(&trial.loglevel);
            }
            let password_changed = trial.requirepass != e.config.requirepass;
            if trial.client_output_buffer_limit != e.config.client_output_buffer_limit {
                e.requests.push(Request::OutputLimitsChanged);
            }
            e.config = trial;
            if password_changed {
                e.acl.set_default_password(e.config.requirepass.as_deref());
            }
            e.acl.catalog.all_channels_default = e.config.acl_pubsub_default_all;
            if aof_changed {
                e.requests.push(Request::AofConfigChanged);
            }
            c.out.ok();
        }
        b"resetstat" if c.argc() == 2 => {
            e.stats.reset();
            e.persistence.aof_delayed_fsync = 0;
            c.out.ok();
        }
        b"rewrite" if c.argc() == 2 => match e.config.rewrite_file(&config_file_users(e)) {
            Ok(()) => c.out.ok(),
            Err(err) => c.out.error(&format!("ERR {err}")),
        },
        b"help" if c.argc() == 2 => c.out.help(CONFIG_HELP),
        _ => c.subcommand_error(&["get", "set", "resetstat", "rewrite", "help"]),
    }
}

fn time(_: &mut Engine, c: &mut Call) {
    let us = now_us();
    c.out.array(2);
    c.out.bulk_i64(us / 1_000_000);
    c.out.bulk_i64(us % 1_000_000);
}

fn shutdown(e: &mut Engine, c: &mut Call) {
    let mut flags = ShutdownFlags::default();
    let (mut save, mut nosave, mut now, mut abort) = (false, false, false, false);
    for i in 1..c.argc() {
        if c.is(i, "SAVE") {
            save = true;
        } else if c.is(i, "NOSAVE") {
            nosave = true;
        } else if c.is(i, "FORCE") {
            flags.force = true;
        } else if c.is(i, "NOW") {
            // There are no replicas to wait for: every shutdown is NOW.
            now = true;
        } else if c.is(i, "ABORT") {
            abort = true;
        } else {
            return c.out.error(SYNTAX);
        }
    }
    if (abort && (save || nosave || now || flags.force)) || (save && nosave) {
        return c.out.error(SYNTAX);
    }
    if abort {
        // A shutdown here never waits for replicas, so none is ever in
        // progress when another command runs.
        return c.out.error("ERR No shutdown in progress.");
    }
    if c.no_block {
        // The re-run of a SHUTDOWN parked below, whose final save failed.
        return c.out.error("ERR Errors trying to SHUTDOWN. Check logs.");
    }
    flags.save = (save || nosave).then_some(save);
    e.requests.push(Request::Shutdown { flags, client: c.client.id });
    // Parked until the shutdown ends: the process exits, or its final save
    // fails and the client gets the error and goes on, as in Redis.
    c.block_on(Vec::new(), None);
}

fn bgsave(e: &mut Engine, c: &mut Call) {
    let schedule = match c.argc() {
        1 => false,
        2 if c.is(1, "SCHEDULE") => true,
        _ => return c.out.error(SYNTAX),
    };
    if e.persistence.rdb_bgsave_in_progress {
        c.out.error("ERR Background save already in progress");
    } else if e.child_running() {
        if schedule {
            e.persistence.bgsave_scheduled = true;
            c.out.simple("Background saving scheduled");
        } else {
            c.out.error("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
        }
    } else {
        match e.start_bgsave() {
            Ok(()) => c.out.simple("Background saving started"),
            Err(err) => c.out.error(&format!("ERR {err}")),
        }
    }
}

fn save(e: &mut Engine, c: &mut Call) {
    if e.child_running() {
        return c.out.error("ERR Background save already in progress");
    }
    match e.save_now() {
        Ok(_) => c.out.ok(),
        Err(err) => c.out.error(&format!("ERR {err}")),
    }
}

fn lastsave(e: &mut Engine, c: &mut Call) {
    c.out.int(e.persistence.rdb_last_save_time);
}

fn bgrewriteaof(e: &mut Engine, c: &mut Call) {
    if e.persistence.aof_rewrite_in_progress {
        c.out.error("ERR Background append only file rewriting already in progress");
    } else if e.child_running() {
        e.persistence.aof_rewrite_scheduled = true;
        c.out.simple("Background append only file rewriting scheduled");
    } else {
        match e.start_rewrite() {
            Ok(()) => c.out.simple("Background append only file rewriting started"),
            Err(_) => c.out.error(
                "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.",
            ),
        }
    }
}

fn role(_: &mut Engine, c: &mut Call) {
    c.out.array(3);
    c.out.bulk(b"master");
    c.out.int(0);
    c.out.array(0);
}

/// WAIT numreplicas timeout (ms). With no replicas no write is ever
/// acknowledged, so the answer is always 0: at once when no acknowledgement
/// is asked for (numreplicas <= 0) or inside EXEC (Redis's CLIENT_MULTI
/// case), else after the client has been blocked until the timeout (0 =
/// forever), as Redis 7.0's waitCommand does. A timed-out client is run
/// again with `no_block` set, which answers the 0.
fn wait(e: &mut Engine, c: &mut Call) {
    const ACKNOWLEDGED: i64 = 0;
    let Some(numreplicas) = c.int_arg(1) else { return };
    let timeout = match parse_i64(c.arg(2)) {
        None => return c.out.error("ERR timeout is not an integer or out of range"),
        Some(ms) if ms < 0 => return c.out.error("ERR timeout is negative"),
        Some(ms) => ms,
    };
    if ACKNOWLEDGED >= numreplicas || c.no_block {
        return c.out.int(ACKNOWLEDGED);
    }
    // Redis adds the clock to the timeout without an overflow check; a sum
    // past the range never times out there either.
    let deadline = (timeout > 0).then(|| e.now.saturating_add(timeout));
    c.block_on(Vec::new(), deadline);
}
