//! Accepts connections on the configured addresses and starts a connection
//! actor for each on an I/O arbiter. With `io-threads 1` (the default) that
//! is the keyspace's own arbiter, as Redis's main thread does all I/O: a
//! batch and its replies then cross no thread boundary. On shutdown
//! `stop_accepting` closes the listening sockets, so new connections are
//! refused while the clients already connected finish their commands;
//! `resume_accepting` binds again if the shutdown is called off.

use crate::actors::connection::Connection;
use crate::actors::keyspace::Keyspace;
use actix::prelude::*;
use actix::ArbiterHandle;
use forkv::resp::RespDecoder;
use slog::{warn, Logger};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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
    keyspace: Addr<Keyspace>,
    limits: Limits,
    log: Logger,
    io: Vec<ArbiterHandle>,
    next_id: Arc<AtomicU64>,
}

/// The running accept loops and how to start them again; touched only at
/// startup and shutdown, never per command.
struct Accepting {
    loops: Vec<AbortHandle>,
    acceptor: Option<Acceptor>,
}

static ACCEPTING: Mutex<Accepting> = Mutex::new(Accepting { loops: Vec::new(), acceptor: None });

fn accepting() -> std::sync::MutexGuard<'static, Accepting> {
    ACCEPTING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Binds every address first (so startup fails loudly), then accepts forever.
pub async fn listen(
    addrs: &[String],
    port: u16,
    keyspace: Addr<Keyspace>,
    limits: Limits,
    log: Logger,
    io: Vec<ArbiterHandle>,
) -> std::io::Result<()> {
    let acceptor =
        Acceptor { addrs: addrs.to_vec(), port, keyspace, limits, log, io, next_id: Arc::new(AtomicU64::new(1)) };
    let mut listeners = Vec::new();
    for addr in addrs {
        listeners.push(TcpListener::bind((addr.as_str(), port)).await?);
    }
    let mut state = accepting();
    for listener in listeners {
        state.loops.push(acceptor.clone().spawn(listener));
    }
    state.acceptor = Some(acceptor);
    Ok(())
}

/// Stops every accept loop, closing the listening sockets. Returns how many
/// were running (0 when already stopped).
pub fn stop_accepting() -> usize {
    let loops = std::mem::take(&mut accepting().loops);
    for h in &loops {
        h.abort();
    }
    loops.len()
}

/// Binds and accepts again after `stop_accepting` (a shutdown that could not
/// complete). Must run inside an actix/tokio runtime.
pub fn resume_accepting() -> std::io::Result<usize> {
    let mut state = accepting();
    let Some(acceptor) = state.acceptor.clone() else { return Ok(0) };
    if !state.loops.is_empty() {
        return Ok(0);
    }
    for addr in &acceptor.addrs {
        let std = std::net::TcpListener::bind((addr.as_str(), acceptor.port))?;
        std.set_nonblocking(true)?;
        let listener = TcpListener::from_std(std)?;
        state.loops.push(acceptor.clone().spawn(listener));
    }
    Ok(state.loops.len())
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
                        // The socket moves to its I/O arbiter's reactor as a std stream.
                        let Ok(std) = stream.into_std() else { continue };
                        let keyspace = self.keyspace.clone();
                        self.io[id as usize % self.io.len()].spawn_fn(move || {
                            match tokio::net::TcpStream::from_std(std) {
                                Ok(stream) => Connection::start(id, stream, keyspace, decoder),
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
