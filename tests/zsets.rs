//! Sorted set commands over a real connection: options, reply shapes (RESP2
//! and RESP3), exact error texts, encodings and blocking pops.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A raw RESP connection whose replies are rendered compactly, so tests
/// see the exact reply types: `:1`, `$bulk`, `$nil`, `,1.5`, `_`, `*nil`,
/// `*[a, b]`, `-ERR …`.
struct Conn {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Conn {
    fn open(server: &common::Server) -> Conn {
        let s = server.raw();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Conn { w: s.try_clone().unwrap(), r: BufReader::new(s) }
    }

    fn resp3(server: &common::Server) -> Conn {
        let mut c = Conn::open(server);
        c.send(&["HELLO", "3"]);
        c.read();
        c
    }

    fn send(&mut self, args: &[&str]) {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        self.w.write_all(&out).unwrap();
    }

    fn read(&mut self) -> String {
        let mut line = String::new();
        self.r.read_line(&mut line).expect("a reply");
        let line = line.trim_end_matches("\r\n");
        let (t, rest) = line.split_at(1);
        match t {
            "+" | "-" | ":" | "," | "_" | "#" => line.to_string(),
            "$" | "=" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return "$nil".into();
                }
                let mut buf = vec![0u8; n as usize + 2];
                self.r.read_exact(&mut buf).unwrap();
                buf.truncate(n as usize);
                format!("${}", String::from_utf8_lossy(&buf))
            }
            "*" | "~" | "%" | ">" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return "*nil".into();
                }
                let n = if t == "%" { 2 * n } else { n };
                let items: Vec<String> = (0..n).map(|_| self.read()).collect();
                format!("{t}[{}]", items.join(", "))
            }
            _ => panic!("unexpected reply line {line:?}"),
        }
    }

    /// Sends a command given as one space-separated string and reads the reply.
    fn q(&mut self, cmd: &str) -> String {
        let args: Vec<&str> = cmd.split(' ').collect();
        self.qa(&args)
    }

    fn qa(&mut self, args: &[&str]) -> String {
        self.send(args);
        self.read()
    }
}

/// Asserts a list of (command, expected reply) pairs in order.
fn check(c: &mut Conn, cases: &[(&str, &str)]) {
    for (cmd, want) in cases {
        assert_eq!(&c.q(cmd), want, "command: {cmd}");
    }
}

#[test]
fn zadd_options_flags_and_errors() {
    let server = common::Server::start();
    let mut c = Conn::open(&server);
    check(
        &mut c,
        &[
            ("ZADD z 1 a 2 b 3 c", ":3"),
            ("ZADD z 1 a", ":0"),
            ("ZADD z NX XX 1 a", "-ERR XX and NX options at the same time are not compatible"),
            ("ZADD z NX GT 1 a", "-ERR GT, LT, and/or NX options at the same time are not compatible"),
            ("ZADD z NX LT 1 a", "-ERR GT, LT, and/or NX options at the same time are not compatible"),
            ("ZADD z GT LT 1 a", "-ERR GT, LT, and/or NX options at the same time are not compatible"),
            ("ZADD z INCR 1 a 2 b", "-ERR INCR option supports a single increment-element pair"),
            ("ZADD z NX 1", "-ERR syntax error"),
            ("ZADD z 1", "-ERR wrong number of arguments for 'zadd' command"),
            ("ZADD z 1 a 2", "-ERR syntax error"),
            ("ZADD z NX XX", "-ERR syntax error"),
            ("ZADD z abc a", "-ERR value is not a valid float"),
            ("ZADD z nan a", "-ERR value is not a valid float"),
            ("ZADD z 1 a x b", "-ERR value is not a valid float"),
            ("ZADD z", "-ERR wrong number of arguments for 'zadd' command"),
            // CH counts changed scores too.
            ("ZADD z CH 5 a 2 b 9 d", ":2"),
            ("ZADD z XX CH 6 a 7 zz", ":1"),
            ("ZSCORE z zz", "$nil"),
            ("ZADD z NX 100 a 4 e", ":1"),
            ("ZSCORE z a", "$6"),
            ("ZADD z GT CH 1 a 10 c", ":1"),
            ("ZADD z LT CH 2 a 20 c", ":1"),
            ("ZRANGE z 0 -1 WITHSCORES", "*[$a, $2, $b, $2, $e, $4, $d, $9, $c, $10]"),
            // INCR replies with the new score, or nil when a flag prevented it.
            ("ZADD z INCR 5 a", "$7"),
            ("ZADD z NX INCR 5 a", "$nil"),
            ("ZADD z XX INCR 5 nope", "$nil"),
            ("ZADD z GT INCR -1 a", "$nil"),
            ("ZADD z LT INCR -1 a", "$6"),
            ("ZADD z incr +inf q", "$inf"),
            ("ZADD z INCR -inf q", "-ERR resulting score is not a number (NaN)"),
            ("ZSCORE z q", "$inf"),
            ("ZADD z -inf m", ":1"),
            ("ZSCORE z m", "$-inf"),
            ("ZADD z 1.5 f 1e3 g -0.25 h", ":3"),
            ("ZMSCORE z f g h", "*[$1.5, $1000, $-0.25]"),
            // XX on a missing key creates nothing.
            ("ZADD missing XX 1 a", ":0"),
            ("ZADD missing XX INCR 1 a", "$nil"),
            ("EXISTS missing", ":0"),
            ("ZINCRBY z 2.5 b", "$4.5"),
            ("ZINCRBY z x b", "-ERR value is not a valid float"),
            ("ZINCRBY z NX b", "-ERR syntax error"),
            ("ZINCRBY z 1 new", "$1"),
            ("ZINCRBY z -inf q", "-ERR resulting score is not a number (NaN)"),
            ("ZINCRBY z 1", "-ERR wrong number of arguments for 'zincrby' command"),
            ("ZINCRBY fresh -3 m", "$-3"),
            ("ZRANGE fresh 0 -1 WITHSCORES", "*[$m, $-3]"),
        ],
    );
}

