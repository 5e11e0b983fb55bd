//! Running a batch: command lookup, the checks Redis makes before a command
//! (arity, auth, ACL, pub/sub context, loading, MISCONF, MULTI queuing), the call
//! itself, and what follows it (AOF record, WATCH, waking blocked clients).

use super::client::{Blocked, ReplyMode};
use super::command_stats::Timed;
use super::table::{self, CommandSpec};
use super::{BlockRequest, Call, Client, ClientId, Engine, LOADING_ERROR};
use crate::acl::log::Context;
use crate::config::ProtectedAction;
use crate::reply::Reply;
use crate::resp::Batch;
use bytes::BytesMut;

enum Flow {
    Continue,
    Blocked,
    /// Held by CLIENT PAUSE before it ran.
    Paused,
    Close,
}

/// What a batch produced for its own client.
pub struct BatchOutput {
    pub data: BytesMut,
    pub close: bool,
}

impl Engine {
    /// Runs every command of `batch` for client `id`, in order, unless the
    /// client blocks; commands behind a blocking one wait for it.
    pub fn execute(&mut self, id: ClientId, batch: Batch) -> BatchOutput {
        let Some(mut client) = self.clients.remove(&id) else {
            return BatchOutput { data: BytesMut::new(), close: true };
        };
        self.detached += 1;
        let mut out = Reply::new(client.resp3);
        client.pending.push_back(batch);
        let close = self.drain_pending(&mut client, &mut out);
        client.last_active_ms = self.now;
        self.detached -= 1;
        self.clients.insert(id, client);
        BatchOutput { data: out.take(), close }
    }

    /// Runs a command read back from the AOF, as the loader client (never
    /// blocks, replies dropped). An unknown command is an error, as in Redis.
    pub fn replay(&mut self, args: &[&[u8]]) -> Result<(), String> {
        if self.commands.get(args[0]).is_none() {
            return Err(format!("Unknown command '{}' reading the append only file", String::from_utf8_lossy(args[0])));
        }
        let mut loader = std::mem::take(&mut self.loader);
        let mut out = Reply::new(false);
        self.process(&mut loader, args, &mut out);
        self.loader = loader;
        Ok(())
    }

    /// Runs queued batches until they are done or the client blocks (or a
    /// pause holds it); true if the connection must close after the output.
    pub(crate) fn drain_pending(&mut self, client: &mut Client, out: &mut Reply) -> bool {
        while client.blocked.is_none() && !client.paused {
            let Some(batch) = client.pending.pop_front() else { break };
            let mut args: Vec<&[u8]> = Vec::with_capacity(8);
            for (i, cmd) in batch.commands().enumerate() {
                cmd.collect_into(&mut args);
                match self.process(client, &args, out) {
                    Flow::Continue => {}
                    Flow::Close => {
                        client.pending.clear();
                        return true;
                    }
                    Flow::Blocked => {
                        if i + 1 < batch.len() {
                            client.pending.push_front(batch.tail(i + 1));
                        }
                        return false;
                    }
                    Flow::Paused => {
                        // The held command runs again when the pause ends.
                        client.pending.push_front(batch.tail(i));
                        return false;
                    }
                }
            }
        }
        false
    }

    /// One command, then its error replies counted for INFO errorstats.
    fn process(&mut self, client: &mut Client, args: &[&[u8]], out: &mut Reply) -> Flow {
        let reply_start = out.buf.len();
        let silencing = client.reply_mode != ReplyMode::On;
        if silencing {
            out.track_pushes();
        }
        let outer_client = self.tracking.current.replace(client.id);
        let flow = self.check_and_call(client, args, out);
        self.deliver_held(client, out, reply_start);
        let finished = !matches!(flow, Flow::Blocked | Flow::Paused);
        // CLIENT REPLY itself changes the mode: settle by the mode it left.
        if (silencing || client.reply_mode != ReplyMode::On) && finished {
            client.settle_reply(out, reply_start);
        }
        self.deliver_tracking_notices(client, out);
        if finished && self.tracking.client_count() > 0 {
            self.end_caching_window(client, args);
        }
        self.tracking.current = outer_client;
        self.count_errors(out);
        flow
    }

    pub(crate) fn count_errors(&mut self, out: &mut Reply) {
        if out.error_count() == 0 {
            return;
        }
        for message in out.take_errors().into_iter().filter(|m| !m.is_empty()) {
            self.stats.commands.error_replied(&message);
        }
    }

