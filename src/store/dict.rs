//! The keyspace hash table: Redis's dict design — power-of-two buckets of
//! 8-byte chain heads, entries linked intrusively, load factor 1 — which keeps
//! per-key overhead low and gives SCAN its reverse-binary cursor guarantee.
//!
//! Reads write nothing but a key's access stamp (for `maxmemory` eviction),
//! and not even that while a fork child shares the pages: no reference
//! counts, and no resizing then either (`can_resize`).

use super::entry::{Entry, Header};
use crate::types::Value;
use std::hash::BuildHasher;
use std::ptr::NonNull;

const INITIAL_SIZE: usize = 4;
/// Grow even while a child runs once chains get this long on average.
const FORCE_RESIZE_RATIO: usize = 5;
/// Empty buckets a rehash step may skip per bucket it should move.
const EMPTY_VISITS_PER_STEP: usize = 10;

type Bucket = Option<NonNull<Header>>;

pub struct Dict {
    /// Table 0, and while rehashing table 1, into which entries move a few
    /// buckets at a time (Redis's incremental rehash: no long stall).
    tables: [Vec<Bucket>; 2],
    /// The next bucket of table 0 to move; None when not rehashing.
    rehash_idx: Option<usize>,
    len: usize,
    hasher: foldhash::fast::FixedState,
}

// SAFETY: the dict owns every entry reachable from its buckets; it is moved
// between threads only as a whole.
unsafe impl Send for Dict {}

impl Default for Dict {
    fn default() -> Self {
        Dict::new()
    }
}

/// A key's handle, valid until the dict is next changed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Slot(pub(crate) NonNull<Header>);

fn mask(table: &[Bucket]) -> usize {
    table.len().wrapping_sub(1)
}

/// Chain lengths DEBUG HTSTATS tells apart (longer ones share the last).
const STATS_CHAIN_LENGTHS: usize = 50;

/// One table's part of `Dict::stats_text` (Redis's `_dictGetStatsHt`, its
/// single-precision averages and percentages included).
pub(super) fn table_stats(s: &mut String, index: usize, table: &[Bucket]) {
    use std::fmt::Write;
    let role = if index == 0 { "main hash table" } else { "rehashing target" };
    let _ = writeln!(s, "Hash table {index} stats ({role}):");
    let mut by_length = [0usize; STATS_CHAIN_LENGTHS];
    let (mut slots, mut elements, mut longest) = (0usize, 0usize, 0usize);
    for &head in table {
        let length = chain(head).count();
        by_length[length.min(STATS_CHAIN_LENGTHS - 1)] += 1;
        if length > 0 {
            slots += 1;
            elements += length;
            longest = longest.max(length);
        }
    }
    if elements == 0 {
        s.push_str("No stats available for empty dictionaries\n");
        return;
    }
    let average = elements as f32 / slots as f32;
    let _ = write!(
        s,
        " table size: {}\n number of elements: {elements}\n different slots: {slots}\n max chain length: {longest}\n avg chain length (counted): {average:.2}\n avg chain length (computed): {average:.2}\n Chain length distribution:\n",
        table.len()
    );
    for (length, &count) in by_length[..STATS_CHAIN_LENGTHS - 1].iter().enumerate().filter(|(_, c)| **c > 0) {
        let percent = count as f32 / table.len() as f32 * 100.0;
        let _ = writeln!(s, "   {length}: {count} ({percent:.2}%)");
    }
}

/// Walks one chain.
fn chain(head: Bucket) -> impl Iterator<Item = Slot> {
    let mut cur = head;
    std::iter::from_fn(move || {
        let p = cur?;
        // SAFETY: chain pointers are live entries owned by the dict.
        cur = unsafe { p.as_ref().next };
        Some(Slot(p))
    })
}

