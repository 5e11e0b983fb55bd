//! LCS side by side with Debian's redis-server 7.0: string.tcl's cases,
//! a few hundred random pairs over a short alphabet (many matches) with
//! every option combination, in RESP2 and RESP3, the errors and their
//! order, the memory guard, and the command's table row. The replies must
//! be identical. Skips with a note when redis-server is not installed.

mod aof_support;
mod common;
mod helpers;
mod side_by_side;

use aof_support::Rng;
use helpers::{Raw, Resp};
use side_by_side::{both_bytes, start_pair, Pair};

const RNA1: &str = "CACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTTCGTCCGGGTGTG";
const RNA2: &str = "ATTAAAGGTTTATACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT";
const RNALCS: &str = "ACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT";

const NOT_STRINGS: &str = "ERR The specified keys must contain string values";

/// A RESP3 connection to each server (HELLO 3; its reply differs, by
/// server name and version, and is not compared).
struct Resp3 {
    forkv: Raw,
    redis: Raw,
}

fn resp3(p: &Pair) -> Resp3 {
    let mut forkv = Raw::connect(p.forkv_server.port);
    let mut redis = Raw::connect(p.redis_server.port);
    for r in [&mut forkv, &mut redis] {
        assert!(matches!(r.cmd(&["HELLO", "3"]), Resp::Map(_)));
    }
    Resp3 { forkv, redis }
}

fn words(line: &str) -> Vec<&[u8]> {
    line.split(' ').map(str::as_bytes).collect()
}

trait Both {
    fn both_bytes(&mut self, args: &[&[u8]]) -> Resp;

    fn line(&mut self, line: &str) -> Resp {
        self.both_bytes(&words(line))
    }

    /// An error on both, the same text, `want`.
    fn error(&mut self, line: &str, want: &str) {
        assert_eq!(self.line(line), Resp::err(want), "{line}");
    }
}

impl Both for Pair {
    fn both_bytes(&mut self, args: &[&[u8]]) -> Resp {
        both_bytes(&mut self.forkv, &mut self.redis, args)
    }
}

impl Both for Resp3 {
    fn both_bytes(&mut self, args: &[&[u8]]) -> Resp {
        both_bytes(&mut self.forkv, &mut self.redis, args)
    }
}

/// The `matches` of an IDX reply, either protocol's shape.
fn matches(reply: &Resp) -> Vec<Resp> {
    match reply {
        Resp::Map(pairs) => {
            assert_eq!(pairs[0].0, Resp::bulk("matches"));
            assert_eq!(pairs[1].0, Resp::bulk("len"));
            pairs[0].1.items().to_vec()
        }
        Resp::Array(items) => {
            assert_eq!(items.len(), 4);
            assert_eq!(items[0], Resp::bulk("matches"));
            assert_eq!(items[2], Resp::bulk("len"));
            items[1].items().to_vec()
        }
        other => panic!("not an IDX reply: {other:?}"),
    }
}

/// `((a_start a_end) (b_start b_end) [len])` as a reply.
fn range(a: (i64, i64), b: (i64, i64), len: Option<i64>) -> Resp {
    let mut items = vec![Resp::ints(&[a.0, a.1]), Resp::ints(&[b.0, b.1])];
    items.extend(len.map(Resp::Int));
    Resp::Array(items)
}

/// A match as string.tcl writes it: the two ranges and the length.
type Range = ((i64, i64), (i64, i64), i64);

/// string.tcl's LCS tests, in both protocols, with its expected answers.
#[test]
fn string_tcl_cases_match_redis() {
    let Some(mut p) = start_pair() else { return };
    let mut p3 = resp3(&p);
    p.both_bytes(&[b"SET", b"virus1{t}", RNA1.as_bytes()]);
    p.both_bytes(&[b"SET", b"virus2{t}", RNA2.as_bytes()]);
    let tcl: [(&str, &[Range]); 2] = [
        (
            "",
            &[
                ((238, 238), (239, 239), 1),
                ((236, 236), (238, 238), 1),
                ((229, 230), (236, 237), 2),
                ((224, 224), (235, 235), 1),
                ((1, 222), (13, 234), 222),
            ],
        ),
        (" MINMATCHLEN 5", &[((1, 222), (13, 234), 222)]),
    ];
    for s in [&mut p as &mut dyn Both, &mut p3] {
        assert_eq!(s.line("LCS virus1{t} virus2{t}"), Resp::bulk(RNALCS));
        assert_eq!(s.line("LCS virus1{t} virus2{t} LEN"), Resp::Int(RNALCS.len() as i64));
        for (extra, want) in tcl {
            for with_len in [false, true] {
                let line =
                    format!("LCS virus1{{t}} virus2{{t}} IDX{}{extra}", if with_len { " WITHMATCHLEN" } else { "" });
                let reply = s.line(&line);
                let want: Vec<Resp> = want.iter().map(|&(a, b, n)| range(a, b, with_len.then_some(n))).collect();
                assert_eq!(matches(&reply), want, "{line}");
            }
        }
    }
    // RESP2: a flat array; RESP3: a map.
    assert!(matches!(p.line("LCS virus1{t} virus2{t} IDX"), Resp::Array(_)));
    assert!(matches!(p3.line("LCS virus1{t} virus2{t} IDX"), Resp::Map(_)));
}

