//! A borrowed element of a collection: compact encodings keep integers as
//! numbers, so an element is either an integer or a byte string.

use crate::util::{fmt_i64, itoa_buf};
use std::cmp::Ordering;

#[derive(Clone, Copy, Debug)]
pub enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Elem<'_> {
    /// Calls `f` with the element's bytes without allocating.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match *self {
            Elem::Int(n) => f(fmt_i64(n, &mut itoa_buf())),
            Elem::Str(s) => f(s),
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.with_bytes(<[u8]>::to_vec)
    }

    /// The length of the element's text (HSTRLEN).
    pub fn len(&self) -> usize {
        self.with_bytes(<[u8]>::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Compares the element's text with `other` bytewise.
    pub fn cmp_bytes(&self, other: &[u8]) -> Ordering {
        self.with_bytes(|b| b.cmp(other))
    }

    pub fn eq_bytes(&self, other: &[u8]) -> bool {
        self.cmp_bytes(other) == Ordering::Equal
    }
}

/// Equal when the texts are equal.
impl PartialEq for Elem<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (*self, *other) {
            (Elem::Int(a), Elem::Int(b)) => a == b,
            (a, Elem::Str(b)) | (Elem::Str(b), a) => a.eq_bytes(b),
        }
    }
}

impl Eq for Elem<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_by_text() {
        assert!(Elem::Int(-12).eq_bytes(b"-12"));
        assert_eq!(Elem::Int(12), Elem::Str(b"12"));
        assert_ne!(Elem::Int(12), Elem::Str(b"012"));
        assert_eq!(Elem::Int(100).cmp_bytes(b"2"), Ordering::Less);
        assert_eq!(Elem::Int(-5).len(), 2);
        assert_eq!(Elem::Str(b"ab").to_vec(), b"ab");
    }
}
