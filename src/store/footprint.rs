//! What an entry really costs in memory, so that `--memory-limit` bounds the process and
//! not just the key and value bytes.
//!
//! An entry's *charge* is every byte that exists because the entry does:
//!
//! | part | bytes |
//! | --- | --- |
//! | its allocation (header, expiry, CAS unique, client flags, key, value) | rounded up to the allocator's size class |
//! | papaya's node (the [`Entry`] pointer and the [`Meta`]) | [`NODE_BYTES`], rounded likewise |
//! | its slot in the eviction sampler (and the expiry sampler, if it expires) | [`SAMPLER_BYTES`] each |
//!
//! Two structures are shared rather than per entry, and are charged as wholes by
//! [`Structures`]: papaya's table of slots, whose size follows papaya's growth rule and not
//! the number of entries alone, and the frequency sketch, which charges the blocks it uses.
//! The evictor keeps `entries + structures ≤ limit`.
//!
//! Size classes follow the allocator the binary is built with, jemalloc on 64-bit targets:
//! 8 bytes, then 16-byte steps up to 128 bytes, then four classes per doubling. The test
//! `an_entry_costs_the_heap_what_it_is_charged` (in `tests/footprint.rs`) checks the
//! charge against the bytes jemalloc really holds, so a change of layout that makes an
//! entry dearer fails there. What the charge misses is caught at run time: the store
//! compares the heap with its charges (`Store::set_heap_gauge`).

use super::entry::{Entry, Meta, EXPIRY_BYTES, HEADER_BYTES, SPILL_BYTES, SPILL_FROM_BYTES};

/// The allocator's spacing between small size classes (and the alignment it guarantees).
const QUANTUM: u64 = 16;

/// Sizes up to this are served in steps of [`QUANTUM`]; above, four classes per doubling.
const QUANTUM_SPACED_MAX: u64 = 128;

/// Bytes of papaya's node for one entry: the map's key ([`Entry`]) and value ([`Meta`]).
pub const NODE_BYTES: u64 = size_class(std::mem::size_of::<(Entry, Meta)>() as u64);

/// Bytes of one sampler slot (a key hash), plus the slack the sampler tolerates before a
/// sweep (an eighth).
pub const SAMPLER_BYTES: u64 = 9;

/// Bytes of one slot of papaya's table: a pointer and a metadata byte.
pub const TABLE_SLOT_BYTES: u64 = 9;

/// The smallest table papaya allocates.
const MIN_TABLE_SLOTS: u64 = 32;

/// The size class an allocation of `bytes` bytes is served from.
pub const fn size_class(bytes: u64) -> u64 {
    if bytes <= 8 {
        return 8;
    }
    if bytes <= QUANTUM_SPACED_MAX {
        return bytes.div_ceil(QUANTUM) * QUANTUM;
    }
    // Four classes per doubling: (2^k, 2^(k+1)] is split in steps of 2^(k-2).
    let k = 63 - (bytes - 1).leading_zeros();
    let step = 1u64 << (k - 2);
    bytes.div_ceil(step) * step
}

/// The charge of an entry holding `data_bytes` of key and value, with or without an
/// expiry time, and with no CAS unique or client flags.
pub const fn entry_charge(data_bytes: u64, expires: bool) -> u64 {
    entry_charge_with(data_bytes, expires, 0)
}

/// The charge of an entry holding `data_bytes` of key and value, with or without an
/// expiry time, and `field_bytes` of CAS unique and client flags (0, 4, 8 or 12): those
/// are in its allocation, and take no sampler slot.
pub const fn entry_charge_with(data_bytes: u64, expires: bool, field_bytes: u64) -> u64 {
    let (expiry, samplers) = if expires {
        (EXPIRY_BYTES as u64, 2)
    } else {
        (0, 1)
    };
    let bytes = HEADER_BYTES as u64 + expiry + field_bytes + data_bytes;
    let spill = if bytes >= SPILL_FROM_BYTES {
        SPILL_BYTES
    } else {
        0
    };
    size_class(bytes) + spill + NODE_BYTES + samplers * SAMPLER_BYTES
}

