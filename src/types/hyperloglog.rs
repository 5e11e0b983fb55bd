//! HyperLogLog sketches as Redis 7.0 stores them (hyperloglog.c): a plain
//! string with a 16-byte header ("HYLL", the encoding, three zero bytes,
//! the cached cardinality in little endian, its top bit set when stale),
//! then 16384 registers of 6 bits, either dense (packed, least significant
//! bits first) or sparse (run-length opcodes ZERO, XZERO and VAL). The
//! same adds give the same bytes as redis-server, so values move between
//! the two through RDB, AOF, GET/SET or DUMP, and PFCOUNT agrees.
//!
//! Everything here works on byte strings; nothing trusts them: a corrupted
//! sketch is reported as [`Corrupt`], never read out of bounds.

/// Header bytes before the registers.
pub const HEADER: usize = 16;
/// Bits of the hash that pick the register.
const P: u32 = 14;
/// Bits of the hash left to count zeros in.
const Q: u32 = 64 - P;
pub const REGISTERS: usize = 1 << P;
const REGISTER_BITS: usize = 6;
const REGISTER_MAX: u32 = (1 << REGISTER_BITS) - 1;
/// The length of a dense sketch.
pub const DENSE_SIZE: usize = HEADER + (REGISTERS * REGISTER_BITS).div_ceil(8);
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
const ENCODING: usize = 4;
/// The byte whose top bit marks the cached cardinality stale.
const CACHE_FLAG: usize = 15;

const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;

/// MurmurHash64A's seed in Redis.
const SEED: u64 = 0xadc8_3b19;
/// 0.5 / ln(2), the estimator's constant for an unbounded register count.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// A sketch whose sparse opcodes do not cover the registers exactly (or
/// with an unknown encoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// Redis's check before any HLL command (isHLLObjectOrReply): the magic,
/// a known encoding, and the exact length for a dense one. A string that
/// fails it is answered with WRONGTYPE.
pub fn is_hll(b: &[u8]) -> bool {
    b.len() >= HEADER && &b[..4] == b"HYLL" && b[ENCODING] <= SPARSE && (b[ENCODING] != DENSE || b.len() == DENSE_SIZE)
}

pub fn is_dense(b: &[u8]) -> bool {
    b[ENCODING] == DENSE
}

/// An empty sketch, as PFADD creates it: sparse, every register zero (one
/// XZERO opcode), cached cardinality 0.
pub fn new_sparse() -> Vec<u8> {
    let mut b = Vec::with_capacity(HEADER + 2);
    b.extend_from_slice(b"HYLL");
    b.push(SPARSE);
    b.resize(HEADER, 0);
    b.extend_from_slice(&xzero(REGISTERS));
    b
}

/// The cached cardinality, if it is valid.
pub fn cached(b: &[u8]) -> Option<u64> {
    (b[CACHE_FLAG] & 0x80 == 0).then(|| u64::from_le_bytes(b[8..16].try_into().expect("8 bytes")))
}

pub fn set_cached(b: &mut [u8], card: u64) {
    b[8..16].copy_from_slice(&card.to_le_bytes());
}

pub fn invalidate(b: &mut [u8]) {
    b[CACHE_FLAG] |= 0x80;
}

// ---- Hashing ----

/// MurmurHash2, 64-bit version, reading words in little endian as Redis
/// does on every architecture.
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut words = key.chunks_exact(8);
    for w in &mut words {
        let mut k = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element falls in and the length of the run of zeros
/// (plus the final one) in the rest of its hash: 1..=Q+1 (hllPatLen).
pub fn pattern(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> P) | (1 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ---- Dense registers ----

/// Register `i` of packed registers (the bytes after the header).
pub fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * REGISTER_BITS / 8;
    let shift = (i * REGISTER_BITS) & 7;
    let b0 = u32::from(regs[byte]);
    // The last register's next byte is Redis's string terminator: zero.
    let b1 = u32::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> shift) | (b1 << (8 - shift))) & REGISTER_MAX) as u8
}

pub fn dense_set(regs: &mut [u8], i: usize, value: u8) {
    let byte = i * REGISTER_BITS / 8;
    let shift = (i * REGISTER_BITS) & 7;
    let v = u32::from(value);
    regs[byte] &= !(REGISTER_MAX << shift) as u8;
    regs[byte] |= (v << shift) as u8;
    if let Some(next) = regs.get_mut(byte + 1) {
        *next &= !(REGISTER_MAX >> (8 - shift)) as u8;
        *next |= (v >> (8 - shift)) as u8;
    }
}

