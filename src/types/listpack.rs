//! A listpack: entries packed in one byte buffer, walkable both ways. Used for
//! quicklist nodes and small hashes and sorted sets.
//!
//! Entry layout: `header payload backlen`.
//! - header `0x00..=0x7f`: the integer 0..=127, no payload
//! - header `0x80 | n` (n < 64): a string of n bytes
//! - header `0xc0`/`0xc1`/`0xc2`: an i16/i32/i64, little endian
//! - header `0xc3`: a string whose u32 LE length follows
//! - backlen: the size of `header payload` in 7-bit groups; the last byte holds
//!   the lowest group and bit 7 marks "more groups before", so it reads
//!   backwards from the next entry's start.
//!
//! Strings that are the canonical text of an i64 are stored as integers (as
//! Redis does), so a string entry never holds integer text. Positions are
//! byte offsets of entry starts; `buf.len()` is the end position.

use super::Elem;
use crate::util::parse_i64;

const STR6: u8 = 0x80;
const I16: u8 = 0xc0;
const I32: u8 = 0xc1;
const I64: u8 = 0xc2;
const STR32: u8 = 0xc3;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listpack {
    buf: Vec<u8>,
    len: usize,
}

/// A value to look up, pre-parsed so each comparison is a cheap match.
pub struct Needle<'a> {
    bytes: &'a [u8],
    int: Option<i64>,
}

impl<'a> Needle<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Needle { bytes, int: parse_i64(bytes) }
    }

    /// Only valid for listpack elements, whose strings are never integer text.
    pub fn matches(&self, e: Elem<'_>) -> bool {
        match e {
            Elem::Int(n) => self.int == Some(n),
            Elem::Str(s) => self.int.is_none() && s == self.bytes,
        }
    }
}

fn backlen_size(l: usize) -> usize {
    match l {
        0..=0x7f => 1,
        0x80..=0x3fff => 2,
        0x4000..=0x1f_ffff => 3,
        0x20_0000..=0xfff_ffff => 4,
        _ => 5,
    }
}

/// Header and payload size of `v`'s entry.
fn body_size(v: &[u8]) -> usize {
    match parse_i64(v) {
        Some(0..=127) => 1,
        Some(n) if i16::try_from(n).is_ok() => 3,
        Some(n) if i32::try_from(n).is_ok() => 5,
        Some(_) => 9,
        None if v.len() < 64 => 1 + v.len(),
        None => 5 + v.len(),
    }
}

/// The full encoded size of `v`'s entry.
pub fn entry_size(v: &[u8]) -> usize {
    let b = body_size(v);
    b + backlen_size(b)
}

/// Writes `v`'s entry into `dst`, which is exactly `entry_size(v)` long.
fn write_entry(v: &[u8], dst: &mut [u8]) {
    let body = body_size(v);
    match parse_i64(v) {
        Some(n @ 0..=127) => dst[0] = n as u8,
        Some(n) if body == 3 => {
            dst[0] = I16;
            dst[1..3].copy_from_slice(&(n as i16).to_le_bytes());
        }
        Some(n) if body == 5 => {
            dst[0] = I32;
            dst[1..5].copy_from_slice(&(n as i32).to_le_bytes());
        }
        Some(n) => {
            dst[0] = I64;
            dst[1..9].copy_from_slice(&n.to_le_bytes());
        }
        None if v.len() < 64 => {
            dst[0] = STR6 | v.len() as u8;
            dst[1..body].copy_from_slice(v);
        }
        None => {
            dst[0] = STR32;
            dst[1..5].copy_from_slice(&(v.len() as u32).to_le_bytes());
            dst[5..body].copy_from_slice(v);
        }
    }
    let back = &mut dst[body..];
    let n = back.len();
    for (i, byte) in back.iter_mut().enumerate() {
        let group = ((body >> (7 * (n - 1 - i))) & 0x7f) as u8;
        *byte = if i == 0 { group } else { group | 0x80 };
    }
}

impl Listpack {
    pub fn new() -> Self {
        Listpack::default()
    }

    /// Number of entries.
    /// Bytes allocated for the encoded entries.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Size of the packed entries in bytes.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// The end position (one past the last entry).
    pub fn end(&self) -> usize {
        self.buf.len()
    }

    fn body_at(&self, pos: usize) -> usize {
        let b = &self.buf[pos..];
        match b[0] {
            0..=0x7f => 1,
            h @ 0x80..=0xbf => 1 + (h & 0x3f) as usize,
            I16 => 3,
            I32 => 5,
            I64 => 9,
            _ => 5 + u32::from_le_bytes([b[1], b[2], b[3], b[4]]) as usize,
        }
    }

    fn size_at(&self, pos: usize) -> usize {
        let b = self.body_at(pos);
        b + backlen_size(b)
    }

