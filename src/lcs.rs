//! The longest common subsequence of two strings, as Redis 7.0's LCS
//! command computes it (`lcsCommand` in t_string.c): the plain dynamic
//! programming table in one allocation of `(alen+1)*(blen+1)` `u32`s,
//! refused like Redis's when too large, then one walk back from the end
//! that collects the subsequence and its contiguous matching ranges, last
//! range first (Redis's order).

/// One run of bytes common to both strings: inclusive byte ranges in each,
/// and the run's length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    pub a: (u32, u32),
    pub b: (u32, u32),
    pub len: u32,
}

/// Why Redis would not build the table; `message` is its error reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LcsError {
    /// A string of `u32::MAX - 1` bytes or more.
    TooLong,
    /// The table would take more bytes than proto-max-bulk-len.
    OverLimit,
    /// The table's size overflows, or the allocation failed.
    NoMemory,
}

impl LcsError {
    pub fn message(self) -> &'static str {
        match self {
            LcsError::TooLong => "ERR String too long for LCS",
            LcsError::OverLimit => "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
            LcsError::NoMemory => "ERR Insufficient memory, failed allocating transient memory for LCS",
        }
    }
}

/// The filled table: `cell(i, j)` is the LCS length of `a[..i]` and `b[..j]`.
pub struct Table<'s> {
    a: &'s [u8],
    b: &'s [u8],
    cells: Vec<u32>,
}

/// What the walk back collects.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Walk {
    /// The common subsequence, when asked for.
    pub string: Option<Vec<u8>>,
    /// The matching ranges of at least the minimum length, when asked for.
    pub matches: Option<Vec<Match>>,
}

/// Builds the table, with Redis's checks: a string too long, a table over
/// `max_bytes` (proto-max-bulk-len), a size that overflows or memory that
/// cannot be had, in that order.
pub fn table<'s>(a: &'s [u8], b: &'s [u8], max_bytes: u64) -> Result<Table<'s>, LcsError> {
    let limit = u32::MAX as usize - 1;
    if a.len() >= limit || b.len() >= limit {
        return Err(LcsError::TooLong);
    }
    let rows = a.len() as u64 + 1;
    let width = b.len() as u64 + 1;
    let size = rows * width; // < 2^64: both are below 2^32.
    let bytes = size.checked_mul(std::mem::size_of::<u32>() as u64).filter(|&n| n < usize::MAX as u64);
    let Some(bytes) = bytes else { return Err(LcsError::NoMemory) };
    if bytes > max_bytes {
        return Err(LcsError::OverLimit);
    }
    let size = usize::try_from(size).map_err(|_| LcsError::NoMemory)?;
    let mut cells: Vec<u32> = Vec::new();
    // Redis's ztrymalloc: a failed allocation is an error reply, not an abort.
    cells.try_reserve_exact(size).map_err(|_| LcsError::NoMemory)?;
    cells.resize(size, 0);
    let width = width as usize;
    // Row 0 and column 0 stay 0; each row is computed from the one above.
    for i in 1..=a.len() {
        let (above, row) = cells[(i - 1) * width..(i + 1) * width].split_at_mut(width);
        let ai = a[i - 1];
        let mut left = 0u32;
        for j in 1..width {
            let cell = if ai == b[j - 1] { above[j - 1] + 1 } else { above[j].max(left) };
            row[j] = cell;
            left = cell;
        }
    }
    Ok(Table { a, b, cells })
}

