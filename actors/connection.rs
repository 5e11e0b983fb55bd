//! One actor per client socket: frames requests with the RESP decoder, sends
//! each read's batch to the keyspace in one message, writes what comes back.

use crate::actors::keyspace::Keyspace;
use crate::actors::messages::{Connect, Deliver, Disconnect, Exec, ProtocolError};
use actix::io::{FramedWrite, WriteHandler};
use actix::prelude::*;
use bytes::Bytes;
use forkv::engine::ClientId;
use forkv::resp::{Batch, DecodeError, RespDecoder, RespEncoder};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio_util::codec::FramedRead;

pub struct Connection {
    id: ClientId,
    addr: String,
    laddr: String,
    keyspace: Addr<Keyspace>,
    writer: FramedWrite<Bytes, OwnedWriteHalf, RespEncoder>,
    closing: bool,
}

impl Connection {
    /// Starts the actor for an accepted socket.
    pub fn start(id: ClientId, stream: TcpStream, keyspace: Addr<Keyspace>, decoder: RespDecoder) {
        let _ = stream.set_nodelay(true);
        let addr = stream.peer_addr().map(|a| a.to_string()).unwrap_or_default();
        let laddr = stream.local_addr().map(|a| a.to_string()).unwrap_or_default();
        let (read, write) = stream.into_split();
        Connection::create(move |ctx| {
            ctx.add_stream(FramedRead::with_capacity(read, decoder, 16 * 1024));
            Connection { id, addr, laddr, keyspace, writer: FramedWrite::new(write, RespEncoder, ctx), closing: false }
        });
    }
}

impl Actor for Connection {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.keyspace.do_send(Connect {
            id: self.id,
            addr: self.addr.clone(),
            laddr: self.laddr.clone(),
            deliver: ctx.address().recipient(),
        });
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.keyspace.do_send(Disconnect { id: self.id });
    }
}

impl StreamHandler<Result<Batch, DecodeError>> for Connection {
    fn handle(&mut self, item: Result<Batch, DecodeError>, ctx: &mut Context<Self>) {
        match item {
            Ok(batch) => {
                let bytes_read = batch.buf.len();
                self.keyspace.do_send(Exec { id: self.id, batch, bytes_read });
            }
            Err(DecodeError::Protocol(message)) => {
                self.closing = true;
                self.keyspace.do_send(ProtocolError { id: self.id, message });
            }
            Err(DecodeError::Io(_)) => ctx.stop(),
        }
    }

    /// The peer closed its side (or the stream failed): unless an error
    /// reply is still on its way, the connection is done.
    fn finished(&mut self, ctx: &mut Context<Self>) {
        if !self.closing {
            ctx.stop();
        }
    }
}

impl Handler<Deliver> for Connection {
    type Result = ();

    fn handle(&mut self, msg: Deliver, _: &mut Context<Self>) {
        match msg {
            Deliver::Data(bytes) => self.writer.write(bytes),
            // The writer flushes what is queued, then WriteHandler::finished stops us.
            Deliver::Close => self.writer.close(),
        }
    }
}

impl WriteHandler<std::io::Error> for Connection {}
