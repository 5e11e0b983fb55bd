//! Sorted set values: a listpack of member, score pairs sorted by (score,
//! member) while small, else the chunked ranked form (reported as "skiplist",
//! see `ranked.rs`); never converted back (as Redis). Listpack scores are the
//! f64's 8 bytes, so they round-trip exactly with no float formatting.

use super::listpack::{Listpack, Needle};
use super::ranked::{key_lt, Ranked};
use super::{clamp_range, Elem, LexRange, Limits, ScoreRange};

pub const ERR_NAN: &str = "ERR resulting score is not a number (NaN)";

#[derive(Clone, Debug)]
enum Repr {
    Pack(Listpack),
    Big(Ranked),
}

#[derive(Clone, Debug)]
pub struct ZSet {
    repr: Repr,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet {
            repr: Repr::Pack(Listpack::new()),
        }
    }
}

/// ZADD's options. GT/LT/NX compatibility is checked by the caller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

/// What `ZSet::add` did, with the resulting score where there is one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AddOutcome {
    /// A new member (counts for ZADD's reply).
    Added(f64),
    /// An existing member's score changed (counts with CH).
    Updated(f64),
    /// An existing member already had this score.
    Unchanged(f64),
    /// NX/XX/GT/LT prevented the change (ZADD INCR replies nil).
    Skipped,
}

/// A member and its score.
pub type Scored<'a> = (Elem<'a>, f64);

fn score_of(e: Elem<'_>) -> f64 {
    e.with_bytes(|b| f64::from_le_bytes(b.try_into().expect("an 8-byte score")))
}

fn score_bytes(s: f64) -> [u8; 8] {
    s.to_le_bytes()
}

/// The pairs of a listpack zset, in order.
fn pack_entries(lp: &Listpack) -> Vec<Scored<'_>> {
    let mut it = lp.iter();
    let mut out = Vec::with_capacity(lp.len() / 2);
    while let (Some(m), Some(s)) = (it.next(), it.next()) {
        out.push((m, score_of(s)));
    }
    out
}

/// Position and score of `member` in a listpack zset.
fn pack_find(lp: &Listpack, member: &[u8]) -> Option<(usize, f64)> {
    let needle = Needle::new(member);
    let mut pos = lp.first();
    while let Some(p) = pos {
        let sp = lp.next(p)?;
        if needle.matches(lp.get(p)) {
            return Some((p, score_of(lp.get(sp))));
        }
        pos = lp.next(sp);
    }
    None
}

/// Inserts an absent member at its sorted place in a listpack zset.
fn pack_insert(lp: &mut Listpack, member: &[u8], score: f64) {
    let mut pos = lp.first();
    while let Some(p) = pos {
        let sp = lp.next(p).expect("a member has a score");
        let s = score_of(lp.get(sp));
        if lp.get(p).with_bytes(|m| key_lt((score, member), (s, m))) {
            break;
        }
        pos = lp.next(sp);
    }
    let at = pos.unwrap_or(lp.end());
    lp.insert(at, member);
    let sp = lp.next(at).unwrap_or(lp.end());
    lp.insert(sp, &score_bytes(score));
}

impl ZSet {
    pub fn new() -> Self {
        ZSet::default()
    }

    /// A sorted set of `pairs` (for loading), compact when it fits the
    /// limits; later duplicates of a member overwrite earlier ones.
    pub fn from_pairs<I, M>(pairs: I, limits: &Limits) -> Self
    where
        I: IntoIterator<Item = (M, f64)>,
        M: AsRef<[u8]>,
    {
        let mut z = ZSet::new();
        for (m, s) in pairs {
            // Infallible: without INCR no new NaN can arise.
            let _ = z.add(m.as_ref(), s, AddFlags::default(), limits);
        }
        z
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Pack(lp) => lp.len() / 2,
            Repr::Big(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Pack(_) => "listpack",
            Repr::Big(_) => "skiplist",
        }
    }

