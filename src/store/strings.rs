//! String commands that rewrite a value from the old one, built on [`Store::modify`] like
//! those of [`super::update`]: SETRANGE, SETBIT and INCRBYFLOAT. Each keeps the key's
//! expiry, as Redis does, and is charged for exactly the entry it installs.

use super::entry::Value;
use super::update::Plan;
use super::{entry_size, Entry, Store, StoreError};
use crate::float::LongDouble;
use crate::sync::Guard;

impl Store {
    /// Writes `patch` into the key's value from byte `offset` on (SETRANGE), padding with
    /// zero bytes past its end and creating the key if absent; returns the new length. An
    /// empty patch changes nothing and creates no key, and returns the length as it is.
    ///
    /// # Errors
    /// [`StoreError::TooLong`] if the value would pass `max_len` bytes, or
    /// [`StoreError::LargerThanLimit`] if the longer entry could never fit.
    pub fn set_range(
        &self,
        key: &[u8],
        offset: usize,
        patch: &[u8],
        max_len: usize,
        guard: &Guard<'_>,
    ) -> Result<u64, StoreError> {
        self.modify(key, guard, |live| {
            let base = live.map_or(&[][..], Entry::value);
            if patch.is_empty() {
                // usize → u64 is lossless on every supported target.
                return (Plan::Keep, Ok(base.len() as u64));
            }
            if offset
                .checked_add(patch.len())
                .is_none_or(|end| end > max_len)
            {
                return (Plan::Keep, Err(StoreError::TooLong { limit: max_len }));
            }
            let value = Value::Overwrite {
                base,
                offset,
                patch,
            };
            let len = value.len() as u64;
            let plan = Plan::Write {
                value,
                expires_at_ms: live.and_then(Entry::expires_at_ms),
                flags: live.map_or(0, Entry::flags),
                cas: self.next_cas(),
            };
            (plan, Ok(len))
        })?
    }

    /// Sets or clears the bit at `offset` of the key's value (SETBIT; bit 0 is the most
    /// significant bit of the first byte), padding with zero bytes past its end and
    /// creating the key if absent; returns the bit's old value.
    ///
    /// # Errors
    /// [`StoreError::TooLong`] if the value would pass `max_len` bytes, or
    /// [`StoreError::LargerThanLimit`] if the longer entry could never fit.
    pub fn set_bit(
        &self,
        key: &[u8],
        offset: u64,
        on: bool,
        max_len: usize,
        guard: &Guard<'_>,
    ) -> Result<bool, StoreError> {
        let index = usize::try_from(offset / 8).unwrap_or(usize::MAX);
        if index >= max_len {
            return Err(StoreError::TooLong { limit: max_len });
        }
        let mask = 0x80u8 >> (offset % 8);
        self.modify(key, guard, |live| {
            let base = live.map_or(&[][..], Entry::value);
            let old = base.get(index).copied();
            let was = old.unwrap_or(0);
            let byte = if on { was | mask } else { was & !mask };
            if live.is_some() && old == Some(byte) {
                // Neither the bit nor the length changes.
                return (Plan::Keep, was & mask != 0);
            }
            let plan = Plan::Write {
                value: Value::Byte { base, index, byte },
                expires_at_ms: live.and_then(Entry::expires_at_ms),
                flags: live.map_or(0, Entry::flags),
                cas: self.next_cas(),
            };
            (plan, was & mask != 0)
        })
    }

    /// Adds `delta` to the float stored under the key (0 if absent), as Redis's
    /// INCRBYFLOAT does, keeping its expiry; returns the new value, stored as Redis prints
    /// it.
    ///
    /// # Errors
    /// [`StoreError::NotAFloat`] if the value is not a float as Redis reads one,
    /// [`StoreError::NotFinite`] if the sum would be infinite, or
    /// [`StoreError::LargerThanLimit`] if even the number cannot fit.
    pub fn increment_float(
        &self,
        key: &[u8],
        delta: LongDouble,
        guard: &Guard<'_>,
    ) -> Result<LongDouble, StoreError> {
        self.modify(key, guard, |live| {
            let current = match live {
                None => Ok(LongDouble::ZERO),
                Some(entry) => LongDouble::parse(entry.value()).ok_or(StoreError::NotAFloat),
            };
            let next = current.and_then(|n| n.checked_add(delta).ok_or(StoreError::NotFinite));
            match next {
                Ok(n) => {
                    let plan = Plan::Write {
                        value: Value::Float(n),
                        expires_at_ms: live.and_then(Entry::expires_at_ms),
                        flags: live.map_or(0, Entry::flags),
                        cas: self.next_cas(),
                    };
                    (plan, Ok(n))
                }
                Err(err) => (Plan::Keep, Err(err)),
            }
        })?
    }

