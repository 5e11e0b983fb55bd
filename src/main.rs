//! forkv: a Redis-compatible in-memory data server.
//!
//! `forkv [config-file] [--directive value ...]` starts the server;
//! `forkv check-aof [--fix] FILE` and `forkv check-rdb FILE` inspect files.

#[path = "../actors/mod.rs"]
mod actors;

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use actix::prelude::*;
use actix::ArbiterHandle;
use actors::aof_writer::AofWriter;
use actors::busy_script::BusyBoard;
use actors::keyspace::Keyspace;
use actors::listener::{Limits, Listener};
use actors::messages::Attach;
use actors::signals::SignalWatcher;
use actors::supervisor::Supervisor;
use forkv::config::Config;
use forkv::engine::Engine;
use slog::{error, info};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("check-aof") => std::process::exit(check_aof(&args[1..])),
        Some("check-rdb") => std::process::exit(check_rdb(&args[1..])),
        Some("--version" | "-v") => {
            println!(
                "forkv {} (Redis {} compatible)",
                env!("CARGO_PKG_VERSION"),
                forkv::commands::server::REDIS_VERSION
            );
            return;
        }
        _ => {}
    }
    // Defaults < config file < FORKV_<DIRECTIVE> environment < --directive.
    let (config, warnings) = match Config::from_sources(&args, std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("*** FATAL CONFIG FILE ERROR (forkv {}) ***\n{e}", env!("CARGO_PKG_VERSION"));
            std::process::exit(1);
        }
    };
    let log = forkv::log::build(&config.log_format, &config.loglevel);
    for w in warnings {
        slog::warn!(log, "{}", w);
    }
    let code = run(config, log);
    forkv::log::flush();
    std::process::exit(code);
}

/// A panic on any actor thread would leave the others running without it
/// (a keyspace that never answers): log it and abort instead, so a
/// supervisor restarts the server and it recovers from its files.
fn abort_on_panic() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        eprintln!("forkv: internal error, aborting: {info}");
        std::process::abort();
    }));
}

fn run(config: Config, log: slog::Logger) -> i32 {
    abort_on_panic();
    info!(log, "forkv is starting"; "version" => env!("CARGO_PKG_VERSION"), "pid" => std::process::id(), "port" => config.port);
    let file = config.config_file.as_ref().map(|p| p.display().to_string());
    info!(log, "Configuration loaded"; "config_file" => file.unwrap_or_else(|| "none".into()), "dir" => config.dir.display().to_string(), "bind" => config.bind.join(" "), "appendonly" => if config.appendonly { "yes" } else { "no" }, "appendfsync" => config.appendfsync.name(), "save" => config.get("save").unwrap_or_default(), "loglevel" => config.loglevel.as_str());
    if let Err(e) = std::env::set_current_dir(&config.dir) {
        error!(log, "Can't chdir to the configured dir"; "dir" => config.dir.display().to_string(), "error" => e.to_string());
        return 1;
    }
    if !config.pidfile.is_empty() {
        let _ = std::fs::write(&config.pidfile, format!("{}\n", std::process::id()));
    }
    if config.appendonly && !adopt_redis7_aof(&config, &log) {
        return 1;
    }
    let system = System::new();
    let started = system.block_on(async {
        let limits = Limits {
            max_bulk_len: config.proto_max_bulk_len as usize,
            query_buffer_limit: config.client_query_buffer_limit as usize,
        };
        let mut engine = Engine::new(config.clone());
        if let Err(e) = engine.apply_renames() {
            error!(log, "Aborting startup because of a bad rename-command"; "error" => e);
            forkv::log::flush();
            std::process::exit(1);
        }
        if let Err(e) = engine.load_configured_users() {
            error!(log, "Aborting startup because of ACL errors"; "error" => e);
            forkv::log::flush();
            std::process::exit(1);
        }
        let keyspace_log = log.clone();
        let keyspace_arbiter = Arbiter::new();
        let keyspace =
            Keyspace::start_in_arbiter(&keyspace_arbiter.handle(), move |_| Keyspace::new(engine, keyspace_log));
        // The writer shares the keyspace's thread as Redis's main thread does
        // its own write(2): a reply waiting on it crosses no thread. fsync has
        // a thread of its own (Redis's bio thread).
        let fsync_arbiter = Arbiter::new();
        let writer =
            AofWriter::start(&keyspace_arbiter.handle(), &fsync_arbiter.handle(), keyspace.clone(), log.clone());
        let supervisor = Supervisor::new(keyspace.clone(), writer.clone(), log.clone()).start();
        let io: Vec<ArbiterHandle> = if config.io_threads <= 1 {
            vec![keyspace_arbiter.handle()]
        } else {
            (0..config.io_threads).map(|_| Arbiter::new().handle()).collect()
        };
        let (board, kill_requests) = BusyBoard::new();
        let listener = Listener::start(
            (&config.bind, config.port, config.tcp_backlog),
            keyspace.clone(),
            limits,
            log.clone(),
            (io, board.clone()),
        )?;
        SignalWatcher::start(keyspace.clone(), supervisor.clone(), (listener.clone(), board.clone()), log.clone())?;
        keyspace.do_send(Attach { writer, supervisor, listener, busy: (board, kill_requests) });
        Ok::<(), std::io::Error>(())
    });
    if let Err(e) = started {
        error!(log, "Failed listening"; "bind" => config.bind.join(" "), "port" => config.port, "error" => e.to_string());
        return 1;
    }
    info!(log, "Ready to accept connections tcp"; "port" => config.port);
    match system.run() {
        Ok(()) => 0,
        Err(e) => {
            error!(log, "actor system failed"; "error" => e.to_string());
            1
        }
    }
}

