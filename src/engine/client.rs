//! Per-connection state the keyspace keeps: selected db, protocol, auth,
//! transaction, subscriptions and blocking.

use super::pubsub::Sub;
use crate::reply::Reply;
use crate::resp::Batch;

pub type ClientId = u64;

/// A command kept for later (queued in MULTI, or waiting while blocked).
pub type OwnedCommand = Vec<Vec<u8>>;

#[derive(Default)]
pub struct Client {
    pub id: ClientId,
    pub addr: String,
    pub laddr: String,
    pub name: Option<Vec<u8>>,
    pub db: usize,
    pub resp3: bool,
    pub authenticated: bool,
    /// Its ACL user (the default user until AUTH names another).
    pub user: crate::acl::UserId,
    pub created_ms: i64,
    pub last_active_ms: i64,
    pub last_cmd: String,
    /// Commands queued after MULTI; `multi_error` once one failed to queue.
    pub multi: Option<Vec<OwnedCommand>>,
    pub multi_error: bool,
    pub watched: Vec<(usize, Vec<u8>)>,
    pub channels: Vec<Vec<u8>>,
    pub patterns: Vec<Vec<u8>>,
    /// SSUBSCRIBE's shard channels.
    pub shard_channels: Vec<Vec<u8>>,
    /// The blocking command waiting for data, and when it gives up.
    pub blocked: Option<Blocked>,
    /// Its next command waits for a CLIENT PAUSE to end.
    pub paused: bool,
    /// Commands of the batch that arrived after the blocking command.
    pub pending: std::collections::VecDeque<Batch>,
    pub closing: bool,
    /// Sees every command run (MONITOR).
    pub monitor: bool,
    /// The AOF loader's pseudo client.
    pub loader: bool,
    /// The pseudo client a script's redis.call runs as (Redis's CLIENT_SCRIPT).
    pub script: bool,
    pub reply_mode: ReplyMode,
}

/// CLIENT REPLY: whether the client gets replies (and messages).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReplyMode {
    #[default]
    On,
    Off,
    /// CLIENT REPLY SKIP is running: the command after it goes unanswered.
    SkipNext,
    /// This command goes unanswered.
    Skip,
}

pub struct Blocked {
    pub command: OwnedCommand,
    pub keys: Vec<Vec<u8>>,
    pub db: usize,
    /// Absolute deadline in ms; None waits forever.
    pub deadline: Option<i64>,
}

impl Client {
    pub fn new(id: ClientId, addr: String, laddr: String, now_ms: i64, needs_auth: bool) -> Client {
        Client {
            id,
            addr,
            laddr,
            created_ms: now_ms,
            last_active_ms: now_ms,
            authenticated: !needs_auth,
            ..Default::default()
        }
    }

    /// After a command has finished (a blocking one: once it has its
    /// reply): drops its output from `start` but for pub/sub pushes under
    /// CLIENT REPLY OFF or SKIP, and moves SKIP on to the next command, as
    /// Redis's resetClient.
    #[cold]
    pub fn settle_reply(&mut self, out: &mut Reply, start: usize) {
        if matches!(self.reply_mode, ReplyMode::Off | ReplyMode::Skip) {
            out.silence_from(start);
        } else {
            out.untrack_pushes();
        }
        self.reply_mode = match self.reply_mode {
            ReplyMode::SkipNext => ReplyMode::Skip,
            ReplyMode::Skip => ReplyMode::On,
            mode => mode,
        };
    }

    /// Connected from 127.0.0.1 or ::1, Redis's test for the `local`
    /// setting of the protected actions.
    pub fn is_local(&self) -> bool {
        is_loopback(&self.addr)
    }

    pub fn subscribed_to(&self, kind: Sub) -> &Vec<Vec<u8>> {
        match kind {
            Sub::Channel => &self.channels,
            Sub::Pattern => &self.patterns,
            Sub::Shard => &self.shard_channels,
        }
    }

    pub fn subscribed_to_mut(&mut self, kind: Sub) -> &mut Vec<Vec<u8>> {
        match kind {
            Sub::Channel => &mut self.channels,
            Sub::Pattern => &mut self.patterns,
            Sub::Shard => &mut self.shard_channels,
        }
    }

    /// The count a (un)subscribe confirmation of `kind` carries: Redis
    /// counts channels and patterns together, shard channels apart.
    pub fn subscription_count(&self, kind: Sub) -> usize {
        match kind {
            Sub::Channel | Sub::Pattern => self.channels.len() + self.patterns.len(),
            Sub::Shard => self.shard_channels.len(),
        }
    }

    /// Subscriptions of every kind: while there are any, the client is in
    /// pub/sub mode (Redis's CLIENT_PUBSUB).
    pub fn subscriptions(&self) -> usize {
        self.channels.len() + self.patterns.len() + self.shard_channels.len()
    }

    /// Its class for client-output-buffer-limit (Redis's getClientType):
    /// pubsub while subscribed, in either protocol; MONITOR clients are
    /// normal ones in Redis too, and forkv has no replicas.
    pub fn output_class(&self) -> crate::output_limit::Class {
        if self.subscriptions() > 0 {
            crate::output_limit::Class::PubSub
        } else {
            crate::output_limit::Class::Normal
        }
    }

    /// In RESP2 a subscribed client may only run subscription commands.
    pub fn in_pubsub_mode(&self) -> bool {
        !self.resp3 && self.subscriptions() > 0
    }
}

/// Whether a peer address (`ip:port`) is 127.0.0.1 or ::1.
pub fn is_loopback(addr: &str) -> bool {
    let ip = addr.parse::<std::net::SocketAddr>().map(|a| a.ip());
    ip.is_ok_and(|ip| ip == std::net::Ipv4Addr::LOCALHOST || ip == std::net::Ipv6Addr::LOCALHOST)
}
