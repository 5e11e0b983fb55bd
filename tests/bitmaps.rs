//! Bitmap commands against the real binary (SETBIT, GETBIT, BITCOUNT,
//! BITPOS, BITOP, BITFIELD, BITFIELD_RO), with Redis 7.0's replies, error
//! texts and order of checks, what they count as a change, and their AOF
//! records replayed after a restart.

mod common;
mod helpers;

use helpers::{changes_since_save, start_raw, Raw, Resp};

const SYNTAX: &str = "ERR syntax error";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const BAD_BIT: &str = "ERR bit is not an integer or out of range";
const BAD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

#[test]
fn setbit_returns_the_old_bit_and_grows_with_zeros() {
    let (_s, mut r) = start_raw();
    assert_eq!(r.int(&["SETBIT", "k", "7", "1"]), 0);
    assert_eq!(r.int(&["SETBIT", "k", "7", "1"]), 1);
    assert_eq!(r.bulk(&["GET", "k"]), [0x01]);
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "k"]), Resp::bulk("raw"));
    // Growth zero-fills up to the byte holding the bit.
    assert_eq!(r.int(&["SETBIT", "k", "100", "1"]), 0);
    assert_eq!(r.int(&["STRLEN", "k"]), 13);
    let mut want = vec![0u8; 13];
    want[0] = 0x01;
    want[12] = 0x08;
    assert_eq!(r.bulk(&["GET", "k"]), want);
    assert_eq!(r.int(&["SETBIT", "k", "7", "0"]), 1);
    assert_eq!(r.bulk(&["GET", "k"])[0], 0);
    // A new key set to 0 is still created, one byte long.
    assert_eq!(r.int(&["SETBIT", "zero", "3", "0"]), 0);
    assert_eq!(r.bulk(&["GET", "zero"]), [0]);
    // The TTL stays.
    r.cmd(&["EXPIRE", "k", "100"]);
    r.cmd(&["SETBIT", "k", "200", "1"]);
    assert_eq!(r.int(&["TTL", "k"]), 100);
    // An integer is changed as its decimal text: "1" is 0x31.
    r.cmd(&["SET", "n", "1"]);
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "n"]), Resp::bulk("int"));
    assert_eq!(r.int(&["SETBIT", "n", "6", "1"]), 0);
    assert_eq!(r.cmd(&["GET", "n"]), Resp::bulk("3"));
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "n"]), Resp::bulk("raw"));
}

#[test]
fn setbit_and_getbit_errors_in_redis_order() {
    let (_s, mut r) = start_raw();
    r.cmd(&["LPUSH", "list", "x"]);
    for offset in ["-1", "abc", "1.5", "#1", "", "4294967296", "9223372036854775808"] {
        assert_eq!(r.err(&["SETBIT", "k", offset, "1"]), BAD_OFFSET, "{offset:?}");
        assert_eq!(r.err(&["GETBIT", "k", offset]), BAD_OFFSET, "{offset:?}");
    }
    for bit in ["2", "-1", "x", "", "01"] {
        assert_eq!(r.err(&["SETBIT", "k", "1", bit]), BAD_BIT, "{bit:?}");
    }
    // The offset, then the bit, then the key's type.
    assert_eq!(r.err(&["SETBIT", "list", "x", "5"]), BAD_OFFSET);
    assert_eq!(r.err(&["SETBIT", "list", "1", "5"]), BAD_BIT);
    assert_eq!(r.err(&["SETBIT", "list", "1", "1"]), WRONGTYPE);
    assert_eq!(r.err(&["GETBIT", "list", "x"]), BAD_OFFSET);
    assert_eq!(r.err(&["GETBIT", "list", "1"]), WRONGTYPE);
    assert_eq!(r.int(&["EXISTS", "k"]), 0);
    assert_eq!(r.err(&["SETBIT", "k", "1"]), "ERR wrong number of arguments for 'setbit' command");
    assert_eq!(r.err(&["SETBIT", "k", "1", "1", "1"]), "ERR wrong number of arguments for 'setbit' command");
    assert_eq!(r.err(&["GETBIT", "k"]), "ERR wrong number of arguments for 'getbit' command");
}

