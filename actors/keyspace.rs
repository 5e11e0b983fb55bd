//! The keyspace actor: sole owner of the data (the `Engine`), on its own
//! arbiter thread. It loads the dataset at startup in slices (clients get
//! -LOADING meanwhile), runs each batch to completion so commands never
//! interleave, hands records to the AOF writer, and releases replies only
//! once their records are written (or fsynced, with `appendfsync always`).

use crate::actors::aof_writer::AofWriter;
use crate::actors::busy_script::Watch;
use crate::actors::listener::{Listener, ResumeAccepting, StopAccepting};
use crate::actors::messages::*;
use crate::actors::supervisor::Supervisor;
use actix::prelude::*;
use bytes::BytesMut;
use forkv::config::{FsyncPolicy, ShutdownFlags};
use forkv::engine::{BatchOutput, ClientId, Engine, Outbound, Reload, Request};
use forkv::load::{LoadOutcome, Loader};
use forkv::output_limit::{Class, Limit};
use forkv::reply::count_values;
use slog::{error, info, warn, Logger};
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::time::Duration;

/// Output waiting for the AOF to reach `end`.
struct Held {
    end: u64,
    id: ClientId,
    msg: Deliver,
}

/// A client's connection: where its output, and its output limit, go.
struct Peer {
    deliver: Recipient<Deliver>,
    limit: Recipient<OutputLimit>,
}

pub struct Keyspace {
    engine: Engine,
    clients: HashMap<ClientId, Peer>,
    log: Logger,
    writer: Option<Addr<AofWriter>>,
    supervisor: Option<Addr<Supervisor>>,
    listener: Option<Addr<Listener>>,
    loader: Option<Loader>,
    /// Record bytes handed to the writer, in total.
    aof_sent: u64,
    /// Records counted in `aof_sent` but not yet handed to the writer.
    aof_queued: BytesMut,
    aof_flush_scheduled: bool,
    aof_written: u64,
    aof_synced: u64,
    held: VecDeque<Held>,
    /// `aof_sent` when the current message's output began: output of a
    /// message that added no records depends on the AOF only through
    /// the records before it.
    batch_start: u64,
    shutting_down: bool,
    /// Clients parked in SHUTDOWN: answered with an error if it fails.
    shutdown_requesters: Vec<ClientId>,
    /// When the current shutdown began, for its logged duration.
    shutdown_started: Option<std::time::Instant>,
    /// Shutdown is done: waiting for connections to write their last replies.
    exiting: bool,
}

/// Self-message: load the next slice of the dataset.
#[derive(Message)]
#[rtype(result = "()")]
struct LoadStep;

/// Self-message, run after the messages already in the mailbox: hands the
/// queued AOF records to the writer, then sends the replies the AOF has
/// acknowledged. In that order, because the writer and the connections
/// share this thread: the writer's write(2) and fsync request then run
/// before the reply writes, and the next fdatasync overlaps them.
#[derive(Message)]
#[rtype(result = "()")]
struct FlushAof;

/// Schedules the next load slice after yielding to the arbiter, so the
/// connection actors sharing it (io-threads 1) can read requests and get
/// their -LOADING replies between slices. A plain `notify` would keep this
/// actor's future ready forever and starve them until loading ends.
fn next_load_step(ctx: &mut Context<Keyspace>) {
    ctx.spawn(
        actix::fut::wrap_future(tokio::task::yield_now())
            .map(|_, _: &mut Keyspace, ctx: &mut Context<Keyspace>| ctx.notify(LoadStep)),
    );
}

impl Keyspace {
    pub fn new(engine: Engine, log: Logger) -> Keyspace {
        Keyspace {
            engine,
            clients: HashMap::new(),
            log,
            writer: None,
            supervisor: None,
            listener: None,
            loader: None,
            aof_sent: 0,
            aof_queued: BytesMut::new(),
            aof_flush_scheduled: false,
            aof_written: 0,
            aof_synced: 0,
            held: VecDeque::new(),
            batch_start: 0,
            shutting_down: false,
            shutdown_requesters: Vec::new(),
            shutdown_started: None,
            exiting: false,
        }
    }