#[test]
fn zrem_and_simple_reads() {
    let server = common::Server::start();
    let mut c = Conn::open(&server);
    check(
        &mut c,
        &[
            ("ZADD z 1 a 2 b 3 c 4 d", ":4"),
            ("ZREM z a nope b", ":2"),
            ("ZREM z a", ":0"),
            ("ZREM nokey a", ":0"),
            ("ZCARD z", ":2"),
            ("ZCARD nokey", ":0"),
            ("ZSCORE z c", "$3"),
            ("ZSCORE z nope", "$nil"),
            ("ZSCORE nokey a", "$nil"),
            ("ZMSCORE z c nope d", "*[$3, $nil, $4]"),
            ("ZMSCORE nokey a b", "*[$nil, $nil]"),
            ("ZMSCORE z", "-ERR wrong number of arguments for 'zmscore' command"),
            ("ZRANK z c", ":0"),
            ("ZRANK z d", ":1"),
            ("ZREVRANK z c", ":1"),
            ("ZREVRANK z d", ":0"),
            ("ZRANK z nope", "$nil"),
            ("ZRANK nokey a", "$nil"),
            ("ZRANK z c WITHSCORE", "-ERR wrong number of arguments for 'zrank' command"),
            // Removing the last members deletes the key.
            ("ZREM z c d", ":2"),
            ("EXISTS z", ":0"),
        ],
    );
}

#[test]
fn counts_with_exclusive_bounds_and_infinities() {
    let server = common::Server::start();
    let mut c = Conn::open(&server);
    check(
        &mut c,
        &[
            ("ZADD z -inf ninf 1 a 2 b 3 c 4 d 5 e +inf pinf", ":7"),
            ("ZCOUNT z -inf +inf", ":7"),
            ("ZCOUNT z (-inf (+inf", ":5"),
            ("ZCOUNT z 1 3", ":3"),
            ("ZCOUNT z (1 3", ":2"),
            ("ZCOUNT z (1 (3", ":1"),
            ("ZCOUNT z 3 1", ":0"),
            ("ZCOUNT z (3 (3", ":0"),
            ("ZCOUNT z x 1", "-ERR min or max is not a float"),
            ("ZCOUNT z 1 (x", "-ERR min or max is not a float"),
            // Bounds are read with bare strtod: `(` alone is "above 0".
            ("ZCOUNT z ( 3", ":3"),
            ("ZCOUNT nokey 1 2", ":0"),
            // Scores as strtod reads them: hex, and no out-of-range values.
            ("ZADD hexz 0x10 h", ":1"),
            ("ZSCORE hexz h", "$16"),
            ("ZADD hexz 1e400 big", "-ERR value is not a valid float"),
            ("ZADD lex 0 a 0 b 0 c 0 d 0 e", ":5"),
            ("ZLEXCOUNT lex - +", ":5"),
            ("ZLEXCOUNT lex [b [d", ":3"),
            ("ZLEXCOUNT lex (b (d", ":1"),
            ("ZLEXCOUNT lex (b +", ":3"),
            ("ZLEXCOUNT lex + -", ":0"),
            ("ZLEXCOUNT lex a c", "-ERR min or max not valid string range item"),
            ("ZLEXCOUNT nokey - +", ":0"),
        ],
    );
}

