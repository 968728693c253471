//! Unsigned integers of any size, with just the operations [`super::LongDouble`] needs
//! to read, round and print exactly: multiply-add by a word, shifts, comparison,
//! subtraction, a division whose quotient is known to be short, and decimal digits.
//! Sizes stay small: the widest number INCRBYFLOAT can make is about 34,000 bits.

use std::cmp::Ordering;

/// An unsigned integer: 64-bit limbs, least significant first, with no zero limb at the top
/// (zero has none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Big {
    /// The limbs, least significant first.
    limbs: Vec<u64>,
}

/// The largest power of ten in a limb: 10^19.
const TEN_POW_19: u64 = 10_000_000_000_000_000_000;

impl Big {
    /// `n` as a big integer.
    pub fn from_u128(n: u128) -> Big {
        // Splitting a u128 into its two halves: the casts keep exactly those bits.
        let mut big = Big {
            limbs: vec![n as u64, (n >> 64) as u64],
        };
        big.trim();
        big
    }

    /// Drops zero limbs at the top.
    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    /// Whether it is zero.
    pub fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    /// The number of significant bits (0 for zero).
    pub fn bits(&self) -> u64 {
        match self.limbs.last() {
            None => 0,
            Some(top) => self.limbs.len() as u64 * 64 - u64::from(top.leading_zeros()),
        }
    }

    /// `self = self * mul + add`.
    pub fn mul_add(&mut self, mul: u64, add: u64) {
        let mut carry = u128::from(add);
        for limb in &mut self.limbs {
            let wide = u128::from(*limb) * u128::from(mul) + carry;
            // The low half is the limb; the high half carries.
            *limb = wide as u64;
            carry = wide >> 64;
        }
        if carry != 0 {
            // A carry out of a u64 times u64 plus u128 below 2^64 fits in one limb.
            self.limbs.push(carry as u64);
        }
        self.trim();
    }

    /// `self * 10^exp`.
    pub fn mul_pow10(&mut self, mut exp: u64) {
        while exp >= 19 {
            self.mul_add(TEN_POW_19, 0);
            exp -= 19;
        }
        // exp < 19 here, so the power fits in a u64 and `pow` cannot overflow.
        self.mul_add(10u64.pow(exp as u32), 0);
    }

    /// `self << bits`.
    pub fn shl(&self, bits: u64) -> Big {
        if self.is_zero() {
            return Big::default();
        }
        let (words, shift) = (usize::try_from(bits / 64).unwrap_or(usize::MAX), bits % 64);
        let mut limbs = vec![0; words];
        let mut carry = 0;
        for &limb in &self.limbs {
            limbs.push(if shift == 0 {
                limb
            } else {
                (limb << shift) | carry
            });
            carry = if shift == 0 { 0 } else { limb >> (64 - shift) };
        }
        limbs.push(carry);
        let mut big = Big { limbs };
        big.trim();
        big
    }

    /// The bit at position `i` (0 is the least significant).
    pub fn bit(&self, i: u64) -> bool {
        let limb = usize::try_from(i / 64)
            .ok()
            .and_then(|word| self.limbs.get(word));
        limb.is_some_and(|limb| limb >> (i % 64) & 1 == 1)
    }

    /// Whether any bit below position `i` is set.
    pub fn any_below(&self, i: u64) -> bool {
        let words = usize::try_from(i / 64).unwrap_or(usize::MAX);
        if self.limbs.iter().take(words).any(|&limb| limb != 0) {
            return true;
        }
        let partial = i % 64;
        partial != 0
            && self
                .limbs
                .get(words)
                .is_some_and(|limb| limb & ((1 << partial) - 1) != 0)
    }

    /// The 64 bits of `self` from position `shift` up (the low word of `self >> shift`).
    pub fn word_at(&self, shift: u64) -> u64 {
        let word = usize::try_from(shift / 64).unwrap_or(usize::MAX);
        let limb = |i: usize| self.limbs.get(i).copied().unwrap_or(0);
        let (low, high) = (limb(word), limb(word.saturating_add(1)));
        match shift % 64 {
            0 => low,
            bits => (low >> bits) | (high << (64 - bits)),
        }
    }

    /// `self + other`.
    pub fn add(&self, other: &Big) -> Big {
        let (long, short) = if self.limbs.len() >= other.limbs.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut limbs = Vec::with_capacity(long.limbs.len() + 1);
        let mut carry = false;
        for (i, &a) in long.limbs.iter().enumerate() {
            let b = short.limbs.get(i).copied().unwrap_or(0);
            let (sum, over1) = a.overflowing_add(b);
            let (sum, over2) = sum.overflowing_add(u64::from(carry));
            limbs.push(sum);
            carry = over1 || over2;
        }
        limbs.push(u64::from(carry));
        let mut big = Big { limbs };
        big.trim();
        big
    }

