//! Operator signals through one signal-hook stream: SIGTERM/SIGINT shut down
//! gracefully (a second SIGINT exits at once; a busy script is stopped
//! first, or the keyspace would never hear of it), SIGUSR1 asks for a BGSAVE,
//! SIGCHLD goes to the snapshot supervisor, SIGHUP and SIGPIPE are ignored.
//! Every signal the server uses has a handler, so it behaves the same as PID
//! 1 in a container (where the kernel skips default actions), and the
//! supervisor's waitpid(-1) loop also reaps orphans PID 1 inherits.

use crate::actors::busy_script::{BusyBoard, KillKind, KillRequest};
use crate::actors::keyspace::Keyspace;
use crate::actors::listener::{Listener, StopAccepting};
use crate::actors::messages::{Shutdown, Sigchld, SignalBgSave};
use crate::actors::supervisor::Supervisor;
use actix::prelude::*;
use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGPIPE, SIGTERM, SIGUSR1};
use signal_hook_tokio::Signals;
use slog::{info, warn, Logger};
use std::sync::Arc;

pub struct SignalWatcher {
    keyspace: Addr<Keyspace>,
    supervisor: Addr<Supervisor>,
    listener: Addr<Listener>,
    busy: Arc<BusyBoard>,
    log: Logger,
    shutting_down: bool,
}

impl SignalWatcher {
    pub fn start(
        keyspace: Addr<Keyspace>,
        supervisor: Addr<Supervisor>,
        (listener, busy): (Addr<Listener>, Arc<BusyBoard>),
        log: Logger,
    ) -> std::io::Result<()> {
        let signals = Signals::new([SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGUSR1, SIGCHLD])?;
        SignalWatcher::create(move |ctx| {
            ctx.add_stream(signals);
            SignalWatcher { keyspace, supervisor, listener, busy, log, shutting_down: false }
        });
        Ok(())
    }
}

impl Actor for SignalWatcher {
    type Context = Context<Self>;
}

impl StreamHandler<i32> for SignalWatcher {
    fn handle(&mut self, signal: i32, ctx: &mut Context<Self>) {
        match signal {
            SIGCHLD => self.supervisor.do_send(Sigchld),
            SIGUSR1 => {
                info!(self.log, "Received SIGUSR1: requesting a background save");
                self.keyspace.do_send(SignalBgSave)
            }
            SIGTERM | SIGINT => {
                if self.shutting_down && signal == SIGINT {
                    warn!(self.log, "You insist... exiting now.");
                    forkv::log::flush();
                    std::process::exit(1);
                }
                self.shutting_down = true;
                let reason = if signal == SIGTERM {
                    "Received SIGTERM scheduling shutdown..."
                } else {
                    "Received SIGINT scheduling shutdown..."
                };
                info!(self.log, "{}", reason);
                if let Some((_, generation)) = self.busy.running() {
                    self.busy.request_kill(KillRequest { kind: KillKind::Signal, generation, seq: 0, reply: None });
                }
                // At once, even if the keyspace is busy with a long command;
                // the keyspace hears of the shutdown once nothing new comes in.
                let (listener, keyspace) = (self.listener.clone(), self.keyspace.clone());
                ctx.wait(
                    async move {
                        let _ = listener.send(StopAccepting).await;
                        keyspace.do_send(Shutdown { reason, term: signal == SIGTERM });
                    }
                    .into_actor(self),
                );
            }
            SIGHUP => info!(self.log, "Received SIGHUP: ignored"; "signal" => signal),
            _ => slog::debug!(self.log, "Signal ignored"; "signal" => signal),
        }
    }
}
