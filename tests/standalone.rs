//! The cluster, replication and module commands a standalone server
//! answers without those features: the same replies as redis-server 7.0
//! (skipped with a note when it is not installed), and forkv's own refusal
//! of the replication it does not have.

mod aof_support;
mod common;
mod helpers;
mod side_by_side;

use helpers::{start_raw, Resp};
use side_by_side::start_pair;

#[test]
fn cluster_replication_and_module_probes_answer_as_redis() {
    let Some(mut pair) = start_pair() else {
        eprintln!("redis-server not installed: skipped");
        return;
    };
    let cases: &[&[&str]] = &[
        &["CLUSTER", "INFO"],
        &["CLUSTER", "SLOTS"],
        &["CLUSTER", "help"],
        &["CLUSTER", "KEYSLOT", "k"],
        &["CLUSTER", "INFO", "extra"],
        &["CLUSTER", "SETSLOT", "1"],
        &["CLUSTER", "NOSUCH"],
        &["CLUSTER"],
        &["READONLY"],
        &["READWRITE"],
        &["ASKING"],
        &["READONLY", "x"],
        &["REPLICAOF", "NO", "ONE"],
        &["SLAVEOF", "no", "one"],
        &["REPLICAOF", "localhost", "abc"],
        &["REPLICAOF", "localhost", "70000"],
        &["REPLICAOF", "NO"],
        &["FAILOVER"],
        &["FAILOVER", "ABORT"],
        &["FAILOVER", "TIMEOUT", "0"],
        &["FAILOVER", "TIMEOUT", "abc"],
        &["FAILOVER", "FORCE", "FORCE"],
        &["FAILOVER", "TO", "h", "x"],
        &["FAILOVER", "TO", "h", "1", "TIMEOUT", "10", "FORCE"],
        &["FAILOVER", "bogus"],
        &["MODULE", "LIST"],
        &["MODULE", "HELP"],
        &["MODULE", "NOSUCH"],
        &["MODULE", "LIST", "x"],
        &["MODULE", "LOAD", "/nonexistent.so"],
        &["MODULE", "UNLOAD", "x"],
        &["MODULE"],
    ];
    for args in cases {
        let forkv = pair.forkv.cmd(args);
        let redis = pair.redis.cmd(args);
        assert_eq!(forkv, redis, "{args:?}");
    }
    let mut forkv = pair.forkv;
    assert_eq!(forkv.cmd(&["PING"]), Resp::Simple("PONG".into()), "still serving");
}

/// Following a master, or being one, is refused with a clear error
/// (redis-server would start replicating: not compared).
#[test]
fn replication_is_refused_clearly() {
    let (_server, mut r) = start_raw();
    for args in
        [&["REPLICAOF", "127.0.0.1", "6379"][..], &["SYNC"], &["PSYNC", "?", "-1"], &["REPLCONF", "rdb-only", "1"]]
    {
        let err = r.err(args);
        assert!(err.starts_with("ERR forkv does not replicate"), "{args:?}: {err}");
    }
}
