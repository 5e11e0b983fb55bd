//! Accepts connections on the configured addresses and starts a connection
//! actor for each on an I/O arbiter. With `io-threads 1` (the default) that
//! is the keyspace's own arbiter, as Redis's main thread does all I/O: a
//! batch and its replies then cross no thread boundary.

use crate::actors::connection::Connection;
use crate::actors::keyspace::Keyspace;
use actix::prelude::*;
use actix::ArbiterHandle;
use forkv::resp::RespDecoder;
use slog::{warn, Logger};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;

/// Limits the decoder enforces for every connection.
#[derive(Clone, Copy)]
pub struct Limits {
    pub max_bulk_len: usize,
    pub query_buffer_limit: usize,
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
    let next_id = Arc::new(AtomicU64::new(1));
    for addr in addrs {
        let listener = TcpListener::bind((addr.as_str(), port)).await?;
        let keyspace = keyspace.clone();
        let next_id = next_id.clone();
        let log = log.clone();
        let io = io.clone();
        actix_rt::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        let id = next_id.fetch_add(1, Ordering::Relaxed);
                        let decoder = RespDecoder::with_limits(limits.max_bulk_len, limits.query_buffer_limit);
                        // The socket moves to its I/O arbiter's reactor as a std stream.
                        let Ok(std) = stream.into_std() else { continue };
                        let keyspace = keyspace.clone();
                        io[id as usize % io.len()].spawn_fn(move || match tokio::net::TcpStream::from_std(std) {
                            Ok(stream) => Connection::start(id, stream, keyspace, decoder),
                            Err(e) => eprintln!("cannot register a client socket: {e}"),
                        });
                    }
                    Err(e) => {
                        // Out of descriptors and similar: back off briefly, keep serving.
                        warn!(log, "Accepting client connection failed"; "error" => e.to_string());
                        actix_rt::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                }
            }
        });
    }
    Ok(())
}
