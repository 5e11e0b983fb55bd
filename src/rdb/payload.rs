//! DUMP payloads, the format of Redis's DUMP and RESTORE: one value as an
//! RDB file stores it after its key (type byte, then encoding), followed by
//! the 2-byte RDB version and the CRC-64 of everything before the CRC, both
//! little-endian.

use super::{RdbError, RdbReader, RdbValue, RdbWriter, CRC64, RDB_VERSION};

/// RDB version (2 bytes) and CRC-64 (8 bytes).
pub const FOOTER_LEN: usize = 10;

/// Whether `payload` has a sound footer, as Redis's verifyDumpPayload: long
/// enough for one, of an RDB version this reader knows (≤ 10), and with the
/// CRC-64 of the bytes before the CRC.
pub fn verify_payload(payload: &[u8]) -> bool {
    if payload.len() < FOOTER_LEN {
        return false;
    }
    let (data, crc) = payload.split_at(payload.len() - 8);
    let version = u16::from_le_bytes([data[data.len() - 2], data[data.len() - 1]]);
    if u32::from(version) > RDB_VERSION {
        return false;
    }
    CRC64.checksum(data).to_le_bytes() == crc
}

/// The value of a payload [`verify_payload`] accepted. As in Redis, the
/// value is read from the start of the whole payload, footer included (a
/// value that needs more bytes than come before the footer reads into it),
/// and bytes left over before the footer are ignored.
pub fn read_payload(payload: &[u8]) -> Result<RdbValue, RdbError> {
    let version = match payload.len() {
        n if n >= FOOTER_LEN => u32::from(u16::from_le_bytes([payload[n - 10], payload[n - 9]])),
        _ => RDB_VERSION,
    };
    RdbReader::payload(payload, version).read_payload_value()
}

