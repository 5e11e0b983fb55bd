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
mod watch;

pub use blocking::Blocking;
pub use call::{BlockRequest, Call, NOT_FLOAT, NOT_INTEGER, SYNTAX};
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
    AofRewriteStart {
        before: bytes::BytesMut,
    },
    Shutdown {
        save: Option<bool>,
    },
    /// CONFIG SET changed appendonly or appendfsync.
    AofConfigChanged,
    /// Something went wrong that the operator must see in the log (a fork
    /// that failed), whether or not a client is told.
    Warn(String),
    /// A CLIENT PAUSE lasts until this time (ms): wake then to end it.
    PauseUntil(i64),
    /// A command moved the client to another class of
    /// client-output-buffer-limit: its connection needs that class's limit.
    OutputClass {
        id: ClientId,
        class: crate::output_limit::Class,
    },
    /// CONFIG SET changed client-output-buffer-limit.
    OutputLimitsChanged,
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
}

impl Engine {
    pub fn new(config: Config) -> Engine {
        let now = crate::util::now_ms();
        let mut rng = Rng::seeded();
        let run_id = (0..40).map(|_| char::from_digit(rng.below(16) as u32, 16).unwrap_or('0')).collect();
        let commands = CommandTable::new(crate::commands::GROUPS);
        let acl = crate::acl::Acl::new(&commands, config.requirepass.as_deref());
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
            slowlog: slowlog::SlowLog::default(),
            latency: latency::LatencyMonitor::default(),
            clock: quanta::Clock::new(),
            scripts: Default::default(),
            functions: Default::default(),
            eviction: Default::default(),
            pause: Default::default(),
            writing: false,
            acl,
        }
    }

    pub fn can_resize(&self) -> bool {
        !self.child_active
    }

    /// Registers a new connection.
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
        self.now = crate::util::now_ms();
        self.check_pause_end();
        self.resume_paused();
        self.active_expire_cycle();
        self.persistence_cron();
        self.expire_blocked_clients();
        self.stats.sample(self.now);
        self.maxmemory_cron();
        let can_resize = self.can_resize();
        for db in &mut self.dbs {
            db.maintain(can_resize);
        }
    }
}
