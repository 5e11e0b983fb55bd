//! forkv and Debian's redis-server side by side, persistence off and DEBUG
//! allowed on both, one raw connection to each: the differential tests send
//! both the same commands and compare the replies.
#![allow(dead_code)]

use crate::aof_support::RedisServer;
use crate::common::Server;
use crate::helpers::Raw;

/// Fields drop in order: connections, servers, then redis's directory.
pub struct Pair {
    pub forkv: Raw,
    pub redis: Raw,
    pub forkv_server: Server,
    pub redis_server: RedisServer,
    _dir: tempfile::TempDir,
}

/// None (with a note) when redis-server is not installed.
pub fn start_pair() -> Option<Pair> {
    if !RedisServer::available() {
        return None;
    }
    let forkv_server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let (redis_server, _) = RedisServer::start(dir.path(), &["--appendonly", "no", "--enable-debug-command", "yes"]);
    Some(Pair {
        forkv: Raw::connect(forkv_server.port),
        redis: Raw::connect(redis_server.port),
        forkv_server,
        redis_server,
        _dir: dir,
    })
}
