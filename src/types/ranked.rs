//! The big sorted-set form (OBJECT ENCODING "skiplist"): entries sorted by
//! (score, member) in chunks of at most `MAX_CHUNK`, plus a member -> score
//! map. Chunks keep lookups cache-friendly without a skiplist's pointers.
//!
//! Complexity (n entries, C = n / chunk size chunks): score lookup O(1);
//! insert/delete O(log C + chunk) plus O(C) when a chunk splits or drains;
//! rank and positioning by rank or bound O(log C + log chunk), through a
//! Fenwick tree over the chunk lengths (Redis's skiplist: O(log n));
//! iteration O(1) per entry.

use super::fenwick::Fenwick;
use foldhash::fast::RandomState;
use hashbrown::HashMap;

/// Small in unit tests, so a few dozen entries already span many chunks.
const MAX_CHUNK: usize = if cfg!(test) { 8 } else { 256 };
/// A chunk that shrinks below this merges with its successor when they fit.
const MIN_CHUNK: usize = MAX_CHUNK / 4;

/// Whether (score, member) `a` sorts before `b`. Scores compare as floats,
/// so -0 and 0 tie and fall back to the member, as in Redis.
pub fn key_lt(a: (f64, &[u8]), b: (f64, &[u8])) -> bool {
    a.0 < b.0 || (a.0 == b.0 && a.1 < b.1)
}

type Entry = (f64, Box<[u8]>);

#[derive(Clone, Debug, Default)]
pub struct Ranked {
    chunks: Vec<Vec<Entry>>,
    /// The chunks' lengths, kept in step with every change to them.
    lengths: Fenwick,
    scores: HashMap<Box<[u8]>, f64, RandomState>,
}

impl Ranked {
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    /// Bytes allocated: the chunks' entries, the score map's slots, and each
    /// member twice (a chunk entry and the map both own a copy).
    pub fn heap_bytes(&self, samples: usize) -> usize {
        let chunk_bytes = self.chunks.iter().map(|c| c.capacity() * std::mem::size_of::<Entry>());
        let entries = super::sampled_bytes(self.chunks.len(), samples, chunk_bytes);
        let chunks = self.chunks.capacity() * std::mem::size_of::<Vec<Entry>>();
        let map_slot = std::mem::size_of::<(Box<[u8]>, f64)>() + 1;
        let members = super::sampled_bytes(self.len(), samples, self.scores.keys().map(|m| m.len()));
        entries + chunks + self.scores.capacity() * map_slot + 2 * members
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.scores.get(member).copied()
    }

    /// The number of leading entries for which `pred` holds; `pred` must
    /// hold for a prefix of the order and then never again.
    pub fn partition(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let ci = self.chunks.partition_point(|c| {
            let (s, m) = c.last().expect("chunks are never empty");
            pred(*s, m)
        });
        let before = self.lengths.prefix(ci);
        match self.chunks.get(ci) {
            Some(c) => before + c.partition_point(|(s, m)| pred(*s, m)),
            None => before,
        }
    }

    /// The chunk and in-chunk index of `rank` (< len).
    fn locate(&self, rank: usize) -> (usize, usize) {
        assert!(rank < self.len(), "rank out of range");
        self.lengths.find(rank)
    }

    /// After chunks were added, dropped or merged: O(C), like the move of
    /// the chunk list that such a change costs anyway.
    fn recount(&mut self) {
        self.lengths.rebuild(self.chunks.iter().map(Vec::len));
    }

    /// Where (score, member) sorts: the first chunk whose last entry is not
    /// before it (the last chunk when none), and the index within it.
    fn slot(&self, score: f64, member: &[u8]) -> (usize, usize) {
        let key = (score, member);
        let ci = self
            .chunks
            .partition_point(|c| key_lt(c.last().map(|(s, m)| (*s, &m[..])).expect("non-empty"), key))
            .min(self.chunks.len() - 1);
        let i = self.chunks[ci].partition_point(|(s, m)| key_lt((*s, m), key));
        (ci, i)
    }

    /// Adds `member`, which must be absent.
    pub fn insert(&mut self, member: &[u8], score: f64) {
        debug_assert!(!score.is_nan() && !self.scores.contains_key(member));
        self.scores.insert(member.into(), score);
        if self.chunks.is_empty() {
            self.chunks.push(vec![(score, member.into())]);
            return self.recount();
        }
        let (ci, i) = self.slot(score, member);
        self.chunks[ci].insert(i, (score, member.into()));
        if self.chunks[ci].len() > MAX_CHUNK {
            let tail = self.chunks[ci].split_off(MAX_CHUNK / 2);
            self.chunks.insert(ci + 1, tail);
            self.recount();
        } else {
            self.lengths.add(ci, 1);
        }
    }

