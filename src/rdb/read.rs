//! Streaming RDB reader.
//!
//! Input is untrusted: lengths read from the file only bound loops and
//! reads, never up-front allocations, so a corrupt or truncated file yields
//! an [`RdbError`] instead of a panic or a huge allocation.

use super::stream::{decode_node, RdbConsumer, RdbGroup, RdbNack, RdbStream, StreamMeta};
use super::{compress, encodings, opcode, ty, RdbEntry, RdbError, RdbValue, CRC64, RDB_VERSION};
use crate::types::stream::StreamId;
use crc::{Digest, Table};
use std::io::{self, Read};

/// Upper bound for buffers and vectors sized from file contents; larger
/// values still load, they just grow as data actually arrives.
const PREALLOC_CAP: usize = 1 << 16;

/// Quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2).
const QUICKLIST_PLAIN: u64 = 1;
const QUICKLIST_PACKED: u64 = 2;

/// A length field, or the special string encoding it announces.
enum Len {
    Plain(u64),
    Encoded(u8),
}

/// Byte source that tracks the offset and the running checksum.
struct Source<R> {
    inner: R,
    offset: u64,
    digest: Digest<'static, u64, Table<16>>,
}

impl<R: Read> Source<R> {
    fn err(&self, msg: impl Into<String>) -> RdbError {
        RdbError::new(self.offset, msg)
    }

    fn io_err(&self, e: io::Error) -> RdbError {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            self.err("unexpected end of file")
        } else {
            self.err(format!("I/O error: {e}"))
        }
    }

    /// Reads exactly `buf.len()` bytes; `hash` is false only for the
    /// trailing checksum, which is not part of the checksummed data.
    fn fill(&mut self, buf: &mut [u8], hash: bool) -> Result<(), RdbError> {
        let mut done = 0;
        while done < buf.len() {
            match self.inner.read(&mut buf[done..]) {
                Ok(0) => {
                    self.offset += done as u64;
                    return Err(self.err("unexpected end of file"));
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_err(e)),
            }
        }
        if hash {
            self.digest.update(buf);
        }
        self.offset += buf.len() as u64;
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], RdbError> {
        let mut b = [0u8; N];
        self.fill(&mut b, true)?;
        Ok(b)
    }

    fn u8(&mut self) -> Result<u8, RdbError> {
        Ok(self.array::<1>()?[0])
    }

    fn bytes(&mut self, n: u64) -> Result<Vec<u8>, RdbError> {
        if n <= PREALLOC_CAP as u64 {
            // The common case: one exact allocation, one copy.
            let mut v = vec![0; n as usize];
            self.fill(&mut v, true)?;
            return Ok(v);
        }
        let mut v = Vec::with_capacity(PREALLOC_CAP);
        let got = (&mut self.inner).take(n).read_to_end(&mut v).map_err(|e| self.io_err(e))?;
        self.digest.update(&v);
        self.offset += got as u64;
        if (got as u64) < n {
            return Err(self.err("unexpected end of file"));
        }
        Ok(v)
    }

    fn len_or_enc(&mut self) -> Result<Len, RdbError> {
        let first = self.u8()?;
        Ok(match first >> 6 {
            0 => Len::Plain(u64::from(first & 0x3F)),
            1 => Len::Plain(u64::from(first & 0x3F) << 8 | u64::from(self.u8()?)),
            3 => Len::Encoded(first & 0x3F),
            _ => match first {
                0x80 => Len::Plain(u64::from(u32::from_be_bytes(self.array()?))),
                0x81 => Len::Plain(u64::from_be_bytes(self.array()?)),
                _ => return Err(self.err(format!("invalid length prefix {first:#04x}"))),
            },
        })
    }

    fn len(&mut self) -> Result<u64, RdbError> {
        match self.len_or_enc()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(_) => Err(self.err("expected a length, found an encoded string")),
        }
    }

    fn string(&mut self) -> Result<Vec<u8>, RdbError> {
        match self.len_or_enc()? {
            Len::Plain(n) => self.bytes(n),
            Len::Encoded(0) => Ok(i64::from(i8::from_le_bytes(self.array()?)).to_string().into_bytes()),
            Len::Encoded(1) => Ok(i16::from_le_bytes(self.array()?).to_string().into_bytes()),
            Len::Encoded(2) => Ok(i32::from_le_bytes(self.array()?).to_string().into_bytes()),
            Len::Encoded(3) => {
                let clen = self.len()?;
                let ulen = self.len()?;
                let at = self.offset;
                let data = self.bytes(clen)?;
                let ulen = usize::try_from(ulen).map_err(|_| self.err("LZF length too large"))?;
                compress::decompress(&data, ulen).map_err(|m| RdbError::new(at, m))
            }
            Len::Encoded(e) => Err(self.err(format!("unknown string encoding {e}"))),
        }
    }

    /// A string that holds an encoded blob, decoded by `f`.
    fn blob<T>(&mut self, f: impl FnOnce(&[u8]) -> Result<T, String>) -> Result<T, RdbError> {
        let at = self.offset;
        let data = self.string()?;
        f(&data).map_err(|m| RdbError::new(at, m))
    }

    /// Score of RDB_TYPE_ZSET: a length byte with special values, then text.
    fn text_score(&mut self) -> Result<f64, RdbError> {
        match self.u8()? {
            253 => Err(self.err("sorted set score is NaN")),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let at = self.offset;
                let s = self.bytes(u64::from(n))?;
                encodings::parse_score(&s).map_err(|m| RdbError::new(at, m))
            }
        }
    }
}

