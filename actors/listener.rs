//! The listener actor: accepts connections on the configured addresses and
//! starts a connection actor for each on an I/O arbiter. With `io-threads 1`
//! (the default) that is the keyspace's own arbiter, as Redis's main thread
//! does all I/O: a batch and its replies then cross no thread boundary. On
//! shutdown `StopAccepting` closes the listening sockets, so new connections
//! are refused while the clients already connected finish their commands;
//! `ResumeAccepting` binds again if the shutdown is called off.
//!
//! While a script is busy the keyspace's thread is inside it, so a client
//! that connects then is served here, on the listener's own thread: it can
//! get -BUSY and send SCRIPT KILL (see `busy_script`).

use crate::actors::busy_script::BusyBoard;
use crate::actors::connection::Connection;
use crate::actors::keyspace::Keyspace;
use actix::prelude::*;
use actix::ArbiterHandle;
use forkv::resp::RespDecoder;
use slog::{info, warn, Logger};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::AbortHandle;

/// Limits the decoder enforces for every connection.
#[derive(Clone, Copy)]
pub struct Limits {
    pub max_bulk_len: usize,
    pub query_buffer_limit: usize,
}

/// What an accept loop needs; kept so listening can resume.
#[derive(Clone)]
struct Acceptor {
    addrs: Vec<String>,
    port: u16,
    backlog: i32,
    keyspace: Addr<Keyspace>,
    limits: Limits,
    log: Logger,
    io: Vec<ArbiterHandle>,
    busy: Arc<BusyBoard>,
    next_id: Arc<AtomicU64>,
}

pub struct Listener {
    acceptor: Acceptor,
    loops: Vec<AbortHandle>,
}

impl Actor for Listener {
    type Context = Context<Self>;
}

/// Close the listening sockets; answers how many accept loops were running.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct StopAccepting;

/// Bind and accept again (a shutdown that could not complete).
#[derive(Message)]
#[rtype(result = "()")]
pub struct ResumeAccepting;

impl Listener {
    /// Binds every address first (so startup fails loudly), then starts the
    /// actor that accepts on them.
    pub fn start(
        bind: (&[String], u16, i32),
        keyspace: Addr<Keyspace>,
        limits: Limits,
        log: Logger,
        (io, busy): (Vec<ArbiterHandle>, Arc<BusyBoard>),
    ) -> std::io::Result<Addr<Listener>> {
        let (addrs, port, backlog) = bind;
        let next_id = Arc::new(AtomicU64::new(1));
        let acceptor = Acceptor { addrs: addrs.to_vec(), port, backlog, keyspace, limits, log, io, busy, next_id };
        let mut listener = Listener { acceptor, loops: Vec::new() };
        listener.bind()?;
        Ok(listener.start())
    }

    /// Listens on every address (those `listen` skips aside) or on none.
    fn bind(&mut self) -> std::io::Result<()> {
        let a = &self.acceptor;
        let mut listeners = Vec::new();
        for addr in &a.addrs {
            match forkv::listen::listen(addr, a.port, a.backlog)? {
                Some(std) => listeners.push(TcpListener::from_std(std)?),
                None => warn!(a.log, "Skipping a bind address this host lacks"; "addr" => addr, "port" => a.port),
            }
        }
        self.loops = listeners.into_iter().map(|l| self.acceptor.clone().spawn(l)).collect();
        Ok(())
    }
}

impl Handler<StopAccepting> for Listener {
    type Result = usize;

    fn handle(&mut self, _: StopAccepting, _: &mut Context<Self>) -> usize {
        let loops = std::mem::take(&mut self.loops);
        for h in &loops {
            h.abort();
        }
        if !loops.is_empty() {
            info!(self.acceptor.log, "Stopped accepting new connections"; "listeners_closed" => loops.len());
        }
        loops.len()
    }
}

impl Handler<ResumeAccepting> for Listener {
    type Result = ();

    fn handle(&mut self, _: ResumeAccepting, _: &mut Context<Self>) {
        if !self.loops.is_empty() {
            return;
        }
        match self.bind() {
            Ok(()) => {
                warn!(self.acceptor.log, "Shutdown called off; accepting connections again"; "listeners" => self.loops.len())
            }
            Err(e) => {
                warn!(self.acceptor.log, "Can't listen again after the failed shutdown"; "error" => e.to_string())
            }
        }
    }
}

impl Acceptor {
    fn spawn(self, listener: TcpListener) -> AbortHandle {
        let task = actix_rt::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                        let limits = self.limits;
                        let decoder = RespDecoder::with_limits(limits.max_bulk_len, limits.query_buffer_limit);
                        let keyspace = self.keyspace.clone();
                        let busy = self.busy.clone();
                        if self.busy.running().is_some() {
                            Connection::start(id, stream, keyspace, decoder, busy);
                            continue;
                        }
                        // The socket moves to its I/O arbiter's reactor as a std stream.
                        let Ok(std) = stream.into_std() else { continue };
                        self.io[id as usize % self.io.len()].spawn_fn(move || {
                            match tokio::net::TcpStream::from_std(std) {
                                Ok(stream) => Connection::start(id, stream, keyspace, decoder, busy),
                                Err(e) => eprintln!("cannot register a client socket: {e}"),
                            }
                        });
                    }
                    Err(e) => {
                        // Out of descriptors and similar: back off briefly, keep serving.
                        warn!(self.log, "Accepting client connection failed"; "error" => e.to_string());
                        actix_rt::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                }
            }
        });
        task.abort_handle()
    }
}
