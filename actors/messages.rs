//! The typed messages the actors exchange.

use actix::prelude::*;
use bytes::Bytes;
use forkv::engine::ClientId;
use forkv::resp::Batch;

/// Keyspace → connection: bytes to write, or close after what was written.
#[derive(Message)]
#[rtype(result = "()")]
pub enum Deliver {
    Data(Bytes),
    Close,
}

/// Keyspace → connection: the client-output-buffer-limit of the client's
/// class, sent when the class or the config changes (connections start
/// with no limit).
#[derive(Message)]
#[rtype(result = "()")]
pub struct OutputLimit(pub forkv::output_limit::Limit);

/// Connection → keyspace: a new client.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Connect {
    pub id: ClientId,
    pub addr: String,
    pub laddr: String,
    pub deliver: Recipient<Deliver>,
    pub limit: Recipient<OutputLimit>,
}

/// Connection → keyspace: the client's pending output went over its
/// limit, so the connection closed without writing it; a `Disconnect`
/// follows.
#[derive(Message)]
#[rtype(result = "()")]
pub struct OutputLimitReached {
    pub id: ClientId,
}

/// Connection → keyspace: every command decoded from one socket read.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Exec {
    pub id: ClientId,
    pub batch: Batch,
    pub bytes_read: usize,
}

/// Connection → keyspace: the stream could not be parsed; answer with the
/// error after the replies already due, then close.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ProtocolError {
    pub id: ClientId,
    pub message: String,
}

/// Connection → keyspace: the client went away.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Disconnect {
    pub id: ClientId,
}

/// Signals → keyspace: stop serving, persist what the config asks, exit.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Shutdown {
    pub reason: &'static str,
    /// SIGTERM (else SIGINT): which `shutdown-on-sig…` applies.
    pub term: bool,
}

/// Keyspace → AOF writer: records produced by commands, in execution order;
/// `end` is the running total of record bytes sent, including these.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AofAppend {
    pub data: Bytes,
    pub end: u64,
}

/// Keyspace → AOF writer, right before a rewrite fork: everything sent so
/// far is in the base the child will write; later records form the tail.
/// `path` is where the rewritten file goes, also with appendonly off
/// (BGREWRITEAOF writes the file then too, as in Redis).
#[derive(Message)]
#[rtype(result = "()")]
pub struct AofRewriteStart {
    pub path: std::path::PathBuf,
}

/// Keyspace → AOF writer: start logging to the configured file (truncating
/// it when a rewrite will produce its base), with this fsync policy.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AofOpen {
    pub path: std::path::PathBuf,
    pub policy: forkv::config::FsyncPolicy,
    pub truncate: bool,
}

/// Keyspace → AOF writer: appendonly was turned off.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AofClose;

/// Keyspace → AOF writer: write and fsync everything now (shutdown).
#[derive(Message)]
#[rtype(result = "Result<(), String>")]
pub struct AofFlush;

/// Supervisor → AOF writer: the rewrite child exited. The writer passes
/// `exited` on to the keyspace once the new file is installed (or dropped),
/// so INFO shows the rewrite in progress until the swap is over, as Redis.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AofRewriteDone {
    pub temp: std::path::PathBuf,
    pub exited: ChildExited,
}

/// AOF writer → keyspace: records up to `written` are in the file (write
/// returned) and up to `synced` are on disk (fdatasync returned).
#[derive(Message)]
#[rtype(result = "()")]
pub struct AofProgress {
    pub written: u64,
    pub synced: u64,
    pub status: AofStatus,
}

#[derive(Clone, Debug, Default)]
pub struct AofStatus {
    /// The last write or fsync error, cleared once writing works again.
    pub error: Option<String>,
    pub current_size: u64,
    pub base_size: u64,
    pub delayed_fsync: u64,
}

/// AOF writer → keyspace: a rewrite finished (or failed) and the writer
/// carries on with the new (or old) file.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AofRewritten {
    pub ok: bool,
    /// The child was stopped on purpose: the rewrite status is unchanged.
    pub cancelled: bool,
    pub error: Option<String>,
}

/// AOF writer → fsync actor: make the file durable up to `end`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct FsyncRequest {
    pub file: std::sync::Arc<std::fs::File>,
    pub end: u64,
    /// `appendfsync always`: a failed fdatasync ends the process.
    pub exit_on_failure: bool,
}

/// Fsync actor → keyspace: records up to `end` are on disk; the
/// fdatasync took `millis` (for the latency monitor).
#[derive(Message)]
#[rtype(result = "()")]
pub struct AofSynced {
    pub end: u64,
    pub millis: u64,
}

/// Fsync actor → AOF writer: the fsync for `end` returned.
#[derive(Message)]
#[rtype(result = "()")]
pub struct FsyncDone {
    pub end: u64,
    pub result: Result<(), String>,
}

/// Keyspace → AOF writer: appendfsync changed at runtime.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AofSetPolicy(pub forkv::config::FsyncPolicy);

/// Keyspace → supervisor: a persistence child was forked.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ChildStarted(pub forkv::engine::persist::ChildInfo);

/// Signals → supervisor: SIGCHLD arrived; reap what exited.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Sigchld;

/// Keyspace → supervisor at shutdown: kill the running child, drop its file.
#[derive(Message)]
#[rtype(result = "()")]
pub struct KillChild;

/// Supervisor → keyspace (through the AOF writer for a rewrite): a child ended.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ChildExited(pub forkv::engine::persist::ChildExit);

/// Signals → keyspace: SIGUSR1 asks for a BGSAVE.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SignalBgSave;

/// Main → keyspace: the persistence actors it talks to; loading starts now.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Attach {
    pub writer: Addr<crate::actors::aof_writer::AofWriter>,
    pub supervisor: Addr<crate::actors::supervisor::Supervisor>,
    pub listener: Addr<crate::actors::listener::Listener>,
    /// The board other threads read while a script is busy, and its kill requests.
    pub busy: (
        std::sync::Arc<crate::actors::busy_script::BusyBoard>,
        std::sync::mpsc::Receiver<crate::actors::busy_script::KillRequest>,
    ),
}

/// A busy script's watch → connection: the reply to kill request `seq`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct KillReply {
    pub seq: u64,
    pub reply: bytes::Bytes,
}

/// A busy script's watch → keyspace: SHUTDOWN NOSAVE stopped the script;
/// shut down, without saving, once it has returned.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ShutdownAfterScript;
