//! Streaming RDB writer.
//!
//! Meant to run in a forked child: no threads, no locks, and no per-value
//! allocation beyond a reused compression buffer. Collections are written
//! element by element (`begin_*` then `push_*`) so callers can walk their
//! own data structures without building vectors.

use super::compress::Lzf;
use super::stream::{RdbGroup, StreamMeta, StreamNodes};
use super::{opcode, ty, RdbValue, CRC64, RDB_VERSION};
use crate::types::stream::StreamId;
use crc::{Digest, Table};
use std::io::{self, Write};

/// Redis only tries LZF on strings longer than this.
const COMPRESS_MIN_LEN: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    Set,
    Hash,
    ZSet,
}

/// Writes an RDB file to `W` (wrap files in a `BufWriter`).
///
/// Call order: [`write_header`](Self::write_header), then per database
/// [`select_db`](Self::select_db) followed by its keys, then
/// [`finish`](Self::finish).
pub struct RdbWriter<W: Write> {
    out: W,
    digest: Digest<'static, u64, Table<16>>,
    written: u64,
    compression: bool,
    lzf: Lzf,
    /// Collection being streamed and how many elements it still expects.
    open: Option<(Kind, u64)>,
    /// Writing a DUMP payload: one value, with neither key nor expiry.
    payload: bool,
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.to_string())
}

/// The value of `s` if it is the canonical decimal form of an i64
/// (no sign prefix '+', no leading zeros, no "-0"), as Redis requires
/// before storing a string as an integer.
fn canonical_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let v: i64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    let mut buf = [0u8; 20];
    let mut cur = io::Cursor::new(&mut buf[..]);
    write!(cur, "{v}").ok()?;
    let n = cur.position() as usize;
    (buf[..n] == *s).then_some(v)
}

impl<W: Write> RdbWriter<W> {
    /// A writer with LZF compression enabled (Redis' `rdbcompression yes`).
    pub fn new(out: W) -> Self {
        RdbWriter {
            out,
            digest: CRC64.digest(),
            written: 0,
            compression: true,
            lzf: Lzf::default(),
            open: None,
            payload: false,
        }
    }

    /// A writer of one DUMP payload (Redis' createDumpPayload): the value's
    /// type byte and encoding, written by the same calls as a file's key
    /// (which then write neither key nor expiry), ended by
    /// [`finish_payload`](Self::finish_payload) instead of `finish`.
    pub fn payload(out: W) -> Self {
        RdbWriter { payload: true, ..RdbWriter::new(out) }
    }

