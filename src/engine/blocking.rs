//! Clients parked by blocking commands (BLPOP, BLMOVE, …): who waits on which
//! key in arrival order, and which keys were written since the last check.
//! WAIT parks a client on no key: only its timeout (or its disconnect)
//! ends the wait.

use super::client::{Blocked, ReplyMode};
use super::command_stats::Timed;
use super::{Client, ClientId, Engine, Outbound};
use crate::reply::Reply;
use std::collections::{HashMap, VecDeque};

#[derive(Default)]
pub struct Blocking {
    waiters: HashMap<(usize, Vec<u8>), VecDeque<ClientId>>,
    ready: Vec<(usize, Vec<u8>)>,
    /// CLIENT UNBLOCK's targets, ended after the command (true: with an error).
    unblocked: Vec<(ClientId, bool)>,
}

impl Blocking {
    pub fn add(&mut self, id: ClientId, db: usize, keys: &[Vec<u8>]) {
        for key in keys {
            let q = self.waiters.entry((db, key.clone())).or_default();
            if !q.contains(&id) {
                q.push_back(id);
            }
        }
    }

    pub fn remove(&mut self, id: ClientId, db: usize, keys: &[Vec<u8>]) {
        for key in keys {
            let k = (db, key.clone());
            if let Some(q) = self.waiters.get_mut(&k) {
                q.retain(|&x| x != id);
                if q.is_empty() {
                    self.waiters.remove(&k);
                }
            }
        }
    }

    /// A key was written: if anyone waits on it, check it after the command.
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        if self.waiters.is_empty() {
            return;
        }
        let k = (db, key.to_vec());
        if self.waiters.contains_key(&k) && !self.ready.contains(&k) {
            self.ready.push(k);
        }
    }

    /// Whether client `id` is parked on `key` (a re-run of its command).
    pub fn waits(&self, id: ClientId, db: usize, key: &[u8]) -> bool {
        self.waiters.get(&(db, key.to_vec())).is_some_and(|q| q.contains(&id))
    }

    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty() || !self.unblocked.is_empty()
    }

    fn waiting_on(&self, db: usize, key: &[u8]) -> Vec<ClientId> {
        self.waiters.get(&(db, key.to_vec())).map(|q| q.iter().copied().collect()).unwrap_or_default()
    }
}

impl Engine {
    /// Clients parked by a blocking command (INFO's blocked_clients).
    pub fn blocked_clients(&self) -> usize {
        self.clients.values().filter(|c| c.blocked.is_some()).count()
    }

    /// Parked clients with a deadline (INFO's clients_in_timeout_table:
    /// Redis leaves those that wait forever out of its timeout table).
    pub fn clients_in_timeout_table(&self) -> usize {
        self.clients.values().filter(|c| c.blocked.as_ref().is_some_and(|b| b.deadline.is_some())).count()
    }

    /// Re-runs the commands of clients blocked on keys that got written, in
    /// the order they blocked; each served client's reply and its commands
    /// queued behind go out through the outbox.
    pub fn serve_ready_keys(&mut self) {
        for (id, error) in std::mem::take(&mut self.blocking.unblocked) {
            if error {
                self.unblock_with_error(id);
            } else {
                self.retry_blocked(id, true);
            }
        }
        while !self.blocking.ready.is_empty() {
            let ready = std::mem::take(&mut self.blocking.ready);
            for (db, key) in ready {
                for id in self.blocking.waiting_on(db, &key) {
                    self.retry_blocked(id, false);
                }
            }
        }
    }

