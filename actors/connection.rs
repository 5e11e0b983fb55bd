//! One actor per client socket: frames requests with the RESP decoder, sends
//! each read's batch to the keyspace in one message, writes what comes back,
//! and closes the client whose unwritten output goes over its limit.
//!
//! A client that connects while a script is busy lives on the listener's
//! thread (see `busy_script`): until the script ends it gets -BUSY here,
//! and its SCRIPT KILL goes to the script, replies kept in order.

use crate::actors::busy_script::{notbusy_reply, BusyBoard, BusyScript, KillKind, KillRequest};
use crate::actors::keyspace::Keyspace;
use crate::actors::messages::{
    Connect, Deliver, Disconnect, Exec, KillReply, OutputLimit, OutputLimitReached, ProtocolError,
};
use actix::io::{FramedWrite, WriteHandler};
use actix::prelude::*;
use bytes::{Bytes, BytesMut};
use forkv::engine::ClientId;
use forkv::output_limit::OutputWatch;
use forkv::resp::{Batch, DecodeError, RespDecoder, RespEncoder};
use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
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
    busy: Arc<BusyBoard>,
    /// A batch has gone to the keyspace: from then on every batch does, in
    /// order behind it, even while a script is busy.
    talked: bool,
    /// Batches waiting for the reply to a kill request, in arrival order.
    held: VecDeque<Batch>,
    /// The kill request awaiting its reply: its number and busy period.
    awaiting: Option<(u64, u64)>,
    kill_seq: u64,
}

/// How often a connection awaiting a kill reply looks whether the script
/// has ended meanwhile (its request then finds nothing to kill).
const KILL_CHECK: Duration = Duration::from_millis(10);

impl Connection {
    /// Starts the actor for an accepted socket.
    pub fn start(
        id: ClientId,
        stream: TcpStream,
        keyspace: Addr<Keyspace>,
        decoder: RespDecoder,
        busy: Arc<BusyBoard>,
    ) {
        let _ = stream.set_nodelay(true);
        let addr = stream.peer_addr().map(|a| a.to_string()).unwrap_or_default();
        let laddr = stream.local_addr().map(|a| a.to_string()).unwrap_or_default();
        let (read, write) = stream.into_split();
        Connection::create(move |ctx| {
            ctx.add_stream(FramedRead::with_capacity(read, decoder, 16 * 1024));
            let pending = Rc::new(Cell::new(0));
            let writer = FramedWrite::new(write, PendingEncoder(pending.clone()), ctx);
            let output = OutputWatch::default();
            Connection {
                id,
                addr,
                laddr,
                keyspace,
                writer,
                pending,
                output,
                soft_timer: false,
                closing: false,
                busy,
                talked: false,
                held: VecDeque::new(),
                awaiting: None,
                kill_seq: 0,
            }
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

    fn exec(&mut self, batch: Batch) {
        self.talked = true;
        let bytes_read = batch.buf.len();
        self.keyspace.do_send(Exec { id: self.id, batch, bytes_read });
    }

    /// Serves the held batches until one awaits a kill reply.
    fn serve_held(&mut self, ctx: &mut Context<Self>) {
        while self.awaiting.is_none() {
            let Some(batch) = self.held.pop_front() else { return };
            match self.busy.running() {
                Some((script, generation)) if !self.talked => {
                    if let Some(rest) = self.answer_busy(&batch, script, generation, ctx) {
                        self.held.push_front(rest);
                    }
                }
                _ => self.exec(batch),
            }
        }
    }

    /// Answers `batch` as Redis does while a script is busy: -BUSY, but
    /// QUIT, and the kills, which go to the script. Returns the commands
    /// after a kill, to serve once its reply has come.
    fn answer_busy(
        &mut self,
        batch: &Batch,
        script: BusyScript,
        generation: u64,
        ctx: &mut Context<Self>,
    ) -> Option<Batch> {
        for (i, command) in batch.commands().enumerate() {
            let is = |n: usize, word: &str| command.argc() > n && command.arg(n).eq_ignore_ascii_case(word.as_bytes());
            if is(0, "quit") {
                self.writer.write(Bytes::from_static(b"+OK\r\n"));
                self.writer.close();
                self.held.clear();
                return None;
            }
            if self.busy.auth_required() {
                // No password can be checked while the keyspace is busy.
                self.writer.write(Bytes::from_static(b"-NOAUTH Authentication required.\r\n"));
                continue;
            }
            let flags = (1..command.argc()).map(|n| command.arg(n).to_ascii_lowercase()).collect::<Vec<_>>();
            let kind = match () {
                _ if command.argc() == 2 && is(0, "script") && is(1, "kill") => KillKind::ScriptKill,
                _ if command.argc() == 2 && is(0, "function") && is(1, "kill") => KillKind::FunctionKill,
                _ if is(0, "shutdown")
                    && flags.iter().any(|f| f == b"nosave")
                    && !flags.iter().any(|f| f == b"save" || f == b"abort") =>
                {
                    KillKind::ShutdownNoSave
                }
                _ => {
                    self.writer.write(Bytes::from_static(script.busy_reply()));
                    continue;
                }
            };
            self.kill_seq += 1;
            let reply = Some(ctx.address().recipient());
            self.busy.request_kill(KillRequest { kind, generation, seq: self.kill_seq, reply });
            if kind == KillKind::ShutdownNoSave {
                // The server goes away: no reply, nothing after it.
                return None;
            }
            self.awaiting = Some((self.kill_seq, generation));
            self.check_kill_later(false, ctx);
            return (i + 1 < batch.len()).then(|| batch.tail(i + 1));
        }
        None
    }

    /// A request made as the script ended may never be read: once its busy
    /// period has been over for a whole check, it finds no script to kill.
    fn check_kill_later(&mut self, over_before: bool, ctx: &mut Context<Self>) {
        ctx.run_later(KILL_CHECK, move |act, ctx| {
            let Some((_, generation)) = act.awaiting else { return };
            let over = act.busy.running().is_none_or(|(_, g)| g != generation);
            if over && over_before {
                act.awaiting = None;
                act.writer.write(notbusy_reply());
                act.serve_held(ctx);
            } else {
                act.check_kill_later(over, ctx);
            }
        });
    }
}

impl Handler<KillReply> for Connection {
    type Result = ();

    fn handle(&mut self, msg: KillReply, ctx: &mut Context<Self>) {
        if self.awaiting.is_some_and(|(seq, _)| seq == msg.seq) {
            self.awaiting = None;
            self.writer.write(msg.reply);
            self.serve_held(ctx);
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
            Ok(batch) if self.talked && self.held.is_empty() => self.exec(batch),
            Ok(batch) => {
                self.held.push_back(batch);
                self.serve_held(ctx);
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
