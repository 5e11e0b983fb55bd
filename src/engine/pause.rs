//! CLIENT PAUSE: while a pause lasts, the commands it covers (every one, or
//! those that may write or replicate) are held with their client's later
//! commands, and run in the order they were held once it ends; the data
//! stays as it is meanwhile (no active or lazy expiry deletes, no eviction).

use super::table::{self, CommandSpec};
use super::{Client, ClientId, Engine, Outbound};
use crate::reply::Reply;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Default)]
pub enum PauseKind {
    #[default]
    Off,
    /// Writes and commands that may replicate (PUBLISH, PFCOUNT, EVAL…).
    Write,
    All,
}

#[derive(Default)]
pub struct Pause {
    kind: PauseKind,
    /// Absolute end in ms.
    end: i64,
    /// Clients whose next command waits for the pause to end, in order.
    held: Vec<ClientId>,
    /// The pause ended: the held clients run after the current command.
    ended: bool,
}

impl Pause {
    pub fn is_active(&self) -> bool {
        self.kind != PauseKind::Off
    }

    pub fn held_count(&self) -> usize {
        self.held.len()
    }
}

impl Engine {
    /// CLIENT PAUSE: a pause already running only grows, to the stricter
    /// kind and the later end (Redis's pauseClients). Returns the end when
    /// the actor must arm a timer for it.
    pub fn pause_clients(&mut self, kind: PauseKind, end: i64) -> Option<i64> {
        let p = &mut self.pause;
        if p.is_active() {
            p.kind = p.kind.max(kind);
            p.end = p.end.max(end);
        } else {
            (p.kind, p.end) = (kind, end);
        }
        self.check_pause_end();
        self.pause.is_active().then_some(self.pause.end)
    }

    /// CLIENT UNPAUSE: ends the pause; what it held runs once the
    /// current command is done (`resume_paused`).
    pub fn unpause_clients(&mut self) {
        self.pause.kind = PauseKind::Off;
        self.pause.ended = !self.pause.held.is_empty();
    }

    /// Ends a pause whose time passed (from cron and the pause's timer);
    /// true while still paused.
    pub fn check_pause_end(&mut self) -> bool {
        if self.pause.is_active() && self.pause.end < crate::util::now_ms() {
            self.unpause_clients();
        }
        self.pause.is_active()
    }

    /// Whether the data must stay as it is: no expiry deletes, no eviction.
    pub fn data_frozen(&mut self) -> bool {
        self.pause.is_active() && self.check_pause_end()
    }

    /// Whether the pause holds this command (Redis's rule in processCommand:
    /// everything under ALL; under WRITE what may write or replicate, EXEC
    /// by what it queued).
    pub(crate) fn pause_holds(&self, spec: &CommandSpec, client: &Client, args: &[&[u8]]) -> bool {
        match self.pause.kind {
            PauseKind::Off => false,
            PauseKind::All => true,
            PauseKind::Write if spec.name == "exec" => client.multi.iter().flatten().any(|queued| {
                let args: Vec<&[u8]> = queued.iter().map(|a| a.as_slice()).collect();
                self.commands.get(args[0]).is_some_and(|spec| self.may_replicate(spec, &args))
            }),
            PauseKind::Write => self.may_replicate(spec, args),
        }
    }

    /// A write (FUNCTION LOAD and the like included), or a command flagged
    /// as one that may replicate; an EVAL or FCALL of a script or function
    /// that declared its flags goes by `no-writes` instead.
    fn may_replicate(&self, spec: &CommandSpec, args: &[&[u8]]) -> bool {
        if spec.has(table::MAY_REPLICATE) {
            if let Some(flags) = crate::scripting::declared_flags(self, args) {
                return !flags.no_writes;
            }
        }
        spec.is_write() || spec.has(table::MAY_REPLICATE) || crate::commands::functions::changes_libraries(args)
    }

    /// Parks a client whose command the pause holds.
    pub(crate) fn hold_for_pause(&mut self, client: &mut Client) {
        client.paused = true;
        self.pause.held.push(client.id);
    }

    pub(crate) fn forget_paused(&mut self, id: ClientId) {
        self.pause.held.retain(|&held| held != id);
    }

    /// After a pause ended, runs the held clients' commands, in the order
    /// they were held; one the pause holds again (a new pause began
    /// meanwhile) waits again.
    #[inline]
    pub fn resume_paused(&mut self) {
        if self.pause.ended {
            self.run_paused();
        }
    }

    #[cold]
    fn run_paused(&mut self) {
        self.pause.ended = false;
        for id in std::mem::take(&mut self.pause.held) {
            let Some(mut client) = self.clients.remove(&id) else { continue };
            client.paused = false;
            self.detached += 1;
            let mut out = Reply::new(client.resp3);
            let close = self.drain_pending(&mut client, &mut out);
            if !out.is_empty() {
                self.outbox.push((id, Outbound::Data(out.take().freeze())));
            }
            if close {
                self.outbox.push((id, Outbound::Close));
            }
            self.detached -= 1;
            self.clients.insert(id, client);
        }
    }
}
