//! Redis's `long double` arithmetic, for INCRBYFLOAT: the x87 80-bit extended float
//! (a 64-bit mantissa) that Redis computes in on x86_64, emulated exactly so that results
//! agree with Redis digit for digit. A text is read as glibc's `strtold` reads it, with
//! Redis's refusals ([`LongDouble::parse`]); two values are added with IEEE rounding to
//! nearest, ties to even ([`LongDouble::checked_add`]); a value prints as Redis prints
//! it: `%.17Lf`, trailing zeros and point removed, `-0` as `0` (its `Display`).
//!
//! Every step is exact arithmetic on integers ([`big::Big`]) followed by one rounding, so
//! nothing depends on the host's floating point.

mod big;

use std::fmt;

use self::big::Big;

/// The longest text Redis reads as a float: its buffer of 5 KiB, less the NUL.
pub const MAX_FLOAT_LEN: usize = 5 * 1024 - 1;

/// Bits in the mantissa, the leading one included (x87 keeps it explicitly).
const MANTISSA_BITS: u64 = 64;

/// The exponent of the mantissa's lowest bit for the smallest values (subnormals):
/// 2^-16445 is the least positive value.
const MIN_EXP: i64 = -16445;

/// The exponent of the mantissa's lowest bit for the largest values: the largest finite
/// value is (2^64 - 1) × 2^16320.
const MAX_EXP: i64 = 16320;

/// Decimal exponents beyond which a value is certainly out of range: 10^4933 is more than
/// the largest value, and 10^-4951 less than half the least (2^-16445 ≈ 3.6 × 10^-4951).
const MAX_DECIMAL_EXP: i64 = 4932;
const MIN_DECIMAL_EXP: i64 = -4951;

/// Digits of the fraction `%.17Lf` prints.
const FRACTION_DIGITS: u64 = 17;

/// Extra bits kept below the mantissa while dividing, so the rounding sees the bit after
/// the last one kept and whether anything follows it.
const GUARD_BITS: i64 = 66;

/// An exponent written in a text is read up to this size; any larger one is out of range
/// whatever the digits, and this keeps the arithmetic on it far from overflow.
const MAX_WRITTEN_EXP: i64 = 1 << 40;

/// One x87 extended value: finite, or infinite (read from `inf`; sums never are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongDouble {
    /// The sign, also of zero.
    negative: bool,
    /// The absolute value.
    magnitude: Magnitude,
}

/// An absolute value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Magnitude {
    /// Zero.
    Zero,
    /// `mantissa × 2^exp`: the mantissa's top bit is set, except for the smallest values
    /// (subnormals, `exp == MIN_EXP`), so each value has one form.
    Finite {
        /// The mantissa.
        mantissa: u64,
        /// The exponent of its lowest bit.
        exp: i64,
    },
    /// Infinity.
    Infinite,
}

impl LongDouble {
    /// Zero.
    pub const ZERO: LongDouble = LongDouble {
        negative: false,
        magnitude: Magnitude::Zero,
    };

    /// Reads `text` as Redis reads a float (`string2ld`): all of it must be what `strtold`
    /// reads, a decimal or `0x` hexadecimal number with an optional exponent, or `inf` /
    /// `infinity`; no spaces, no NaN, and no value so large or so small that it rounds to
    /// infinity or to zero. `None` if Redis would answer "value is not a valid float".
    pub fn parse(text: &[u8]) -> Option<LongDouble> {
        if text.is_empty() || text.len() > MAX_FLOAT_LEN {
            return None;
        }
        let (negative, unsigned) = match text {
            [b'-', rest @ ..] => (true, rest),
            [b'+', rest @ ..] => (false, rest),
            _ => (false, text),
        };
        let magnitude = if unsigned.eq_ignore_ascii_case(b"inf")
            || unsigned.eq_ignore_ascii_case(b"infinity")
        {
            Magnitude::Infinite
        } else if let Some(hex) = unsigned
            .strip_prefix(b"0x")
            .or_else(|| unsigned.strip_prefix(b"0X"))
        {
            Written::parse(hex, 16, b'p')?.binary()?
        } else {
            Written::parse(unsigned, 10, b'e')?.decimal()?
        };
        Some(LongDouble {
            negative,
            magnitude,
        })
    }