/// Raises register `i` to `count`; true if it was lower.
fn dense_raise(regs: &mut [u8], i: usize, count: u8) -> bool {
    let raise = count > dense_get(regs, i);
    if raise {
        dense_set(regs, i, count);
    }
    raise
}

// ---- Sparse opcodes ----

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    /// 00llllll: 1..=64 zero registers.
    Zero(usize),
    /// 01llllll llllllll: 1..=16384 zero registers.
    XZero(usize),
    /// 1vvvvvll: 1..=4 registers of value 1..=32.
    Val(u8, usize),
}

impl Op {
    /// The opcode at `p`. An XZERO cut off by the end reads its second byte
    /// as 0, as Redis reads its string's terminator.
    fn at(s: &[u8], p: usize) -> Op {
        let b = s[p];
        if b & 0xc0 == 0 {
            Op::Zero(usize::from(b & 0x3f) + 1)
        } else if b & 0x80 != 0 {
            Op::Val(((b >> 2) & 0x1f) + 1, usize::from(b & 0x3) + 1)
        } else {
            let low = usize::from(s.get(p + 1).copied().unwrap_or(0));
            Op::XZero((usize::from(b & 0x3f) << 8 | low) + 1)
        }
    }

    fn span(self) -> usize {
        match self {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        }
    }

    fn size(self) -> usize {
        if matches!(self, Op::XZero(_)) {
            2
        } else {
            1
        }
    }
}

fn val(value: u8, len: usize) -> u8 {
    0x80 | (value - 1) << 2 | (len - 1) as u8
}

fn zero(len: usize) -> u8 {
    (len - 1) as u8
}

fn xzero(len: usize) -> [u8; 2] {
    let l = len - 1;
    [0x40 | (l >> 8) as u8, (l & 0xff) as u8]
}

/// Appends the opcode for a run of `len` zeros: ZERO when it fits, else XZERO.
fn push_zeros(seq: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX_LEN {
        seq.extend_from_slice(&xzero(len));
    } else {
        seq.push(zero(len));
    }
}

/// The opcodes of a sparse sketch, each with its first register.
fn ops(b: &[u8]) -> impl Iterator<Item = (usize, Op)> + '_ {
    let mut p = HEADER;
    let mut first = 0;
    std::iter::from_fn(move || {
        if p >= b.len() {
            return None;
        }
        let op = Op::at(b, p);
        let at = first;
        p += op.size();
        first += op.span();
        Some((at, op))
    })
}

