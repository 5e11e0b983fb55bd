//! An intset: sorted integers in the narrowest width (16/32/64 bits) that
//! holds them all, as Redis's intset. Lookups are binary searches; the width
//! only ever grows.

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntSet {
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
}

impl Default for IntSet {
    fn default() -> Self {
        IntSet::I16(Vec::new())
    }
}

/// Runs `$body` with `$v` bound to the inner vector, whatever its width.
macro_rules! each_width {
    ($s:expr, $v:ident => $body:expr) => {
        match $s {
            IntSet::I16($v) => $body,
            IntSet::I32($v) => $body,
            IntSet::I64($v) => $body,
        }
    };
}

/// Inserts into a sorted vector, growing it by exactly one slot (compactness
/// over amortized growth, as Redis's intset; jemalloc often grows in place).
fn insert_sorted<T: Ord + Copy>(v: &mut Vec<T>, x: T) -> bool {
    match v.binary_search(&x) {
        Ok(_) => false,
        Err(i) => {
            v.reserve_exact(1);
            v.insert(i, x);
            true
        }
    }
}

impl IntSet {
    pub fn new() -> Self {
        IntSet::default()
    }

    pub fn len(&self) -> usize {
        each_width!(self, v => v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes allocated for the elements.
    pub fn heap_bytes(&self) -> usize {
        each_width!(self, v => v.capacity()) * self.width()
    }

    /// Bytes per element.
    pub fn width(&self) -> usize {
        match self {
            IntSet::I16(_) => 2,
            IntSet::I32(_) => 4,
            IntSet::I64(_) => 8,
        }
    }

    pub fn contains(&self, x: i64) -> bool {
        match self {
            IntSet::I16(v) => i16::try_from(x).is_ok_and(|x| v.binary_search(&x).is_ok()),
            IntSet::I32(v) => i32::try_from(x).is_ok_and(|x| v.binary_search(&x).is_ok()),
            IntSet::I64(v) => v.binary_search(&x).is_ok(),
        }
    }

    fn upgrade_for(&mut self, x: i64) {
        let needed = if i16::try_from(x).is_ok() {
            2
        } else if i32::try_from(x).is_ok() {
            4
        } else {
            8
        };
        if needed <= self.width() {
            return;
        }
        let all: Vec<i64> = self.iter().collect();
        *self = if needed == 4 { IntSet::I32(all.into_iter().map(|n| n as i32).collect()) } else { IntSet::I64(all) };
    }

    /// Adds `x`; false when already present.
    pub fn insert(&mut self, x: i64) -> bool {
        self.upgrade_for(x);
        match self {
            IntSet::I16(v) => insert_sorted(v, x as i16),
            IntSet::I32(v) => insert_sorted(v, x as i32),
            IntSet::I64(v) => insert_sorted(v, x),
        }
    }

    /// Removes `x`; false when absent.
    pub fn remove(&mut self, x: i64) -> bool {
        let idx = match self {
            IntSet::I16(v) => i16::try_from(x).ok().and_then(|x| v.binary_search(&x).ok()),
            IntSet::I32(v) => i32::try_from(x).ok().and_then(|x| v.binary_search(&x).ok()),
            IntSet::I64(v) => v.binary_search(&x).ok(),
        };
        idx.map(|i| self.remove_at(i)).is_some()
    }

    /// The element at sorted position `i`.
    #[allow(clippy::useless_conversion)] // the i64 arm of the macro
    pub fn get(&self, i: usize) -> i64 {
        each_width!(self, v => i64::from(v[i]))
    }

    /// Removes and returns the element at sorted position `i`.
    #[allow(clippy::useless_conversion)] // the i64 arm of the macro
    pub fn remove_at(&mut self, i: usize) -> i64 {
        each_width!(self, v => {
            let x = i64::from(v.remove(i));
            if v.capacity() > 2 * v.len() + 8 {
                v.shrink_to_fit();
            }
            x
        })
    }

    /// Ascending order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = i64> + ExactSizeIterator + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_sorted_unique_and_upgrades() {
        let mut s = IntSet::new();
        assert!(s.insert(5));
        assert!(s.insert(-3));
        assert!(!s.insert(5));
        assert_eq!(s.width(), 2);
        assert!(s.insert(70000));
        assert_eq!(s.width(), 4);
        assert!(s.insert(i64::MIN));
        assert_eq!(s.width(), 8);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![i64::MIN, -3, 5, 70000]);
        assert!(s.contains(70000) && s.contains(-3) && !s.contains(4));
        assert!(s.remove(-3));
        assert!(!s.remove(-3));
        assert_eq!(s.width(), 8, "never downgrades");
        assert_eq!(s.remove_at(0), i64::MIN);
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn out_of_width_lookups_miss() {
        let mut s = IntSet::new();
        s.insert(1);
        assert!(!s.contains(1 << 40));
        assert!(!s.remove(1 << 40));
        let mut s = IntSet::new();
        s.insert(100_000);
        assert!(!s.contains(i64::MAX));
        assert_eq!(s.iter().rev().collect::<Vec<_>>(), vec![100_000]);
    }
}
