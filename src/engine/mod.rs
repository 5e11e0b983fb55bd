//! Command execution over the keyspace, free of any actor or I/O: the
//! keyspace actor feeds it batches and forwards what it produces (replies,
//! messages for other clients, AOF records, requests for persistence work).

mod acl;
mod blocking;
mod call;
pub mod client;
pub mod command_stats;
mod dispatch;
pub mod key_finders;
mod keyspace;
pub mod latency;
pub mod latency_histogram;
pub mod maxmemory;
mod monitor;
pub mod notify;
pub mod pause;
pub mod persist;
mod propagate;
mod pubsub;
pub mod slowlog;
pub mod stats;
pub mod table;
pub mod tracking;
mod watch;

pub use blocking::Blocking;
pub use call::{BlockRequest, Call, LOADING_ERROR, NOT_FLOAT, NOT_INTEGER, SYNTAX};
pub use client::{Client, ClientId, OwnedCommand, ReplyMode};
pub use dispatch::BatchOutput;
pub use keyspace::Lookup;
pub use propagate::Propagator;
pub use pubsub::{PubSub, Sub};
pub use stats::{PersistenceInfo, Stats};
pub use watch::Watches;

use crate::config::Config;
use crate::store::Db;
use crate::util::Rng;
use bytes::Bytes;
use std::collections::HashMap;
use table::CommandTable;

/// Something for a client other than the one whose batch is running.
pub enum Outbound {
    Data(Bytes),
    Close,
}

/// Work only the actor layer can do, or must learn of, produced by commands
/// and cron, handled in order after each keyspace message.
#[derive(Debug)]
pub enum Request {
    /// A persistence child was forked; the supervisor watches it.
    ChildStarted(persist::ChildInfo),
    /// A rewrite fork happened after the records in `before` (which belong
    /// to the old file's part covered by the child's base).
    AofRewriteStart { before: bytes::BytesMut },
    /// DEBUG RELOAD / LOADAOF from `client`, parked until the dataset is
    /// loaded again.
    Reload { client: ClientId, from: Reload },
    /// SHUTDOWN from `client`, parked until it ends.
    Shutdown { flags: crate::config::ShutdownFlags, client: ClientId },
    /// CONFIG SET changed appendonly or appendfsync.
    AofConfigChanged,
    /// Something went wrong that the operator must see in the log (a fork
    /// that failed), whether or not a client is told.
    Warn(String),
    /// A CLIENT PAUSE lasts until this time (ms): wake then to end it.
    PauseUntil(i64),
    /// A command moved the client to another class of
    /// client-output-buffer-limit: its connection needs that class's limit.
    OutputClass { id: ClientId, class: crate::output_limit::Class },
    /// CONFIG SET changed client-output-buffer-limit.
    OutputLimitsChanged,
}

/// What DEBUG RELOAD (the snapshot just saved) or DEBUG LOADAOF (the AOF,
/// once all its records are written) loads the dataset from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    /// `flush`: empty the dataset first; `merge`: libraries in the file
    /// replace those of the same name (DEBUG RELOAD NOFLUSH MERGE).
    Snapshot {
        flush: bool,
        merge: bool,
    },
    Aof,
}

