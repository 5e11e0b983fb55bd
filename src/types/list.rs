//! List values: a quicklist, i.e. a deque of listpack nodes, each node capped
//! by `list-max-listpack-size` (bytes when negative, entries when positive).
//! Redis 7.0 reports every list as "quicklist".

use super::listpack::{entry_size, Listpack, Needle};
use super::{clamp_range, Elem};
use std::collections::VecDeque;

/// Redis's cap on a node's bytes when the fill is an entry count.
const SIZE_SAFETY_LIMIT: usize = 8192;

#[derive(Clone, Debug)]
pub struct List {
    nodes: VecDeque<Listpack>,
    len: usize,
    fill: i64,
}

impl Default for List {
    fn default() -> Self {
        List::new(-2)
    }
}

impl List {
    /// An empty list whose nodes follow `list_max_listpack_size`.
    pub fn new(list_max_listpack_size: i64) -> Self {
        List { nodes: VecDeque::new(), len: 0, fill: list_max_listpack_size }
    }

    /// A list of `items` in order (for loading).
    pub fn from_items<I, T>(list_max_listpack_size: i64, items: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let mut l = List::new(list_max_listpack_size);
        for v in items {
            l.push_back(v.as_ref());
        }
        l
    }

    /// Bytes allocated for the nodes and their entries, from the first
    /// `samples` nodes (0: all), as Redis's MEMORY USAGE samples a
    /// quicklist's nodes; scaled by entries, not nodes, so a part-filled
    /// node among the samples does not skew the estimate.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        let table = self.nodes.capacity() * std::mem::size_of::<Listpack>();
        let taken = if samples == 0 { self.nodes.len() } else { samples.min(self.nodes.len()) };
        let (bytes, entries) =
            self.nodes.iter().take(taken).fold((0, 0), |(b, n), lp| (b + lp.heap_bytes(), n + lp.len()));
        table + (bytes * self.len).checked_div(entries).unwrap_or(bytes)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Whether a node of `entries` entries and `bytes` bytes is within limits.
    fn within(&self, entries: usize, bytes: usize) -> bool {
        if self.fill < 0 {
            bytes <= 4096 << ((-self.fill).min(5) - 1)
        } else {
            entries <= self.fill.max(1) as usize && bytes <= SIZE_SAFETY_LIMIT
        }
    }

    /// Whether `node` may take one more entry of `extra` bytes. An empty node
    /// takes anything, so an oversized element gets a node of its own.
    fn fits(&self, node: &Listpack, extra: usize) -> bool {
        node.is_empty() || self.within(node.len() + 1, node.bytes() + extra)
    }

    /// Splits node `ni` in halves when an insert or replace grew it past the
    /// limit.
    fn split_if_over(&mut self, ni: usize) {
        let (len, bytes) = (self.nodes[ni].len(), self.nodes[ni].bytes());
        if len > 1 && !self.within(len, bytes) {
            let tail = self.nodes[ni].split_off(len / 2);
            self.nodes.insert(ni + 1, tail);
        }
    }

    pub fn push_back(&mut self, v: &[u8]) {
        match self.nodes.back() {
            Some(n) if self.fits(n, entry_size(v)) => self.nodes.back_mut().unwrap().push_back(v),
            _ => {
                let mut n = Listpack::new();
                n.push_back(v);
                self.nodes.push_back(n);
            }
        }
        self.len += 1;
    }