/// The option combinations each random pair is asked with.
fn option_sets(min: &str) -> Vec<Vec<String>> {
    [
        "",
        "LEN",
        "IDX",
        "IDX WITHMATCHLEN",
        "IDX MINMATCHLEN {min}",
        "IDX MINMATCHLEN {min} WITHMATCHLEN",
        "WITHMATCHLEN MINMATCHLEN {min} IDX",
        "LEN MINMATCHLEN {min} WITHMATCHLEN",
        "MINMATCHLEN {min}",
    ]
    .iter()
    .map(|s| s.replace("{min}", min).split_whitespace().map(String::from).collect())
    .collect()
}

/// Random strings over a short alphabet, side by side with every option
/// combination, RESP2 and RESP3.
#[test]
fn random_pairs_match_redis() {
    let Some(mut p) = start_pair() else { return };
    let mut p3 = resp3(&p);
    let mut rng = Rng::new(0x1c5_2024);
    let mut compared = 0;
    for round in 0..300 {
        let alphabet: &[u8] = if round % 3 == 0 { b"ab" } else { b"ACGT" };
        let mut s = |max: u64| -> Vec<u8> {
            let n = rng.below(max + 1);
            (0..n).map(|_| alphabet[rng.below(alphabet.len() as u64) as usize]).collect()
        };
        let (a, b) = (s(60), s(60));
        p.both_bytes(&[b"SET", b"a", &a]);
        p.both_bytes(&[b"SET", b"b", &b]);
        let min = rng.below(6) as i64 - 1; // -1 ..= 4: negatives mean 0
        let min = min.to_string();
        for opts in option_sets(&min) {
            let mut args: Vec<&[u8]> = vec![b"LCS", b"a", b"b"];
            args.extend(opts.iter().map(|o| o.as_bytes()));
            let r2 = p.both_bytes(&args);
            let r3 = p3.both_bytes(&args);
            if opts.iter().any(|o| o == "IDX") {
                assert_eq!(matches(&r2), matches(&r3));
            }
            compared += 2;
        }
        // The other way round, and against a missing key.
        p.both_bytes(&[b"LCS", b"b", b"a", b"IDX", b"WITHMATCHLEN"]);
        p3.both_bytes(&[b"LCS", b"a", b"nokey", b"IDX"]);
    }
    assert!(compared >= 300 * 2 * 9);
}

/// Missing keys are empty strings; integers are read as their text; an
/// expired key is missing.
#[test]
fn missing_integer_and_empty_values() {
    let Some(mut p) = start_pair() else { return };
    let mut p3 = resp3(&p);
    p.line("SET int 1234567890");
    p.line("SET neg -9000123");
    p.line("SET text x1y2z3w4567890");
    p.line("INCR counter");
    p.both_bytes(&[b"SET", b"empty", b""]);
    p.line("SET gone 12 PX 1");
    std::thread::sleep(std::time::Duration::from_millis(20));
    for s in [&mut p as &mut dyn Both, &mut p3] {
        for keys in [
            "int text",
            "text int",
            "int neg",
            "counter int",
            "int int",
            "nokey nokey",
            "int nokey",
            "nokey int",
            "empty int",
            "gone int",
        ] {
            for opts in ["", " LEN", " IDX", " IDX WITHMATCHLEN", " IDX MINMATCHLEN 2 WITHMATCHLEN"] {
                s.line(&format!("LCS {keys}{opts}"));
            }
        }
    }
    assert_eq!(p.line("LCS int text"), Resp::bulk("1234567890"));
    assert_eq!(p.line("LCS nokey int"), Resp::bulk(""));
    assert_eq!(p.line("LCS nokey nokey LEN"), Resp::Int(0));
    // Binary-safe values.
    p.both_bytes(&[b"SET", b"bin1", b"\x00a\r\nb\x00\xff"]);
    p.both_bytes(&[b"SET", b"bin2", b"\xff\x00\r\n\x00"]);
    p.line("LCS bin1 bin2");
    p.line("LCS bin1 bin2 IDX WITHMATCHLEN");
}