    /// `self + other`, rounded to nearest (ties to even); `None` if the sum is infinite
    /// or not a number (Redis's "increment would produce NaN or Infinity").
    pub fn checked_add(self, other: LongDouble) -> Option<LongDouble> {
        let (a, b) = match (self.magnitude, other.magnitude) {
            (Magnitude::Infinite, _) | (_, Magnitude::Infinite) => return None,
            (Magnitude::Zero, Magnitude::Zero) => {
                let negative = self.negative && other.negative;
                return Some(LongDouble { negative, ..self });
            }
            (Magnitude::Zero, _) => return Some(other),
            (_, Magnitude::Zero) => return Some(self),
            (
                Magnitude::Finite {
                    mantissa: ma,
                    exp: ea,
                },
                Magnitude::Finite {
                    mantissa: mb,
                    exp: eb,
                },
            ) => ((ma, ea), (mb, eb)),
        };
        let same_sign = self.negative == other.negative;
        // The operand with the larger exponent, and its sign.
        let ((high, low), high_negative) = if a.1 >= b.1 {
            ((a, b), self.negative)
        } else {
            ((b, a), other.negative)
        };
        let sum = exact_sum(high, low, same_sign);
        let magnitude = round(&sum.value, sum.exp, sum.sticky);
        match magnitude {
            Magnitude::Infinite => None,
            _ => Some(LongDouble {
                // A difference takes the sign of the larger operand; an exact zero is +0.
                negative: match (sum.high_is_larger, magnitude) {
                    (_, Magnitude::Zero) => false,
                    (true, _) => high_negative,
                    (false, _) => !high_negative,
                },
                magnitude,
            }),
        }
    }
}

impl fmt::Display for LongDouble {
    /// Redis's `%.17Lf` with the trailing zeros, and then a trailing point, removed, and
    /// `-0` written `0`: `10.6`, `5200`, `0.30000000000000000` as `0.3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mantissa, exp) = match self.magnitude {
            Magnitude::Zero => return f.write_str("0"),
            Magnitude::Infinite if self.negative => return f.write_str("-inf"),
            Magnitude::Infinite => return f.write_str("inf"),
            Magnitude::Finite { mantissa, exp } => (mantissa, exp),
        };
        let digits = fixed_point_digits(mantissa, exp);
        if digits == "0" {
            return f.write_str("0");
        }
        // At least one digit before the point.
        let width = FRACTION_DIGITS as usize + 1;
        let padded = format!("{digits:0>width$}");
        let (whole, fraction) = padded.split_at(padded.len() - FRACTION_DIGITS as usize);
        let fraction = fraction.trim_end_matches('0');
        if self.negative {
            f.write_str("-")?;
        }
        f.write_str(whole)?;
        if !fraction.is_empty() {
            write!(f, ".{fraction}")?;
        }
        Ok(())
    }
}

/// The decimal digits of `mantissa × 2^exp × 10^17` rounded to an integer, ties to even:
/// the value in units of the 17th decimal place, as `%.17Lf` rounds it.
fn fixed_point_digits(mantissa: u64, exp: i64) -> String {
    let scale = 10u128.pow(FRACTION_DIGITS as u32);
    if exp >= 0 {
        let mut exact = Big::from_u128(u128::from(mantissa)).shl(exp.unsigned_abs());
        exact.mul_pow10(FRACTION_DIGITS);
        return exact.to_decimal();
    }
    // mantissa × 10^17 < 2^64 × 2^57, so it fits in a u128.
    let scaled = u128::from(mantissa) * scale;
    let shift = exp.unsigned_abs();
    if shift >= 128 {
        // scaled < 2^121 ≤ half of 2^shift: rounds to zero.
        return "0".to_string();
    }
    let whole = scaled >> shift;
    let rest = scaled - (whole << shift);
    let half = 1u128 << (shift - 1);
    let rounded = if rest > half || (rest == half && whole & 1 == 1) {
        whole + 1
    } else {
        whole
    };
    rounded.to_string()
}

