//! forkv and Debian's redis-server side by side, persistence off and DEBUG
//! allowed on both, one raw connection to each: the differential tests send
//! both the same commands and compare the replies.
#![allow(dead_code)]

use crate::aof_support::RedisServer;
use crate::common::Server;
use crate::helpers::{Raw, Resp};

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

/// The command on both connections: the same reply, returned.
pub fn both_bytes(forkv: &mut Raw, redis: &mut Raw, args: &[&[u8]]) -> Resp {
    let f = forkv.cmd_bytes(args);
    let r = redis.cmd_bytes(args);
    assert_eq!(f, r, "{:?}", args.iter().map(|a| String::from_utf8_lossy(a)).collect::<Vec<_>>());
    f
}

/// `both_bytes` of text arguments.
pub fn both(forkv: &mut Raw, redis: &mut Raw, args: &[&str]) -> Resp {
    let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    both_bytes(forkv, redis, &bytes)
}

impl Pair {
    /// The command on both servers: the same reply, returned.
    pub fn both(&mut self, args: &[&str]) -> Resp {
        both(&mut self.forkv, &mut self.redis, args)
    }

    pub fn both_bytes(&mut self, args: &[&[u8]]) -> Resp {
        both_bytes(&mut self.forkv, &mut self.redis, args)
    }

    /// `line` split on spaces, on both servers.
    pub fn line(&mut self, line: &str) -> Resp {
        self.both(&line.split(' ').collect::<Vec<_>>())
    }

    /// An error on both servers, the same text.
    pub fn error(&mut self, line: &str, want: &str) {
        assert_eq!(self.line(line), Resp::err(want), "{line}");
    }
}