#[test]
fn zrange_by_rank_score_and_lex() {
    let server = common::Server::start();
    let mut c = Conn::open(&server);
    c.q("ZADD z 1 a 2 b 3 c 4 d 5 e");
    c.q("ZADD lex 0 a 0 b 0 c 0 d 0 e 0 f");
    check(
        &mut c,
        &[
            ("ZRANGE z 0 -1", "*[$a, $b, $c, $d, $e]"),
            ("ZRANGE z 0 1 WITHSCORES", "*[$a, $1, $b, $2]"),
            ("ZRANGE z -2 -1", "*[$d, $e]"),
            ("ZRANGE z -100 100", "*[$a, $b, $c, $d, $e]"),
            ("ZRANGE z 3 1", "*[]"),
            ("ZRANGE z 5 10", "*[]"),
            ("ZRANGE z 0 1 REV WITHSCORES", "*[$e, $5, $d, $4]"),
            ("ZRANGE z (1 4 BYSCORE", "*[$b, $c, $d]"),
            ("ZRANGE z 4 (1 BYSCORE REV WITHSCORES", "*[$d, $4, $c, $3, $b, $2]"),
            ("ZRANGE z -inf +inf BYSCORE LIMIT 1 2", "*[$b, $c]"),
            ("ZRANGE z -inf +inf BYSCORE LIMIT 3 -1", "*[$d, $e]"),
            ("ZRANGE z -inf +inf BYSCORE LIMIT -1 2", "*[]"),
            ("ZRANGE z -inf +inf BYSCORE LIMIT 1 0", "*[]"),
            ("ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2 WITHSCORES", "*[$d, $4, $c, $3]"),
            ("ZRANGE lex - + BYLEX LIMIT 1 2", "*[$b, $c]"),
            ("ZRANGE lex [b (e BYLEX", "*[$b, $c, $d]"),
            ("ZRANGE lex (e [b BYLEX REV", "*[$d, $c, $b]"),
            ("ZRANGE lex + - BYLEX REV LIMIT 0 2", "*[$f, $e]"),
            (
                "ZRANGE z 0 -1 LIMIT 1 2",
                "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
            ),
            (
                "ZRANGE lex - + BYLEX WITHSCORES",
                "-ERR syntax error, WITHSCORES not supported in combination with BYLEX",
            ),
            ("ZRANGE z 0 1 BYSCORE BYLEX", "-ERR syntax error"),
            ("ZRANGE z 0 1 REV REV", "-ERR syntax error"),
            ("ZRANGE z 0 1 LIMIT 1", "-ERR syntax error"),
            ("ZRANGE z 0 1 LIMIT x 1", "-ERR value is not an integer or out of range"),
            ("ZRANGE z 0 -1 FOO", "-ERR syntax error"),
            ("ZRANGE z a b", "-ERR value is not an integer or out of range"),
            ("ZRANGE z x y BYSCORE", "-ERR min or max is not a float"),
            ("ZRANGE lex x y BYLEX", "-ERR min or max not valid string range item"),
            ("ZRANGE nokey 0 -1", "*[]"),
            ("ZREVRANGE z 0 1 WITHSCORES", "*[$e, $5, $d, $4]"),
            ("ZREVRANGE z 0 1 REV", "-ERR syntax error"),
            ("ZRANGEBYSCORE z 2 4", "*[$b, $c, $d]"),
            ("ZRANGEBYSCORE z (2 +inf WITHSCORES LIMIT 1 1", "*[$d, $4]"),
            ("ZRANGEBYSCORE z 1 3 BYLEX", "-ERR syntax error"),
            ("ZREVRANGEBYSCORE z 4 2", "*[$d, $c, $b]"),
            ("ZREVRANGEBYSCORE z 2 4", "*[]"),
            ("ZREVRANGEBYSCORE z +inf -inf LIMIT 1 2", "*[$d, $c]"),
            ("ZRANGEBYLEX lex [a (c", "*[$a, $b]"),
            ("ZRANGEBYLEX lex - + LIMIT 4 10", "*[$e, $f]"),
            ("ZRANGEBYLEX lex - + WITHSCORES", "-ERR syntax error, WITHSCORES not supported in combination with BYLEX"),
            ("ZRANGEBYLEX lex a c", "-ERR min or max not valid string range item"),
            ("ZREVRANGEBYLEX lex [c [a", "*[$c, $b, $a]"),
            ("ZREVRANGEBYLEX lex + - LIMIT 2 2", "*[$d, $c]"),
        ],
    );
}

#[test]
fn zrangestore_stores_or_deletes_the_destination() {
    let server = common::Server::start();
    let mut c = Conn::open(&server);
    c.q("ZADD z 1 a 2 b 3 c 4 d");
    c.q("ZADD lex 0 a 0 b 0 c 0 d");
    check(
        &mut c,
        &[
            ("ZRANGESTORE dst z 1 -1", ":3"),
            ("ZRANGE dst 0 -1 WITHSCORES", "*[$b, $2, $c, $3, $d, $4]"),
            ("ZRANGESTORE dst z (1 3 BYSCORE", ":2"),
            ("ZRANGE dst 0 -1 WITHSCORES", "*[$b, $2, $c, $3]"),
            ("ZRANGESTORE dst z 4 1 BYSCORE REV LIMIT 0 2", ":2"),
            ("ZRANGE dst 0 -1 WITHSCORES", "*[$c, $3, $d, $4]"),
            ("ZRANGESTORE dst lex [b [c BYLEX", ":2"),
            ("ZRANGE dst 0 -1 WITHSCORES", "*[$b, $0, $c, $0]"),
            ("ZRANGESTORE dst z 0 -1 WITHSCORES", "-ERR syntax error"),
            ("SET str v", "+OK"),
            ("EXPIRE dst 100", ":1"),
            ("ZRANGESTORE dst z 0 0", ":1"),
            ("TTL dst", ":-1"),
            ("ZRANGESTORE dst z 10 20", ":0"),
            ("EXISTS dst", ":0"),
            ("ZRANGESTORE dst nokey 0 -1", ":0"),
            ("ZRANGESTORE dst str 0 -1", "-WRONGTYPE Operation against a key holding the wrong kind of value"),
            // The destination may hold any type: it is replaced.
            ("ZRANGESTORE str z 0 0", ":1"),
            ("TYPE str", "+zset"),
        ],
    );
}

