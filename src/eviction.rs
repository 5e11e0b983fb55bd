//! What `maxmemory` eviction needs, free of the engine: the policies, the
//! per-key access stamp (Redis's 24-bit LRU clock, or LFU's minutes and
//! logarithmic counter), and the pool of best candidates that carries over
//! from one eviction to the next (Redis's evict.c).

use crate::util::Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    NoEviction,
    AllKeysLru,
    VolatileLru,
    AllKeysLfu,
    VolatileLfu,
    AllKeysRandom,
    VolatileRandom,
    VolatileTtl,
}

impl Policy {
    pub const ALL: [Policy; 8] = [
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
        Policy::AllKeysLru,
        Policy::AllKeysLfu,
        Policy::AllKeysRandom,
        Policy::NoEviction,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Policy::NoEviction => "noeviction",
            Policy::AllKeysLru => "allkeys-lru",
            Policy::VolatileLru => "volatile-lru",
            Policy::AllKeysLfu => "allkeys-lfu",
            Policy::VolatileLfu => "volatile-lfu",
            Policy::AllKeysRandom => "allkeys-random",
            Policy::VolatileRandom => "volatile-random",
            Policy::VolatileTtl => "volatile-ttl",
        }
    }

    pub fn parse(text: &str) -> Option<Policy> {
        Policy::ALL.into_iter().find(|p| p.name().eq_ignore_ascii_case(text))
    }

    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::AllKeysLfu | Policy::VolatileLfu)
    }

    /// Candidates come from every key, not only those with a TTL.
    pub fn all_keys(self) -> bool {
        matches!(self, Policy::AllKeysLru | Policy::AllKeysLfu | Policy::AllKeysRandom)
    }

    pub fn is_random(self) -> bool {
        matches!(self, Policy::AllKeysRandom | Policy::VolatileRandom)
    }
}

/// The LRU clock counts seconds in 24 bits, wrapping after 194 days.
const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;
const LRU_CLOCK_RESOLUTION_MS: i64 = 1000;

pub fn lru_clock(now_ms: i64) -> u32 {
    (now_ms / LRU_CLOCK_RESOLUTION_MS) as u32 & LRU_CLOCK_MAX
}

/// Milliseconds since the key was last accessed, at the clock's resolution.
pub fn idle_ms(stamp: u32, now_ms: i64) -> u64 {
    let clock = lru_clock(now_ms);
    let stamp = stamp & LRU_CLOCK_MAX;
    let ticks = if clock >= stamp { clock - stamp } else { clock + (LRU_CLOCK_MAX - stamp) };
    ticks as u64 * LRU_CLOCK_RESOLUTION_MS as u64
}

/// The LRU stamp of a key last accessed `idle_secs` ago (RESTORE IDLETIME),
/// wrapping as Redis's objectSetLRUOrLFU does.
pub fn lru_stamp_idle(now_ms: i64, idle_secs: i64) -> u32 {
    let mut at = (lru_clock(now_ms) as i64).wrapping_sub(idle_secs);
    if at < 0 {
        at += LRU_CLOCK_MAX as i64;
    }
    at as u32 & LRU_CLOCK_MAX
}

/// A new key's LFU counter, so it is not evicted before it had a chance.
const LFU_INIT_VAL: u8 = 5;

/// LFU tuning (`lfu-log-factor`, `lfu-decay-time`).
#[derive(Clone, Copy, Debug)]
pub struct LfuTuning {
    pub log_factor: u32,
    pub decay_minutes: u32,
}

fn minutes(now_ms: i64) -> u32 {
    (now_ms / 60_000) as u32 & 0xffff
}

/// An LFU stamp: the last decrement time in minutes (16 bits) and the counter.
pub fn lfu_stamp(now_ms: i64, counter: u8) -> u32 {
    (minutes(now_ms) << 8) | counter as u32
}

pub fn lfu_new(now_ms: i64) -> u32 {
    lfu_stamp(now_ms, LFU_INIT_VAL)
}

/// The counter after its decay: one less per `decay_minutes` elapsed.
pub fn lfu_counter(stamp: u32, now_ms: i64, tuning: LfuTuning) -> u8 {
    let then = stamp >> 8;
    let now = minutes(now_ms);
    let elapsed = if now >= then { now - then } else { 0xffff - then + now };
    let periods = elapsed.checked_div(tuning.decay_minutes).unwrap_or(0);
    (stamp & 0xff).saturating_sub(periods) as u8
}

/// An access: decay, then a logarithmic increment (the higher the counter,
/// the less likely it grows), as Redis's updateLFU.
pub fn lfu_access(stamp: u32, now_ms: i64, tuning: LfuTuning, rng: &mut Rng) -> u32 {
    let mut counter = lfu_counter(stamp, now_ms, tuning);
    if counter < 255 {
        let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
        let p = 1.0 / (base * tuning.log_factor as f64 + 1.0);
        let r = rng.next_u64() as f64 / u64::MAX as f64;
        if r < p {
            counter += 1;
        }
    }
    lfu_stamp(now_ms, counter)
}

