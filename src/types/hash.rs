//! Hash values: a listpack of field, value pairs while small, else a hash
//! table; never converted back (as Redis). The table is an insertion-indexed
//! map so HRANDFIELD picks in O(1) and HSCAN can walk indexes (see
//! `scan_indices`).

use super::listpack::{Listpack, Needle};
use super::{sample_indices, scan_indices, Elem, Limits};
use crate::util::Rng;
use foldhash::fast::RandomState;
use indexmap::IndexMap;

type Table = IndexMap<Box<[u8]>, Box<[u8]>, RandomState>;

#[derive(Clone, Debug)]
enum Repr {
    Pack(Listpack),
    Table(Table),
}

#[derive(Clone, Debug)]
pub struct Hash {
    repr: Repr,
}

impl Default for Hash {
    fn default() -> Self {
        Hash { repr: Repr::Pack(Listpack::new()) }
    }
}

/// A field and its value.
pub type Pair<'a> = (Elem<'a>, Elem<'a>);

fn fits(limits: &Limits, field: &[u8], value: &[u8]) -> bool {
    field.len() <= limits.hash_max_listpack_value && value.len() <= limits.hash_max_listpack_value
}

impl Hash {
    pub fn new() -> Self {
        Hash::default()
    }

    /// A hash of `pairs` (for loading), compact when it fits the limits;
    /// later duplicates of a field overwrite earlier ones.
    pub fn from_pairs<I, F, V>(pairs: I, limits: &Limits) -> Self
    where
        I: IntoIterator<Item = (F, V)>,
        F: AsRef<[u8]>,
        V: AsRef<[u8]>,
    {
        let mut h = Hash::new();
        for (f, v) in pairs {
            h.set(f.as_ref(), v.as_ref(), limits);
        }
        h
    }

    /// Bytes allocated: the listpack, or the table's slots (an index and an
    /// entry of hash, field and value each) and the fields and values.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        match &self.repr {
            Repr::Pack(lp) => lp.heap_bytes(),
            Repr::Table(t) => {
                let slot = std::mem::size_of::<usize>() * 2 + std::mem::size_of::<Box<[u8]>>() * 2 + 1;
                t.capacity() * slot + super::sampled_bytes(t.len(), samples, t.iter().map(|(f, v)| f.len() + v.len()))
            }
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Pack(lp) => lp.len() / 2,
            Repr::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Pack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Position of `field`'s entry in the listpack.
    fn find(lp: &Listpack, field: &[u8]) -> Option<usize> {
        let needle = Needle::new(field);
        let mut pos = lp.first();
        while let Some(p) = pos {
            if needle.matches(lp.get(p)) {
                return Some(p);
            }
            pos = lp.next(lp.next(p)?);
        }
        None
    }

    fn convert(&mut self) {
        if let Repr::Pack(lp) = &self.repr {
            let mut t = Table::with_capacity_and_hasher(lp.len() / 2 + 1, RandomState::default());
            let mut it = lp.iter();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                t.insert(f.to_vec().into(), v.to_vec().into());
            }
            self.repr = Repr::Table(t);
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<Elem<'_>> {
        match &self.repr {
            Repr::Pack(lp) => Some(lp.get(lp.next(Self::find(lp, field)?)?)),
            Repr::Table(t) => t.get(field).map(|v| Elem::Str(v)),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        match &self.repr {
            Repr::Pack(lp) => Self::find(lp, field).is_some(),
            Repr::Table(t) => t.contains_key(field),
        }
    }

    /// HSTRLEN: the value's length, `None` when the field is absent.
    pub fn strlen(&self, field: &[u8]) -> Option<usize> {
        self.get(field).map(|v| v.len())
    }

    /// HSET: sets `field`; true when the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: &Limits) -> bool {
        if let Repr::Pack(lp) = &mut self.repr {
            if fits(limits, field, value) {
                if let Some(p) = Self::find(lp, field) {
                    let vp = lp.next(p).expect("a field has a value");
                    lp.replace(vp, value);
                    return false;
                }
                if lp.len() / 2 < limits.hash_max_listpack_entries {
                    lp.push_back(field);
                    lp.push_back(value);
                    return true;
                }
            }
            self.convert();
        }
        match &mut self.repr {
            Repr::Table(t) => t.insert(field.into(), value.into()).is_none(),
            Repr::Pack(_) => unreachable!("converted above"),
        }
    }