/// Errors, their texts and which comes first.
#[test]
fn errors_match_redis() {
    let Some(mut p) = start_pair() else { return };
    let mut p3 = resp3(&p);
    p.line("SET a hello");
    p.line("SET b world");
    p.line("RPUSH list x");
    p.line("HSET hash f v");
    p.line("SADD set m");
    p.line("ZADD zset 1 m");
    for s in [&mut p as &mut dyn Both, &mut p3] {
        s.error("LCS", "ERR wrong number of arguments for 'lcs' command");
        s.error("LCS a", "ERR wrong number of arguments for 'lcs' command");
        for keys in ["list a", "a list", "hash nokey", "nokey set", "zset zset", "list hash"] {
            s.error(&format!("LCS {keys}"), NOT_STRINGS);
            // The type is judged before the options.
            s.error(&format!("LCS {keys} LEN IDX"), NOT_STRINGS);
            s.error(&format!("LCS {keys} FOO"), NOT_STRINGS);
            s.error(&format!("LCS {keys} MINMATCHLEN x"), NOT_STRINGS);
        }
        let both_err = "ERR If you want both the length and indexes, please just use IDX.";
        s.error("LCS a b LEN IDX", both_err);
        s.error("LCS a b idx len", both_err);
        s.error("LCS nokey nokey IDX MINMATCHLEN 3 LEN WITHMATCHLEN", both_err);
        s.error("LCS a b FOO", "ERR syntax error");
        s.error("LCS a b IDX FOO", "ERR syntax error");
        s.error("LCS a b MINMATCHLEN", "ERR syntax error");
        s.error("LCS a b IDX MINMATCHLEN", "ERR syntax error");
        // Options are read in order: the first bad one is reported.
        s.error("LCS a b FOO LEN IDX", "ERR syntax error");
        s.error("LCS a b LEN IDX FOO", "ERR syntax error");
        s.error("LCS a b FOO MINMATCHLEN x", "ERR syntax error");
        for bad in ["x", "1.5", "", "99999999999999999999", "0x10", " 1", "-0"] {
            let mut args = words("LCS a b IDX MINMATCHLEN");
            args.push(bad.as_bytes());
            assert_eq!(s.both_bytes(&args), Resp::err("ERR value is not an integer or out of range"), "{bad:?}");
            args.extend(words("LEN FOO"));
            assert_eq!(s.both_bytes(&args), Resp::err("ERR value is not an integer or out of range"), "{bad:?}");
        }
        // Accepted: negatives (as 0), huge, repeated options.
        for line in [
            "LCS a b IDX MINMATCHLEN -5",
            "LCS a b IDX MINMATCHLEN -9223372036854775808 WITHMATCHLEN",
            "LCS a b IDX MINMATCHLEN 9223372036854775807 WITHMATCHLEN",
            "LCS a b IDX IDX MINMATCHLEN 1 MINMATCHLEN 2 WITHMATCHLEN WITHMATCHLEN",
            "LCS a b LEN LEN",
            "LCS a b withmatchlen",
            "LCS a b MinMatchLen 2",
            "LCS a b Len",
        ] {
            assert!(!matches!(s.line(line), Resp::Error(_)), "{line}");
        }
        // Redis compares option words as C text, up to a NUL byte.
        s.both_bytes(&[b"LCS", b"a", b"b", b"LEN\x00x"]);
        s.both_bytes(&[b"LCS", b"a", b"b", b"IDX\x00", b"WITHMATCHLEN\x00junk"]);
        assert_eq!(s.both_bytes(&[b"LCS", b"a", b"b", b"\x00LEN"]), Resp::err("ERR syntax error"));
        // The number is read whole: a NUL in it is not a number.
        s.both_bytes(&[b"LCS", b"a", b"b", b"MINMATCHLEN\x00", b"2\x00"]);
    }
}