    /// ZSCORE.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Pack(lp) => pack_find(lp, member).map(|(_, s)| s),
            Repr::Big(r) => r.score(member),
        }
    }

    /// Adds an absent member, converting first when it would outgrow the
    /// listpack limits.
    fn insert(&mut self, member: &[u8], score: f64, limits: &Limits) {
        if let Repr::Pack(lp) = &mut self.repr {
            if lp.len() / 2 < limits.zset_max_listpack_entries
                && member.len() <= limits.zset_max_listpack_value
            {
                pack_insert(lp, member, score);
                return;
            }
            let mut r = Ranked::default();
            for (m, s) in pack_entries(lp) {
                m.with_bytes(|m| r.insert(m, s));
            }
            self.repr = Repr::Big(r);
        }
        if let Repr::Big(r) = &mut self.repr {
            r.insert(member, score);
        }
    }

    /// ZADD/ZINCRBY with Redis's NX/XX/GT/LT/INCR rules. `score` is never
    /// NaN; an INCR whose sum is NaN (inf + -inf) is an error.
    pub fn add(
        &mut self,
        member: &[u8],
        score: f64,
        flags: AddFlags,
        limits: &Limits,
    ) -> Result<AddOutcome, &'static str> {
        debug_assert!(!score.is_nan(), "callers reject NaN");
        let Some(cur) = self.score(member) else {
            if flags.xx {
                return Ok(AddOutcome::Skipped);
            }
            self.insert(member, score, limits);
            return Ok(AddOutcome::Added(score));
        };
        if flags.nx {
            return Ok(AddOutcome::Skipped);
        }
        let new = if flags.incr { cur + score } else { score };
        if new.is_nan() {
            return Err(ERR_NAN);
        }
        if (flags.lt && new >= cur) || (flags.gt && new <= cur) {
            return Ok(AddOutcome::Skipped);
        }
        if new == cur {
            return Ok(AddOutcome::Unchanged(new));
        }
        self.remove(member);
        self.insert(member, new, limits);
        Ok(AddOutcome::Updated(new))
    }

    /// ZREM: true when the member was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Pack(lp) => match pack_find(lp, member) {
                Some((p, _)) => {
                    lp.delete(p, 2);
                    true
                }
                None => false,
            },
            Repr::Big(r) => r.remove(member).is_some(),
        }
    }

    /// The number of leading entries (in ascending order) for which `pred`
    /// holds; `pred` must hold for a prefix only.
    fn partition(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        match &self.repr {
            Repr::Pack(lp) => {
                pack_entries(lp).partition_point(|(m, s)| m.with_bytes(|m| pred(*s, m)))
            }
            Repr::Big(r) => r.partition(pred),
        }
    }

    /// Entries of ascending ranks `lo..hi`, ascending or (`rev`) descending.
    fn span(&self, lo: usize, hi: usize, rev: bool) -> Vec<Scored<'_>> {
        if lo >= hi {
            return Vec::new();
        }
        match &self.repr {
            Repr::Pack(lp) => {
                let mut v = pack_entries(lp);
                v.truncate(hi);
                v.drain(..lo);
                if rev {
                    v.reverse();
                }
                v
            }
            Repr::Big(r) if rev => r
                .iter_rev_from(hi - 1)
                .take(hi - lo)
                .map(|(m, s)| (Elem::Str(m), s))
                .collect(),
            Repr::Big(r) => r
                .iter_from(lo)
                .take(hi - lo)
                .map(|(m, s)| (Elem::Str(m), s))
                .collect(),
        }
    }

    /// Removes ascending ranks `lo..hi`, returning them in ascending order.
    fn remove_ranks(&mut self, lo: usize, hi: usize) -> Vec<(Vec<u8>, f64)> {
        if lo >= hi {
            return Vec::new();
        }
        match &mut self.repr {
            Repr::Pack(lp) => {
                let out = pack_entries(lp)[lo..hi]
                    .iter()
                    .map(|(m, s)| (m.to_vec(), *s))
                    .collect();
                let p = lp.seek(2 * lo).expect("lo < len");
                lp.delete(p, 2 * (hi - lo));
                out
            }
            Repr::Big(r) => r.remove_ranks(lo, hi),
        }
    }

    /// ZRANK/ZREVRANK: the member's rank (0-based) and score.
    pub fn rank(&self, member: &[u8], rev: bool) -> Option<(usize, f64)> {
        let score = self.score(member)?;
        let r = self.partition(|s, m| key_lt((s, m), (score, member)));
        Some((if rev { self.len() - 1 - r } else { r }, score))
    }

    /// Ascending ranks `lo..hi` of the entries within a score range.
    fn score_ranks(&self, range: &ScoreRange) -> (usize, usize) {
        let lo = self.partition(|s, _| !range.above_min(s));
        let hi = self.partition(|s, _| range.below_max(s));
        (lo, hi.max(lo))
    }

    /// Ascending ranks `lo..hi` of the entries within a lex range.
    fn lex_ranks(&self, range: &LexRange) -> (usize, usize) {
        let lo = self.partition(|_, m| !range.above_min(m));
        let hi = self.partition(|_, m| range.below_max(m));
        (lo, hi.max(lo))
    }

    /// Applies LIMIT offset/count to ranks `lo..hi` walked in `rev` order.
    fn limit_ranks(
        (lo, hi): (usize, usize),
        rev: bool,
        offset: usize,
        limit: Option<usize>,
    ) -> (usize, usize) {
        let n = (hi - lo)
            .saturating_sub(offset)
            .min(limit.unwrap_or(usize::MAX));
        if rev {
            let top = hi.saturating_sub(offset).max(lo);
            (top - n, top)
        } else {
            let bottom = (lo + offset).min(hi);
            (bottom, bottom + n)
        }
    }

    /// ZCOUNT.
    pub fn count_by_score(&self, range: &ScoreRange) -> usize {
        let (lo, hi) = self.score_ranks(range);
        hi - lo
    }

    /// ZLEXCOUNT.
    pub fn count_by_lex(&self, range: &LexRange) -> usize {
        let (lo, hi) = self.lex_ranks(range);
        hi - lo
    }

    /// ZRANGE by index (LRANGE's index rules); `rev` counts ranks from the
    /// highest score and returns descending.
    pub fn range_by_rank(&self, start: i64, stop: i64, rev: bool) -> Vec<Scored<'_>> {
        let len = self.len();
        match clamp_range(start, stop, len) {
            Some((s, e)) if rev => self.span(len - 1 - e, len - s, true),
            Some((s, e)) => self.span(s, e + 1, false),
            None => Vec::new(),
        }
    }

    /// ZRANGEBYSCORE / ZREVRANGEBYSCORE (with `range` min <= max either way)
    /// and LIMIT `offset` `limit` (`None` = all).
    pub fn range_by_score(
        &self,
        range: &ScoreRange,
        rev: bool,
        offset: usize,
        limit: Option<usize>,
    ) -> Vec<Scored<'_>> {
        let (lo, hi) = Self::limit_ranks(self.score_ranks(range), rev, offset, limit);
        self.span(lo, hi, rev)
    }

    /// ZRANGEBYLEX / ZREVRANGEBYLEX, like `range_by_score`.
    pub fn range_by_lex(
        &self,
        range: &LexRange,
        rev: bool,
        offset: usize,
        limit: Option<usize>,
    ) -> Vec<Scored<'_>> {
        let (lo, hi) = Self::limit_ranks(self.lex_ranks(range), rev, offset, limit);
        self.span(lo, hi, rev)
    }

    /// ZREMRANGEBYRANK: the number removed.
    pub fn remove_range_by_rank(&mut self, start: i64, stop: i64) -> usize {
        match clamp_range(start, stop, self.len()) {
            Some((s, e)) => self.remove_ranks(s, e + 1).len(),
            None => 0,
        }
    }

    /// ZREMRANGEBYSCORE: the number removed.
    pub fn remove_range_by_score(&mut self, range: &ScoreRange) -> usize {
        let (lo, hi) = self.score_ranks(range);
        self.remove_ranks(lo, hi).len()
    }

    /// ZREMRANGEBYLEX: the number removed.
    pub fn remove_range_by_lex(&mut self, range: &LexRange) -> usize {
        let (lo, hi) = self.lex_ranks(range);
        self.remove_ranks(lo, hi).len()
    }

    /// ZPOPMIN/ZPOPMAX: up to `count` entries, lowest (or, with `max`,
    /// highest) first.
    pub fn pop(&mut self, max: bool, count: usize) -> Vec<(Vec<u8>, f64)> {
        let len = self.len();
        let n = count.min(len);
        if max {
            let mut v = self.remove_ranks(len - n, len);
            v.reverse();
            v
        } else {
            self.remove_ranks(0, n)
        }
    }

    /// All entries in ascending order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = Scored<'_>> + '_> {
        match &self.repr {
            Repr::Pack(lp) => {
                let mut it = lp.iter();
                Box::new(std::iter::from_fn(move || {
                    Some((it.next()?, score_of(it.next()?)))
                }))
            }
            Repr::Big(r) => Box::new(r.iter_from(0).map(|(m, s)| (Elem::Str(m), s))),
        }
    }
}