    /// HSETNX: sets `field` only when absent; true when set.
    pub fn set_nx(&mut self, field: &[u8], value: &[u8], limits: &Limits) -> bool {
        !self.contains(field) && self.set(field, value, limits)
    }

    /// HDEL: true when the field existed.
    pub fn delete(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Pack(lp) => match Self::find(lp, field) {
                Some(p) => {
                    lp.delete(p, 2);
                    true
                }
                None => false,
            },
            Repr::Table(t) => t.swap_remove(field).is_some(),
        }
    }

    /// All pairs; listpack order is insertion order.
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Pack(lp) => Iter::Pack(lp.iter()),
            Repr::Table(t) => Iter::Table(t.iter()),
        }
    }

    /// The pair at index `i` of the table (listpacks go through `iter`).
    fn table_pair(t: &Table, i: usize) -> Pair<'_> {
        let (f, v) = t.get_index(i).expect("index < len");
        (Elem::Str(f), Elem::Str(v))
    }

    /// HRANDFIELD without a count: one random pair.
    pub fn random_pair(&self, rng: &mut Rng) -> Option<Pair<'_>> {
        let mut pick = None;
        self.draw_pairs(rng, |p| {
            pick = Some(p);
            false
        });
        pick
    }

    /// HRANDFIELD with a negative count: pairs drawn with replacement,
    /// handed to `take` one at a time for as long as it returns true.
    pub fn draw_pairs<'a>(&'a self, rng: &mut Rng, mut take: impl FnMut(Pair<'a>) -> bool) {
        if self.is_empty() {
            return;
        }
        match &self.repr {
            Repr::Pack(_) => {
                let all: Vec<Pair<'_>> = self.iter().collect();
                while take(all[rng.below(all.len())]) {}
            }
            Repr::Table(t) => while take(Self::table_pair(t, rng.below(t.len()))) {},
        }
    }

    /// HRANDFIELD with a positive count: `count` distinct pairs (all when
    /// count >= len).
    pub fn random_pairs(&self, count: usize, rng: &mut Rng) -> Vec<Pair<'_>> {
        let picks = sample_indices(self.len(), count, rng);
        match &self.repr {
            Repr::Pack(_) => {
                let all: Vec<Pair<'_>> = self.iter().collect();
                picks.into_iter().map(|i| all[i]).collect()
            }
            Repr::Table(t) => picks.into_iter().map(|i| Self::table_pair(t, i)).collect(),
        }
    }

    /// HSCAN step: returns the next cursor (0 when done) and the pairs
    /// visited. A listpack returns everything at once with cursor 0, as
    /// Redis does; a table walks its indexes downward (see `scan_indices`).
    pub fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<Pair<'_>>) {
        match &self.repr {
            Repr::Pack(_) => (0, self.iter().collect()),
            Repr::Table(t) => {
                let (next, range) = scan_indices(cursor, count, t.len());
                (next, range.rev().map(|i| Self::table_pair(t, i)).collect())
            }
        }
    }
}

