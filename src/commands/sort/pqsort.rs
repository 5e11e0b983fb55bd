//! Redis's pqsort: Bentley & McIlroy's quicksort that skips partitions
//! outside the wanted index range, which SORT BY … LIMIT uses. Ported step
//! for step, because it is not stable: elements its comparator calls equal
//! (weights that tie, or are all missing) come out in the order its swaps
//! leave them, and that order is part of what SORT replies.

use std::cmp::Ordering::{self, Equal, Greater, Less};

/// Sorts `v` enough that indexes `lrange..=rrange` hold what a full sort
/// would put there (the bounds may lie outside `v`, as Redis passes them).
pub fn pqsort<T>(v: &mut [T], cmp: &mut impl FnMut(&T, &T) -> Ordering, lrange: i64, rrange: i64) {
    partial(v, 0, v.len(), cmp, (lrange, rrange));
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &mut impl FnMut(&T, &T) -> Ordering) -> usize {
    if cmp(&v[a], &v[b]) == Less {
        if cmp(&v[b], &v[c]) == Less {
            b
        } else if cmp(&v[a], &v[c]) == Less {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) == Greater {
        b
    } else if cmp(&v[a], &v[c]) == Less {
        a
    } else {
        c
    }
}

fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

/// Whether `range` misses the `n` elements from `base` altogether.
fn outside((lrange, rrange): (i64, i64), base: usize, n: usize) -> bool {
    let (first, last) = (base as i64, (base + n) as i64 - 1);
    (lrange < first && rrange < first) || (lrange > last && rrange > last)
}

/// The `n` elements from `base`.
fn partial<T>(v: &mut [T], mut base: usize, mut n: usize, cmp: &mut impl FnMut(&T, &T) -> Ordering, range: (i64, i64)) {
    loop {
        if n < 7 {
            for m in base + 1..base + n {
                let mut l = m;
                while l > base && cmp(&v[l - 1], &v[l]) == Greater {
                    v.swap(l, l - 1);
                    l -= 1;
                }
            }
            return;
        }
        let mut pm = base + n / 2;
        if n > 7 {
            let mut pl = base;
            let mut pn = base + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(base, pm);
        let (mut pa, mut pb) = (base + 1, base + 1);
        let (mut pc, mut pd) = (base + n - 1, base + n - 1);
        loop {
            while pb <= pc {
                let order = cmp(&v[pb], &v[base]);
                if order == Greater {
                    break;
                }
                if order == Equal {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let order = cmp(&v[pc], &v[base]);
                if order == Less {
                    break;
                }
                if order == Equal {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let end = base + n;
        let r = (pa - base).min(pb - pa);
        vecswap(v, base, pb - r, r);
        let r = (pd - pc).min(end - pd - 1);
        vecswap(v, pb, end - r, r);
        let left = pb - pa;
        if left > 1 && !outside(range, base, left) {
            partial(v, base, left, cmp, range);
        }
        let right = pd - pc;
        if right <= 1 {
            return;
        }
        // The right part in the loop rather than by recursion, as Redis.
        base = end - right;
        n = right;
        if outside(range, base, n) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_asked_range_is_what_a_full_sort_gives(
            mut v in proptest::collection::vec(0u16..500, 0..300),
            a in 0i64..300,
            len in 0i64..300,
        ) {
            let mut sorted = v.clone();
            sorted.sort_unstable();
            let (l, r) = (a, a + len - 1);
            pqsort(&mut v, &mut |x: &u16, y: &u16| x.cmp(y), l, r);
            let (lo, hi) = (l.min(v.len() as i64) as usize, (r + 1).clamp(0, v.len() as i64) as usize);
            if lo < hi {
                prop_assert_eq!(&v[lo..hi], &sorted[lo..hi]);
            }
            v.sort_unstable();
            prop_assert_eq!(v, sorted, "a permutation");
        }
    }

    #[test]
    fn a_whole_range_sorts_everything() {
        let mut v: Vec<u32> = (0..1000).map(|i| (i * 7919) % 1009).collect();
        pqsort(&mut v, &mut |x: &u32, y: &u32| x.cmp(y), 0, 999);
        assert!(v.windows(2).all(|w| w[0] <= w[1]));
    }

    /// Outputs of Redis's own pqsort.c (compiled from 7.0.15) on the same
    /// inputs: keys with many ties, tagged with their first position.
    #[test]
    fn ties_end_where_redis_pqsort_leaves_them() {
        let cases: [(u32, u32, i64, i64, u32, &str); 3] = [
            (10, 2, 0, 2, 0, "2 6 4 8 0 9 1 3 5 7"),
            (60, 3, 5, 14, 1, "19 7 22 37 52 25 34 1 28 31 10 49 4 13 46 55 16 43 58 40 45 3 6 9 12 15 18 21 24 27 30 33 36 39 42 0 48 51 54 57 20 41 2 17 44 5 14 47 56 11 50 29 32 59 26 35 8 23 38 53"),
            (100, 5, 0, 9, 2, "92 42 22 77 12 87 47 27 72 97 52 17 32 67 82 7 57 37 62 2 61 41 56 91 46 51 11 86 16 81 96 21 76 1 26 71 6 31 66 36 75 5 10 15 20 25 30 35 40 45 50 55 60 65 70 0 80 85 90 95 8 39 38 63 64 93 34 33 68 69 94 29 28 73 74 99 24 23 78 79 4 19 18 83 84 3 14 13 88 89 98 49 48 53 54 9 44 43 58 59"),
        ];
        for (n, modulo, l, r, seed, want) in cases {
            let mut v: Vec<(u32, u32)> = (0..n).map(|i| ((i * 7919 + seed * 31) % modulo, i)).collect();
            pqsort(&mut v, &mut |x: &(u32, u32), y: &(u32, u32)| x.0.cmp(&y.0), l, r);
            let got: Vec<String> = v.iter().map(|p| p.1.to_string()).collect();
            assert_eq!(got.join(" "), want);
        }
    }
}
