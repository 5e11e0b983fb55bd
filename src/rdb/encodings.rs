//! Decoders for the compact blobs older and current Redis versions embed in
//! RDB files as a single string: ziplist, listpack, intset and zipmap.
//!
//! Every decoder works on an untrusted byte slice: all reads are bounds
//! checked and failures are reported as a message (the reader adds the
//! file offset).

/// Field/value pairs of a hash (or member/score text of a sorted set).
pub(crate) type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// Bounds-checked cursor over a blob.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| format!("{what} overflows its blob"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?[0])
    }

    fn peek(&self, what: &str) -> Result<u8, String> {
        self.buf.get(self.pos).copied().ok_or_else(|| format!("{what} overflows its blob"))
    }

    /// Little-endian unsigned integer of `n` (<= 8) bytes.
    fn le(&mut self, n: usize, what: &str) -> Result<u64, String> {
        let b = self.take(n, what)?;
        Ok(b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    /// Little-endian two's complement integer of `n` (<= 8) bytes.
    fn le_signed(&mut self, n: usize, what: &str) -> Result<i64, String> {
        let v = self.le(n, what)?;
        let shift = 64 - 8 * n as u32;
        Ok(((v << shift) as i64) >> shift)
    }
}

fn int_bytes(v: i64) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// Sign-extends the low `bits` bits of `v`.
fn sign_extend(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// Decodes a ziplist (Redis <= 6.2 lists, hashes and sorted sets).
pub(crate) fn ziplist(blob: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut c = Cursor::new(blob);
    let total = c.le(4, "ziplist header")? as usize;
    if total != blob.len() {
        return Err(format!("ziplist size {total} does not match blob size {}", blob.len()));
    }
    c.le(4, "ziplist header")?; // tail offset: only needed for reverse walks
    let declared = c.le(2, "ziplist header")? as usize;
    let mut out = Vec::with_capacity(declared.min(blob.len()));
    loop {
        if c.peek("ziplist entry")? == 0xFF {
            break;
        }
        // The previous-entry length only serves backward iteration.
        if c.u8("ziplist prevlen")? == 0xFE {
            c.take(4, "ziplist prevlen")?;
        }
        let enc = c.u8("ziplist encoding")?;
        let value = match enc >> 6 {
            0 => c.take(usize::from(enc & 0x3F), "ziplist string")?.to_vec(),
            1 => {
                let len = (usize::from(enc & 0x3F) << 8) | usize::from(c.u8("ziplist length")?);
                c.take(len, "ziplist string")?.to_vec()
            }
            2 => {
                let b = c.take(4, "ziplist length")?;
                let len = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
                c.take(len, "ziplist string")?.to_vec()
            }
            _ => int_bytes(match enc {
                0xC0 => c.le_signed(2, "ziplist int")?,
                0xD0 => c.le_signed(4, "ziplist int")?,
                0xE0 => c.le_signed(8, "ziplist int")?,
                0xF0 => c.le_signed(3, "ziplist int")?,
                0xFE => c.le_signed(1, "ziplist int")?,
                0xF1..=0xFD => i64::from(enc & 0x0F) - 1,
                _ => return Err(format!("invalid ziplist encoding byte {enc:#04x}")),
            }),
        };
        out.push(value);
    }
    if c.pos + 1 != blob.len() {
        return Err("ziplist has bytes after its end marker".into());
    }
    // 0xFFFF means "too many to count"; otherwise the header must agree.
    if declared != 0xFFFF && declared != out.len() {
        return Err(format!("ziplist declares {declared} entries but holds {}", out.len()));
    }
    Ok(out)
}

/// Number of bytes a listpack back-length field takes for an entry of `len` bytes.
pub(crate) fn backlen_size(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// Decodes a listpack (Redis 7 hashes, sorted sets and quicklist nodes).
pub(crate) fn listpack(blob: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut c = Cursor::new(blob);
    let total = c.le(4, "listpack header")? as usize;
    if total != blob.len() {
        return Err(format!("listpack size {total} does not match blob size {}", blob.len()));
    }
    let declared = c.le(2, "listpack header")? as usize;
    let mut out = Vec::with_capacity(declared.min(blob.len()));
    loop {
        let start = c.pos;
        let enc = c.u8("listpack entry")?;
        let value = if enc == 0xFF {
            break;
        } else if enc & 0x80 == 0 {
            int_bytes(i64::from(enc))
        } else if enc & 0xC0 == 0x80 {
            c.take(usize::from(enc & 0x3F), "listpack string")?.to_vec()
        } else if enc & 0xE0 == 0xC0 {
            let v = (u64::from(enc & 0x1F) << 8) | u64::from(c.u8("listpack int")?);
            int_bytes(sign_extend(v, 13))
        } else if enc & 0xF0 == 0xE0 {
            let len = (usize::from(enc & 0x0F) << 8) | usize::from(c.u8("listpack length")?);
            c.take(len, "listpack string")?.to_vec()
        } else {
            match enc {
                0xF0 => {
                    let len = c.le(4, "listpack length")? as usize;
                    c.take(len, "listpack string")?.to_vec()
                }
                0xF1 => int_bytes(c.le_signed(2, "listpack int")?),
                0xF2 => int_bytes(c.le_signed(3, "listpack int")?),
                0xF3 => int_bytes(c.le_signed(4, "listpack int")?),
                0xF4 => int_bytes(c.le_signed(8, "listpack int")?),
                _ => return Err(format!("invalid listpack encoding byte {enc:#04x}")),
            }
        };
        // The back-length lets Redis walk backwards; we only skip it.
        c.take(backlen_size(c.pos - start), "listpack backlen")?;
        out.push(value);
    }
    if c.pos != blob.len() {
        return Err("listpack has bytes after its end marker".into());
    }
    // 65535 means "too many to count"; otherwise the header must agree.
    if declared != 0xFFFF && declared != out.len() {
        return Err(format!("listpack declares {declared} entries but holds {}", out.len()));
    }
    Ok(out)
}

/// Decodes an intset into the decimal strings of its members.
pub(crate) fn intset(blob: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut c = Cursor::new(blob);
    let width = c.le(4, "intset header")? as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err(format!("invalid intset encoding {width}"));
    }
    let count = c.le(4, "intset header")? as usize;
    if count.checked_mul(width) != Some(blob.len() - 8) {
        return Err(format!("intset of {count} x {width} bytes does not match blob size {}", blob.len()));
    }
    (0..count).map(|_| c.le_signed(width, "intset member").map(int_bytes)).collect()
}

/// Reads a zipmap length: one byte below 254, else 254 and a 4-byte
/// little-endian value (Redis wrote it in host order, always LE in practice).
fn zipmap_len(c: &mut Cursor<'_>) -> Result<usize, String> {
    match c.u8("zipmap length")? {
        n @ 0..=253 => Ok(usize::from(n)),
        254 => Ok(c.le(4, "zipmap length")? as usize),
        _ => Err("unexpected zipmap end marker".into()),
    }
}

/// Decodes a zipmap (Redis <= 2.4 small hashes) into field/value pairs.
pub(crate) fn zipmap(blob: &[u8]) -> Result<Pairs, String> {
    let mut c = Cursor::new(blob);
    c.u8("zipmap header")?; // entry count hint, unreliable above 253
    let mut out = Vec::new();
    while c.peek("zipmap entry")? != 0xFF {
        let klen = zipmap_len(&mut c)?;
        let key = c.take(klen, "zipmap key")?.to_vec();
        let vlen = zipmap_len(&mut c)?;
        let free = usize::from(c.u8("zipmap free")?);
        let value = c.take(vlen, "zipmap value")?.to_vec();
        c.take(free, "zipmap free space")?;
        out.push((key, value));
    }
    if c.pos + 1 != blob.len() {
        return Err("zipmap has bytes after its end marker".into());
    }
    Ok(out)
}

/// Groups a flat element list into (field, value) pairs.
pub(crate) fn pairs(items: Vec<Vec<u8>>) -> Result<Pairs, String> {
    if !items.len().is_multiple_of(2) {
        return Err("odd number of elements in a pair encoding".into());
    }
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        out.push((a, b));
    }
    Ok(out)
}

/// Parses a sorted-set score stored as text (ziplist/listpack/RDB_TYPE_ZSET).
pub(crate) fn parse_score(s: &[u8]) -> Result<f64, String> {
    let v = std::str::from_utf8(s)
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
        .ok_or_else(|| format!("invalid score {:?}", String::from_utf8_lossy(s)))?;
    if v.is_nan() {
        return Err("sorted set score is NaN".into());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(items: &[&str]) -> Vec<Vec<u8>> {
        items.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    /// Builds a ziplist from pre-encoded entries (prevlen is filled in).
    fn build_ziplist(entries: &[Vec<u8>]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        for e in entries {
            if prev < 254 {
                body.push(prev as u8);
            } else {
                body.push(0xFE);
                body.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            let before = body.len();
            body.extend_from_slice(e);
            prev = body.len() - before + if prev < 254 { 1 } else { 5 };
        }
        let total = 10 + body.len() + 1;
        let mut z = Vec::new();
        z.extend_from_slice(&(total as u32).to_le_bytes());
        z.extend_from_slice(&0u32.to_le_bytes());
        z.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        z.extend_from_slice(&body);
        z.push(0xFF);
        z
    }

    #[test]
    fn ziplist_all_encodings() {
        let long = vec![b'x'; 300];
        let mut e14 = vec![0x40 | 1, 44];
        e14.extend_from_slice(&long);
        let mut e32 = vec![0x80, 0, 0, 0, 3];
        e32.extend_from_slice(b"abc");
        let entries = vec![
            [&[3u8][..], b"foo"].concat(),
            e14,
            e32,
            vec![0xC0, 0x00, 0x80],             // int16 -32768
            vec![0xD0, 0xFF, 0xFF, 0xFF, 0x7F], // int32 max
            [&[0xE0][..], &(-5i64).to_le_bytes()].concat(),
            vec![0xF0, 0xFF, 0xFF, 0xFF], // int24 -1
            vec![0xFE, 0x80],             // int8 -128
            vec![0xF1],                   // imm 0
            vec![0xFD],                   // imm 12
        ];
        let z = build_ziplist(&entries);
        let mut want = b(&["foo"]);
        want.push(long);
        want.extend(b(&["abc", "-32768", "2147483647", "-5", "-1", "-128", "0", "12"]));
        assert_eq!(ziplist(&z).unwrap(), want);
        // Every truncation fails cleanly.
        for n in 0..z.len() {
            assert!(ziplist(&z[..n]).is_err());
        }
    }

    #[test]
    fn ziplist_rejects_bad_count_and_encoding() {
        let mut z = build_ziplist(&[[&[1u8][..], b"a"].concat()]);
        z[8] = 2;
        assert!(ziplist(&z).is_err());
        let z = build_ziplist(&[vec![0xFF]]);
        assert!(ziplist(&z).is_err());
    }

    fn build_listpack(entries: &[Vec<u8>]) -> Vec<u8> {
        let mut body = Vec::new();
        for e in entries {
            body.extend_from_slice(e);
            let mut len = e.len() as u64;
            // Back-length: 7 bits per byte, most significant first.
            let mut bl = vec![(len & 127) as u8];
            len >>= 7;
            while len > 0 {
                bl.push((len & 127) as u8 | 128);
                len >>= 7;
            }
            bl.reverse();
            body.extend_from_slice(&bl);
        }
        let total = 6 + body.len() + 1;
        let mut lp = Vec::new();
        lp.extend_from_slice(&(total as u32).to_le_bytes());
        lp.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        lp.extend_from_slice(&body);
        lp.push(0xFF);
        lp
    }

    #[test]
    fn listpack_all_encodings() {
        let long = vec![b'y'; 200];
        let mut s12 = vec![0xE0, 200];
        s12.extend_from_slice(&long);
        let entries = vec![
            vec![0x7F],                     // 7-bit 127
            [&[0x83][..], b"bar"].concat(), // 6-bit string
            vec![0xDF, 0xFF],               // 13-bit -1
            vec![0xC0 | 0x0F, 0xFF],        // 13-bit 4095
            s12,
            [&[0xF0, 2, 0, 0, 0][..], b"hi"].concat(),
            vec![0xF1, 0x00, 0x80], // int16 min
            vec![0xF2, 0xFF, 0xFF, 0x7F],
            vec![0xF3, 0, 0, 0, 0x80],
            [&[0xF4][..], &i64::MIN.to_le_bytes()].concat(),
        ];
        let lp = build_listpack(&entries);
        let mut want = b(&["127", "bar", "-1", "4095"]);
        want.push(long);
        want.extend(b(&["hi", "-32768", "8388607", "-2147483648", "-9223372036854775808"]));
        assert_eq!(listpack(&lp).unwrap(), want);
        for n in 0..lp.len() {
            assert!(listpack(&lp[..n]).is_err());
        }
    }

    #[test]
    fn intset_widths() {
        let mut s = vec![2, 0, 0, 0, 2, 0, 0, 0];
        s.extend_from_slice(&(-3i16).to_le_bytes());
        s.extend_from_slice(&7i16.to_le_bytes());
        assert_eq!(intset(&s).unwrap(), b(&["-3", "7"]));
        let mut s = vec![8, 0, 0, 0, 1, 0, 0, 0];
        s.extend_from_slice(&i64::MAX.to_le_bytes());
        assert_eq!(intset(&s).unwrap(), b(&["9223372036854775807"]));
        assert!(intset(&s[..s.len() - 1]).is_err());
        assert!(intset(&[3, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn zipmap_pairs() {
        let mut z = b"\x02\x03foo\x03\x00bar\x05hello\x05\x02world!!".to_vec();
        let big = vec![b'v'; 300];
        z.extend_from_slice(b"\x01k\xFE");
        z.extend_from_slice(&300u32.to_le_bytes());
        z.push(0);
        z.extend_from_slice(&big);
        z.push(0xFF);
        let want =
            vec![(b"foo".to_vec(), b"bar".to_vec()), (b"hello".to_vec(), b"world".to_vec()), (b"k".to_vec(), big)];
        assert_eq!(zipmap(&z).unwrap(), want);
        for n in 0..z.len() {
            assert!(zipmap(&z[..n]).is_err());
        }
    }

    #[test]
    fn scores() {
        assert_eq!(parse_score(b"1.5").unwrap(), 1.5);
        assert_eq!(parse_score(b"-inf").unwrap(), f64::NEG_INFINITY);
        assert!(parse_score(b"nan").is_err());
        assert!(parse_score(b"x").is_err());
    }
}