    /// `self - other`, or zero if `other` is larger.
    pub fn saturating_sub(&self, other: &Big) -> Big {
        if self.cmp(other) != Ordering::Greater {
            return Big::default();
        }
        let mut limbs = Vec::with_capacity(self.limbs.len());
        let mut borrow = false;
        for (i, &a) in self.limbs.iter().enumerate() {
            let b = other.limbs.get(i).copied().unwrap_or(0);
            let (diff, under1) = a.overflowing_sub(b);
            let (diff, under2) = diff.overflowing_sub(u64::from(borrow));
            limbs.push(diff);
            borrow = under1 || under2;
        }
        let mut big = Big { limbs };
        big.trim();
        big
    }

    /// `self / den` and whether a remainder is left, for a quotient known to fit in 127
    /// bits (the caller scales the operands so); a larger one is cut to its low bits. A
    /// zero `den` gives zero.
    pub fn div_short(&self, den: &Big) -> (u128, bool) {
        if den.is_zero() {
            return (0, false);
        }
        let mut rest = self.clone();
        let mut quotient = 0u128;
        let top = self.bits().saturating_sub(den.bits()).min(126);
        for shift in (0..=top).rev() {
            let part = den.shl(shift);
            if rest.cmp(&part) != Ordering::Less {
                rest = rest.saturating_sub(&part);
                quotient |= 1 << shift;
            }
        }
        (quotient, !rest.is_zero())
    }

    /// Divides by `d` (not zero) in place and returns the remainder.
    fn div_rem_small(&mut self, d: u64) -> u64 {
        let mut rem = 0u128;
        for limb in self.limbs.iter_mut().rev() {
            let wide = (rem << 64) | u128::from(*limb);
            // wide < d * 2^64, so the quotient fits in a limb.
            *limb = (wide / u128::from(d)) as u64;
            rem = wide % u128::from(d);
        }
        self.trim();
        // rem < d, a u64.
        rem as u64
    }

    /// The decimal digits, without leading zeros ("0" for zero).
    pub fn to_decimal(&self) -> String {
        let mut rest = self.clone();
        let mut chunks = Vec::new();
        while !rest.is_zero() {
            chunks.push(rest.div_rem_small(TEN_POW_19));
        }
        let mut digits = chunks
            .pop()
            .map_or_else(|| "0".to_string(), |top| top.to_string());
        for chunk in chunks.iter().rev() {
            digits.push_str(&format!("{chunk:019}"));
        }
        digits
    }
}

impl PartialOrd for Big {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Big {
    fn cmp(&self, other: &Self) -> Ordering {
        self.limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big(n: u128) -> Big {
        Big::from_u128(n)
    }

    #[test]
    fn arithmetic_matches_u128() {
        let values = [
            0u128,
            1,
            9,
            1 << 63,
            u64::MAX as u128,
            1 << 64,
            (1 << 100) + 12345,
        ];
        for &a in &values {
            for &b in &values {
                assert_eq!(big(a).add(&big(b)), big(a + b), "{a} + {b}");
                assert_eq!(big(a).saturating_sub(&big(b)), big(a.saturating_sub(b)));
                assert_eq!(big(a).cmp(&big(b)), a.cmp(&b));
            }
            assert_eq!(big(a).bits(), u64::from(128 - a.leading_zeros()));
            assert_eq!(big(a).to_decimal(), a.to_string());
            for shift in [0, 1, 17, 63, 64, 65] {
                if a.leading_zeros() as u64 >= shift {
                    assert_eq!(big(a).shl(shift), big(a << shift));
                    assert_eq!(big(a).word_at(shift), (a >> shift) as u64);
                }
                assert_eq!(big(a).bit(shift), a >> shift & 1 == 1);
                assert_eq!(big(a).any_below(shift), a & ((1u128 << shift) - 1) != 0);
            }
        }
    }

    #[test]
    fn multiplies_divides_and_prints_large_numbers() {
        let mut n = big(1);
        n.mul_pow10(40);
        assert_eq!(n.to_decimal(), format!("1{}", "0".repeat(40)));
        let mut m = big(123);
        m.mul_add(1000, 456);
        assert_eq!(m, big(123_456));
        let mut den = big(1);
        den.mul_pow10(30);
        let (q, rest) = n.div_short(&den);
        assert_eq!((q, rest), (10_000_000_000, false));
        let (q, rest) = n.add(&big(7)).div_short(&den);
        assert_eq!((q, rest), (10_000_000_000, true));
        assert_eq!(big(5).div_short(&Big::default()), (0, false));
    }
}
