//! The fsync actor: runs on a thread of its own (the design's bio thread),
//! so fdatasync never stalls the keyspace or the AOF writer. It tells the
//! keyspace directly which offset is now durable (replies waiting on
//! `appendfsync always` go out one hop sooner), and the writer, which
//! schedules the next fsync.

use crate::actors::aof_writer::AofWriter;
use crate::actors::keyspace::Keyspace;
use crate::actors::messages::{AofSynced, FsyncDone, FsyncRequest};
use actix::prelude::*;

pub struct Fsync {
    pub writer: Addr<AofWriter>,
    pub keyspace: Addr<Keyspace>,
}

impl Actor for Fsync {
    type Context = Context<Self>;
}

impl Handler<FsyncRequest> for Fsync {
    type Result = ();

    fn handle(&mut self, msg: FsyncRequest, _: &mut Context<Self>) {
        let result = nix::unistd::fdatasync(&*msg.file).map_err(|e| e.desc().to_string());
        if result.is_ok() {
            self.keyspace.do_send(AofSynced { end: msg.end });
        }
        self.writer.do_send(FsyncDone { end: msg.end, result });
    }
}
