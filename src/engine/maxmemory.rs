//! `maxmemory`: access stamps on keys, eviction by the configured policy
//! when used memory passes the limit, and the out-of-memory state that
//! refuses commands that may grow memory (Redis's evict.c).

use super::notify;
use super::table::{self, CommandSpec};
use super::{Client, Engine};
use crate::eviction::{self, LfuTuning, Policy, Pool};
use crate::memory::UsedMemory;
use crate::store::Slot;

pub const OOM_ERROR: &str = "OOM command not allowed when used memory > 'maxmemory'.";

#[derive(Default)]
pub struct Eviction {
    pub used: UsedMemory,
    pool: Pool,
    /// The db the random policies try next, so each db gives up keys in turn.
    next_db: usize,
    /// Used memory was over the limit, with nothing left to evict, when the
    /// last command started under a limit (see `Engine::out_of_memory`).
    out_of_memory: bool,
}

impl Engine {
    fn lfu_tuning(&self) -> LfuTuning {
        LfuTuning { log_factor: self.config.lfu_log_factor, decay_minutes: self.config.lfu_decay_time }
    }

    /// The access stamp a new key starts with.
    pub fn new_access_stamp(&self) -> u32 {
        if self.config.maxmemory_policy.is_lfu() {
            eviction::lfu_new(self.now)
        } else {
            eviction::lru_clock(self.now)
        }
    }

    /// Records an access to a key, except while a fork child shares the
    /// pages: the stamp would make the kernel copy the key's page.
    pub fn touch(&mut self, db: usize, slot: Slot) {
        if self.child_active {
            return;
        }
        let stamp = if self.config.maxmemory_policy.is_lfu() {
            let tuning = self.lfu_tuning();
            eviction::lfu_access(self.dbs[db].access(slot), self.now, tuning, &mut self.rng)
        } else {
            eviction::lru_clock(self.now)
        };
        self.dbs[db].set_access(slot, stamp);
    }

    /// RESTORE's IDLETIME (seconds) or FREQ, whichever the policy keeps.
    pub fn restore_access(&mut self, db: usize, slot: Slot, idle_secs: Option<i64>, freq: Option<i64>) {
        let stamp = if self.config.maxmemory_policy.is_lfu() {
            freq.map(|f| eviction::lfu_stamp(self.now, f.clamp(0, 255) as u8))
        } else {
            idle_secs.map(|idle| eviction::lru_stamp_idle(self.now, idle))
        };
        if let Some(stamp) = stamp {
            self.dbs[db].set_access(slot, stamp);
        }
    }

    /// OBJECT IDLETIME: seconds since the last access (None under an LFU
    /// policy, which keeps frequencies instead).
    pub fn idle_seconds(&self, db: usize, slot: Slot) -> Option<u64> {
        let policy = self.config.maxmemory_policy;
        (!policy.is_lfu()).then(|| eviction::idle_ms(self.dbs[db].access(slot), self.now) / 1000)
    }

    /// OBJECT FREQ: the decayed access counter (None unless an LFU policy).
    pub fn access_frequency(&self, db: usize, slot: Slot) -> Option<u8> {
        let policy = self.config.maxmemory_policy;
        policy.is_lfu().then(|| eviction::lfu_counter(self.dbs[db].access(slot), self.now, self.lfu_tuning()))
    }

    /// Evicts keys until used memory is back under `maxmemory`, within the
    /// tenacity's time budget (the cron goes on where it stopped). False
    /// when memory stays over the limit because the policy forbids eviction
    /// or no key is left to evict: commands that may grow memory are then
    /// refused.
    pub fn evict_to_limit(&mut self) -> bool {
        let limit = self.config.maxmemory;
        // Paused clients expect the data to stay as it is (Redis's
        // isSafeToPerformEvictions): nothing evicted, nothing refused.
        if limit == 0 || self.persistence.loading || self.data_frozen() {
            return true;
        }
        let used = self.eviction.used.now();
        if used <= limit {
            return true;
        }
        if self.config.maxmemory_policy == Policy::NoEviction {
            return false;
        }
        let to_free = (used - limit) as i64;
        let started = crate::util::now_us();
        let budget_us = eviction::time_limit_us(self.config.maxmemory_eviction_tenacity);
        let (mut freed, mut evicted) = (0i64, 0u64);
        let mut enough = true;
        while freed < to_free {
            let Some((db, key)) = self.pick_victim() else {
                enough = false;
                break;
            };
            let before = self.eviction.used.now() as i64;
            let deleting = crate::util::now_us();
            self.dbs[db].remove(&key);
            self.add_latency_sample("eviction-del", ((crate::util::now_us() - deleting) / 1000) as u64);
            freed += before - self.eviction.used.now() as i64;
            self.stats.evicted_keys += 1;
            self.record_server_delete(db, &key, notify::EVICTED, "evicted");
            self.eviction.pool.recycle(key);
            evicted += 1;
            if evicted.is_multiple_of(16) && (crate::util::now_us() - started) as u64 > budget_us {
                break;
            }
        }
        self.add_latency_sample("eviction-cycle", ((crate::util::now_us() - started) / 1000) as u64);
        enough
    }