#[test]
fn zremrange_by_rank_score_and_lex() {
    let server = common::Server::start();
    let mut c = Conn::open(&server);
    c.q("ZADD z 1 a 2 b 3 c 4 d 5 e 6 f");
    c.q("ZADD lex 0 a 0 b 0 c 0 d 0 e");
    check(
        &mut c,
        &[
            ("ZREMRANGEBYRANK z 0 0", ":1"),
            ("ZREMRANGEBYRANK z -1 -1", ":1"),
            ("ZREMRANGEBYRANK z 10 20", ":0"),
            ("ZREMRANGEBYRANK z x 1", "-ERR value is not an integer or out of range"),
            ("ZREMRANGEBYRANK nokey 0 1", ":0"),
            ("ZRANGE z 0 -1", "*[$b, $c, $d, $e]"),
            ("ZREMRANGEBYSCORE z (2 (4", ":1"),
            ("ZREMRANGEBYSCORE z x 1", "-ERR min or max is not a float"),
            ("ZRANGE z 0 -1", "*[$b, $d, $e]"),
            ("ZREMRANGEBYSCORE z -inf +inf", ":3"),
            ("EXISTS z", ":0"),
            ("ZREMRANGEBYLEX lex (a [c", ":2"),
            ("ZREMRANGEBYLEX lex a c", "-ERR min or max not valid string range item"),
            ("ZRANGE lex 0 -1", "*[$a, $d, $e]"),
            ("ZREMRANGEBYLEX lex - +", ":3"),
            ("EXISTS lex", ":0"),
        ],
    );
}

#[test]
fn zpopmin_and_zpopmax() {
    let server = common::Server::start();
    let mut c = Conn::open(&server);
    c.q("ZADD z 1 a 2 b 3 c 4 d");
    check(
        &mut c,
        &[
            ("ZPOPMIN z", "*[$a, $1]"),
            ("ZPOPMAX z", "*[$d, $4]"),
            ("ZPOPMIN z 0", "*[]"),
            ("ZPOPMIN z -1", "-ERR value is out of range, must be positive"),
            ("ZPOPMIN z x", "-ERR value is out of range, must be positive"),
            ("ZPOPMIN z 1 2", "-ERR syntax error"),
            ("ZPOPMAX z 10", "*[$c, $3, $b, $2]"),
            ("EXISTS z", ":0"),
            ("ZPOPMIN nokey", "*[]"),
            ("ZPOPMAX nokey 3", "*[]"),
        ],
    );
}

#[test]
fn union_inter_diff_with_weights_and_aggregates() {
    let server = common::Server::start();
    let mut c = Conn::open(&server);
    c.q("ZADD z1 1 a 2 b 3 c");
    c.q("ZADD z2 10 b 20 c 30 d");
    check(
        &mut c,
        &[
            ("ZUNIONSTORE out 2 z1 z2", ":4"),
            ("ZRANGE out 0 -1 WITHSCORES", "*[$a, $1, $b, $12, $c, $23, $d, $30]"),
            ("ZUNIONSTORE out 2 z1 z2 WEIGHTS 2 0.5", ":4"),
            ("ZRANGE out 0 -1 WITHSCORES", "*[$a, $2, $b, $9, $d, $15, $c, $16]"),
            ("ZUNIONSTORE out 2 z1 z2 AGGREGATE MIN", ":4"),
            ("ZRANGE out 0 -1 WITHSCORES", "*[$a, $1, $b, $2, $c, $3, $d, $30]"),
            ("ZUNIONSTORE out 2 z1 z2 aggregate max weights 1 -1", ":4"),
            ("ZRANGE out 0 -1 WITHSCORES", "*[$d, $-30, $a, $1, $b, $2, $c, $3]"),
            ("ZINTERSTORE out 2 z1 z2", ":2"),
            ("ZRANGE out 0 -1 WITHSCORES", "*[$b, $12, $c, $23]"),
            ("ZINTERSTORE out 2 z1 z2 WEIGHTS 2 3 AGGREGATE MAX", ":2"),
            ("ZRANGE out 0 -1 WITHSCORES", "*[$b, $30, $c, $60]"),
            ("ZINTERSTORE out 2 z1 z2 AGGREGATE MIN", ":2"),
            ("ZRANGE out 0 -1 WITHSCORES", "*[$b, $2, $c, $3]"),
            // An empty result deletes the destination.
            ("ZINTERSTORE out 2 z1 nokey", ":0"),
            ("EXISTS out", ":0"),
            ("ZDIFFSTORE out 2 z2 z1", ":1"),
            ("ZRANGE out 0 -1 WITHSCORES", "*[$d, $30]"),
            ("ZDIFFSTORE out 1 z2", ":3"),
            ("ZDIFFSTORE out 2 z1 z1", ":0"),
            ("EXISTS out", ":0"),
            ("ZUNION 2 z1 z2", "*[$a, $b, $c, $d]"),
            ("ZUNION 2 z1 z2 WITHSCORES WEIGHTS 1 2 AGGREGATE MAX", "*[$a, $1, $b, $20, $c, $40, $d, $60]"),
            ("ZINTER 2 z1 z2 WITHSCORES", "*[$b, $12, $c, $23]"),
            ("ZINTER 2 z1 nokey", "*[]"),
            ("ZDIFF 2 z1 z2 WITHSCORES", "*[$a, $1]"),
            ("ZDIFF 2 nokey z1", "*[]"),
            ("ZINTERCARD 2 z1 z2", ":2"),
            ("ZINTERCARD 2 z1 z2 LIMIT 1", ":1"),
            ("ZINTERCARD 2 z1 z2 LIMIT 0", ":2"),
            ("ZINTERCARD 2 z1 z2 LIMIT -1", "-ERR LIMIT can't be negative"),
            // inf * 0 counts as 0, inf + -inf sums to 0.
            ("ZADD pinf inf a", ":1"),
            ("ZADD ninf -inf a", ":1"),
            ("ZUNION 2 pinf z1 WEIGHTS 0 1 WITHSCORES", "*[$a, $1, $b, $2, $c, $3]"),
            ("ZUNION 2 pinf ninf WITHSCORES", "*[$a, $0]"),
            ("ZINTER 2 pinf ninf WITHSCORES AGGREGATE MIN", "*[$a, $-inf]"),
        ],
    );
}