/// How long one eviction pass may run (`maxmemory-eviction-tenacity`):
/// 50 µs per step up to 10, then 15% more per step, unlimited at 100.
pub fn time_limit_us(tenacity: u32) -> u64 {
    match tenacity {
        0..=10 => 50 * tenacity as u64,
        11..=99 => (500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64,
        _ => u64::MAX,
    }
}

const POOL_SIZE: usize = 16;

struct Candidate {
    /// Higher is a better candidate: idle time, inverse frequency, or
    /// inverse expiry time.
    score: u64,
    db: usize,
    key: Vec<u8>,
}

/// The best candidates seen so far, ascending by score; kept across
/// evictions so each one picks from more than its own few samples.
#[derive(Default)]
pub struct Pool {
    entries: Vec<Candidate>,
    /// Buffers of dropped candidates, reused for the next keys.
    spare: Vec<Vec<u8>>,
}

impl Pool {
    /// Adds a sampled key unless the pool is full of better ones.
    pub fn offer(&mut self, score: u64, db: usize, key: &[u8]) {
        let at = self.entries.partition_point(|c| c.score < score);
        if self.entries.len() == POOL_SIZE {
            if at == 0 {
                return;
            }
            // Full: the worst candidate makes room.
            let dropped = self.entries.remove(0);
            self.spare.push(dropped.key);
            self.insert(at - 1, score, db, key);
        } else {
            self.insert(at, score, db, key);
        }
    }

    fn insert(&mut self, at: usize, score: u64, db: usize, key: &[u8]) {
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(key);
        self.entries.insert(at, Candidate { score, db, key: buf });
    }

    /// Takes the best candidate out; `exists` says whether it is still a
    /// key (candidates deleted meanwhile are skipped, as ghosts).
    pub fn take_best(&mut self, mut exists: impl FnMut(usize, &[u8]) -> bool) -> Option<(usize, Vec<u8>)> {
        while let Some(best) = self.entries.pop() {
            if exists(best.db, &best.key) {
                return Some((best.db, best.key));
            }
            self.spare.push(best.key);
        }
        None
    }

    /// Hands a key buffer back for reuse. The pool never holds more than
    /// POOL_SIZE keys, so more spares are dropped: the random policies hand
    /// back a buffer per evicted key without taking any, and keeping them
    /// all would grow memory with every eviction.
    pub fn recycle(&mut self, key: Vec<u8>) {
        if self.spare.len() < POOL_SIZE {
            self.spare.push(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_by_name() {
        for p in Policy::ALL {
            assert_eq!(Policy::parse(p.name()), Some(p));
        }
        assert_eq!(Policy::parse("ALLKEYS-LRU"), Some(Policy::AllKeysLru));
        assert_eq!(Policy::parse("lru"), None);
    }

    #[test]
    fn idle_time_counts_whole_seconds_and_wraps() {
        let t = 1_700_000_000_000;
        assert_eq!(idle_ms(lru_clock(t), t + 999), 0);
        assert_eq!(idle_ms(lru_clock(t), t + 5_000), 5_000);
        // A stamp taken just before the clock wrapped.
        let wrap = (LRU_CLOCK_MAX as i64 + 1) * 1000;
        assert_eq!(idle_ms(lru_clock(wrap - 2000), wrap + 1000), 2000);
    }

    #[test]
    fn restored_idle_time_reads_back() {
        let t = 1_700_000_000_000;
        assert_eq!(idle_ms(lru_stamp_idle(t, 1000), t), 1_000_000);
        // Longer ago than the clock holds: it wraps, and reads back as less.
        assert!(idle_ms(lru_stamp_idle(t, 1 << 30), t) < (LRU_CLOCK_MAX as u64 + 1) * 1000);
    }

    #[test]
    fn lfu_counter_decays_per_period_and_grows_ever_slower() {
        let tuning = LfuTuning { log_factor: 10, decay_minutes: 1 };
        let t = 1_700_000_000_000;
        let stamp = lfu_new(t);
        assert_eq!(lfu_counter(stamp, t, tuning), 5);
        assert_eq!(lfu_counter(stamp, t + 3 * 60_000, tuning), 2);
        assert_eq!(lfu_counter(stamp, t + 30 * 60_000, tuning), 0);
        let none = LfuTuning { log_factor: 10, decay_minutes: 0 };
        assert_eq!(lfu_counter(stamp, t + 30 * 60_000, none), 5);
        let mut rng = Rng::seeded();
        let after_100_hits = |rng: &mut Rng| {
            let mut s = stamp;
            for _ in 0..100 {
                s = lfu_access(s, t, tuning, rng);
            }
            lfu_counter(s, t, tuning) as f64
        };
        // Redis's table: factor 10 reaches ~10 after 100 hits (the mean of
        // Redis's increment rule is 9.7; one run spreads from 6 to 16, the
        // mean of 300 runs stays within ±0.3 of it).
        let mean = (0..300).map(|_| after_100_hits(&mut rng)).sum::<f64>() / 300.0;
        assert!((9.2..=10.2).contains(&mean), "{mean}");
    }

    #[test]
    fn tenacity_limits_time() {
        assert_eq!(time_limit_us(0), 0);
        assert_eq!(time_limit_us(10), 500);
        assert_eq!(time_limit_us(11), 575);
        assert_eq!(time_limit_us(100), u64::MAX);
    }

    #[test]
    fn pool_keeps_the_best_sixteen_and_skips_ghosts() {
        let mut pool = Pool::default();
        for score in 0..40u64 {
            pool.offer(score, 0, format!("k{score}").as_bytes());
        }
        assert_eq!(pool.entries.len(), POOL_SIZE);
        assert_eq!(pool.entries[0].score, 24);
        pool.offer(3, 0, b"worse");
        assert!(pool.entries.iter().all(|c| c.key != b"worse"));
        let (db, key) = pool.take_best(|_, k| k != b"k39").unwrap();
        assert_eq!((db, key.as_slice()), (0, &b"k38"[..]));
        while pool.take_best(|_, _| true).is_some() {}
        assert!(pool.entries.is_empty() && pool.spare.len() <= POOL_SIZE);
    }
}
