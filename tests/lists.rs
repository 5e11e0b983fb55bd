//! List commands over a real connection: replies, error texts and reply types
//! as Redis 7.0 gives them (checked against redis-server 7.0.15), big lists,
//! and blocking pops across clients.

mod common;

use common::Server;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// One RESP2 reply, keeping the difference between a null bulk and a null
/// array that the `redis` crate hides.
#[derive(Debug, Clone, PartialEq)]
enum R {
    Int(i64),
    Bulk(Vec<u8>),
    Simple(String),
    Err(String),
    Nil,
    NilArray,
    Arr(Vec<R>),
}

fn b(s: &str) -> R {
    R::Bulk(s.as_bytes().to_vec())
}

fn arr(items: &[&str]) -> R {
    R::Arr(items.iter().map(|s| b(s)).collect())
}

fn ints(items: &[i64]) -> R {
    R::Arr(items.iter().map(|&n| R::Int(n)).collect())
}

fn err(text: &str) -> R {
    R::Err(text.to_string())
}

fn ok() -> R {
    R::Simple("OK".into())
}

/// [key, value] as BLPOP answers.
fn kv(key: &str, v: &str) -> R {
    arr(&[key, v])
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";

/// A minimal RESP2 client on a raw socket.
struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Conn {
    fn new(server: &Server) -> Conn {
        let s = server.raw();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Conn { r: BufReader::new(s.try_clone().unwrap()), w: s }
    }

    fn encode(args: &[&[u8]]) -> Vec<u8> {
        let mut out = bytes::BytesMut::new();
        forkv::aof::record::encode_command(&mut out, args);
        out.to_vec()
    }

    fn send(&mut self, args: &[&str]) {
        let parts: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.w.write_all(&Conn::encode(&parts)).unwrap();
    }

    fn send_bytes(&mut self, args: &[Vec<u8>]) {
        let parts: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        self.w.write_all(&Conn::encode(&parts)).unwrap();
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.r.read_line(&mut l).expect("read a reply line");
        assert!(l.ends_with("\r\n"), "truncated reply line {l:?}");
        l.truncate(l.len() - 2);
        l
    }

    fn read(&mut self) -> R {
        let l = self.line();
        let (t, rest) = l.split_at(1);
        match t {
            ":" => R::Int(rest.parse().unwrap()),
            "+" => R::Simple(rest.into()),
            "-" => R::Err(rest.into()),
            "$" if rest == "-1" => R::Nil,
            "*" if rest == "-1" => R::NilArray,
            "$" => {
                let n: usize = rest.parse().unwrap();
                let mut buf = vec![0; n + 2];
                self.r.read_exact(&mut buf).unwrap();
                buf.truncate(n);
                R::Bulk(buf)
            }
            "*" => {
                let n: usize = rest.parse().unwrap();
                R::Arr((0..n).map(|_| self.read()).collect())
            }
            _ => panic!("unexpected reply line {l:?}"),
        }
    }

    fn cmd(&mut self, args: &[&str]) -> R {
        self.send(args);
        self.read()
    }

    fn cmd_bytes(&mut self, args: &[Vec<u8>]) -> R {
        self.send_bytes(args);
        self.read()
    }

    fn int(&mut self, args: &[&str]) -> i64 {
        match self.cmd(args) {
            R::Int(n) => n,
            other => panic!("{args:?} answered {other:?}"),
        }
    }

    /// True if nothing arrives within `wait` (the connection is blocked).
    fn silent_for(&mut self, wait: Duration) -> bool {
        self.w.set_read_timeout(Some(wait)).unwrap();
        let got = self.r.fill_buf().map(|b| b.len()).unwrap_or(0);
        self.w.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        got == 0
    }

    fn blocked_clients(&mut self) -> usize {
        let R::Bulk(info) = self.cmd(&["INFO", "clients"]) else { panic!("INFO is a bulk") };
        let text = String::from_utf8(info).unwrap();
        let line = text.lines().find(|l| l.starts_with("blocked_clients:")).expect("blocked_clients in INFO");
        line["blocked_clients:".len()..].trim().parse().unwrap()
    }

    /// Waits (bounded) until the server reports `n` blocked clients.
    fn wait_blocked(&mut self, n: usize) {
        let start = Instant::now();
        while self.blocked_clients() != n {
            assert!(start.elapsed() < Duration::from_secs(10), "never saw {n} blocked clients");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn range(&mut self, key: &str) -> R {
        self.cmd(&["LRANGE", key, "0", "-1"])
    }
}

fn setup() -> (Server, Conn) {
    let server = Server::start();
    let c = Conn::new(&server);
    (server, c)
}

#[test]
fn pushes_and_lengths() {
    let (_s, mut c) = setup();
    assert_eq!(c.cmd(&["LPUSH", "l", "a", "b", "c"]), R::Int(3));
    assert_eq!(c.cmd(&["RPUSH", "l", "x", "y"]), R::Int(5));
    assert_eq!(c.range("l"), arr(&["c", "b", "a", "x", "y"]));
    assert_eq!(c.cmd(&["LLEN", "l"]), R::Int(5));
    assert_eq!(c.cmd(&["LLEN", "nokey"]), R::Int(0));
    assert_eq!(c.cmd(&["TYPE", "l"]), R::Simple("list".into()));
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "l"]), b("quicklist"));
    // The X variants only push onto existing lists.
    assert_eq!(c.cmd(&["LPUSHX", "nokey", "a"]), R::Int(0));
    assert_eq!(c.cmd(&["RPUSHX", "nokey", "a", "b"]), R::Int(0));
    assert_eq!(c.cmd(&["EXISTS", "nokey"]), R::Int(0));
    assert_eq!(c.cmd(&["LPUSHX", "l", "h1", "h2"]), R::Int(7));
    assert_eq!(c.cmd(&["RPUSHX", "l", "t"]), R::Int(8));
    assert_eq!(c.range("l"), arr(&["h2", "h1", "c", "b", "a", "x", "y", "t"]));
    // Integers and binary-safe values come back as sent.
    assert_eq!(c.cmd(&["RPUSH", "n", "12", "-7", "007", "", "9223372036854775807"]), R::Int(5));
    assert_eq!(c.range("n"), arr(&["12", "-7", "007", "", "9223372036854775807"]));
    assert_eq!(c.cmd_bytes(&[b"RPUSH".to_vec(), b"bin".to_vec(), vec![0, 255, 13, 10]]), R::Int(1));
    assert_eq!(c.cmd(&["LPOP", "bin"]), R::Bulk(vec![0, 255, 13, 10]));
    assert_eq!(c.cmd(&["LPUSH", "l"]), err("ERR wrong number of arguments for 'lpush' command"));
    assert_eq!(c.cmd(&["RPUSHX", "l"]), err("ERR wrong number of arguments for 'rpushx' command"));
}