#[test]
fn set_algebra_errors() {
    let server = common::Server::start();
    let mut c = Conn::open(&server);
    c.q("ZADD z1 1 a");
    c.q("ZADD z2 2 b");
    c.q("SET str v");
    check(
        &mut c,
        &[
            ("ZUNIONSTORE out 0 z1", "-ERR at least 1 input key is needed for 'zunionstore' command"),
            ("ZINTERSTORE out -1 z1", "-ERR at least 1 input key is needed for 'zinterstore' command"),
            ("ZDIFFSTORE out 0 z1", "-ERR at least 1 input key is needed for 'zdiffstore' command"),
            ("ZUNION 0 z1", "-ERR at least 1 input key is needed for 'zunion' command"),
            ("ZINTER 0 z1", "-ERR at least 1 input key is needed for 'zinter' command"),
            ("ZDIFF 0 z1", "-ERR at least 1 input key is needed for 'zdiff' command"),
            ("ZINTERCARD 0 z1", "-ERR at least 1 input key is needed for 'zintercard' command"),
            ("ZUNIONSTORE out x z1", "-ERR value is not an integer or out of range"),
            ("ZUNIONSTORE out 3 z1 z2", "-ERR syntax error"),
            ("ZUNIONSTORE out 2 z1 str", "-WRONGTYPE Operation against a key holding the wrong kind of value"),
            ("ZUNIONSTORE out 2 z1 z2 WEIGHTS 1", "-ERR syntax error"),
            ("ZUNIONSTORE out 2 z1 z2 WEIGHTS 1 x", "-ERR weight value is not a float"),
            ("ZUNIONSTORE out 2 z1 z2 AGGREGATE avg", "-ERR syntax error"),
            ("ZUNIONSTORE out 2 z1 z2 AGGREGATE", "-ERR syntax error"),
            ("ZUNIONSTORE out 2 z1 z2 WITHSCORES", "-ERR syntax error"),
            ("ZDIFFSTORE out 2 z1 z2 WEIGHTS 1 1", "-ERR syntax error"),
            ("ZDIFF 2 z1 z2 AGGREGATE SUM", "-ERR syntax error"),
            ("ZINTERCARD 2 z1 z2 WITHSCORES", "-ERR syntax error"),
            ("ZINTER 2 z1 str", "-WRONGTYPE Operation against a key holding the wrong kind of value"),
            ("EXISTS out", ":0"),
        ],
    );
}

#[test]
fn wrongtype_everywhere() {
    let server = common::Server::start();
    let mut c = Conn::open(&server);
    c.q("SET s v");
    let wt = "-WRONGTYPE Operation against a key holding the wrong kind of value";
    for cmd in [
        "ZADD s 1 a",
        "ZADD s XX 1 a",
        "ZINCRBY s 1 a",
        "ZREM s a",
        "ZSCORE s a",
        "ZMSCORE s a",
        "ZCARD s",
        "ZCOUNT s 0 1",
        "ZLEXCOUNT s - +",
        "ZRANK s a",
        "ZREVRANK s a",
        "ZRANGE s 0 -1",
        "ZRANGE s 0 1 BYSCORE",
        "ZRANGEBYSCORE s 0 1",
        "ZREVRANGEBYSCORE s 1 0",
        "ZRANGEBYLEX s - +",
        "ZREVRANGEBYLEX s + -",
        "ZREVRANGE s 0 -1",
        "ZRANGESTORE d s 0 -1",
        "ZREMRANGEBYRANK s 0 1",
        "ZREMRANGEBYSCORE s 0 1",
        "ZREMRANGEBYLEX s - +",
        "ZPOPMIN s",
        "ZPOPMAX s 2",
        "BZPOPMIN s 0",
        "BZPOPMAX nokey s 0",
        "ZUNIONSTORE d 1 s",
        "ZINTERSTORE d 1 s",
        "ZDIFFSTORE d 1 s",
        "ZUNION 1 s",
        "ZINTER 1 s",
        "ZDIFF 1 s",
        "ZINTERCARD 1 s",
        "ZSCAN s 0",
        "ZRANDMEMBER s",
        "ZRANDMEMBER s 2",
    ] {
        assert_eq!(c.q(cmd), wt, "command: {cmd}");
    }
    assert_eq!(c.q("GET s"), "$v");
}

