//! The snapshot reader on arbitrary bytes: it never panics, never allocates past what
//! its limits allow, and a file it accepts is one the encoder writes byte for byte
//! (the format has one encoding, so anything else accepted would be a hole in a check).

#![no_main]

use blink_store::snapshot::format::{decode, Encoder, ReadLimits, Record};
use libfuzzer_sys::fuzz_target;

/// Small limits, so lengths past them are found too.
const LIMITS: ReadLimits = ReadLimits {
    max_key_len: 64,
    max_value_len: 1024,
};

fuzz_target!(|data: &[u8]| {
    let mut records: Vec<(Vec<u8>, Vec<u8>, Option<u64>, u32)> = Vec::new();
    let Ok(summary) = decode(data, LIMITS, |record| {
        records.push((
            record.key.to_vec(),
            record.value.to_vec(),
            record.expires_at_ms,
            record.flags,
        ));
    }) else {
        return;
    };
    assert_eq!(summary.entries, records.len() as u64);
    assert_eq!(summary.bytes, data.len() as u64);
    let mut encoder = Encoder::new(Vec::new(), summary.written_at_ms).unwrap();
    for (key, value, expires_at_ms, flags) in &records {
        let record = Record {
            key,
            value,
            expires_at_ms: *expires_at_ms,
            flags: *flags,
        };
        encoder.entry(&record).unwrap();
    }
    let (again, _, _) = encoder.finish().unwrap();
    assert_eq!(again, data, "an accepted file is the encoder's");
});