/// Calls `f(first, len, value)` for every run of non-zero registers of a
/// sparse sketch; Corrupt unless the opcodes cover the registers exactly,
/// none of them past the last (Redis 7.0.15 as Debian ships it, with the
/// fix for CVE-2025-32023, is that strict).
fn sparse_runs(b: &[u8], mut f: impl FnMut(usize, usize, u8)) -> Result<(), Corrupt> {
    let mut covered = 0;
    for (first, op) in ops(b) {
        covered = first + op.span();
        if covered > REGISTERS {
            return Err(Corrupt);
        }
        if let Op::Val(v, len) = op {
            f(first, len, v);
        }
    }
    if covered == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// Rewrites a sparse sketch as dense, header (and cached cardinality)
/// kept (hllSparseToDense); a dense one is left alone.
pub fn to_dense(b: &mut Vec<u8>) -> Result<(), Corrupt> {
    if b[ENCODING] == DENSE {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HEADER].copy_from_slice(&b[..HEADER]);
    dense[ENCODING] = DENSE;
    let regs = &mut dense[HEADER..];
    sparse_runs(b, |first, len, v| (first..first + len).for_each(|i| dense_set(regs, i, v)))?;
    *b = dense;
    Ok(())
}

/// Raises register `index` of a sparse sketch to `count` if it is lower,
/// splitting the opcode that covers it and merging equal neighbours after
/// (hllSparseSet). Promotes the sketch to dense when `count` does not fit
/// a VAL opcode or the string would grow past `max_bytes`. True if the
/// register changed.
fn sparse_set(b: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> Result<bool, Corrupt> {
    if count > VAL_MAX_VALUE {
        return promote(b, index, count);
    }
    // Step 1: the opcode covering the register.
    let mut p = HEADER;
    let mut first = 0;
    let mut prev = None;
    let mut found = None;
    while p < b.len() {
        let op = Op::at(b, p);
        if index < first + op.span() {
            found = Some(op);
            break;
        }
        prev = Some(p);
        p += op.size();
        first += op.span();
    }
    let Some(op) = found else { return Err(Corrupt) };
    // An XZERO cut off by the end: Redis reads its second byte from the
    // string's terminator, and the last byte of its replacement falls
    // past the end.
    let cut = p + op.size() > b.len();
    let last = first + op.span() - 1;

    // Step 2: the easy cases in place, else the opcode's replacement.
    let mut seq = Vec::with_capacity(5);
    match op {
        Op::Val(old, _) if old >= count => return Ok(false),
        Op::Val(_, 1) | Op::Zero(1) => b[p] = val(count, 1),
        Op::Zero(_) | Op::XZero(_) => {
            if index != first {
                push_zeros(&mut seq, index - first);
            }
            seq.push(val(count, 1));
            if index != last {
                push_zeros(&mut seq, last - index);
            }
        }
        Op::Val(old, _) => {
            if index != first {
                seq.push(val(old, index - first));
            }
            seq.push(val(count, 1));
            if index != last {
                seq.push(val(old, last - index));
            }
        }
    }
    // Step 3: the replacement in place of the opcode.
    if !seq.is_empty() {
        if seq.len() > op.size() && b.len() + seq.len() - op.size() > max_bytes {
            return promote(b, index, count);
        }
        if cut {
            b.push(0);
        }
        b.splice(p..p + op.size(), seq);
        if cut {
            b.pop();
        }
    }

    // Step 4: adjacent VALs of one value merged, up to 5 opcodes from the
    // one before the change.
    let mut p = prev.unwrap_or(HEADER);
    let mut scan = 5;
    while p < b.len() && scan > 0 {
        scan -= 1;
        match Op::at(b, p) {
            Op::XZero(_) => p += 2,
            Op::Zero(_) => p += 1,
            Op::Val(v1, l1) => {
                if let Some(Op::Val(v2, l2)) = b.get(p + 1).filter(|&&n| n & 0x80 != 0).map(|_| Op::at(b, p + 1)) {
                    if v1 == v2 && l1 + l2 <= VAL_MAX_LEN {
                        b[p + 1] = val(v1, l1 + l2);
                        b.remove(p);
                        // Again from here: the merged run may join the next.
                        continue;
                    }
                }
                p += 1;
            }
        }
    }
    invalidate(b);
    Ok(true)
}

/// The sparse sketch made dense, then the register raised (it is always
/// lower: a sparse register holds at most 32).
fn promote(b: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    to_dense(b)?;
    dense_raise(&mut b[HEADER..], index, count);
    Ok(true)
}

/// Adds an element (hllAdd): true if a register changed. The caller
/// invalidates the cached cardinality.
pub fn add(b: &mut Vec<u8>, ele: &[u8], max_bytes: usize) -> Result<bool, Corrupt> {
    let (index, count) = pattern(ele);
    raise(b, index, count, max_bytes)
}

/// Raises one register in either encoding.
fn raise(b: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> Result<bool, Corrupt> {
    match b[ENCODING] {
        DENSE => Ok(dense_raise(&mut b[HEADER..], index, count)),
        SPARSE => sparse_set(b, index, count, max_bytes),
        _ => Err(Corrupt),
    }
}

/// Raises every register of `b` to the one in `max` (PFMERGE's write);
/// a sparse sketch may turn dense on the way. Errors are ignored, as
/// Redis ignores them (the sketch was checked by merging it).
pub fn raise_all(b: &mut Vec<u8>, max: &[u8; REGISTERS], max_bytes: usize) {
    for (i, &v) in max.iter().enumerate() {
        if v != 0 {
            let _ = raise(b, i, v, max_bytes);
        }
    }
}

/// `max[i] = max(max[i], register i)` over a sketch (hllMerge).
pub fn merge(max: &mut [u8; REGISTERS], b: &[u8]) -> Result<(), Corrupt> {
    if b[ENCODING] == DENSE {
        let regs = &b[HEADER..];
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(regs, i));
        }
        return Ok(());
    }
    sparse_runs(b, |first, len, v| max[first..first + len].iter_mut().for_each(|m| *m = (*m).max(v)))
}

// ---- Counting ----

/// How many registers hold each value.
type Histogram = [u64; 64];

fn histogram(b: &[u8]) -> Result<Histogram, Corrupt> {
    let mut h = [0u64; 64];
    if b[ENCODING] == DENSE {
        // Four registers in every three bytes.
        for w in b[HEADER..DENSE_SIZE].chunks_exact(3) {
            let (b0, b1, b2) = (w[0], w[1], w[2]);
            h[usize::from(b0 & 63)] += 1;
            h[usize::from((b0 >> 6 | b1 << 2) & 63)] += 1;
            h[usize::from((b1 >> 4 | b2 << 4) & 63)] += 1;
            h[usize::from(b2 >> 2)] += 1;
        }
        return Ok(h);
    }
    // Every opcode counted, as hllSparseRegHisto does.
    let mut covered = 0;
    for (_, op) in ops(b) {
        let (value, len) = match op {
            Op::Zero(n) | Op::XZero(n) => (0, n),
            Op::Val(v, n) => (v, n),
        };
        h[usize::from(value)] += len as u64;
        covered += len;
    }
    if covered == REGISTERS {
        Ok(h)
    } else {
        Err(Corrupt)
    }
}

/// σ of Ertl's "New cardinality estimation algorithms for HyperLogLog
/// sketches" (arXiv:1702.01284).
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if before == z {
            return z;
        }
    }
}