#[test]
fn encodings_convert_at_the_listpack_limits() {
    let server = common::Server::start();
    let mut c = Conn::open(&server);
    for i in 0..128 {
        c.q(&format!("ZADD z {i} m{i}"));
    }
    assert_eq!(c.q("OBJECT ENCODING z"), "$listpack");
    c.q("ZADD z 500 m128");
    assert_eq!(c.q("OBJECT ENCODING z"), "$skiplist");
    assert_eq!(c.q("ZCARD z"), ":129");
    assert_eq!(c.q("ZRANK z m100"), ":100");
    assert_eq!(c.q("ZRANGE z 127 -1 WITHSCORES"), "*[$m127, $127, $m128, $500]");
    assert_eq!(c.q("ZREVRANGEBYSCORE z +inf 126 LIMIT 0 2"), "*[$m128, $m127]");

    let m64 = "x".repeat(64);
    let m65 = "y".repeat(65);
    c.q(&format!("ZADD small 1 {m64}"));
    assert_eq!(c.q("OBJECT ENCODING small"), "$listpack");
    c.q(&format!("ZADD small 2 {m65}"));
    assert_eq!(c.q("OBJECT ENCODING small"), "$skiplist");
    assert_eq!(c.q("ZRANGE small 0 -1"), format!("*[${m64}, ${m65}]"));

    // Stored results are compact again when they fit.
    assert_eq!(c.q("ZRANGESTORE part z 0 9"), ":10");
    assert_eq!(c.q("OBJECT ENCODING part"), "$listpack");
    assert_eq!(c.q("ZUNIONSTORE all 1 z"), ":129");
    assert_eq!(c.q("OBJECT ENCODING all"), "$skiplist");

    // The thresholds follow CONFIG SET.
    c.q("CONFIG SET zset-max-listpack-entries 2");
    c.q("ZADD t 1 a 2 b");
    assert_eq!(c.q("OBJECT ENCODING t"), "$listpack");
    c.q("ZADD t 3 c");
    assert_eq!(c.q("OBJECT ENCODING t"), "$skiplist");
}