impl Dict {
    pub fn new() -> Dict {
        Dict {
            tables: [Vec::new(), Vec::new()],
            rehash_idx: None,
            len: 0,
            hasher: foldhash::fast::FixedState::with_seed(seed()),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn bucket_count(&self) -> usize {
        self.tables[0].len() + self.tables[1].len()
    }

    pub fn is_rehashing(&self) -> bool {
        self.rehash_idx.is_some()
    }

    fn hash(&self, key: &[u8]) -> usize {
        self.hasher.hash_one(key) as usize
    }

    /// The tables a key may be in: both while rehashing.
    fn live_tables(&self) -> &[Vec<Bucket>] {
        if self.is_rehashing() {
            &self.tables
        } else {
            &self.tables[..1]
        }
    }

    /// DEBUG HTSTATS's text, in Redis's format: for table 0 and, while
    /// rehashing, table 1, its size, elements, used slots and chain lengths.
    pub fn stats_text(&self) -> String {
        let mut s = String::new();
        for (i, table) in self.live_tables().iter().enumerate() {
            table_stats(&mut s, i, table);
        }
        s
    }

    pub fn find(&self, key: &[u8]) -> Option<Slot> {
        if self.len == 0 {
            return None;
        }
        let h = self.hash(key);
        for table in self.live_tables() {
            if table.is_empty() {
                continue;
            }
            // SAFETY: live entries of this dict.
            if let Some(found) = chain(table[h & mask(table)]).find(|s| unsafe { s.0.as_ref().key() } == key) {
                return Some(found);
            }
        }
        None
    }

    pub fn key(&self, slot: Slot) -> &[u8] {
        // SAFETY: a slot from this dict is valid until the dict changes.
        unsafe { slot.0.as_ref().key() }
    }

    pub fn value(&self, slot: Slot) -> &Value {
        // SAFETY: as above.
        unsafe { &slot.0.as_ref().value }
    }

    pub fn value_mut(&mut self, slot: Slot) -> &mut Value {
        // SAFETY: as above; &mut self guarantees exclusivity.
        unsafe { &mut (*slot.0.as_ptr()).value }
    }

    pub(crate) fn expire_slot(&self, slot: Slot) -> u32 {
        // SAFETY: as above.
        unsafe { slot.0.as_ref().expire_slot }
    }

    pub(crate) fn set_expire_slot(&mut self, slot: Slot, v: u32) {
        // SAFETY: as above.
        unsafe { (*slot.0.as_ptr()).expire_slot = v }
    }

    pub fn access(&self, slot: Slot) -> u32 {
        // SAFETY: as above.
        unsafe { slot.0.as_ref().access }
    }

    pub fn set_access(&mut self, slot: Slot, stamp: u32) {
        // SAFETY: as above.
        unsafe { (*slot.0.as_ptr()).access = stamp }
    }

    /// Inserts a key known to be absent; returns its slot. While a fork
    /// child shares the pages (`!can_resize`) no rehash work is done.
    pub fn insert_new(&mut self, key: &[u8], value: Value, can_resize: bool) -> Slot {
        if can_resize {
            self.rehash_step(1);
        }
        self.grow_if_needed(can_resize);
        let t = usize::from(self.is_rehashing());
        let idx = self.hash(key) & mask(&self.tables[t]);
        let entry = Entry::new(key, value).into_raw();
        // SAFETY: the new entry is exclusively ours until linked.
        unsafe { (*entry.as_ptr()).next = self.tables[t][idx] };
        self.tables[t][idx] = Some(entry);
        self.len += 1;
        Slot(entry)
    }

    /// Unlinks a key and returns its entry's value and expiry slot.
    pub fn remove(&mut self, key: &[u8]) -> Option<(Value, u32)> {
        if self.len == 0 {
            return None;
        }
        let h = self.hash(key);
        let tables = if self.is_rehashing() { 2 } else { 1 };
        for t in 0..tables {
            let table = &mut self.tables[t];
            if table.is_empty() {
                continue;
            }
            let idx = h & mask(table);
            let mut link: *mut Bucket = &mut table[idx];
            // SAFETY: we walk links owned by this dict and unlink one entry,
            // which we then own and free.
            unsafe {
                while let Some(p) = *link {
                    if p.as_ref().key() == key {
                        *link = p.as_ref().next;
                        self.len -= 1;
                        let expire_slot = p.as_ref().expire_slot;
                        return Some((Entry(p).into_value(), expire_slot));
                    }
                    link = &mut (*p.as_ptr()).next;
                }
            }
        }
        None
    }

    /// Sizes the dict for `n` keys at once, as Redis's dictExpand does: an
    /// empty dict gets the table outright (no rehash while it fills); one
    /// holding keys, at most `n`, starts a single rehash to that size instead
    /// of doubling its way there.
    pub fn reserve(&mut self, n: usize) {
        let size = n.max(INITIAL_SIZE).next_power_of_two();
        if self.is_rehashing() || self.len > n || self.tables[0].len() >= size {
            return;
        }
        if self.len == 0 {
            self.tables[0] = vec![None; size];
        } else {
            self.start_rehash(size);
        }
    }

    fn grow_if_needed(&mut self, can_resize: bool) {
        let size = self.tables[0].len();
        if size == 0 {
            self.tables[0] = vec![None; INITIAL_SIZE];
        } else if !self.is_rehashing() && self.len >= size && (can_resize || self.len / size > FORCE_RESIZE_RATIO) {
            self.start_rehash((self.len + 1).next_power_of_two());
        }
    }

    fn start_rehash(&mut self, size: usize) {
        self.tables[1] = vec![None; size];
        self.rehash_idx = Some(0);
    }

    /// Shrinks a table that deletions left mostly empty, and moves a rehash
    /// along for about a millisecond (both from cron, never during a fork).
    pub fn maintain(&mut self, can_resize: bool) {
        if !can_resize {
            return;
        }
        let size = self.tables[0].len();
        if !self.is_rehashing() && size > INITIAL_SIZE && self.len * 100 / size < 10 {
            self.start_rehash(self.len.max(INITIAL_SIZE).next_power_of_two());
        }
        let start = std::time::Instant::now();
        while self.rehash_step(100) && start.elapsed() < std::time::Duration::from_millis(1) {}
    }

    /// Moves up to `n` buckets from table 0 to table 1; false once done.
    fn rehash_step(&mut self, n: usize) -> bool {
        let Some(mut idx) = self.rehash_idx else { return false };
        let (mut moved, mut empty_left) = (0, n * EMPTY_VISITS_PER_STEP);
        let new_mask = mask(&self.tables[1]);
        while moved < n && idx < self.tables[0].len() {
            let Some(head) = self.tables[0][idx].take() else {
                idx += 1;
                empty_left -= 1;
                if empty_left == 0 {
                    break;
                }
                continue;
            };
            let mut cur = Some(head);
            while let Some(p) = cur {
                // SAFETY: relinking entries we own into the new table.
                unsafe {
                    cur = p.as_ref().next;
                    let to = self.hash(p.as_ref().key()) & new_mask;
                    (*p.as_ptr()).next = self.tables[1][to];
                    self.tables[1][to] = Some(p);
                }
            }
            idx += 1;
            moved += 1;
        }
        if idx >= self.tables[0].len() {
            self.tables[0] = std::mem::take(&mut self.tables[1]);
            self.rehash_idx = None;
            return false;
        }
        self.rehash_idx = Some(idx);
        true
    }

    /// Frees everything.
    pub fn clear(&mut self) {
        for table in &mut self.tables {
            for head in std::mem::take(table) {
                let mut cur = head;
                while let Some(p) = cur {
                    // SAFETY: each entry is visited once and freed.
                    unsafe {
                        cur = p.as_ref().next;
                        drop(Entry(p));
                    }
                }
            }
        }
        self.rehash_idx = None;
        self.len = 0;
    }

    /// One SCAN step with Redis's reverse-binary cursor: every key present for
    /// the whole scan is returned at least once, even across resizes and
    /// while a rehash is in progress (both tables are visited).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(Slot)) -> u64 {
        if self.len == 0 || self.tables[0].is_empty() {
            return 0;
        }
        let step = |v: u64, m: u64| (v | !m).reverse_bits().wrapping_add(1).reverse_bits();
        let mut v = cursor;
        if !self.is_rehashing() {
            let m = mask(&self.tables[0]) as u64;
            chain(self.tables[0][(v & m) as usize]).for_each(&mut f);
            return step(v, m);
        }
        let (small, large) = if self.tables[0].len() <= self.tables[1].len() {
            (&self.tables[0], &self.tables[1])
        } else {
            (&self.tables[1], &self.tables[0])
        };
        let (m0, m1) = (mask(small) as u64, mask(large) as u64);
        chain(small[(v & m0) as usize]).for_each(&mut f);
        // Then every bucket of the larger table that expands this one.
        loop {
            chain(large[(v & m1) as usize]).for_each(&mut f);
            v = step(v, m1);
            if v & (m0 ^ m1) == 0 {
                return v;
            }
        }
    }

    /// A uniformly chosen bucket's random element, as Redis's dictGetRandomKey.
    pub fn random(&self, rng: &mut crate::util::Rng) -> Option<Slot> {
        if self.len == 0 {
            return None;
        }
        let (a, b) = (self.tables[0].len(), if self.is_rehashing() { self.tables[1].len() } else { 0 });
        loop {
            let i = rng.below(a + b);
            let head = if i < a { self.tables[0][i] } else { self.tables[1][i - a] };
            let entries: Vec<Slot> = chain(head).collect();
            if !entries.is_empty() {
                return Some(entries[rng.below(entries.len())]);
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Slot> + '_ {
        self.live_tables().iter().flat_map(|t| t.iter().flat_map(|head| chain(*head)))
    }
}

impl Drop for Dict {
    fn drop(&mut self) {
        self.clear();
    }
}

/// A per-process random seed, so bucket order is not predictable by clients.
fn seed() -> u64 {
    use std::sync::OnceLock;
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| crate::util::Rng::seeded().next_u64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn v(n: u32) -> Value {
        Value::from_bytes(n.to_string().as_bytes())
    }

    fn text(d: &Dict, s: Slot) -> String {
        String::from_utf8(d.key(s).to_vec()).unwrap()
    }

    #[test]
    fn grows_incrementally_and_finishes() {
        let mut d = Dict::new();
        for i in 0..10_000u32 {
            d.insert_new(format!("k{i}").as_bytes(), v(i), true);
            assert!(d.find(format!("k{}", i / 2).as_bytes()).is_some());
        }
        while d.is_rehashing() {
            d.maintain(true);
        }
        assert_eq!(d.len(), 10_000);
        assert_eq!(d.iter().count(), 10_000);
        assert!(d.bucket_count() >= 10_000);
    }

    #[test]
    fn reserved_dict_fills_without_rehashing() {
        let mut d = Dict::new();
        d.reserve(3000);
        assert_eq!(d.bucket_count(), 4096);
        for i in 0..3000u32 {
            d.insert_new(format!("k{i}").as_bytes(), v(i), true);
            assert!(!d.is_rehashing());
        }
        assert_eq!(d.bucket_count(), 4096);
        // Fewer keys than it holds: no change.
        d.reserve(2000);
        assert!(!d.is_rehashing());
        assert_eq!(d.bucket_count(), 4096);
        // More: one rehash straight to the size, not a chain of doublings.
        d.reserve(100_000);
        assert!(d.is_rehashing());
        assert_eq!(d.bucket_count(), 4096 + 131_072);
        while d.is_rehashing() {
            d.maintain(true);
        }
        assert_eq!(d.bucket_count(), 131_072);
        for i in 3000..100_000u32 {
            d.insert_new(format!("k{i}").as_bytes(), v(i), true);
            assert!(!d.is_rehashing());
        }
        assert_eq!(d.iter().count(), 100_000);
        assert!(d.find(b"k0").is_some() && d.find(b"k99999").is_some());
    }

    #[test]
    fn stats_text_reads_like_redis_htstats() {
        let mut d = Dict::new();
        assert_eq!(
            d.stats_text(),
            "Hash table 0 stats (main hash table):\nNo stats available for empty dictionaries\n"
        );
        d.reserve(4);
        for i in 0..3u32 {
            d.insert_new(format!("k{i}").as_bytes(), v(i), true);
        }
        let text = d.stats_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[..3], ["Hash table 0 stats (main hash table):", " table size: 4", " number of elements: 3"]);
        assert_eq!(lines[5].split(':').next(), Some(" avg chain length (counted)"));
        assert_eq!(lines[7], " Chain length distribution:");
        // The distribution covers all four buckets, empty ones included.
        let buckets: usize = lines[8..]
            .iter()
            .map(|l| l.split(": ").nth(1).unwrap().split(' ').next().unwrap().parse::<usize>().unwrap())
            .sum();
        assert_eq!(buckets, 4);
        d.reserve(100);
        assert!(d
            .stats_text()
            .contains("Hash table 1 stats (rehashing target):\nNo stats available for empty dictionaries\n"));
    }

    #[test]
    fn no_rehash_work_while_a_child_runs() {
        let mut d = Dict::new();
        for i in 0..64u32 {
            d.insert_new(format!("k{i}").as_bytes(), v(i), false);
        }
        // Past the forced ratio a rehash starts, but no bucket moves yet.
        assert!(d.is_rehashing());
        assert_eq!(d.rehash_idx, Some(0));
        assert_eq!(d.iter().count(), 64);
        assert!(d.find(b"k7").is_some());
    }

    #[test]
    fn shrinks_after_deletions() {
        let mut d = Dict::new();
        for i in 0..4096u32 {
            d.insert_new(format!("k{i}").as_bytes(), v(i), true);
        }
        for i in 0..4000u32 {
            assert!(d.remove(format!("k{i}").as_bytes()).is_some());
        }
        for _ in 0..1000 {
            d.maintain(true);
        }
        assert!(d.bucket_count() <= 256, "buckets {}", d.bucket_count());
        assert_eq!(d.iter().count(), 96);
    }

    #[test]
    fn scan_during_rehash_returns_every_stable_key() {
        let mut d = Dict::new();
        for i in 0..1000u32 {
            d.insert_new(format!("k{i}").as_bytes(), v(i), true);
        }
        let mut seen = HashSet::new();
        let (mut cursor, mut next) = (0, 1000u32);
        loop {
            cursor = d.scan(cursor, |s| {
                seen.insert(text(&d, s));
            });
            // Keep the table growing (and rehashing) mid-scan, up to a bound.
            while next < 5000 && next % 50 != 49 {
                d.insert_new(format!("k{next}").as_bytes(), v(next), true);
                next += 1;
            }
            next += 1;
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1000 {
            assert!(seen.contains(&format!("k{i}")), "missing k{i}");
        }
    }

    proptest::proptest! {
        #[test]
        fn behaves_like_a_hash_map(ops in proptest::collection::vec((0u8..4, 0u32..300), 1..2000)) {
            let mut d = Dict::new();
            let mut model = HashMap::new();
            for (op, k) in ops {
                let key = format!("key{k}");
                match op {
                    0 => {
                        if d.find(key.as_bytes()).is_none() {
                            d.insert_new(key.as_bytes(), v(k), k % 3 != 0);
                            model.insert(key, k);
                        }
                    }
                    1 => {
                        proptest::prop_assert_eq!(d.remove(key.as_bytes()).is_some(), model.remove(&key).is_some());
                    }
                    2 => d.maintain(true),
                    _ => proptest::prop_assert_eq!(d.find(key.as_bytes()).is_some(), model.contains_key(&key)),
                }
            }
            proptest::prop_assert_eq!(d.len(), model.len());
            proptest::prop_assert_eq!(d.iter().count(), model.len());
        }
    }
}