/// Ends `body` (a type byte and a value's encoding, function libraries,
/// or anything else) with a footer that passes [`verify_payload`].
pub fn seal_payload(mut body: Vec<u8>) -> Vec<u8> {
    body.extend_from_slice(&(RDB_VERSION as u16).to_le_bytes());
    let crc = CRC64.checksum(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// FUNCTION DUMP's payload: each library's code after its opcode, as an
/// RDB file holds them, then the footer.
pub fn write_functions_payload<'a>(
    codes: impl Iterator<Item = &'a [u8]>,
    compression: bool,
) -> std::io::Result<Vec<u8>> {
    let mut w = RdbWriter::new(Vec::new());
    w.set_compression(compression);
    for code in codes {
        w.write_function(code)?;
    }
    Ok(seal_payload(w.into_inner()))
}

/// The libraries' code in a FUNCTION RESTORE payload [`verify_payload`]
/// accepted, read up to its footer. Err is Redis's error text.
pub fn read_functions_payload(payload: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let n = payload.len();
    let version = u32::from(u16::from_le_bytes([payload[n - 10], payload[n - 9]]));
    let mut reader = RdbReader::payload(payload, version);
    let mut codes = Vec::new();
    while n as u64 - reader.offset() > FOOTER_LEN as u64 {
        codes.push(reader.read_payload_function()?);
    }
    Ok(codes)
}

/// The payload of a whole value (empty collections have none).
pub fn write_payload(value: &RdbValue, compression: bool) -> std::io::Result<Vec<u8>> {
    let mut w = RdbWriter::payload(Vec::new());
    w.set_compression(compression);
    w.write_value(b"", None, value)?;
    w.finish_payload()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// Payloads redis-server 7.0.15 wrote (DUMP in redis-cli): quicklist,
    /// intset and listpack blobs as well as plain encodings.
    #[test]
    fn reads_redis_payloads() {
        let cases = [
            ("00036261720a00e6be4960ee66fd17", RdbValue::String(v("bar"))),
            ("00c139300a009d94ea2793fc08b9", RdbValue::String(v("12345"))),
            (
                "1201020f0f00000003008161028162020101ff0a00e01bab4a47ce5922",
                RdbValue::List(vec![v("a"), v("b"), v("1")]),
            ),
            ("0b0e0200000003000000fdff010002000a00d1b78ed9bc07c27f", RdbValue::Set(vec![v("-3"), v("1"), v("2")])),
            ("0202016201610a0075d99d835ef85f65", RdbValue::Set(vec![v("b"), v("a")])),
            (
                "1012120000000400816602817602816e020101ff0a00fce408f17922e016",
                RdbValue::Hash(vec![(v("f"), v("v")), (v("n"), v("1"))]),
            ),
            (
                "111414000000040081610283312e35048162020201ff0a00fa02b425af188763",
                RdbValue::ZSet(vec![(v("a"), 1.5), (v("b"), 2.0)]),
            ),
        ];
        for (payload, want) in cases {
            let payload = hex(payload);
            assert!(verify_payload(&payload), "{want:?}");
            assert_eq!(read_payload(&payload).unwrap(), want);
        }
    }

    /// Strings are written as Redis writes them, to the byte.
    #[test]
    fn string_payloads_match_redis() {
        assert_eq!(write_payload(&RdbValue::String(v("bar")), true).unwrap(), hex("00036261720a00e6be4960ee66fd17"));
        assert_eq!(write_payload(&RdbValue::String(v("12345")), true).unwrap(), hex("00c139300a009d94ea2793fc08b9"));
    }

    #[test]
    fn round_trips_every_type() {
        let big = b"0123456789abcdef".repeat(100);
        let values = [
            RdbValue::String(Vec::new()),
            RdbValue::String(v("-12345")),
            RdbValue::String(big.clone()),
            RdbValue::List(vec![v("a"), v("1"), Vec::new(), big.clone()]),
            RdbValue::Set(vec![v("x"), v("42")]),
            RdbValue::Hash(vec![(v("f"), v("v")), (big.clone(), Vec::new())]),
            RdbValue::ZSet(vec![(v("a"), 1.5), (v("b"), f64::NEG_INFINITY)]),
        ];
        for value in values {
            for compression in [false, true] {
                let p = write_payload(&value, compression).unwrap();
                assert!(verify_payload(&p), "{value:?}");
                assert_eq!(read_payload(&p).unwrap(), value);
            }
        }
    }

    #[test]
    fn footers_are_checked() {
        let mut p = write_payload(&RdbValue::String(v("hello")), false).unwrap();
        assert!(verify_payload(&p));
        assert!(!verify_payload(&p[..p.len() - 1]));
        assert!(!verify_payload(&p[..9]));
        assert!(!verify_payload(b""));
        let last = p.len() - 1;
        p[last] ^= 1;
        assert!(!verify_payload(&p));
        p[last] ^= 1;
        // A newer RDB version is refused even with a matching CRC.
        let n = p.len();
        p[n - 10] = 11;
        let crc = CRC64.checksum(&p[..n - 8]).to_le_bytes();
        p[n - 8..].copy_from_slice(&crc);
        assert!(!verify_payload(&p));
        // Older versions are fine.
        p[n - 10] = 9;
        let crc = CRC64.checksum(&p[..n - 8]).to_le_bytes();
        p[n - 8..].copy_from_slice(&crc);
        assert!(verify_payload(&p));
        assert_eq!(read_payload(&p).unwrap(), RdbValue::String(v("hello")));
    }

    #[test]
    fn bad_values_are_errors() {
        let with_footer = |body: &[u8]| seal_payload(body.to_vec());
        // Unknown type, stream type, empty list, empty set, truncated string.
        for body in [&[8u8][..], &[15, 0], &[1, 0], &[2, 0], &[0, 0x3F, b'a']] {
            let p = with_footer(body);
            assert!(verify_payload(&p));
            assert!(read_payload(&p).is_err(), "{body:?}");
        }
        // A value needing more bytes than precede the footer reads into it.
        let p = with_footer(&[0, 10]);
        assert_eq!(read_payload(&p).unwrap(), RdbValue::String(p[2..12].to_vec()));
        // Bytes left after the value are ignored.
        let p = with_footer(&[0, 1, b'x', 0xFF, 0xFF]);
        assert_eq!(read_payload(&p).unwrap(), RdbValue::String(v("x")));
    }

    proptest! {
        /// Whatever the bytes, reading a payload returns (a value or an
        /// error) without panicking; re-sealing the CRC gets the garbage
        /// past the footer check.
        #[test]
        fn garbage_never_panics(body in proptest::collection::vec(any::<u8>(), 0..200), ty in 0u8..20) {
            let mut p = vec![ty];
            p.extend_from_slice(&body);
            let p = seal_payload(p);
            prop_assert!(verify_payload(&p));
            let _ = read_payload(&p);
        }

        #[test]
        fn corrupted_payloads_never_panic(
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
            cut in any::<usize>(),
            which in 0usize..4,
        ) {
            let values = [
                RdbValue::List((0..50).map(|i| format!("item-{i}").into_bytes()).collect()),
                RdbValue::Hash((0..20).map(|i| (format!("f{i}").into_bytes(), b"v".repeat(i))).collect()),
                RdbValue::ZSet((0..20).map(|i| (format!("m{i}").into_bytes(), i as f64 / 3.0)).collect()),
                RdbValue::String(b"abc".repeat(100)),
            ];
            let mut p = write_payload(&values[which], true).unwrap();
            for (at, x) in flips {
                let n = p.len();
                p[at % n] ^= x.max(1);
            }
            p.truncate(cut % (p.len() + 1));
            let n = p.len();
            if n > 8 {
                let crc = CRC64.checksum(&p[..n - 8]).to_le_bytes();
                p[n - 8..].copy_from_slice(&crc);
            }
            if verify_payload(&p) {
                let _ = read_payload(&p);
            }
        }
    }
}