#[test]
fn pops_with_and_without_count() {
    let (_s, mut c) = setup();
    c.cmd(&["RPUSH", "l", "a", "b", "c", "d", "e"]);
    assert_eq!(c.cmd(&["LPOP", "l"]), b("a"));
    assert_eq!(c.cmd(&["RPOP", "l"]), b("e"));
    assert_eq!(c.cmd(&["LPOP", "l", "2"]), arr(&["b", "c"]));
    assert_eq!(c.cmd(&["LPOP", "l", "0"]), R::Arr(vec![]));
    assert_eq!(c.cmd(&["RPOP", "l", "10"]), arr(&["d"]));
    // The emptied list is gone.
    assert_eq!(c.cmd(&["EXISTS", "l"]), R::Int(0));
    assert_eq!(c.cmd(&["LPOP", "l"]), R::Nil);
    assert_eq!(c.cmd(&["RPOP", "l", "2"]), R::NilArray);
    assert_eq!(c.cmd(&["LPOP", "l", "0"]), R::NilArray);
    c.cmd(&["RPUSH", "l", "1", "2", "3"]);
    assert_eq!(c.cmd(&["RPOP", "l", "2"]), arr(&["3", "2"]));
    let positive = err("ERR value is out of range, must be positive");
    assert_eq!(c.cmd(&["LPOP", "l", "-1"]), positive);
    assert_eq!(c.cmd(&["RPOP", "l", "abc"]), positive);
    assert_eq!(c.cmd(&["LPOP", "nokey", "-1"]), positive);
    assert_eq!(c.cmd(&["LPOP", "l", "1", "2"]), err("ERR wrong number of arguments for 'lpop' command"));
    assert_eq!(c.cmd(&["RPOP", "l", "1", "2"]), err("ERR wrong number of arguments for 'rpop' command"));
    assert_eq!(c.cmd(&["LPOP"]), err("ERR wrong number of arguments for 'lpop' command"));
    assert_eq!(c.range("l"), arr(&["1"]));
}

#[test]
fn every_command_checks_the_type() {
    let (_s, mut c) = setup();
    c.cmd(&["SET", "s", "x"]);
    c.cmd(&["RPUSH", "l", "a"]);
    let wt = err(WRONGTYPE);
    let cases: &[&[&str]] = &[
        &["LPUSH", "s", "a"],
        &["RPUSH", "s", "a"],
        &["LPUSHX", "s", "a"],
        &["RPUSHX", "s", "a"],
        &["LPOP", "s"],
        &["RPOP", "s", "0"],
        &["LLEN", "s"],
        &["LRANGE", "s", "0", "-1"],
        &["LINDEX", "s", "0"],
        &["LINDEX", "s", "abc"],
        &["LSET", "s", "0", "x"],
        &["LSET", "s", "abc", "x"],
        &["LREM", "s", "0", "x"],
        &["LTRIM", "s", "0", "1"],
        &["LINSERT", "s", "BEFORE", "a", "b"],
        &["LPOS", "s", "a"],
        &["LMOVE", "s", "l", "LEFT", "LEFT"],
        &["LMOVE", "l", "s", "LEFT", "LEFT"],
        &["RPOPLPUSH", "s", "l"],
        &["RPOPLPUSH", "l", "s"],
        &["LMPOP", "2", "nokey", "s", "LEFT"],
        &["BLPOP", "nokey", "s", "0"],
        &["BRPOP", "s", "0"],
        &["BLMOVE", "s", "l", "LEFT", "RIGHT", "0"],
        &["BLMOVE", "l", "s", "LEFT", "RIGHT", "0"],
        &["BRPOPLPUSH", "l", "s", "0"],
        &["BLMPOP", "0", "2", "nokey", "s", "RIGHT"],
    ];
    for cmd in cases {
        assert_eq!(c.cmd(cmd), wt, "{cmd:?}");
    }
    // Nothing was changed by the failed moves.
    assert_eq!(c.range("l"), arr(&["a"]));
    assert_eq!(c.cmd(&["GET", "s"]), b("x"));
    // Keys are checked in order: a list with data before the string wins.
    assert_eq!(c.cmd(&["BLPOP", "l", "s", "0"]), kv("l", "a"));
    c.cmd(&["RPUSH", "l", "b"]);
    assert_eq!(c.cmd(&["LMPOP", "2", "l", "s", "LEFT"]), R::Arr(vec![b("l"), arr(&["b"])]));
    // A missing source never looks at the destination.
    assert_eq!(c.cmd(&["LMOVE", "nokey", "s", "LEFT", "LEFT"]), R::Nil);
    assert_eq!(c.cmd(&["BLMOVE", "nokey", "s", "LEFT", "LEFT", "0.01"]), R::NilArray);
    // Argument errors come before the type check where Redis parses first.
    assert_eq!(c.cmd(&["LRANGE", "s", "a", "1"]), err(NOT_INTEGER));
    assert_eq!(c.cmd(&["LPOP", "s", "-1"]), err("ERR value is out of range, must be positive"));
    assert_eq!(c.cmd(&["LINSERT", "s", "MIDDLE", "a", "b"]), err(SYNTAX));
}

