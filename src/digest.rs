//! Content digests shared by the suite, the store, the simulator and the commands.
//!
//! One place so that a hash written by one module is always read back the same way by
//! another.

use sha2::{Digest, Sha256};

/// Hex sha256 of `bytes`.
#[must_use]
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The first 8 bytes of the sha256 of `bytes`: a stable hash for choosing things.
#[must_use]
pub(crate) fn sha256_prefix(bytes: &[u8]) -> u64 {
    let d = Sha256::digest(bytes);
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    u64::from_be_bytes(first)
}
