//! A damaged AOF, with commands only or an RDB preamble before them: cut at
//! every byte of its last records it loads to a clean prefix, cut at a file
//! offset (and later writes survive the next restart); with
//! `aof-load-truncated no` startup refuses; corruption in the middle stops
//! startup naming the byte offset; damage inside the preamble always stops
//! startup; `forkv check-aof [--fix]` reports and repairs what it may.

mod aof_support;
mod common;

use aof_support::{assert_same, dump, spawn_raw, wait_exit, wait_rewrite_done, write_every_type, Dump};
use common::{binary, free_port, Server};
use std::time::Duration;

const ARGS: &[&str] = &["--appendonly", "yes", "--appendfsync", "always", "--save", ""];
/// The session writes to dbs 0 and 1, the preamble's keys are in 0..3.
const DBS: u32 = 3;

/// The AOF a short session writes, with the record boundaries a client
/// could observe (file length after each acknowledged command) and the
/// dataset at each boundary.
struct Recorded {
    file: Vec<u8>,
    states: Vec<(u64, Dump)>,
}

fn aof_len(server: &Server) -> u64 {
    std::fs::metadata(server.path("appendonly.aof")).map(|m| m.len()).unwrap_or(0)
}

type Step = Box<dyn Fn(&mut redis::Connection)>;

/// With `preamble`, keys of every type are written and rewritten into an
/// RDB preamble first: the session's records follow it.
fn record_session(preamble: bool) -> Recorded {
    let mut server = Server::start_with(ARGS);
    let mut con = server.client();
    if preamble {
        write_every_type(&mut con, "base");
        let _: String = redis::cmd("BGREWRITEAOF").query(&mut con).unwrap();
        wait_rewrite_done(&mut con);
        assert!(std::fs::read(server.path("appendonly.aof")).unwrap().starts_with(b"REDIS"));
    }
    let mut states = vec![(aof_len(&server), dump(&mut con, DBS))];
    let steps: Vec<Step> = vec![
        Box::new(|c| redis::cmd("SET").arg("a").arg("1").query(c).unwrap()),
        Box::new(|c| redis::cmd("SET").arg("b").arg("two").arg("EX").arg(100_000).query(c).unwrap()),
        Box::new(|c| redis::cmd("INCRBYFLOAT").arg("f").arg("1.5").query::<String>(c).map(|_| ()).unwrap()),
        Box::new(|c| redis::cmd("SELECT").arg(1).query(c).unwrap()),
        Box::new(|c| redis::cmd("SET").arg("in1").arg("x").query(c).unwrap()),
        Box::new(|c| redis::cmd("SELECT").arg(0).query(c).unwrap()),
        Box::new(|c| redis::cmd("EXPIRE").arg("a").arg(50_000).query::<i64>(c).map(|_| ()).unwrap()),
        Box::new(|c| redis::cmd("INCR").arg("n").query::<i64>(c).map(|_| ()).unwrap()),
        // The last records: a transaction, then two plain writes.
        Box::new(|c| {
            redis::pipe()
                .atomic()
                .cmd("SET")
                .arg("t1")
                .arg("x")
                .cmd("INCR")
                .arg("n")
                .cmd("DEL")
                .arg("f")
                .query::<()>(c)
                .unwrap()
        }),
        Box::new(|c| redis::cmd("APPEND").arg("a").arg("-more").query::<i64>(c).map(|_| ()).unwrap()),
        Box::new(|c| redis::cmd("SET").arg("last").arg("value").query(c).unwrap()),
    ];
    for step in steps {
        step(&mut con);
        let len = aof_len(&server);
        if len != states.last().unwrap().0 {
            states.push((len, dump(&mut con, DBS)));
        }
    }
    drop(con);
    assert!(server.stop().success());
    let file = std::fs::read(server.path("appendonly.aof")).unwrap();
    assert_eq!(file.len() as u64, states.last().unwrap().0);
    Recorded { file, states }
}

impl Recorded {
    /// The dataset a file cut at `offset` must load to, and the prefix length.
    fn expected_at(&self, offset: u64) -> &(u64, Dump) {
        self.states.iter().rev().find(|(len, _)| *len <= offset).expect("the empty state")
    }

    /// Where the RDB preamble ends (0 without one).
    fn preamble_len(&self) -> u64 {
        forkv::rdb::check_stream(&self.file[..]).map_or(0, |report| report.bytes)
    }
}

#[test]
fn aof_cut_at_every_byte_of_its_last_records_loads_a_clean_prefix() {
    cut_at_every_byte_of_the_last_records(&record_session(false));
}

#[test]
fn preamble_aof_cut_at_every_byte_of_its_last_records_loads_a_clean_prefix() {
    let rec = record_session(true);
    assert!(rec.preamble_len() > 0 && rec.preamble_len() == rec.states[0].0, "the session starts after the preamble");
    cut_at_every_byte_of_the_last_records(&rec);
}