    /// The element at `pos`.
    pub fn get(&self, pos: usize) -> Elem<'_> {
        let b = &self.buf[pos..];
        match b[0] {
            h @ 0..=0x7f => Elem::Int(i64::from(h)),
            h @ 0x80..=0xbf => Elem::Str(&b[1..1 + (h & 0x3f) as usize]),
            I16 => Elem::Int(i64::from(i16::from_le_bytes([b[1], b[2]]))),
            I32 => Elem::Int(i64::from(i32::from_le_bytes([b[1], b[2], b[3], b[4]]))),
            I64 => Elem::Int(i64::from_le_bytes(b[1..9].try_into().unwrap())),
            _ => {
                let n = u32::from_le_bytes([b[1], b[2], b[3], b[4]]) as usize;
                Elem::Str(&b[5..5 + n])
            }
        }
    }

    pub fn first(&self) -> Option<usize> {
        (!self.is_empty()).then_some(0)
    }

    pub fn last(&self) -> Option<usize> {
        self.prev(self.buf.len())
    }

    /// The entry after `pos`, if any.
    pub fn next(&self, pos: usize) -> Option<usize> {
        let n = pos + self.size_at(pos);
        (n < self.buf.len()).then_some(n)
    }

    /// The entry before `pos` (`pos` may be `end()`), if any.
    pub fn prev(&self, pos: usize) -> Option<usize> {
        if pos == 0 {
            return None;
        }
        let (mut p, mut body, mut shift) = (pos - 1, 0usize, 0);
        loop {
            let byte = self.buf[p];
            body |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            p -= 1;
            shift += 7;
        }
        Some(p - body)
    }

    /// The position of entry `index`, walking from the nearer end.
    pub fn seek(&self, index: usize) -> Option<usize> {
        if index >= self.len {
            return None;
        }
        if index <= self.len / 2 {
            let mut p = 0;
            for _ in 0..index {
                p += self.size_at(p);
            }
            Some(p)
        } else {
            let mut p = self.buf.len();
            for _ in index..self.len {
                p = self.prev(p)?;
            }
            Some(p)
        }
    }

    /// Replaces `old` bytes at `pos` with a gap of `new` bytes.
    fn resize_gap(&mut self, pos: usize, old: usize, new: usize) {
        if new > old {
            self.buf.reserve_exact(new - old);
            let tail = self.buf.len();
            self.buf.resize(tail + new - old, 0);
            self.buf.copy_within(pos + old..tail, pos + new);
        } else if new < old {
            self.buf.drain(pos + new..pos + old);
            // Give memory back after big deletions (entries are never stale).
            if self.buf.capacity() > 2 * self.buf.len() + 64 {
                self.buf.shrink_to_fit();
            }
        }
    }

    /// Inserts `v` as a new entry at `pos` (`end()` appends).
    pub fn insert(&mut self, pos: usize, v: &[u8]) {
        let size = entry_size(v);
        self.resize_gap(pos, 0, size);
        write_entry(v, &mut self.buf[pos..pos + size]);
        self.len += 1;
    }

    pub fn push_back(&mut self, v: &[u8]) {
        self.insert(self.buf.len(), v);
    }

    pub fn push_front(&mut self, v: &[u8]) {
        self.insert(0, v);
    }

    /// Overwrites the entry at `pos` with `v`.
    pub fn replace(&mut self, pos: usize, v: &[u8]) {
        let (old, new) = (self.size_at(pos), entry_size(v));
        self.resize_gap(pos, old, new);
        write_entry(v, &mut self.buf[pos..pos + new]);
    }

    /// Deletes `count` entries starting at `pos` (fewer if it reaches the
    /// end); the entry after them is now at `pos`.
    pub fn delete(&mut self, pos: usize, count: usize) {
        let mut end = pos;
        let mut n = 0;
        while n < count && end < self.buf.len() {
            end += self.size_at(end);
            n += 1;
        }
        self.resize_gap(pos, end - pos, 0);
        self.len -= n;
    }

    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let v = self.get(self.first()?).to_vec();
        self.delete(0, 1);
        Some(v)
    }

    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let p = self.last()?;
        let v = self.get(p).to_vec();
        self.buf.truncate(p);
        self.len -= 1;
        Some(v)
    }

    /// Keeps the first `index` entries and returns the rest as a new listpack.
    pub fn split_off(&mut self, index: usize) -> Listpack {
        let Some(pos) = self.seek(index) else {
            return Listpack::new();
        };
        let tail = Listpack { buf: self.buf[pos..].to_vec(), len: self.len - index };
        self.buf.truncate(pos);
        self.buf.shrink_to_fit();
        self.len = index;
        tail
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter { lp: self, front: 0, back: self.buf.len(), left: self.len }
    }
}