#[test]
fn lrange_lindex_and_lset_with_negative_indexes() {
    let (_s, mut c) = setup();
    c.cmd(&["RPUSH", "l", "a", "b", "c", "d", "e"]);
    assert_eq!(c.cmd(&["LRANGE", "l", "1", "3"]), arr(&["b", "c", "d"]));
    assert_eq!(c.cmd(&["LRANGE", "l", "-2", "-1"]), arr(&["d", "e"]));
    assert_eq!(c.cmd(&["LRANGE", "l", "-100", "1"]), arr(&["a", "b"]));
    assert_eq!(c.cmd(&["LRANGE", "l", "3", "100"]), arr(&["d", "e"]));
    assert_eq!(c.cmd(&["LRANGE", "l", "3", "1"]), R::Arr(vec![]));
    assert_eq!(c.cmd(&["LRANGE", "l", "5", "10"]), R::Arr(vec![]));
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-6"]), R::Arr(vec![]));
    assert_eq!(c.cmd(&["LRANGE", "nokey", "0", "-1"]), R::Arr(vec![]));
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "x"]), err(NOT_INTEGER));
    assert_eq!(c.cmd(&["LRANGE", "l", "0"]), err("ERR wrong number of arguments for 'lrange' command"));

    assert_eq!(c.cmd(&["LINDEX", "l", "0"]), b("a"));
    assert_eq!(c.cmd(&["LINDEX", "l", "-1"]), b("e"));
    assert_eq!(c.cmd(&["LINDEX", "l", "-5"]), b("a"));
    assert_eq!(c.cmd(&["LINDEX", "l", "-6"]), R::Nil);
    assert_eq!(c.cmd(&["LINDEX", "l", "5"]), R::Nil);
    assert_eq!(c.cmd(&["LINDEX", "l", "abc"]), err(NOT_INTEGER));
    assert_eq!(c.cmd(&["LINDEX", "nokey", "abc"]), R::Nil);

    assert_eq!(c.cmd(&["LSET", "l", "-1", "E"]), ok());
    assert_eq!(c.cmd(&["LSET", "l", "0", "A"]), ok());
    assert_eq!(c.cmd(&["LSET", "l", "2", "12345"]), ok());
    assert_eq!(c.range("l"), arr(&["A", "b", "12345", "d", "E"]));
    assert_eq!(c.cmd(&["LSET", "l", "5", "x"]), err("ERR index out of range"));
    assert_eq!(c.cmd(&["LSET", "l", "-6", "x"]), err("ERR index out of range"));
    assert_eq!(c.cmd(&["LSET", "l", "x", "x"]), err(NOT_INTEGER));
    assert_eq!(c.cmd(&["LSET", "nokey", "0", "x"]), err("ERR no such key"));
    assert_eq!(c.cmd(&["LSET", "nokey", "abc", "x"]), err("ERR no such key"));
    assert_eq!(c.cmd(&["EXISTS", "nokey"]), R::Int(0));
}

#[test]
fn lrem_ltrim_and_linsert() {
    let (_s, mut c) = setup();
    let items = ["a", "1", "a", "b", "a", "1"];
    let fill = |c: &mut Conn| {
        c.cmd(&["DEL", "l"]);
        let mut args = vec!["RPUSH", "l"];
        args.extend(items);
        c.cmd(&args);
    };
    fill(&mut c);
    assert_eq!(c.cmd(&["LREM", "l", "2", "a"]), R::Int(2));
    assert_eq!(c.range("l"), arr(&["1", "b", "a", "1"]));
    fill(&mut c);
    assert_eq!(c.cmd(&["LREM", "l", "-2", "a"]), R::Int(2));
    assert_eq!(c.range("l"), arr(&["a", "1", "b", "1"]));
    fill(&mut c);
    assert_eq!(c.cmd(&["LREM", "l", "0", "1"]), R::Int(2));
    assert_eq!(c.cmd(&["LREM", "l", "0", "01"]), R::Int(0));
    assert_eq!(c.cmd(&["LREM", "l", "0", "zz"]), R::Int(0));
    assert_eq!(c.range("l"), arr(&["a", "a", "b", "a"]));
    assert_eq!(c.cmd(&["LREM", "l", "0", "a"]), R::Int(3));
    assert_eq!(c.cmd(&["LREM", "l", "-1", "b"]), R::Int(1));
    assert_eq!(c.cmd(&["EXISTS", "l"]), R::Int(0));
    assert_eq!(c.cmd(&["LREM", "nokey", "0", "a"]), R::Int(0));
    assert_eq!(c.cmd(&["LREM", "nokey", "x", "a"]), err(NOT_INTEGER));

    c.cmd(&["RPUSH", "t", "a", "b", "c", "d", "e"]);
    assert_eq!(c.cmd(&["LTRIM", "t", "1", "-2"]), ok());
    assert_eq!(c.range("t"), arr(&["b", "c", "d"]));
    assert_eq!(c.cmd(&["LTRIM", "t", "-100", "100"]), ok());
    assert_eq!(c.range("t"), arr(&["b", "c", "d"]));
    assert_eq!(c.cmd(&["LTRIM", "t", "-1", "-1"]), ok());
    assert_eq!(c.range("t"), arr(&["d"]));
    assert_eq!(c.cmd(&["LTRIM", "t", "2", "1"]), ok());
    assert_eq!(c.cmd(&["EXISTS", "t"]), R::Int(0));
    assert_eq!(c.cmd(&["LTRIM", "nokey", "0", "1"]), ok());
    assert_eq!(c.cmd(&["LTRIM", "nokey", "a", "1"]), err(NOT_INTEGER));

    c.cmd(&["RPUSH", "i", "a", "b", "c", "b"]);
    assert_eq!(c.cmd(&["LINSERT", "i", "BEFORE", "b", "x"]), R::Int(5));
    assert_eq!(c.cmd(&["LINSERT", "i", "after", "b", "y"]), R::Int(6));
    assert_eq!(c.cmd(&["LINSERT", "i", "AFTER", "b", "z"]), R::Int(7));
    assert_eq!(c.cmd(&["LINSERT", "i", "After", "c", "w"]), R::Int(8));
    assert_eq!(c.range("i"), arr(&["a", "x", "b", "z", "y", "c", "w", "b"]));
    assert_eq!(c.cmd(&["LINSERT", "i", "BEFORE", "nope", "x"]), R::Int(-1));
    assert_eq!(c.cmd(&["LINSERT", "nokey", "BEFORE", "a", "x"]), R::Int(0));
    assert_eq!(c.cmd(&["EXISTS", "nokey"]), R::Int(0));
    assert_eq!(c.cmd(&["LINSERT", "i", "MIDDLE", "a", "x"]), err(SYNTAX));
    assert_eq!(c.cmd(&["LINSERT", "nokey", "MIDDLE", "a", "x"]), err(SYNTAX));
    assert_eq!(c.cmd(&["LLEN", "i"]), R::Int(8));
}