    /// Runs a blocked client's command again. With `timed_out` it may not
    /// block any more and answers as it would have without data.
    pub(crate) fn retry_blocked(&mut self, id: ClientId, timed_out: bool) {
        let Some((mut client, blocked)) = self.take_blocked(id) else { return };
        self.detached += 1;
        let mut out = Reply::new(client.resp3);
        let args: Vec<&[u8]> = blocked.command.iter().map(|a| a.as_slice()).collect();
        let spec = self.commands.get(args[0]).expect("blocked command exists");
        self.now = crate::util::now_ms();
        let outer_client = self.tracking.current.replace(id);
        let block = self.call(spec, &mut client, &args, &mut out, timed_out);
        self.deliver_held(&client, &mut out, 0);
        self.deliver_tracking_notices(&client, &mut out);
        self.tracking.current = outer_client;
        match block {
            Some(_) => {
                // Still nothing to pop (another client was faster): keep waiting.
                client.blocked = Some(blocked);
                if !out.is_empty() {
                    // Only messages published while it ran (a key it found expired).
                    self.outbox.push((id, Outbound::Data(out.take().freeze())));
                }
            }
            None => self.finish_blocking(&mut client, &blocked, out),
        }
        self.detached -= 1;
        self.clients.insert(id, client);
    }

    /// Takes client `id` out of the map with what it waits for; a client
    /// that is not blocked stays where it is.
    fn take_blocked(&mut self, id: ClientId) -> Option<(Box<Client>, Blocked)> {
        let mut client = self.clients.remove(&id)?;
        match client.blocked.take() {
            Some(blocked) => Some((client, blocked)),
            None => {
                self.clients.insert(id, client);
                None
            }
        }
    }

    /// A blocked client got its reply in `out`: it stops waiting and runs
    /// the commands queued behind, and everything goes out.
    fn finish_blocking(&mut self, client: &mut Client, blocked: &Blocked, mut out: Reply) {
        let id = client.id;
        self.blocking.remove(id, blocked.db, &blocked.keys);
        self.count_errors(&mut out);
        if client.reply_mode != ReplyMode::On {
            client.settle_reply(&mut out, 0);
        }
        let close = self.drain_pending(client, &mut out);
        if !out.is_empty() {
            self.outbox.push((id, Outbound::Data(out.take().freeze())));
        }
        if close {
            self.outbox.push((id, Outbound::Close));
        }
    }

    /// CLIENT UNBLOCK: whether `id` waits in a blocking command; if so it
    /// is ended once the running command is done, as its timeout would, or
    /// with an -UNBLOCKED error (`error`).
    pub fn unblock_client(&mut self, id: ClientId, error: bool) -> bool {
        let blocked = self.clients.get(&id).is_some_and(|c| c.blocked.is_some());
        if !blocked || self.blocking.unblocked.iter().any(|&(target, _)| target == id) {
            return false;
        }
        self.blocking.unblocked.push((id, error));
        true
    }

    fn unblock_with_error(&mut self, id: ClientId) {
        let Some((mut client, blocked)) = self.take_blocked(id) else { return };
        self.detached += 1;
        let mut out = Reply::new(client.resp3);
        out.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
        // The call ends here, failed: counted as Redis's updateStatsOnUnblock.
        let args: Vec<&[u8]> = blocked.command.iter().map(|a| a.as_slice()).collect();
        let spec = self.commands.get(args[0]).expect("blocked command exists");
        let timed = Timed { nanos: 0, failed: true, track_latency: false };
        self.stats.commands.called(self.commands.id(spec), spec, &args, timed);
        self.finish_blocking(&mut client, &blocked, out);
        self.detached -= 1;
        self.clients.insert(id, client);
    }

    /// A command parked until the server did something for it (a SHUTDOWN
    /// whose final save failed, a DEBUG RELOAD) runs again to answer.
    pub fn answer_parked(&mut self, id: ClientId) {
        self.retry_blocked(id, true);
    }

    /// Times out blocked clients whose deadline passed.
    pub fn expire_blocked_clients(&mut self) {
        let now = self.now;
        let due: Vec<ClientId> = self
            .clients
            .values()
            .filter(|c| c.blocked.as_ref().and_then(|b| b.deadline).is_some_and(|d| d <= now))
            .map(|c| c.id)
            .collect();
        for id in due {
            self.retry_blocked(id, true);
        }
    }
}
