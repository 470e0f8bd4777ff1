//! Suites: YAML files that pin a model and list the cases to replay.
//!
//! `load` reads and validates; the runner only ever sees the checked [`Suite`].

mod diagnostic;
mod load;
mod model;

pub use diagnostic::{Diagnostic, SuiteErrors};
pub use load::{Case, ModelPin, Reference, Suite, load, schema};
pub(crate) use load::{sha256_hex, sha256_prefix};
pub use model::{MaxDeltaE, MaxDistance, MinScore, Params, ProviderKind, Route, Size, Thresholds};