pub struct Engine {
    pub dbs: Vec<Db>,
    pub config: Config,
    pub stats: Stats,
    pub persistence: PersistenceInfo,
    /// Changes since the last successful save (rdb_changes_since_last_save).
    pub dirty: u64,
    pub rng: Rng,
    /// The cached clock for the running command, as Redis caches mstime.
    pub now: i64,
    pub start_ms: i64,
    pub clients: HashMap<ClientId, Box<Client>>,
    pub blocking: Blocking,
    pub pubsub: PubSub,
    pub watches: Watches,
    pub outbox: Vec<(ClientId, Outbound)>,
    pub monitors: monitor::Monitors,
    pub aof: Propagator,
    pub requests: Vec<Request>,
    pub commands: CommandTable,
    /// A fork child shares the pages: keep tables from resizing.
    pub child_active: bool,
    pub tcp_port: u16,
    pub run_id: String,
    /// The pseudo client AOF commands are replayed as.
    pub loader: Box<Client>,
    /// Clients taken out of `clients` while their commands run.
    pub detached: usize,
    /// The reply buffer (by address) and its error count when the last
    /// call ended, for the failed_calls of the call around it (EXEC).
    inner_errors_mark: Option<(usize, usize)>,
    /// DEBUG SET-ACTIVE-EXPIRE: off, keys past their TTL go only when read.
    pub active_expire_enabled: bool,
    /// DEBUG PAUSE-CRON: the periodic work is skipped while set.
    pub cron_paused: bool,
    /// How the reload a parked DEBUG RELOAD/LOADAOF waited for ended: its
    /// client, and the error if it failed (read by the command's re-run).
    pub reloaded: Option<(ClientId, Result<(), String>)>,
    pub slowlog: slowlog::SlowLog,
    pub latency: latency::LatencyMonitor,
    /// Times each command for INFO commandstats: the CPU's counter, a
    /// third of the cost of a clock_gettime pair on this kind of VM.
    pub clock: quanta::Clock,
    /// Lua scripts by SHA1 (EVAL, SCRIPT LOAD).
    pub scripts: crate::scripting::ScriptCache,
    /// Function libraries (FUNCTION LOAD, FCALL).
    pub functions: crate::functions::Libraries,
    pub eviction: maxmemory::Eviction,
    pub pause: pause::Pause,
    /// A write command is running (lazy expiry deletes even while paused).
    pub writing: bool,
    /// Users and their permissions (ACL).
    pub acl: crate::acl::Acl,
    /// MIGRATE's cached connections to target instances.
    pub migrate_links: crate::commands::migrate::Links,
    /// Client-side caching: tracked keys, BCAST prefixes (CLIENT TRACKING).
    pub tracking: tracking::Tracking,
    /// Where a script running past `busy-reply-threshold` checks in; None
    /// where nothing else can answer clients meanwhile.
    pub script_watch: Option<Box<dyn crate::script_busy::ScriptWatch>>,
}

/// Redis 7.0's reply to a client refused by protected mode.
const PROTECTED_MODE_DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

impl Engine {
    pub fn new(config: Config) -> Engine {
        let now = crate::util::now_ms();
        let mut rng = Rng::seeded();
        let run_id = (0..40).map(|_| char::from_digit(rng.below(16) as u32, 16).unwrap_or('0')).collect();
        let commands = CommandTable::new(crate::commands::GROUPS);
        let mut acl = crate::acl::Acl::new(&commands, config.requirepass.as_deref());
        acl.catalog.all_channels_default = config.acl_pubsub_default_all;
        Engine {
            dbs: (0..config.databases).map(|_| Db::default()).collect(),
            tcp_port: config.port,
            config,
            stats: Stats::default(),
            persistence: PersistenceInfo::default(),
            dirty: 0,
            rng,
            now,
            start_ms: now,
            clients: HashMap::new(),
            blocking: Blocking::default(),
            pubsub: PubSub::default(),
            watches: Watches::default(),
            outbox: Vec::new(),
            monitors: monitor::Monitors::default(),
            aof: Propagator::default(),
            requests: Vec::new(),
            commands,
            child_active: false,
            run_id,
            loader: Box::new(Client { authenticated: true, loader: true, ..Default::default() }),
            detached: 0,
            inner_errors_mark: None,
            active_expire_enabled: true,
            cron_paused: false,
            reloaded: None,
            slowlog: slowlog::SlowLog::default(),
            latency: latency::LatencyMonitor::default(),
            clock: quanta::Clock::new(),
            scripts: Default::default(),
            functions: Default::default(),
            eviction: Default::default(),
            pause: Default::default(),
            writing: false,
            acl,
            migrate_links: Default::default(),
            tracking: Default::default(),
            script_watch: None,
        }
    }

    pub fn can_resize(&self) -> bool {
        !self.child_active
    }