/// An exact sum or difference of two magnitudes, before rounding.
struct Sum {
    /// The integer part of the result's magnitude, in units of `2^exp`.
    value: Big,
    /// The exponent of `value`'s unit.
    exp: i64,
    /// Whether the exact result is a little more than `value` (less than one unit).
    sticky: bool,
    /// Whether the operand with the larger exponent is also the larger in magnitude (a
    /// difference then has its sign).
    high_is_larger: bool,
}

/// `high ± low` exactly (`+` if `add`), each `(mantissa, exp)` with `high`'s exponent the
/// larger. An operand so much smaller that it lies below every bit the rounding looks at
/// is kept only as a sticky bit.
fn exact_sum(high: (u64, i64), low: (u64, i64), add: bool) -> Sum {
    /// Below this difference of exponents the sum is computed in full.
    const FULL_BELOW: i64 = 192;
    /// Bits `high` is shifted by otherwise: `low` < 2^(high.exp - FULL_BELOW + 64), less
    /// than one unit of 2^(high.exp - 128).
    const SHIFT: u64 = 128;
    let diff = high.1 - low.1;
    let big = |mantissa: u64| Big::from_u128(u128::from(mantissa));
    if diff >= FULL_BELOW {
        let value = big(high.0).shl(SHIFT);
        let exp = high.1 - SHIFT as i64;
        // high - low lies strictly between value - 1 and value.
        let value = if add {
            value
        } else {
            value.saturating_sub(&big(1))
        };
        return Sum {
            value,
            exp,
            sticky: true,
            high_is_larger: true,
        };
    }
    let a = big(high.0).shl(diff.unsigned_abs());
    let b = big(low.0);
    let (value, high_is_larger) = if add {
        (a.add(&b), true)
    } else if a >= b {
        (a.saturating_sub(&b), true)
    } else {
        (b.saturating_sub(&a), false)
    };
    Sum {
        value,
        exp: low.1,
        sticky: false,
        high_is_larger,
    }
}

/// Rounds `value × 2^exp` (plus a little, less than one unit, if `sticky`) to an extended
/// float, to nearest with ties to even: infinite above the largest value, zero below half
/// the least.
fn round(value: &Big, exp: i64, sticky: bool) -> Magnitude {
    let bits = i64::try_from(value.bits()).unwrap_or(i64::MAX);
    if bits == 0 {
        return Magnitude::Zero;
    }
    // Bits to drop so that MANTISSA_BITS remain, and fewer for subnormals.
    let mut shift = bits - MANTISSA_BITS as i64;
    let mut exp = exp.saturating_add(shift);
    if exp < MIN_EXP {
        shift = shift.saturating_add(MIN_EXP.saturating_sub(exp));
        exp = MIN_EXP;
    }
    if exp > MAX_EXP {
        return Magnitude::Infinite;
    }
    let mantissa = if shift <= 0 {
        // value has at most 64 + shift bits: it fits after the shift.
        value.word_at(0) << shift.unsigned_abs()
    } else {
        let shift = shift.unsigned_abs();
        let kept = value.word_at(shift);
        let half = value.bit(shift - 1);
        let beyond = sticky || value.any_below(shift - 1);
        if half && (beyond || kept & 1 == 1) {
            match kept.checked_add(1) {
                Some(up) => up,
                None => {
                    // Rounded up to 2^64: one bit more in the exponent instead.
                    exp += 1;
                    1 << 63
                }
            }
        } else {
            kept
        }
    };
    if mantissa == 0 {
        Magnitude::Zero
    } else if exp > MAX_EXP {
        Magnitude::Infinite
    } else {
        Magnitude::Finite { mantissa, exp }
    }
}

/// A number as written: digits in some radix, a point somewhere among them, and an
/// exponent of the radix (decimal) or of two (hexadecimal).
struct Written {
    /// Every digit, as one integer.
    digits: Big,
    /// How many digits after leading zeros (decimal: the value is below
    /// 10^(significant + scale)).
    significant: i64,
    /// The power the digits are scaled by: of ten for decimal, of two for hexadecimal.
    scale: i64,
}