#[test]
fn lpos_options_and_errors() {
    let (_s, mut c) = setup();
    c.cmd(&["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"]);
    assert_eq!(c.cmd(&["LPOS", "l", "c"]), R::Int(2));
    assert_eq!(c.cmd(&["LPOS", "l", "zz"]), R::Nil);
    assert_eq!(c.cmd(&["LPOS", "l", "c", "RANK", "2"]), R::Int(6));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "RANK", "-1"]), R::Int(7));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "RANK", "4"]), R::Nil);
    assert_eq!(c.cmd(&["LPOS", "l", "c", "COUNT", "0"]), ints(&[2, 6, 7]));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "COUNT", "2"]), ints(&[2, 6]));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "RANK", "-1", "COUNT", "2"]), ints(&[7, 6]));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"]), ints(&[2, 6]));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "RANK", "-1", "COUNT", "0", "MAXLEN", "2"]), ints(&[7, 6]));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "MAXLEN", "2"]), R::Nil);
    assert_eq!(c.cmd(&["LPOS", "l", "zz", "COUNT", "0"]), R::Arr(vec![]));
    assert_eq!(c.cmd(&["LPOS", "l", "2", "rank", "1", "count", "1", "maxlen", "0"]), ints(&[4]));
    // The last of a repeated option wins.
    assert_eq!(c.cmd(&["LPOS", "l", "c", "RANK", "1", "RANK", "2"]), R::Int(6));
    assert_eq!(c.cmd(&["LPOS", "nokey", "a"]), R::Nil);
    assert_eq!(c.cmd(&["LPOS", "nokey", "a", "COUNT", "0"]), R::Arr(vec![]));

    let rank_zero = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
    assert_eq!(c.cmd(&["LPOS", "l", "c", "RANK", "0"]), err(rank_zero));
    assert_eq!(c.cmd(&["LPOS", "nokey", "c", "RANK", "0"]), err(rank_zero));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "RANK", "x"]), err(NOT_INTEGER));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "COUNT", "-1"]), err("ERR COUNT can't be negative"));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "COUNT", "x"]), err("ERR COUNT can't be negative"));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "MAXLEN", "-1"]), err("ERR MAXLEN can't be negative"));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "RANK"]), err(SYNTAX));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "FOO", "1"]), err(SYNTAX));
}

#[test]
fn lmove_and_rpoplpush() {
    let (_s, mut c) = setup();
    c.cmd(&["RPUSH", "src", "a", "b", "c", "d"]);
    assert_eq!(c.cmd(&["LMOVE", "src", "dst", "LEFT", "RIGHT"]), b("a"));
    assert_eq!(c.cmd(&["LMOVE", "src", "dst", "right", "left"]), b("d"));
    assert_eq!(c.cmd(&["LMOVE", "src", "dst", "LEFT", "LEFT"]), b("b"));
    assert_eq!(c.cmd(&["LMOVE", "dst", "src", "RIGHT", "RIGHT"]), b("a"));
    assert_eq!(c.range("src"), arr(&["c", "a"]));
    assert_eq!(c.range("dst"), arr(&["b", "d"]));
    assert_eq!(c.cmd(&["RPOPLPUSH", "src", "dst"]), b("a"));
    assert_eq!(c.cmd(&["RPOPLPUSH", "src", "dst"]), b("c"));
    assert_eq!(c.range("dst"), arr(&["c", "a", "b", "d"]));
    assert_eq!(c.cmd(&["EXISTS", "src"]), R::Int(0));
    assert_eq!(c.cmd(&["RPOPLPUSH", "src", "dst"]), R::Nil);
    assert_eq!(c.cmd(&["LMOVE", "src", "dst", "LEFT", "LEFT"]), R::Nil);
    // Same key: a rotation, also with one element.
    assert_eq!(c.cmd(&["LMOVE", "dst", "dst", "LEFT", "RIGHT"]), b("c"));
    assert_eq!(c.range("dst"), arr(&["a", "b", "d", "c"]));
    assert_eq!(c.cmd(&["RPOPLPUSH", "dst", "dst"]), b("c"));
    assert_eq!(c.range("dst"), arr(&["c", "a", "b", "d"]));
    c.cmd(&["RPUSH", "one", "x"]);
    assert_eq!(c.cmd(&["RPOPLPUSH", "one", "one"]), b("x"));
    assert_eq!(c.cmd(&["LMOVE", "one", "one", "LEFT", "LEFT"]), b("x"));
    assert_eq!(c.range("one"), arr(&["x"]));
    assert_eq!(c.cmd(&["LMOVE", "dst", "src", "UP", "LEFT"]), err(SYNTAX));
    assert_eq!(c.cmd(&["LMOVE", "dst", "src", "LEFT", "DOWN"]), err(SYNTAX));
    assert_eq!(c.cmd(&["LMOVE", "dst", "src", "LEFT"]), err("ERR wrong number of arguments for 'lmove' command"));
    // The destination keeps its TTL; a moved-into list is created.
    c.cmd(&["EXPIRE", "dst", "100"]);
    c.cmd(&["LMOVE", "one", "dst", "LEFT", "LEFT"]);
    assert!(c.int(&["TTL", "dst"]) > 0);
}