#[test]
fn offsets_are_limited_by_proto_max_bulk_len() {
    let (_s, mut r) = start_raw();
    assert_eq!(r.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "1mb"]), Resp::ok());
    assert_eq!(r.int(&["SETBIT", "big", "8388607", "1"]), 0);
    assert_eq!(r.int(&["STRLEN", "big"]), 1 << 20);
    assert_eq!(r.err(&["SETBIT", "big", "8388608", "1"]), BAD_OFFSET);
    assert_eq!(r.int(&["GETBIT", "big", "8388607"]), 1);
    assert_eq!(r.err(&["BITFIELD", "big", "GET", "u8", "#1048576"]), BAD_OFFSET);
    assert_eq!(r.cmd(&["BITFIELD", "big", "GET", "u8", "#1048575"]), Resp::ints(&[1]));
}

#[test]
fn getbit_reads_past_the_end_and_integers_as_text() {
    let (_s, mut r) = start_raw();
    assert_eq!(r.int(&["GETBIT", "missing", "0"]), 0);
    r.cmd(&["SET", "s", "`"]); // 0x60
    let bits: Vec<i64> = (0..10).map(|i| r.int(&["GETBIT", "s", &i.to_string()])).collect();
    assert_eq!(bits, [0, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(r.int(&["GETBIT", "s", "4294967295"]), 0);
    r.cmd(&["SET", "n", "12"]); // "1" = 0x31
    assert_eq!(r.int(&["GETBIT", "n", "2"]), 1);
    assert_eq!(r.int(&["GETBIT", "n", "3"]), 1);
    assert_eq!(r.int(&["GETBIT", "n", "4"]), 0);
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "n"]), Resp::bulk("int"), "reads leave the encoding");
}

#[test]
fn bitcount_whole_and_ranges_in_bytes_and_bits() {
    let (_s, mut r) = start_raw();
    r.cmd(&["SET", "s", "foobar"]);
    for (args, want) in [
        (&[][..], 26),
        (&["0", "0"], 4),
        (&["1", "1"], 6),
        (&["1", "1", "BYTE"], 6),
        (&["5", "30", "BIT"], 17),
        (&["5", "30", "bit"], 17),
        (&["-1", "-1"], 4),
        (&["-100", "100"], 26),
        (&["100", "200"], 0),
        (&["2", "1"], 0),
        (&["0", "-1", "BIT"], 26),
        (&["47", "47", "BIT"], 0),
        (&["46", "46", "BIT"], 1),
        // Both clamp to byte 0.
        (&["-100", "-50"], 4),
        (&["-5", "-7", "BIT"], 0),
        // Both negative with start after end: 0 even though both clamp to 0.
        (&["-100", "-200"], 0),
        (&["-9223372036854775808", "9223372036854775807", "BIT"], 26),
    ] {
        let mut cmd = vec!["BITCOUNT", "s"];
        cmd.extend_from_slice(args);
        assert_eq!(r.int(&cmd), want, "{cmd:?}");
    }
    r.cmd(&["SET", "n", "-1"]); // "-1": 0x2D 0x31
    assert_eq!(r.int(&["BITCOUNT", "n"]), 7);
    r.cmd(&["SET", "e", ""]);
    assert_eq!(r.int(&["BITCOUNT", "e", "0", "-1", "BIT"]), 0);
    // A long string: whole words and the edges.
    let long = "\u{7f}".repeat(1000);
    r.cmd(&["SET", "long", &long]);
    assert_eq!(r.int(&["BITCOUNT", "long"]), 7000);
    // 0x7F: every bit but each byte's first.
    let want = (3..=7994).filter(|bit| bit % 8 != 0).count() as i64;
    assert_eq!(r.int(&["BITCOUNT", "long", "3", "7994", "BIT"]), want);
}

#[test]
fn bitcount_errors_in_redis_order() {
    let (_s, mut r) = start_raw();
    r.cmd(&["SET", "s", "foobar"]);
    r.cmd(&["LPUSH", "list", "x"]);
    assert_eq!(r.err(&["BITCOUNT", "s", "0"]), SYNTAX);
    assert_eq!(r.err(&["BITCOUNT", "s", "0", "1", "BIT", "x"]), SYNTAX);
    assert_eq!(r.err(&["BITCOUNT", "s", "0", "1", "BITS"]), SYNTAX);
    assert_eq!(r.err(&["BITCOUNT", "s", "a", "1", "BITS"]), NOT_INT);
    assert_eq!(r.err(&["BITCOUNT", "s", "0", "b"]), NOT_INT);
    // Negative start after negative end: 0 before the unit word is read.
    assert_eq!(r.int(&["BITCOUNT", "s", "-1", "-2", "BITS"]), 0);
    // A missing key answers 0 before any argument is read.
    assert_eq!(r.int(&["BITCOUNT", "missing", "a", "b", "c", "d"]), 0);
    assert_eq!(r.err(&["BITCOUNT", "list", "a"]), WRONGTYPE);
    assert_eq!(r.err(&["BITCOUNT"]), "ERR wrong number of arguments for 'bitcount' command");
}