#[test]
fn zscan_small_and_large() {
    let server = common::Server::start();
    let mut c = Conn::open(&server);
    c.q("ZADD z 1 a 2.5 b 3 c");
    assert_eq!(c.q("ZSCAN z 0"), "*[$0, *[$a, $1, $b, $2.5, $c, $3]]");
    assert_eq!(c.q("ZSCAN z 0 MATCH b*"), "*[$0, *[$b, $2.5]]");
    assert_eq!(c.q("ZSCAN z 0 COUNT 1"), "*[$0, *[$a, $1, $b, $2.5, $c, $3]]");
    assert_eq!(c.q("ZSCAN z x"), "-ERR invalid cursor");
    assert_eq!(c.q("ZSCAN z 0 COUNT 0"), "-ERR syntax error");
    assert_eq!(c.q("ZSCAN z 0 FOO bar"), "-ERR syntax error");
    assert_eq!(c.q("ZSCAN nokey 0"), "*[$0, *[]]");

    for i in 0..300 {
        c.q(&format!("ZADD big {i} m{i}"));
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    let mut rounds = 0;
    loop {
        c.send(&["ZSCAN", "big", &cursor, "COUNT", "50"]);
        let reply = c.read();
        let inner = reply.strip_prefix("*[$").unwrap();
        let (next, rest) = inner.split_once(", ").unwrap();
        let items = rest.trim_start_matches("*[").trim_end_matches("]]");
        let parts: Vec<&str> = items.split(", ").collect();
        for pair in parts.chunks(2) {
            let m = pair[0].trim_start_matches('$');
            let s = pair[1].trim_start_matches('$');
            assert_eq!(format!("m{s}"), m);
            seen.insert(m.to_string());
        }
        rounds += 1;
        cursor = next.to_string();
        if cursor == "0" {
            break;
        }
        assert!(rounds < 100);
    }
    assert_eq!(seen.len(), 300);
    assert!(rounds > 1);
}

#[test]
fn zrandmember_counts_and_errors() {
    let server = common::Server::start();
    let mut c = Conn::open(&server);
    c.q("ZADD z 1 a 2 b 3 c");
    c.q("ZADD one 5 solo");
    check(
        &mut c,
        &[
            ("ZRANDMEMBER nokey", "$nil"),
            ("ZRANDMEMBER nokey 5", "*[]"),
            ("ZRANDMEMBER z 0", "*[]"),
            ("ZRANDMEMBER one", "$solo"),
            ("ZRANDMEMBER one -3 WITHSCORES", "*[$solo, $5, $solo, $5, $solo, $5]"),
            ("ZRANDMEMBER one 3 WITHSCORES", "*[$solo, $5]"),
            ("ZRANDMEMBER z x", "-ERR value is not an integer or out of range"),
            ("ZRANDMEMBER z 1 foo", "-ERR syntax error"),
            ("ZRANDMEMBER z 1 WITHSCORES x", "-ERR syntax error"),
            ("ZRANDMEMBER z 9223372036854775807 WITHSCORES", "-ERR value is out of range"),
        ],
    );
    let all = c.q("ZRANDMEMBER z 5 WITHSCORES");
    for pair in ["$a, $1", "$b, $2", "$c, $3"] {
        assert!(all.contains(pair), "{all}");
    }
    let two = c.q("ZRANDMEMBER z 2");
    let members: Vec<&str> = two.trim_start_matches("*[").trim_end_matches(']').split(", ").collect();
    assert_eq!(members.len(), 2);
    assert_ne!(members[0], members[1]);
    let many = c.q("ZRANDMEMBER z -20");
    assert_eq!(many.matches(", ").count(), 19);
    assert!(["$a", "$b", "$c"].contains(&c.q("ZRANDMEMBER z").as_str()));
}

#[test]
fn resp3_reply_shapes() {
    let server = common::Server::start();
    let mut c = Conn::resp3(&server);
    c.q("ZADD z 1 a 2.5 b 3 c");
    check(
        &mut c,
        &[
            ("ZSCORE z b", ",2.5"),
            ("ZSCORE z nope", "_"),
            ("ZMSCORE z a nope", "*[,1, _]"),
            ("ZADD z INCR 1 a", ",2"),
            ("ZINCRBY z 1 c", ",4"),
            ("ZRANGE z 0 -1", "*[$a, $b, $c]"),
            ("ZRANGE z 0 -1 WITHSCORES", "*[*[$a, ,2], *[$b, ,2.5], *[$c, ,4]]"),
            ("ZRANGEBYSCORE z 2 3 WITHSCORES", "*[*[$a, ,2], *[$b, ,2.5]]"),
            ("ZUNION 1 z WITHSCORES", "*[*[$a, ,2], *[$b, ,2.5], *[$c, ,4]]"),
            ("ZADD inf +inf i", ":1"),
            ("ZSCORE inf i", ",inf"),
            ("ZPOPMIN z", "*[$a, ,2]"),
            ("ZPOPMIN z 1", "*[*[$b, ,2.5]]"),
            ("ZPOPMIN nokey 1", "*[]"),
            ("BZPOPMIN z 0", "*[$z, $c, ,4]"),
            ("BZPOPMIN z 0.05", "_"),
        ],
    );
    let r = c.q("ZRANDMEMBER inf 1 WITHSCORES");
    assert_eq!(r, "*[*[$i, ,inf]]");
}

#[test]
fn bzpop_serves_existing_data_and_validates_the_timeout() {
    let server = common::Server::start();
    let mut c = Conn::open(&server);
    c.q("ZADD z 1 a 2 b 3 c");
    c.q("SET str v");
    check(
        &mut c,
        &[
            ("BZPOPMIN nokey z 0", "*[$z, $a, $1]"),
            ("BZPOPMAX z 0", "*[$z, $c, $3]"),
            ("BZPOPMIN z x", "-ERR timeout is not a float or out of range"),
            ("BZPOPMIN z nan", "-ERR timeout is not a float or out of range"),
            ("BZPOPMIN z -1", "-ERR timeout is negative"),
            ("BZPOPMIN z inf", "-ERR timeout is negative"),
            // The first non-empty key wins; a wrong type after it is not seen.
            ("BZPOPMIN z str 0", "*[$z, $b, $2]"),
            ("BZPOPMIN nokey str 0", "-WRONGTYPE Operation against a key holding the wrong kind of value"),
            ("BZPOPMIN z", "-ERR wrong number of arguments for 'bzpopmin' command"),
        ],
    );
    // Timing out replies with a null array.
    let start = Instant::now();
    assert_eq!(c.q("BZPOPMIN z 0.2"), "*nil");
    assert!(start.elapsed() >= Duration::from_millis(150));
    // Inside MULTI it never blocks.
    check(&mut c, &[("MULTI", "+OK"), ("BZPOPMAX z 0", "+QUEUED"), ("EXEC", "*[*nil]")]);
}

#[test]
fn bzpopmin_is_woken_by_another_clients_zadd() {
    let server = common::Server::start();
    let mut waiter = Conn::open(&server);
    let mut other = Conn::open(&server);
    waiter.send(&["BZPOPMIN", "q1", "q2", "5"]);
    std::thread::sleep(Duration::from_millis(200));
    // A write to an unrelated key does not wake it.
    assert_eq!(other.q("ZADD q3 1 x"), ":1");
    assert_eq!(other.q("ZADD q2 3 c 1 a"), ":2");
    assert_eq!(waiter.read(), "*[$q2, $a, $1]");
    assert_eq!(other.q("ZRANGE q2 0 -1"), "*[$c]");
    // The connection goes on normally afterwards.
    assert_eq!(waiter.q("PING"), "+PONG");

    // BZPOPMAX, woken by a ZUNIONSTORE into the key.
    waiter.send(&["BZPOPMAX", "dst", "0"]);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(other.q("ZUNIONSTORE dst 2 q2 q3"), ":2");
    assert_eq!(waiter.read(), "*[$dst, $c, $3]");
    assert_eq!(other.q("ZRANGE dst 0 -1"), "*[$x]");

    // Two waiters are served in arrival order.
    let mut second = Conn::open(&server);
    waiter.send(&["BZPOPMIN", "w", "0"]);
    std::thread::sleep(Duration::from_millis(100));
    second.send(&["BZPOPMIN", "w", "0"]);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(other.q("ZADD w 1 a 2 b"), ":2");
    assert_eq!(waiter.read(), "*[$w, $a, $1]");
    assert_eq!(second.read(), "*[$w, $b, $2]");
    assert_eq!(other.q("EXISTS w"), ":0");
}

/// Polls INFO until `n` clients are blocked (bounded: 5 s).
fn wait_blocked(c: &mut Conn, n: usize) {
    let want = format!("blocked_clients:{n}\r\n");
    for _ in 0..500 {
        if c.q("INFO clients").contains(&want) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("never {want:?}");
}

#[test]
fn a_parked_client_ignores_a_key_that_became_a_string() {
    // Redis 7.0 serves parked clients only from sorted sets: the key turned
    // into a string inside a transaction neither errors nor wakes them.
    let server = common::Server::start();
    let mut waiter = Conn::open(&server);
    let mut other = Conn::open(&server);
    for (pop, served) in
        [(&["BZPOPMIN", "k", "0"][..], "*[$k, $bar, $1]"), (&["BZMPOP", "0", "1", "k", "MIN"], "*[$k, *[*[$bar, $1]]]")]
    {
        waiter.send(pop);
        wait_blocked(&mut other, 1);
        check(
            &mut other,
            &[
                ("MULTI", "+OK"),
                ("ZADD k 0 foo", "+QUEUED"),
                ("DEL k", "+QUEUED"),
                ("SET k foo", "+QUEUED"),
                ("EXEC", "*[:1, :1, +OK]"),
                ("DEL k", ":1"),
                ("ZADD k 1 bar", ":1"),
            ],
        );
        assert_eq!(waiter.read(), served, "{pop:?}");
    }
    // At its timeout the string is skipped too: a null array, no WRONGTYPE.
    other.q("DEL k");
    waiter.send(&["BZPOPMIN", "k", "0.2"]);
    wait_blocked(&mut other, 1);
    other.q("SET k str");
    assert_eq!(waiter.read(), "*nil");
}

#[test]
fn zmpop_and_bzmpop() {
    let server = common::Server::start();
    let mut c = Conn::open(&server);
    c.q("ZADD z 1 a 2 b 3 c 4 d");
    c.q("SET str v");
    check(
        &mut c,
        &[
            ("ZMPOP 1 z MIN", "*[$z, *[*[$a, $1]]]"),
            ("ZMPOP 1 z MAX COUNT 2", "*[$z, *[*[$d, $4], *[$c, $3]]]"),
            ("ZMPOP 2 nokey z min count 10", "*[$z, *[*[$b, $2]]]"),
            ("EXISTS z", ":0"),
            ("ZMPOP 1 z MIN", "*nil"),
            ("ZMPOP 0 z MIN", "-ERR numkeys should be greater than 0"),
            ("ZMPOP x z MIN", "-ERR numkeys should be greater than 0"),
            ("ZMPOP 2 z MIN", "-ERR syntax error"),
            ("ZMPOP 1 z FOO", "-ERR syntax error"),
            ("ZMPOP 1 z MIN COUNT 0", "-ERR count should be greater than 0"),
            ("ZMPOP 1 z MIN COUNT 1 COUNT 2", "-ERR syntax error"),
            ("ZMPOP 2 str z MIN", "-WRONGTYPE Operation against a key holding the wrong kind of value"),
            ("BZMPOP x 1 z MIN", "-ERR timeout is not a float or out of range"),
            ("BZMPOP -1 1 z MIN", "-ERR timeout is negative"),
            ("BZMPOP 0 0 z MIN", "-ERR numkeys should be greater than 0"),
            ("BZMPOP 0.1 1 z MIN", "*nil"),
            ("ZADD z 1 a 2 b", ":2"),
            ("BZMPOP 0 1 z MAX COUNT 5", "*[$z, *[*[$b, $2], *[$a, $1]]]"),
        ],
    );
    let mut other = Conn::open(&server);
    c.send(&["BZMPOP", "5", "2", "q1", "q2", "MIN", "COUNT", "2"]);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(other.q("ZADD q2 3 c 1 a 2 b"), ":3");
    assert_eq!(c.read(), "*[$q2, *[*[$a, $1], *[$b, $2]]]");
    assert_eq!(other.q("ZRANGE q2 0 -1"), "*[$c]");

    let mut c3 = Conn::resp3(&server);
    assert_eq!(c3.q("ZMPOP 1 q2 MAX"), "*[$q2, *[*[$c, ,3]]]");
    assert_eq!(c3.q("ZMPOP 1 q2 MAX"), "_");
}
