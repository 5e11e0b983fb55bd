//! Float arguments read as C's strtod/strtold read them, which is what
//! Redis's float arguments follow: an optional sign, decimal digits or `0x`
//! hex digits with an optional exponent, or `inf`/`infinity` in any case.
//! Rust's own parser reads no hex, other words, and cannot tell an overflow
//! from "inf", so the text is classified here first.

use rustc_apfloat::ieee::Double;
use rustc_apfloat::{Float, Round, Status, StatusAnd};

/// What strtod would read from the whole of a text, sign aside.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Form<'a> {
    Infinity,
    /// `1.5e3`, `.5`, `5.`
    Decimal(&'a str),
    /// `0x1.8p1`, `0x10`: the text with its `0x`.
    Hex(&'a str),
}

/// The sign and form of `text` if strtod would read all of it (NaN is not
/// a number here: Redis refuses it everywhere).
pub fn classify(text: &str) -> Option<(bool, Form<'_>)> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity") {
        return Some((negative, Form::Infinity));
    }
    let hex = unsigned.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x"));
    let form = if hex {
        number_syntax(&unsigned[2..], u8::is_ascii_hexdigit, b'p').then_some(Form::Hex(unsigned))
    } else {
        number_syntax(unsigned, u8::is_ascii_digit, b'e').then_some(Form::Decimal(unsigned))
    };
    Some((negative, form?))
}

/// `digits [. digits] [exponent [sign] decimal digits]`, with at least one
/// mantissa digit, and nothing after.
fn number_syntax(text: &str, is_digit: fn(&u8) -> bool, exponent_mark: u8) -> bool {
    let count = |s: &[u8], is_digit: fn(&u8) -> bool| s.iter().take_while(|c| is_digit(c)).count();
    let bytes = text.as_bytes();
    let mut i = count(bytes, is_digit);
    let mut mantissa_digits = i;
    if bytes.get(i) == Some(&b'.') {
        let fraction = count(&bytes[i + 1..], is_digit);
        mantissa_digits += fraction;
        i += 1 + fraction;
    }
    if mantissa_digits == 0 {
        return false;
    }
    if bytes.get(i).is_some_and(|c| c.to_ascii_lowercase() == exponent_mark) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exponent = count(&bytes[i..], u8::is_ascii_digit);
        if exponent == 0 {
            return false;
        }
        i += exponent;
    }
    i == bytes.len()
}

/// A finite form read into `F`, correctly rounded, with strtod's range
/// report: whether it overflowed, and whether it underflowed to zero.
pub fn read_finite<F: Float>(form: Form) -> Option<(F, RangeError)> {
    let parsed: StatusAnd<F> = read_rounded(form)?;
    let range = if parsed.status.contains(Status::OVERFLOW) {
        RangeError::Overflow
    } else if parsed.status.contains(Status::UNDERFLOW) && parsed.value.is_zero() {
        RangeError::UnderflowToZero
    } else {
        RangeError::None
    };
    Some((parsed.value, range))
}

/// A finite form correctly rounded into `F`, with the IEEE status flags.
fn read_rounded<F: Float>(form: Form) -> Option<StatusAnd<F>> {
    match form {
        Form::Infinity => None,
        Form::Decimal(text) => F::from_str_r(text, Round::NearestTiesToEven).ok(),
        // strtod takes hex without a binary exponent; rustc_apfloat wants one.
        Form::Hex(text) if !text.contains(['p', 'P']) => {
            F::from_str_r(&format!("{text}p0"), Round::NearestTiesToEven).ok()
        }
        Form::Hex(text) => F::from_str_r(text, Round::NearestTiesToEven).ok(),
    }
}

/// strtod's ERANGE cases that Redis tells apart.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RangeError {
    None,
    /// Too large: the value read is infinite.
    Overflow,
    /// Too small but not zero: the value read is zero.
    UnderflowToZero,
}