    /// Whether `key` with `value` could be stored at all: a SET of it would not be
    /// refused. MSETNX checks every pair before it writes any.
    ///
    /// # Errors
    /// [`StoreError::LargerThanLimit`] if the entry could never fit.
    pub fn check_entry(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        let size = entry_size(key, value);
        self.check_fits(size, self.new_entry_charge(size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::update::Ttl;
    use crate::store::{Clock, StoreConfig};

    fn store_at(now_ms: u64) -> Store {
        Store::with_clock(StoreConfig::new(1 << 20), Clock::manual(now_ms))
    }

    #[test]
    fn set_range_pads_overwrites_and_keeps_the_expiry() {
        let store = store_at(1_000);
        let guard = store.guard();
        assert_eq!(store.set_range(b"k", 0, b"", 100, &guard), Ok(0));
        assert_eq!(store.len(), 0, "an empty patch creates nothing");
        assert_eq!(store.set_range(b"k", 3, b"ab", 100, &guard), Ok(5));
        assert_eq!(store.get(b"k", &guard), Some(&b"\0\0\0ab"[..]));
        assert!(store.expire_at(b"k", 5_000, &guard));
        assert_eq!(store.set_range(b"k", 1, b"XYZW", 100, &guard), Ok(5));
        assert_eq!(store.get(b"k", &guard), Some(&b"\0XYZW"[..]));
        assert_eq!(store.set_range(b"k", 0, b"-", 100, &guard), Ok(5));
        assert_eq!(store.get(b"k", &guard), Some(&b"-XYZW"[..]));
        assert_eq!(store.ttl(b"k", &guard), Ttl::Millis(4_000));
        assert_eq!(store.set_range(b"k", 99, b"", 100, &guard), Ok(5));
        assert_eq!(
            store.set_range(b"k", 99, b"ab", 100, &guard),
            Err(StoreError::TooLong { limit: 100 })
        );
        assert_eq!(
            store.set_range(b"k", usize::MAX, b"ab", 100, &guard),
            Err(StoreError::TooLong { limit: 100 })
        );
        assert_eq!(store.set_range(b"k", 98, b"ab", 100, &guard), Ok(100));
        assert_eq!(store.usage_bytes(), 101);
        assert_eq!(store.usage_bytes(), store.recount());
    }

    #[test]
    fn set_bit_answers_the_old_bit_and_grows_the_value() {
        let store = store_at(1_000);
        let guard = store.guard();
        assert_eq!(store.set_bit(b"b", 7, true, 100, &guard), Ok(false));
        assert_eq!(store.get(b"b", &guard), Some(&b"\x01"[..]));
        assert_eq!(store.set_bit(b"b", 7, true, 100, &guard), Ok(true));
        assert_eq!(store.set_bit(b"b", 0, true, 100, &guard), Ok(false));
        assert_eq!(store.get(b"b", &guard), Some(&b"\x81"[..]));
        assert!(store.expire_at(b"b", 5_000, &guard));
        assert_eq!(store.set_bit(b"b", 7, false, 100, &guard), Ok(true));
        assert_eq!(store.set_bit(b"b", 23, false, 100, &guard), Ok(false));
        assert_eq!(store.get(b"b", &guard), Some(&b"\x80\0\0"[..]));
        assert_eq!(store.ttl(b"b", &guard), Ttl::Millis(4_000));
        assert_eq!(store.set_bit(b"z", 0, false, 100, &guard), Ok(false));
        assert_eq!(
            store.get(b"z", &guard),
            Some(&b"\0"[..]),
            "created, as Redis does"
        );
        assert_eq!(store.set_bit(b"b", 799, true, 100, &guard), Ok(false));
        assert_eq!(
            store.set_bit(b"b", 800, true, 100, &guard),
            Err(StoreError::TooLong { limit: 100 })
        );
        assert_eq!(store.usage_bytes(), store.recount());
    }

    #[test]
    fn increment_float_stores_redis_text_and_keeps_the_expiry() {
        let store = store_at(1_000);
        let guard = store.guard();
        let float = |text: &str| LongDouble::parse(text.as_bytes()).unwrap();
        let sum = store.increment_float(b"f", float("10.5"), &guard).unwrap();
        assert_eq!(sum.to_string(), "10.5");
        assert!(store.expire_at(b"f", 5_000, &guard));
        let sum = store.increment_float(b"f", float("0.1"), &guard).unwrap();
        assert_eq!(sum.to_string(), "10.6");
        assert_eq!(store.get(b"f", &guard), Some(&b"10.6"[..]));
        assert_eq!(store.ttl(b"f", &guard), Ttl::Millis(4_000));
        store.set(b"s", b"abc").unwrap();
        assert_eq!(
            store.increment_float(b"s", float("1"), &guard),
            Err(StoreError::NotAFloat)
        );
        assert_eq!(
            store.increment_float(b"f", float("inf"), &guard),
            Err(StoreError::NotFinite)
        );
        assert_eq!(store.get(b"f", &guard), Some(&b"10.6"[..]), "unchanged");
        assert_eq!(store.usage_bytes(), store.recount());
    }

    #[test]
    fn an_entry_larger_than_the_limit_is_refused_before_any_write() {
        let store = Store::new(64);
        assert!(store.check_entry(b"k", b"v").is_ok());
        assert!(matches!(
            store.check_entry(b"k", &[0; 100]),
            Err(StoreError::LargerThanLimit { .. })
        ));
    }
}
