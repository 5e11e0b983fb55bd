//! Number parsing and formatting with Redis's exact rules.

/// Parses a signed 64-bit integer the way Redis's `string2ll` does: no spaces,
/// no leading `+`, no leading zeros, fits in i64.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || (digits[0] == b'0' && (digits.len() > 1 || neg)) {
        return None;
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// Formats an f64 as Redis 7.0 replies with scores: C's `%.17g` — 17
/// significant digits with trailing zeros cut (0.1 reads
/// `0.10000000000000001`), exponent form below 1e-4 and from 1e17
/// (`1.0000000000000001e-05`, `1e+17`). Rust's exact formatting rounds
/// half to even, as glibc does.
pub fn format_f64(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let scientific = format!("{v:.16e}");
    let (mantissa, exponent) = scientific.split_once('e').expect("{:e} has an exponent");
    let exponent: i32 = exponent.parse().expect("{:e} exponent is an integer");
    if (-4..17).contains(&exponent) {
        let mut fixed = format!("{v:.*}", (16 - exponent) as usize);
        trim_fraction_zeros(&mut fixed);
        fixed
    } else {
        let mut mantissa = mantissa.to_string();
        trim_fraction_zeros(&mut mantissa);
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
    }
}

/// C's `%f` with trailing zeros cut, as Redis prints percentiles
/// (`50`, `99.9`, `100`).
pub fn format_f64_trimmed(v: f64) -> String {
    let mut fixed = format!("{v:.6}");
    trim_fraction_zeros(&mut fixed);
    fixed
}

/// `1.500` → `1.5`, `2.000` → `2`; texts without a point stay.
fn trim_fraction_zeros(s: &mut String) {
    if s.contains('.') {
        let kept = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(kept);
    }
}

/// Appends the decimal text of `v` to `out` without allocating.
pub fn push_i64(out: &mut Vec<u8>, v: i64) {
    let mut buf = itoa_buf();
    out.extend_from_slice(fmt_i64(v, &mut buf));
}

/// A stack buffer big enough for any i64 in decimal.
pub fn itoa_buf() -> [u8; 20] {
    [0u8; 20]
}

/// Writes the decimal text of `v` into `buf` and returns the used tail.
pub fn fmt_i64(v: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// Milliseconds since the Unix epoch, from the real clock.
/// An I/O error as C's strerror words it ("No such file or directory"),
/// without Rust's " (os error N)" suffix.
pub fn io_error_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Microseconds since the Unix epoch.
pub fn now_us() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// A small, fast xorshift generator for sampling (active expiry, RANDOMKEY, SPOP).
pub struct Rng(u64);

impl Rng {
    pub fn seeded() -> Self {
        let seed = now_us() as u64 ^ (std::process::id() as u64).rotate_left(32);
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A value in `0..n`; `n` must be > 0.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_integers_like_redis() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-12"), Some(-12));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b""), None);
    }

    #[test]
    fn formats_percentiles_as_trimmed_fixed_point() {
        assert_eq!(format_f64_trimmed(50.0), "50");
        assert_eq!(format_f64_trimmed(99.9), "99.9");
        assert_eq!(format_f64_trimmed(100.0), "100");
        assert_eq!(format_f64_trimmed(0.0), "0");
        // %f keeps six decimals: beyond them the value rounds.
        assert_eq!(format_f64_trimmed(99.99999999), "100");
    }

    #[test]
    fn formats_floats() {
        // Expected texts are glibc's printf("%.17g").
        assert_eq!(format_f64(3.0), "3");
        assert_eq!(format_f64(1.5), "1.5");
        assert_eq!(format_f64(f64::INFINITY), "inf");
        assert_eq!(format_f64(f64::NEG_INFINITY), "-inf");
        assert_eq!(format_f64(1.5e-10), "1.5e-10");
        assert_eq!(format_f64(1e17), "1e+17");
        assert_eq!(format_f64(1e-5), "1.0000000000000001e-05");
        assert_eq!(format_f64(0.0001), "0.0001");
        assert_eq!(format_f64(0.1), "0.10000000000000001");
        assert_eq!(format_f64(-2.5), "-2.5");
        assert_eq!(format_f64(-0.0), "-0");
        assert_eq!(format_f64(9007199254740993.0), "9007199254740992");
        assert_eq!(format_f64(99999999999999999.0), "1e+17");
        assert_eq!(format_f64(1.2345678901234568e16), "12345678901234568");
        assert_eq!(format_f64(-(2f64.powi(63))), "-9.2233720368547758e+18");
        assert_eq!(format_f64(1e300), "1.0000000000000001e+300");
        assert_eq!(format_f64(5e-324), "4.9406564584124654e-324");
        // A tie at the 17th digit rounds to even.
        assert_eq!(format_f64(1e15 + 0.25), "1000000000000000.2");
        assert_eq!(crate::strtod::parse_f64(format_f64(1.5e-10).as_bytes()), Some(1.5e-10));
    }

    #[test]
    fn formats_integers() {
        let mut b = itoa_buf();
        assert_eq!(fmt_i64(i64::MIN, &mut b), b"-9223372036854775808");
        let mut b = itoa_buf();
        assert_eq!(fmt_i64(0, &mut b), b"0");
    }
}
