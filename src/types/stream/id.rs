//! Stream entry IDs: `<ms>-<seq>`, two u64s ordered as one 128-bit number,
//! parsed with Redis's exact rules (streamGenericParseIDOrReply).

use std::fmt;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

/// Redis's reply to an argument that is not a stream ID.
pub const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

    pub const fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }

    /// The next ID, or None past the last one (streamIncrID).
    pub fn incr(self) -> Option<StreamId> {
        match (self.ms, self.seq) {
            (u64::MAX, u64::MAX) => None,
            (ms, u64::MAX) => Some(StreamId::new(ms + 1, 0)),
            (ms, seq) => Some(StreamId::new(ms, seq + 1)),
        }
    }

    /// The previous ID, or None before 0-0 (streamDecrID).
    pub fn decr(self) -> Option<StreamId> {
        match (self.ms, self.seq) {
            (0, 0) => None,
            (ms, 0) => Some(StreamId::new(ms - 1, u64::MAX)),
            (ms, seq) => Some(StreamId::new(ms, seq - 1)),
        }
    }

    /// The ID an auto-generated XADD gets at time `now_ms` (streamNextID).
    /// The caller has checked `self` is not the last possible ID.
    pub fn next_at(self, now_ms: u64) -> StreamId {
        if now_ms > self.ms {
            StreamId::new(now_ms, 0)
        } else {
            self.incr().unwrap_or(StreamId::MAX)
        }
    }

    /// The 128-bit big-endian form Redis keys its radix trees and RDB PELs by.
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut b = [0; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    pub fn from_be_bytes(b: [u8; 16]) -> Self {
        let (ms, seq) = b.split_at(8);
        StreamId::new(u64::from_be_bytes(ms.try_into().unwrap()), u64::from_be_bytes(seq.try_into().unwrap()))
    }

    pub fn to_bytes(self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// How an argument names an ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdArg {
    /// `ms-seq`, or `ms` with the caller's default sequence.
    Exact(StreamId),
    /// `ms-*` (XADD only): the sequence is generated.
    AutoSeq(u64),
}

/// Parses an ID argument. `-` and `+` are the smallest and largest IDs
/// unless `strict`; `ms-*` is accepted only with `auto_seq`; a lone `ms`
/// takes `missing_seq`.
pub fn parse_id(arg: &[u8], missing_seq: u64, strict: bool, auto_seq: bool) -> Option<IdArg> {
    // Redis copies the argument into a 128-byte buffer as a C string.
    if arg.len() > 127 {
        return None;
    }
    let arg = arg.iter().position(|&b| b == 0).map_or(arg, |nul| &arg[..nul]);
    match arg {
        b"-" | b"+" if strict => None,
        b"-" => Some(IdArg::Exact(StreamId::MIN)),
        b"+" => Some(IdArg::Exact(StreamId::MAX)),
        _ => {
            let (ms, seq) = match arg.iter().position(|&b| b == b'-') {
                Some(dash) => (&arg[..dash], Some(&arg[dash + 1..])),
                None => (arg, None),
            };
            let ms = parse_u64(ms)?;
            match seq {
                None => Some(IdArg::Exact(StreamId::new(ms, missing_seq))),
                Some(b"*") if auto_seq => Some(IdArg::AutoSeq(ms)),
                Some(seq) => Some(IdArg::Exact(StreamId::new(ms, parse_u64(seq)?))),
            }
        }
    }
}

/// A plain ID (no `ms-*`), or None for anything else.
pub fn parse_exact(arg: &[u8], missing_seq: u64, strict: bool) -> Option<StreamId> {
    match parse_id(arg, missing_seq, strict, false)? {
        IdArg::Exact(id) => Some(id),
        IdArg::AutoSeq(_) => None,
    }
}

/// Redis's string2ull: a canonical integer (never negative), or else what
/// C's strtoull accepts whole — leading spaces, a sign (a minus wraps, as in
/// C), leading zeros — without overflow.
fn parse_u64(s: &[u8]) -> Option<u64> {
    if let Some(v) = crate::util::parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let s = match s.iter().position(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')) {
        Some(start) => &s[start..],
        None => return None,
    };
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(s: &str, missing: u64) -> Option<StreamId> {
        parse_exact(s.as_bytes(), missing, false)
    }

    #[test]
    fn parses_ids_as_redis() {
        assert_eq!(exact("5-3", 0), Some(StreamId::new(5, 3)));
        assert_eq!(exact("5", 7), Some(StreamId::new(5, 7)));
        assert_eq!(exact("-", 0), Some(StreamId::MIN));
        assert_eq!(exact("+", 0), Some(StreamId::MAX));
        assert_eq!(parse_exact(b"+", 0, true), None);
        assert_eq!(exact("18446744073709551615-18446744073709551615", 0), Some(StreamId::MAX));
        assert_eq!(exact("18446744073709551616", 0), None);
        // strtoull's leniency: leading zeros, '+', spaces.
        assert_eq!(exact("007-+1", 0), Some(StreamId::new(7, 1)));
        assert_eq!(exact(" 7", 0), Some(StreamId::new(7, 0)));
        for bad in ["", "a", "5-", "-5", "5-x", "1-2-3", "5-*", "1.5", "5 "] {
            assert_eq!(exact(bad, 0), None, "{bad}");
        }
        assert_eq!(parse_id(b"5-*", 0, true, true), Some(IdArg::AutoSeq(5)));
        assert_eq!(parse_id(&[b'1'; 128], 0, false, false), None);
    }

    #[test]
    fn steps_over_sequence_limits() {
        assert_eq!(StreamId::new(1, u64::MAX).incr(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.incr(), None);
        assert_eq!(StreamId::new(2, 0).decr(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::MIN.decr(), None);
        assert_eq!(StreamId::new(5, 1).next_at(9), StreamId::new(9, 0));
        assert_eq!(StreamId::new(9, 1).next_at(9), StreamId::new(9, 2));
        let id = StreamId::new(0x0102, 0x0304);
        assert_eq!(StreamId::from_be_bytes(id.to_be_bytes()), id);
        assert_eq!(id.to_be_bytes()[6..8], [1, 2]);
    }
}