    /// Refuses the command (counted as a rejected call) with `message`.
    fn reject(&mut self, spec: &'static CommandSpec, args: &[&[u8]], out: &mut Reply, message: &str) -> Flow {
        let id = self.commands.id(spec);
        self.stats.commands.rejected(id, spec, args);
        out.error(message);
        Flow::Continue
    }

    // One caller: kept inline (out of line, callgrind counted ~15 more
    // instructions a SET/GET).
    #[inline(always)]
    fn check_and_call(&mut self, client: &mut Client, args: &[&[u8]], out: &mut Reply) -> Flow {
        self.now = crate::util::now_ms();
        let Some(spec) = self.commands.get(args[0]) else {
            let mut shown = String::new();
            for a in &args[1..] {
                if shown.len() >= 128 {
                    break;
                }
                shown.push_str(&format!("'{}' ", String::from_utf8_lossy(a)));
            }
            out.error(&format!(
                "ERR unknown command '{}', with args beginning with: {}",
                String::from_utf8_lossy(&args[0][..args[0].len().min(128)]),
                shown
            ));
            client.multi_error |= client.multi.is_some();
            return Flow::Continue;
        };
        client.last_cmd.clear();
        client.last_cmd.push_str(spec.name);
        if !spec.arity_ok(args.len()) {
            client.multi_error |= client.multi.is_some();
            let message = format!("ERR wrong number of arguments for '{}' command", spec.name);
            return self.reject(spec, args, out, &message);
        }
        if spec.has(table::PROTECTED) && !self.config.enable_debug_command.allows(client.is_local()) {
            client.multi_error |= client.multi.is_some();
            let message = ProtectedAction::refusal("DEBUG", "enable-debug-command");
            return self.reject(spec, args, out, &message);
        }
        if !client.authenticated && !spec.has(table::NO_AUTH) && self.acl.auth_required() {
            client.multi_error |= client.multi.is_some();
            return self.reject(spec, args, out, "NOAUTH Authentication required.");
        }
        if !self.acl.unrestricted(client.user) {
            let context = if client.multi.is_some() { Context::Multi } else { Context::TopLevel };
            if let Some((refusal, name)) = self.acl_refusal(client, spec, args, context) {
                client.multi_error |= client.multi.is_some();
                let message = self.abort_if_exec(spec, client, refusal.error(name));
                return self.reject(spec, args, out, &message);
            }
        }
        if client.in_pubsub_mode() && !spec.has(table::PUBSUB_CONTEXT) {
            let name = super::command_stats::subcommand_name(spec, args).unwrap_or(spec.name);
            let message = format!(
                "ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
            );
            return self.reject(spec, args, out, &message);
        }
        if self.persistence.loading && !spec.has(table::LOADING) && !client.loader {
            return self.reject(spec, args, out, LOADING_ERROR);
        }
        if self.config.maxmemory != 0 && self.refused_for_memory(spec, client, args) {
            client.multi_error |= client.multi.is_some();
            return self.reject(spec, args, out, super::maxmemory::OOM_ERROR);
        }
        if self.tracking.client_count() > 0 {
            // Invalidations from evictions and the table limit precede the
            // reply, as Redis sends them before the command runs.
            self.limit_tracking_table();
            self.deliver_tracking_notices(client, out);
        }
        if let Some(err) = self.writes_refused().filter(|_| self.may_write(spec, args)) {
            client.multi_error |= client.multi.is_some();
            return self.reject(spec, args, out, &err);
        }
        if self.pause.is_active() && self.pause_holds(spec, client, args) {
            self.hold_for_pause(client);
            return Flow::Paused;
        }
        if let Some(queue) = client.multi.as_mut().filter(|_| !spec.has(table::NO_MULTI)) {
            queue.push(args.iter().map(|a| a.to_vec()).collect());
            out.simple("QUEUED");
            return Flow::Continue;
        }
        let block = self.call(spec, client, args, out, false);
        self.feed_monitors(spec, client, args);
        if let Some(req) = block {
            let db = client.db;
            self.blocking.add(client.id, db, &req.keys);
            client.blocked = Some(Blocked {
                command: req.command.unwrap_or_else(|| args.iter().map(|a| a.to_vec()).collect()),
                keys: req.keys,
                db,
                deadline: req.deadline,
            });
            return Flow::Blocked;
        }
        if self.blocking.has_ready() {
            self.serve_ready_keys();
        }
        self.resume_paused();
        if client.closing {
            return Flow::Close;
        }
        Flow::Continue
    }

