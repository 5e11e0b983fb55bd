//! One actor per client socket: frames requests with the RESP decoder, sends
//! each read's batch to the keyspace in one message, writes what comes back,
//! and closes the client whose unwritten output goes over its limit.

use crate::actors::keyspace::Keyspace;
use crate::actors::messages::{Connect, Deliver, Disconnect, Exec, OutputLimit, OutputLimitReached, ProtocolError};
use actix::io::{FramedWrite, WriteHandler};
use actix::prelude::*;
use bytes::{Bytes, BytesMut};
use forkv::engine::ClientId;
use forkv::output_limit::OutputWatch;
use forkv::resp::{Batch, DecodeError, RespDecoder, RespEncoder};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio_util::codec::{Encoder, FramedRead};

/// actix's write-buffer watermarks: past the high one, when the socket
/// would block, the writer holds the actor's mailbox until the buffer is
/// below the low one.
const LOW_WATERMARK: usize = 4 * 1024;
const HIGH_WATERMARK: usize = 16 * 1024;

/// The RESP encoder, noting how many bytes await the socket after each
/// write: FramedWrite appends to its unwritten buffer, `dst`.
struct PendingEncoder(Rc<Cell<usize>>);

impl Encoder<Bytes> for PendingEncoder {
    type Error = std::io::Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        RespEncoder.encode(item, dst)?;
        self.0.set(dst.len());
        Ok(())
    }
}

pub struct Connection {
    id: ClientId,
    addr: String,
    laddr: String,
    keyspace: Addr<Keyspace>,
    writer: FramedWrite<Bytes, OwnedWriteHalf, PendingEncoder>,
    /// Output not yet written to the socket, as of the last write.
    pending: Rc<Cell<usize>>,
    output: OutputWatch,
    /// A look at the output is due when the soft limit's time runs out.
    soft_timer: bool,
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
            let pending = Rc::new(Cell::new(0));
            let writer = FramedWrite::new(write, PendingEncoder(pending.clone()), ctx);
            let output = OutputWatch::default();
            Connection { id, addr, laddr, keyspace, writer, pending, output, soft_timer: false, closing: false }
        });
    }

    /// Closes the client, its pending output unwritten, when that output is
    /// over the limit (Redis frees such a client); while it is over the
    /// soft limit, looks again when that has lasted too long, in case no
    /// more output comes.
    fn check_output(&mut self, ctx: &mut Context<Self>) {
        let now = forkv::util::now_ms();
        if self.output.over_limit(self.pending.get() as u64, now) {
            self.keyspace.do_send(OutputLimitReached { id: self.id });
            ctx.stop();
        } else if let (false, Some(deadline)) = (self.soft_timer, self.output.soft_deadline()) {
            self.soft_timer = true;
            ctx.run_later(Duration::from_millis((deadline - now).max(1) as u64), |act, ctx| {
                act.soft_timer = false;
                // An empty write has the encoder note what is pending now.
                act.writer.write(Bytes::new());
                act.check_output(ctx);
            });
        }
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
            limit: ctx.address().recipient(),
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

    fn handle(&mut self, msg: Deliver, ctx: &mut Context<Self>) {
        match msg {
            Deliver::Data(bytes) => {
                self.writer.write(bytes);
                if self.output.limited() {
                    self.check_output(ctx);
                }
            }
            // The writer flushes what is queued, then WriteHandler::finished stops us.
            Deliver::Close => self.writer.close(),
        }
    }
}

impl Handler<OutputLimit> for Connection {
    type Result = ();

    fn handle(&mut self, OutputLimit(limit): OutputLimit, ctx: &mut Context<Self>) {
        self.output.set_limit(limit);
        // A limited client's output must reach the buffer, where it is
        // measured, rather than wait unseen in the mailbox while the
        // socket drains: no high watermark then, as Redis keeps reading a
        // client whatever its output.
        let high = if self.output.limited() { usize::MAX } else { HIGH_WATERMARK };
        self.writer.set_buffer_capacity(LOW_WATERMARK, high);
        if self.output.limited() {
            // The output may be over a new, lower limit already.
            self.writer.write(Bytes::new());
            self.check_output(ctx);
        }
    }
}

impl WriteHandler<std::io::Error> for Connection {}
