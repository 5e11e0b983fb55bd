//! The keyspace actor: sole owner of the data (the `Engine`), on its own
//! arbiter thread. It runs each batch to completion, so commands never
//! interleave, and forwards replies, pub/sub messages and closes.

use crate::actors::messages::{Connect, Deliver, Disconnect, Exec, ProtocolError, Shutdown};
use actix::prelude::*;
use forkv::engine::{ClientId, Engine, Outbound, Request};
use slog::{info, warn, Logger};
use std::collections::HashMap;
use std::time::Duration;

pub struct Keyspace {
    engine: Engine,
    clients: HashMap<ClientId, Recipient<Deliver>>,
    log: Logger,
}

impl Keyspace {
    pub fn new(engine: Engine, log: Logger) -> Keyspace {
        Keyspace { engine, clients: HashMap::new(), log }
    }

    fn send(&self, id: ClientId, msg: Deliver) {
        if let Some(r) = self.clients.get(&id) {
            r.do_send(msg);
        }
    }

    /// After every message: deliver what commands produced for other
    /// clients and carry out persistence requests.
    fn after_commands(&mut self) {
        for (id, out) in std::mem::take(&mut self.engine.outbox) {
            match out {
                Outbound::Data(bytes) => {
                    self.engine.stats.total_net_output_bytes += bytes.len() as u64;
                    self.send(id, Deliver::Data(bytes));
                }
                Outbound::Close => self.send(id, Deliver::Close),
            }
        }
        for request in std::mem::take(&mut self.engine.requests) {
            self.handle_request(request);
        }
    }

    fn handle_request(&mut self, request: Request) {
        match request {
            Request::Shutdown { .. } => self.shutdown("SHUTDOWN command"),
            other => warn!(self.log, "persistence request not available yet"; "request" => format!("{other:?}")),
        }
    }

    fn shutdown(&mut self, reason: &str) {
        info!(self.log, "User requested shutdown..."; "reason" => reason);
        if !self.engine.config.pidfile.is_empty() {
            let _ = std::fs::remove_file(&self.engine.config.pidfile);
        }
        info!(self.log, "forkv is now ready to exit, bye bye...");
        System::current().stop();
    }
}

impl Actor for Keyspace {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let period = Duration::from_millis(1000 / self.engine.config.hz.max(1));
        ctx.run_interval(period, |act, _| {
            act.engine.cron();
            act.after_commands();
        });
    }
}

impl Handler<Connect> for Keyspace {
    type Result = ();

    fn handle(&mut self, msg: Connect, _: &mut Context<Self>) {
        if self.engine.connected_clients() as u64 >= self.engine.config.maxclients {
            self.engine.stats.rejected_connections += 1;
            msg.deliver.do_send(Deliver::Data("-ERR max number of clients reached\r\n".into()));
            msg.deliver.do_send(Deliver::Close);
            return;
        }
        self.engine.connect(msg.id, msg.addr, msg.laddr);
        self.clients.insert(msg.id, msg.deliver);
    }
}

impl Handler<Exec> for Keyspace {
    type Result = ();

    fn handle(&mut self, msg: Exec, _: &mut Context<Self>) {
        if !self.clients.contains_key(&msg.id) {
            return;
        }
        self.engine.stats.total_net_input_bytes += msg.bytes_read as u64;
        let out = self.engine.execute(msg.id, msg.batch);
        if !out.data.is_empty() {
            self.engine.stats.total_net_output_bytes += out.data.len() as u64;
            self.send(msg.id, Deliver::Data(out.data.freeze()));
        }
        if out.close {
            self.send(msg.id, Deliver::Close);
        }
        self.after_commands();
    }
}

impl Handler<ProtocolError> for Keyspace {
    type Result = ();

    fn handle(&mut self, msg: ProtocolError, _: &mut Context<Self>) {
        let text = format!("-ERR {}\r\n", msg.message.replace(['\r', '\n'], " "));
        self.send(msg.id, Deliver::Data(text.into()));
        self.send(msg.id, Deliver::Close);
        self.engine.disconnect(msg.id);
        self.clients.remove(&msg.id);
    }
}

impl Handler<Disconnect> for Keyspace {
    type Result = ();

    fn handle(&mut self, msg: Disconnect, _: &mut Context<Self>) {
        self.engine.disconnect(msg.id);
        self.clients.remove(&msg.id);
    }
}

impl Handler<Shutdown> for Keyspace {
    type Result = ();

    fn handle(&mut self, msg: Shutdown, _: &mut Context<Self>) {
        self.shutdown(msg.reason);
    }
}
