//! driftgate catches silent drift in hosted image models.
//!
//! A suite pins a model and lists cases; `record` stores the provider's outputs as
//! baselines; `run` replays the suite, scores the new outputs against the baselines,
//! and writes a report whose verdict gates CI. The data path reads top to bottom in
//! `app/run.rs`: suite → run (provider) → store → score → verdict → report → exit.

#![deny(missing_docs)]

/// `println!` that stays quiet when stdout is a closed pipe, as in `driftgate schema |
/// head`, instead of panicking; the command still ends with its own exit status.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod app;
pub mod catalog;
pub mod cli;
mod digest;
pub mod error;
pub mod exit;
mod paths;
pub mod provider;
pub mod report;
pub mod run;
pub mod score;
pub mod store;
pub mod suite;
pub mod verdict;

pub use app::run;
pub use error::Error;
pub use exit::ExitStatus;