impl Table<'_> {
    fn cell(&self, i: u32, j: u32) -> u32 {
        self.cells[i as usize * (self.b.len() + 1) + j as usize]
    }

    /// The length of the longest common subsequence.
    pub fn len(&self) -> u32 {
        self.cell(self.a.len() as u32, self.b.len() as u32)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Walks back from the table's end as Redis does, collecting the
    /// subsequence (`string`) and/or the ranges (`ranges`) of at least
    /// `min_match_len` bytes (0 or less: all of them).
    pub fn walk(&self, string: bool, ranges: bool, min_match_len: i64) -> Walk {
        let (a, b) = (self.a, self.b);
        let alen = a.len() as u32;
        let mut idx = self.len();
        let mut result = string.then(|| vec![0u8; idx as usize]);
        let mut matches = ranges.then(Vec::new);
        if !string && !ranges {
            return Walk::default();
        }
        // `arange_start == alen` means no range is open.
        let (mut arange_start, mut arange_end, mut brange_start, mut brange_end) = (alen, 0u32, 0u32, 0u32);
        let (mut i, mut j) = (alen, b.len() as u32);
        while i > 0 && j > 0 {
            let mut emit_range = false;
            if a[i as usize - 1] == b[j as usize - 1] {
                if let Some(r) = result.as_mut() {
                    r[idx as usize - 1] = a[i as usize - 1];
                }
                if arange_start == alen {
                    arange_start = i - 1;
                    arange_end = i - 1;
                    brange_start = j - 1;
                    brange_end = j - 1;
                } else if arange_start == i && brange_start == j {
                    // Contiguous with the open range: extend it backward.
                    arange_start -= 1;
                    brange_start -= 1;
                } else {
                    emit_range = true;
                }
                // At the first byte of either string the walk ends.
                if arange_start == 0 || brange_start == 0 {
                    emit_range = true;
                }
                idx -= 1;
                i -= 1;
                j -= 1;
            } else {
                if self.cell(i - 1, j) > self.cell(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                if arange_start != alen {
                    emit_range = true;
                }
            }
            // Computed as Redis does, wrapping while no range is open.
            let match_len = arange_end.wrapping_sub(arange_start).wrapping_add(1);
            if emit_range {
                if min_match_len <= 0 || i64::from(match_len) >= min_match_len {
                    if let Some(m) = matches.as_mut() {
                        m.push(Match { a: (arange_start, arange_end), b: (brange_start, brange_end), len: match_len });
                    }
                }
                arange_start = alen;
            }
        }
        Walk { string: result, matches }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_LIMIT: u64 = u64::MAX;

    fn lcs_string(a: &[u8], b: &[u8]) -> Vec<u8> {
        table(a, b, NO_LIMIT).unwrap().walk(true, false, 0).string.unwrap()
    }

    fn ranges(a: &[u8], b: &[u8], min: i64) -> Vec<Match> {
        table(a, b, NO_LIMIT).unwrap().walk(false, true, min).matches.unwrap()
    }

    fn m(a: (u32, u32), b: (u32, u32), len: u32) -> Match {
        Match { a, b, len }
    }

    /// The subsequence the brute-force way: is `s` a subsequence of `t`?
    fn is_subsequence(s: &[u8], t: &[u8]) -> bool {
        let mut it = t.iter();
        s.iter().all(|c| it.any(|x| x == c))
    }

    #[test]
    fn small_cases() {
        assert_eq!(lcs_string(b"ohmytext", b"mynewtext"), b"mytext");
        assert_eq!(lcs_string(b"", b"abc"), b"");
        assert_eq!(lcs_string(b"abc", b""), b"");
        assert_eq!(lcs_string(b"", b""), b"");
        assert_eq!(lcs_string(b"abc", b"abc"), b"abc");
        assert_eq!(lcs_string(b"abc", b"xyz"), b"");
        assert_eq!(table(b"ohmytext", b"mynewtext", NO_LIMIT).unwrap().len(), 6);
        assert!(table(b"", b"x", NO_LIMIT).unwrap().is_empty());
    }

    /// Redis's documentation example (LCS key1 key2 IDX MINMATCHLEN 4
    /// WITHMATCHLEN and without the minimum).
    #[test]
    fn ranges_as_in_redis_docs() {
        assert_eq!(ranges(b"ohmytext", b"mynewtext", 0), vec![m((4, 7), (5, 8), 4), m((2, 3), (0, 1), 2)]);
        assert_eq!(ranges(b"ohmytext", b"mynewtext", 4), vec![m((4, 7), (5, 8), 4)]);
        assert_eq!(ranges(b"ohmytext", b"mynewtext", -3), ranges(b"ohmytext", b"mynewtext", 0));
        assert_eq!(ranges(b"abc", b"xyz", 0), vec![]);
        assert_eq!(ranges(b"", b"", 0), vec![]);
    }

    /// string.tcl's "LCS indexes" case.
    #[test]
    fn ranges_as_in_redis_tests() {
        let rna1 = b"CACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTTCGTCCGGGTGTG";
        let rna2 = b"ATTAAAGGTTTATACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT";
        let want = vec![
            m((238, 238), (239, 239), 1),
            m((236, 236), (238, 238), 1),
            m((229, 230), (236, 237), 2),
            m((224, 224), (235, 235), 1),
            m((1, 222), (13, 234), 222),
        ];
        assert_eq!(ranges(rna1, rna2, 0), want);
        assert_eq!(ranges(rna1, rna2, 5), vec![m((1, 222), (13, 234), 222)]);
        assert_eq!(table(rna1, rna2, NO_LIMIT).unwrap().len(), 227);
    }

    /// Over random strings: the subsequence is common to both and as long
    /// as the table says, its bytes are the ranges' bytes (read back to
    /// front), every range matches, and the ranges tile it.
    #[test]
    fn random_strings_are_consistent() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..500 {
            let mut s = || -> Vec<u8> { (0..next() % 40).map(|_| b"abc"[(next() % 3) as usize]).collect() };
            let (a, b) = (s(), s());
            let t = table(&a, &b, NO_LIMIT).unwrap();
            let w = t.walk(true, true, 0);
            let (string, matches) = (w.string.unwrap(), w.matches.unwrap());
            assert_eq!(string.len(), t.len() as usize);
            assert!(is_subsequence(&string, &a) && is_subsequence(&string, &b));
            let mut from_ranges = Vec::new();
            for r in matches.iter().rev() {
                let (sa, sb) = (&a[r.a.0 as usize..=r.a.1 as usize], &b[r.b.0 as usize..=r.b.1 as usize]);
                assert_eq!(sa, sb);
                assert_eq!(sa.len(), r.len as usize);
                from_ranges.extend_from_slice(sa);
            }
            assert_eq!(from_ranges, string);
            for min in 1..4 {
                let kept: Vec<Match> = matches.iter().filter(|r| r.len as i64 >= min).copied().collect();
                assert_eq!(t.walk(false, true, min).matches.unwrap(), kept);
            }
        }
    }

    #[test]
    fn brute_force_length_agrees() {
        fn brute(a: &[u8], b: &[u8]) -> usize {
            match (a.split_first(), b.split_first()) {
                (Some((x, ra)), Some((y, rb))) if x == y => 1 + brute(ra, rb),
                (Some((_, ra)), Some((_, rb))) => brute(ra, b).max(brute(a, rb)),
                _ => 0,
            }
        }
        for (a, b) in [("abcbdab", "bdcaba"), ("aaaa", "aa"), ("abab", "baba"), ("xyz", "zyx")] {
            assert_eq!(
                table(a.as_bytes(), b.as_bytes(), NO_LIMIT).unwrap().len() as usize,
                brute(a.as_bytes(), b.as_bytes())
            );
        }
    }

    /// The table may take exactly the limit, not a byte more.
    #[test]
    fn memory_guard() {
        let limit = 1024 * 1024; // 4 * 512 * 512
        let (a511, a512) = (vec![b'a'; 511], vec![b'a'; 512]);
        assert!(table(&a511, &a511, limit).is_ok());
        assert_eq!(table(&a511, &a512, limit).err(), Some(LcsError::OverLimit));
        assert_eq!(table(b"", b"", 3).err(), Some(LcsError::OverLimit));
        assert!(table(b"", b"", 4).is_ok());
        assert_eq!(
            LcsError::OverLimit.message(),
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
        );
    }

    #[test]
    fn one_allocation_of_the_full_table() {
        let t = table(b"abcd", b"xy", NO_LIMIT).unwrap();
        assert_eq!(t.cells.len(), 5 * 3);
        assert_eq!(t.cells.capacity(), 5 * 3);
    }

    #[test]
    fn nothing_asked_walks_nothing() {
        assert_eq!(table(b"ab", b"ab", NO_LIMIT).unwrap().walk(false, false, 0), Walk::default());
    }
}