#[test]
fn lmpop_pops_from_the_first_non_empty_list() {
    let (_s, mut c) = setup();
    c.cmd(&["RPUSH", "l1", "a", "b", "c"]);
    c.cmd(&["RPUSH", "l2", "x", "y", "z"]);
    let pop = |key: &str, items: &[&str]| R::Arr(vec![b(key), arr(items)]);
    assert_eq!(c.cmd(&["LMPOP", "2", "nokey", "l1", "LEFT"]), pop("l1", &["a"]));
    assert_eq!(c.cmd(&["LMPOP", "2", "l2", "l1", "RIGHT", "COUNT", "2"]), pop("l2", &["z", "y"]));
    assert_eq!(c.cmd(&["LMPOP", "1", "l1", "left", "count", "10"]), pop("l1", &["b", "c"]));
    assert_eq!(c.cmd(&["EXISTS", "l1"]), R::Int(0));
    assert_eq!(c.cmd(&["LMPOP", "2", "nokey", "l1", "LEFT"]), R::NilArray);
    let numkeys = err("ERR numkeys should be greater than 0");
    assert_eq!(c.cmd(&["LMPOP", "0", "l2", "LEFT"]), numkeys);
    assert_eq!(c.cmd(&["LMPOP", "-1", "l2", "LEFT"]), numkeys);
    assert_eq!(c.cmd(&["LMPOP", "abc", "l2", "LEFT"]), numkeys);
    assert_eq!(c.cmd(&["LMPOP", "2", "l2", "LEFT"]), err(SYNTAX));
    assert_eq!(c.cmd(&["LMPOP", "9223372036854775807", "l2", "LEFT"]), err(SYNTAX));
    assert_eq!(c.cmd(&["LMPOP", "1", "l2", "MIDDLE"]), err(SYNTAX));
    assert_eq!(c.cmd(&["LMPOP", "1", "l2", "LEFT", "FOO"]), err(SYNTAX));
    assert_eq!(c.cmd(&["LMPOP", "1", "l2", "LEFT", "COUNT"]), err(SYNTAX));
    assert_eq!(c.cmd(&["LMPOP", "1", "l2", "LEFT", "COUNT", "1", "COUNT", "1"]), err(SYNTAX));
    let count = err("ERR count should be greater than 0");
    assert_eq!(c.cmd(&["LMPOP", "1", "l2", "LEFT", "COUNT", "0"]), count);
    assert_eq!(c.cmd(&["LMPOP", "1", "l2", "LEFT", "COUNT", "-1"]), count);
    assert_eq!(c.cmd(&["LMPOP", "1", "l2", "LEFT", "COUNT", "x"]), count);
    assert_eq!(c.cmd(&["LMPOP", "1", "l2"]), err("ERR wrong number of arguments for 'lmpop' command"));
    assert_eq!(c.range("l2"), arr(&["x"]));
}

/// A deterministic pseudo-random sequence for the big-list model.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn model_range(m: &[Vec<u8>], start: i64, stop: i64) -> Vec<Vec<u8>> {
    let len = m.len() as i64;
    let s = if start < 0 { (start + len).max(0) } else { start };
    let e = if stop < 0 { stop + len } else { stop.min(len - 1) };
    if s > e || s >= len {
        return vec![];
    }
    m[s as usize..=e as usize].to_vec()
}

fn bulks(items: &[Vec<u8>]) -> R {
    R::Arr(items.iter().map(|v| R::Bulk(v.clone())).collect())
}

#[test]
fn big_lists_match_a_model() {
    let (_s, mut c) = setup();
    let mut rng = Lcg(7);
    // 10,000 elements: small strings, integers, repeats, and some values
    // larger than a whole 8 KB node.
    let mut model: Vec<Vec<u8>> = Vec::new();
    for i in 0..10_000u64 {
        let v = match rng.next(10) {
            0 => vec![b'B'; 9000 + (i as usize % 500)],
            1 => b"dup".to_vec(),
            2 => (i as i64 - 5000).to_string().into_bytes(),
            _ => format!("item-{i}-{}", "x".repeat(rng.next(200) as usize)).into_bytes(),
        };
        model.push(v);
    }
    for chunk in model.chunks(500) {
        let mut args = vec![b"RPUSH".to_vec(), b"big".to_vec()];
        args.extend(chunk.iter().cloned());
        c.cmd_bytes(&args);
    }
    assert_eq!(c.cmd(&["LLEN", "big"]), R::Int(10_000));
    let check_ranges = |c: &mut Conn, m: &[Vec<u8>], rng: &mut Lcg| {
        assert_eq!(c.range("big"), bulks(m));
        for _ in 0..30 {
            let len = m.len() as i64 + 50;
            let a = rng.next(2 * len as u64) as i64 - len;
            let b2 = rng.next(2 * len as u64) as i64 - len;
            let got = c.cmd(&["LRANGE", "big", &a.to_string(), &b2.to_string()]);
            assert_eq!(got, bulks(&model_range(m, a, b2)), "LRANGE {a} {b2}");
            let idx = c.cmd(&["LINDEX", "big", &a.to_string()]);
            let want = model_range(m, a, a);
            let in_range = a >= -(m.len() as i64) && a < m.len() as i64;
            assert_eq!(idx, if in_range { R::Bulk(want[0].clone()) } else { R::Nil }, "LINDEX {a}");
        }
    };
    check_ranges(&mut c, &model, &mut rng);

    // LSET and LINSERT in the middle, with big and small values.
    for (i, v) in [(5000i64, vec![b'S'; 10_000]), (-3, b"tail3".to_vec()), (17, b"42".to_vec())] {
        let r = c.cmd_bytes(&[b"LSET".to_vec(), b"big".to_vec(), i.to_string().into_bytes(), v.clone()]);
        assert_eq!(r, ok());
        let at = if i < 0 { model.len() as i64 + i } else { i } as usize;
        model[at] = v;
    }
    let pivot = model[7777].clone();
    let at = model.iter().position(|v| *v == pivot).unwrap();
    let r = c.cmd_bytes(&[b"LINSERT".to_vec(), b"big".to_vec(), b"AFTER".to_vec(), pivot, vec![b'I'; 8500]]);
    model.insert(at + 1, vec![b'I'; 8500]);
    assert_eq!(r, R::Int(model.len() as i64));

    // LREM from both ends and all.
    let dups = model.iter().filter(|v| v.as_slice() == b"dup").count();
    assert!(dups > 500, "the generator repeats values");
    assert_eq!(c.cmd(&["LREM", "big", "100", "dup"]), R::Int(100));
    let mut seen = 0;
    model.retain(|v| {
        let hit = v.as_slice() == b"dup" && seen < 100;
        seen += hit as usize;
        !hit
    });
    assert_eq!(c.cmd(&["LREM", "big", "-50", "dup"]), R::Int(50));
    let mut seen = 0;
    let mut rev: Vec<Vec<u8>> = model.into_iter().rev().collect();
    rev.retain(|v| {
        let hit = v.as_slice() == b"dup" && seen < 50;
        seen += hit as usize;
        !hit
    });
    model = rev.into_iter().rev().collect();
    let big_one = model.iter().find(|v| v.len() >= 9000 && v[0] == b'B').unwrap().clone();
    let n = model.iter().filter(|v| **v == big_one).count();
    let r = c.cmd_bytes(&[b"LREM".to_vec(), b"big".to_vec(), b"0".to_vec(), big_one.clone()]);
    assert_eq!(r, R::Int(n as i64));
    model.retain(|v| *v != big_one);
    check_ranges(&mut c, &model, &mut rng);

    // LPOS agrees too.
    let all: Vec<i64> = (0..model.len()).filter(|&i| model[i] == b"dup").map(|i| i as i64).collect();
    assert_eq!(c.cmd(&["LPOS", "big", "dup", "COUNT", "0"]), ints(&all));
    let back: Vec<i64> = all.iter().rev().take(3).cloned().collect();
    assert_eq!(c.cmd(&["LPOS", "big", "dup", "RANK", "-1", "COUNT", "3"]), ints(&back));

    // LTRIM to a middle window, then from the ends.
    assert_eq!(c.cmd(&["LTRIM", "big", "1234", "-1001"]), ok());
    model = model_range(&model, 1234, -1001);
    check_ranges(&mut c, &model, &mut rng);
    assert_eq!(c.cmd(&["LTRIM", "big", "-6000", "5000"]), ok());
    model = model_range(&model, -6000, 5000);
    assert!(model.len() > 2000, "the window keeps a big list");
    check_ranges(&mut c, &model, &mut rng);

    // Pops with counts from both ends.
    let got = c.cmd(&["LPOP", "big", "700"]);
    assert_eq!(got, bulks(&model.drain(..700).collect::<Vec<_>>()));
    let got = c.cmd(&["RPOP", "big", "300"]);
    let tail: Vec<Vec<u8>> = model.drain(model.len() - 300..).rev().collect();
    assert_eq!(got, bulks(&tail));
    check_ranges(&mut c, &model, &mut rng);
    assert_eq!(c.cmd(&["LTRIM", "big", "1", "0"]), ok());
    assert_eq!(c.cmd(&["EXISTS", "big"]), R::Int(0));
}

