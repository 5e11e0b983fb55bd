//! Writer -> reader round trips and hand-built files for the encodings the
//! writer never produces.

use super::*;
use proptest::prelude::*;

fn v(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn entry(db: usize, key: &[u8], value: RdbValue, expire_ms: Option<i64>) -> RdbEntry {
    RdbEntry { db, key: key.to_vec(), value, expire_ms }
}

fn sample() -> Vec<RdbEntry> {
    let big = b"0123456789abcdef".repeat(100);
    let random: Vec<u8> = (0..500u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    vec![
        entry(0, b"", RdbValue::String(Vec::new()), None),
        entry(0, b"bin\0\xff\r\n", RdbValue::String(b"\0\x01\xfe".to_vec()), None),
        entry(0, b"int", RdbValue::String(v("-2147483648")), Some(1_700_000_000_123)),
        entry(0, b"i8", RdbValue::String(v("-128")), None),
        entry(0, b"i16", RdbValue::String(v("32767")), None),
        entry(0, b"notint", RdbValue::String(v("007")), None),
        entry(0, b"i64", RdbValue::String(v("9223372036854775807")), None),
        entry(0, b"big", RdbValue::String(big.clone()), None),
        entry(0, b"random", RdbValue::String(random), None),
        entry(0, &big, RdbValue::List(vec![v("a"), v("1"), Vec::new(), big.clone()]), Some(-5)),
        entry(0, b"set", RdbValue::Set(vec![v("x"), v("42"), big.clone()]), None),
        entry(0, b"hash", RdbValue::Hash(vec![(v("f"), v("v")), (v("n"), v("12")), (big.clone(), Vec::new())]), None),
        entry(
            1,
            b"zset",
            RdbValue::ZSet(vec![
                (v("a"), 1.5),
                (v("b"), -0.0),
                (v("c"), f64::INFINITY),
                (v("d"), f64::NEG_INFINITY),
                (v("e"), 1e-300),
            ]),
            Some(i64::MAX),
        ),
        entry(2, b"stream", RdbValue::Stream(Box::new(sample_stream())), None),
        entry(2, b"empty-stream", RdbValue::Stream(Box::default()), Some(1_700_000_000_000)),
        entry(15, b"last", RdbValue::String(v("x")), None),
    ]
}

/// 250 entries (three nodes), fields shared or not, and a consumer group.
fn sample_stream() -> RdbStream {
    use crate::types::stream::StreamId;
    let id = StreamId::new;
    let entries: Vec<_> = (1..=250u64)
        .map(|i| {
            let items =
                if i % 7 == 0 { vec![v("other"), v(&i.to_string())] } else { vec![v("f"), v(&format!("v{i}"))] };
            (id(i, i % 3), items)
        })
        .collect();
    let meta = StreamMeta {
        length: 250,
        last_id: id(300, 0),
        first_id: id(1, 1),
        max_deleted_id: id(260, 0),
        entries_added: 260,
    };
    let pel = vec![
        RdbNack { id: id(1, 1), delivery_time: 1_700_000_000_000, delivery_count: 2 },
        RdbNack { id: id(2, 2), delivery_time: 1_700_000_000_500, delivery_count: 1 },
    ];
    let consumers = vec![
        RdbConsumer { name: v("alice"), seen_time: 1_700_000_000_900, pending: vec![id(1, 1)] },
        RdbConsumer { name: v("bob"), seen_time: 1_700_000_000_950, pending: vec![id(2, 2)] },
    ];
    let groups = vec![
        RdbGroup { name: v("g1"), last_id: id(2, 2), entries_read: 2, pel, consumers },
        RdbGroup { name: v("g2"), last_id: StreamId::MIN, entries_read: -1, pel: vec![], consumers: vec![] },
    ];
    RdbStream { meta, entries, groups }
}

fn write_file(entries: &[RdbEntry], compression: bool) -> Vec<u8> {
    let mut w = RdbWriter::new(Vec::new());
    w.set_compression(compression);
    w.write_header(1_700_000_000, 12345, false).unwrap();
    let mut db = None;
    for e in entries {
        if db != Some(e.db) {
            let n = entries.iter().filter(|x| x.db == e.db).count() as u64;
            w.select_db(e.db, n, 0).unwrap();
            db = Some(e.db);
        }
        w.write_value(&e.key, e.expire_ms, &e.value).unwrap();
    }
    let (buf, n) = w.finish().unwrap();
    assert_eq!(n, buf.len() as u64);
    buf
}

fn read_all(bytes: &[u8]) -> Result<Vec<RdbEntry>, RdbError> {
    RdbReader::new(bytes)?.collect()
}

#[test]
fn round_trip_every_type() {
    for compression in [true, false] {
        let entries = sample();
        let file = write_file(&entries, compression);
        assert_eq!(read_all(&file).unwrap(), entries);
        let mut r = RdbReader::new(&file[..]).unwrap();
        while r.next_entry().unwrap().is_some() {}
        assert_eq!(r.version(), 10);
        assert!(r.checksum().unwrap() != 0);
        let aux: Vec<_> = r.aux().iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(aux, [v("redis-ver"), v("redis-bits"), v("ctime"), v("used-mem"), v("aof-base")]);
        assert_eq!(r.aux()[1].1, v("64"));
        assert_eq!(r.aux()[4].1, v("0"), "a snapshot is no AOF base");
    }
}

#[test]
fn aof_base_marks_an_aof_preamble() {
    let mut w = RdbWriter::new(Vec::new());
    w.write_header(1_700_000_000, 0, true).unwrap();
    let (buf, _) = w.finish().unwrap();
    let mut r = RdbReader::new(&buf[..]).unwrap();
    assert!(r.next_entry().unwrap().is_none());
    assert_eq!(r.aux().last(), Some(&(v("aof-base"), v("1"))));
}

#[test]
fn resizedb_counts_are_handed_to_the_loader_once() {
    let file = write_file(&sample(), true);
    let mut r = RdbReader::new(&file[..]).unwrap();
    let mut hints = Vec::new();
    while let Some(e) = r.next_entry().unwrap() {
        if let Some(hint) = r.take_resize_hint() {
            hints.push((hint, e.db));
        }
    }
    assert_eq!(hints, [((0, 12), 0), ((1, 1), 1), ((2, 2), 2), ((15, 1), 15)]);
}

#[test]
fn compression_shrinks_and_ints_are_compact() {
    let entries = sample();
    assert!(write_file(&entries, true).len() + 1000 < write_file(&entries, false).len());
    let mut w = RdbWriter::new(Vec::new());
    w.write_string(b"k", None, b"-2").unwrap();
    let (buf, _) = w.finish().unwrap();
    assert_eq!(&buf[..4], &[0, 1, b'k', 0xC0]);
}

#[test]
fn checksum_mismatch_detected() {
    let mut file = write_file(&sample(), true);
    let n = file.len();
    file[n - 1] ^= 1;
    let err = read_all(&file).unwrap_err();
    assert!(err.msg.contains("checksum mismatch"), "{err}");
    assert_eq!(err.offset, n as u64 - 8);
    // A zero checksum means "not computed" and is accepted.
    file[n - 8..].fill(0);
    assert!(read_all(&file).is_ok());
    // Corrupting data (not the checksum) is caught too.
    let mut file = write_file(&sample(), true);
    let last = file.len() - 10;
    file[last] ^= 0x20;
    assert!(read_all(&file).is_err());
}

#[test]
fn every_truncation_is_an_error() {
    let file = write_file(&sample(), true);
    for n in 0..file.len() {
        let err = read_all(&file[..n]).unwrap_err();
        assert!(err.offset <= n as u64, "{err} for length {n}");
    }
}

#[test]
fn error_display_has_offset() {
    let err = read_all(b"REDIS0010\xFE").unwrap_err();
    assert_eq!(err.to_string(), "RDB error at byte 10: unexpected end of file");
    assert!(read_all(b"REDIS0011\xFF").unwrap_err().msg.contains("version 11"));
    assert!(read_all(b"RODIS0009\xFF").is_err());
}

/// Builds a file body after the header: `REDIS<ver>` + body + EOF (+ CRC).
fn hand_file(version: u32, body: &[u8]) -> Vec<u8> {
    let mut f = format!("REDIS{version:04}").into_bytes();
    f.extend_from_slice(body);
    f.push(0xFF);
    if version >= 5 {
        let crc = CRC64.checksum(&f);
        f.extend_from_slice(&crc.to_le_bytes());
    }
    f
}

fn str_blob(b: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80];
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
    out
}

#[test]
fn old_opcodes_and_types() {
    let mut body = Vec::new();
    // Seconds expiry, text zset scores, idle/freq hints, and a function.
    body.extend_from_slice(b"\xFD\x10\x00\x00\x00\xF8\x05\xF9\x03");
    body.extend_from_slice(b"\x03\x01z\x03\x01a\x031.5\x01b\xFE\x01c\xFF");
    body.extend_from_slice(b"\xF5\x04code");
    // Intset with two int16 members.
    let intset = [2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0xFF, 0xFF];
    body.push(11);
    body.extend_from_slice(b"\x01s");
    body.extend_from_slice(&str_blob(&intset));
    // Quicklist v2 with a plain node and a packed listpack node ["a", 7].
    let lp = [12, 0, 0, 0, 2, 0, 0x81, b'a', 2, 7, 1, 0xFF];
    body.push(18);
    body.extend_from_slice(b"\x01l\x02\x01\x05plain\x02");
    body.extend_from_slice(&str_blob(&lp));
    // Hash listpack with one pair and zset listpack with one member.
    body.push(16);
    body.extend_from_slice(b"\x01h");
    body.extend_from_slice(&str_blob(&lp));
    body.push(17);
    body.extend_from_slice(b"\x02zl");
    body.extend_from_slice(&str_blob(&lp));
    // An empty list is skipped, like Redis does.
    body.extend_from_slice(b"\x01\x01e\x00");
    let file = hand_file(9, &body);
    let mut r = RdbReader::new(&file[..]).unwrap();
    let got: Vec<_> = r.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(
        got,
        vec![
            entry(
                0,
                b"z",
                RdbValue::ZSet(vec![(v("a"), 1.5), (v("b"), f64::INFINITY), (v("c"), f64::NEG_INFINITY)]),
                Some(16_000),
            ),
            entry(0, b"s", RdbValue::Set(vec![v("5"), v("-1")]), None),
            entry(0, b"l", RdbValue::List(vec![v("plain"), v("a"), v("7")]), None),
            entry(0, b"h", RdbValue::Hash(vec![(v("a"), v("7"))]), None),
            entry(0, b"zl", RdbValue::ZSet(vec![(v("a"), 7.0)]), None),
        ]
    );
    assert_eq!(r.functions_read(), 1);
    assert_eq!(r.take_functions(), vec![v("code")]);
    assert_eq!(r.empty_keys_skipped(), 1);
    // Version 4 files have no checksum.
    assert_eq!(read_all(&hand_file(4, b"\x00\x01k\x01v")).unwrap().len(), 1);
}

#[test]
fn unsupported_things_are_clear_errors() {
    let err = read_all(&hand_file(10, b"\x13\x01s\x01\x03abc")).unwrap_err();
    assert_eq!(err.to_string(), "RDB error at byte 13: Stream node key entry is not the size of a stream ID");
    assert!(read_all(&hand_file(10, b"\x07\x01m")).unwrap_err().msg.contains("modules"));
    assert!(read_all(&hand_file(10, b"\xF7")).unwrap_err().msg.contains("module aux"));
    assert!(read_all(&hand_file(10, b"\x08\x01k")).unwrap_err().msg.contains("unknown value type 8"));
    // A bad blob reports where the blob starts.
    let mut body = b"\x10\x01h".to_vec();
    body.extend_from_slice(&str_blob(b"junk"));
    assert_eq!(read_all(&hand_file(10, &body)).unwrap_err().offset, 12);
}

#[test]
fn huge_declared_lengths_do_not_allocate() {
    // A list claiming 2^60 elements and a string claiming 2^60 bytes.
    let mut body = b"\x01\x01l\x81".to_vec();
    body.extend_from_slice(&(1u64 << 60).to_be_bytes());
    assert!(read_all(&hand_file(10, &body)).is_err());
    let mut body = b"\x00\x01s\x81".to_vec();
    body.extend_from_slice(&(1u64 << 60).to_be_bytes());
    assert!(read_all(&hand_file(10, &body)).is_err());
    // LZF claiming a 2^60-byte result.
    let mut body = b"\x00\x01s\xC3\x02\x81".to_vec();
    body.extend_from_slice(&(1u64 << 60).to_be_bytes());
    body.extend_from_slice(b"\x00a");
    assert!(read_all(&hand_file(10, &body)).is_err());
}

#[test]
fn check_report_summarises_dbs() {
    let dir = std::env::temp_dir().join(format!("forkv-rdb-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dump.rdb");
    std::fs::write(&path, write_file(&sample(), true)).unwrap();
    let report = check_rdb(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(report.dbs[&0].keys, 12);
    assert_eq!(report.dbs[&0].expires, 2);
    assert_eq!(report.dbs[&0].types["string"], 9);
    assert_eq!(report.dbs[&1].types["zset"], 1);
    assert_eq!(report.dbs[&15].keys, 1);
    let text = report.to_string();
    assert!(text.contains("db 1: 1 keys, 1 with expiry (zset: 1)"), "{text}");
    assert!(check_rdb(dir.join("missing")).is_err());
}

fn arb_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..40),
        any::<i64>().prop_map(|i| i.to_string().into_bytes()),
        proptest::collection::vec(b'a'..b'd', 0..400),
    ]
}

