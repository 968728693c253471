//! Commands on the bits of a value: GETBIT, SETBIT and BITCOUNT. Bit 0 is the most
//! significant bit of the first byte, as in Redis.

use crate::protocol::{BitSpan, LateError, Reply};
use crate::store::Store;
use crate::sync::Guard;

/// GETBIT: 0 past the end of the value or for a missing key.
pub fn get_bit<'a>(store: &Store, key: &[u8], offset: u64, guard: &Guard<'_>) -> Reply<'a> {
    let value = store.get(key, guard).unwrap_or_default();
    Reply::Integer(i64::from(bit_at(value, offset)))
}

/// SETBIT: the bit's old value.
pub fn set_bit<'a>(
    store: &Store,
    key: &[u8],
    (offset, on): (u64, bool),
    max_len: usize,
    guard: &Guard<'_>,
) -> Reply<'a> {
    match store.set_bit(key, offset, on, max_len, guard) {
        Ok(was) => Reply::Integer(i64::from(was)),
        Err(err) => Reply::Refused(err.into()),
    }
}

/// BITCOUNT: 0 for a missing key, whatever the range; otherwise the range's error, or
/// the count.
pub fn bit_count<'a>(
    store: &Store,
    key: &[u8],
    span: Result<BitSpan, LateError>,
    guard: &Guard<'_>,
) -> Reply<'a> {
    let Some(value) = store.get(key, guard) else {
        return Reply::Integer(0);
    };
    match span {
        Ok(span) => Reply::Integer(i64::try_from(count_ones(value, span)).unwrap_or(i64::MAX)),
        Err(err) => Reply::Error(err.into()),
    }
}

/// The bit at `offset`; 0 past the end.
fn bit_at(value: &[u8], offset: u64) -> bool {
    let byte = usize::try_from(offset / 8)
        .ok()
        .and_then(|index| value.get(index));
    byte.is_some_and(|byte| byte & (0x80 >> (offset % 8)) != 0)
}

/// The set bits in `span` of `value`, by Redis's rules: negative indexes count from the
/// end, both ends are clamped to the value, and a start after the end counts nothing.
fn count_ones(value: &[u8], span: BitSpan) -> u64 {
    let (start, end, in_bits) = match span {
        BitSpan::All => return popcount(value),
        BitSpan::Bytes { start, end } => (start, end, false),
        BitSpan::Bits { start, end } => (start, end, true),
    };
    if start < 0 && end < 0 && start > end {
        return 0;
    }
    // Values are far below 2^60 bytes, so the length in bits fits.
    let bytes = i64::try_from(value.len()).unwrap_or(i64::MAX >> 3);
    let len = if in_bits { bytes << 3 } else { bytes };
    // len ≥ 0, so adding a negative index cannot overflow.
    let from_end = |index: i64| if index < 0 { len + index } else { index };
    let start = from_end(start).max(0);
    let end = from_end(end).max(0).min(len - 1);
    if start > end {
        return 0;
    }
    // Both are within 0..len here.
    let (start, end) = (start.unsigned_abs(), end.unsigned_abs());
    if !in_bits {
        return popcount(slice(value, start, end));
    }
    let (first, last) = (start / 8, end / 8);
    let byte = |index: u64| slice(value, index, index).first().copied().unwrap_or(0);
    // The bits of the first byte before `start`, and of the last byte after `end`.
    let before = !(0xff_u8 >> (start % 8));
    let after = 0xff_u8.checked_shr((end % 8 + 1) as u32).unwrap_or(0);
    popcount(slice(value, first, last))
        - u64::from((byte(first) & before).count_ones())
        - u64::from((byte(last) & after).count_ones())
}

/// Bytes `start` to `end` inclusive (empty if out of range).
fn slice(value: &[u8], start: u64, end: u64) -> &[u8] {
    let index = |i: u64| usize::try_from(i).unwrap_or(usize::MAX);
    value.get(index(start)..=index(end)).unwrap_or_default()
}

/// The set bits of `bytes`, a word at a time.
fn popcount(bytes: &[u8]) -> u64 {
    let words = bytes.chunks_exact(8);
    let tail = words.remainder();
    let mut count = 0u64;
    for word in words {
        let mut array = [0; 8];
        array.copy_from_slice(word);
        count += u64::from(u64::from_ne_bytes(array).count_ones());
    }
    count + tail.iter().map(|b| u64::from(b.count_ones())).sum::<u64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_redis() {
        let foobar = b"foobar";
        let bytes = |start, end| BitSpan::Bytes { start, end };
        let bits = |start, end| BitSpan::Bits { start, end };
        // (span, count), each as redis-server 7.0 answers for "foobar".
        let cases = [
            (BitSpan::All, 26),
            (bytes(0, 0), 4),
            (bytes(1, 1), 6),
            (bits(5, 30), 17),
            (bytes(-1, -1), 4),
            (bits(-3, -1), 1),
            (bytes(-1, -3), 0),
            (bytes(2, 1), 0),
            (bytes(0, -100), 4),
            (bytes(100, 200), 0),
            (bytes(-100, 100), 26),
            (bytes(i64::MIN, i64::MAX), 26),
            (bits(i64::MIN, i64::MAX), 26),
            (bits(i64::MAX, i64::MAX), 0),
            (bits(0, -1), 26),
            (bits(7, 7), 0),
            (bits(1, 1), 1),
            (bits(9, 14), 5),
        ];
        for (span, count) in cases {
            assert_eq!(count_ones(foobar, span), count, "{span:?}");
        }
        for span in [BitSpan::All, bytes(0, -1), bits(0, -1), bits(-1, -1)] {
            assert_eq!(count_ones(b"", span), 0, "{span:?}");
        }
    }

    #[test]
    fn bit_ranges_agree_with_counting_bit_by_bit() {
        let value: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
        let len = value.len() as i64 * 8;
        for start in (-len - 3..len + 3).step_by(5) {
            for end in (-len - 3..len + 3).step_by(7) {
                let from_end = |i: i64| if i < 0 { len + i } else { i };
                let (from, to) = (from_end(start).max(0), from_end(end).max(0).min(len - 1));
                let slow = if start < 0 && end < 0 && start > end {
                    0
                } else {
                    (from..=to).filter(|&i| bit_at(&value, i as u64)).count() as u64
                };
                assert_eq!(
                    count_ones(&value, BitSpan::Bits { start, end }),
                    slow,
                    "{start}..{end}"
                );
            }
        }
    }

    #[test]
    fn bits_are_read_from_the_most_significant() {
        assert!(bit_at(b"\x80", 0));
        assert!(!bit_at(b"\x80", 1));
        assert!(bit_at(b"\x00\x01", 15));
        assert!(!bit_at(b"\x01", 8));
        assert!(!bit_at(b"\xff", u64::MAX));
        assert_eq!(popcount(&[0xff; 17]), 136);
    }
}