#[test]
fn blocking_argument_errors() {
    let (_s, mut c) = setup();
    let not_float = err("ERR timeout is not a float or out of range");
    let negative = err("ERR timeout is negative");
    assert_eq!(c.cmd(&["BLPOP", "k", "abc"]), not_float);
    assert_eq!(c.cmd(&["BLPOP", "k", "nan"]), not_float);
    assert_eq!(c.cmd(&["BRPOP", "k", "-1"]), negative);
    assert_eq!(c.cmd(&["BRPOP", "k", "-0.5"]), negative);
    assert_eq!(c.cmd(&["BLPOP", "k", "inf"]), negative);
    assert_eq!(c.cmd(&["BLMOVE", "a", "b", "LEFT", "RIGHT", "-1"]), negative);
    assert_eq!(c.cmd(&["BLMOVE", "a", "b", "UP", "RIGHT", "-1"]), err(SYNTAX));
    assert_eq!(c.cmd(&["BRPOPLPUSH", "a", "b", "x"]), not_float);
    assert_eq!(c.cmd(&["BLMPOP", "-1", "1", "k", "LEFT"]), negative);
    assert_eq!(c.cmd(&["BLMPOP", "0", "0", "k", "LEFT"]), err("ERR numkeys should be greater than 0"));
    // Options are parsed before the timeout.
    assert_eq!(c.cmd(&["BLMPOP", "abc", "3", "k", "LEFT"]), err(SYNTAX));
    assert_eq!(c.cmd(&["BLMPOP", "0", "1", "k", "LEFT", "COUNT", "0"]), err("ERR count should be greater than 0"));
    assert_eq!(c.cmd(&["BLPOP", "k"]), err("ERR wrong number of arguments for 'blpop' command"));
    assert_eq!(c.cmd(&["BLMPOP", "0", "1", "k"]), err("ERR wrong number of arguments for 'blmpop' command"));
    assert_eq!(c.blocked_clients(), 0);
}

#[test]
fn blocking_pops_serve_at_once_when_data_is_there() {
    let (_s, mut c) = setup();
    c.cmd(&["RPUSH", "k2", "a", "b", "c"]);
    assert_eq!(c.cmd(&["BLPOP", "k1", "k2", "0"]), kv("k2", "a"));
    assert_eq!(c.cmd(&["BRPOP", "k1", "k2", "0"]), kv("k2", "c"));
    assert_eq!(c.cmd(&["BLMOVE", "k2", "d", "LEFT", "RIGHT", "0"]), b("b"));
    assert_eq!(c.cmd(&["EXISTS", "k2"]), R::Int(0));
    assert_eq!(c.cmd(&["BRPOPLPUSH", "d", "k2", "0"]), b("b"));
    c.cmd(&["RPUSH", "k2", "x", "y"]);
    let got = c.cmd(&["BLMPOP", "0", "2", "k1", "k2", "RIGHT", "COUNT", "5"]);
    assert_eq!(got, R::Arr(vec![b("k2"), arr(&["y", "x", "b"])]));
}

#[test]
fn blpop_is_woken_by_another_clients_push() {
    let (s, mut c) = setup();
    let mut waiter = Conn::new(&s);
    let t = std::thread::spawn(move || {
        let got = waiter.cmd(&["BLPOP", "q1", "q2", "0"]);
        (got, waiter)
    });
    c.wait_blocked(1);
    assert_eq!(c.cmd(&["LPUSH", "q2", "v"]), R::Int(1));
    let (got, mut waiter) = t.join().unwrap();
    assert_eq!(got, kv("q2", "v"));
    // The element went to the waiter and the emptied list is gone.
    assert_eq!(c.cmd(&["EXISTS", "q2"]), R::Int(0));
    assert_eq!(c.blocked_clients(), 0);
    assert_eq!(waiter.cmd(&["PING"]), R::Simple("PONG".into()));
    // BRPOP takes from the tail of a multi-element push.
    let t = std::thread::spawn(move || waiter.cmd(&["BRPOP", "q1", "5"]));
    c.wait_blocked(1);
    assert_eq!(c.cmd(&["RPUSH", "q1", "a", "b", "c"]), R::Int(3));
    assert_eq!(t.join().unwrap(), kv("q1", "c"));
    assert_eq!(c.range("q1"), arr(&["a", "b"]));
}