    fn aof_path(&self) -> PathBuf {
        PathBuf::from(&self.engine.config.appendfilename)
    }

    /// Bytes of records whose replies may go out.
    fn acknowledged(&self) -> u64 {
        if self.engine.config.appendfsync == FsyncPolicy::Always {
            self.aof_synced
        } else {
            self.aof_written
        }
    }

    fn send_now(&mut self, id: ClientId, msg: Deliver) {
        if let Deliver::Data(bytes) = &msg {
            self.engine.stats.total_net_output_bytes += bytes.len() as u64;
        }
        if let Some(peer) = self.clients.get(&id) {
            peer.deliver.do_send(msg);
        }
    }

    /// Tells a connection the output limit of its client's class.
    fn send_limit(&self, id: ClientId, class: Class) {
        if let Some(peer) = self.clients.get(&id) {
            peer.limit.do_send(OutputLimit(self.engine.config.client_output_buffer_limit.of(class)));
        }
    }

    /// Sends output now, or holds it behind records not yet acknowledged.
    ///
    /// While the AOF is failing, the records already sent may not reach the
    /// file for a long time; output that added no records of its own (reads,
    /// refused writes) goes out at once unless the same client has output
    /// held, which keeps each client's replies in order.
    fn deliver(&mut self, id: ClientId, msg: Deliver) {
        let caught_up = self.held.is_empty() && self.aof_sent <= self.acknowledged();
        let aof_failing = self.engine.aof.enabled && !self.engine.persistence.aof_last_write_ok;
        let independent = aof_failing && self.aof_sent == self.batch_start && !self.held.iter().any(|h| h.id == id);
        if caught_up || independent {
            self.send_now(id, msg);
        } else {
            self.held.push_back(Held { end: self.aof_sent, id, msg });
        }
    }

    fn release_held(&mut self) {
        let ack = self.acknowledged();
        while self.held.front().is_some_and(|h| h.end <= ack) {
            let h = self.held.pop_front().expect("front exists");
            self.send_now(h.id, h.msg);
        }
    }

    /// The AOF failed: replies whose records are not safe become errors.
    fn fail_held(&mut self, reason: &str) {
        let ack = self.acknowledged();
        let err = format!("-MISCONF Errors writing to the AOF file: {reason}\r\n");
        for h in std::mem::take(&mut self.held) {
            let msg = match h.msg {
                // One error per reply, so the client stays in step.
                Deliver::Data(data) if h.end > ack => Deliver::Data(err.repeat(count_values(&data).max(1)).into()),
                other => other,
            };
            self.send_now(h.id, msg);
        }
    }

    /// Queues records for the writer; `flush_aof` sends what is queued as
    /// one message, so the records of many batches share one write(2).
    fn send_aof(&mut self, data: BytesMut) {
        if data.is_empty() {
            return;
        }
        self.aof_sent += data.len() as u64;
        if self.writer.is_some() {
            self.aof_queued.unsplit(data);
        } else {
            self.aof_written = self.aof_sent;
            self.aof_synced = self.aof_sent;
        }
    }

    fn flush_aof(&mut self) {
        if let (Some(w), false) = (&self.writer, self.aof_queued.is_empty()) {
            w.do_send(AofAppend { data: self.aof_queued.split().freeze(), end: self.aof_sent });
        }
    }

    fn schedule_flush(&mut self, ctx: &mut Context<Self>) {
        if !self.aof_flush_scheduled {
            self.aof_flush_scheduled = true;
            ctx.notify(FlushAof);
        }
    }

