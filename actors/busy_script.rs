//! A script past `busy-reply-threshold` keeps the keyspace thread, and the
//! connections that live on it, inside the script. What other threads
//! need to answer clients meanwhile: a board that says whether a script is
//! busy, and a channel of kill requests that the script reads when it
//! checks in. The keyspace's side is `Watch`, the core's `ScriptWatch`.

use crate::actors::keyspace::Keyspace;
use crate::actors::messages::{KillReply, ShutdownAfterScript};
use actix::prelude::*;
use bytes::Bytes;
use forkv::script_busy::{ScriptWatch, NOTBUSY};
use slog::{warn, Logger};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;

const IDLE: u8 = 0;
const EVAL: u8 = 1;
const FUNCTION: u8 = 2;

/// Which kind of script is busy: each has its own -BUSY text and kill command.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BusyScript {
    Eval,
    Function,
}

impl BusyScript {
    /// Redis's reply to any other command meanwhile.
    pub fn busy_reply(self) -> &'static [u8] {
        match self {
            BusyScript::Eval => {
                b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
            }
            BusyScript::Function => {
                b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"
            }
        }
    }
}

/// NOTBUSY as a reply.
pub fn notbusy_reply() -> Bytes {
    Bytes::from(format!("-{NOTBUSY}\r\n"))
}

/// What a client asked of the busy script.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum KillKind {
    ScriptKill,
    FunctionKill,
    ShutdownNoSave,
    /// SIGTERM or SIGINT: the keyspace has a `Shutdown` queued already.
    Signal,
}

/// A kill request, answered to `reply` (a client's) with its `seq`.
pub struct KillRequest {
    pub kind: KillKind,
    /// The busy period it was made in: a request that outlives it must not
    /// kill a later script.
    pub generation: u64,
    pub seq: u64,
    pub reply: Option<Recipient<KillReply>>,
}

/// The shared state: written by the keyspace thread, read by the others.
pub struct BusyBoard {
    state: AtomicU8,
    generation: AtomicU64,
    /// Whether a client must authenticate first (it cannot while busy).
    auth_required: AtomicBool,
    kills: Sender<KillRequest>,
}

impl BusyBoard {
    /// The board, and the receiving end of its kill requests for the `Watch`.
    pub fn new() -> (Arc<BusyBoard>, Receiver<KillRequest>) {
        let (kills, requests) = channel();
        let board = BusyBoard {
            state: AtomicU8::new(IDLE),
            generation: AtomicU64::new(0),
            auth_required: AtomicBool::new(false),
            kills,
        };
        (Arc::new(board), requests)
    }

    /// The busy script, if one is, and its busy period.
    pub fn running(&self) -> Option<(BusyScript, u64)> {
        let script = match self.state.load(Ordering::Acquire) {
            EVAL => BusyScript::Eval,
            FUNCTION => BusyScript::Function,
            _ => return None,
        };
        Some((script, self.generation.load(Ordering::Acquire)))
    }

    pub fn auth_required(&self) -> bool {
        self.auth_required.load(Ordering::Acquire)
    }

    pub fn request_kill(&self, request: KillRequest) {
        // The receiver lives as long as the keyspace: a failed send means
        // the server is going away.
        let _ = self.kills.send(request);
    }
}

/// The keyspace's side: publishes the busy state and answers kill requests.
pub struct Watch {
    board: Arc<BusyBoard>,
    requests: Receiver<KillRequest>,
    keyspace: Addr<Keyspace>,
    log: Logger,
}

impl Watch {
    pub fn new(board: Arc<BusyBoard>, requests: Receiver<KillRequest>, keyspace: Addr<Keyspace>, log: Logger) -> Watch {
        Watch { board, requests, keyspace, log }
    }

    /// Redis's scriptKill: whether `kind` stops the running script, and
    /// the reply (none for a shutdown).
    fn verdict(&self, kind: KillKind, wrote: bool) -> (bool, Option<Bytes>) {
        let Some((running, _)) = self.board.running() else {
            return (false, Some(notbusy_reply()));
        };
        let reply = |bytes: &'static [u8]| Some(Bytes::from_static(bytes));
        match (kind, running) {
            (KillKind::ShutdownNoSave | KillKind::Signal, _) => (true, None),
            _ if wrote => (
                false,
                reply(b"-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n"),
            ),
            (KillKind::ScriptKill, BusyScript::Function) | (KillKind::FunctionKill, BusyScript::Eval) => {
                (false, reply(running.busy_reply()))
            }
            _ => (true, reply(b"+OK\r\n")),
        }
    }
}

impl ScriptWatch for Watch {
    fn busy(&mut self, function: bool, auth_required: bool) {
        self.board.auth_required.store(auth_required, Ordering::Release);
        self.board.generation.fetch_add(1, Ordering::AcqRel);
        self.board.state.store(if function { FUNCTION } else { EVAL }, Ordering::Release);
        let kill = if function { "FUNCTION KILL" } else { "SCRIPT KILL" };
        warn!(self.log, "Slow script detected: still in execution after the busy-reply-threshold. You can try killing the script using the {kill} command.");
    }

    fn must_stop(&mut self, wrote: bool) -> bool {
        let generation = self.board.generation.load(Ordering::Acquire);
        let mut stop = false;
        while let Ok(request) = self.requests.try_recv() {
            let (kills, reply) = if request.generation == generation {
                self.verdict(request.kind, wrote)
            } else {
                (false, Some(notbusy_reply()))
            };
            match request.kind {
                KillKind::ShutdownNoSave if kills => {
                    warn!(self.log, "Lua script stopped by SHUTDOWN NOSAVE.");
                    self.keyspace.do_send(ShutdownAfterScript);
                }
                KillKind::Signal if kills => warn!(self.log, "Lua script stopped to shut down."),
                _ if kills => warn!(self.log, "Lua script killed by user with SCRIPT KILL."),
                _ => {}
            }
            if let (Some(to), Some(reply)) = (&request.reply, reply) {
                to.do_send(KillReply { seq: request.seq, reply });
            }
            stop |= kills;
        }
        stop
    }

    fn idle(&mut self) {
        self.board.state.store(IDLE, Ordering::Release);
        // Requests that came too late find no script to stop.
        self.must_stop(false);
    }
}