/// Every offset the loader and check-aof name is the file's, after a
/// preamble too.
fn cut_at_every_byte_of_the_last_records(rec: &Recorded) {
    // The last four records: INCR, the MULTI/EXEC block, APPEND, SET.
    let from = rec.states[rec.states.len() - 5].0;
    let total = rec.file.len() as u64;
    let mut server = Server::start_with(ARGS);
    let mut checked = 0;
    for offset in from..total {
        server.kill();
        let (prefix, want) = rec.expected_at(offset);
        // check-aof names the prefix; --fix cuts the same copy back to it.
        let copy = server.path("copy.aof");
        std::fs::write(&copy, &rec.file[..offset as usize]).unwrap();
        let (ok, out) = check_aof(&[copy.to_str().unwrap()]);
        assert_eq!(ok, offset == *prefix, "check-aof at {offset}: {out}");
        assert!(ok || out.contains(&format!("after byte {prefix}")), "check-aof at {offset}: {out}");
        let (_, out) = check_aof(&["--fix", copy.to_str().unwrap()]);
        assert_eq!(std::fs::metadata(&copy).unwrap().len(), *prefix, "check-aof --fix at {offset}: {out}");
        std::fs::write(server.path("appendonly.aof"), &rec.file[..offset as usize]).unwrap();
        server.spawn();
        let mut con = server.client();
        assert_same(want, &dump(&mut con, DBS), &format!("cut at {offset} of {total}"));
        assert_eq!(aof_len(&server), *prefix, "cut at {offset}: the file was not cut back to the last whole record");
        // A write after the repaired load must survive the next restart.
        redis::cmd("SET").arg("after").arg(offset).query::<()>(&mut con).unwrap();
        let mut want = want.clone();
        want.insert(
            (0, "after".into()),
            aof_support::Entry { kind: "string".into(), value: vec![offset.to_string()], expire_at: -1 },
        );
        drop(con);
        assert!(server.stop().success());
        server.spawn();
        let mut con = server.client();
        assert_same(&want, &dump(&mut con, DBS), &format!("cut at {offset}, then one more write"));
        checked += 1;
    }
    assert!(checked > 100, "only {checked} offsets");
    assert!(server.log().contains("short read while loading"), "log:\n{}", server.log());
}

#[test]
fn truncated_aof_refuses_to_load_with_aof_load_truncated_no() {
    refuses_every_cut_with_aof_load_truncated_no(&record_session(false));
}

#[test]
fn truncated_preamble_aof_refuses_to_load_with_aof_load_truncated_no() {
    refuses_every_cut_with_aof_load_truncated_no(&record_session(true));
}

fn refuses_every_cut_with_aof_load_truncated_no(rec: &Recorded) {
    let boundaries: Vec<u64> = rec.states.iter().map(|(l, _)| *l).collect();
    let total = rec.file.len() as u64;
    let from = boundaries[boundaries.len() - 5];
    let dir = tempfile::tempdir().unwrap();
    let mut args = ARGS.to_vec();
    args.extend(["--aof-load-truncated", "no"]);
    for offset in (from..total).filter(|o| !boundaries.contains(o)) {
        std::fs::write(dir.path().join("appendonly.aof"), &rec.file[..offset as usize]).unwrap();
        let _ = std::fs::remove_file(dir.path().join("forkv.log"));
        let mut child = spawn_raw(dir.path(), free_port(), &args);
        let status = wait_exit(&mut child, Duration::from_secs(20)).expect("startup must fail, not serve");
        assert!(!status.success(), "cut at {offset}: exit status {status}");
        let log = std::fs::read_to_string(dir.path().join("forkv.log")).unwrap();
        assert!(log.contains("check-aof --fix") && log.contains("aof-load-truncated"), "cut at {offset}, log:\n{log}");
        let prefix = rec.expected_at(offset).0;
        assert!(log.contains(&format!("after byte {prefix}")), "cut at {offset}: log must name byte {prefix}:\n{log}");
        // Refusing must leave the file alone.
        assert_eq!(std::fs::metadata(dir.path().join("appendonly.aof")).unwrap().len(), offset);
    }
}