    /// After every message: persistence requests, AOF records, then the
    /// output of the batch and what commands produced for other clients.
    fn after_batch(&mut self, own: Option<(ClientId, BatchOutput)>, ctx: &mut Context<Self>) {
        self.batch_start = self.aof_sent;
        for request in std::mem::take(&mut self.engine.requests) {
            self.handle_request(request, ctx);
        }
        let records = self.engine.aof.take();
        self.send_aof(records);
        if !self.aof_queued.is_empty() {
            // One append for all the batches in the mailbox.
            self.schedule_flush(ctx);
        }
        self.engine.broadcast_tracked_changes();
        if let Some((id, out)) = own {
            if !out.data.is_empty() {
                self.deliver(id, Deliver::Data(out.data.freeze()));
            }
            if out.close {
                self.deliver(id, Deliver::Close);
            }
        }
        for (id, out) in std::mem::take(&mut self.engine.outbox) {
            match out {
                Outbound::Data(bytes) => self.deliver(id, Deliver::Data(bytes)),
                Outbound::Close => self.deliver(id, Deliver::Close),
            }
        }
    }

    fn handle_request(&mut self, request: Request, ctx: &mut Context<Self>) {
        match request {
            Request::ChildStarted(info) => {
                info!(self.log, "Background child forked"; "pid" => info.pid, "kind" => format!("{:?}", info.kind), "fork_usec" => self.engine.persistence.latest_fork_usec);
                if let Some(s) = &self.supervisor {
                    s.do_send(ChildStarted(info));
                }
            }
            Request::AofRewriteStart { before } => {
                self.send_aof(before);
                self.flush_aof();
                if let Some(w) = &self.writer {
                    w.do_send(AofRewriteStart { path: self.aof_path() });
                }
            }
            Request::Reload { client, from } => self.reload(client, from, ctx),
            Request::Shutdown { flags, client } => {
                self.shutdown_requesters.push(client);
                self.shutdown("SHUTDOWN command", flags, ctx)
            }
            Request::AofConfigChanged => self.aof_config_changed(),
            Request::Warn(msg) => warn!(self.log, "{}", msg),
            Request::OutputClass { id, class } => self.send_limit(id, class),
            Request::OutputLimitsChanged => {
                for (&id, client) in &self.engine.clients {
                    self.send_limit(id, client.output_class());
                }
            }
            Request::PauseUntil(end) => {
                // Redis ends a pause at most a cron tick late; this timer
                // ends it on time. The timer of a pause extended since does
                // nothing: the later one does.
                let wait = (end + 1 - forkv::util::now_ms()).max(0) as u64;
                ctx.run_later(Duration::from_millis(wait), |act, ctx| {
                    act.engine.check_pause_end();
                    act.engine.resume_paused();
                    act.after_batch(None, ctx);
                });
            }
        }
    }