impl Written {
    /// `digits [. digits] [marker [+-] digits]`, at least one mantissa digit, the marker
    /// in either case; `None` if anything else is there.
    fn parse(text: &[u8], radix: u32, marker: u8) -> Option<Written> {
        let at_marker = text.iter().position(|b| b.eq_ignore_ascii_case(&marker));
        let (mantissa, exponent) = match at_marker {
            Some(at) => (text.get(..at)?, Some(text.get(at + 1..)?)),
            None => (text, None),
        };
        let (whole, fraction) = match mantissa.iter().position(|&b| b == b'.') {
            Some(at) => (mantissa.get(..at)?, mantissa.get(at + 1..)?),
            None => (mantissa, &[][..]),
        };
        if whole.len() + fraction.len() == 0 {
            return None;
        }
        let mut digits = Big::default();
        let mut significant = 0i64;
        // Digits are gathered a word at a time: 15 hexadecimal or 19 decimal digits fit.
        let (mut chunk, mut chunk_scale) = (0u64, 1u64);
        for &byte in whole.iter().chain(fraction) {
            let digit = char::from(byte).to_digit(radix)?;
            chunk = chunk * u64::from(radix) + u64::from(digit);
            chunk_scale *= u64::from(radix);
            if chunk_scale >= 1 << 59 {
                digits.mul_add(chunk_scale, chunk);
                (chunk, chunk_scale) = (0, 1);
            }
            if significant > 0 || digit != 0 {
                significant += 1;
            }
        }
        digits.mul_add(chunk_scale, chunk);
        let written_exp = match exponent {
            None => 0,
            Some(exponent) => parse_exponent(exponent)?,
        };
        // Each fraction digit is a tenth, or a sixteenth (four powers of two).
        let per_digit = if radix == 16 { 4 } else { 1 };
        let fraction_len = i64::try_from(fraction.len()).ok()?;
        Some(Written {
            digits,
            significant,
            scale: written_exp - fraction_len * per_digit,
        })
    }

    /// The decimal number's value, correctly rounded; `None` if it overflows, or
    /// underflows to zero from digits that are not all zero (`strtold`'s ERANGE).
    fn decimal(self) -> Option<Magnitude> {
        if self.digits.is_zero() {
            return Some(Magnitude::Zero);
        }
        let top = self.significant + self.scale;
        if top - 1 > MAX_DECIMAL_EXP {
            return None;
        }
        if top < MIN_DECIMAL_EXP {
            return None;
        }
        let magnitude = if self.scale >= 0 {
            let mut exact = self.digits;
            exact.mul_pow10(self.scale.unsigned_abs());
            round(&exact, 0, false)
        } else {
            let mut divisor = Big::from_u128(1);
            divisor.mul_pow10(self.scale.unsigned_abs());
            // Scale so the quotient has GUARD_BITS or GUARD_BITS + 1 bits.
            let bits = |n: &Big| i64::try_from(n.bits()).unwrap_or(i64::MAX);
            let shift = bits(&self.digits) - bits(&divisor) - GUARD_BITS;
            let (quotient, rest) = if shift >= 0 {
                self.digits.div_short(&divisor.shl(shift.unsigned_abs()))
            } else {
                self.digits.shl(shift.unsigned_abs()).div_short(&divisor)
            };
            round(&Big::from_u128(quotient), shift, rest)
        };
        finite(magnitude)
    }

    /// The hexadecimal number's value, correctly rounded; `None` as for [`Self::decimal`].
    fn binary(self) -> Option<Magnitude> {
        if self.digits.is_zero() {
            return Some(Magnitude::Zero);
        }
        finite(round(&self.digits, self.scale, false))
    }
}

/// A rounded nonzero value, unless it overflowed or underflowed.
fn finite(magnitude: Magnitude) -> Option<Magnitude> {
    match magnitude {
        Magnitude::Finite { .. } => Some(magnitude),
        Magnitude::Zero | Magnitude::Infinite => None,
    }
}

/// `[+-] digits`, at least one digit; saturating at [`MAX_WRITTEN_EXP`].
fn parse_exponent(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value = 0i64;
    for &byte in digits {
        let digit = char::from(byte).to_digit(10)?;
        value = (value * 10 + i64::from(digit)).min(MAX_WRITTEN_EXP);
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests;