fn check_aof(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(binary()).arg("check-aof").args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

#[test]
fn corruption_in_the_middle_stops_startup_and_check_aof_fix_repairs() {
    let rec = record_session(false);
    let total = rec.file.len();
    // Break the record that starts at the 4th boundary: its `*` becomes `!`.
    let (bad_at, want) = rec.states[4].clone();
    let mut damaged = rec.file.clone();
    assert_eq!(damaged[bad_at as usize], b'*');
    damaged[bad_at as usize] = b'!';

    let dir = tempfile::tempdir().unwrap();
    let aof = dir.path().join("appendonly.aof");
    std::fs::write(&aof, &damaged).unwrap();
    let mut child = spawn_raw(dir.path(), free_port(), ARGS);
    let status = wait_exit(&mut child, Duration::from_secs(20)).expect("startup must fail");
    assert!(!status.success());
    let log = std::fs::read_to_string(dir.path().join("forkv.log")).unwrap();
    assert!(log.contains(&format!("at byte {bad_at}")), "log must name byte {bad_at}:\n{log}");
    assert!(log.contains("check-aof --fix"), "log:\n{log}");
    assert_eq!(std::fs::read(&aof).unwrap(), damaged, "a failed load must not touch the file");

    // check-aof reports, --fix truncates to the last valid command.
    let path = aof.to_str().unwrap();
    let (ok, out) = check_aof(&[path]);
    assert!(!ok, "check-aof on a damaged file must fail: {out}");
    assert!(out.contains(&bad_at.to_string()) && out.contains("--fix"), "{out}");
    assert_eq!(std::fs::read(&aof).unwrap().len(), total, "check-aof without --fix must not change the file");
    let (ok, out) = check_aof(&["--fix", path]);
    assert!(ok, "{out}");
    assert_eq!(std::fs::metadata(&aof).unwrap().len(), bad_at);
    let (ok, out) = check_aof(&[path]);
    assert!(ok && out.contains("valid"), "{out}");
    let (ok, out) = check_aof(&[]);
    assert!(!ok && out.contains("Usage"), "{out}");
    let (ok, _) = check_aof(&[dir.path().join("missing.aof").to_str().unwrap()]);
    assert!(!ok);

    // The repaired file loads the prefix before the damage.
    let port = free_port();
    let mut child = spawn_raw(dir.path(), port, ARGS);
    let url = format!("redis://127.0.0.1:{port}/");
    let mut con = None;
    aof_support::wait_until(Duration::from_secs(20), "the repaired server to answer", || {
        con = redis::Client::open(url.as_str()).unwrap().get_connection().ok();
        con.as_mut().is_some_and(|c| redis::cmd("PING").query::<String>(c).is_ok())
    });
    let got = dump(con.as_mut().unwrap(), DBS);
    let _ = child.kill();
    let _ = child.wait();
    assert_same(&want, &got, "after check-aof --fix");
}

#[test]
fn check_aof_accepts_a_whole_file() {
    for preamble in [false, true] {
        let rec = record_session(preamble);
        let dir = tempfile::tempdir().unwrap();
        let aof = dir.path().join("appendonly.aof");
        std::fs::write(&aof, &rec.file).unwrap();
        let (ok, out) = check_aof(&[aof.to_str().unwrap()]);
        assert!(ok && out.contains("is valid"), "{out}");
        assert_eq!(out.contains("RDB preamble is OK"), preamble, "{out}");
        let (ok, _) = check_aof(&["--fix", aof.to_str().unwrap()]);
        assert!(ok);
        assert_eq!(std::fs::read(&aof).unwrap(), rec.file);
    }
}

#[test]
fn damage_inside_the_preamble_stops_startup_and_check_aof_does_not_fix_it() {
    let rec = record_session(true);
    let preamble_len = rec.preamble_len() as usize;
    // A flipped byte inside a value: the checksum after the EOF opcode
    // catches it. A cut inside the preamble: it ends early. Either is fatal,
    // aof-load-truncated yes notwithstanding.
    let mut flipped = rec.file.clone();
    let value_at = flipped[..preamble_len].windows(7).position(|w| w == b"item-12").expect("a list item");
    flipped[value_at] = b'I';
    let cut = rec.file[..preamble_len / 2].to_vec();
    for (damaged, bad_at, what) in
        [(flipped, preamble_len - 8, "checksum mismatch"), (cut, preamble_len / 2, "unexpected end of file")]
    {
        let dir = tempfile::tempdir().unwrap();
        let aof = dir.path().join("appendonly.aof");
        std::fs::write(&aof, &damaged).unwrap();
        let mut child = spawn_raw(dir.path(), free_port(), ARGS);
        let status = wait_exit(&mut child, Duration::from_secs(20)).expect("startup must fail, not serve");
        assert!(!status.success(), "{what}: exit status {status}");
        let log = std::fs::read_to_string(dir.path().join("forkv.log")).unwrap();
        // Named as the config names it, relative to `dir`.
        let named = format!("RDB preamble of the append only file appendonly.aof at byte {bad_at}");
        assert!(log.contains(&named) && log.contains(what), "{what}: log must say {named:?}:\n{log}");
        assert_eq!(std::fs::read(&aof).unwrap(), damaged, "{what}: a failed load must not touch the file");

        for args in [&[aof.to_str().unwrap()][..], &["--fix", aof.to_str().unwrap()]] {
            let (ok, out) = check_aof(args);
            assert!(!ok, "{what}: check-aof {args:?} must fail: {out}");
            assert!(out.contains("RDB preamble") && out.contains(&format!("at byte {bad_at}")), "{what}: {out}");
            assert_eq!(std::fs::read(&aof).unwrap(), damaged, "{what}: check-aof {args:?} must not change the file");
        }
    }
}
