//! DUMP's payload, which RESTORE reads back: a value in a checked envelope, shaped like
//! Redis's (value, then version, then checksum) but of Blink Store's own format.
//!
//! | bytes | what |
//! | --- | --- |
//! | 1 | the format's version, [`VERSION`] (`0xB1`) |
//! | n | the value, as stored |
//! | 8 | CRC-64 (Jones, reflected, as Redis computes it) of the bytes before, little-endian |
//!
//! The key and its expiry are not part of it: RESTORE names the key and gives the time
//! to live, as in Redis. A payload moves values between Blink Store servers of any
//! version that reads this format. Redis's own payloads (RDB-encoded objects) are not
//! accepted, and Redis does not accept these: RESTORE answers either with
//! `ERR DUMP payload version or checksum are wrong`.

/// The format's version byte: not a Redis RDB type, so neither server mistakes the
/// other's payload for its own.
pub const VERSION: u8 = 0xB1;

/// Bytes a payload adds to its value: the version and the checksum.
pub const OVERHEAD_BYTES: usize = 1 + CRC_BYTES;

/// Bytes of the checksum.
const CRC_BYTES: usize = 8;

/// Redis's CRC-64 polynomial (Jones), bit-reversed for the reflected algorithm.
const POLY_REFLECTED: u64 = 0x95ac_9329_ac4b_c9b5;

/// One step per byte instead of eight.
const CRC_TABLE: [u64; 256] = crc_table();

const fn crc_table() -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// The CRC-64 of `bytes`, as Redis's `crc64(0, ...)` computes it.
fn crc64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |crc, &byte| {
        // The index is the low byte, below 256.
        CRC_TABLE[((crc ^ u64::from(byte)) & 0xff) as usize] ^ (crc >> 8)
    })
}

/// The payload of `value`.
pub fn encode(value: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(value.len() + OVERHEAD_BYTES);
    payload.push(VERSION);
    payload.extend_from_slice(value);
    let crc = crc64(&payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    payload
}

/// The value in `payload`, or `None` if it is not a payload of this format or its
/// checksum does not match.
pub fn decode(payload: &[u8]) -> Option<&[u8]> {
    let (checked, crc) = payload.split_last_chunk::<CRC_BYTES>()?;
    let (&version, value) = checked.split_first()?;
    (version == VERSION && crc64(checked) == u64::from_le_bytes(*crc)).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_redis_crc64() {
        // The check value of CRC-64/Jones, and Redis's own test vector.
        assert_eq!(crc64(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        assert_eq!(crc64(b""), 0);
    }

    #[test]
    fn payloads_round_trip_and_damage_is_refused() {
        for value in [
            &b""[..],
            b"hello",
            &[0u8, 0xff, b'\r', b'\n'],
            &[b'v'; 70_000],
        ] {
            let payload = encode(value);
            assert_eq!(payload.len(), value.len() + OVERHEAD_BYTES);
            assert_eq!(decode(&payload), Some(value));
            for i in [0, payload.len() / 2, payload.len() - 1] {
                let mut damaged = payload.clone();
                damaged[i] ^= 0x10;
                assert_eq!(decode(&damaged), None, "byte {i} flipped");
            }
            assert_eq!(decode(&payload[..payload.len() - 1]), None);
        }
        for junk in [&b""[..], b"xxx", &[VERSION; 8], &[VERSION; 9]] {
            assert_eq!(decode(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn redis_payloads_are_refused() {
        // What Redis 7.0's DUMP of "hello" is: an RDB string, RDB version 10, CRC-64.
        let redis = b"\x00\x05hello\n\x00cr\xdfve4 \n";
        assert_eq!(decode(redis), None);
    }
}