    /// Hands the writer every record queued and resolves once it wrote and
    /// fsynced them all (Ok at once with appendonly off).
    fn write_whole_aof(&mut self) -> impl std::future::Future<Output = Result<(), String>> + 'static {
        let records = self.engine.aof.take();
        self.send_aof(records);
        self.flush_aof();
        let writer = self.writer.clone().filter(|_| self.engine.config.appendonly);
        async move {
            match writer {
                Some(w) => w.send(AofFlush).await.unwrap_or_else(|e| Err(e.to_string())),
                None => Ok(()),
            }
        }
    }

    /// DEBUG RELOAD / LOADAOF: loads the dataset again, the AOF once every
    /// record is written to it; the mailbox waits meanwhile, so no command
    /// runs between the request and the reload.
    fn reload(&mut self, client: ClientId, from: Reload, ctx: &mut Context<Self>) {
        match from {
            Reload::Snapshot { .. } => {
                let loader = Loader::rdb(&PathBuf::from(&self.engine.config.dbfilename));
                self.reload_from(client, from, loader, ctx);
            }
            Reload::Aof => {
                let written = self.write_whole_aof();
                ctx.wait(written.into_actor(self).map(move |written, act, ctx| {
                    if let Err(e) = written {
                        // Redis exits when it cannot load its AOF back.
                        return act.fatal(&format!("DEBUG LOADAOF: the AOF could not be written: {e}"));
                    }
                    let loader = Loader::aof(&act.aof_path());
                    act.reload_from(client, from, loader, ctx);
                }));
            }
        }
    }

    fn reload_from(
        &mut self,
        client: ClientId,
        from: Reload,
        loader: Result<Option<Loader>, String>,
        ctx: &mut Context<Self>,
    ) {
        let aof = from == Reload::Aof;
        let (flush, merge) = match from {
            Reload::Snapshot { flush, merge } => (flush, merge),
            Reload::Aof => (true, false),
        };
        if flush {
            // Redis's emptyData: the keys and the function libraries.
            self.engine.empty_data();
            self.engine.functions.replace_all(Default::default());
        }
        let result = match loader {
            Ok(Some(mut loader)) => {
                if merge {
                    loader.replace_libraries();
                }
                let loaded = loader.load_all(&mut self.engine, &self.log);
                self.note_load(loader.expired_keys());
                loaded
            }
            Ok(None) => Ok(()),
            Err(e) => Err(e),
        };
        match &result {
            Ok(()) if aof => {
                // What was loaded is what the AOF holds already.
                self.engine.dirty = 0;
                warn!(self.log, "Append Only File loaded by DEBUG LOADAOF");
            }
            Ok(()) => warn!(self.log, "DB reloaded by DEBUG RELOAD"),
            Err(e) if aof => return self.fatal(e),
            Err(e) => warn!(self.log, "DEBUG RELOAD could not load the snapshot"; "error" => e),
        }
        self.engine.reloaded = Some((client, result));
        self.engine.answer_parked(client);
        self.after_batch(None, ctx);
    }

    fn aof_config_changed(&mut self) {
        let Some(writer) = self.writer.clone() else { return };
        let c = &self.engine.config;
        if c.appendonly && !self.engine.aof.enabled {
            info!(self.log, "Append only file enabled; rewriting it from the current dataset");
            writer.do_send(AofOpen { path: self.aof_path(), policy: c.appendfsync, truncate: true });
            self.engine.aof.enabled = true;
            if self.engine.start_rewrite().is_err() {
                self.engine.persistence.aof_rewrite_scheduled = true;
            }
        } else if !c.appendonly && self.engine.aof.enabled {
            info!(self.log, "Append only file disabled");
            if let Some(pid) = self.engine.cancel_rewrite() {
                info!(self.log, "Killing running AOF rewrite child"; "pid" => pid);
            }
            let records = self.engine.aof.take();
            self.send_aof(records);
            self.flush_aof();
            self.engine.aof.enabled = false;
            writer.do_send(AofClose);
        } else {
            writer.do_send(AofSetPolicy(c.appendfsync));
        }
    }

    fn shutdown(&mut self, reason: &str, flags: ShutdownFlags, ctx: &mut Context<Self>) {
        if self.shutting_down {
            return;
        }
        self.shutting_down = true;
        self.shutdown_started = Some(std::time::Instant::now());
        info!(self.log, "User requested shutdown..."; "reason" => reason, "connected_clients" => self.clients.len());
        if let Some(l) = &self.listener {
            l.do_send(StopAccepting);
        }
        // Synchronously, before the final save: the supervisor's KillChild
        // may be handled too late (or never, once the system stops).
        if let Some(pid) = self.engine.kill_child() {
            info!(self.log, "Killed the running background child before exiting"; "pid" => pid);
        }
        if let Some(s) = &self.supervisor {
            s.do_send(KillChild);
        }
        let flush = self.write_whole_aof();
        ctx.wait(flush.into_actor(self).map(move |res, act, ctx| act.finish_shutdown(res, flags, ctx)));
    }

    fn finish_shutdown(&mut self, aof: Result<(), String>, flags: ShutdownFlags, ctx: &mut Context<Self>) {
        match aof {
            Ok(()) if self.engine.config.appendonly => {
                let elapsed = self.shutdown_started.map(|t| t.elapsed().as_millis() as u64).unwrap_or(0);
                info!(self.log, "Calling fsync() on the AOF file."; "aof_bytes" => self.aof_sent, "elapsed_ms" => elapsed)
            }
            Ok(()) => {}
            Err(e) => warn!(self.log, "Error flushing the AOF file before exiting"; "error" => e),
        }
        if flags.save.unwrap_or(!self.engine.config.save.is_empty()) {
            info!(self.log, "Saving the final RDB snapshot before exiting.");
            let started = std::time::Instant::now();
            match self.engine.save_now() {
                Ok(saved) => {
                    info!(self.log, "DB saved on disk"; "bytes" => saved.bytes, "keys" => saved.keys, "duration_ms" => started.elapsed().as_millis() as u64)
                }
                Err(e) if flags.force => error!(self.log, "Error trying to save the DB. Exit anyway."; "error" => e),
                Err(e) => {
                    error!(self.log, "Error trying to save the DB, can't exit."; "error" => e);
                    self.shutting_down = false;
                    if let Some(l) = &self.listener {
                        l.do_send(ResumeAccepting);
                    }
                    for id in std::mem::take(&mut self.shutdown_requesters) {
                        self.engine.answer_parked(id);
                    }
                    self.after_batch(None, ctx);
                    return;
                }
            }
        }
        if !self.engine.config.pidfile.is_empty() {
            info!(self.log, "Removing the pid file.");
            let _ = std::fs::remove_file(&self.engine.config.pidfile);
        }
        self.release_held();
        let took = self.shutdown_started.map(|t| t.elapsed().as_millis() as u64).unwrap_or(0);
        info!(self.log, "forkv is now ready to exit, bye bye..."; "shutdown_ms" => took);
        // Let every connection write its last replies and close (bounded).
        self.exiting = true;
        if self.clients.is_empty() {
            System::current().stop();
            return;
        }
        for peer in self.clients.values() {
            peer.deliver.do_send(Deliver::Close);
        }
        ctx.run_later(Duration::from_secs(1), |_, _| System::current().stop());
    }

    /// Begins loading the AOF (appendonly yes) or the snapshot, if present.
    fn start_loading(&mut self, ctx: &mut Context<Self>) {
        let c = &self.engine.config;
        let loader =
            if c.appendonly { Loader::aof(&self.aof_path()) } else { Loader::rdb(&PathBuf::from(&c.dbfilename)) };
        match loader {
            Ok(Some(loader)) => {
                info!(self.log, "Loading the dataset"; "file" => loader.describe());
                let p = &mut self.engine.persistence;
                p.loading = true;
                p.loading_start_time = forkv::util::now_ms() / 1000;
                (p.loading_loaded_bytes, p.loading_total_bytes) = loader.progress();
                self.loader = Some(loader);
                next_load_step(ctx);
            }
            Ok(None) => self.finish_loading(0),
            Err(e) => self.fatal(&e),
        }
    }

    fn finish_loading(&mut self, expired_keys: u64) {
        self.engine.persistence.loading = false;
        self.note_load(expired_keys);
        self.engine.aof.enabled = self.engine.config.appendonly;
        if self.engine.config.appendonly {
            if let Some(w) = &self.writer {
                w.do_send(AofOpen { path: self.aof_path(), policy: self.engine.config.appendfsync, truncate: false });
            }
        }
        info!(self.log, "Ready to serve data"; "keys" => self.engine.dbs.iter().map(|d| d.len()).sum::<usize>());
    }

    /// INFO's rdb_last_load_keys_loaded and rdb_last_load_keys_expired.
    fn note_load(&mut self, expired_keys: u64) {
        let p = &mut self.engine.persistence;
        p.rdb_last_load_keys_loaded = self.engine.dbs.iter().map(|d| d.len() as u64).sum();
        p.rdb_last_load_keys_expired = expired_keys;
    }

    fn fatal(&mut self, msg: &str) {
        error!(self.log, "{}", msg);
        System::current().stop_with_code(1);
    }
}