/// A Redis 7 AOF (manifest and parts in `appenddirname`) where forkv's own
/// file is missing becomes forkv's file before loading; false if that
/// failed, and forkv must not start without the data.
fn adopt_redis7_aof(config: &Config, log: &slog::Logger) -> bool {
    let dir_name = config.get("appenddirname").unwrap_or_default();
    match forkv::aof::redis7::adopt(std::path::Path::new("."), &dir_name, &config.appendfilename) {
        Ok(None) => true,
        Ok(Some(a)) => {
            info!(log, "Copied a Redis 7 multi-part AOF into forkv's single-file AOF; the Redis directory is left as it was";
                "manifest" => a.manifest.display().to_string(), "files" => a.files, "bytes" => a.bytes, "aof" => &config.appendfilename);
            true
        }
        Err(e) => {
            error!(log, "Can't take over the Redis 7 AOF; not starting without its data"; "dir" => dir_name, "error" => e.to_string());
            false
        }
    }
}

/// `forkv check-aof [--fix] FILE`: checks the RDB preamble, if any (as
/// check-rdb does), then the commands; reports damage and, with --fix,
/// truncates the commands to the last valid one.
fn check_aof(args: &[String]) -> i32 {
    use forkv::aof::reader::{check_file, AofError, CheckError};
    let (fix, path) = match args {
        [flag, path] if flag == "--fix" => (true, path),
        [path] => (false, path),
        _ => {
            eprintln!("Usage: forkv check-aof [--fix] <file.aof>");
            return 1;
        }
    };
    let report = match check_file(std::path::Path::new(path), fix) {
        Ok(report) => report,
        Err(e @ CheckError::Preamble(_)) => {
            println!("AOF {path} is not valid: {e}");
            println!("Only the commands after the preamble can be truncated: the file was left as it is; restore it from a backup");
            return 1;
        }
        Err(CheckError::Io(e)) => {
            eprintln!("Cannot read {path}: {e}");
            return 1;
        }
    };
    if let Some(rdb) = &report.preamble {
        print!("{rdb}");
        println!("RDB preamble is OK ({} bytes), proceeding with the commands after it", rdb.bytes);
    }
    match report.error {
        None => {
            println!("AOF {path} is valid: {} commands, {} bytes", report.commands, report.size);
            0
        }
        Some(e) => {
            println!("AOF {path} is not valid: {e} ({} valid commands)", report.commands);
            match (fix, e) {
                (true, AofError::Truncated { valid_up_to } | AofError::Corrupt { valid_up_to, .. }) => {
                    println!("Successfully truncated AOF {path} to {valid_up_to} bytes");
                    0
                }
                (false, AofError::Truncated { .. } | AofError::Corrupt { .. }) => {
                    println!("Run `forkv check-aof --fix {path}` to truncate it to the last valid command");
                    1
                }
                (_, AofError::Io(_)) => 1,
            }
        }
    }
}

/// `forkv check-rdb FILE`: verifies a snapshot, checksum included.
fn check_rdb(args: &[String]) -> i32 {
    let [path] = args else {
        eprintln!("Usage: forkv check-rdb <dump.rdb>");
        return 1;
    };
    match forkv::rdb::check_rdb(path) {
        Ok(report) => {
            println!("{report}");
            println!("RDB {path} looks OK");
            0
        }
        Err(e) => {
            println!("RDB {path} is not valid: {e}");
            1
        }
    }
}
