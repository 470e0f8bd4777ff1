//! Running a suite against its provider: the plan (which samples to ask for) and the
//! executor (bounded concurrency, request budget, retries). The runner never formats
//! output; a failed sample is data, never an early return.

mod execute;
mod limit;
mod plan;
mod progress;

pub use execute::{ExecOptions, Finished, Stats, execute, execute_on};
pub use plan::{Batch, Job, Selection, batches, plan, plan_all};
pub use progress::Progress;
pub use tokio_util::sync::CancellationToken;