/// The table may take proto-max-bulk-len bytes, not one more: strings of
/// 511 and 511 bytes fit in 1mb ((511+1)*(511+1)*4), 511 and 512 do not.
#[test]
fn memory_guard_matches_redis() {
    let Some(mut p) = start_pair() else { return };
    let mut p3 = resp3(&p);
    p.line("CONFIG SET proto-max-bulk-len 1mb");
    let x511 = "x".repeat(511);
    let y512 = format!("{}y", "x".repeat(511));
    p.both_bytes(&[b"SET", b"s511", x511.as_bytes()]);
    p.both_bytes(&[b"SET", b"s512", y512.as_bytes()]);
    p.both_bytes(&[b"SET", b"big", "z".repeat(300_000).as_bytes()]);
    let guard = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
    for s in [&mut p as &mut dyn Both, &mut p3] {
        assert_eq!(s.line("LCS s511 s511 LEN"), Resp::Int(511));
        assert_eq!(s.line("LCS s511 s512 LEN"), Resp::err(guard));
        assert_eq!(s.line("LCS s512 s511 IDX"), Resp::err(guard));
        s.line("LCS s511 s511 IDX WITHMATCHLEN");
        // One side empty: a table of one column.
        s.line("LCS big nokey");
        s.line("LCS nokey big IDX");
        assert_eq!(s.line("LCS big s511"), Resp::err(guard));
        // The guard comes after the option checks.
        s.error("LCS s512 s511 LEN IDX", "ERR If you want both the length and indexes, please just use IDX.");
        s.error("LCS s512 s511 FOO", "ERR syntax error");
    }
    p.line("CONFIG SET proto-max-bulk-len 512mb");
    assert_eq!(p.line("LCS s511 s512 LEN"), Resp::Int(511));
}

/// Arity, flags and key positions as Redis's table has them; GETKEYS
/// finds the two keys; a script and MULTI run it too; it reads keys (hits
/// and misses counted) and writes nothing.
#[test]
fn command_table_and_contexts_match_redis() {
    let Some(mut p) = start_pair() else { return };
    let rows = [&mut p.forkv, &mut p.redis].map(|r| {
        let info = r.cmd(&["COMMAND", "INFO", "lcs"]);
        info.items()[0].items()[..6].to_vec()
    });
    assert_eq!(rows[0], rows[1]);
    assert_eq!(
        (&rows[0][..2], &rows[0][3..]),
        (&[Resp::bulk("lcs"), Resp::Int(-3)][..], Resp::ints(&[1, 2, 1]).items())
    );
    assert_eq!(rows[0][2].items(), &[Resp::Simple("readonly".into())]);
    assert_eq!(p.line("COMMAND GETKEYS LCS k1 k2"), Resp::bulks(&["k1", "k2"]));
    p.line("COMMAND GETKEYS LCS k1 k2 IDX MINMATCHLEN 3 WITHMATCHLEN");
    p.error("COMMAND GETKEYS LCS k1", "ERR Invalid number of arguments specified for command");

    p.line("SET a ohmytext");
    p.line("SET b mynewtext");
    p.line("CONFIG RESETSTAT");
    p.line("LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN");
    p.line("LCS a nokey");
    p.line("LCS nokey1 nokey2 LEN");
    let stats = [&mut p.forkv, &mut p.redis].map(|r| {
        let info = String::from_utf8(r.bulk(&["INFO", "stats"])).unwrap();
        ["keyspace_hits", "keyspace_misses"].map(|f| helpers::info_field(&info, f))
    });
    assert_eq!(stats[0], stats[1]);
    assert_eq!(stats[0], [Some("3".to_string()), Some("3".to_string())]);

    assert_eq!(p.line("LCS a b"), Resp::bulk("mytext"));
    p.both_bytes(&[b"EVAL", b"return redis.call('LCS', KEYS[1], KEYS[2], 'IDX', 'WITHMATCHLEN')", b"2", b"a", b"b"]);
    p.both_bytes(&[b"EVAL", b"return redis.call('LCS', KEYS[1], KEYS[2], 'LEN')", b"2", b"a", b"b"]);
    p.both_bytes(&[b"EVAL", b"return redis.pcall('LCS', KEYS[1], KEYS[2], 'LEN', 'IDX')", b"2", b"a", b"b"]);
    p.line("MULTI");
    p.line("LCS a b");
    p.line("LCS a b LEN");
    p.line("LCS a b IDX");
    p.line("EXEC");
    p.line("MULTI");
    p.error("LCS a", "ERR wrong number of arguments for 'lcs' command");
    p.error("EXEC", "EXECABORT Transaction discarded because of previous errors.");
    // Read-only: nothing changed, nothing counted as dirty.
    let dirty = [&mut p.forkv, &mut p.redis].map(|r| {
        let before = helpers::changes_since_save(r);
        r.cmd(&["LCS", "a", "b", "IDX"]);
        helpers::changes_since_save(r) - before
    });
    assert_eq!(dirty, [0, 0]);
}
