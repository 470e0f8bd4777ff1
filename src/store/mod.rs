//! Everything driftgate keeps on disk: baselines, their manifest, atomic writes.

mod atomic;
mod baseline;
mod commit;
mod lock;
mod manifest;
mod verify;

pub use atomic::{TEMP_PREFIX, clean_temp_files, write_atomic, write_atomic_with};
pub use baseline::{BaselineStore, StoreError};
pub use lock::{LOCK_FILE, SuiteLock};
pub use manifest::{CaseEntry, FORMAT_VERSION, ImageEntry, Manifest};
pub use verify::CaseBaseline;