/// An estimate of papaya's table, from outside: papaya allocates a table of a power of
/// two slots and resizes it when an insertion probes too far (measured there as about
/// 85% of slots taken by live entries and tombstones; slots of removed entries are not
/// reused until then). A resize doubles the table if at least half of it is live,
/// halves it if at most an eighth is, and otherwise copies it at the same size to drop
/// the tombstones. The estimate replays that rule with the live count and the number of
/// new keys inserted, so it follows the real table through both growth and churn.
///
/// While papaya copies, the old table and the new one are both allocated; the charge
/// keeps room for that copy, so the limit holds at the peak and not only between copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Structures {
    /// Slots of the table as estimated.
    table_slots: u64,
    /// Slots taken since the last resize: live entries then, plus every new key since.
    occupied: u64,
}

impl Default for Structures {
    fn default() -> Self {
        Self {
            table_slots: MIN_TABLE_SLOTS,
            occupied: 0,
        }
    }
}

impl Structures {
    /// Replays papaya's rule after `inserted` new keys, with `live` entries now.
    pub fn observe(&mut self, live: u64, inserted: u64) {
        self.occupied = self.occupied.saturating_add(inserted).max(live);
        // papaya resizes when probes get long: at about 85% of slots taken. Replaying it
        // a little early keeps the estimate ahead of the table, never behind.
        while self.occupied >= self.table_slots / 8 * 7 || live >= self.table_slots / 8 * 7 {
            if live >= self.table_slots / 2 {
                self.table_slots *= 2;
            } else if live <= self.table_slots / 8 {
                self.table_slots = (self.table_slots / 2).max(MIN_TABLE_SLOTS);
            }
            self.occupied = live;
            if live < self.table_slots / 8 * 7 {
                break;
            }
        }
    }

    /// Slots of the table as estimated.
    pub fn table_slots(&self) -> u64 {
        self.table_slots
    }

    /// Bytes charged for the table: the table, and room for the copy papaya makes of it.
    pub fn table_bytes(&self) -> u64 {
        2 * self.table_slots * TABLE_SLOT_BYTES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes_step_by_the_quantum_then_by_quarters() {
        // jemalloc's classes on 64-bit targets (`size_classes.h`): 8, 16, 32, 48, … 128,
        // 160, 192, 224, 256, 320, …
        let cases = [
            (0, 8),
            (1, 8),
            (8, 8),
            (9, 16),
            (24, 32),
            (33, 48),
            (64, 64),
            (65, 80),
            (117, 128),
            (129, 160),
            (1000, 1024),
            (1025, 1280),
            (16 * 1024 + 1, 20 * 1024),
            (1 << 20, 1 << 20),
        ];
        for (bytes, class) in cases {
            assert_eq!(size_class(bytes), class, "{bytes} bytes");
        }
    }

    #[test]
    fn an_entry_is_charged_its_allocation_node_and_sampler_slots() {
        // 4-byte header + 116 bytes → the 128-byte class.
        assert_eq!(entry_charge(116, false), 128 + NODE_BYTES + SAMPLER_BYTES);
        // The expiry adds 8 bytes to the allocation and a slot in the expiry sampler.
        assert_eq!(
            entry_charge(116, true),
            128 + NODE_BYTES + 2 * SAMPLER_BYTES
        );
        // A CAS unique and flags add 12 bytes to the allocation: 132 → the 160-byte class.
        assert_eq!(
            entry_charge_with(116, false, 12),
            160 + NODE_BYTES + SAMPLER_BYTES
        );
        assert_eq!(entry_charge_with(100, true, 8), entry_charge(108, true));
        // The entry's pointer (one word on x86_64) and its `Meta`.
        if cfg!(target_arch = "x86_64") {
            assert_eq!(NODE_BYTES, 16);
        }
    }

    #[test]
    fn the_table_doubles_as_it_fills_and_stays_put_under_churn() {
        let mut table = Structures::default();
        table.observe(1_000_000, 1_000_000);
        // papaya holds a million entries in 2^21 slots (2^20 would be 95% full).
        assert_eq!(table.table_slots(), 1 << 21);
        // Churn: a million new keys replace a million evicted ones; the table is copied
        // at the same size to drop tombstones, never grown.
        for _ in 0..10 {
            table.observe(900_000, 100_000);
        }
        assert_eq!(table.table_slots(), 1 << 21);
        // Nearly everything deleted: after enough new keys to force a resize, it halves.
        table.observe(1_000, 0);
        assert_eq!(table.table_slots(), 1 << 21, "no resize yet");
        table.observe(1_000, 2_000_000);
        assert_eq!(table.table_slots(), 1 << 20);
        assert_eq!(table.table_bytes(), (2 * 9) << 20);
    }
}