/// τ of the same paper.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if before == z {
            return z / 3.0;
        }
    }
}

/// Ertl's improved estimator over the register histogram (hllCount).
fn estimate(h: &Histogram) -> u64 {
    let m = REGISTERS as f64;
    let q = Q as usize;
    let mut z = m * tau((m - h[q + 1] as f64) / m);
    for j in (1..=q).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// The estimated cardinality of a sketch (not its cache).
pub fn count(b: &[u8]) -> Result<u64, Corrupt> {
    histogram(b).map(|h| estimate(&h))
}

/// The estimated cardinality of registers one per byte (PFCOUNT's union).
pub fn count_registers(regs: &[u8; REGISTERS]) -> u64 {
    let mut h = [0u64; 64];
    regs.iter().for_each(|&r| h[usize::from(r & 63)] += 1);
    estimate(&h)
}

// ---- PFDEBUG, PFSELFTEST ----

/// Every register, dense sketches only.
pub fn registers(b: &[u8]) -> impl Iterator<Item = u8> + '_ {
    (0..REGISTERS).map(|i| dense_get(&b[HEADER..], i))
}

/// PFDEBUG DECODE's text of a sparse sketch: `z:len`, `Z:len`, `v:value,len`.
pub fn decode(b: &[u8]) -> String {
    let words: Vec<String> = ops(b)
        .map(|(_, op)| match op {
            Op::Zero(n) => format!("z:{n}"),
            Op::XZero(n) => format!("Z:{n}"),
            Op::Val(v, n) => format!("v:{v},{n}"),
        })
        .collect();
    words.join(" ")
}

