//! Key access with Redis's semantics: lazy expiry on lookup (logged to the AOF
//! as a DEL), an active expiry cycle, and helpers commands share.

use super::notify::{EXPIRED, KEY_MISS, NEW};
use super::Engine;
use crate::store::Slot;
use crate::types::Value;

pub enum Lookup {
    Missing,
    Found(Slot),
}

/// Keys sampled per db per active expiry round (ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP).
const EXPIRE_SAMPLE: usize = 20;
/// Repeat a round while more than this percentage of samples had expired.
const EXPIRE_REPEAT_PERCENT: usize = 10;
/// Time budget of one active cycle, as a share of the cron period (25%).
const EXPIRE_BUDGET_PERCENT: i64 = 25;

impl Engine {
    /// Finds a live key, deleting it first if its TTL has passed, and
    /// records the access.
    pub fn lookup(&mut self, db: usize, key: &[u8]) -> Option<Slot> {
        let slot = self.find_live(db, key)?;
        self.touch(db, slot);
        Some(slot)
    }

    /// `lookup` without recording an access (Redis's expireIfNeeded, as SCAN
    /// and RANDOMKEY use it).
    pub fn find_live(&mut self, db: usize, key: &[u8]) -> Option<Slot> {
        let slot = self.dbs[db].find(key)?;
        if self.dbs[db].is_expired(slot, self.now) && !self.persistence.loading {
            self.expired_on_lookup(db, key);
            return None;
        }
        Some(slot)
    }

    /// A lookup met `key` past its TTL. Out of line: the lookup, on every
    /// command's path, stays small enough to inline.
    #[cold]
    fn expired_on_lookup(&mut self, db: usize, key: &[u8]) {
        // While clients are paused an expired key reads as gone but stays
        // (unless a write runs: EXEC after its own CLIENT PAUSE).
        if self.writing || !self.data_frozen() {
            self.expire_key(db, key);
        }
    }

    /// Lookup for reading, counted as hit or miss.
    pub fn lookup_read(&mut self, db: usize, key: &[u8]) -> Option<Slot> {
        let found = self.lookup_counted(db, key, true)?;
        self.touch(db, found);
        Some(found)
    }

    /// A read lookup that is not an access (TYPE, EXISTS, TTL, OBJECT:
    /// Redis's LOOKUP_NOTOUCH), counted as hit or miss; a miss is announced
    /// (`keymiss`) if `announce_miss` (OBJECT's lookups are not, as in Redis).
    pub fn lookup_counted(&mut self, db: usize, key: &[u8], announce_miss: bool) -> Option<Slot> {
        let found = self.find_live(db, key);
        if found.is_some() {
            self.stats.keyspace_hits += 1;
        } else {
            self.stats.keyspace_misses += 1;
            if announce_miss {
                self.notify(KEY_MISS, "keymiss", db, key);
            }
        }
        found
    }

    /// The live value of a key (None when missing or expired).
    pub fn value(&mut self, db: usize, key: &[u8]) -> Option<&Value> {
        let slot = self.lookup_read(db, key)?;
        Some(self.dbs[db].value(slot))
    }

    pub fn value_mut(&mut self, db: usize, key: &[u8]) -> Option<&mut Value> {
        let slot = self.lookup(db, key)?;
        Some(self.dbs[db].value_mut(slot))
    }

    fn expire_key(&mut self, db: usize, key: &[u8]) {
        let deleting = crate::util::now_us();
        self.dbs[db].remove(key);
        self.add_latency_sample("expire-del", ((crate::util::now_us() - deleting) / 1000) as u64);
        self.stats.expired_keys += 1;
        self.record_server_delete(db, key, EXPIRED, "expired");
    }

    /// After the server itself removed a key (expiry, eviction): its
    /// subscribers hear `event`, the AOF gets a DEL, WATCH sees the change.
    pub(super) fn record_server_delete(&mut self, db: usize, key: &[u8], class: u32, event: &'static str) {
        self.notify(class, event, db, key);
        self.aof.command(db, &[b"DEL", key]);
        self.watches.touch(db, key);
        self.invalidate_tracked_by_server(key);
    }

    /// Adds or replaces a key's value; drops the TTL unless `keep_ttl`.
    #[inline(always)]
    pub fn set_value(&mut self, db: usize, key: &[u8], value: Value, keep_ttl: bool) -> Slot {
        let can_resize = self.can_resize();
        // Redis's setKey looks the key up first: one past its TTL expires
        // (announced), and the key is then new. Only watched when announced.
        if self.config.notify_keyspace_events & (NEW | EXPIRED) != 0 && self.find_live(db, key).is_none() {
            self.notify(NEW, "new", db, key);
        }
        let access = self.new_access_stamp();
        let slot = self.dbs[db].set(key, value, keep_ttl, can_resize, access);
        // Writing a value is an access too (LFU counters carry over).
        if !self.config.maxmemory_policy.is_lfu() {
            self.dbs[db].set_access(slot, access);
        }
        slot
    }