impl Actor for Keyspace {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let period = Duration::from_millis(1000 / self.engine.config.hz.max(1));
        ctx.run_interval(period, |act, ctx| {
            if act.loader.is_none() {
                act.engine.cron();
                act.after_batch(None, ctx);
            }
        });
    }
}

impl Handler<FlushAof> for Keyspace {
    type Result = ();

    fn handle(&mut self, _: FlushAof, _: &mut Context<Self>) {
        self.aof_flush_scheduled = false;
        self.flush_aof();
        if self.engine.persistence.aof_last_write_ok {
            self.release_held();
        }
    }
}

impl Handler<Attach> for Keyspace {
    type Result = ();

    fn handle(&mut self, msg: Attach, ctx: &mut Context<Self>) {
        self.writer = Some(msg.writer);
        self.supervisor = Some(msg.supervisor);
        self.listener = Some(msg.listener);
        let (board, requests) = msg.busy;
        let watch = Watch::new(board, requests, ctx.address(), self.log.clone());
        self.engine.script_watch = Some(Box::new(watch));
        self.start_loading(ctx);
    }
}

impl Handler<ShutdownAfterScript> for Keyspace {
    type Result = ();

    fn handle(&mut self, _: ShutdownAfterScript, ctx: &mut Context<Self>) {
        self.shutdown("SHUTDOWN NOSAVE during a busy script", ShutdownFlags { save: Some(false), force: false }, ctx);
    }
}

