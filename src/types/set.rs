//! Set values: an intset while every member is an integer and there are at
//! most `set-max-intset-entries`, else a hash table (Redis 7.0 has no listpack
//! sets). The table is an insertion-indexed set so random picks and SPOP are
//! O(1) and SSCAN can walk indexes (see `scan_indices`).

use super::intset::IntSet;
use super::{sample_indices, scan_indices, Elem, Limits};
use crate::util::{parse_i64, Rng};
use foldhash::fast::RandomState;
use indexmap::IndexSet;

type Table = IndexSet<Box<[u8]>, RandomState>;

#[derive(Clone, Debug)]
enum Repr {
    Ints(IntSet),
    Table(Table),
}

#[derive(Clone, Debug)]
pub struct Set {
    repr: Repr,
}

impl Default for Set {
    fn default() -> Self {
        Set { repr: Repr::Ints(IntSet::new()) }
    }
}

impl Set {
    pub fn new() -> Self {
        Set::default()
    }

    /// A set of `members` (for loading), an intset when they fit.
    pub fn from_members<I, T>(members: I, limits: &Limits) -> Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let mut s = Set::new();
        for m in members {
            s.add(m.as_ref(), limits);
        }
        s
    }

    /// Bytes allocated: the intset, or the table's slots (an index and an
    /// entry of hash and member each) and the members.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        match &self.repr {
            Repr::Ints(ints) => ints.heap_bytes(),
            Repr::Table(t) => {
                let slot = std::mem::size_of::<usize>() * 2 + std::mem::size_of::<Box<[u8]>>() + 1;
                t.capacity() * slot + super::sampled_bytes(t.len(), samples, t.iter().map(|m| m.len()))
            }
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Ints(s) => s.len(),
            Repr::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Ints(_) => "intset",
            Repr::Table(_) => "hashtable",
        }
    }

    fn convert(&mut self) {
        if let Repr::Ints(s) = &self.repr {
            let mut t = Table::with_capacity_and_hasher(s.len() + 1, RandomState::default());
            t.extend(s.iter().map(|n| Elem::Int(n).to_vec().into_boxed_slice()));
            self.repr = Repr::Table(t);
        }
    }

    /// SADD: true when `member` is new.
    pub fn add(&mut self, member: &[u8], limits: &Limits) -> bool {
        if let Repr::Ints(s) = &mut self.repr {
            if let Some(n) = parse_i64(member) {
                if s.contains(n) {
                    return false;
                }
                if s.len() < limits.set_max_intset_entries {
                    return s.insert(n);
                }
            }
            self.convert();
        }
        match &mut self.repr {
            Repr::Table(t) => t.insert(member.into()),
            Repr::Ints(_) => unreachable!("converted above"),
        }
    }

    /// SREM: true when `member` was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Ints(s) => parse_i64(member).is_some_and(|n| s.remove(n)),
            Repr::Table(t) => t.swap_remove(member),
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match &self.repr {
            Repr::Ints(s) => parse_i64(member).is_some_and(|n| s.contains(n)),
            Repr::Table(t) => t.contains(member),
        }
    }

    /// The member at index `i` (< len): sorted order for an intset.
    fn at(&self, i: usize) -> Elem<'_> {
        match &self.repr {
            Repr::Ints(s) => Elem::Int(s.get(i)),
            Repr::Table(t) => Elem::Str(&t[i]),
        }
    }

    /// All members: ascending for an intset, arbitrary for a table.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Elem<'_>> {
        (0..self.len()).map(|i| self.at(i))
    }

    /// SRANDMEMBER without a count.
    pub fn random_member(&self, rng: &mut Rng) -> Option<Elem<'_>> {
        (!self.is_empty()).then(|| self.at(rng.below(self.len())))
    }

    /// SRANDMEMBER with a positive count: `count` distinct members (all
    /// when count >= len).
    pub fn random_members(&self, count: usize, rng: &mut Rng) -> Vec<Elem<'_>> {
        sample_indices(self.len(), count, rng).into_iter().map(|i| self.at(i)).collect()
    }

    /// SRANDMEMBER with a negative count: members drawn with replacement,
    /// handed to `take` one at a time for as long as it returns true.
    pub fn draw_members(&self, rng: &mut Rng, mut take: impl FnMut(Elem<'_>) -> bool) {
        if !self.is_empty() {
            while take(self.at(rng.below(self.len()))) {}
        }
    }

    fn remove_at(&mut self, i: usize) -> Vec<u8> {
        match &mut self.repr {
            Repr::Ints(s) => Elem::Int(s.remove_at(i)).to_vec(),
            Repr::Table(t) => t.swap_remove_index(i).expect("index < len").into_vec(),
        }
    }

    /// SPOP without a count.
    pub fn pop_random(&mut self, rng: &mut Rng) -> Option<Vec<u8>> {
        (!self.is_empty()).then(|| self.remove_at(rng.below(self.len())))
    }

    /// SPOP with a count: removes and returns up to `count` random members.
    pub fn pop_random_many(&mut self, count: usize, rng: &mut Rng) -> Vec<Vec<u8>> {
        if count >= self.len() {
            let all = self.iter().map(|e| e.to_vec()).collect();
            *self = Set::new();
            return all;
        }
        (0..count).map(|_| self.remove_at(rng.below(self.len()))).collect()
    }

    /// SSCAN step: the next cursor (0 when done) and the members visited. An
    /// intset returns everything at once with cursor 0, as Redis does.
    pub fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<Elem<'_>>) {
        match &self.repr {
            Repr::Ints(_) => (0, self.iter().collect()),
            Repr::Table(t) => {
                let (next, range) = scan_indices(cursor, count, t.len());
                (next, range.rev().map(|i| self.at(i)).collect())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn small() -> Limits {
        Limits { set_max_intset_entries: 4, ..Limits::default() }
    }

    fn members(s: &Set) -> BTreeSet<Vec<u8>> {
        s.iter().map(|e| e.to_vec()).collect()
    }

    #[test]
    fn adds_removes_and_contains_in_both_encodings() {
        for big in [false, true] {
            let lim = small();
            let mut s = Set::new();
            if big {
                s.add(b"x", &lim);
                s.remove(b"x");
            }
            assert_eq!(s.encoding(), if big { "hashtable" } else { "intset" });
            assert!(s.add(b"5", &lim));
            assert!(s.add(b"-70000", &lim));
            assert!(!s.add(b"5", &lim));
            assert!(s.contains(b"5") && s.contains(b"-70000"));
            assert!(!s.contains(b"05") && !s.contains(b"6") && !s.contains(b"x"));
            assert!(!s.remove(b"05"));
            assert!(s.remove(b"5"));
            assert!(!s.remove(b"5"));
            assert_eq!(members(&s), BTreeSet::from([b"-70000".to_vec()]));
            assert_eq!(s.len(), 1);
        }
    }

    #[test]
    fn converts_at_the_exact_thresholds() {
        let lim = small();
        let mut s = Set::from_members(["3", "1", "2", "4"], &lim);
        assert_eq!(s.encoding(), "intset");
        assert_eq!(s.iter().map(|e| e.to_vec()).collect::<Vec<_>>(), [b"1", b"2", b"3", b"4"]);
        assert!(!s.add(b"4", &lim));
        assert_eq!(s.encoding(), "intset", "a duplicate does not grow it");
        assert!(s.add(b"5", &lim));
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 5);
        let mut s = Set::from_members(["1"], &lim);
        s.add(b"01", &lim);
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(members(&s), BTreeSet::from([b"1".to_vec(), b"01".to_vec()]));
        s.remove(b"01");
        assert_eq!(s.encoding(), "hashtable", "never converts back");
    }

    #[test]
    fn samples_and_pops() {
        let mut rng = Rng::seeded();
        for n in [3usize, 40] {
            let mut s = Set::from_members((0..n).map(|i| i.to_string()), &small());
            let picked = s.random_members(2, &mut rng);
            assert_ne!(picked[0], picked[1]);
            assert_eq!(s.random_members(100, &mut rng).len(), n);
            let mut drawn = 0;
            s.draw_members(&mut rng, |m| {
                assert!(s.contains(&m.to_vec()));
                drawn += 1;
                drawn < 100
            });
            assert_eq!(drawn, 100);
            assert!(s.contains(&s.random_member(&mut rng).unwrap().to_vec()));
            let p = s.pop_random(&mut rng).unwrap();
            assert!(!s.contains(&p));
            let many = s.pop_random_many(2, &mut rng);
            assert_eq!(many.len(), 2);
            assert_eq!(s.len(), n - 3);
            let rest = s.pop_random_many(100, &mut rng);
            assert_eq!(rest.len(), n - 3);
            assert!(s.is_empty());
            assert!(s.pop_random(&mut rng).is_none());
            assert!(s.random_member(&mut rng).is_none());
        }
    }

    #[test]
    fn scans_return_everything_present_throughout() {
        let lim = small();
        assert_eq!(Set::from_members(["1", "2"], &lim).scan(0, 1).0, 0);
        let mut s = Set::from_members((0..100).map(|i| format!("m{i}")), &lim);
        let (mut cursor, mut seen, mut round) = (0, BTreeSet::new(), 0);
        loop {
            let (next, got) = s.scan(cursor, 5);
            seen.extend(got.iter().map(|e| e.to_vec()));
            s.remove(format!("m{}", round % 50).as_bytes());
            s.add(format!("n{round}").as_bytes(), &lim);
            round += 1;
            if next == 0 {
                break;
            }
            cursor = next;
        }
        for i in 50..100 {
            assert!(seen.contains(format!("m{i}").as_bytes()));
        }
    }
}