#[test]
fn bitpos_finds_bits_and_pads_only_without_an_end() {
    let (_s, mut r) = start_raw();
    // Three 0xFF bytes.
    r.cmd(&["BITFIELD", "ones", "SET", "u8", "0", "255", "SET", "u8", "8", "255", "SET", "u8", "16", "255"]);
    for (args, want) in [
        // No end: the string reads as followed by zeros.
        (&["0"][..], 24),
        (&["0", "1"], 24),
        (&["0", "-1"], 24),
        // An end given: no zero inside the range is -1.
        (&["0", "0", "-1"], -1),
        (&["0", "0", "-1", "BIT"], -1),
        (&["0", "0", "-1", "BYTE"], -1),
        (&["1"], 0),
        (&["1", "2"], 16),
        (&["1", "3"], -1),
        (&["1", "-1", "-2"], -1),
        (&["1", "9", "9", "BIT"], 9),
    ] {
        let mut cmd = vec!["BITPOS", "ones"];
        cmd.extend_from_slice(args);
        assert_eq!(r.int(&cmd), want, "{cmd:?}");
    }
    r.cmd(&["SET", "s", "\u{0}\u{0}\u{f}"]); // 0x00 0x00 0x0F
    for (args, want) in [
        (&["1"][..], 20),
        (&["0"], 0),
        (&["1", "1"], 20),
        (&["0", "2"], 16),
        (&["1", "2", "-1", "BYTE"], 20),
        (&["1", "7", "21", "BIT"], 20),
        (&["1", "7", "19", "BIT"], -1),
        (&["0", "20", "23", "BIT"], -1),
        (&["0", "19", "23", "BIT"], 19),
        (&["1", "-1", "-1", "BIT"], 23),
        (&["0", "-4", "-1", "BIT"], -1),
        (&["1", "5", "3", "BIT"], -1),
    ] {
        let mut cmd = vec!["BITPOS", "s"];
        cmd.extend_from_slice(args);
        assert_eq!(r.int(&cmd), want, "{cmd:?}");
    }
    // Missing keys: endless zeros, whatever the range says.
    assert_eq!(r.int(&["BITPOS", "missing", "0"]), 0);
    assert_eq!(r.int(&["BITPOS", "missing", "1", "x", "y", "z", "w"]), -1);
    // Empty strings and integers (as their text: "0" is 0x30).
    r.cmd(&["SET", "e", ""]);
    assert_eq!(r.int(&["BITPOS", "e", "0"]), -1);
    assert_eq!(r.int(&["BITPOS", "e", "1"]), -1);
    r.cmd(&["SET", "n", "0"]);
    assert_eq!(r.int(&["BITPOS", "n", "1"]), 2);
    assert_eq!(r.int(&["BITPOS", "n", "0", "0", "-1", "BIT"]), 0);
    // A long run of set bits, found a word at a time.
    let mut long = vec!["BITFIELD", "long"];
    let offsets: Vec<String> = (0..100).map(|i| format!("#{i}")).collect();
    for o in &offsets {
        long.extend_from_slice(&["SET", "i64", o, "-1"]);
    }
    r.cmd(&long);
    r.cmd(&["SETBIT", "long", "5000", "0"]);
    assert_eq!(r.int(&["BITPOS", "long", "0"]), 5000);
    assert_eq!(r.int(&["BITPOS", "long", "0", "626"]), 6400);
    assert_eq!(r.int(&["BITPOS", "long", "0", "626", "-1"]), -1);
}

#[test]
fn bitpos_errors_in_redis_order() {
    let (_s, mut r) = start_raw();
    r.cmd(&["SET", "s", "abc"]);
    r.cmd(&["LPUSH", "list", "x"]);
    assert_eq!(r.err(&["BITPOS", "s", "2"]), "ERR The bit argument must be 1 or 0.");
    assert_eq!(r.err(&["BITPOS", "s", "x"]), NOT_INT);
    assert_eq!(r.err(&["BITPOS", "list", "x"]), NOT_INT);
    assert_eq!(r.err(&["BITPOS", "list", "2"]), "ERR The bit argument must be 1 or 0.");
    assert_eq!(r.err(&["BITPOS", "list", "1"]), WRONGTYPE);
    assert_eq!(r.err(&["BITPOS", "s", "1", "0", "1", "BIT", "x"]), SYNTAX);
    assert_eq!(r.err(&["BITPOS", "s", "1", "x", "1", "BITS"]), NOT_INT);
    // The unit word is read before the end.
    assert_eq!(r.err(&["BITPOS", "s", "1", "0", "x", "BITS"]), SYNTAX);
    assert_eq!(r.err(&["BITPOS", "s", "1", "0", "x", "BIT"]), NOT_INT);
    assert_eq!(r.err(&["BITPOS", "s"]), "ERR wrong number of arguments for 'bitpos' command");
}