    pub fn push_front(&mut self, v: &[u8]) {
        match self.nodes.front() {
            Some(n) if self.fits(n, entry_size(v)) => self.nodes.front_mut().unwrap().push_front(v),
            _ => {
                let mut n = Listpack::new();
                n.push_front(v);
                self.nodes.push_front(n);
            }
        }
        self.len += 1;
    }

    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let node = self.nodes.front_mut()?;
        let v = node.pop_front();
        if node.is_empty() {
            self.nodes.pop_front();
        }
        self.len -= 1;
        v
    }

    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let node = self.nodes.back_mut()?;
        let v = node.pop_back();
        if node.is_empty() {
            self.nodes.pop_back();
        }
        self.len -= 1;
        v
    }

    /// Resolves a possibly negative index (from the tail) to a position.
    fn index(&self, index: i64) -> Option<usize> {
        let i = if index < 0 { index.checked_add(self.len as i64)? } else { index };
        usize::try_from(i).ok().filter(|&i| i < self.len)
    }

    /// The node and in-node position of element `i` (< len), walking from
    /// the nearer end.
    fn locate(&self, i: usize) -> (usize, usize) {
        let (mut ni, mut at) = (0, i);
        if i < self.len / 2 {
            while at >= self.nodes[ni].len() {
                at -= self.nodes[ni].len();
                ni += 1;
            }
        } else {
            let mut from_end = self.len - i;
            ni = self.nodes.len() - 1;
            while from_end > self.nodes[ni].len() {
                from_end -= self.nodes[ni].len();
                ni -= 1;
            }
            at = self.nodes[ni].len() - from_end;
        }
        (ni, self.nodes[ni].seek(at).expect("index within node"))
    }

    /// LINDEX: negative indexes count from the tail.
    pub fn get(&self, index: i64) -> Option<Elem<'_>> {
        let (ni, pos) = self.locate(self.index(index)?);
        Some(self.nodes[ni].get(pos))
    }

    /// LSET: false when the index is out of range.
    pub fn set(&mut self, index: i64, v: &[u8]) -> bool {
        let Some(i) = self.index(index) else {
            return false;
        };
        let (ni, pos) = self.locate(i);
        self.nodes[ni].replace(pos, v);
        self.split_if_over(ni);
        true
    }

    /// LRANGE: the inclusive range with LRANGE's index rules.
    pub fn range(&self, start: i64, stop: i64) -> Range<'_> {
        match clamp_range(start, stop, self.len) {
            Some((s, e)) => {
                let (ni, pos) = self.locate(s);
                Range { nodes: &self.nodes, ni, pos, left: e - s + 1 }
            }
            None => Range { nodes: &self.nodes, ni: 0, pos: 0, left: 0 },
        }
    }

    /// Head to tail.
    pub fn iter(&self) -> Range<'_> {
        Range { nodes: &self.nodes, ni: 0, pos: 0, left: self.len }
    }

    /// Tail to head.
    pub fn iter_rev(&self) -> impl Iterator<Item = Elem<'_>> {
        self.nodes.iter().rev().flat_map(|n| n.iter().rev())
    }

    /// LREM: removes up to |count| elements equal to `value`, from the head
    /// when count > 0, from the tail when count < 0, all when 0.
    pub fn remove(&mut self, count: i64, value: &[u8]) -> usize {
        let needle = Needle::new(value);
        let limit = if count == 0 { usize::MAX } else { count.unsigned_abs() as usize };
        let mut removed = 0;
        if count >= 0 {
            let mut ni = 0;
            while ni < self.nodes.len() && removed < limit {
                let node = &mut self.nodes[ni];
                let mut pos = node.first();
                while let Some(p) = pos.filter(|_| removed < limit) {
                    if needle.matches(node.get(p)) {
                        node.delete(p, 1);
                        removed += 1;
                        pos = (p < node.end()).then_some(p);
                    } else {
                        pos = node.next(p);
                    }
                }
                if node.is_empty() {
                    self.nodes.remove(ni);
                } else {
                    ni += 1;
                }
            }
        } else {
            let mut ni = self.nodes.len();
            while ni > 0 && removed < limit {
                ni -= 1;
                let node = &mut self.nodes[ni];
                let mut pos = node.last();
                while let Some(p) = pos.filter(|_| removed < limit) {
                    // The entry before `p` keeps its position when `p` goes.
                    pos = node.prev(p);
                    if needle.matches(node.get(p)) {
                        node.delete(p, 1);
                        removed += 1;
                    }
                }
                if node.is_empty() {
                    self.nodes.remove(ni);
                }
            }
        }
        self.len -= removed;
        removed
    }

    /// LTRIM: keeps only the inclusive range (LRANGE's index rules).
    pub fn trim(&mut self, start: i64, stop: i64) {
        let (front, back) = match clamp_range(start, stop, self.len) {
            Some((s, e)) => (s, self.len - 1 - e),
            None => (self.len, 0),
        };
        self.drop_front(front);
        self.drop_back(back);
    }

    fn drop_front(&mut self, mut n: usize) {
        self.len -= n;
        while n > 0 {
            let node = self.nodes.front_mut().expect("n <= len");
            if node.len() <= n {
                n -= node.len();
                self.nodes.pop_front();
            } else {
                node.delete(0, n);
                n = 0;
            }
        }
    }

    fn drop_back(&mut self, mut n: usize) {
        self.len -= n;
        while n > 0 {
            let node = self.nodes.back_mut().expect("n <= len");
            if node.len() <= n {
                n -= node.len();
                self.nodes.pop_back();
            } else {
                let p = node.seek(node.len() - n).expect("within node");
                node.delete(p, n);
                n = 0;
            }
        }
    }

    /// LINSERT: inserts `value` before or after the first `pivot` from the
    /// head; the new length, or `None` when the pivot is absent.
    pub fn insert(&mut self, before: bool, pivot: &[u8], value: &[u8]) -> Option<usize> {
        let needle = Needle::new(pivot);
        for ni in 0..self.nodes.len() {
            let node = &self.nodes[ni];
            let mut pos = node.first();
            while let Some(p) = pos {
                if needle.matches(node.get(p)) {
                    let at = if before { p } else { node.next(p).unwrap_or(node.end()) };
                    self.nodes[ni].insert(at, value);
                    self.len += 1;
                    self.split_if_over(ni);
                    return Some(self.len);
                }
                pos = node.next(p);
            }
        }
        None
    }

    /// LPOS: indexes (from the head) of elements equal to `value`. `rank`
    /// (never 0) skips the first |rank|-1 matches, searching from the tail
    /// when negative; `count` 0 means all matches; `maxlen` 0 means no limit
    /// on how many elements are compared.
    pub fn position(&self, value: &[u8], rank: i64, count: usize, maxlen: usize) -> Vec<usize> {
        debug_assert!(rank != 0, "callers reject RANK 0");
        let needle = Needle::new(value);
        let skip = (rank.unsigned_abs() as usize).saturating_sub(1);
        let scan = if maxlen == 0 { self.len } else { maxlen };
        let want = if count == 0 { usize::MAX } else { count };
        let last = self.len.wrapping_sub(1);
        let hits = |(j, e): (usize, Elem<'_>)| needle.matches(e).then_some(if rank > 0 { j } else { last - j });
        let found: Box<dyn Iterator<Item = usize>> = if rank > 0 {
            Box::new(self.iter().take(scan).enumerate().filter_map(hits))
        } else {
            Box::new(self.iter_rev().take(scan).enumerate().filter_map(hits))
        };
        found.skip(skip).take(want).collect()
    }
}