/// PFSELFTEST: registers read back as written over `cycles` rounds of
/// random values, then `elements` distinct elements added to a dense and
/// a sparse sketch, whose estimates must agree and stay within six
/// standard errors at every power of ten.
pub fn self_test(cycles: usize, elements: u64, max_bytes: usize, mut rand: impl FnMut() -> u64) -> Result<(), String> {
    let mut dense = vec![0u8; DENSE_SIZE];
    let mut bytes = vec![0u8; REGISTERS];
    for _ in 0..cycles {
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = (rand() & u64::from(REGISTER_MAX)) as u8;
            dense_set(&mut dense[HEADER..], i, *byte);
        }
        for (i, &want) in bytes.iter().enumerate() {
            let got = dense_get(&dense[HEADER..], i);
            if got != want {
                return Err(format!("TESTFAILED Register {i} should be {want} but is {got}"));
            }
        }
    }
    dense[HEADER..].fill(0);
    let mut sparse = new_sparse();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint = 1;
    let seed = rand();
    for j in 1..=elements {
        let ele = (j ^ seed).to_le_bytes();
        let (index, run) = pattern(&ele);
        dense_raise(&mut dense[HEADER..], index, run);
        raise(&mut sparse, index, run, max_bytes).map_err(|_| "TESTFAILED sparse HLL corrupted".to_string())?;
        if j != checkpoint {
            continue;
        }
        if j < max_bytes as u64 / 2 && sparse[ENCODING] != SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let card = count(&dense).expect("a dense sketch");
        if count(&sparse) != Ok(card) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let max_err = if j == 10 { 1 } else { (relerr * 6.0 * checkpoint as f64).ceil() as u64 };
        let err = checkpoint.abs_diff(card);
        if err > max_err {
            return Err(format!("TESTFAILED Too big error. card:{checkpoint} abserr:{err}"));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(elements: impl IntoIterator<Item = String>, max_bytes: usize) -> Vec<u8> {
        let mut b = new_sparse();
        for e in elements {
            add(&mut b, e.as_bytes(), max_bytes).unwrap();
        }
        b
    }

    #[test]
    fn murmur_matches_redis() {
        // Values from Redis's MurmurHash64A (seed 0xadc83b19) compiled as C.
        assert_eq!(murmur64a(b"", SEED), 0xd8df_ea65_85bc_9732);
        assert_eq!(murmur64a(b"a", SEED), 0x53d2_470a_9b43_b1a7);
        assert_eq!(murmur64a(b"hello world", SEED), 0xa919_bc30_51f6_24b7);
        assert_eq!(murmur64a(b"0123456789abcdef0", SEED), 0xca18_02fd_45a1_ff6c);
    }

    #[test]
    fn the_constant_is_redis_one() {
        // Redis's HLL_ALPHA_INF literal, as a C compiler rounds it.
        assert_eq!(ALPHA_INF, "0.721347520444481703680".parse::<f64>().unwrap());
    }

    #[test]
    fn a_new_sketch_is_one_xzero() {
        let b = new_sparse();
        assert_eq!(b, b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff");
        assert!(is_hll(&b));
        assert_eq!(cached(&b), Some(0));
        assert_eq!(count(&b), Ok(0));
        assert_eq!(decode(&b), "Z:16384");
    }

    #[test]
    fn validity_checks_are_redis_ones() {
        let mut b = new_sparse();
        assert!(is_hll(&b));
        b[0] = b'h';
        assert!(!is_hll(&b), "magic");
        let mut b = new_sparse();
        b[4] = 2;
        assert!(!is_hll(&b), "encoding");
        b[4] = DENSE;
        assert!(!is_hll(&b), "dense of the wrong length");
        assert!(!is_hll(b"HYLL\x01"));
        let mut d = new_sparse();
        to_dense(&mut d).unwrap();
        assert_eq!(d.len(), DENSE_SIZE);
        assert!(is_hll(&d));
    }

    #[test]
    fn dense_registers_do_not_disturb_neighbours() {
        let mut regs = vec![0u8; DENSE_SIZE - HEADER];
        let mut rng = crate::util::Rng::seeded();
        let mut want = vec![0u8; REGISTERS];
        for (i, w) in want.iter_mut().enumerate() {
            *w = (rng.next_u64() & 63) as u8;
            dense_set(&mut regs, i, *w);
        }
        for (i, &w) in want.iter().enumerate() {
            assert_eq!(dense_get(&regs, i), w, "register {i}");
        }
        let mut h = [0u64; 64];
        want.iter().for_each(|&w| h[w as usize] += 1);
        let mut b = vec![0u8; HEADER];
        b.extend_from_slice(&regs);
        assert_eq!(histogram(&b).unwrap(), h);
    }

    #[test]
    fn sparse_and_dense_agree_and_promotion_happens() {
        for n in [0, 1, 5, 100, 1000, 3000, 20_000] {
            let elements = || (0..n).map(|i| format!("e{i}"));
            let sparse = with(elements(), 3000);
            let mut dense = new_sparse();
            to_dense(&mut dense).unwrap();
            for e in elements() {
                add(&mut dense, e.as_bytes(), 3000).unwrap();
            }
            assert_eq!(count(&sparse), count(&dense), "{n} elements");
            let mut converted = sparse.clone();
            to_dense(&mut converted).unwrap();
            assert_eq!(converted[HEADER..], dense[HEADER..], "{n} elements");
            if n <= 1000 {
                assert!(!is_dense(&sparse), "{n} elements stay sparse");
                assert!(sparse.len() <= 3000);
            }
            if n >= 3000 {
                assert!(is_dense(&sparse), "{n} elements are dense");
            }
        }
    }

    #[test]
    fn bytes_match_redis_server() {
        // PFADD k e0 … e9 on redis-server 7.0.15, GET k, then PFCOUNT k, GET k.
        let mut b = with((0..10).map(|i| format!("e{i}")), 3000);
        let ops = b"E%\x80G.\x84O\xc9\x80D\x12\x84JQ\x84C\r\x84A\x03\x84N\xb9\x84@\x88\x80@j\x84A\xb1";
        invalidate(&mut b);
        assert_eq!(b[..HEADER], *b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80");
        assert_eq!(b[HEADER..], ops[..]);
        assert_eq!(
            decode(&b),
            "Z:1318 v:1,1 Z:1839 v:2,1 Z:4042 v:1,1 Z:1043 v:2,1 Z:2642 v:2,1 Z:782 v:2,1 Z:260 v:2,1 \
             Z:3770 v:2,1 Z:137 v:1,1 Z:107 v:2,1 Z:434"
        );
        assert_eq!(count(&b), Ok(10));
        set_cached(&mut b, 10);
        assert_eq!(b[..HEADER], *b"HYLL\x01\0\0\0\n\0\0\0\0\0\0\0");
        assert_eq!(cached(&b), Some(10));
    }

    #[test]
    fn estimates_match_redis_server() {
        // PFADD key e0 … e(n-1) then PFCOUNT key on redis-server 7.0.15.
        for (n, want) in [(1, 1), (10, 10), (100, 100), (1000, 1008), (10_000, 9973), (100_000, 100_853)] {
            let b = with((0..n).map(|i| format!("e{i}")), 3000);
            assert_eq!(count(&b), Ok(want), "{n} elements");
        }
    }

    #[test]
    fn corrupted_sparse_sketches_are_reported() {
        let good = with((0..50).map(|i| i.to_string()), 3000);
        let mut tail = good.clone();
        tail.extend_from_slice(b"hello");
        assert_eq!(count(&tail), Err(Corrupt));
        assert_eq!(merge(&mut [0; REGISTERS], &tail), Err(Corrupt));
        assert_eq!(to_dense(&mut tail.clone()), Err(Corrupt));
        let mut short = good.clone();
        short.truncate(HEADER + 3);
        assert_eq!(count(&short), Err(Corrupt));
        // Nothing at all, and an XZERO missing its second byte.
        let mut empty = new_sparse();
        empty.truncate(HEADER);
        assert_eq!(add(&mut empty, b"x", 3000), Err(Corrupt));
        // An XZERO without its second byte covers 0x3f00 + 1 registers,
        // the missing byte read as 0; a register in them is set as Redis
        // sets it, the replacement's last byte lost past the end.
        let mut cut = new_sparse();
        cut.pop();
        let (index, run) = pattern(b"a");
        assert!(index < 0x3f01 && index > ZERO_MAX_LEN);
        assert_eq!(add(&mut cut, b"a", 3000), Ok(true));
        let mut want = new_sparse();
        want.truncate(HEADER);
        want.extend_from_slice(&xzero(index));
        want.push(val(run, 1));
        want.push(xzero(0x3f00 - index)[0]);
        invalidate(&mut want);
        assert_eq!(cut, want);
        // Every byte value in every position: no panic.
        for pos in HEADER..good.len() {
            for byte in 0..=255u8 {
                let mut b = good.clone();
                b[pos] = byte;
                let _ = count(&b);
                let _ = merge(&mut [0; REGISTERS], &b);
                let _ = add(&mut b.clone(), b"elem", 3000);
                let _ = to_dense(&mut b);
            }
        }
    }

    #[test]
    fn union_counts_from_raw_registers() {
        let a = with((0..500).map(|i| format!("a{i}")), 3000);
        let b = with((0..500).map(|i| format!("b{i}")), 3000);
        let mut max = [0u8; REGISTERS];
        merge(&mut max, &a).unwrap();
        merge(&mut max, &b).unwrap();
        let both = with((0..500).flat_map(|i| [format!("a{i}"), format!("b{i}")]), 3000);
        assert_eq!(count_registers(&max), count(&both).unwrap());
        let mut merged = new_sparse();
        raise_all(&mut merged, &max, 3000);
        assert_eq!(count(&merged), count(&both));
    }

    #[test]
    fn self_test_passes() {
        let mut rng = crate::util::Rng::seeded();
        assert_eq!(self_test(3, 100_000, 3000, || rng.next_u64()), Ok(()));
    }
}
