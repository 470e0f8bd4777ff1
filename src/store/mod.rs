//! Everything driftgate keeps: baselines, their manifest, atomic writes; on disk or in
//! object storage behind one seam ([`Baselines`]).

mod atomic;
mod baseline;
mod cache;
mod commit;
mod connector;
mod location;
mod lock;
mod manifest;
mod overlay;
mod remote;
mod verify;

pub use atomic::{TEMP_PREFIX, clean_temp_files, write_atomic, write_atomic_with};
pub use baseline::{BaselineStore, StoreError};
pub use cache::default_cache_dir;
pub use location::Baselines;
pub use lock::{LOCK_FILE, SuiteLock};
pub use manifest::{CaseEntry, FORMAT_VERSION, ImageEntry, Manifest};
pub use remote::{HISTORY_KEEP, MAX_RETRIES, Merged, RemoteStore, Transfers, is_remote};
pub use verify::CaseBaseline;
