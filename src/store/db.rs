//! One logical database: the key dict plus the list of keys with a TTL.
//!
//! Expiry times live in `expires`, a dense vector, and each entry remembers its
//! index there, so finding a key's TTL costs no second hash lookup and the
//! active expiry cycle can sample keys with a TTL uniformly in O(1).

use super::dict::{Dict, Slot};
use super::entry::NO_EXPIRE;
use crate::types::Value;
use crate::util::Rng;

#[derive(Default)]
pub struct Db {
    pub dict: Dict,
    expires: Vec<(Slot, i64)>,
}

// SAFETY: slots point into the dict this Db owns.
unsafe impl Send for Db {}

impl Db {
    pub fn len(&self) -> usize {
        self.dict.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dict.is_empty()
    }

    pub fn expires_len(&self) -> usize {
        self.expires.len()
    }

    /// DEBUG HTSTATS: the key table's stats in Redis's format; keys with a
    /// TTL sit in a vector here, not in a second hash table.
    pub fn htstats_text(&self) -> String {
        let mut expires = String::new();
        if self.expires.is_empty() {
            // What an empty table reports, as Redis's expires dict does.
            super::dict::table_stats(&mut expires, 0, &[]);
        } else {
            expires = format!("No hash table: {} keys with a TTL, kept in a vector\n", self.expires.len());
        }
        format!("[Dictionary HT]\n{}[Expires HT]\n{expires}", self.dict.stats_text())
    }

    pub fn find(&self, key: &[u8]) -> Option<Slot> {
        self.dict.find(key)
    }

    pub fn value(&self, slot: Slot) -> &Value {
        self.dict.value(slot)
    }

    pub fn value_mut(&mut self, slot: Slot) -> &mut Value {
        self.dict.value_mut(slot)
    }

    pub fn key(&self, slot: Slot) -> &[u8] {
        self.dict.key(slot)
    }

    /// MEMORY USAGE of a key: its entry (header, value slot, key bytes),
    /// its dict bucket, its expiry record if any, and what the value
    /// allocates (big collections sampled, see `Value::heap_bytes`).
    pub fn memory_usage(&self, slot: Slot, samples: usize) -> usize {
        let expiry = if self.expire_at(slot).is_some() { std::mem::size_of::<(Slot, i64)>() } else { 0 };
        super::entry::entry_bytes(self.key(slot).len())
            + std::mem::size_of::<usize>()
            + expiry
            + self.value(slot).heap_bytes(samples)
    }

    /// The absolute expiry (ms since the epoch), if the key has one.
    pub fn expire_at(&self, slot: Slot) -> Option<i64> {
        match self.dict.expire_slot(slot) {
            NO_EXPIRE => None,
            i => Some(self.expires[i as usize].1),
        }
    }

    /// Whether the key behind `slot` is past its expiry at `now` (ms).
    pub fn is_expired(&self, slot: Slot, now: i64) -> bool {
        self.expire_at(slot).is_some_and(|at| at <= now)
    }

    pub fn set_expire(&mut self, slot: Slot, at_ms: i64) {
        match self.dict.expire_slot(slot) {
            NO_EXPIRE => {
                self.dict.set_expire_slot(slot, self.expires.len() as u32);
                self.expires.push((slot, at_ms));
            }
            i => self.expires[i as usize].1 = at_ms,
        }
    }

    /// Removes the TTL; true if there was one.
    pub fn persist(&mut self, slot: Slot) -> bool {
        match self.dict.expire_slot(slot) {
            NO_EXPIRE => false,
            i => {
                self.dict.set_expire_slot(slot, NO_EXPIRE);
                self.drop_expire_index(i);
                true
            }
        }
    }

    fn drop_expire_index(&mut self, i: u32) {
        self.expires.swap_remove(i as usize);
        if let Some(&(moved, _)) = self.expires.get(i as usize) {
            self.dict.set_expire_slot(moved, i);
        }
    }

    /// Sizes the db for `keys` keys (see `Dict::reserve`).
    pub fn reserve(&mut self, keys: usize) {
        self.dict.reserve(keys);
    }

    /// Adds a key that is known to be absent, with its first access stamp.
    pub fn insert(&mut self, key: &[u8], value: Value, can_resize: bool, access: u32) -> Slot {
        let slot = self.dict.insert_new(key, value, can_resize);
        self.dict.set_access(slot, access);
        slot
    }