/// A forward run of list elements (LRANGE, iteration for persistence).
pub struct Range<'a> {
    nodes: &'a VecDeque<Listpack>,
    ni: usize,
    pos: usize,
    left: usize,
}

impl<'a> Iterator for Range<'a> {
    type Item = Elem<'a>;

    fn next(&mut self) -> Option<Elem<'a>> {
        if self.left == 0 {
            return None;
        }
        let node = &self.nodes[self.ni];
        let e = node.get(self.pos);
        match node.next(self.pos) {
            Some(p) => self.pos = p,
            None => (self.ni, self.pos) = (self.ni + 1, 0),
        }
        self.left -= 1;
        Some(e)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Range<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn texts<'a>(it: impl Iterator<Item = Elem<'a>>) -> Vec<Vec<u8>> {
        it.map(|e| e.to_vec()).collect()
    }

    fn list_of(fill: i64, items: &[&str]) -> List {
        List::from_items(fill, items.iter().map(|s| s.as_bytes()))
    }

    fn v(items: &[&str]) -> Vec<Vec<u8>> {
        items.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn pushes_pops_and_indexes() {
        let mut l = List::default();
        assert_eq!(l.encoding(), "quicklist");
        assert_eq!(l.pop_front(), None);
        assert_eq!(l.pop_back(), None);
        l.push_back(b"b");
        l.push_front(b"a");
        l.push_back(b"3");
        assert_eq!(l.len(), 3);
        assert!(l.get(0).unwrap().eq_bytes(b"a"));
        assert!(l.get(-1).unwrap().eq_bytes(b"3"));
        assert!(l.get(-3).unwrap().eq_bytes(b"a"));
        assert!(l.get(3).is_none() && l.get(-4).is_none() && l.get(i64::MIN).is_none());
        assert!(l.set(-1, b"c"));
        assert!(!l.set(3, b"x"));
        assert_eq!(texts(l.iter()), v(&["a", "b", "c"]));
        assert_eq!(texts(l.iter_rev()), v(&["c", "b", "a"]));
        assert_eq!(l.pop_back(), Some(b"c".to_vec()));
        assert_eq!(l.pop_front(), Some(b"a".to_vec()));
        assert_eq!(l.pop_front(), Some(b"b".to_vec()));
        assert!(l.is_empty());
        assert_eq!(l.nodes.len(), 0);
    }

    #[test]
    fn ranges_follow_lrange_rules() {
        let l = list_of(-2, &["a", "b", "c", "d"]);
        assert_eq!(texts(l.range(0, -1)), v(&["a", "b", "c", "d"]));
        assert_eq!(texts(l.range(1, 2)), v(&["b", "c"]));
        assert_eq!(texts(l.range(-2, 100)), v(&["c", "d"]));
        assert_eq!(l.range(2, 1).len(), 0);
        assert_eq!(l.range(4, 10).len(), 0);
        assert_eq!(List::default().range(0, -1).len(), 0);
    }

    #[test]
    fn nodes_respect_the_fill() {
        let mut l = List::new(3);
        for i in 0..10 {
            l.push_back(i.to_string().as_bytes());
        }
        assert_eq!(l.nodes.len(), 4);
        assert!(l.nodes.iter().all(|n| n.len() <= 3));
        // -1: 4 KB nodes; 100-byte elements take 102 bytes each.
        let mut l = List::new(-1);
        for _ in 0..100 {
            l.push_front(&[b'x'; 100]);
        }
        assert!(l.nodes.iter().all(|n| n.bytes() <= 4096));
        assert_eq!(l.nodes.len(), 3);
        // An element bigger than a node gets a node of its own.
        let mut l = List::new(-1);
        l.push_back(b"a");
        l.push_back(&[b'y'; 5000]);
        l.push_back(b"b");
        assert_eq!(l.nodes.len(), 3);
        assert_eq!(l.len(), 3);
    }

    #[test]
    fn inserts_and_splits() {
        let mut l = list_of(2, &["a", "b", "c"]);
        assert_eq!(l.insert(true, b"b", b"x"), Some(4));
        assert_eq!(l.insert(false, b"c", b"y"), Some(5));
        assert_eq!(l.insert(false, b"zz", b"y"), None);
        assert_eq!(texts(l.iter()), v(&["a", "x", "b", "c", "y"]));
        assert!(l.nodes.iter().all(|n| n.len() <= 2));
        assert!(l.set(0, &[b'q'; 9000]));
        assert_eq!(l.len(), 5);
    }

    #[test]
    fn removes_in_lrem_direction() {
        let items = ["a", "1", "a", "b", "a", "1"];
        let mut l = list_of(2, &items);
        assert_eq!(l.remove(2, b"a"), 2);
        assert_eq!(texts(l.iter()), v(&["1", "b", "a", "1"]));
        let mut l = list_of(2, &items);
        assert_eq!(l.remove(-2, b"a"), 2);
        assert_eq!(texts(l.iter()), v(&["a", "1", "b", "1"]));
        let mut l = list_of(2, &items);
        assert_eq!(l.remove(0, b"1"), 2);
        assert_eq!(l.remove(0, b"01"), 0);
        assert_eq!(texts(l.iter()), v(&["a", "a", "b", "a"]));
        assert_eq!(l.remove(-10, b"a"), 3);
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn trims_like_ltrim() {
        let mut l = list_of(2, &["a", "b", "c", "d", "e"]);
        l.trim(1, -2);
        assert_eq!(texts(l.iter()), v(&["b", "c", "d"]));
        l.trim(5, 10);
        assert!(l.is_empty());
        assert_eq!(l.nodes.len(), 0);
    }

    #[test]
    fn finds_positions_like_lpos() {
        let l = list_of(2, &["a", "b", "c", "1", "2", "3", "c", "c"]);
        assert_eq!(l.position(b"c", 1, 1, 0), vec![2]);
        assert_eq!(l.position(b"c", 2, 1, 0), vec![6]);
        assert_eq!(l.position(b"c", -1, 1, 0), vec![7]);
        assert_eq!(l.position(b"c", -1, 2, 0), vec![7, 6]);
        assert_eq!(l.position(b"c", 1, 0, 0), vec![2, 6, 7]);
        assert_eq!(l.position(b"c", 1, 0, 7), vec![2, 6]);
        assert_eq!(l.position(b"c", -1, 0, 2), vec![7, 6]);
        assert_eq!(l.position(b"2", 1, 1, 0), vec![4]);
        assert!(l.position(b"x", 1, 0, 0).is_empty());
        assert!(l.position(b"c", 4, 1, 0).is_empty());
    }

    #[derive(Clone, Debug)]
    enum Op {
        PushFront(u8),
        PushBack(u8),
        PopFront,
        PopBack,
        Set(i64, u8),
        Rem(i64, u8),
        Trim(i64, i64),
        Insert(bool, u8, u8),
    }

    /// Small alphabet so values repeat; 7 is a 300-byte value to force splits.
    fn value(b: u8) -> Vec<u8> {
        match b % 8 {
            7 => vec![b'L'; 300],
            6 => b"-42".to_vec(),
            n => n.to_string().into_bytes(),
        }
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            any::<u8>().prop_map(Op::PushFront),
            any::<u8>().prop_map(Op::PushBack),
            Just(Op::PopFront),
            Just(Op::PopBack),
            (-12i64..12, any::<u8>()).prop_map(|(i, b)| Op::Set(i, b)),
            (-3i64..3, any::<u8>()).prop_map(|(c, b)| Op::Rem(c, b)),
            (-12i64..12, -12i64..12).prop_map(|(a, b)| Op::Trim(a, b)),
            (any::<bool>(), any::<u8>(), any::<u8>()).prop_map(|(b, p, x)| Op::Insert(b, p, x)),
        ]
    }

    fn model_index(len: usize, i: i64) -> Option<usize> {
        let i = if i < 0 { i + len as i64 } else { i };
        (0..len as i64).contains(&i).then_some(i as usize)
    }

    proptest! {
        #[test]
        fn matches_a_vec_model(fill in prop_oneof![Just(-1i64), Just(1), Just(3)], ops in prop::collection::vec(op(), 1..150)) {
            let mut l = List::new(fill);
            let mut m: Vec<Vec<u8>> = Vec::new();
            for op in ops {
                match op {
                    Op::PushFront(b) => { l.push_front(&value(b)); m.insert(0, value(b)); }
                    Op::PushBack(b) => { l.push_back(&value(b)); m.push(value(b)); }
                    Op::PopFront => prop_assert_eq!(l.pop_front(), (!m.is_empty()).then(|| m.remove(0))),
                    Op::PopBack => prop_assert_eq!(l.pop_back(), m.pop()),
                    Op::Set(i, b) => {
                        let mi = model_index(m.len(), i);
                        prop_assert_eq!(l.set(i, &value(b)), mi.is_some());
                        if let Some(mi) = mi { m[mi] = value(b); }
                    }
                    Op::Rem(c, b) => {
                        let x = value(b);
                        let hits: Vec<usize> = (0..m.len()).filter(|&i| m[i] == x).collect();
                        let limit = if c == 0 { usize::MAX } else { c.unsigned_abs() as usize };
                        let gone: Vec<usize> = if c >= 0 { hits.into_iter().take(limit).collect() } else { hits.into_iter().rev().take(limit).collect() };
                        prop_assert_eq!(l.remove(c, &x), gone.len());
                        let mut i = 0;
                        m.retain(|_| { i += 1; !gone.contains(&(i - 1)) });
                    }
                    Op::Trim(a, b) => {
                        l.trim(a, b);
                        m = match clamp_range(a, b, m.len()) { Some((s, e)) => m[s..=e].to_vec(), None => vec![] };
                    }
                    Op::Insert(before, p, x) => {
                        let pos = m.iter().position(|e| *e == value(p));
                        if let Some(i) = pos { m.insert(if before { i } else { i + 1 }, value(x)); }
                        prop_assert_eq!(l.insert(before, &value(p), &value(x)), pos.map(|_| m.len()));
                    }
                }
                prop_assert_eq!(l.len(), m.len());
                prop_assert_eq!(l.nodes.iter().map(|n| n.len()).sum::<usize>(), m.len());
                prop_assert!(l.nodes.iter().all(|n| !n.is_empty()));
            }
            prop_assert_eq!(texts(l.iter()), m.clone());
            prop_assert_eq!(texts(l.iter_rev()), m.iter().rev().cloned().collect::<Vec<_>>());
            for i in -(m.len() as i64) - 1..=m.len() as i64 {
                prop_assert_eq!(l.get(i).map(|e| e.to_vec()), model_index(m.len(), i).map(|i| m[i].clone()));
                prop_assert_eq!(texts(l.range(i, i + 3)), match clamp_range(i, i + 3, m.len()) { Some((s, e)) => m[s..=e].to_vec(), None => vec![] });
            }
            let x = value(1);
            let all: Vec<usize> = (0..m.len()).filter(|&i| m[i] == x).collect();
            prop_assert_eq!(l.position(&x, 1, 0, 0), all.clone());
            prop_assert_eq!(l.position(&x, -1, 0, 0), all.iter().rev().cloned().collect::<Vec<_>>());
            prop_assert_eq!(l.position(&x, 2, 1, 0), all.get(1).cloned().into_iter().collect::<Vec<_>>());
        }
    }
}