#[test]
fn bitop_pads_shorter_sources_and_treats_missing_keys_as_empty() {
    let (_s, mut r) = start_raw();
    r.cmd(&["SET", "a", "\u{7f}\u{7f}\u{7f}"]);
    r.cmd(&["SET", "b", "\u{f}"]);
    assert_eq!(r.int(&["BITOP", "AND", "d", "a", "b"]), 3);
    assert_eq!(r.bulk(&["GET", "d"]), [0x0F, 0, 0]);
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "d"]), Resp::bulk("raw"));
    assert_eq!(r.int(&["BITOP", "OR", "d", "b", "a"]), 3);
    assert_eq!(r.bulk(&["GET", "d"]), [0x7F, 0x7F, 0x7F]);
    assert_eq!(r.int(&["BITOP", "xor", "d", "a", "b", "b", "b"]), 3);
    assert_eq!(r.bulk(&["GET", "d"]), [0x70, 0x7F, 0x7F]);
    assert_eq!(r.int(&["BITOP", "Not", "d", "b"]), 1);
    assert_eq!(r.bulk(&["GET", "d"]), [0xF0]);
    // A missing source is empty: AND gives zeros, OR ignores it.
    assert_eq!(r.int(&["BITOP", "AND", "d", "a", "missing"]), 3);
    assert_eq!(r.bulk(&["GET", "d"]), [0, 0, 0]);
    assert_eq!(r.int(&["BITOP", "OR", "d", "missing", "b"]), 1);
    assert_eq!(r.bulk(&["GET", "d"]), [0x0F]);
    // Integers are their text; the destination may be a source.
    r.cmd(&["SET", "n", "12"]);
    assert_eq!(r.int(&["BITOP", "XOR", "n", "n", "b"]), 2);
    assert_eq!(r.cmd(&["GET", "n"]), Resp::bulk(">2"));
    // Long sources, whole words at a time.
    let long = "\u{7f}".repeat(100);
    r.cmd(&["SET", "l1", &long]);
    r.cmd(&["SET", "l2", &long[..90]]);
    assert_eq!(r.int(&["BITOP", "AND", "d", "l1", "l2"]), 100);
    assert_eq!(r.int(&["BITCOUNT", "d"]), 90 * 7);
}

#[test]
fn bitop_with_nothing_to_store_deletes_the_destination() {
    let (_s, mut r) = start_raw();
    r.cmd(&["SET", "d", "x"]);
    r.cmd(&["SET", "e", ""]);
    assert_eq!(r.int(&["BITOP", "OR", "d", "missing", "e"]), 0);
    assert_eq!(r.int(&["EXISTS", "d"]), 0);
    assert_eq!(r.int(&["BITOP", "NOT", "d", "e"]), 0);
    assert_eq!(r.int(&["EXISTS", "d"]), 0);
    // Any type is overwritten, and the TTL dropped.
    r.cmd(&["SET", "s", "abc"]);
    r.cmd(&["LPUSH", "list", "x"]);
    assert_eq!(r.int(&["BITOP", "AND", "list", "s"]), 3);
    assert_eq!(r.cmd(&["TYPE", "list"]), Resp::Simple("string".into()));
    r.cmd(&["EXPIRE", "list", "100"]);
    assert_eq!(r.int(&["BITOP", "AND", "list", "s"]), 3);
    assert_eq!(r.int(&["TTL", "list"]), -1);
    r.cmd(&["LPUSH", "l2", "x"]);
    assert_eq!(r.int(&["BITOP", "OR", "l2", "missing"]), 0);
    assert_eq!(r.int(&["EXISTS", "l2"]), 0);
}