/// A double as Redis's `string2d` reads it (ZADD scores, timeouts): the
/// whole text, no leading space, no NaN, nothing out of range.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    let (negative, form) = classify(std::str::from_utf8(s).ok()?)?;
    let magnitude = match form {
        Form::Infinity => f64::INFINITY,
        // Rust's parser reads this grammar and is faster than rustc_apfloat;
        // its results are the same correctly rounded doubles.
        Form::Decimal(text) => {
            let v: f64 = text.parse().ok()?;
            let underflow = v == 0.0 && mantissa_of(text).bytes().any(|c| (b'1'..=b'9').contains(&c));
            if v.is_infinite() || underflow {
                return None;
            }
            v
        }
        Form::Hex(_) => match read_finite::<Double>(form)? {
            (v, RangeError::None) => to_f64(v),
            _ => return None,
        },
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// A bound of a score range as Redis's `zslParseRange` reads it, with bare
/// strtod: leading spaces are skipped, an empty text reads as 0, and out of
/// range values saturate (`1e400` is +inf). NaN is refused.
pub fn parse_range_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() {
        return Some(0.0);
    }
    let text = std::str::from_utf8(s).ok()?;
    let (negative, form) = classify(text.trim_start_matches(is_c_space))?;
    let magnitude = match form {
        Form::Infinity => f64::INFINITY,
        Form::Decimal(text) => text.parse().ok()?,
        Form::Hex(_) => to_f64(read_finite::<Double>(form)?.0),
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// A double as SORT reads its weights: bare strtod over the text up to its
/// first NUL (C string), with errno checked. So leading spaces and an empty
/// text pass (as 0), but glibc's ERANGE fails it: an overflow, and a
/// subnormal or zero result that is inexact (`1e-310`, not `0x1p-1074`).
pub fn parse_strtod_checked(s: &[u8]) -> Option<f64> {
    let s = s.iter().position(|&b| b == 0).map_or(s, |nul| &s[..nul]);
    if s.is_empty() {
        return Some(0.0);
    }
    let (negative, form) = classify(std::str::from_utf8(s).ok()?.trim_start_matches(is_c_space))?;
    let magnitude = match form {
        Form::Infinity => f64::INFINITY,
        Form::Decimal(text) => {
            let v: f64 = text.parse().ok()?;
            if v.is_infinite() {
                return None;
            }
            // Rust's parser is exact but silent: ask rustc_apfloat about tiny results.
            if (v == 0.0 || v.is_subnormal()) && underflows(form) {
                return None;
            }
            v
        }
        Form::Hex(_) => {
            let parsed: StatusAnd<Double> = read_rounded(form)?;
            if parsed.status.intersects(Status::OVERFLOW | Status::UNDERFLOW) {
                return None;
            }
            to_f64(parsed.value)
        }
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// Whether reading `form` as a double is tiny and inexact (glibc's ERANGE).
fn underflows(form: Form) -> bool {
    read_rounded::<Double>(form).is_some_and(|p| p.status.contains(Status::UNDERFLOW))
}

/// rustc_apfloat's double as Rust's (the same IEEE bits).
fn to_f64(v: Double) -> f64 {
    f64::from_bits(v.to_bits() as u64)
}

/// C's isspace in the "C" locale.
fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r')
}

/// The digits before a decimal exponent.
fn mantissa_of(text: &str) -> &str {
    text.split(['e', 'E']).next().unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_takes_what_strtod_reads_in_full() {
        assert_eq!(classify("-1.5e3"), Some((true, Form::Decimal("1.5e3"))));
        assert_eq!(classify("+.5"), Some((false, Form::Decimal(".5"))));
        assert_eq!(classify("5."), Some((false, Form::Decimal("5."))));
        assert_eq!(classify("0X1.8P1"), Some((false, Form::Hex("0X1.8P1"))));
        assert_eq!(classify("-INFINITY"), Some((true, Form::Infinity)));
        for bad in ["", ".", "1e", "1e+", "0x", "0x1p", ".e1", "1.5x", "--1", "+-1", " 1", "1 ", "nan", "-NaN", "1_0"] {
            assert_eq!(classify(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn parse_f64_is_string2d() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-0.1"), Some(-0.1));
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b"0x1p-2"), Some(0.25));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"0e-999"), Some(0.0));
        assert_eq!(parse_f64(b"4.9e-324"), Some(f64::from_bits(1)));
        for bad in [&b"1e400"[..], b"-1e400", b"1e-400", b"0x1p99999", b" 1", b"", b"nan", b"\xff"] {
            assert_eq!(parse_f64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn checked_strtod_refuses_what_sets_erange_in_glibc() {
        for (text, want) in [
            (&b""[..], 0.0),
            (b"\0junk", 0.0),
            (b" \t1.5", 1.5),
            (b"12\0x", 12.0),
            (b"-inf", f64::NEG_INFINITY),
            (b"0x10", 16.0),
            (b"0x1p-1074", f64::from_bits(1)),
            (b"2.2250738585072014e-308", f64::MIN_POSITIVE),
            (b"0e-999", 0.0),
            (b"1e308", 1e308),
        ] {
            assert_eq!(parse_strtod_checked(text), Some(want), "{:?}", String::from_utf8_lossy(text));
        }
        for bad in [
            &b" "[..],
            b"1 ",
            b"+",
            b"nan",
            b"abc",
            b"1e400",
            b"1.7976931348623159e308",
            b"1e-310",
            b"4.9e-324",
            b"1e-400",
            b"2.2250738585072011e-308",
            b"0x1p-1080",
            b"0x1p9999",
            b"\xff",
        ] {
            assert_eq!(parse_strtod_checked(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn range_bounds_are_bare_strtod() {
        assert_eq!(parse_range_f64(b""), Some(0.0));
        assert_eq!(parse_range_f64(b" 1"), Some(1.0));
        assert_eq!(parse_range_f64(b"\t-2"), Some(-2.0));
        assert_eq!(parse_range_f64(b"1e400"), Some(f64::INFINITY));
        assert_eq!(parse_range_f64(b"1e-400"), Some(0.0));
        assert_eq!(parse_range_f64(b"0x10"), Some(16.0));
        for bad in [&b" "[..], b"1 ", b"nan", b"abc"] {
            assert_eq!(parse_range_f64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