#[test]
fn blocking_timeouts_return_nil_after_about_the_timeout() {
    let (_s, mut c) = setup();
    let cases: &[(&[&str], R)] = &[
        (&["BLPOP", "k", "0.3"], R::NilArray),
        (&["BRPOP", "k", "j", "0.3"], R::NilArray),
        (&["BLMPOP", "0.3", "1", "k", "LEFT"], R::NilArray),
        // Redis 7.0 answers a timed-out BLMOVE/BRPOPLPUSH with a null array too.
        (&["BLMOVE", "k", "d", "LEFT", "LEFT", "0.3"], R::NilArray),
        (&["BRPOPLPUSH", "k", "d", "0.3"], R::NilArray),
    ];
    for (cmd, want) in cases {
        let start = Instant::now();
        assert_eq!(&c.cmd(cmd), want, "{cmd:?}");
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(280), "{cmd:?} returned after {took:?}");
        assert!(took < Duration::from_secs(3), "{cmd:?} returned after {took:?}");
    }
    assert_eq!(c.blocked_clients(), 0);
    // A tiny timeout is rounded up, not taken as "forever".
    let start = Instant::now();
    assert_eq!(c.cmd(&["BLPOP", "k", "0.0001"]), R::NilArray);
    assert!(start.elapsed() < Duration::from_secs(3));
    // Served before the deadline: no late nil follows.
    let mut other = Conn::new(&_s);
    c.send(&["BLPOP", "k", "0.5"]);
    other.wait_blocked(1);
    other.cmd(&["RPUSH", "k", "v"]);
    assert_eq!(c.read(), kv("k", "v"));
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(c.cmd(&["PING"]), R::Simple("PONG".into()));
}

#[test]
fn blocked_clients_are_served_in_arrival_order() {
    let (s, mut c) = setup();
    let mut waiters: Vec<Conn> = (0..3).map(|_| Conn::new(&s)).collect();
    for (i, w) in waiters.iter_mut().enumerate() {
        // Different key sets, all including "fifo".
        if i == 1 {
            w.send(&["BRPOP", "other", "fifo", "0"]);
        } else {
            w.send(&["BLPOP", "fifo", "0"]);
        }
        c.wait_blocked(i + 1);
    }
    assert_eq!(c.cmd(&["RPUSH", "fifo", "a", "b"]), R::Int(2));
    assert_eq!(waiters[0].read(), kv("fifo", "a"));
    assert_eq!(waiters[1].read(), kv("fifo", "b"));
    assert!(waiters[2].silent_for(Duration::from_millis(200)));
    c.wait_blocked(1);
    assert_eq!(c.cmd(&["LPUSH", "fifo", "c"]), R::Int(1));
    assert_eq!(waiters[2].read(), kv("fifo", "c"));
    assert_eq!(c.cmd(&["EXISTS", "fifo"]), R::Int(0));
    assert_eq!(c.blocked_clients(), 0);
}

#[test]
fn blmove_moves_between_lists_and_wakes_the_next_waiter() {
    let (s, mut c) = setup();
    let mut mover = Conn::new(&s);
    let mut popper = Conn::new(&s);
    mover.send(&["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"]);
    c.wait_blocked(1);
    popper.send(&["BLPOP", "dst", "0"]);
    c.wait_blocked(2);
    assert_eq!(c.cmd(&["RPUSH", "src", "x", "y"]), R::Int(2));
    // The mover takes "y" into dst, which serves the popper in turn.
    assert_eq!(mover.read(), b("y"));
    assert_eq!(popper.read(), kv("dst", "y"));
    assert_eq!(c.range("src"), arr(&["x"]));
    assert_eq!(c.cmd(&["EXISTS", "dst"]), R::Int(0));

    mover.send(&["BRPOPLPUSH", "empty", "dst", "0"]);
    c.wait_blocked(1);
    assert_eq!(c.cmd(&["LPUSH", "empty", "z"]), R::Int(1));
    assert_eq!(mover.read(), b("z"));
    assert_eq!(c.range("dst"), arr(&["z"]));
    assert_eq!(c.cmd(&["EXISTS", "empty"]), R::Int(0));

    // BLMPOP with a count, woken by a push.
    mover.send(&["BLMPOP", "0", "2", "m1", "m2", "LEFT", "COUNT", "2"]);
    c.wait_blocked(1);
    c.cmd(&["RPUSH", "m2", "1", "2", "3"]);
    assert_eq!(mover.read(), R::Arr(vec![b("m2"), arr(&["1", "2"])]));
    assert_eq!(c.range("m2"), arr(&["3"]));
}

#[test]
fn a_blocked_clients_pipelined_commands_run_after_it_is_served() {
    let (s, mut c) = setup();
    let mut w = Conn::new(&s);
    let mut pipeline = Vec::new();
    for cmd in [&["BLPOP", "p", "0"][..], &["PING"], &["LLEN", "p"], &["RPUSH", "p", "after"]] {
        let parts: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
        pipeline.extend(Conn::encode(&parts));
    }
    w.w.write_all(&pipeline).unwrap();
    c.wait_blocked(1);
    assert!(w.silent_for(Duration::from_millis(200)), "nothing answers before the pop is served");
    // The pipelined RPUSH has not run yet.
    assert_eq!(c.cmd(&["LLEN", "p"]), R::Int(0));
    assert_eq!(c.cmd(&["RPUSH", "p", "a", "b"]), R::Int(2));
    assert_eq!(w.read(), kv("p", "a"));
    assert_eq!(w.read(), R::Simple("PONG".into()));
    assert_eq!(w.read(), R::Int(1));
    assert_eq!(w.read(), R::Int(2));
    assert_eq!(c.range("p"), arr(&["b", "after"]));
}

