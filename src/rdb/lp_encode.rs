//! Builds listpacks in Redis's own byte layout (header, entries with the
//! smallest integer or string encoding, 0xFF end) for the RDB blobs that
//! must be listpacks: stream nodes. The decoder is `encodings::listpack`.

use super::encodings::backlen_size;
use crate::util::parse_i64;

/// Header: total bytes (u32) and entry count (u16, saturated).
const HEADER: usize = 6;
const END: u8 = 0xFF;

pub(crate) struct LpBuilder {
    buf: Vec<u8>,
    count: usize,
}

impl LpBuilder {
    pub fn new() -> Self {
        LpBuilder { buf: vec![0; HEADER], count: 0 }
    }

    /// Bytes the finished listpack will have.
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    /// Appends an element; integer text is stored as an integer, as Redis does.
    pub fn push(&mut self, v: &[u8]) {
        match parse_i64(v) {
            Some(n) => self.push_int(n),
            None => self.push_str(v),
        }
    }

    pub fn push_int(&mut self, n: i64) {
        let start = self.buf.len();
        match n {
            0..=127 => self.buf.push(n as u8),
            -4096..=4095 => {
                let u = (n as u64) & 0x1FFF;
                self.buf.extend_from_slice(&[0xC0 | (u >> 8) as u8, u as u8]);
            }
            _ => {
                let (tag, width) = match n {
                    -32768..=32767 => (0xF1, 2),
                    -8_388_608..=8_388_607 => (0xF2, 3),
                    _ if i32::try_from(n).is_ok() => (0xF3, 4),
                    _ => (0xF4, 8),
                };
                self.buf.push(tag);
                self.buf.extend_from_slice(&n.to_le_bytes()[..width]);
            }
        }
        self.end_entry(start);
    }

    fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        match s.len() {
            0..=63 => self.buf.push(0x80 | s.len() as u8),
            64..=4095 => self.buf.extend_from_slice(&[0xE0 | (s.len() >> 8) as u8, s.len() as u8]),
            _ => {
                self.buf.push(0xF0);
                self.buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
            }
        }
        self.buf.extend_from_slice(s);
        self.end_entry(start);
    }

    /// Writes the back-length of the entry that began at `start`: the
    /// highest 7-bit group first, every later byte flagged 0x80.
    fn end_entry(&mut self, start: usize) {
        let len = self.buf.len() - start;
        let n = backlen_size(len);
        for i in (0..n).rev() {
            let group = ((len >> (7 * i)) & 0x7F) as u8;
            self.buf.push(if i == n - 1 { group } else { group | 0x80 });
        }
        self.count += 1;
    }

    /// Overwrites the first element, a small integer, with another one of
    /// the same one-byte encoding.
    pub fn set_first(&mut self, n: u8) {
        assert!(self.count > 0 && self.buf[HEADER] < 0x80 && n < 0x80);
        self.buf[HEADER] = n;
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(END);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = self.count.min(u16::MAX as usize) as u16;
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::encodings::listpack;

    #[test]
    fn round_trips_through_the_decoder() {
        let big = "y".repeat(5000);
        let mid = "x".repeat(300);
        let items: Vec<String> = [
            "0",
            "127",
            "128",
            "-1",
            "-4096",
            "4095",
            "4096",
            "-32768",
            "32767",
            "8388607",
            "-8388609",
            "2147483647",
            "-2147483649",
            "9223372036854775807",
            "-9223372036854775808",
            "",
            "abc",
            "007",
            &mid,
            &big,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut lp = LpBuilder::new();
        for i in &items {
            lp.push(i.as_bytes());
        }
        let expected_len = lp.bytes();
        let blob = lp.finish();
        assert_eq!(blob.len(), expected_len);
        let back: Vec<String> = listpack(&blob).unwrap().into_iter().map(|v| String::from_utf8(v).unwrap()).collect();
        assert_eq!(back, items);
        // Redis's own bytes for a 3-entry listpack [1, "a", -2].
        let mut lp = LpBuilder::new();
        lp.push(b"1");
        lp.push(b"a");
        lp.push(b"-2");
        assert_eq!(lp.finish(), [15, 0, 0, 0, 3, 0, 1, 1, 0x81, b'a', 2, 0xDF, 0xFE, 2, 0xFF]);
    }
}
