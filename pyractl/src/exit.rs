//! pyractl's exit codes, documented in the README and `pyractl --help`.

/// Something failed; the message says what.
pub const FAILURE: u8 = 1;
/// pyrad is not running (the LSB code for "program is not running").
pub const NOT_RUNNING: u8 = 3;
/// pyrad speaks another protocol version: restart it.
pub const VERSION_MISMATCH: u8 = 4;