    /// Whether persistence errors (MISCONF) refuse the command: a write or
    /// `denyoom` command, a FUNCTION subcommand that changes the libraries,
    /// or a script or function that declared flags without `no-writes`
    /// (Redis then goes by those rather than the command's own).
    fn may_write(&self, spec: &CommandSpec, args: &[&[u8]]) -> bool {
        spec.has(table::DENYOOM)
            || spec.is_write()
            || (spec.has(table::CONTAINER) && crate::commands::functions::changes_libraries(args))
            || (spec.has(table::MAY_REPLICATE)
                && crate::scripting::declared_flags(self, args).is_some_and(|f| !f.no_writes))
    }

    /// A refused EXEC discards any transaction and says so, as Redis's
    /// rejectCommand does; other commands keep their `message`.
    fn abort_if_exec(&mut self, spec: &CommandSpec, client: &mut Client, message: String) -> String {
        if spec.name != "exec" {
            return message;
        }
        client.multi = None;
        self.watches.unwatch_all(client.id, &client.watched);
        client.watched.clear();
        format!("EXECABORT Transaction discarded because of: {message}")
    }

    /// Puts the command in the slow log if it took long enough (EXEC
    /// itself never: the commands it ran are logged one by one).
    fn log_if_slow(&mut self, spec: &CommandSpec, client: &Client, args: &[&[u8]], micros: u64) {
        let threshold = self.config.slowlog_log_slower_than;
        if threshold < 0 || micros < threshold as u64 || spec.name == "exec" {
            return;
        }
        let name = client.name.as_deref().unwrap_or_default();
        let max_len = self.config.slowlog_max_len as usize;
        self.slowlog.push(args, micros, self.now / 1000, &client.addr, name, max_len);
    }

    /// Feeds the latency monitor (it keeps only what reaches
    /// `latency-monitor-threshold`).
    pub fn add_latency_sample(&mut self, event: &'static str, millis: u64) {
        let threshold = self.config.latency_monitor_threshold;
        self.latency.add_if_needed(event, millis, threshold, self.now / 1000);
    }

    /// Runs one command and records its effect. Returns a block request if
    /// the command parked the client.
    pub fn call(
        &mut self,
        spec: &'static CommandSpec,
        client: &mut Client,
        args: &[&[u8]],
        out: &mut Reply,
        no_block: bool,
    ) -> Option<BlockRequest> {
        let dirty_before = self.dirty;
        let db = client.db;
        let errors_before = out.error_count();
        // Where the last call nested in this one (EXEC's commands) left the
        // error count of this reply buffer: errors before it are theirs.
        self.inner_errors_mark = None;
        let started = self.clock.raw();
        let mut call = Call::new(args, out, client);
        call.no_block = no_block || call.client.loader;
        let outer_writing = std::mem::replace(&mut self.writing, spec.is_write());
        (spec.handler)(self, &mut call);
        self.writing = outer_writing;
        let Call { records, record_count, block, .. } = call;
        self.track_reads(spec, client, args);
        // The AOF's replayed commands are not counted (Redis runs them
        // outside call()); one that blocked is timed once, when it finally runs.
        if !client.loader {
            self.stats.total_commands_processed += 1;
            if block.is_none() {
                // As Redis: a command failed if it replied an error itself,
                // after the last command it ran (EXEC is not failed by the
                // errors of its transaction's commands).
                let buffer = std::ptr::from_ref(out) as usize;
                let own_errors_from = match self.inner_errors_mark {
                    Some((inner_buffer, count)) if inner_buffer == buffer => count,
                    _ => errors_before,
                };
                let failed = out.error_count() > own_errors_from;
                let nanos = self.clock.delta_as_nanos(started, self.clock.raw());
                let id = self.commands.id(spec);
                let track_latency = self.config.latency_tracking;
                self.stats.commands.called(id, spec, args, Timed { nanos, failed, track_latency });
                self.log_if_slow(spec, client, args, nanos / 1000);
                let event = if spec.has(table::FAST) { "fast-command" } else { "command" };
                self.add_latency_sample(event, nanos / 1_000_000);
            }
        }
        self.inner_errors_mark = Some((std::ptr::from_ref(out) as usize, out.error_count()));
        let changed = self.dirty != dirty_before;
        match records {
            Some(records) => self.aof.encoded(db, &records, record_count),
            None if changed => self.aof.command(db, args),
            None => {}
        }
        if changed && spec.is_write() && !spec.has(table::MARKS_OWN_WRITES) {
            for i in spec.key_indexes(args.len()) {
                self.signal_modified(db, args[i]);
            }
        }
        block
    }
}
