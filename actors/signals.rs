//! Operator signals through signal-hook: SIGTERM/SIGINT shut down gracefully
//! (a second SIGINT exits at once), SIGHUP and SIGPIPE are ignored.

use crate::actors::keyspace::Keyspace;
use crate::actors::messages::Shutdown;
use actix::prelude::*;
use signal_hook::consts::{SIGHUP, SIGINT, SIGPIPE, SIGTERM, SIGUSR1};
use signal_hook_tokio::Signals;
use slog::{info, warn, Logger};

pub struct SignalWatcher {
    keyspace: Addr<Keyspace>,
    log: Logger,
    shutting_down: bool,
}

impl SignalWatcher {
    pub fn start(keyspace: Addr<Keyspace>, log: Logger) -> std::io::Result<Addr<SignalWatcher>> {
        let signals = Signals::new([SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGUSR1])?;
        Ok(SignalWatcher::create(move |ctx| {
            ctx.add_stream(signals);
            SignalWatcher { keyspace, log, shutting_down: false }
        }))
    }
}

impl Actor for SignalWatcher {
    type Context = Context<Self>;
}

impl StreamHandler<i32> for SignalWatcher {
    fn handle(&mut self, signal: i32, _: &mut Context<Self>) {
        match signal {
            SIGTERM | SIGINT => {
                if self.shutting_down && signal == SIGINT {
                    warn!(self.log, "You insist... exiting now.");
                    std::process::exit(1);
                }
                self.shutting_down = true;
                let reason = if signal == SIGTERM {
                    "Received SIGTERM scheduling shutdown..."
                } else {
                    "Received SIGINT scheduling shutdown..."
                };
                info!(self.log, "{}", reason);
                self.keyspace.do_send(Shutdown { reason });
            }
            SIGUSR1 => info!(self.log, "Received SIGUSR1"),
            _ => info!(self.log, "Signal ignored"; "signal" => signal),
        }
    }
}