#[test]
fn bitop_errors_in_redis_order() {
    let (_s, mut r) = start_raw();
    r.cmd(&["SET", "s", "abc"]);
    r.cmd(&["LPUSH", "list", "x"]);
    assert_eq!(r.err(&["BITOP", "NAND", "d", "s"]), SYNTAX);
    assert_eq!(r.err(&["BITOP", "NAND", "d", "list"]), SYNTAX);
    assert_eq!(r.err(&["BITOP", "NOT", "d", "s", "s"]), "ERR BITOP NOT must be called with a single source key.");
    assert_eq!(r.err(&["BITOP", "AND", "d", "s", "list"]), WRONGTYPE);
    assert_eq!(r.err(&["BITOP", "AND", "d", "missing", "list"]), WRONGTYPE);
    assert_eq!(r.int(&["EXISTS", "d"]), 0);
    assert_eq!(r.err(&["BITOP", "AND", "d"]), "ERR wrong number of arguments for 'bitop' command");
    assert_eq!(r.cmd(&["COMMAND", "GETKEYS", "BITOP", "AND", "d", "a", "b"]), Resp::bulks(&["d", "a", "b"]));
}

#[test]
fn bitfield_get_set_incrby_signed_and_unsigned() {
    let (_s, mut r) = start_raw();
    assert_eq!(r.cmd(&["BITFIELD", "missing", "GET", "u8", "0", "GET", "i64", "100"]), Resp::ints(&[0, 0]));
    assert_eq!(r.int(&["EXISTS", "missing"]), 0);
    assert_eq!(r.cmd(&["BITFIELD", "missing"]), Resp::ints(&[]));
    // SET answers the old value, INCRBY the new one.
    assert_eq!(r.cmd(&["BITFIELD", "k", "SET", "u8", "0", "255", "GET", "u8", "0"]), Resp::ints(&[0, 255]));
    assert_eq!(r.cmd(&["BITFIELD", "k", "SET", "i8", "0", "-2", "GET", "u8", "0"]), Resp::ints(&[-1, 254]));
    assert_eq!(r.cmd(&["BITFIELD", "k", "INCRBY", "u2", "100", "1", "INCRBY", "i5", "3", "-1"]), Resp::ints(&[1, -3]));
    assert_eq!(r.int(&["STRLEN", "k"]), 13);
    // Redis's own example: u5 = 23 at offset 7 (`#N` is N fields of the width).
    assert_eq!(r.cmd(&["BITFIELD", "x", "SET", "u5", "7", "23", "GET", "u1", "#7"]), Resp::ints(&[0, 1]));
    assert_eq!(r.bulk(&["GET", "x"]), [0b0000_0001, 0b0111_0000]);
    assert_eq!(r.cmd(&["BITFIELD", "x", "SET", "u8", "#1", "1", "GET", "u8", "#1"]), Resp::ints(&[0x70, 1]));
    // Wide fields at odd offsets.
    let set = ["BITFIELD", "w", "SET", "i64", "3", "-9223372036854775808", "GET", "u63", "4", "GET", "i64", "3"];
    assert_eq!(r.cmd(&set), Resp::ints(&[0, 0, i64::MIN]));
    assert_eq!(
        r.cmd(&["BITFIELD", "w", "GET", "u1", "3", "GET", "u2", "66", "GET", "u63", "1"]),
        Resp::ints(&[1, 0, 1 << 60])
    );
    // Integers are their text: "1" is 0x31.
    r.cmd(&["SET", "n", "1"]);
    assert_eq!(r.cmd(&["BITFIELD", "n", "GET", "u8", "0", "INCRBY", "u8", "0", "1"]), Resp::ints(&[0x31, 0x32]));
    assert_eq!(r.cmd(&["GET", "n"]), Resp::bulk("2"));
    // Keeps the TTL; subcommand names are case-insensitive, types are not.
    r.cmd(&["EXPIRE", "n", "100"]);
    assert_eq!(r.cmd(&["bitfield", "n", "set", "u8", "0", "51"]), Resp::ints(&[0x32]));
    assert_eq!(r.int(&["TTL", "n"]), 100);
}

