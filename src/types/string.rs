//! String values: integers as `i64`, short strings inline in the value itself
//! (no allocation), longer ones in one heap block; strings changed in place
//! (APPEND, SETRANGE) in a heap block of their own, as Redis keeps them
//! `raw` whatever their length.

use crate::util::{fmt_i64, itoa_buf, parse_i64};
use std::borrow::Cow;

const INLINE_CAP: usize = 22;

#[derive(Clone, Debug)]
pub enum Str {
    Int(i64),
    Inline {
        len: u8,
        buf: [u8; INLINE_CAP],
    },
    Heap(Box<[u8]>),
    /// The result of an in-place edit: OBJECT ENCODING says `raw`.
    Edited(Box<[u8]>),
}

impl Str {
    /// Stores `data`, as an integer when it is the canonical text of one
    /// (like Redis's "int" encoding).
    pub fn from_bytes(data: &[u8]) -> Str {
        if data.len() <= 20 {
            if let Some(n) = parse_i64(data) {
                return Str::Int(n);
            }
        }
        Str::raw(data)
    }

    /// Stores `data` as bytes, never as an integer.
    pub fn raw(data: &[u8]) -> Str {
        if data.len() <= INLINE_CAP {
            let mut buf = [0u8; INLINE_CAP];
            buf[..data.len()].copy_from_slice(data);
            Str::Inline { len: data.len() as u8, buf }
        } else {
            Str::Heap(data.into())
        }
    }

    /// Stores the result of APPEND or SETRANGE.
    pub fn edited(data: &[u8]) -> Str {
        Str::Edited(data.into())
    }

    /// The bytes; integers are formatted (the only case that allocates).
    pub fn bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Str::Int(n) => {
                let mut b = itoa_buf();
                Cow::Owned(fmt_i64(*n, &mut b).to_vec())
            }
            Str::Inline { len, buf } => Cow::Borrowed(&buf[..*len as usize]),
            Str::Heap(b) | Str::Edited(b) => Cow::Borrowed(b),
        }
    }

    /// Calls `f` with the bytes without allocating.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Str::Int(n) => {
                let mut b = itoa_buf();
                f(fmt_i64(*n, &mut b))
            }
            Str::Inline { len, buf } => f(&buf[..*len as usize]),
            Str::Heap(b) | Str::Edited(b) => f(b),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Str::Int(n) => {
                let mut b = itoa_buf();
                fmt_i64(*n, &mut b).len()
            }
            Str::Inline { len, .. } => *len as usize,
            Str::Heap(b) | Str::Edited(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Str::Int(n) => Some(*n),
            _ => self.with_bytes(parse_i64),
        }
    }

    /// Bytes allocated outside the value (integers and short strings are inline).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Str::Heap(b) | Str::Edited(b) => b.len(),
            _ => 0,
        }
    }

    /// OBJECT ENCODING as Redis 7 names it.
    pub fn encoding(&self) -> &'static str {
        match self {
            Str::Int(_) => "int",
            Str::Edited(_) => "raw",
            _ if self.len() <= 44 => "embstr",
            _ => "raw",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_compact_representations() {
        assert!(matches!(Str::from_bytes(b"123"), Str::Int(123)));
        assert!(matches!(Str::from_bytes(b"0123"), Str::Inline { .. }));
        assert!(matches!(Str::from_bytes(&[b'x'; 40]), Str::Heap(_)));
        assert_eq!(&*Str::from_bytes(b"-5").bytes(), b"-5");
        assert_eq!(&*Str::from_bytes(b"hello").bytes(), b"hello");
        assert_eq!(Str::from_bytes(b"12345").len(), 5);
        assert_eq!(std::mem::size_of::<Str>(), 24);
        assert_eq!(Str::edited(b"ab").encoding(), "raw", "edited in place, as APPEND leaves it in Redis");
        assert_eq!(Str::raw(b"ab").encoding(), "embstr");
    }
}