pub enum Iter<'a> {
    Pack(super::listpack::Iter<'a>),
    Table(indexmap::map::Iter<'a, Box<[u8]>, Box<[u8]>>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Pair<'a>;

    fn next(&mut self) -> Option<Pair<'a>> {
        match self {
            Iter::Pack(it) => Some((it.next()?, it.next()?)),
            Iter::Table(it) => it.next().map(|(f, v)| (Elem::Str(f), Elem::Str(v))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn small() -> Limits {
        Limits { hash_max_listpack_entries: 4, hash_max_listpack_value: 8, ..Limits::default() }
    }

    fn contents(h: &Hash) -> BTreeMap<Vec<u8>, Vec<u8>> {
        h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect()
    }

    #[test]
    fn sets_gets_and_deletes_in_both_encodings() {
        for big in [false, true] {
            let lim = small();
            let mut h = Hash::new();
            if big {
                h.set(b"long-field-name", b"v", &lim);
                assert!(h.delete(b"long-field-name"));
            }
            assert_eq!(h.encoding(), if big { "hashtable" } else { "listpack" });
            assert!(h.set(b"a", b"1", &lim));
            assert!(h.set(b"10", b"x", &lim));
            assert!(!h.set(b"a", b"2", &lim));
            assert!(!h.set_nx(b"a", b"3", &lim));
            assert!(h.set_nx(b"b", b"", &lim));
            assert!(h.get(b"a").unwrap().eq_bytes(b"2"));
            assert!(h.get(b"10").unwrap().eq_bytes(b"x"));
            assert!(h.get(b"010").is_none());
            assert!(h.get(b"2").is_none(), "values are not fields");
            assert_eq!(h.strlen(b"a"), Some(1));
            assert_eq!(h.strlen(b"b"), Some(0));
            assert_eq!(h.strlen(b"zz"), None);
            assert!(h.contains(b"b") && !h.contains(b"c"));
            assert_eq!(h.len(), 3);
            assert!(h.delete(b"a"));
            assert!(!h.delete(b"a"));
            assert_eq!(contents(&h).len(), 2);
            assert!(h.delete(b"10") && h.delete(b"b"));
            assert!(h.is_empty());
        }
    }

    #[test]
    fn converts_at_the_exact_thresholds() {
        let lim = small();
        let mut h = Hash::new();
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", &lim);
        }
        assert_eq!(h.encoding(), "listpack");
        h.set(b"f0", b"12345678", &lim);
        assert_eq!(h.encoding(), "listpack", "value of exactly the limit");
        h.set(b"f4", b"v", &lim);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 5);
        h.delete(b"f4");
        h.delete(b"f3");
        assert_eq!(h.encoding(), "hashtable", "never converts back");
        assert!(h.get(b"f0").unwrap().eq_bytes(b"12345678"));

        let mut h = Hash::new();
        h.set(b"k", b"123456789", &lim);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        h.set(b"123456789", b"v", &lim);
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn loads_by_size() {
        let lim = small();
        let pairs = |n: usize| (0..n).map(|i| (i.to_string(), "v".to_string())).collect::<Vec<_>>();
        assert_eq!(Hash::from_pairs(pairs(4), &lim).encoding(), "listpack");
        let h = Hash::from_pairs(pairs(5), &lim);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(contents(&h).len(), 5);
        let d = Hash::from_pairs([("a", "1"), ("a", "2")], &Limits::default());
        assert_eq!(d.len(), 1);
        assert!(d.get(b"a").unwrap().eq_bytes(b"2"));
    }

    #[test]
    fn samples_random_pairs() {
        let mut rng = Rng::seeded();
        for n in [3usize, 30] {
            let h = Hash::from_pairs((0..n).map(|i| (format!("f{i}"), format!("v{i}"))), &small());
            let mut d = h.random_pairs(2, &mut rng);
            d.sort_by_key(|(f, _)| f.to_vec());
            d.dedup_by_key(|(f, _)| f.to_vec());
            assert_eq!(d.len(), 2);
            for (f, v) in &d {
                assert_eq!(h.get(&f.to_vec()).unwrap(), *v);
            }
            assert_eq!(h.random_pairs(100, &mut rng).len(), n);
            let mut drawn = 0;
            h.draw_pairs(&mut rng, |(f, v)| {
                assert_eq!(h.get(&f.to_vec()).unwrap(), v);
                drawn += 1;
                drawn < 100
            });
            assert_eq!(drawn, 100);
            assert!(h.random_pair(&mut rng).is_some());
        }
        assert!(Hash::new().random_pair(&mut rng).is_none());
        assert!(Hash::new().random_pairs(5, &mut rng).is_empty());
    }

    #[test]
    fn scans_return_everything_present_throughout() {
        let lim = small();
        let h = Hash::from_pairs([("a", "1"), ("b", "2")], &lim);
        let (cursor, all) = h.scan(0, 1);
        assert_eq!((cursor, all.len()), (0, 2));

        let mut h = Hash::from_pairs((0..100).map(|i| (format!("f{i}"), "v")), &lim);
        let (mut cursor, mut seen) = (0, std::collections::HashSet::new());
        let mut rounds = 0;
        loop {
            let (next, got) = h.scan(cursor, 7);
            seen.extend(got.iter().map(|(f, _)| f.to_vec()));
            // Churn between calls: delete a few, add a few.
            for j in 0..3 {
                h.delete(format!("f{}", (rounds * 3 + j) % 50).as_bytes());
                h.set(format!("new{rounds}-{j}").as_bytes(), b"v", &lim);
            }
            rounds += 1;
            if next == 0 {
                break;
            }
            cursor = next;
        }
        for i in 50..100 {
            assert!(seen.contains(format!("f{i}").as_bytes()), "f{i} missed");
        }
    }
}
