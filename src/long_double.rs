//! The arithmetic of INCRBYFLOAT and HINCRBYFLOAT. Redis computes them in C
//! `long double` — on x86-64 the x87 80-bit format, 64 significant bits —
//! parsing with `strtold` and printing with `%.17Lf`, trailing zeros cut.
//! Those extra bits are why `0.1 + 0.2` reads `0.3` there; an f64 would
//! print `0.30000000000000004`. rustc_apfloat does the parsing and the
//! correctly rounded addition; the decimal text is exact big-integer math.

use crate::strtod::{self, Form, RangeError};
use num_bigint::BigUint;
use rustc_apfloat::ieee::X87DoubleExtended;
use rustc_apfloat::{Float, Round};

/// Longer texts are refused, as Redis's `string2ld` does (its buffer size).
const MAX_TEXT: usize = 5 * 1024;
/// `%.17Lf`: digits after the point before trailing zeros are cut.
const DECIMALS: u32 = 17;

#[derive(Clone, Copy, Debug)]
pub struct LongDouble(X87DoubleExtended);

impl LongDouble {
    pub const ZERO: LongDouble = LongDouble(X87DoubleExtended::ZERO);

    /// Reads `s` as Redis's `string2ld` does: all of it must be a number in
    /// `strtold`'s syntax (`crate::strtod`), with no leading space; NaN,
    /// overflow and underflow to zero are refused.
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.len() >= MAX_TEXT {
            return None;
        }
        let (negative, form) = strtod::classify(std::str::from_utf8(s).ok()?)?;
        let magnitude = match form {
            Form::Infinity => X87DoubleExtended::INFINITY,
            _ => match strtod::read_finite::<X87DoubleExtended>(form)? {
                (v, RangeError::None) => v,
                _ => return None,
            },
        };
        Some(LongDouble(if negative { -magnitude } else { magnitude }))
    }

    pub fn is_finite(self) -> bool {
        self.0.is_finite()
    }

    /// `%.17Lf` without trailing zeros (Redis's LD_STR_HUMAN): fixed
    /// notation, rounded half to even as glibc rounds, `-0` written `0`.
    /// Only for finite values.
    pub fn to_human(self) -> String {
        let (negative, significand, exponent) = self.decompose();
        let mut scaled = BigUint::from(significand) * BigUint::from(10u32).pow(DECIMALS);
        if exponent >= 0 {
            scaled <<= exponent as usize;
        } else {
            scaled = shift_right_to_even(scaled, exponent.unsigned_abs() as usize);
        }
        let digits = format!("{scaled:0>width$}", width = DECIMALS as usize + 1);
        let (whole, fraction) = digits.split_at(digits.len() - DECIMALS as usize);
        let fraction = fraction.trim_end_matches('0');
        let mut out = String::with_capacity(digits.len() + 2);
        if negative && (whole != "0" || !fraction.is_empty()) {
            out.push('-');
        }
        out.push_str(whole);
        if !fraction.is_empty() {
            out.push('.');
            out.push_str(fraction);
        }
        out
    }

    /// Sign, significand and power of two of a finite value:
    /// |value| = significand × 2^exponent.
    fn decompose(self) -> (bool, u64, i32) {
        // The x87 layout: 64-bit significand with an explicit integer bit,
        // then a 15-bit exponent biased by 16383, then the sign.
        let bits = self.0.to_bits();
        let significand = bits as u64;
        let biased = ((bits >> 64) & 0x7fff) as i32;
        let negative = (bits >> 79) & 1 == 1;
        // Denormals (biased 0) share the smallest normal exponent.
        (negative, significand, biased.max(1) - 16383 - 63)
    }
}

impl std::ops::Add for LongDouble {
    type Output = LongDouble;

    /// The sum rounded to nearest, ties to even, as the x87 unit adds.
    fn add(self, other: LongDouble) -> LongDouble {
        LongDouble(self.0.add_r(other.0, Round::NearestTiesToEven).value)
    }
}

/// `value / 2^shift`, rounded half to even.
fn shift_right_to_even(value: BigUint, shift: usize) -> BigUint {
    let quotient = &value >> shift;
    let remainder = &value - (&quotient << shift);
    let half = BigUint::from(1u32) << (shift - 1);
    let round_up = remainder > half || (remainder == half && quotient.bit(0));
    if round_up {
        quotient + 1u32
    } else {
        quotient
    }
}

#[cfg(test)]
mod tests {
    use super::LongDouble;

    fn sum(a: &str, b: &str) -> String {
        let (a, b) = (LongDouble::parse(a.as_bytes()).unwrap(), LongDouble::parse(b.as_bytes()).unwrap());
        (a + b).to_human()
    }

