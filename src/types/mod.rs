//! Value types of the keyspace. Small collections use compact encodings (as
//! Redis 7.0's listpack and intset) and convert to big ones past the thresholds.

pub mod elem;
mod fenwick;
pub mod hash;
pub mod hyperloglog;
pub mod intset;
pub mod list;
pub mod listpack;
mod ranked;
pub mod set;
pub mod stream;
pub mod string;
pub mod zrange;
pub mod zset;

pub use elem::Elem;
pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use stream::Stream;
pub use string::Str;

pub use zrange::{parse_lex_range, parse_score_range, LexBound, LexRange, ScoreRange};
pub use zset::{AddFlags, AddOutcome, ZSet};

use crate::config::Config;
use crate::util::Rng;

#[derive(Clone, Debug)]
pub enum Value {
    Str(Str),
    List(Box<List>),
    Hash(Box<Hash>),
    Set(Box<Set>),
    ZSet(Box<ZSet>),
    Stream(Box<Stream>),
}

/// The error text for an operation on the wrong kind of value.
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

impl Value {
    pub fn from_bytes(data: &[u8]) -> Value {
        Value::Str(Str::from_bytes(data))
    }

    /// TYPE's answer.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// The bytes the value allocates outside its own slot (MEMORY USAGE).
    /// Element sizes of big collections are averaged over `samples` of them
    /// (0: all), as Redis samples.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        match self {
            Value::Str(s) => s.heap_bytes(),
            Value::List(l) => std::mem::size_of::<List>() + l.heap_bytes(samples),
            Value::Hash(h) => std::mem::size_of::<Hash>() + h.heap_bytes(samples),
            Value::Set(s) => std::mem::size_of::<Set>() + s.heap_bytes(samples),
            Value::ZSet(z) => std::mem::size_of::<ZSet>() + z.heap_bytes(samples),
            Value::Stream(s) => std::mem::size_of::<Stream>() + s.heap_bytes(samples),
        }
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(s) => s.encoding(),
        }
    }
}

/// The encoding thresholds of redis.conf, passed to every operation that may
/// grow a value (rather than read from globals) so CONFIG SET applies at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `list-max-listpack-size`: negative = node bytes (-1 4 KB .. -5 64 KB),
    /// positive = entries per node.
    pub list_max_listpack_size: i64,
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from_config(&Config::default())
    }
}

impl Limits {
    pub fn from_config(c: &Config) -> Self {
        let n = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        Limits {
            list_max_listpack_size: c.list_max_listpack_size,
            hash_max_listpack_entries: n(c.hash_max_listpack_entries),
            hash_max_listpack_value: n(c.hash_max_listpack_value),
            set_max_intset_entries: n(c.set_max_intset_entries),
            zset_max_listpack_entries: n(c.zset_max_listpack_entries),
            zset_max_listpack_value: n(c.zset_max_listpack_value),
        }
    }
}

/// Normalizes an inclusive index range the way LRANGE and ZRANGE do
/// (negatives count from the end); `None` when it selects nothing.
pub fn clamp_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { (start + len).max(0) } else { start };
    let stop = if stop < 0 { stop + len } else { stop.min(len - 1) };
    if start > stop || start >= len {
        None
    } else {
        Some((start as usize, stop as usize))
    }
}

/// `count` distinct indices in `0..len` (at most `len`, in random order) for
/// SRANDMEMBER, HRANDFIELD and ZRANDMEMBER with a positive count. Draws with
/// replacement are not collected: their count is not bounded by the
/// collection, so their replies are built one draw at a time.
pub fn sample_indices(len: usize, count: usize, rng: &mut Rng) -> Vec<usize> {
    if count >= len {
        return (0..len).collect();
    }
    // Floyd's algorithm: O(count) draws, no index array of size `len`.
    let mut chosen = hashbrown::HashSet::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    for j in len - count..len {
        let t = rng.below(j + 1);
        let pick = if chosen.insert(t) { t } else { j };
        chosen.insert(pick);
        out.push(pick);
    }
    out
}

/// One step of HSCAN/SSCAN over an index-addressed table whose removals move
/// only the last element into the hole (swap-remove). Walking from the end
/// down means an unvisited element (index < cursor) only ever moves to a lower,
/// still unvisited index, so every element present throughout the scan is
/// returned at least once. Cursor 0 starts; the returned cursor is 0 when done.
pub fn scan_indices(cursor: u64, count: usize, len: usize) -> (u64, std::ops::Range<usize>) {
    let top = if cursor == 0 { len } else { len.min(usize::try_from(cursor).unwrap_or(usize::MAX)) };
    let bottom = top.saturating_sub(count.max(1));
    (bottom as u64, bottom..top)
}

/// The bytes of `len` elements whose sizes `sizes` yields: all of them when
/// `samples` is 0 or covers them, else the average of the first `samples`
/// times `len`.
pub(crate) fn sampled_bytes(len: usize, samples: usize, sizes: impl Iterator<Item = usize>) -> usize {
    if samples == 0 || samples >= len {
        return sizes.sum();
    }
    let seen: usize = sizes.take(samples).sum();
    seen * len / samples
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_three_words() {
        assert_eq!(std::mem::size_of::<super::Value>(), 24);
    }

    #[test]
    fn clamps_ranges_like_lrange() {
        assert_eq!(clamp_range(0, -1, 5), Some((0, 4)));
        assert_eq!(clamp_range(-100, 100, 5), Some((0, 4)));
        assert_eq!(clamp_range(-2, -1, 5), Some((3, 4)));
        assert_eq!(clamp_range(3, 1, 5), None);
        assert_eq!(clamp_range(5, 10, 5), None);
        assert_eq!(clamp_range(0, -6, 5), None);
        assert_eq!(clamp_range(0, -1, 0), None);
    }

    #[test]
    fn samples_distinct_indices() {
        let mut rng = Rng::seeded();
        for count in [0, 1, 5, 9, 10, 20] {
            let mut v = sample_indices(10, count, &mut rng);
            assert_eq!(v.len(), count.min(10));
            v.sort_unstable();
            v.dedup();
            assert_eq!(v.len(), count.min(10));
            assert!(v.iter().all(|&i| i < 10));
        }
        assert!(sample_indices(0, 7, &mut rng).is_empty());
    }

    #[test]
    fn scans_downwards_to_zero() {
        assert_eq!(scan_indices(0, 4, 10), (6, 6..10));
        assert_eq!(scan_indices(6, 4, 10), (2, 2..6));
        assert_eq!(scan_indices(2, 4, 10), (0, 0..2));
        // The table shrank below the cursor: resume from its end.
        assert_eq!(scan_indices(8, 4, 5), (1, 1..5));
        assert_eq!(scan_indices(0, 4, 0), (0, 0..0));
    }
}