    /// The next key to evict and its db, by the policy: a random key, or
    /// the best of the pool after sampling every db into it.
    fn pick_victim(&mut self) -> Option<(usize, Vec<u8>)> {
        let policy = self.config.maxmemory_policy;
        let dbs = self.dbs.len();
        if policy.is_random() {
            for _ in 0..dbs {
                self.eviction.next_db = (self.eviction.next_db + 1) % dbs;
                let db = &self.dbs[self.eviction.next_db];
                let slot = if policy.all_keys() {
                    db.dict.random(&mut self.rng)
                } else {
                    db.sample_expire(&mut self.rng).map(|(slot, _)| slot)
                };
                if let Some(slot) = slot {
                    return Some((self.eviction.next_db, db.key(slot).to_vec()));
                }
            }
            return None;
        }
        loop {
            let mut keys = 0;
            for db in 0..dbs {
                keys += self.sample_into_pool(db, policy);
            }
            if keys == 0 {
                return None;
            }
            let dbs = &self.dbs;
            let found = self.eviction.pool.take_best(|db, key| {
                dbs[db].find(key).is_some_and(|slot| policy.all_keys() || dbs[db].expire_at(slot).is_some())
            });
            if found.is_some() {
                return found;
            }
        }
    }

    /// Offers `maxmemory-samples` keys of one db to the pool, scored so that
    /// higher is evicted first; returns how many keys the db could offer.
    fn sample_into_pool(&mut self, db: usize, policy: Policy) -> usize {
        let d = &self.dbs[db];
        let keys = if policy.all_keys() { d.len() } else { d.expires_len() };
        if keys == 0 {
            return 0;
        }
        let tuning = self.lfu_tuning();
        for _ in 0..self.config.maxmemory_samples {
            let sampled = if policy.all_keys() {
                d.dict.random(&mut self.rng).map(|slot| (slot, None))
            } else {
                d.sample_expire(&mut self.rng).map(|(slot, at)| (slot, Some(at)))
            };
            let Some((slot, expire_at)) = sampled else { break };
            let score = match (policy, expire_at) {
                (Policy::VolatileTtl, Some(at)) => u64::MAX - at.max(0) as u64,
                _ if policy.is_lfu() => 255 - eviction::lfu_counter(d.access(slot), self.now, tuning) as u64,
                _ => eviction::idle_ms(d.access(slot), self.now),
            };
            self.eviction.pool.offer(score, db, d.key(slot));
        }
        keys
    }

    /// Before a command: evicts if needed and remembers whether memory is
    /// still over the limit. Then Redis's rule: a command that may grow
    /// memory is refused (a script by its declared flags, FUNCTION LOAD and
    /// RESTORE too), and inside MULTI anything but EXEC, DISCARD, QUIT and
    /// RESET, since queueing takes memory too (EXEC checks its queue itself).
    pub fn refused_for_memory(&mut self, spec: &CommandSpec, client: &Client, args: &[&[u8]]) -> bool {
        self.eviction.out_of_memory = !self.evict_to_limit();
        if !self.eviction.out_of_memory {
            return false;
        }
        if client.multi.is_some() && !matches!(spec.name, "exec" | "discard" | "quit" | "reset") {
            return true;
        }
        spec.has(table::DENYOOM)
            || crate::scripting::may_grow_memory(self, args)
            || crate::commands::functions::adds_libraries(args)
    }

    /// The running command started over `maxmemory` with nothing left to
    /// evict (EXEC and a script's first write are refused then).
    pub fn out_of_memory(&self) -> bool {
        self.config.maxmemory != 0 && self.eviction.out_of_memory
    }

    /// Periodic upkeep under a limit: resyncs the used-memory estimate with
    /// the allocator (which costs a merge of every arena's statistics) and
    /// finishes an eviction the time budget cut short.
    pub fn maxmemory_cron(&mut self) {
        if self.config.maxmemory != 0 {
            self.eviction.used.recalibrate();
            self.evict_to_limit();
        }
    }
}