    /// Sets a key's value, replacing any old value; the TTL is dropped unless
    /// `keep_ttl`. A new key gets the `access` stamp; an old one keeps its
    /// own. Returns the slot.
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool, can_resize: bool, access: u32) -> Slot {
        match self.find(key) {
            Some(slot) => {
                self.replace(slot, value, keep_ttl);
                slot
            }
            None => self.insert(key, value, can_resize, access),
        }
    }

    /// Replaces the value of a key found at `slot`; the TTL is dropped
    /// unless `keep_ttl`.
    pub fn replace(&mut self, slot: Slot, value: Value, keep_ttl: bool) {
        *self.dict.value_mut(slot) = value;
        if !keep_ttl {
            self.persist(slot);
        }
    }

    pub fn access(&self, slot: Slot) -> u32 {
        self.dict.access(slot)
    }

    pub fn set_access(&mut self, slot: Slot, stamp: u32) {
        self.dict.set_access(slot, stamp);
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Value> {
        let (value, expire_slot) = self.dict.remove(key)?;
        if expire_slot != NO_EXPIRE {
            self.drop_expire_index(expire_slot);
        }
        Some(value)
    }

    pub fn clear(&mut self) {
        self.expires = Vec::new();
        self.dict.clear();
    }

    /// A uniformly chosen key with a TTL and its expiry time.
    pub fn sample_expire(&self, rng: &mut Rng) -> Option<(Slot, i64)> {
        if self.expires.is_empty() {
            None
        } else {
            Some(self.expires[rng.below(self.expires.len())])
        }
    }

    /// Periodic upkeep: shrinking and incremental rehashing of the dict.
    pub fn maintain(&mut self, can_resize: bool) {
        self.dict.maintain(can_resize);
        if self.expires.capacity() > 64 && self.expires.len() * 4 < self.expires.capacity() {
            self.expires.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Value;

    fn s(v: &str) -> Value {
        Value::from_bytes(v.as_bytes())
    }

    #[test]
    fn insert_find_remove_many() {
        let mut db = Db::default();
        for i in 0..10_000 {
            db.set(format!("key:{i}").as_bytes(), s(&format!("v{i}")), false, true, 0);
        }
        assert_eq!(db.len(), 10_000);
        assert!(db.find(b"key:1234").is_some());
        assert!(db.find(b"nokey").is_none());
        for i in 0..5_000 {
            assert!(db.remove(format!("key:{i}").as_bytes()).is_some());
        }
        assert_eq!(db.len(), 5_000);
        assert!(db.find(b"key:1234").is_none());
        assert!(db.find(b"key:7777").is_some());
    }

    #[test]
    fn expires_follow_their_keys() {
        let mut db = Db::default();
        let a = db.set(b"a", s("1"), false, true, 0);
        let b = db.set(b"b", s("2"), false, true, 0);
        db.set_expire(a, 100);
        db.set_expire(b, 200);
        assert_eq!(db.expires_len(), 2);
        db.remove(b"a");
        let b = db.find(b"b").unwrap();
        assert_eq!(db.expire_at(b), Some(200));
        assert_eq!(db.expires_len(), 1);
        db.set(b"b", s("3"), true, true, 0);
        assert_eq!(db.expire_at(db.find(b"b").unwrap()), Some(200));
        db.set(b"b", s("4"), false, true, 0);
        assert_eq!(db.expire_at(db.find(b"b").unwrap()), None);
        assert_eq!(db.expires_len(), 0);
    }

    #[test]
    fn scan_visits_every_key_across_growth() {
        let mut db = Db::default();
        for i in 0..100 {
            db.set(format!("k{i}").as_bytes(), s("v"), false, true, 0);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut added = 100;
        loop {
            cursor = db.dict.scan(cursor, |slot| {
                seen.insert(db.key(slot).to_vec());
            });
            // Growing the table mid-scan must not lose the original keys.
            if added < 1000 {
                for _ in 0..100 {
                    db.set(format!("k{added}").as_bytes(), s("v"), false, true, 0);
                    added += 1;
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..100 {
            assert!(seen.contains(format!("k{i}").as_bytes()), "missing k{i}");
        }
    }
}