    /// Writes a key whose `lookup` returned `found` (the access is already
    /// stamped): the value replaced in place, or the key added — no second
    /// hash lookup, as `set_value` needs.
    pub fn write_looked_up(
        &mut self,
        db: usize,
        key: &[u8],
        found: Option<Slot>,
        value: Value,
        keep_ttl: bool,
    ) -> Slot {
        match found {
            Some(slot) => {
                self.dbs[db].replace(slot, value, keep_ttl);
                slot
            }
            None => self.insert_value(db, key, value),
        }
    }

    /// Adds a key that lookup just reported missing.
    pub fn insert_value(&mut self, db: usize, key: &[u8], value: Value) -> Slot {
        let can_resize = self.can_resize();
        self.notify(NEW, "new", db, key);
        let access = self.new_access_stamp();
        self.dbs[db].insert(key, value, can_resize, access)
    }

    /// Deletes a key if it is live; true if it was.
    pub fn delete_key(&mut self, db: usize, key: &[u8]) -> bool {
        if self.find_live(db, key).is_none() {
            return false;
        }
        self.dbs[db].remove(key).is_some()
    }

    /// Expiry as a client sees it: None for no key, Some(None) for no TTL.
    pub fn ttl_of(&mut self, db: usize, key: &[u8]) -> Option<Option<i64>> {
        let slot = self.lookup_counted(db, key, true)?;
        Some(self.dbs[db].expire_at(slot))
    }

    /// Redis's active expiry: sample keys with a TTL in every db, delete the
    /// expired ones, and go on while many of the samples were expired and
    /// the time budget allows.
    pub fn active_expire_cycle(&mut self) {
        if self.persistence.loading || self.data_frozen() || !self.active_expire_enabled {
            return;
        }
        let budget_us = 1_000_000 / self.config.hz.max(1) as i64 * EXPIRE_BUDGET_PERCENT / 100;
        let start = crate::util::now_us();
        for db in 0..self.dbs.len() {
            loop {
                let n = self.dbs[db].expires_len();
                if n == 0 {
                    break;
                }
                let mut expired = 0;
                let samples = EXPIRE_SAMPLE.min(n);
                for _ in 0..samples {
                    let Some((slot, at)) = self.dbs[db].sample_expire(&mut self.rng) else { break };
                    if at <= self.now {
                        let key = self.dbs[db].key(slot).to_vec();
                        self.expire_key(db, &key);
                        expired += 1;
                    }
                }
                if expired * 100 <= samples * EXPIRE_REPEAT_PERCENT || crate::util::now_us() - start > budget_us {
                    break;
                }
            }
        }
        self.add_latency_sample("expire-cycle", ((crate::util::now_us() - start) / 1000) as u64);
    }

    /// Marks keys written by a command: WATCH invalidation, waking
    /// clients blocked on them, and client-side caching invalidation.
    pub fn signal_modified(&mut self, db: usize, key: &[u8]) {
        self.watches.touch(db, key);
        self.blocking.signal(db, key);
        self.invalidate_tracked(key);
    }

    /// Removes every key of every db (FLUSHALL, DEBUG RELOAD); returns how
    /// many went.
    pub fn empty_data(&mut self) -> u64 {
        let removed = (0..self.dbs.len()).map(|db| self.clear_db(db)).sum();
        self.invalidate_all_tracked();
        removed
    }

    /// Removes every key of `db` (FLUSHDB); returns how many went.
    pub fn empty_db(&mut self, db: usize) -> u64 {
        let removed = self.clear_db(db);
        self.invalidate_all_tracked();
        removed
    }

    /// Empties `db`; WATCHers of keys it had see a change. Tracking clients
    /// are told once per flush, by the callers.
    fn clear_db(&mut self, db: usize) -> u64 {
        let removed = self.dbs[db].len() as u64;
        self.signal_db_replaced(db, None);
        self.dbs[db].clear();
        removed
    }

    /// Before FLUSHDB/FLUSHALL empties `db`, or SWAPDB gives it the keys of
    /// `replaced_with`: a watched key changes if it is in `db` now or
    /// (live) in what replaces it; one missing on both sides does not, as
    /// in Redis's touchAllWatchedKeysInDb.
    pub fn signal_db_replaced(&mut self, db: usize, replaced_with: Option<usize>) {
        let now = self.now;
        let live_in = |other: &super::Db, key: &[u8]| other.find(key).is_some_and(|slot| !other.is_expired(slot, now));
        let changed: Vec<Vec<u8>> = self
            .watches
            .keys_in(db)
            .filter(|key| self.dbs[db].find(key).is_some() || replaced_with.is_some_and(|r| live_in(&self.dbs[r], key)))
            .map(<[u8]>::to_vec)
            .collect();
        for key in changed {
            self.watches.touch(db, &key);
        }
    }
}