    /// Removes `member`; its score when it was present.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let score = self.scores.remove(member)?;
        let (ci, i) = self.slot(score, member);
        self.chunks[ci].remove(i);
        self.lengths.add(ci, -1);
        self.tidy(ci);
        Some(score)
    }

    /// Drops chunk `ci` when empty, or merges it with its successor when both
    /// are small, so C stays near n / chunk size.
    fn tidy(&mut self, ci: usize) {
        let len = self.chunks[ci].len();
        if len == 0 {
            self.chunks.remove(ci);
            self.recount();
        } else if len < MIN_CHUNK && ci + 1 < self.chunks.len() && len + self.chunks[ci + 1].len() <= MAX_CHUNK {
            let next = self.chunks.remove(ci + 1);
            self.chunks[ci].extend(next);
            self.recount();
        }
    }

    /// Entries from `rank` on, ascending.
    pub fn iter_from(&self, rank: usize) -> impl Iterator<Item = (&[u8], f64)> {
        let (ci, i) = if rank < self.len() { self.locate(rank) } else { (self.chunks.len(), 0) };
        self.chunks[ci..]
            .iter()
            .enumerate()
            .flat_map(move |(k, c)| c[if k == 0 { i } else { 0 }..].iter())
            .map(|(s, m)| (&m[..], *s))
    }

    /// Entries from `rank` (< len) down to the first, descending.
    pub fn iter_rev_from(&self, rank: usize) -> impl Iterator<Item = (&[u8], f64)> {
        let (ci, i) = self.locate(rank);
        self.chunks[..=ci]
            .iter()
            .rev()
            .enumerate()
            .flat_map(move |(k, c)| c[..if k == 0 { i + 1 } else { c.len() }].iter().rev())
            .map(|(s, m)| (&m[..], *s))
    }

    /// Removes the entries of ranks `lo..hi` and returns them in order.
    pub fn remove_ranks(&mut self, lo: usize, hi: usize) -> Vec<(Vec<u8>, f64)> {
        let mut out = Vec::with_capacity(hi.saturating_sub(lo));
        if lo >= hi {
            return out;
        }
        let (first, i) = self.locate(lo);
        let (mut ci, mut left, mut from) = (first, hi - lo, i);
        while left > 0 {
            let c = &mut self.chunks[ci];
            let take = left.min(c.len() - from);
            for (s, m) in c.drain(from..from + take) {
                self.scores.remove(&m);
                out.push((m.into_vec(), s));
            }
            self.lengths.add(ci, -(take as isize));
            left -= take;
            from = 0;
            ci += 1;
        }
        // Only the chunks just touched can have drained.
        let drained = self.chunks[first..ci].iter().filter(|c| c.is_empty()).count();
        if drained > 0 {
            let kept: Vec<Vec<Entry>> = self.chunks.drain(first..ci).filter(|c| !c.is_empty()).collect();
            self.chunks.splice(first..first, kept);
            self.recount();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_across_chunks() {
        let mut r = Ranked::default();
        let n = 2000;
        for i in (0..n).rev() {
            r.insert(format!("m{i:05}").as_bytes(), (i / 10) as f64);
        }
        assert!(r.chunks.len() > 4);
        assert!(r.chunks.iter().all(|c| !c.is_empty() && c.len() <= MAX_CHUNK));
        let all: Vec<_> = r.iter_from(0).map(|(m, _)| m.to_vec()).collect();
        let want: Vec<_> = (0..n).map(|i| format!("m{i:05}").into_bytes()).collect();
        assert_eq!(all, want);
        assert_eq!(r.partition(|s, _| s < 50.0), 500);
        assert_eq!(r.iter_from(1999).count(), 1);
        assert_eq!(r.iter_from(2000).count(), 0);
        assert_eq!(r.iter_rev_from(499).next().unwrap().0, b"m00499");
        assert_eq!(r.iter_rev_from(499).count(), 500);
        for i in 0..n - 10 {
            assert_eq!(r.remove(format!("m{i:05}").as_bytes()), Some((i / 10) as f64));
        }
        assert_eq!(r.remove(b"m00000"), None);
        assert_eq!(r.len(), 10);
        assert!(r.chunks.len() <= 2, "drained chunks are dropped or merged");
        let gone = r.remove_ranks(2, 5);
        assert_eq!(
            gone.iter().map(|(m, _)| m.clone()).collect::<Vec<_>>(),
            ["m01992", "m01993", "m01994"].map(|s| s.as_bytes().to_vec())
        );
        assert_eq!(r.len(), 7);
        assert_eq!(r.score(b"m01993"), None);
    }
}