/// Iterates entries both ways.
pub struct Iter<'a> {
    lp: &'a Listpack,
    front: usize,
    back: usize,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Elem<'a>;

    fn next(&mut self) -> Option<Elem<'a>> {
        if self.left == 0 {
            return None;
        }
        let e = self.lp.get(self.front);
        self.front += self.lp.size_at(self.front);
        self.left -= 1;
        Some(e)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.back = self.lp.prev(self.back)?;
        self.left -= 1;
        Some(self.lp.get(self.back))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lp: &Listpack) -> Vec<Vec<u8>> {
        lp.iter().map(|e| e.to_vec()).collect()
    }

    fn samples() -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = ["0", "127", "128", "-1", "-32768", "32768", "-2147483649", "9223372036854775807"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        v.extend([b"".to_vec(), b"007".to_vec(), b"-0".to_vec(), b"abc".to_vec(), vec![b'x'; 63], vec![b'y'; 64]]);
        v.extend([vec![b'z'; 200], vec![b'w'; 20000]]);
        v
    }

    #[test]
    fn round_trips_every_encoding_both_ways() {
        let mut lp = Listpack::new();
        let s = samples();
        for v in &s {
            lp.push_back(v);
        }
        assert_eq!(lp.len(), s.len());
        assert_eq!(texts(&lp), s);
        let back: Vec<Vec<u8>> = lp.iter().rev().map(|e| e.to_vec()).collect();
        assert_eq!(back, s.iter().rev().cloned().collect::<Vec<_>>());
        for (i, v) in s.iter().enumerate() {
            assert!(lp.get(lp.seek(i).unwrap()).eq_bytes(v), "index {i}");
        }
        assert_eq!(lp.seek(s.len()), None);
        assert!(matches!(lp.get(0), Elem::Int(0)));
        assert!(matches!(lp.get(lp.seek(9).unwrap()), Elem::Str(b"007")));
    }

    #[test]
    fn integers_are_compact() {
        let mut lp = Listpack::new();
        lp.push_back(b"5");
        assert_eq!(lp.bytes(), 2);
        lp.push_back(b"1000");
        assert_eq!(lp.bytes(), 2 + 4);
        lp.push_back(b"hello");
        assert_eq!(lp.bytes(), 2 + 4 + 7);
    }

    #[test]
    fn inserts_replaces_and_deletes() {
        let mut lp = Listpack::new();
        for v in [b"a", b"b", b"c", b"d"] {
            lp.push_back(v);
        }
        lp.push_front(b"1");
        let p = lp.seek(2).unwrap();
        lp.insert(p, &[b'L'; 300]);
        let p = lp.seek(1).unwrap();
        lp.replace(p, b"long-replacement-value-that-is-longer");
        let p = lp.seek(2).unwrap();
        lp.replace(p, b"s");
        assert_eq!(
            texts(&lp),
            vec![
                b"1".to_vec(),
                b"long-replacement-value-that-is-longer".to_vec(),
                b"s".to_vec(),
                b"b".to_vec(),
                b"c".to_vec(),
                b"d".to_vec()
            ]
        );
        lp.delete(lp.seek(1).unwrap(), 2);
        assert_eq!(texts(&lp), vec![b"1".to_vec(), b"b".to_vec(), b"c".to_vec(), b"d".to_vec()]);
        lp.delete(lp.seek(3).unwrap(), 10);
        assert_eq!(lp.len(), 3);
        assert_eq!(lp.pop_back(), Some(b"c".to_vec()));
        assert_eq!(lp.pop_front(), Some(b"1".to_vec()));
        assert_eq!(lp.pop_front(), Some(b"b".to_vec()));
        assert_eq!(lp.pop_front(), None);
        assert_eq!(lp.pop_back(), None);
        assert_eq!(lp.bytes(), 0);
        assert_eq!(lp.last(), None);
    }

    #[test]
    fn splits() {
        let mut lp = Listpack::new();
        for v in samples() {
            lp.push_back(&v);
        }
        let all = texts(&lp);
        let tail = lp.split_off(5);
        assert_eq!(lp.len(), 5);
        assert_eq!(texts(&tail), all[5..].to_vec());
        assert_eq!(texts(&lp), all[..5].to_vec());
        assert!(lp.split_off(lp.len()).is_empty());
    }

    #[test]
    fn iterates_from_both_ends_and_meets_in_the_middle() {
        let mut lp = Listpack::new();
        for v in [b"a", b"b", b"c"] {
            lp.push_back(v);
        }
        let mut it = lp.iter();
        assert!(it.next().unwrap().eq_bytes(b"a"));
        assert!(it.next_back().unwrap().eq_bytes(b"c"));
        assert!(it.next().unwrap().eq_bytes(b"b"));
        assert!(it.next_back().is_none());
        assert!(it.next().is_none());
    }

    #[test]
    fn needles_match_by_text() {
        let mut lp = Listpack::new();
        lp.push_back(b"12");
        lp.push_back(b"x");
        assert!(Needle::new(b"12").matches(lp.get(0)));
        assert!(!Needle::new(b"012").matches(lp.get(0)));
        assert!(Needle::new(b"x").matches(lp.get(lp.seek(1).unwrap())));
    }

    #[test]
    fn backlen_covers_large_entries() {
        for size in [0usize, 62, 63, 122, 123, 126, 127, 128, 16379, 16380, 16384, 3_000_000] {
            let mut lp = Listpack::new();
            let big = vec![b'q'; size];
            lp.push_back(b"head");
            lp.push_back(&big);
            lp.push_back(b"tail");
            let rev: Vec<_> = lp.iter().rev().map(|e| e.len()).collect();
            assert_eq!(rev, vec![4, size, 4], "size {size}");
        }
    }
}