#[test]
fn blocking_commands_inside_multi_do_not_block() {
    let (_s, mut c) = setup();
    assert_eq!(c.cmd(&["MULTI"]), ok());
    for cmd in [
        &["BLPOP", "k", "0"][..],
        &["BRPOP", "k", "j", "0"],
        &["BLMOVE", "k", "d", "LEFT", "LEFT", "0"],
        &["BRPOPLPUSH", "k", "d", "0"],
        &["BLMPOP", "0", "1", "k", "LEFT"],
        &["RPUSH", "k", "v"],
        &["BLPOP", "k", "0"],
    ] {
        assert_eq!(c.cmd(cmd), R::Simple("QUEUED".into()));
    }
    let start = Instant::now();
    let got = c.cmd(&["EXEC"]);
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(got, R::Arr(vec![R::NilArray, R::NilArray, R::Nil, R::Nil, R::NilArray, R::Int(1), kv("k", "v")]));
    assert_eq!(c.blocked_clients(), 0);
}

#[test]
fn a_push_inside_multi_serves_waiters_after_exec() {
    let (s, mut c) = setup();
    let mut w = Conn::new(&s);
    w.send(&["BLPOP", "tx", "0"]);
    c.wait_blocked(1);
    c.cmd(&["MULTI"]);
    c.cmd(&["RPUSH", "tx", "a", "b"]);
    c.cmd(&["LPOP", "tx"]);
    assert_eq!(c.cmd(&["EXEC"]), R::Arr(vec![R::Int(2), b("a")]));
    assert_eq!(w.read(), kv("tx", "b"));
    assert_eq!(c.cmd(&["EXISTS", "tx"]), R::Int(0));
}

#[test]
fn a_client_disconnecting_while_blocked_does_not_break_later_pushes() {
    let (s, mut c) = setup();
    {
        let mut gone = Conn::new(&s);
        gone.send(&["BLPOP", "d", "0"]);
        c.wait_blocked(1);
    }
    c.wait_blocked(0);
    let mut next = Conn::new(&s);
    next.send(&["BLPOP", "d", "0"]);
    c.wait_blocked(1);
    assert_eq!(c.cmd(&["RPUSH", "d", "a", "b"]), R::Int(2));
    assert_eq!(next.read(), kv("d", "a"));
    // Nobody else takes the rest.
    assert_eq!(c.range("d"), arr(&["b"]));
    assert_eq!(c.cmd(&["LPUSH", "d", "c"]), R::Int(2));
    assert_eq!(c.blocked_clients(), 0);
}

#[test]
fn a_woken_client_that_finds_nothing_keeps_waiting() {
    let (s, mut c) = setup();
    let mut w = Conn::new(&s);
    w.send(&["BLPOP", "race", "0"]);
    c.wait_blocked(1);
    // Pushed and popped within one transaction: nothing is left to serve.
    c.cmd(&["MULTI"]);
    c.cmd(&["RPUSH", "race", "x"]);
    c.cmd(&["RPOP", "race"]);
    c.cmd(&["EXEC"]);
    assert!(w.silent_for(Duration::from_millis(200)));
    assert_eq!(c.blocked_clients(), 1);
    c.cmd(&["RPUSH", "race", "y"]);
    assert_eq!(w.read(), kv("race", "y"));
}

#[test]
fn watch_is_invalidated_by_list_changes() {
    let (s, mut c) = setup();
    let mut other = Conn::new(&s);
    c.cmd(&["RPUSH", "w", "a", "b"]);
    for change in [&["LPOP", "w"][..], &["LMPOP", "1", "w", "LEFT"], &["LMOVE", "x", "w", "LEFT", "LEFT"]] {
        other.cmd(&["RPUSH", "x", "1"]);
        c.cmd(&["WATCH", "w"]);
        other.cmd(change);
        c.cmd(&["MULTI"]);
        c.cmd(&["PING"]);
        assert_eq!(c.cmd(&["EXEC"]), R::NilArray, "{change:?}");
    }
    // A command that changed nothing leaves the watch intact.
    c.cmd(&["WATCH", "w"]);
    other.cmd(&["LREM", "w", "0", "nope"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["PING"]);
    assert_eq!(c.cmd(&["EXEC"]), R::Arr(vec![R::Simple("PONG".into())]));
}

#[test]
fn a_parked_client_ignores_keys_that_change_type() {
    // Redis 7.0 serves parked clients only from lists: a key turned into a
    // string neither errors nor wakes them.
    let (s, mut c) = setup();
    let mut w = Conn::new(&s);
    w.send(&["BLPOP", "t1", "t2", "0"]);
    c.wait_blocked(1);
    c.cmd(&["SET", "t1", "str"]);
    assert!(w.silent_for(Duration::from_millis(200)));
    c.cmd(&["RPUSH", "t2", "v"]);
    assert_eq!(w.read(), kv("t2", "v"));

    w.send(&["BLPOP", "t3", "0.3"]);
    c.wait_blocked(1);
    c.cmd(&["SET", "t3", "str"]);
    assert_eq!(w.read(), R::NilArray);

    // BLMOVE waits while its source holds another type; served into a
    // destination of the wrong type it gets WRONGTYPE and moves nothing.
    c.cmd(&["DEL", "t1"]);
    w.send(&["BLMOVE", "t1", "dst", "LEFT", "LEFT", "0"]);
    c.wait_blocked(1);
    c.cmd(&["SET", "t1", "again"]);
    assert!(w.silent_for(Duration::from_millis(200)));
    c.cmd(&["DEL", "t1"]);
    c.cmd(&["RPUSH", "t1", "y"]);
    assert_eq!(w.read(), b("y"));
    assert_eq!(c.range("dst"), arr(&["y"]));
    c.cmd(&["SET", "t1", "str"]);
    w.send(&["BLMOVE", "src", "t1", "LEFT", "LEFT", "0"]);
    c.wait_blocked(1);
    c.cmd(&["RPUSH", "src", "x"]);
    assert_eq!(w.read(), err(WRONGTYPE));
    assert_eq!(c.range("src"), arr(&["x"]));
    assert_eq!(c.blocked_clients(), 0);
}