impl Handler<LoadStep> for Keyspace {
    type Result = ();

    fn handle(&mut self, _: LoadStep, ctx: &mut Context<Self>) {
        let Some(loader) = self.loader.as_mut() else { return };
        let outcome = loader.step(&mut self.engine, Duration::from_millis(20), &self.log);
        self.engine.persistence.loading_loaded_bytes = loader.progress().0;
        match outcome {
            LoadOutcome::More => next_load_step(ctx),
            LoadOutcome::Done => {
                let loader = self.loader.take().expect("loading");
                info!(self.log, "{}", loader.summary());
                self.finish_loading(loader.expired_keys());
            }
            LoadOutcome::Failed(msg) => {
                self.loader = None;
                self.fatal(&msg);
            }
        }
    }
}

impl Handler<Connect> for Keyspace {
    type Result = ();

    fn handle(&mut self, msg: Connect, _: &mut Context<Self>) {
        if let Err(refusal) = self.engine.admit(&msg.addr) {
            msg.deliver.do_send(Deliver::Data(refusal.into()));
            msg.deliver.do_send(Deliver::Close);
            return;
        }
        slog::debug!(self.log, "Accepted"; "addr" => &msg.addr, "id" => msg.id);
        self.engine.connect(msg.id, msg.addr, msg.laddr);
        self.clients.insert(msg.id, Peer { deliver: msg.deliver, limit: msg.limit });
        if self.engine.config.client_output_buffer_limit.of(Class::Normal) != Limit::default() {
            self.send_limit(msg.id, Class::Normal);
        }
    }
}

impl Handler<OutputLimitReached> for Keyspace {
    type Result = ();

    fn handle(&mut self, msg: OutputLimitReached, _: &mut Context<Self>) {
        if let Some(client) = self.engine.clients.get(&msg.id) {
            let mut info = forkv::commands::conn::client_line(&self.engine, client);
            info.pop();
            warn!(self.log, "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.", info);
        }
    }
}

impl Handler<Exec> for Keyspace {
    type Result = ();

    fn handle(&mut self, msg: Exec, ctx: &mut Context<Self>) {
        if self.exiting || !self.clients.contains_key(&msg.id) {
            return;
        }
        self.engine.stats.total_net_input_bytes += msg.bytes_read as u64;
        let out = self.engine.execute(msg.id, msg.batch);
        self.after_batch(Some((msg.id, out)), ctx);
    }
}

impl Handler<ProtocolError> for Keyspace {
    type Result = ();

    fn handle(&mut self, msg: ProtocolError, _: &mut Context<Self>) {
        let text = format!("-ERR {}\r\n", msg.message.replace(['\r', '\n'], " "));
        self.batch_start = self.aof_sent;
        self.deliver(msg.id, Deliver::Data(text.into()));
        self.deliver(msg.id, Deliver::Close);
        self.engine.disconnect(msg.id);
    }
}