    /// Registers a new connection.
    /// The config file's `rename-command` lines, applied to the command
    /// table before anything runs (the AOF included, as in Redis).
    pub fn apply_renames(&mut self) -> Result<(), String> {
        for (from, to) in &self.config.renames {
            self.commands.rename(from, to).map_err(|e| format!("{e}: rename-command {from} '{to}'"))?;
        }
        Ok(())
    }

    /// Whether a new connection from `addr` may become a client, else the
    /// error it gets before it is closed (Redis's order: `maxclients`, then
    /// protected mode, which refuses clients off the loopback address while
    /// the default user has no password).
    pub fn admit(&mut self, addr: &str) -> Result<(), &'static str> {
        if self.connected_clients() as u64 >= self.config.maxclients {
            self.stats.rejected_connections += 1;
            return Err("-ERR max number of clients reached\r\n");
        }
        if self.config.protected_mode && self.acl.default_nopass() && !client::is_loopback(addr) {
            self.stats.total_connections_received += 1;
            self.stats.rejected_connections += 1;
            return Err(PROTECTED_MODE_DENIED);
        }
        Ok(())
    }

    pub fn connect(&mut self, id: ClientId, addr: String, laddr: String) {
        let client = Client::new(id, addr, laddr, self.now, self.acl.auth_required());
        self.clients.insert(id, Box::new(client));
        self.stats.total_connections_received += 1;
    }

    /// Forgets a connection: its subscriptions, watches and blocking.
    pub fn disconnect(&mut self, id: ClientId) {
        if let Some(client) = self.clients.remove(&id) {
            self.pubsub.remove_client(&client);
            self.monitors.remove(id);
            self.watches.unwatch_all(id, &client.watched);
            if let Some(b) = &client.blocked {
                self.blocking.remove(id, b.db, &b.keys);
            }
            if client.paused {
                self.forget_paused(id);
            }
            self.forget_tracking_client(id);
        }
    }

    /// After a command that may have (un)subscribed `client`, whose class
    /// was `before`: asks for the new class's limit when it changed.
    pub(crate) fn note_output_class(&mut self, client: &Client, before: crate::output_limit::Class) {
        let class = client.output_class();
        if class != before {
            self.requests.push(Request::OutputClass { id: client.id, class });
        }
    }

    pub fn connected_clients(&self) -> usize {
        self.clients.len() + self.detached
    }

    /// Periodic work (hz times a second): expiry, blocked timeouts, stats.
    pub fn cron(&mut self) {
        if self.cron_paused {
            return;
        }
        self.now = crate::util::now_ms();
        self.check_pause_end();
        self.resume_paused();
        self.active_expire_cycle();
        self.persistence_cron();
        self.expire_blocked_clients();
        self.stats.sample(self.now);
        self.maxmemory_cron();
        self.migrate_links.close_idle(self.now / 1000);
        // The limit may have been lowered while no command ran.
        self.limit_tracking_table();
        let can_resize = self.can_resize();
        for db in &mut self.dbs {
            db.maintain(can_resize);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_mode_refuses_remote_clients_while_there_is_no_password() {
        let mut e = Engine::new(Config::default());
        assert_eq!(e.admit("127.0.0.1:4000"), Ok(()));
        assert_eq!(e.admit("[::1]:4000"), Ok(()));
        let refusal = e.admit("10.1.2.3:4000").unwrap_err();
        assert!(refusal.starts_with("-DENIED Redis is running in protected mode"));
        assert_eq!(e.stats.rejected_connections, 1);

        let with_password = Config { requirepass: Some("secret".into()), ..Config::default() };
        assert_eq!(Engine::new(with_password).admit("10.1.2.3:4000"), Ok(()));

        e.config.protected_mode = false;
        assert_eq!(e.admit("10.1.2.3:4000"), Ok(()));
    }

    #[test]
    fn maxclients_is_checked_first() {
        let mut e = Engine::new(Config { maxclients: 1, ..Config::default() });
        e.connect(1, "127.0.0.1:1".into(), "127.0.0.1:2".into());
        assert_eq!(e.admit("127.0.0.1:3"), Err("-ERR max number of clients reached\r\n"));
    }
}
