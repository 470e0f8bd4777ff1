//! The one poll-and-cancel loop the queue providers share (fal queue, Replicate,
//! WaveSpeed, Atlas Cloud).
//!
//! A queued job has already been paid for once it is submitted, so everything here
//! avoids a second submission: a failed status read is retried in place (up to
//! [`MAX_POLL_FAILURES`] in a row) rather than surfaced as a retryable error that would
//! make the runner submit again, and a job still running at the run's deadline is
//! cancelled where the platform has a cancel call. What a state means, and where the
//! next state is read from, is each platform's business ([`Job`]).

use std::time::{Duration, Instant};

use reqwest::RequestBuilder;
use serde_json::Value;

use super::http::Http;
use super::{ErrorKind, ProviderError};
use crate::suite::ModelPin;

/// Consecutive failed status reads tolerated before the job is given up.
pub(crate) const MAX_POLL_FAILURES: u32 = 5;

/// How long a cancel request may take: it is best effort, sent as the run ends.
const CANCEL_TIMEOUT: Duration = Duration::from_secs(3);

/// What one state of a job says.
pub(crate) enum Step<T> {
    /// Still queued or running.
    Pending,
    /// Finished; the value is what the provider needs to fetch its image.
    Done(T),
}

/// One submitted job, as a platform describes it.
pub(crate) trait Job {
    /// What a finished job yields.
    type Output;

    /// Names the job in messages, e.g. `fal request 123`.
    fn label(&self) -> String;

    /// The request that reads the job's state; `last` is the previous state, if any.
    ///
    /// # Errors
    /// When the state cannot be asked for (no URL to poll, an unusable URL).
    fn next(&mut self, last: Option<&Value>) -> Result<RequestBuilder, ProviderError>;

    /// Reads one state. A failed, cancelled or unknown state is an error.
    ///
    /// # Errors
    /// When the job ended without an image, classified by the platform's words.
    fn inspect(&mut self, state: &Value) -> Result<Step<Self::Output>, ProviderError>;

    /// The request that cancels the job, where the platform has one.
    fn cancel(&self, last: Option<&Value>) -> Option<RequestBuilder>;

    /// The state in a status answer. An answer that reports its own failure (an
    /// envelope `code`) is a failed read. Default: the answer as it is.
    ///
    /// # Errors
    /// When the answer says the read failed.
    fn read(&self, answer: Value) -> Result<Value, ProviderError> {
        Ok(answer)
    }

    /// Whether a failed status read is passed over (counted toward the limit) instead of
    /// ending the job. Default: what the runner would retry.
    fn tolerate(&mut self, e: &ProviderError) -> bool {
        e.kind.is_retryable()
    }

    /// The error returned when status reads keep failing. Default: the last failure as
    /// it is, so the runner may submit again; a platform whose clients never resubmit a
    /// created task makes it final.
    fn gave_up(&self, e: ProviderError) -> ProviderError {
        e
    }
}

/// When and how often a job is polled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schedule {
    /// Wait between two status reads.
    pub(crate) every: Duration,
    /// When the run must end. Default: none.
    pub(crate) deadline: Option<Instant>,
}

impl Schedule {
    /// The schedule of a suite's jobs: the pin's `poll_interval_ms`, or the platform's
    /// `default_every` where the suite sets none; `deadline` is the run's.
    pub(crate) fn for_model(
        model: &ModelPin,
        default_every: Duration,
        deadline: Option<Instant>,
    ) -> Self {
        Self {
            every: model
                .poll_interval_ms
                .map_or(default_every, Duration::from_millis),
            deadline,
        }
    }
}

/// Polls `job` until it is done, starting from `first` when the submit answer already
/// holds a state (Replicate's `Prefer: wait`).
///
/// # Errors
/// The job's own failure; a status read that failed [`MAX_POLL_FAILURES`] times in a
/// row or could not be tolerated; the run's deadline (transient, after a cancel).
pub(crate) async fn wait<J: Job + Send>(
    http: &Http,
    schedule: Schedule,
    mut job: J,
    first: Option<Value>,
) -> Result<J::Output, ProviderError> {
    let mut state = first;
    let mut failures = 0;
    loop {
        if let Some(s) = &state
            && let Step::Done(out) = job.inspect(s)?
        {
            return Ok(out);
        }
        if schedule
            .deadline
            .is_some_and(|d| Instant::now() + schedule.every >= d)
        {
            let what = match job.cancel(state.as_ref()) {
                Some(rb) => {
                    // Best effort: a failed cancel leaves a job the platform finishes and
                    // bills, nothing worse.
                    let _ = rb.timeout(CANCEL_TIMEOUT).send().await;
                    "was cancelled"
                }
                None => {
                    "was left running: the platform has no cancel call, so it may still finish and bill"
                }
            };
            return Err(ProviderError::new(
                ErrorKind::Transient,
                format!("the run deadline was reached; {} {what}", job.label()),
            ));
        }
        tokio::time::sleep(schedule.every).await;
        let rb = job.next(state.as_ref())?;
        match http.json(rb).await.and_then(|(_, v, _)| job.read(v)) {
            Ok(v) => {
                failures = 0;
                state = Some(v);
            }
            Err(e) if job.tolerate(&e) => {
                failures += 1;
                if failures >= MAX_POLL_FAILURES {
                    return Err(job.gave_up(e));
                }
            }
            Err(e) => return Err(e),
        }
    }
}