impl Handler<Disconnect> for Keyspace {
    type Result = ();

    fn handle(&mut self, msg: Disconnect, _: &mut Context<Self>) {
        slog::debug!(self.log, "Client closed connection"; "id" => msg.id);
        self.engine.disconnect(msg.id);
        self.clients.remove(&msg.id);
        if self.exiting && self.clients.is_empty() {
            System::current().stop();
        }
    }
}

impl Handler<Shutdown> for Keyspace {
    type Result = ();

    fn handle(&mut self, msg: Shutdown, ctx: &mut Context<Self>) {
        let flags = self.engine.config.shutdown_on_signal(msg.term);
        self.shutdown(msg.reason, flags, ctx);
    }
}

impl Handler<SignalBgSave> for Keyspace {
    type Result = ();

    fn handle(&mut self, _: SignalBgSave, ctx: &mut Context<Self>) {
        if self.engine.persistence.loading {
            warn!(self.log, "SIGUSR1 ignored: still loading the dataset");
            return;
        }
        self.engine.now = forkv::util::now_ms();
        match self.engine.start_bgsave() {
            Ok(()) => info!(self.log, "Received SIGUSR1: background saving started"),
            Err(e) => warn!(self.log, "Received SIGUSR1: can't start a background save"; "error" => e),
        }
        self.after_batch(None, ctx);
    }
}

impl Handler<ChildExited> for Keyspace {
    type Result = ();

    fn handle(&mut self, msg: ChildExited, ctx: &mut Context<Self>) {
        self.engine.now = forkv::util::now_ms();
        let exit = msg.0;
        let current = self.engine.child_exited(exit);
        if current && exit.ok && exit.kind == forkv::engine::persist::ChildKind::Snapshot {
            let bytes = std::fs::metadata(&self.engine.config.dbfilename).map(|m| m.len()).unwrap_or(0);
            info!(self.log, "Snapshot written"; "file" => &self.engine.config.dbfilename, "bytes" => bytes, "duration_ms" => exit.duration_ms, "cow_bytes" => exit.cow_bytes);
        }
        self.after_batch(None, ctx);
    }
}

impl Handler<AofProgress> for Keyspace {
    type Result = ();

    fn handle(&mut self, msg: AofProgress, ctx: &mut Context<Self>) {
        self.aof_written = self.aof_written.max(msg.written);
        self.aof_synced = self.aof_synced.max(msg.synced);
        let p = &mut self.engine.persistence;
        p.aof_current_size = msg.status.current_size;
        p.aof_base_size = msg.status.base_size;
        p.aof_delayed_fsync = msg.status.delayed_fsync;
        p.aof_last_write_ok = msg.status.error.is_none();
        match msg.status.error {
            Some(err) => {
                p.aof_last_write_error = err.clone();
                self.fail_held(&err);
            }
            None => self.schedule_flush(ctx),
        }
    }
}

impl Handler<AofSynced> for Keyspace {
    type Result = ();

    fn handle(&mut self, msg: AofSynced, ctx: &mut Context<Self>) {
        if self.engine.config.appendfsync == FsyncPolicy::Always {
            self.engine.add_latency_sample("aof-fsync-always", msg.millis);
        }
        self.aof_synced = self.aof_synced.max(msg.end);
        self.schedule_flush(ctx);
    }
}

impl Handler<AofRewritten> for Keyspace {
    type Result = ();

    fn handle(&mut self, msg: AofRewritten, _: &mut Context<Self>) {
        if msg.cancelled {
            return;
        }
        let p = &mut self.engine.persistence;
        p.aof_last_bgrewrite_ok = msg.ok;
        p.aof_rewrites_consecutive_failures = if msg.ok { 0 } else { p.aof_rewrites_consecutive_failures + 1 };
        if msg.ok {
            p.aof_rewrites += 1;
        } else if let Some(e) = msg.error {
            warn!(self.log, "AOF rewrite failed"; "error" => e);
        }
    }
}
