//! An AOF written by forkv loads into Debian's redis-server (7.0) with the
//! same keys, values and expiries. Skips with a note when redis-server is
//! not installed.

mod aof_support;
mod common;

use aof_support::{assert_same, dump, wait_until};
use common::{free_port, Server};
use std::process::{Command, Stdio};
use std::time::Duration;

struct Redis(std::process::Child);

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn forkv_aof_loads_into_redis_server_with_the_same_data() {
    if Command::new("redis-server").arg("--version").output().is_err() {
        eprintln!("SKIPPED: redis-server is not installed (tests/run.sh installs it)");
        return;
    }
    let mut server = Server::start_with(&["--appendonly", "yes", "--appendfsync", "always", "--save", ""]);
    let mut con = server.client();
    for db in 0..4u32 {
        redis::cmd("SELECT").arg(db).query::<()>(&mut con).unwrap();
        for i in 0..30 {
            redis::cmd("SET").arg(format!("s{i}")).arg(format!("{db}/{i}")).query::<()>(&mut con).unwrap();
        }
        redis::cmd("SET").arg("ex").arg("v").arg("EX").arg(100_000).query::<()>(&mut con).unwrap();
        redis::cmd("SET").arg("px").arg("v").arg("PX").arg(90_000_000).query::<()>(&mut con).unwrap();
        redis::cmd("SETEX").arg("setex").arg(200_000).arg("v").query::<()>(&mut con).unwrap();
        redis::cmd("EXPIRE").arg("s1").arg(300_000).query::<i64>(&mut con).unwrap();
        redis::cmd("PEXPIREAT").arg("s2").arg(4_102_444_800_000i64).query::<i64>(&mut con).unwrap();
        redis::cmd("INCRBYFLOAT").arg("float").arg("3.0e3").query::<String>(&mut con).unwrap();
        redis::cmd("INCRBYFLOAT").arg("float").arg("-0.125").query::<String>(&mut con).unwrap();
        redis::cmd("INCRBY").arg("int").arg(db * 1000 + 7).query::<i64>(&mut con).unwrap();
        redis::cmd("APPEND").arg("s3").arg("+appended").query::<i64>(&mut con).unwrap();
        redis::cmd("DEL").arg("s4").query::<i64>(&mut con).unwrap();
        redis::cmd("PERSIST").arg("ex").query::<i64>(&mut con).unwrap();
        redis::cmd("SET").arg("ex").arg("v2").arg("KEEPTTL").query::<()>(&mut con).unwrap();
        redis::cmd("RENAME").arg("s5").arg("renamed").query::<()>(&mut con).unwrap();
        redis::cmd("GETEX").arg("s6").arg("EX").arg(50_000).query::<String>(&mut con).unwrap();
        redis::cmd("MSET").arg("m1").arg("a").arg("m2").arg("b").query::<()>(&mut con).unwrap();
        let _: () = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg("tx")
            .arg("in-multi")
            .cmd("INCR")
            .arg("int")
            .cmd("EXPIRE")
            .arg("tx")
            .arg(400_000)
            .query(&mut con)
            .unwrap();
        redis::cmd("SET").arg("bin\x00key").arg("\x01\x02\r\n").query::<()>(&mut con).unwrap();
    }
    redis::cmd("SELECT").arg(0).query::<()>(&mut con).unwrap();
    redis::cmd("SET").arg("moved").arg("to-3").query::<()>(&mut con).unwrap();
    assert_eq!(redis::cmd("MOVE").arg("moved").arg(3).query::<i64>(&mut con).unwrap(), 1);
    redis::cmd("SWAPDB").arg(1).arg(2).query::<()>(&mut con).unwrap();
    let want = dump(&mut con, 4);
    drop(con);
    assert!(server.stop().success());

    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(server.path("appendonly.aof"), dir.path().join("appendonly.aof")).unwrap();
    let port = free_port();
    let _redis = Redis(
        Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "yes", "--appendfilename", "appendonly.aof"])
            .arg("--dir")
            .arg(dir.path())
            .arg("--logfile")
            .arg(dir.path().join("redis.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server"),
    );
    let url = format!("redis://127.0.0.1:{port}/");
    let log = || std::fs::read_to_string(dir.path().join("redis.log")).unwrap_or_default();
    let mut con = None;
    wait_until(Duration::from_secs(30), "redis-server to load the AOF", || {
        con = redis::Client::open(url.as_str()).unwrap().get_connection().ok();
        con.as_mut().is_some_and(|c| redis::cmd("PING").query::<String>(c).is_ok())
    });
    let mut con = con.unwrap();
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut con).unwrap();
    assert!(info.contains("aof_enabled:1") && info.contains("loading:0"), "{info}");
    assert!(log().contains("DB loaded from append only file"), "redis log:\n{}", log());
    assert_same(&want, &dump(&mut con, 4), "forkv's AOF loaded by redis-server");
}
