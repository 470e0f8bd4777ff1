//! Suites: YAML files that pin a model and list the cases to replay.
//!
//! `load` reads and validates; the runner only ever sees the checked [`Suite`].
//! `parse` finds and parses the files, `validate` checks them, `checked` holds what comes
//! out, with the request fingerprint.

mod checked;
mod diagnostic;
mod model;
mod parse;
mod validate;

pub use checked::{Case, ModelPin, Reference, Suite};
pub use diagnostic::{Diagnostic, SuiteErrors};
pub use model::{MaxDeltaE, MaxDistance, MinScore, Params, ProviderKind, Route, Size, Thresholds};
pub use parse::{load, schema};
