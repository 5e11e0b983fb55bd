//! Score and lex range specs of ZRANGEBYSCORE/ZRANGEBYLEX and friends, with
//! Redis's parsing rules and error texts.

use crate::strtod::parse_range_f64;

pub const ERR_NOT_FLOAT: &str = "ERR min or max is not a float";
pub const ERR_NOT_LEX: &str = "ERR min or max not valid string range item";

/// `min..max` with optional exclusive ends (`(1.5`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub min_ex: bool,
    pub max_ex: bool,
}

impl ScoreRange {
    /// Whether `v` is at or past the lower end.
    pub fn above_min(&self, v: f64) -> bool {
        if self.min_ex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    /// Whether `v` is at or before the upper end.
    pub fn below_max(&self, v: f64) -> bool {
        if self.max_ex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    pub fn contains(&self, v: f64) -> bool {
        self.above_min(v) && self.below_max(v)
    }
}

fn parse_score_bound(s: &[u8]) -> Result<(f64, bool), &'static str> {
    let (ex, num) = match s.first() {
        Some(b'(') => (true, &s[1..]),
        _ => (false, s),
    };
    parse_range_f64(num).map(|v| (v, ex)).ok_or(ERR_NOT_FLOAT)
}

/// Parses ZRANGEBYSCORE's `min max` (`-inf`, `+inf`, `(` for exclusive).
pub fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, &'static str> {
    let (min, min_ex) = parse_score_bound(min)?;
    let (max, max_ex) = parse_score_bound(max)?;
    Ok(ScoreRange { min, max, min_ex, max_ex })
}

/// One end of a lex range: `-`, `+`, `[incl` or `(excl`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    NegInf,
    PosInf,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl LexRange {
    /// Whether `m` is at or past the lower end.
    pub fn above_min(&self, m: &[u8]) -> bool {
        match &self.min {
            LexBound::NegInf => true,
            LexBound::PosInf => false,
            LexBound::Incl(b) => m >= b.as_slice(),
            LexBound::Excl(b) => m > b.as_slice(),
        }
    }

    /// Whether `m` is at or before the upper end.
    pub fn below_max(&self, m: &[u8]) -> bool {
        match &self.max {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Incl(b) => m <= b.as_slice(),
            LexBound::Excl(b) => m < b.as_slice(),
        }
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        self.above_min(m) && self.below_max(m)
    }
}

fn parse_lex_bound(s: &[u8]) -> Result<LexBound, &'static str> {
    match s {
        b"-" => Ok(LexBound::NegInf),
        b"+" => Ok(LexBound::PosInf),
        [b'[', rest @ ..] => Ok(LexBound::Incl(rest.to_vec())),
        [b'(', rest @ ..] => Ok(LexBound::Excl(rest.to_vec())),
        _ => Err(ERR_NOT_LEX),
    }
}

/// Parses ZRANGEBYLEX's `min max`.
pub fn parse_lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, &'static str> {
    Ok(LexRange { min: parse_lex_bound(min)?, max: parse_lex_bound(max)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_score_ranges() {
        let r = parse_score_range(b"(1", b"+inf").unwrap();
        assert_eq!(r, ScoreRange { min: 1.0, max: f64::INFINITY, min_ex: true, max_ex: false });
        assert!(!r.contains(1.0) && r.contains(1.5) && r.contains(f64::INFINITY));
        let r = parse_score_range(b"-inf", b"(2.5").unwrap();
        assert!(r.contains(f64::NEG_INFINITY) && r.contains(2.0) && !r.contains(2.5));
        assert_eq!(parse_score_range(b"x", b"1"), Err(ERR_NOT_FLOAT));
        assert_eq!(parse_score_range(b"1", b"(nan"), Err(ERR_NOT_FLOAT));
        // Bare strtod, as redis-server 7.0.15 answers: an empty bound reads
        // as 0, so `(` is "above 0"; leading spaces are skipped.
        let r = parse_score_range(b"(", b" 1").unwrap();
        assert_eq!(r, ScoreRange { min: 0.0, max: 1.0, min_ex: true, max_ex: false });
        assert_eq!(parse_score_range(b"", b"1").unwrap().min, 0.0);
        assert_eq!(parse_score_range(b" ", b"1"), Err(ERR_NOT_FLOAT));
    }

    #[test]
    fn parses_lex_ranges() {
        let r = parse_lex_range(b"[b", b"(d").unwrap();
        assert!(!r.contains(b"a") && r.contains(b"b") && r.contains(b"c") && !r.contains(b"d"));
        let r = parse_lex_range(b"-", b"+").unwrap();
        assert!(r.contains(b"") && r.contains(b"\xff"));
        let r = parse_lex_range(b"+", b"-").unwrap();
        assert!(!r.contains(b"a"));
        assert_eq!(parse_lex_range(b"[", b"(").unwrap().min, LexBound::Incl(vec![]));
        for bad in [&b"a"[..], b"", b"+a", b"-a"] {
            assert_eq!(parse_lex_range(bad, b"+"), Err(ERR_NOT_LEX));
            assert_eq!(parse_lex_range(b"-", bad), Err(ERR_NOT_LEX));
        }
    }
}
