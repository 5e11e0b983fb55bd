//! The keyspace hash table: Redis's dict design — power-of-two buckets of
//! 8-byte chain heads, entries linked intrusively, load factor 1 — which keeps
//! per-key overhead low and gives SCAN its reverse-binary cursor guarantee.
//!
//! Reads never write: no access stamps, no reference counts, and no resizing
//! while a fork child shares the pages (`can_resize`).

use super::entry::{Entry, Header};
use crate::types::Value;
use std::hash::BuildHasher;
use std::ptr::NonNull;

const INITIAL_SIZE: usize = 4;
/// Grow even while a child runs once chains get this long on average.
const FORCE_RESIZE_RATIO: usize = 5;

pub struct Dict {
    buckets: Vec<Option<NonNull<Header>>>,
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

impl Dict {
    pub fn new() -> Dict {
        Dict { buckets: Vec::new(), len: 0, hasher: foldhash::fast::FixedState::with_seed(seed()) }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    fn hash(&self, key: &[u8]) -> usize {
        self.hasher.hash_one(key) as usize
    }

    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }

    pub fn find(&self, key: &[u8]) -> Option<Slot> {
        if self.buckets.is_empty() {
            return None;
        }
        let mut cur = self.buckets[self.hash(key) & self.mask()];
        while let Some(p) = cur {
            // SAFETY: chain pointers are live entries owned by this dict.
            let h = unsafe { p.as_ref() };
            if h.key() == key {
                return Some(Slot(p));
            }
            cur = h.next;
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

    /// Inserts a key known to be absent; returns its slot.
    pub fn insert_new(&mut self, key: &[u8], value: Value, can_resize: bool) -> Slot {
        self.grow_if_needed(can_resize);
        let idx = self.hash(key) & self.mask();
        let entry = Entry::new(key, value).into_raw();
        // SAFETY: the new entry is exclusively ours until linked.
        unsafe { (*entry.as_ptr()).next = self.buckets[idx] };
        self.buckets[idx] = Some(entry);
        self.len += 1;
        Slot(entry)
    }

    /// Unlinks a key and returns its entry's value and expiry slot.
    pub fn remove(&mut self, key: &[u8]) -> Option<(Value, u32)> {
        if self.buckets.is_empty() {
            return None;
        }
        let idx = self.hash(key) & self.mask();
        let mut link: *mut Option<NonNull<Header>> = &mut self.buckets[idx];
        // SAFETY: we walk links owned by this dict and unlink one entry, which
        // we then own and free.
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
        None
    }

    fn grow_if_needed(&mut self, can_resize: bool) {
        if self.buckets.is_empty() {
            self.resize(INITIAL_SIZE);
        } else if self.len >= self.buckets.len() && (can_resize || self.len / self.buckets.len() > FORCE_RESIZE_RATIO) {
            self.resize((self.len + 1).next_power_of_two());
        }
    }

    /// Shrinks a table that deletions left mostly empty (called from cron).
    pub fn shrink_if_sparse(&mut self, can_resize: bool) {
        let size = self.buckets.len();
        if can_resize && size > INITIAL_SIZE && self.len * 100 / size < 10 {
            self.resize(self.len.max(INITIAL_SIZE).next_power_of_two());
        }
    }

    fn resize(&mut self, size: usize) {
        let mut new = vec![None; size];
        let mask = size - 1;
        for head in std::mem::take(&mut self.buckets) {
            let mut cur = head;
            while let Some(p) = cur {
                // SAFETY: relinking entries we own into the new table.
                unsafe {
                    cur = p.as_ref().next;
                    let idx = self.hash(p.as_ref().key()) & mask;
                    (*p.as_ptr()).next = new[idx];
                    new[idx] = Some(p);
                }
            }
        }
        self.buckets = new;
    }

    /// Frees everything.
    pub fn clear(&mut self) {
        for head in std::mem::take(&mut self.buckets) {
            let mut cur = head;
            while let Some(p) = cur {
                // SAFETY: each entry is visited once and freed.
                unsafe {
                    cur = p.as_ref().next;
                    drop(Entry(p));
                }
            }
        }
        self.len = 0;
    }

    /// Visits the chain of one bucket.
    fn visit_bucket(&self, idx: usize, f: &mut impl FnMut(Slot)) {
        let mut cur = self.buckets[idx];
        while let Some(p) = cur {
            // SAFETY: live entry of this dict.
            cur = unsafe { p.as_ref().next };
            f(Slot(p));
        }
    }

    /// One SCAN step with Redis's reverse-binary cursor: every key present for
    /// the whole scan is returned at least once, even across resizes.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(Slot)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = self.mask() as u64;
        let mut v = cursor;
        self.visit_bucket((v & mask) as usize, &mut f);
        v |= !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// A uniformly chosen bucket's random element, as Redis's dictGetRandomKey.
    pub fn random(&self, rng: &mut crate::util::Rng) -> Option<Slot> {
        if self.len == 0 {
            return None;
        }
        loop {
            let idx = rng.below(self.buckets.len());
            let mut chain = Vec::new();
            self.visit_bucket(idx, &mut |s| chain.push(s));
            if !chain.is_empty() {
                return Some(chain[rng.below(chain.len())]);
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Slot> + '_ {
        self.buckets.iter().flat_map(|head| {
            let mut cur = *head;
            std::iter::from_fn(move || {
                let p = cur?;
                // SAFETY: live entry of this dict.
                cur = unsafe { p.as_ref().next };
                Some(Slot(p))
            })
        })
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