    /// Enables or disables LZF compression of long strings.
    pub fn set_compression(&mut self, on: bool) {
        self.compression = on;
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    fn raw(&mut self, b: &[u8]) -> io::Result<()> {
        self.out.write_all(b)?;
        self.digest.update(b);
        self.written += b.len() as u64;
        Ok(())
    }

    fn len(&mut self, n: u64) -> io::Result<()> {
        if n < 1 << 6 {
            self.raw(&[n as u8])
        } else if n < 1 << 14 {
            self.raw(&[0x40 | (n >> 8) as u8, n as u8])
        } else if n <= u64::from(u32::MAX) {
            let b = (n as u32).to_be_bytes();
            self.raw(&[0x80, b[0], b[1], b[2], b[3]])
        } else {
            self.raw(&[0x81])?;
            self.raw(&n.to_be_bytes())
        }
    }

    /// Writes a string, as an integer or LZF blob when Redis would.
    fn string(&mut self, s: &[u8]) -> io::Result<()> {
        if s.len() <= 11 {
            if let Some(v) = canonical_int(s) {
                if let Ok(v) = i8::try_from(v) {
                    return self.raw(&[0xC0, v as u8]);
                }
                if let Ok(v) = i16::try_from(v) {
                    let b = v.to_le_bytes();
                    return self.raw(&[0xC1, b[0], b[1]]);
                }
                if let Ok(v) = i32::try_from(v) {
                    let b = v.to_le_bytes();
                    return self.raw(&[0xC2, b[0], b[1], b[2], b[3]]);
                }
            }
        }
        if self.compression && s.len() > COMPRESS_MIN_LEN {
            // Move the buffer out so `raw` can borrow self mutably.
            let mut lzf = std::mem::take(&mut self.lzf);
            let res = match lzf.compress(s, s.len() - 4) {
                Some(c) => {
                    let r = self
                        .raw(&[0xC3])
                        .and_then(|_| self.len(c.len() as u64))
                        .and_then(|_| self.len(s.len() as u64))
                        .and_then(|_| self.raw(c));
                    Some(r)
                }
                None => None,
            };
            self.lzf = lzf;
            if let Some(r) = res {
                return r;
            }
        }
        self.len(s.len() as u64)?;
        self.raw(s)
    }

    /// Writes the magic, version and the aux fields Redis 7.0 emits;
    /// `aof_base` marks the RDB preamble of an AOF (its `aof-base` field).
    pub fn write_header(&mut self, ctime_secs: i64, used_mem: u64, aof_base: bool) -> io::Result<()> {
        self.check_file()?;
        self.raw(format!("REDIS{RDB_VERSION:04}").as_bytes())?;
        self.write_aux(b"redis-ver", b"7.0.15")?;
        self.write_aux(b"redis-bits", b"64")?;
        self.write_aux(b"ctime", ctime_secs.to_string().as_bytes())?;
        self.write_aux(b"used-mem", used_mem.to_string().as_bytes())?;
        self.write_aux(b"aof-base", if aof_base { b"1" } else { b"0" })
    }

    /// Writes one AUX field (e.g. replication ids).
    pub fn write_aux(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.check_file()?;
        self.check_closed()?;
        self.raw(&[opcode::AUX])?;
        self.string(key)?;
        self.string(value)
    }

    /// Writes one function library's code, as Redis 7.0 does before the
    /// first db (RDB_OPCODE_FUNCTION2); FUNCTION DUMP's payload is a run of
    /// these.
    pub fn write_function(&mut self, code: &[u8]) -> io::Result<()> {
        self.check_closed()?;
        self.raw(&[opcode::FUNCTION2])?;
        self.string(code)
    }

    /// The sink, for a run of [`write_function`](Self::write_function)s.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Starts database `db`; the sizes are hash table hints for the loader.
    pub fn select_db(&mut self, db: usize, db_size: u64, expires_size: u64) -> io::Result<()> {
        self.check_file()?;
        self.check_closed()?;
        self.raw(&[opcode::SELECTDB])?;
        self.len(db as u64)?;
        self.raw(&[opcode::RESIZEDB])?;
        self.len(db_size)?;
        self.len(expires_size)
    }

    /// Headers, aux fields and dbs belong to files, not payloads.
    fn check_file(&self) -> io::Result<()> {
        if self.payload {
            return Err(invalid("a payload has no file structure"));
        }
        Ok(())
    }

    fn check_closed(&self) -> io::Result<()> {
        match self.open {
            Some((_, left)) if left > 0 => Err(invalid("previous collection is incomplete")),
            _ => Ok(()),
        }
    }

    fn key_header(&mut self, key: &[u8], expire_ms: Option<i64>, t: u8) -> io::Result<()> {
        self.check_closed()?;
        self.open = None;
        if self.payload {
            if self.written > 0 {
                return Err(invalid("a payload holds one value"));
            }
            return self.raw(&[t]);
        }
        if let Some(ms) = expire_ms {
            self.raw(&[opcode::EXPIRETIME_MS])?;
            self.raw(&ms.to_le_bytes())?;
        }
        self.raw(&[t])?;
        self.string(key)
    }

    /// Writes a string key.
    pub fn write_string(&mut self, key: &[u8], expire_ms: Option<i64>, value: &[u8]) -> io::Result<()> {
        self.key_header(key, expire_ms, ty::STRING)?;
        self.string(value)
    }

    fn begin(&mut self, kind: Kind, t: u8, key: &[u8], expire_ms: Option<i64>, len: u64) -> io::Result<()> {
        if len == 0 {
            // Redis treats empty collections as corrupt input.
            return Err(invalid("empty collections cannot be stored"));
        }
        self.key_header(key, expire_ms, t)?;
        self.len(len)?;
        self.open = Some((kind, len));
        Ok(())
    }

    /// Starts a list of exactly `len` elements; follow with `push_element`.
    pub fn begin_list(&mut self, key: &[u8], expire_ms: Option<i64>, len: u64) -> io::Result<()> {
        self.begin(Kind::List, ty::LIST, key, expire_ms, len)
    }

    /// Starts a set of exactly `len` members; follow with `push_element`.
    pub fn begin_set(&mut self, key: &[u8], expire_ms: Option<i64>, len: u64) -> io::Result<()> {
        self.begin(Kind::Set, ty::SET, key, expire_ms, len)
    }

    /// Starts a hash of exactly `len` fields; follow with `push_field`.
    pub fn begin_hash(&mut self, key: &[u8], expire_ms: Option<i64>, len: u64) -> io::Result<()> {
        self.begin(Kind::Hash, ty::HASH, key, expire_ms, len)
    }

    /// Starts a sorted set of exactly `len` members; follow with `push_member`.
    pub fn begin_zset(&mut self, key: &[u8], expire_ms: Option<i64>, len: u64) -> io::Result<()> {
        self.begin(Kind::ZSet, ty::ZSET_2, key, expire_ms, len)
    }

    /// Counts one element against the open collection, checking its kind.
    fn take_slot(&mut self, kinds: &[Kind]) -> io::Result<()> {
        match &mut self.open {
            Some((k, left)) if kinds.contains(k) && *left > 0 => {
                *left -= 1;
                Ok(())
            }
            _ => Err(invalid("no open collection of this type expects more elements")),
        }
    }

    /// Adds an element to the open list or set.
    pub fn push_element(&mut self, element: &[u8]) -> io::Result<()> {
        self.take_slot(&[Kind::List, Kind::Set])?;
        self.string(element)
    }

    /// Adds a field to the open hash.
    pub fn push_field(&mut self, field: &[u8], value: &[u8]) -> io::Result<()> {
        self.take_slot(&[Kind::Hash])?;
        self.string(field)?;
        self.string(value)
    }

    /// Adds a member to the open sorted set (score must not be NaN).
    pub fn push_member(&mut self, member: &[u8], score: f64) -> io::Result<()> {
        if score.is_nan() {
            return Err(invalid("sorted set score is NaN"));
        }
        self.take_slot(&[Kind::ZSet])?;
        self.string(member)?;
        self.raw(&score.to_le_bytes())
    }

    /// Writes a stream (type 19): its listpack nodes (see `StreamNodes`),
    /// counters and consumer groups. Streams may be empty.
    pub fn write_stream(
        &mut self,
        key: &[u8],
        expire_ms: Option<i64>,
        nodes: &[(StreamId, Vec<u8>)],
        meta: &StreamMeta,
        groups: &[RdbGroup],
    ) -> io::Result<()> {
        self.key_header(key, expire_ms, ty::STREAM_LISTPACKS_2)?;
        self.len(nodes.len() as u64)?;
        for (master, lp) in nodes {
            self.string(&master.to_be_bytes())?;
            self.string(lp)?;
        }
        self.len(meta.length)?;
        for id in [meta.last_id, meta.first_id, meta.max_deleted_id] {
            self.stream_id(id)?;
        }
        self.len(meta.entries_added)?;
        self.len(groups.len() as u64)?;
        for g in groups {
            self.string(&g.name)?;
            self.stream_id(g.last_id)?;
            // -1 (unknown) is stored as the u64 of its bits, as Redis does.
            self.len(g.entries_read as u64)?;
            self.len(g.pel.len() as u64)?;
            for nack in &g.pel {
                self.raw(&nack.id.to_be_bytes())?;
                self.raw(&nack.delivery_time.to_le_bytes())?;
                self.len(nack.delivery_count)?;
            }
            self.len(g.consumers.len() as u64)?;
            for consumer in &g.consumers {
                self.string(&consumer.name)?;
                self.raw(&consumer.seen_time.to_le_bytes())?;
                self.len(consumer.pending.len() as u64)?;
                for id in &consumer.pending {
                    self.raw(&id.to_be_bytes())?;
                }
            }
        }
        Ok(())
    }

    fn stream_id(&mut self, id: StreamId) -> io::Result<()> {
        self.len(id.ms)?;
        self.len(id.seq)
    }

    /// Writes a whole owned value (convenience over the streaming calls).
    pub fn write_value(&mut self, key: &[u8], expire_ms: Option<i64>, value: &RdbValue) -> io::Result<()> {
        match value {
            RdbValue::String(s) => self.write_string(key, expire_ms, s),
            RdbValue::List(items) | RdbValue::Set(items) => {
                let len = items.len() as u64;
                if matches!(value, RdbValue::List(_)) {
                    self.begin_list(key, expire_ms, len)?;
                } else {
                    self.begin_set(key, expire_ms, len)?;
                }
                items.iter().try_for_each(|i| self.push_element(i))
            }
            RdbValue::Hash(pairs) => {
                self.begin_hash(key, expire_ms, pairs.len() as u64)?;
                pairs.iter().try_for_each(|(f, v)| self.push_field(f, v))
            }
            RdbValue::ZSet(members) => {
                self.begin_zset(key, expire_ms, members.len() as u64)?;
                members.iter().try_for_each(|(m, s)| self.push_member(m, *s))
            }
            RdbValue::Stream(s) => {
                let mut nodes = StreamNodes::new();
                for (id, items) in &s.entries {
                    nodes.push(*id, items.iter().map(Vec::as_slice));
                }
                self.write_stream(key, expire_ms, &nodes.finish(), &s.meta, &s.groups)
            }
        }
    }

    /// Ends a payload: the 2-byte RDB version and the CRC-64 of everything
    /// before it, both little-endian. Returns the sink.
    pub fn finish_payload(mut self) -> io::Result<W> {
        self.check_closed()?;
        if !self.payload || self.written == 0 {
            return Err(invalid("not a payload with a value"));
        }
        self.raw(&(RDB_VERSION as u16).to_le_bytes())?;
        let crc = self.digest.finalize();
        self.out.write_all(&crc.to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// Writes EOF and the checksum, flushes, and returns the sink and the
    /// total file size.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        self.check_closed()?;
        if self.payload {
            return Err(invalid("a payload ends with finish_payload"));
        }
        self.raw(&[opcode::EOF])?;
        let crc = self.digest.finalize();
        self.out.write_all(&crc.to_le_bytes())?;
        self.out.flush()?;
        Ok((self.out, self.written + 8))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_ints_only() {
        assert_eq!(canonical_int(b"0"), Some(0));
        assert_eq!(canonical_int(b"-12"), Some(-12));
        assert_eq!(canonical_int(b"9223372036854775807"), Some(i64::MAX));
        for s in [&b"+1"[..], b"01", b"-0", b" 1", b"1 ", b"", b"1.0", b"99999999999999999999"] {
            assert_eq!(canonical_int(s), None, "{:?}", s);
        }
    }

    #[test]
    fn length_encodings() {
        let mut w = RdbWriter::new(Vec::new());
        for n in [0u64, 63, 64, 16383, 16384, u32::MAX as u64, u32::MAX as u64 + 1] {
            w.len(n).unwrap();
        }
        let (buf, _) = w.finish().unwrap();
        let want: Vec<u8> = [
            &[0u8][..],
            &[63],
            &[0x40, 64],
            &[0x7F, 0xFF],
            &[0x80, 0, 0, 0x40, 0],
            &[0x80, 0xFF, 0xFF, 0xFF, 0xFF],
            &[0x81, 0, 0, 0, 1, 0, 0, 0, 0],
        ]
        .concat();
        assert_eq!(&buf[..want.len()], &want[..]);
    }

    #[test]
    fn misuse_is_an_error() {
        let mut w = RdbWriter::new(Vec::new());
        assert!(w.push_element(b"x").is_err());
        assert!(w.begin_list(b"l", None, 0).is_err());
        w.begin_list(b"l", None, 1).unwrap();
        assert!(w.push_field(b"a", b"b").is_err());
        assert!(w.write_string(b"k", None, b"v").is_err());
        w.push_element(b"x").unwrap();
        assert!(w.push_element(b"y").is_err());
        w.begin_zset(b"z", None, 1).unwrap();
        assert!(w.push_member(b"m", f64::NAN).is_err());
        assert!(w.finish().is_err());
    }

    #[test]
    fn a_payload_is_one_value_without_file_structure() {
        let mut w = RdbWriter::payload(Vec::new());
        assert!(w.write_header(0, 0, false).is_err());
        assert!(w.select_db(0, 1, 0).is_err());
        assert!(w.write_aux(b"k", b"v").is_err());
        w.begin_list(b"ignored", Some(5), 2).unwrap();
        w.push_element(b"a").unwrap();
        w.push_element(b"b").unwrap();
        assert!(w.write_string(b"k", None, b"second").is_err());
        let out = w.finish_payload().unwrap();
        // Type, count, two strings; no key, no expiry; then the footer.
        assert_eq!(out[..6], [ty::LIST, 2, 1, b'a', 1, b'b']);
        assert_eq!(out[6..8], [10, 0]);
        assert_eq!(out.len(), 16);
        assert_eq!(out[8..], CRC64.checksum(&out[..8]).to_le_bytes());
        assert!(RdbWriter::payload(Vec::new()).finish_payload().is_err());
        assert!(RdbWriter::payload(Vec::new()).finish().is_err());
        assert!(RdbWriter::new(Vec::new()).finish_payload().is_err());
    }
}