    /// Expected texts are redis-server 7.0.15's replies to
    /// `SET k <a>` + `INCRBYFLOAT k <b>` on x86-64.
    #[test]
    fn sums_print_as_redis_prints_them() {
        assert_eq!(sum("0.1", "0.2"), "0.3");
        assert_eq!(sum("1.1", "2.2"), "3.3");
        assert_eq!(sum("10.5", "0.1"), "10.6");
        assert_eq!(sum("1.5", "0.1"), "1.6");
        assert_eq!(sum("10.5", "0"), "10.5");
        assert_eq!(sum("0", "-0.1"), "-0.1");
        assert_eq!(sum("0", "1.25e-5"), "0.0000125");
        assert_eq!(sum("-0.0", "0"), "0");
        assert_eq!(sum("1", "0.3333333333333333333"), "1.33333333333333333");
        assert_eq!(sum("0", "123456789.123456789"), "123456789.12345678899873747");
        assert_eq!(sum("5.0e3", "2.0e2"), "5200");
        assert_eq!(sum("0.1", "1e20"), "100000000000000000000");
        assert_eq!(sum("0", "1e-20"), "0");
        assert_eq!(sum("0", "-1e-20"), "0");
        assert_eq!(sum("3", "-3"), "0");
        assert_eq!(sum("0", "0x10"), "16");
        assert_eq!(sum("0", "0x1.8p1"), "3");
        assert_eq!(sum("0", ".5"), "0.5");
        assert_eq!(sum("0", "5."), "5");
        assert_eq!(sum("0", "+.5e1"), "5");
        assert_eq!(sum("0", "-.5"), "-0.5");
        assert_eq!(sum("0", "1E5"), "100000");
        assert_eq!(sum("0", "0x.8"), "0.5");
        assert_eq!(sum("0", "0X1P-1"), "0.5");
        assert_eq!(
            sum("3.0", "1.7976931348623157e308"),
            "179769313486231569995921046774104434048386446944329178485314420765176628523124396354701868608387085564428793419425520689308708363451136055357897278026477617073498977686288394835618163294045594434929537447290627480669417384648879122776218333598953852832103282504751611691208117720159985926376802466863339536384"
        );
    }

    #[test]
    fn ties_round_to_even_as_glibc_printf_does() {
        // 2^-18 and 3·2^-18 end in a 5 at the 18th decimal.
        assert_eq!(sum("0", "0.000003814697265625"), "0.00000381469726562");
        assert_eq!(sum("0", "-0.000003814697265625"), "-0.00000381469726562");
        assert_eq!(sum("0", "0.000011444091796875"), "0.00001144409179688");
    }

    #[test]
    fn the_whole_exponent_range_prints_in_fixed_notation() {
        assert_eq!(sum("0", "1e4000").len(), 4000);
        assert_eq!(sum("0", "1.1e4932").len(), 4933);
        assert!(sum("0", "1e4000").starts_with("99999999999999999999654638730996237849324925835069576313015"));
        // The smallest denormal is accepted and prints as zero.
        assert_eq!(sum("0", "3.6451995318824746025e-4951"), "0");
        // The largest finite value, in hex and decimal; one step more overflows.
        let max = sum("0", "0x1.fffffffffffffffep16383");
        assert!(max.starts_with("118973149535723176502126385303097020516906332229462420044032373389173"));
        assert_eq!(sum("0", "1.18973149535723176502e+4932"), max);
        assert!(LongDouble::parse(b"1.18973149535723176509e+4932").is_none());
    }

    #[test]
    fn parse_refuses_what_string2ld_refuses() {
        for bad in [
            "", " 1", "1 ", "1e", "1e+", "abc", "nan", "-nan", "NaN", "1e-5000", "1e5000", "1.5x", "--1", "0x", "0x1p",
            ".", ".e1",
        ] {
            assert!(LongDouble::parse(bad.as_bytes()).is_none(), "{bad:?} was accepted");
        }
        assert!(LongDouble::parse("9".repeat(5 * 1024).as_bytes()).is_none());
        for inf in ["inf", "-inf", "+INF", "Infinity", "-INFINITY"] {
            assert!(!LongDouble::parse(inf.as_bytes()).unwrap().is_finite(), "{inf:?}");
        }
    }

    #[test]
    fn integers_convert_exactly() {
        // 64 significant bits hold every i64 (an f64 would round these).
        assert_eq!(sum("0", "-9223372036854775808"), "-9223372036854775808");
        assert_eq!(sum("9223372036854775806", "1"), "9223372036854775807");
    }
}
