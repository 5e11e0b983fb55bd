//! LZF (liblzf format), as used by Redis for strings in RDB files.
//!
//! Own implementation rather than the `lzf` crate: that one allocates and
//! zeroes a 512 KiB hash table per call, which is far too costly when a
//! snapshot compresses millions of short strings. Here the table is reused
//! and only the part sized for the input is cleared.

/// Longest back-reference distance the format can express.
const MAX_OFF: usize = 1 << 13;
/// Longest match: 7 + 255 in the length fields, plus the implicit 2.
const MAX_REF: usize = 264;
/// Longest literal run per control byte.
const MAX_LIT: usize = 32;
const MAX_HLOG: u32 = 14;

/// Reusable LZF compressor state (hash table and output buffer).
#[derive(Default)]
pub(crate) struct Lzf {
    table: Vec<u32>,
    out: Vec<u8>,
}

impl Lzf {
    /// Compresses `input`, returning `None` unless the result fits in
    /// `max_out` bytes (Redis only stores a string compressed when that
    /// saves at least 4 bytes).
    pub(crate) fn compress(&mut self, input: &[u8], max_out: usize) -> Option<&[u8]> {
        let n = input.len();
        if n < 4 || max_out == 0 {
            return None;
        }
        let hlog = (usize::BITS - (n - 1).leading_zeros()).clamp(8, MAX_HLOG);
        let size = 1usize << hlog;
        if self.table.len() < size {
            self.table.resize(size, 0);
        }
        let table = &mut self.table[..size];
        table.fill(0);
        self.out.clear();

        let hash = |p: usize| {
            let v = u32::from(input[p]) << 16 | u32::from(input[p + 1]) << 8 | u32::from(input[p + 2]);
            (v.wrapping_mul(2654435761) >> (32 - hlog)) as usize
        };
        let mut lit_start = 0;
        let mut ip = 0;
        while ip + 2 < n {
            let h = hash(ip);
            let cand = table[h] as usize;
            table[h] = ip as u32 + 1; // 0 marks an empty slot
            if cand > 0 {
                let r = cand - 1;
                if ip - r <= MAX_OFF && input[r..r + 3] == input[ip..ip + 3] {
                    let max = (n - ip).min(MAX_REF);
                    let mut len = 3;
                    while len < max && input[r + len] == input[ip + len] {
                        len += 1;
                    }
                    emit_literals(&mut self.out, &input[lit_start..ip]);
                    emit_backref(&mut self.out, ip - r - 1, len);
                    if self.out.len() > max_out {
                        return None;
                    }
                    ip += len;
                    lit_start = ip;
                    continue;
                }
            }
            ip += 1;
        }
        emit_literals(&mut self.out, &input[lit_start..]);
        (self.out.len() <= max_out).then_some(&self.out[..])
    }
}

fn emit_literals(out: &mut Vec<u8>, lit: &[u8]) {
    for chunk in lit.chunks(MAX_LIT) {
        out.push(chunk.len() as u8 - 1);
        out.extend_from_slice(chunk);
    }
}

/// `dist` is the distance minus one; `len` is the full match length (>= 3).
fn emit_backref(out: &mut Vec<u8>, dist: usize, len: usize) {
    let l = len - 2;
    let hi = (dist >> 8) as u8;
    if l < 7 {
        out.push((l as u8) << 5 | hi);
    } else {
        out.push(7 << 5 | hi);
        out.push((l - 7) as u8);
    }
    out.push(dist as u8);
}

/// Decompresses LZF data that must expand to exactly `expected` bytes.
/// Allocation grows with the actual output, never trusting `expected`.
pub(crate) fn decompress(input: &[u8], expected: usize) -> Result<Vec<u8>, String> {
    let corrupt = || "corrupt LZF data".to_string();
    let mut out: Vec<u8> = Vec::with_capacity(expected.min(input.len().saturating_mul(4)));
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 32 {
            let run = input.get(ip..ip + ctrl + 1).ok_or_else(corrupt)?;
            if out.len() + run.len() > expected {
                return Err(corrupt());
            }
            out.extend_from_slice(run);
            ip += ctrl + 1;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(ip).ok_or_else(corrupt)?);
                ip += 1;
            }
            len += 2;
            let low = usize::from(*input.get(ip).ok_or_else(corrupt)?);
            ip += 1;
            let dist = ((ctrl & 0x1F) << 8 | low) + 1;
            if dist > out.len() || out.len() + len > expected {
                return Err(corrupt());
            }
            // Byte by byte: the source may overlap the bytes being produced.
            let start = out.len() - dist;
            for i in 0..len {
                out.push(out[start + i]);
            }
        }
    }
    if out.len() != expected {
        return Err(corrupt());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn compresses_repetitive_data() {
        let mut lzf = Lzf::default();
        let data = b"abcabcabcabcabcabcabcabcabcabcabcabcxyzxyzxyzxyz".repeat(20);
        let c = lzf.compress(&data, data.len() - 4).unwrap().to_vec();
        assert!(c.len() < data.len() / 4);
        assert_eq!(decompress(&c, data.len()).unwrap(), data);
        assert!(decompress(&c, data.len() + 1).is_err());
        assert!(decompress(&c, data.len() - 1).is_err());
    }

    #[test]
    fn incompressible_data_is_refused() {
        let mut lzf = Lzf::default();
        let data: Vec<u8> = (0..=255u8).collect();
        assert!(lzf.compress(&data, data.len() - 4).is_none());
    }

    #[test]
    fn decoder_rejects_garbage_without_panicking() {
        assert!(decompress(&[0x20, 0x00], 10).is_err()); // reference before start
        assert!(decompress(&[0x05, b'a'], 6).is_err()); // short literal run
        assert!(decompress(&[0xE0], 10).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(data in proptest::collection::vec(0u8..4, 0..3000)) {
            let mut lzf = Lzf::default();
            if let Some(c) = lzf.compress(&data, data.len()) {
                let c = c.to_vec();
                prop_assert_eq!(decompress(&c, data.len()).unwrap(), data);
            }
        }

        #[test]
        fn decoder_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64), n in 0usize..200) {
            let _ = decompress(&data, n);
        }
    }
}
