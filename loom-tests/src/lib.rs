//! Loom models of Blink Store live in `tests/`; run them with `--cfg blink_loom`.
