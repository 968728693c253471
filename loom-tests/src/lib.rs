//! Loom models of Blink Store live in `tests/`; run them with `--cfg blink_loom`:
//!
//! * `accounting.rs`: SET, DELETE and eviction racing on one or two keys;
//! * `expiry.rs`: lazy and active expiry and read-modify-write commands;
//! * `hard_cap.rs`: writers over the hard cap helping to evict, racing the evictor or
//!   each other, and waking the evictor;
//! * `intake.rs`: the sampler's intake, registers racing growth and drains;
//! * `memcache.rs`: memcached's CAS writes racing each other and a plain SET.
