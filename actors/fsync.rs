//! The fsync actor: runs on a thread of its own (the design's bio thread),
//! so fdatasync never stalls the keyspace or the AOF writer. It tells the
//! keyspace directly which offset is now durable (replies waiting on
//! `appendfsync always` go out one hop sooner), and the writer, which
//! keeps its fsync statistics.
//!
//! Requests that queue up while one fdatasync runs are served by a single
//! next one (group commit): a request only notes the highest offset asked
//! for, and the sync itself runs once the mailbox is drained. When syncs run
//! back to back, the next one first waits out a short gather window after
//! the previous one, so the clients whose replies that sync released can
//! send their next writes and share it — Redis gets the same effect from
//! serving its clients between two fsyncs on one thread.
//!
//! Under `appendfsync always` a failed fdatasync ends the process, as in
//! Redis: the kernel may have dropped the dirty pages it could not write,
//! so a retry would report success for data that is not on disk, and the
//! replies waiting on it would be promises broken.

use crate::actors::aof_writer::AofWriter;
use crate::actors::keyspace::Keyspace;
use crate::actors::messages::{AofSynced, FsyncDone, FsyncRequest};
use actix::prelude::*;
use slog::{error, Logger};
use std::time::{Duration, Instant};

/// How long after one fdatasync the next may start when they run back to
/// back. A lone client's next write, two thread wake-ups and a round trip
/// later, seldom arrives inside it (measured: -c 1 within 2% of no window).
const GATHER_WINDOW: Duration = Duration::from_micros(60);

pub struct Fsync {
    writer: Addr<AofWriter>,
    keyspace: Addr<Keyspace>,
    log: Logger,
    /// The newest request: its file, the highest offset asked for, and
    /// whether a failure must end the process.
    pending: Option<FsyncRequest>,
    last_sync_end: Option<Instant>,
}

impl Fsync {
    pub fn new(writer: Addr<AofWriter>, keyspace: Addr<Keyspace>, log: Logger) -> Fsync {
        Fsync { writer, keyspace, log, pending: None, last_sync_end: None }
    }
}

/// Self-message: sync what the requests handled so far asked for.
#[derive(Message)]
#[rtype(result = "()")]
struct SyncNow;

impl Actor for Fsync {
    type Context = Context<Self>;
}

impl Handler<FsyncRequest> for Fsync {
    type Result = ();

    fn handle(&mut self, msg: FsyncRequest, ctx: &mut Context<Self>) {
        if self.pending.is_none() {
            ctx.notify(SyncNow);
        }
        // Offsets only grow, and a rewritten file holds everything before
        // its swap already synced: the newest request covers the others.
        self.pending = Some(msg);
    }
}

impl Handler<SyncNow> for Fsync {
    type Result = ();

    fn handle(&mut self, _: SyncNow, ctx: &mut Context<Self>) {
        let window_left = self.last_sync_end.map(|t| (t + GATHER_WINDOW).saturating_duration_since(Instant::now()));
        if let Some(wait) = window_left.filter(|w| !w.is_zero()) {
            // Blocking is fine: this thread only syncs. The requests that
            // arrive meanwhile are handled before the SyncNow sent here,
            // which finds the window over (sleep waits at least `wait`).
            std::thread::sleep(wait);
            ctx.notify(SyncNow);
            return;
        }
        let Some(FsyncRequest { file, end, exit_on_failure }) = self.pending.take() else { return };
        let started = Instant::now();
        let result = nix::unistd::fdatasync(&*file).map_err(|e| e.desc().to_string());
        self.last_sync_end = Some(Instant::now());
        if let (Err(e), true) = (&result, exit_on_failure) {
            error!(self.log, "Can't persist AOF for fsync error when the AOF fsync policy is 'always'. Exiting..."; "error" => e);
            forkv::log::flush();
            std::process::exit(1);
        }
        if result.is_ok() {
            let millis = started.elapsed().as_millis() as u64;
            self.keyspace.do_send(AofSynced { end, millis });
        }
        self.writer.do_send(FsyncDone { end, result });
    }
}
