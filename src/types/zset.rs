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
        ZSet { repr: Repr::Pack(Listpack::new()) }
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

    /// Bytes allocated: the listpack, or the ranked form's.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        match &self.repr {
            Repr::Pack(lp) => lp.heap_bytes(),
            Repr::Big(ranked) => ranked.heap_bytes(samples),
        }
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
            if lp.len() / 2 < limits.zset_max_listpack_entries && member.len() <= limits.zset_max_listpack_value {
                pack_insert(lp, member, score);
                return;
            }
            self.convert_to_skiplist();
        }
        if let Repr::Big(r) = &mut self.repr {
            r.insert(member, score);
        }
    }

    /// Moves a listpack zset to the big form (SORT does it to every sorted
    /// set it reads, as Redis's zsetConvert, which OBJECT ENCODING shows).
    pub fn convert_to_skiplist(&mut self) {
        if let Repr::Pack(lp) = &self.repr {
            let mut r = Ranked::default();
            for (m, s) in pack_entries(lp) {
                m.with_bytes(|m| r.insert(m, s));
            }
            self.repr = Repr::Big(r);
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
            Repr::Pack(lp) => pack_entries(lp).partition_point(|(m, s)| m.with_bytes(|m| pred(*s, m))),
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
            Repr::Big(r) if rev => r.iter_rev_from(hi - 1).take(hi - lo).map(|(m, s)| (Elem::Str(m), s)).collect(),
            Repr::Big(r) => r.iter_from(lo).take(hi - lo).map(|(m, s)| (Elem::Str(m), s)).collect(),
        }
    }

    /// Removes ascending ranks `lo..hi`, returning them in ascending order.
    fn remove_ranks(&mut self, lo: usize, hi: usize) -> Vec<(Vec<u8>, f64)> {
        if lo >= hi {
            return Vec::new();
        }
        match &mut self.repr {
            Repr::Pack(lp) => {
                let out = pack_entries(lp)[lo..hi].iter().map(|(m, s)| (m.to_vec(), *s)).collect();
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
    fn limit_ranks((lo, hi): (usize, usize), rev: bool, offset: usize, limit: Option<usize>) -> (usize, usize) {
        let n = (hi - lo).saturating_sub(offset).min(limit.unwrap_or(usize::MAX));
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
    pub fn range_by_lex(&self, range: &LexRange, rev: bool, offset: usize, limit: Option<usize>) -> Vec<Scored<'_>> {
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
                Box::new(std::iter::from_fn(move || Some((it.next()?, score_of(it.next()?)))))
            }
            Repr::Big(r) => Box::new(r.iter_from(0).map(|(m, s)| (Elem::Str(m), s))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{parse_lex_range, parse_score_range, LexBound};
    use proptest::prelude::*;

    fn small() -> Limits {
        Limits { zset_max_listpack_entries: 4, zset_max_listpack_value: 8, ..Limits::default() }
    }

    fn add(z: &mut ZSet, m: &str, s: f64, lim: &Limits) -> AddOutcome {
        z.add(m.as_bytes(), s, AddFlags::default(), lim).unwrap()
    }

    fn names(v: &[Scored<'_>]) -> Vec<String> {
        v.iter().map(|(m, _)| String::from_utf8(m.to_vec()).unwrap()).collect()
    }

    /// A zset with a..e at scores 1..5 in the chosen encoding.
    fn abcde(big: bool) -> ZSet {
        let lim = if big { Limits { zset_max_listpack_entries: 0, ..small() } } else { Limits::default() };
        let z = ZSet::from_pairs([("c", 3.0), ("a", 1.0), ("e", 5.0), ("b", 2.0), ("d", 4.0)], &lim);
        assert_eq!(z.encoding(), if big { "skiplist" } else { "listpack" });
        z
    }

    #[test]
    fn add_follows_zadd_flags() {
        let lim = Limits::default();
        let f = |nx, xx, gt, lt, incr| AddFlags { nx, xx, gt, lt, incr };
        let mut z = ZSet::new();
        assert_eq!(z.add(b"a", 1.0, f(false, true, false, false, false), &lim), Ok(AddOutcome::Skipped));
        assert_eq!(z.add(b"a", 1.0, f(true, false, false, false, false), &lim), Ok(AddOutcome::Added(1.0)));
        assert_eq!(z.add(b"a", 2.0, f(true, false, false, false, false), &lim), Ok(AddOutcome::Skipped));
        assert_eq!(z.add(b"a", 1.0, AddFlags::default(), &lim), Ok(AddOutcome::Unchanged(1.0)));
        assert_eq!(z.add(b"a", 0.5, f(false, false, true, false, false), &lim), Ok(AddOutcome::Skipped));
        assert_eq!(z.add(b"a", 3.0, f(false, false, true, false, false), &lim), Ok(AddOutcome::Updated(3.0)));
        assert_eq!(z.add(b"a", 4.0, f(false, false, false, true, false), &lim), Ok(AddOutcome::Skipped));
        assert_eq!(z.add(b"a", -1.0, f(false, false, false, true, true), &lim), Ok(AddOutcome::Updated(2.0)));
        assert_eq!(z.add(b"a", 1.0, f(false, false, false, true, true), &lim), Ok(AddOutcome::Skipped));
        assert_eq!(z.add(b"a", 0.0, f(false, false, false, false, true), &lim), Ok(AddOutcome::Unchanged(2.0)));
        assert_eq!(z.add(b"b", 5.0, f(false, false, false, false, true), &lim), Ok(AddOutcome::Added(5.0)));
        assert_eq!(z.add(b"c", f64::INFINITY, AddFlags::default(), &lim), Ok(AddOutcome::Added(f64::INFINITY)));
        assert_eq!(z.add(b"c", f64::NEG_INFINITY, f(false, false, false, false, true), &lim), Err(ERR_NAN));
        assert_eq!(z.score(b"c"), Some(f64::INFINITY));
        assert_eq!(z.score(b"a"), Some(2.0));
        assert_eq!(z.len(), 3);
        assert!(z.remove(b"a") && !z.remove(b"a"));
        assert_eq!(z.score(b"a"), None);
    }

    #[test]
    fn orders_by_score_then_member() {
        for big in [false, true] {
            let lim = if big { Limits { zset_max_listpack_entries: 0, ..small() } } else { small() };
            let mut z = ZSet::new();
            add(&mut z, "b", 1.0, &lim);
            add(&mut z, "a", 1.0, &lim);
            add(&mut z, "10", 0.0, &lim);
            add(&mut z, "9", -0.0, &lim);
            let all: Vec<_> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
            assert_eq!(
                all,
                vec![(b"10".to_vec(), 0.0), (b"9".to_vec(), 0.0), (b"a".to_vec(), 1.0), (b"b".to_vec(), 1.0)]
            );
            add(&mut z, "10", 2.0, &lim);
            assert_eq!(z.rank(b"10", false), Some((3, 2.0)));
            assert_eq!(z.rank(b"10", true), Some((0, 2.0)));
            assert_eq!(z.rank(b"9", false), Some((0, 0.0)));
            assert_eq!(z.rank(b"x", false), None);
        }
    }

    #[test]
    fn converts_at_the_exact_thresholds() {
        let lim = small();
        let mut z = ZSet::new();
        for (i, m) in ["a", "b", "c", "d"].iter().enumerate() {
            add(&mut z, m, i as f64, &lim);
        }
        add(&mut z, "d", 9.0, &lim);
        assert_eq!(z.encoding(), "listpack");
        add(&mut z, "e", 0.5, &lim);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(names(&z.range_by_rank(0, -1, false)), ["a", "e", "b", "c", "d"]);
        z.pop(false, 4);
        assert_eq!(z.encoding(), "skiplist", "never converts back");

        let mut z = ZSet::new();
        add(&mut z, "12345678", 1.0, &lim);
        assert_eq!(z.encoding(), "listpack");
        add(&mut z, "123456789", 1.0, &lim);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.score(b"12345678"), Some(1.0));
        assert_eq!(ZSet::from_pairs((0..5).map(|i| (i.to_string(), 1.0)), &lim).encoding(), "skiplist");
        assert_eq!(ZSet::from_pairs((0..4).map(|i| (i.to_string(), 1.0)), &lim).encoding(), "listpack");
    }

    #[test]
    fn ranges_by_rank_score_and_lex() {
        for big in [false, true] {
            let z = abcde(big);
            assert_eq!(names(&z.range_by_rank(0, -1, false)), ["a", "b", "c", "d", "e"]);
            assert_eq!(names(&z.range_by_rank(1, 2, true)), ["d", "c"]);
            assert_eq!(names(&z.range_by_rank(-2, -1, true)), ["b", "a"]);
            assert!(z.range_by_rank(3, 1, false).is_empty());
            assert!(z.range_by_rank(5, 9, true).is_empty());

            let r = parse_score_range(b"(1", b"4").unwrap();
            assert_eq!(z.count_by_score(&r), 3);
            assert_eq!(names(&z.range_by_score(&r, false, 0, None)), ["b", "c", "d"]);
            assert_eq!(names(&z.range_by_score(&r, true, 0, None)), ["d", "c", "b"]);
            assert_eq!(names(&z.range_by_score(&r, false, 1, Some(1))), ["c"]);
            assert_eq!(names(&z.range_by_score(&r, true, 1, Some(5))), ["c", "b"]);
            assert!(z.range_by_score(&r, true, 3, None).is_empty());
            assert!(z.range_by_score(&r, false, 0, Some(0)).is_empty());
            let all = parse_score_range(b"-inf", b"+inf").unwrap();
            assert_eq!(z.count_by_score(&all), 5);
            let none = parse_score_range(b"4", b"(4").unwrap();
            assert_eq!(z.count_by_score(&none), 0);
            let inverted = parse_score_range(b"5", b"1").unwrap();
            assert_eq!(z.count_by_score(&inverted), 0);
            assert!(z.range_by_score(&inverted, true, 0, None).is_empty());

            let l = parse_lex_range(b"[b", b"(e").unwrap();
            assert_eq!(z.count_by_lex(&l), 3);
            assert_eq!(names(&z.range_by_lex(&l, true, 0, Some(2))), ["d", "c"]);
            assert_eq!(z.count_by_lex(&parse_lex_range(b"-", b"+").unwrap()), 5);
            assert_eq!(z.count_by_lex(&parse_lex_range(b"+", b"-").unwrap()), 0);
            assert_eq!(z.count_by_lex(&parse_lex_range(b"(e", b"+").unwrap()), 0);
        }
    }

    #[test]
    fn removes_ranges_and_pops() {
        for big in [false, true] {
            let mut z = abcde(big);
            assert_eq!(z.remove_range_by_rank(-2, -1), 2);
            assert_eq!(z.remove_range_by_rank(5, 9), 0);
            assert_eq!(names(&z.range_by_rank(0, -1, false)), ["a", "b", "c"]);
            let mut z = abcde(big);
            assert_eq!(z.remove_range_by_score(&parse_score_range(b"(1", b"(3").unwrap()), 1);
            assert_eq!(z.remove_range_by_lex(&parse_lex_range(b"[c", b"[d").unwrap()), 2);
            assert_eq!(names(&z.range_by_rank(0, -1, false)), ["a", "e"]);
            let mut z = abcde(big);
            assert_eq!(z.pop(true, 2), vec![(b"e".to_vec(), 5.0), (b"d".to_vec(), 4.0)]);
            assert_eq!(z.pop(false, 1), vec![(b"a".to_vec(), 1.0)]);
            assert_eq!(z.pop(false, 10).len(), 2);
            assert!(z.is_empty());
            assert!(z.pop(true, 1).is_empty());
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        Add(u8, i8, bool),
        Rem(u8),
        RemRank(i64, i64),
        RemScore(i8, i8),
        Pop(bool, u8),
    }

    fn member(b: u8) -> Vec<u8> {
        // Some members are integer text and one is too long for a listpack.
        match b % 12 {
            11 => vec![b'm'; 70],
            n if n % 2 == 0 => format!("{}", n * 7).into_bytes(),
            n => format!("m{n}").into_bytes(),
        }
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<u8>(), -5i8..5, any::<bool>()).prop_map(|(m, s, i)| Op::Add(m, s, i)),
            1 => any::<u8>().prop_map(Op::Rem),
            1 => (-8i64..8, -8i64..8).prop_map(|(a, b)| Op::RemRank(a, b)),
            1 => (-5i8..5, -5i8..5).prop_map(|(a, b)| Op::RemScore(a, b)),
            1 => (any::<bool>(), 0u8..4).prop_map(|(m, c)| Op::Pop(m, c)),
        ]
    }

    type Model = Vec<(f64, Vec<u8>)>;

    fn sorted(m: &std::collections::BTreeMap<Vec<u8>, f64>) -> Model {
        let mut v: Model = m.iter().map(|(k, s)| (*s, k.clone())).collect();
        v.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap().then(a.1.cmp(&b.1)));
        v
    }

    fn owned(v: &[Scored<'_>]) -> Model {
        v.iter().map(|(m, s)| (*s, m.to_vec())).collect()
    }

    proptest! {
        #[test]
        fn matches_a_btreemap_model(entries in 0usize..6, ops in prop::collection::vec(op(), 1..80)) {
            let lim = Limits { zset_max_listpack_entries: entries, zset_max_listpack_value: 64, ..Limits::default() };
            let mut z = ZSet::new();
            let mut m = std::collections::BTreeMap::<Vec<u8>, f64>::new();
            for op in ops {
                match op {
                    Op::Add(b, s, incr) => {
                        let (k, s) = (member(b), f64::from(s) / 2.0);
                        let flags = AddFlags { incr, ..AddFlags::default() };
                        let new = if incr { m.get(&k).unwrap_or(&0.0) + s } else { s };
                        z.add(&k, s, flags, &lim).unwrap();
                        m.insert(k, new);
                    }
                    Op::Rem(b) => prop_assert_eq!(z.remove(&member(b)), m.remove(&member(b)).is_some()),
                    Op::RemRank(a, b) => {
                        let v = sorted(&m);
                        let gone = clamp_range(a, b, v.len()).map_or(0, |(s, e)| {
                            for (_, k) in &v[s..=e] { m.remove(k); }
                            e - s + 1
                        });
                        prop_assert_eq!(z.remove_range_by_rank(a, b), gone);
                    }
                    Op::RemScore(a, b) => {
                        let r = ScoreRange { min: f64::from(a) / 2.0, max: f64::from(b) / 2.0, min_ex: a % 2 == 0, max_ex: false };
                        let before = m.len();
                        m.retain(|_, s| !r.contains(*s));
                        prop_assert_eq!(z.remove_range_by_score(&r), before - m.len());
                    }
                    Op::Pop(max, c) => {
                        let mut v = sorted(&m);
                        if max { v.reverse(); }
                        v.truncate(c as usize);
                        for (_, k) in &v { m.remove(k); }
                        let got: Model = z.pop(max, c as usize).into_iter().map(|(k, s)| (s, k)).collect();
                        prop_assert_eq!(got, v);
                    }
                }
                prop_assert_eq!(z.len(), m.len());
            }
            let v = sorted(&m);
            prop_assert_eq!(owned(&z.iter().collect::<Vec<_>>()), v.clone());
            for (i, (s, k)) in v.iter().enumerate() {
                prop_assert_eq!(z.score(k), Some(*s));
                prop_assert_eq!(z.rank(k, false), Some((i, *s)));
                prop_assert_eq!(z.rank(k, true), Some((v.len() - 1 - i, *s)));
            }
            for a in -4i64..4 {
                for b in -4i64..4 {
                    let want: Model = clamp_range(a, b, v.len()).map_or(vec![], |(s, e)| v[s..=e].to_vec());
                    prop_assert_eq!(owned(&z.range_by_rank(a, b, false)), want);
                    let mut rev = v.clone();
                    rev.reverse();
                    let want: Model = clamp_range(a, b, v.len()).map_or(vec![], |(s, e)| rev[s..=e].to_vec());
                    prop_assert_eq!(owned(&z.range_by_rank(a, b, true)), want);
                    let r = ScoreRange { min: a as f64 / 2.0, max: b as f64 / 2.0, min_ex: a % 2 != 0, max_ex: b % 3 == 0 };
                    let inr: Model = v.iter().filter(|(s, _)| r.contains(*s)).cloned().collect();
                    prop_assert_eq!(z.count_by_score(&r), inr.len());
                    let (off, lim) = ((a + 4) as usize / 2, (b + 4) as usize / 2);
                    let want: Model = inr.iter().skip(off).take(lim).cloned().collect();
                    prop_assert_eq!(owned(&z.range_by_score(&r, false, off, Some(lim))), want);
                    let want: Model = inr.iter().rev().skip(off).take(lim).cloned().collect();
                    prop_assert_eq!(owned(&z.range_by_score(&r, true, off, Some(lim))), want);
                }
            }
        }

        #[test]
        fn lex_ranges_match_a_model(n in 0usize..12, lo in 0u8..14, hi in 0u8..14, ex in any::<(bool, bool)>(), big in any::<bool>()) {
            let lim = Limits { zset_max_listpack_entries: if big { 0 } else { 128 }, ..Limits::default() };
            let keys: Vec<Vec<u8>> = (0..n).map(|i| vec![b'a' + i as u8 * 2]).collect();
            let z = ZSet::from_pairs(keys.iter().map(|k| (k, 0.0)), &lim);
            let bound = |c: u8, ex: bool| match (c, ex) {
                (0, _) => LexBound::NegInf,
                (13, _) => LexBound::PosInf,
                (c, true) => LexBound::Excl(vec![b'a' + c - 1]),
                (c, false) => LexBound::Incl(vec![b'a' + c - 1]),
            };
            let r = LexRange { min: bound(lo, ex.0), max: bound(hi, ex.1) };
            let want: Vec<Vec<u8>> = keys.iter().filter(|k| r.contains(k)).cloned().collect();
            prop_assert_eq!(z.count_by_lex(&r), want.len());
            let got: Vec<Vec<u8>> = z.range_by_lex(&r, true, 1, None).iter().map(|(m, _)| m.to_vec()).collect();
            prop_assert_eq!(got, want.iter().rev().skip(1).cloned().collect::<Vec<_>>());
            let mut z = z;
            prop_assert_eq!(z.remove_range_by_lex(&r), want.len());
            prop_assert_eq!(z.len(), n - want.len());
        }
    }
}