#[test]
fn bitfield_overflow_modes() {
    let (_s, mut r) = start_raw();
    let run = |r: &mut Raw, args: &[&str]| {
        let mut cmd = vec!["BITFIELD", "k"];
        cmd.extend_from_slice(args);
        r.cmd(&cmd)
    };
    assert_eq!(
        run(&mut r, &["SET", "u8", "0", "250", "INCRBY", "u8", "0", "10"]),
        Resp::ints(&[0, 4]),
        "WRAP by default"
    );
    assert_eq!(
        run(&mut r, &["OVERFLOW", "SAT", "INCRBY", "u8", "0", "300", "INCRBY", "u8", "0", "-300"]),
        Resp::ints(&[255, 0])
    );
    let fail = run(&mut r, &["OVERFLOW", "FAIL", "INCRBY", "u8", "0", "256", "INCRBY", "u8", "0", "255"]);
    assert_eq!(fail, Resp::Array(vec![Resp::NullBulk, Resp::Int(255)]));
    // The mode applies to the subcommands after it.
    let mixed = [
        "INCRBY", "i8", "0", "1", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "1", "OVERFLOW", "WRAP", "INCRBY", "i8", "0",
        "1",
    ];
    assert_eq!(run(&mut r, &mixed), Resp::ints(&[0, 1, 2]));
    run(&mut r, &["SET", "i8", "0", "127"]);
    assert_eq!(run(&mut r, &["INCRBY", "i8", "0", "1"]), Resp::ints(&[-128]));
    assert_eq!(run(&mut r, &["OVERFLOW", "sat", "INCRBY", "i8", "0", "-1"]), Resp::ints(&[-128]));
    assert_eq!(run(&mut r, &["OVERFLOW", "fail", "INCRBY", "i8", "0", "-1"]), Resp::Array(vec![Resp::NullBulk]));
    // SET overflows too: WRAP keeps the low bits, SAT the limit, FAIL nothing.
    assert_eq!(run(&mut r, &["SET", "u8", "0", "257", "GET", "u8", "0"]), Resp::ints(&[128, 1]));
    assert_eq!(run(&mut r, &["OVERFLOW", "SAT", "SET", "i8", "0", "-1000", "GET", "i8", "0"]), Resp::ints(&[1, -128]));
    assert_eq!(
        run(&mut r, &["OVERFLOW", "FAIL", "SET", "u8", "0", "-1", "GET", "u8", "0"]),
        Resp::Array(vec![Resp::NullBulk, Resp::Int(128)])
    );
    // Redis's C arithmetic: a negative SET of an unsigned field saturates
    // to the maximum, and i64::MIN into an i8 as well.
    assert_eq!(run(&mut r, &["OVERFLOW", "SAT", "SET", "u8", "0", "-1", "GET", "u8", "0"]), Resp::ints(&[128, 255]));
    assert_eq!(
        run(&mut r, &["OVERFLOW", "SAT", "SET", "i8", "0", "-9223372036854775808", "GET", "i8", "0"]),
        Resp::ints(&[-1, 127])
    );
    // The 64-bit edges.
    let set_max = ["BITFIELD", "k64", "SET", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "1"];
    assert_eq!(r.cmd(&set_max), Resp::ints(&[0, i64::MIN]));
    assert_eq!(r.cmd(&["BITFIELD", "k64", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1"]), Resp::ints(&[i64::MIN]));
    let fail = ["BITFIELD", "k64", "OVERFLOW", "FAIL", "INCRBY", "i64", "0", "-1"];
    assert_eq!(r.cmd(&fail), Resp::Array(vec![Resp::NullBulk]));
    let set_max = ["BITFIELD", "k63", "SET", "u63", "0", "9223372036854775807", "INCRBY", "u63", "0", "1"];
    assert_eq!(r.cmd(&set_max), Resp::ints(&[0, 0]));
    let sat = ["BITFIELD", "k63", "OVERFLOW", "SAT", "INCRBY", "u63", "0", "-9223372036854775808"];
    assert_eq!(r.cmd(&sat), Resp::ints(&[0]));
}

#[test]
fn bitfield_errors_in_redis_order() {
    let (_s, mut r) = start_raw();
    r.cmd(&["LPUSH", "list", "x"]);
    for (args, want) in [
        (&["GET", "u8"][..], SYNTAX),
        (&["SET", "u8", "0"], SYNTAX),
        (&["INCRBY", "u8", "0"], SYNTAX),
        (&["OVERFLOW"], SYNTAX),
        (&["FOO", "u8", "0"], SYNTAX),
        (&["GET", "u8", "0", "GET"], SYNTAX),
        (&["OVERFLOW", "BAD", "GET", "u8", "0"], "ERR Invalid OVERFLOW type specified"),
        (&["GET", "u64", "0"], BAD_TYPE),
        (&["GET", "i65", "0"], BAD_TYPE),
        (&["GET", "i0", "0"], BAD_TYPE),
        (&["GET", "I8", "0"], BAD_TYPE),
        (&["GET", "x8", "0"], BAD_TYPE),
        (&["GET", "u08", "0"], BAD_TYPE),
        (&["GET", "", "0"], BAD_TYPE),
        (&["GET", "u8", "-1"], BAD_OFFSET),
        (&["GET", "u8", "#x"], BAD_OFFSET),
        (&["GET", "u8", "#-1"], BAD_OFFSET),
        (&["GET", "u8", "4294967296"], BAD_OFFSET),
        (&["GET", "u8", "#536870912"], BAD_OFFSET),
        (&["SET", "u8", "0", "x"], NOT_INT),
        (&["INCRBY", "u8", "0", "9223372036854775808"], NOT_INT),
        // Everything is checked before anything runs.
        (&["SET", "u8", "0", "1", "GET", "u64", "0"], BAD_TYPE),
        (&["GET", "u8", "0", "GET", "u8", "x", "SET", "u64", "0", "1"], BAD_OFFSET),
    ] {
        let mut cmd = vec!["BITFIELD", "k"];
        cmd.extend_from_slice(args);
        assert_eq!(r.err(&cmd), want, "{cmd:?}");
        cmd[1] = "list";
        assert_eq!(r.err(&cmd), want, "{cmd:?}: before the type check");
    }
    assert_eq!(r.int(&["EXISTS", "k"]), 0);
    assert_eq!(r.err(&["BITFIELD", "list"]), WRONGTYPE);
    assert_eq!(r.err(&["BITFIELD", "list", "GET", "u8", "0"]), WRONGTYPE);
    assert_eq!(r.err(&["BITFIELD", "list", "SET", "u8", "0", "1"]), WRONGTYPE);
    // A huge `#N` wraps as Redis's C multiplication does.
    assert_eq!(r.cmd(&["BITFIELD", "k", "GET", "u8", "#2305843009213693952"]), Resp::ints(&[0]));
    assert_eq!(r.err(&["BITFIELD"]), "ERR wrong number of arguments for 'bitfield' command");
}

#[test]
fn bitfield_ro_only_gets() {
    let (_s, mut r) = start_raw();
    r.cmd(&["BITFIELD", "k", "SET", "u8", "0", "200"]);
    r.cmd(&["LPUSH", "list", "x"]);
    assert_eq!(
        r.cmd(&["BITFIELD_RO", "k", "GET", "u8", "0", "GET", "i8", "0", "GET", "u1", "#0"]),
        Resp::ints(&[200, -56, 1])
    );
    assert_eq!(r.cmd(&["BITFIELD_RO", "missing", "GET", "u8", "#3"]), Resp::ints(&[0]));
    assert_eq!(r.cmd(&["BITFIELD_RO", "k"]), Resp::ints(&[]));
    let ro_only = "ERR BITFIELD_RO only supports the GET subcommand";
    assert_eq!(r.err(&["BITFIELD_RO", "k", "SET", "u8", "0", "1"]), ro_only);
    assert_eq!(r.err(&["BITFIELD_RO", "k", "GET", "u8", "0", "INCRBY", "u8", "0", "1"]), ro_only);
    assert_eq!(r.err(&["BITFIELD_RO", "list", "SET", "u8", "0", "1"]), ro_only);
    assert_eq!(r.err(&["BITFIELD_RO", "missing", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1"]), ro_only);
    // Arguments are judged first.
    assert_eq!(r.err(&["BITFIELD_RO", "k", "SET", "u8", "0", "x"]), NOT_INT);
    assert_eq!(r.err(&["BITFIELD_RO", "list", "GET", "u8", "0"]), WRONGTYPE);
    assert_eq!(r.int(&["EXISTS", "missing"]), 0);
    assert_eq!(r.cmd(&["GET", "k"]), Resp::Bulk(vec![200]));
}

#[test]
fn failed_writes_still_create_or_pad_the_string() {
    let (_s, mut r) = start_raw();
    let fail = ["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "100", "300"];
    assert_eq!(r.cmd(&fail), Resp::Array(vec![Resp::NullBulk]));
    assert_eq!(r.bulk(&["GET", "k"]), vec![0u8; 14]);
}

#[test]
fn only_real_changes_count_and_touch_watched_keys() {
    let (server, mut r) = start_raw();
    r.cmd(&["SET", "k", "\u{1}"]);
    let before = changes_since_save(&mut r);
    // Writes that leave the string as it was are no change.
    r.cmd(&["SETBIT", "k", "7", "1"]);
    r.cmd(&["SETBIT", "k", "0", "0"]);
    r.cmd(&["BITFIELD", "k", "GET", "u8", "0", "SET", "u8", "0", "1", "INCRBY", "u4", "0", "0"]);
    r.cmd(&["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "255"]);
    r.cmd(&["BITOP", "OR", "missing", "missing2"]);
    r.cmd(&["GETBIT", "k", "0"]);
    assert_eq!(changes_since_save(&mut r), before);
    // One per SET/INCRBY that changed a value.
    r.cmd(&["BITFIELD", "k", "SET", "u8", "0", "2", "INCRBY", "u8", "0", "1", "SET", "u8", "0", "3"]);
    assert_eq!(changes_since_save(&mut r), before + 2);
    r.cmd(&["SETBIT", "k", "0", "1"]);
    r.cmd(&["BITOP", "NOT", "d", "k"]);
    assert_eq!(changes_since_save(&mut r), before + 4);

    // WATCH sees changes, not no-ops.
    let mut other = Raw::connect(server.port);
    assert_eq!(r.cmd(&["WATCH", "k"]), Resp::ok());
    other.cmd(&["SETBIT", "k", "0", "1"]);
    other.cmd(&["BITFIELD", "k", "SET", "u8", "0", "131"]);
    r.cmd(&["MULTI"]);
    r.cmd(&["GET", "k"]);
    assert_eq!(r.cmd(&["EXEC"]), Resp::Array(vec![Resp::Bulk(vec![131])]));
    assert_eq!(r.cmd(&["WATCH", "k"]), Resp::ok());
    other.cmd(&["SETBIT", "k", "1", "1"]);
    r.cmd(&["MULTI"]);
    r.cmd(&["GET", "k"]);
    assert_eq!(r.cmd(&["EXEC"]), Resp::NullArray);
}

/// A mix of bitmap writes, some changing nothing, must come back the same
/// after a restart that replays the AOF.
#[test]
fn the_aof_replays_bitmap_writes_exactly() {
    let mut server = common::Server::start_with(&["--appendonly", "yes", "--appendfsync", "always", "--save", ""]);
    let mut r = Raw::connect(server.port);
    let script: &[&[&str]] = &[
        &["SETBIT", "a", "100", "1"],
        &["SETBIT", "a", "100", "1"],
        &["SETBIT", "a", "3", "1"],
        &["SET", "n", "12"],
        &["SETBIT", "n", "20", "1"],
        &[
            "BITFIELD", "b", "SET", "i8", "#2", "-3", "INCRBY", "u4", "3", "9", "OVERFLOW", "SAT", "INCRBY", "u4", "3",
            "100",
        ],
        &["BITFIELD", "b", "GET", "u8", "0"],
        &["BITFIELD", "c", "OVERFLOW", "FAIL", "INCRBY", "u8", "60", "300"],
        &["BITFIELD", "a", "OVERFLOW", "FAIL", "INCRBY", "u8", "200", "256"],
        &["BITOP", "XOR", "x", "a", "b", "n", "missing"],
        &["BITOP", "NOT", "y", "b"],
        &["SET", "gone", "v"],
        &["BITOP", "AND", "gone", "missing"],
        &["SELECT", "1"],
        &["SETBIT", "a", "7", "1"],
        &["SELECT", "0"],
    ];
    for args in script {
        assert!(!matches!(r.cmd(args), Resp::Error(_)), "{args:?}");
    }
    let keys = ["a", "b", "c", "n", "x", "y", "gone"];
    let snapshot = |r: &mut Raw| -> Vec<Resp> {
        let mut seen: Vec<Resp> = keys.iter().map(|k| r.cmd(&["GET", k])).collect();
        r.cmd(&["SELECT", "1"]);
        seen.push(r.cmd(&["GET", "a"]));
        r.cmd(&["SELECT", "0"]);
        seen
    };
    let before = snapshot(&mut r);
    assert_eq!(before[2], Resp::Bulk(vec![0; 9]), "created by a failed INCRBY");
    assert_eq!(before[6], Resp::NullBulk);
    let aof = std::fs::read(server.path("appendonly.aof")).unwrap();
    let setbits = aof.windows(6).filter(|w| w.eq_ignore_ascii_case(b"setbit")).count();
    assert_eq!(setbits, 4, "the SETBIT that changed nothing is not logged");
    drop(r);
    server.restart();
    let mut r = Raw::connect(server.port);
    assert_eq!(snapshot(&mut r), before);
}
