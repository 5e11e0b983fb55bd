//! A Fenwick (binary indexed) tree over a sequence of counts: prefix sums
//! and "which position holds the n-th unit" in O(log n), so the big sorted
//! set finds a rank without walking its chunk list.

#[derive(Clone, Debug, Default)]
pub struct Fenwick {
    /// tree[i - 1] holds the sum of counts (i - lowbit(i), i].
    tree: Vec<usize>,
}

fn lowbit(i: usize) -> usize {
    i & i.wrapping_neg()
}

impl Fenwick {
    /// Replaces the counts, in O(n).
    pub fn rebuild(&mut self, counts: impl Iterator<Item = usize>) {
        self.tree.clear();
        self.tree.extend(counts);
        let n = self.tree.len();
        for i in 1..=n {
            let parent = i + lowbit(i);
            if parent <= n {
                self.tree[parent - 1] += self.tree[i - 1];
            }
        }
    }

    /// Adds `delta` to the count at `index`.
    pub fn add(&mut self, index: usize, delta: isize) {
        let mut i = index + 1;
        while i <= self.tree.len() {
            self.tree[i - 1] = self.tree[i - 1].wrapping_add_signed(delta);
            i += lowbit(i);
        }
    }

    /// The sum of the counts before `end`.
    pub fn prefix(&self, end: usize) -> usize {
        let (mut i, mut sum) = (end, 0);
        while i > 0 {
            sum += self.tree[i - 1];
            i -= lowbit(i);
        }
        sum
    }

    /// The position holding unit `rank` (0-based, below the total) and the
    /// rank's offset within that position's count. Counts must be > 0.
    pub fn find(&self, rank: usize) -> (usize, usize) {
        let n = self.tree.len();
        let (mut pos, mut left) = (0, rank);
        let mut step = if n == 0 { 0 } else { 1 << n.ilog2() };
        while step > 0 {
            if pos + step <= n && self.tree[pos + step - 1] <= left {
                pos += step;
                left -= self.tree[pos - 1];
            }
            step >>= 1;
        }
        (pos, left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn agrees_with_plain_sums(counts in prop::collection::vec(1usize..20, 0..70), edits in prop::collection::vec((0usize..70, 0usize..5), 0..30)) {
            let mut counts = counts;
            let mut f = Fenwick::default();
            f.rebuild(counts.iter().copied());
            for (at, to) in edits {
                if counts.is_empty() { break; }
                let at = at % counts.len();
                let to = to + 1;
                f.add(at, to as isize - counts[at] as isize);
                counts[at] = to;
            }
            let mut before = 0;
            for (i, &c) in counts.iter().enumerate() {
                prop_assert_eq!(f.prefix(i), before);
                for k in 0..c {
                    prop_assert_eq!(f.find(before + k), (i, k));
                }
                before += c;
            }
            prop_assert_eq!(f.prefix(counts.len()), before);
        }
    }
}
