//! String values: integers as `i64`, short strings inline in the value itself
//! (no allocation), longer ones in one heap block; strings changed in place
//! (APPEND, SETRANGE) in a growable buffer with spare room, as Redis keeps
//! them `raw` (an sds with free space) whatever their length, so repeated
//! appends cost the bytes appended, not the whole string.

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
    /// The result of an in-place edit: OBJECT ENCODING says `raw`. Boxed
    /// so a value stays 24 bytes.
    Edited(Box<Vec<u8>>),
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

    /// The string as a buffer to change in place, made one first (a copy
    /// of the current bytes) unless it already is.
    pub fn edit(&mut self) -> &mut Vec<u8> {
        if !matches!(self, Str::Edited(_)) {
            *self = Str::Edited(Box::new(self.bytes().into_owned()));
        }
        match self {
            Str::Edited(buf) => buf,
            _ => unreachable!("just made an edited string"),
        }
    }

    /// The bytes; integers are formatted (the only case that allocates).
    pub fn bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Str::Int(n) => {
                let mut b = itoa_buf();
                Cow::Owned(fmt_i64(*n, &mut b).to_vec())
            }
            Str::Inline { len, buf } => Cow::Borrowed(&buf[..*len as usize]),
            Str::Heap(b) => Cow::Borrowed(b),
            Str::Edited(b) => Cow::Borrowed(b),
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
            Str::Heap(b) => f(b),
            Str::Edited(b) => f(b),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Str::Int(n) => {
                let mut b = itoa_buf();
                fmt_i64(*n, &mut b).len()
            }
            Str::Inline { len, .. } => *len as usize,
            Str::Heap(b) => b.len(),
            Str::Edited(b) => b.len(),
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
            Str::Heap(b) => b.len(),
            Str::Edited(b) => std::mem::size_of::<Vec<u8>>() + b.capacity(),
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

/// Beyond this a growing string gets this much spare room, not its own
/// size again (Redis's SDS_MAX_PREALLOC).
const MAX_PREALLOC: usize = 1024 * 1024;

/// Resizes an edited string to `new_len` (new bytes are zero), making room
/// as Redis's sdsMakeRoomFor does: double the needed size up to 1 MiB,
/// then 1 MiB more, so appends cost amortized O(appended bytes). A buffer
/// never allocated yet (a key SETRANGE or SETBIT creates) gets the exact
/// size, as Redis creates such a string. Either way the whole allocation
/// (jemalloc's size class) counts as room.
pub fn resize_greedy(buf: &mut Vec<u8>, new_len: usize) {
    if new_len > buf.capacity() {
        let target = match new_len {
            _ if buf.capacity() == 0 => new_len,
            n if n < MAX_PREALLOC => n * 2,
            n => n + MAX_PREALLOC,
        };
        buf.reserve_exact(crate::memory::size_class(target) - buf.len());
    }
    buf.resize(new_len, 0);
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
        let mut edited = Str::raw(b"ab");
        edited.edit().push(b'c');
        assert_eq!(edited.encoding(), "raw", "edited in place, as APPEND leaves it in Redis");
        assert_eq!(&*edited.bytes(), b"abc");
        let mut number = Str::from_bytes(b"12");
        number.edit().push(b'3');
        assert_eq!((number.len(), number.as_int()), (3, Some(123)));
    }

    #[test]
    fn greedy_growth_leaves_room_like_sds() {
        use crate::memory::size_class;
        let mut fresh = Vec::new();
        resize_greedy(&mut fresh, 1000);
        assert_eq!(fresh.capacity(), size_class(1000), "a new string is made to measure");
        let mut buf = vec![1u8; 10];
        resize_greedy(&mut buf, 100);
        assert_eq!((buf.len(), buf.capacity()), (100, size_class(200)));
        assert!(buf[10..].iter().all(|&b| b == 0));
        resize_greedy(&mut buf, 150);
        assert_eq!(buf.capacity(), size_class(200), "fits in the room left");
        resize_greedy(&mut buf, 2 * MAX_PREALLOC);
        assert_eq!(buf.capacity(), size_class(3 * MAX_PREALLOC));
        assert_eq!(Str::raw(b"ab").encoding(), "embstr");
    }
}
