//! The fsync actor: runs on a thread of its own (the design's bio thread),
//! so fdatasync never stalls the keyspace or the AOF writer. It answers each
//! request with the offset that is now durable.

use crate::actors::aof_writer::AofWriter;
use crate::actors::messages::{FsyncDone, FsyncRequest};
use actix::prelude::*;

pub struct Fsync {
    pub writer: Addr<AofWriter>,
}

impl Actor for Fsync {
    type Context = Context<Self>;
}

impl Handler<FsyncRequest> for Fsync {
    type Result = ();

    fn handle(&mut self, msg: FsyncRequest, _: &mut Context<Self>) {
        let result = nix::unistd::fdatasync(&*msg.file).map_err(|e| e.desc().to_string());
        self.writer.do_send(FsyncDone { end: msg.end, result });
    }
}