fn arb_value() -> impl Strategy<Value = RdbValue> {
    let items = || proptest::collection::vec(arb_bytes(), 1..8);
    prop_oneof![
        arb_bytes().prop_map(RdbValue::String),
        items().prop_map(RdbValue::List),
        items().prop_map(RdbValue::Set),
        proptest::collection::vec((arb_bytes(), arb_bytes()), 1..6).prop_map(RdbValue::Hash),
        proptest::collection::vec((arb_bytes(), any::<f64>().prop_filter("nan", |f| !f.is_nan())), 1..6)
            .prop_map(RdbValue::ZSet),
    ]
}

proptest! {
    #[test]
    fn arbitrary_round_trip(
        values in proptest::collection::vec((arb_bytes(), arb_value(), proptest::option::of(any::<i64>())), 0..10)
    ) {
        let entries: Vec<_> = values.into_iter().map(|(k, val, e)| entry(0, &k, val, e)).collect();
        let file = write_file(&entries, true);
        prop_assert_eq!(read_all(&file).unwrap(), entries);
    }

    #[test]
    fn random_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = read_all(&hand_file(10, &body));
        let mut raw = b"REDIS0010".to_vec();
        raw.extend_from_slice(&body);
        let _ = read_all(&raw);
    }
}

#[test]
fn ziplist_era_types() {
    // Ziplist ["a", 1]: prevlen 0, 1-byte string; prevlen 3, immediate 1.
    let zl = [16, 0, 0, 0, 13, 0, 0, 0, 2, 0, 0, 0x01, b'a', 3, 0xF2, 0xFF];
    let mut body = Vec::new();
    for (t, key) in [(10u8, "lz"), (12, "zz"), (13, "hz")] {
        body.push(t);
        body.extend_from_slice(&[1, key.as_bytes()[0]]);
        body.extend_from_slice(&str_blob(&zl));
    }
    // Quicklist (v1) of two ziplist nodes.
    body.extend_from_slice(b"\x0E\x01q\x02");
    body.extend_from_slice(&str_blob(&zl));
    body.extend_from_slice(&str_blob(&zl));
    body.extend_from_slice(b"\x09\x01m");
    body.extend_from_slice(&str_blob(b"\x01\x01a\x01\x00b\xFF"));
    let got = read_all(&hand_file(9, &body)).unwrap();
    let pair = vec![(v("a"), v("1"))];
    let want = vec![
        entry(0, b"l", RdbValue::List(vec![v("a"), v("1")]), None),
        entry(0, b"z", RdbValue::ZSet(vec![(v("a"), 1.0)]), None),
        entry(0, b"h", RdbValue::Hash(pair), None),
        entry(0, b"q", RdbValue::List(vec![v("a"), v("1"), v("a"), v("1")]), None),
        entry(0, b"m", RdbValue::Hash(vec![(v("a"), v("b"))]), None),
    ];
    assert_eq!(got, want);
}

/// Libraries as Redis 7.0's release candidates wrote them (name, engine,
/// optional description, code) read as the code with its shebang.
#[test]
fn pre_release_function_libraries_get_a_shebang() {
    let body = b"\xF6\x03lib\x03LUA\x01\x04desc\x0Areturn 1\nx\xF6\x02l2\x03LUA\x00\x01y";
    let file = hand_file(10, body);
    let mut r = RdbReader::new(&file[..]).unwrap();
    assert!(r.next_entry().unwrap().is_none());
    assert_eq!(r.take_functions(), vec![v("#!LUA name=lib\nreturn 1\nx"), v("#!LUA name=l2\ny")]);
    let truncated = hand_file(10, b"\xF6\x03lib\x03LUA\x01");
    let err = RdbReader::new(&truncated[..]).unwrap().next_entry().unwrap_err();
    assert!(err.msg.starts_with("Failed loading library description"), "{err}");
}
