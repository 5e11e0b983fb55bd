//! The snapshot supervisor: watches persistence children. It learns of a
//! fork from the keyspace, of exits through SIGCHLD (forwarded by the signal
//! actor), reaps with waitpid(WNOHANG) in a loop so no zombie is left, and
//! reports outcome, duration and copy-on-write size.

use crate::actors::aof_writer::AofWriter;
use crate::actors::keyspace::Keyspace;
use crate::actors::messages::{AofRewriteDone, ChildExited, ChildStarted, KillChild, Sigchld};
use actix::prelude::*;
use forkv::engine::persist::{ChildExit, ChildInfo, ChildKind};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use slog::{info, warn, Logger};
use std::collections::HashMap;

pub struct Supervisor {
    keyspace: Addr<Keyspace>,
    writer: Addr<AofWriter>,
    log: Logger,
    children: HashMap<i32, ChildInfo>,
    /// Exits reaped before the keyspace's ChildStarted arrived.
    early_exits: HashMap<i32, WaitStatus>,
}

impl Supervisor {
    pub fn new(keyspace: Addr<Keyspace>, writer: Addr<AofWriter>, log: Logger) -> Supervisor {
        Supervisor { keyspace, writer, log, children: HashMap::new(), early_exits: HashMap::new() }
    }

    fn finished(&mut self, info: ChildInfo, status: WaitStatus) {
        let ok = matches!(status, WaitStatus::Exited(_, 0));
        let cancelled = matches!(status, WaitStatus::Signaled(_, nix::sys::signal::Signal::SIGUSR1, _));
        let duration_ms = forkv::util::now_ms() - info.started_ms;
        let cow_bytes = forkv::fork::read_report(info.report);
        match status {
            WaitStatus::Signaled(_, sig, _) => {
                warn!(self.log, "Background child terminated by signal"; "pid" => info.pid, "signal" => format!("{sig:?}"))
            }
            WaitStatus::Exited(_, code) if code != 0 => {
                warn!(self.log, "Background child failed"; "pid" => info.pid, "exit_code" => code)
            }
            _ => {}
        }
        match info.kind {
            ChildKind::Snapshot => {
                if ok {
                    info!(self.log, "Background saving terminated with success"; "pid" => info.pid, "duration_ms" => duration_ms, "cow_bytes" => cow_bytes);
                } else {
                    let _ = std::fs::remove_file(&info.temp);
                    warn!(self.log, "Background saving error; the previous snapshot is kept"; "pid" => info.pid, "cancelled" => cancelled);
                }
            }
            ChildKind::AofRewrite => {
                info!(self.log, "Background AOF rewrite child exited"; "pid" => info.pid, "ok" => ok, "duration_ms" => duration_ms, "cow_bytes" => cow_bytes);
                if !ok {
                    let _ = std::fs::remove_file(&info.temp);
                }
            }
        }
        let exited = ChildExited(ChildExit { pid: info.pid, kind: info.kind, ok, cancelled, cow_bytes, duration_ms });
        match info.kind {
            ChildKind::Snapshot => self.keyspace.do_send(exited),
            ChildKind::AofRewrite => self.writer.do_send(AofRewriteDone { temp: info.temp, exited }),
        }
    }
}

impl Actor for Supervisor {
    type Context = Context<Self>;
}

impl Handler<ChildStarted> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: ChildStarted, _: &mut Context<Self>) {
        let info = msg.0;
        info!(self.log, "Background child started"; "pid" => info.pid, "kind" => format!("{:?}", info.kind));
        // Children the keyspace killed and reaped itself (FLUSHALL) never
        // reach waitpid here: forget those that are gone.
        self.children.retain(|&pid, _| nix::sys::signal::kill(Pid::from_raw(pid), None).is_ok());
        match self.early_exits.remove(&info.pid) {
            Some(status) => self.finished(info, status),
            None => {
                self.children.insert(info.pid, info);
            }
        }
    }
}

impl Handler<Sigchld> for Supervisor {
    type Result = ();

    fn handle(&mut self, _: Sigchld, _: &mut Context<Self>) {
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(status) => {
                    let Some(pid) = status.pid() else { continue };
                    match self.children.remove(&pid.as_raw()) {
                        Some(info) => self.finished(info, status),
                        None => {
                            // Keep only a few: unknown children are not ours to wait for.
                            if self.early_exits.len() < 64 {
                                self.early_exits.insert(pid.as_raw(), status);
                            }
                        }
                    }
                }
            }
        }
    }
}

impl Handler<KillChild> for Supervisor {
    type Result = ();

    fn handle(&mut self, _: KillChild, _: &mut Context<Self>) {
        for (pid, info) in self.children.drain() {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
            let _ = waitpid(Pid::from_raw(pid), None);
            let _ = std::fs::remove_file(&info.temp);
            info!(self.log, "Killed the running background child"; "pid" => pid);
        }
    }
}