/// Reads entries from an RDB stream; also an iterator of results that
/// stops after the first error.
pub struct RdbReader<R: Read> {
    src: Source<R>,
    version: u32,
    aux: Vec<(Vec<u8>, Vec<u8>)>,
    db: usize,
    last_type: Option<u8>,
    checksum: Option<u64>,
    empty_keys_skipped: u64,
    /// Function libraries' code read and not yet taken, and how many in all.
    functions: Vec<Vec<u8>>,
    functions_read: u64,
    /// The last RESIZEDB seen and not yet taken: (db, number of keys).
    resize_hint: Option<(usize, u64)>,
    done: bool,
}

impl<R: Read> RdbReader<R> {
    /// Reads and validates the header (`REDIS` + 4-digit version 1..=10).
    pub fn new(inner: R) -> Result<Self, RdbError> {
        let mut src = Source { inner, offset: 0, digest: CRC64.digest() };
        let head: [u8; 9] = src.array()?;
        if &head[..5] != b"REDIS" {
            return Err(RdbError::new(0, "not an RDB file (bad magic)"));
        }
        let version = std::str::from_utf8(&head[5..])
            .ok()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u32>().ok())
            .ok_or_else(|| RdbError::new(5, "invalid RDB version"))?;
        if !(1..=RDB_VERSION).contains(&version) {
            return Err(RdbError::new(5, format!("unsupported RDB version {version}")));
        }
        Ok(Self::at(src, version, false))
    }

    /// A reader of one DUMP payload's value (no header: it starts at the
    /// type byte), for [`read_payload_value`](Self::read_payload_value).
    pub fn payload(inner: R, version: u32) -> Self {
        Self::at(Source { inner, offset: 0, digest: CRC64.digest() }, version, true)
    }

    /// A reader positioned in `src`, nothing read into its state yet.
    fn at(src: Source<R>, version: u32, done: bool) -> Self {
        RdbReader {
            src,
            version,
            aux: Vec::new(),
            db: 0,
            last_type: None,
            checksum: None,
            empty_keys_skipped: 0,
            functions: Vec::new(),
            functions_read: 0,
            resize_hint: None,
            done,
        }
    }

    /// The value a DUMP payload holds: its type byte, then the value as a
    /// file stores it after the key. An empty collection is an error here,
    /// as in Redis's RESTORE.
    pub fn read_payload_value(&mut self) -> Result<RdbValue, RdbError> {
        let t = self.src.u8()?;
        if !loadable(t) {
            return Err(unsupported(t, 0));
        }
        let value = self.value(t, 0)?;
        if is_empty(&value) {
            return Err(RdbError::new(self.src.offset, "empty collection"));
        }
        self.last_type = Some(t);
        Ok(value)
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// AUX fields seen so far (all of them once the reader is exhausted).
    pub fn aux(&self) -> &[(Vec<u8>, Vec<u8>)] {
        &self.aux
    }

    /// RDB type byte of the entry most recently returned.
    pub fn last_type(&self) -> Option<u8> {
        self.last_type
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.src.offset
    }

    /// The input, which may have been read (buffered) past `offset`.
    pub fn get_ref(&self) -> &R {
        &self.src.inner
    }

    /// Checksum stored at the end of the file, once reached (0 means the
    /// writer disabled checksums; files before version 5 have none).
    pub fn checksum(&self) -> Option<u64> {
        self.checksum
    }

    /// Empty collections, which Redis also skips when loading.
    pub fn empty_keys_skipped(&self) -> u64 {
        self.empty_keys_skipped
    }

    /// Function libraries read so far.
    pub fn functions_read(&self) -> u64 {
        self.functions_read
    }

    /// The code of the function libraries read since the last call (Redis
    /// writes them before the first db, so they come with the first key).
    pub fn take_functions(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.functions)
    }

    /// One library of a FUNCTION DUMP payload: its opcode, then its code.
    /// Err is Redis's error text.
    pub fn read_payload_function(&mut self) -> Result<Vec<u8>, String> {
        let op = self.src.u8().map_err(|_| "can not read data type".to_string())?;
        if op != opcode::FUNCTION2 && op != opcode::FUNCTION {
            return Err("given type is not a function".into());
        }
        self.function_code(op).map_err(|e| e.msg)
    }

    /// A library's code after its opcode: RDB_OPCODE_FUNCTION2's string, or
    /// what Redis 7.0's release candidates wrote (RDB_OPCODE_FUNCTION: name,
    /// engine, optional description and code), as the code with its shebang.
    fn function_code(&mut self, op: u8) -> Result<Vec<u8>, RdbError> {
        fn loading(what: &'static str) -> impl Fn(RdbError) -> RdbError {
            move |e| RdbError::new(e.offset, format!("Failed loading library {what}"))
        }
        if op == opcode::FUNCTION2 {
            return self.src.string().map_err(loading("payload"));
        }
        let name = self.src.string().map_err(loading("name"))?;
        let engine = self.src.string().map_err(loading("engine name"))?;
        if self.src.len().map_err(loading("description indicator"))? != 0 {
            self.src.string().map_err(loading("description"))?;
        }
        let blob = self.src.string().map_err(loading("blob"))?;
        let mut code = b"#!".to_vec();
        code.extend_from_slice(&engine);
        code.extend_from_slice(b" name=");
        code.extend_from_slice(&name);
        code.push(b'\n');
        code.extend_from_slice(&blob);
        Ok(code)
    }

    /// The key count a RESIZEDB announced for a db, once: lets the loader
    /// size the table up front instead of rehashing as it fills.
    pub fn take_resize_hint(&mut self) -> Option<(usize, u64)> {
        self.resize_hint.take()
    }

    /// The next key, or `None` after the EOF opcode (checksum verified).
    pub fn next_entry(&mut self) -> Result<Option<RdbEntry>, RdbError> {
        let mut expire_ms = None;
        while !self.done {
            let at = self.src.offset;
            let op = self.src.u8()?;
            match op {
                opcode::EXPIRETIME_MS => expire_ms = Some(i64::from_le_bytes(self.src.array()?)),
                opcode::EXPIRETIME => expire_ms = Some(i64::from(i32::from_le_bytes(self.src.array()?)) * 1000),
                opcode::FREQ => {
                    self.src.u8()?;
                }
                opcode::IDLE => {
                    self.src.len()?;
                }
                opcode::SELECTDB => {
                    let db = self.src.len()?;
                    self.db = usize::try_from(db).map_err(|_| RdbError::new(at, format!("invalid db number {db}")))?;
                }
                opcode::RESIZEDB => {
                    let keys = self.src.len()?;
                    self.src.len()?;
                    self.resize_hint = Some((self.db, keys));
                }
                opcode::AUX => {
                    let k = self.src.string()?;
                    let v = self.src.string()?;
                    self.aux.push((k, v));
                }
                opcode::FUNCTION2 | opcode::FUNCTION => {
                    let code = self.function_code(op)?;
                    self.functions.push(code);
                    self.functions_read += 1;
                }
                opcode::MODULE_AUX => {
                    return Err(RdbError::new(at, "unsupported opcode 247 (module aux data)"));
                }
                opcode::EOF => {
                    self.finish_eof()?;
                }
                t => {
                    if !loadable(t) {
                        return Err(unsupported(t, at));
                    }
                    let key = self.src.string()?;
                    let value = self.value(t, at)?;
                    if is_empty(&value) {
                        self.empty_keys_skipped += 1;
                        expire_ms = None;
                        continue;
                    }
                    self.last_type = Some(t);
                    return Ok(Some(RdbEntry { db: self.db, key, value, expire_ms }));
                }
            }
        }
        Ok(None)
    }

    fn finish_eof(&mut self) -> Result<(), RdbError> {
        self.done = true;
        if self.version < 5 {
            return Ok(());
        }
        let computed = std::mem::replace(&mut self.src.digest, CRC64.digest()).finalize();
        let at = self.src.offset;
        let mut b = [0u8; 8];
        self.src.fill(&mut b, false)?;
        let stored = u64::from_le_bytes(b);
        if stored != 0 && stored != computed {
            return Err(RdbError::new(
                at,
                // Redis logs "RDB CRC error": searches of the log for it work here too.
                format!("checksum mismatch (RDB CRC error): file has {stored:#018x}, computed {computed:#018x}"),
            ));
        }
        self.checksum = Some(stored);
        Ok(())
    }

    fn count(&mut self) -> Result<u64, RdbError> {
        self.src.len()
    }

    fn strings(&mut self) -> Result<Vec<Vec<u8>>, RdbError> {
        let n = self.count()?;
        let mut v = Vec::with_capacity((n as usize).min(PREALLOC_CAP));
        for _ in 0..n {
            v.push(self.src.string()?);
        }
        Ok(v)
    }

    fn value(&mut self, t: u8, at: u64) -> Result<RdbValue, RdbError> {
        use encodings as enc;
        let to_zset = |pairs: enc::Pairs| -> Result<RdbValue, String> {
            let members =
                pairs.into_iter().map(|(m, s)| enc::parse_score(&s).map(|s| (m, s))).collect::<Result<_, _>>()?;
            Ok(RdbValue::ZSet(members))
        };
        Ok(match t {
            ty::STRING => RdbValue::String(self.src.string()?),
            ty::LIST => RdbValue::List(self.strings()?),
            ty::SET => RdbValue::Set(self.strings()?),
            ty::ZSET | ty::ZSET_2 => {
                let n = self.count()?;
                let mut v = Vec::with_capacity((n as usize).min(PREALLOC_CAP));
                for _ in 0..n {
                    let m = self.src.string()?;
                    let score = if t == ty::ZSET_2 {
                        let s = f64::from_le_bytes(self.src.array()?);
                        if s.is_nan() {
                            return Err(self.src.err("sorted set score is NaN"));
                        }
                        s
                    } else {
                        self.src.text_score()?
                    };
                    v.push((m, score));
                }
                RdbValue::ZSet(v)
            }
            ty::HASH => {
                let n = self.count()?;
                let mut v = Vec::with_capacity((n as usize).min(PREALLOC_CAP));
                for _ in 0..n {
                    v.push((self.src.string()?, self.src.string()?));
                }
                RdbValue::Hash(v)
            }
            ty::HASH_ZIPMAP => RdbValue::Hash(self.src.blob(enc::zipmap)?),
            ty::LIST_ZIPLIST => RdbValue::List(self.src.blob(enc::ziplist)?),
            ty::SET_INTSET => RdbValue::Set(self.src.blob(enc::intset)?),
            ty::ZSET_ZIPLIST => self.src.blob(|b| to_zset(enc::pairs(enc::ziplist(b)?)?))?,
            ty::HASH_ZIPLIST => RdbValue::Hash(self.src.blob(|b| enc::pairs(enc::ziplist(b)?))?),
            ty::ZSET_LISTPACK => self.src.blob(|b| to_zset(enc::pairs(enc::listpack(b)?)?))?,
            ty::HASH_LISTPACK => RdbValue::Hash(self.src.blob(|b| enc::pairs(enc::listpack(b)?))?),
            ty::LIST_QUICKLIST | ty::LIST_QUICKLIST_2 => {
                let nodes = self.count()?;
                let mut items = Vec::new();
                for _ in 0..nodes {
                    let container = if t == ty::LIST_QUICKLIST_2 { self.src.len()? } else { QUICKLIST_PACKED };
                    match container {
                        QUICKLIST_PLAIN => items.push(self.src.string()?),
                        QUICKLIST_PACKED if t == ty::LIST_QUICKLIST => items.extend(self.src.blob(enc::ziplist)?),
                        QUICKLIST_PACKED => items.extend(self.src.blob(enc::listpack)?),
                        c => return Err(self.src.err(format!("invalid quicklist container {c}"))),
                    }
                }
                RdbValue::List(items)
            }
            ty::STREAM_LISTPACKS | ty::STREAM_LISTPACKS_2 => RdbValue::Stream(Box::new(self.stream(t)?)),
            _ => return Err(unsupported(t, at)),
        })
    }

    fn stream_id(&mut self) -> Result<StreamId, RdbError> {
        Ok(StreamId::new(self.src.len()?, self.src.len()?))
    }

    fn raw_id(&mut self) -> Result<StreamId, RdbError> {
        Ok(StreamId::from_be_bytes(self.src.array()?))
    }

    /// A stream (types 15 and 19): nodes, counters, consumer groups.
    fn stream(&mut self, t: u8) -> Result<RdbStream, RdbError> {
        let mut entries = Vec::new();
        for _ in 0..self.count()? {
            let at = self.src.offset;
            let key = self.src.string()?;
            let master: [u8; 16] = key
                .try_into()
                .map_err(|_| RdbError::new(at, "Stream node key entry is not the size of a stream ID"))?;
            let master = StreamId::from_be_bytes(master);
            let at = self.src.offset;
            let lp = self.src.string()?;
            decode_node(master, &lp, &mut entries).map_err(|m| RdbError::new(at, m))?;
        }
        let at = self.src.offset;
        let length = self.src.len()?;
        if length != entries.len() as u64 || !entries.windows(2).all(|w| w[0].0 < w[1].0) {
            return Err(RdbError::new(at, "stream length or entry order inconsistent with its nodes"));
        }
        let last_id = self.stream_id()?;
        let v2 = t == ty::STREAM_LISTPACKS_2;
        let meta = if v2 {
            StreamMeta {
                length,
                last_id,
                first_id: self.stream_id()?,
                max_deleted_id: self.stream_id()?,
                entries_added: self.src.len()?,
            }
        } else {
            let first_id = entries.first().map_or(StreamId::MIN, |e| e.0);
            StreamMeta { length, last_id, first_id, max_deleted_id: StreamId::MIN, entries_added: length }
        };
        let mut groups = Vec::new();
        for _ in 0..self.count()? {
            groups.push(self.group(v2)?);
        }
        Ok(RdbStream { meta, entries, groups })
    }

    fn group(&mut self, v2: bool) -> Result<RdbGroup, RdbError> {
        let name = self.src.string()?;
        let last_id = self.stream_id()?;
        // Files before type 19 leave it to be estimated: unknown here.
        let entries_read = if v2 { self.src.len()? as i64 } else { -1 };
        let mut pel = Vec::new();
        for _ in 0..self.count()? {
            let id = self.raw_id()?;
            let delivery_time = i64::from_le_bytes(self.src.array()?);
            pel.push(RdbNack { id, delivery_time, delivery_count: self.src.len()? });
        }
        let mut consumers = Vec::new();
        for _ in 0..self.count()? {
            let name = self.src.string()?;
            let seen_time = i64::from_le_bytes(self.src.array()?);
            let mut pending = Vec::new();
            for _ in 0..self.count()? {
                let at = self.src.offset;
                let id = self.raw_id()?;
                if pel.binary_search_by_key(&id, |n| n.id).is_err() {
                    return Err(RdbError::new(at, "Consumer entry not found in group global PEL"));
                }
                pending.push(id);
            }
            consumers.push(RdbConsumer { name, seen_time, pending });
        }
        Ok(RdbGroup { name, last_id, entries_read, pel, consumers })
    }
}

/// Value types this reader decodes.
fn loadable(t: u8) -> bool {
    matches!(t, 0..=5 | 9..=19)
}

fn unsupported(t: u8, at: u64) -> RdbError {
    let msg = match t {
        ty::MODULE | ty::MODULE_2 => {
            format!("unsupported type {t} (modules)")
        }
        _ => format!("unknown value type {t}"),
    };
    RdbError::new(at, msg)
}

fn is_empty(v: &RdbValue) -> bool {
    match v {
        RdbValue::String(_) => false,
        RdbValue::List(x) | RdbValue::Set(x) => x.is_empty(),
        RdbValue::Hash(x) => x.is_empty(),
        RdbValue::ZSet(x) => x.is_empty(),
        // Redis keeps (and loads) empty streams.
        RdbValue::Stream(_) => false,
    }
}

impl<R: Read> Iterator for RdbReader<R> {
    type Item = Result<RdbEntry, RdbError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_entry() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => None,
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
