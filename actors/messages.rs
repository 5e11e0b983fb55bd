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

/// Connection → keyspace: a new client.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Connect {
    pub id: ClientId,
    pub addr: String,
    pub laddr: String,
    pub deliver: Recipient<Deliver>,
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
}
