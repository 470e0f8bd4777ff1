//! The executor: asks the provider for every job with bounded concurrency, a request
//! budget and retries, handing each result to the caller as it arrives so that images
//! go to disk at once instead of piling up in memory.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;

use super::plan::Job;
use crate::provider::{ErrorKind, Generation, GenerationRequest, Provider, ProviderError};
use crate::suite::Suite;

/// How the executor behaves.
#[derive(Debug, Clone, Copy)]
pub struct ExecOptions {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Most requests sent (retries included); `None` for no limit.
    pub max_requests: Option<u64>,
    /// Most attempts per job for retryable failures.
    pub max_attempts: u32,
}

impl Default for ExecOptions {
    fn default() -> Self {
        Self {
            concurrency: 4,
            max_requests: None,
            max_attempts: 4,
        }
    }
}

/// Counters of a run.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests sent.
    pub requests: AtomicU64,
    /// Of which retries.
    pub retries: AtomicU64,
}

/// One job's final result.
#[derive(Debug)]
pub struct Finished {
    /// The job.
    pub job: Job,
    /// The image, or why there is none.
    pub result: Result<Generation, ProviderError>,
}

/// Runs every job; `on_finished` sees each result as it completes.
pub async fn execute<P: Provider, T>(
    provider: &P,
    suite: &Suite,
    jobs: &[Job],
    options: ExecOptions,
    stats: &Stats,
    mut on_finished: impl FnMut(Finished) -> T,
) -> Vec<T> {
    let attempt_job = |job: Job| async move {
        let req = GenerationRequest {
            model: &suite.model,
            case: &suite.cases[job.case],
            sample: job.sample,
        };
        let mut attempt = 0u32;
        let result = loop {
            if options
                .max_requests
                .is_some_and(|max| stats.requests.load(Ordering::SeqCst) >= max)
            {
                break Err(ProviderError::new(
                    ErrorKind::Budget,
                    "not sent: the request budget (--max-requests) was reached",
                ));
            }
            stats.requests.fetch_add(1, Ordering::SeqCst);
            attempt += 1;
            match provider.generate(req).await {
                Err(e) if e.kind.is_retryable() && attempt < options.max_attempts => {
                    stats.retries.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(backoff(attempt, e.retry_after)).await;
                }
                other => break other,
            }
        };
        Finished { job, result }
    };
    let mut stream = futures_util::stream::iter(jobs.iter().copied())
        .map(attempt_job)
        .buffer_unordered(options.concurrency.max(1));
    let mut out = Vec::with_capacity(jobs.len());
    while let Some(finished) = stream.next().await {
        out.push(on_finished(finished));
    }
    out
}

/// Exponential backoff with full jitter, or the provider's Retry-After when given.
fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(d) = retry_after {
        return d.min(Duration::from_secs(120));
    }
    let cap = Duration::from_millis(250).saturating_mul(1 << attempt.min(6));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    cap.mul_f64(0.5 + f64::from(nanos % 1000) / 2000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_honours_retry_after_and_grows() {
        assert_eq!(
            backoff(1, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert!(backoff(1, None) <= Duration::from_millis(500));
        assert!(backoff(4, None) >= Duration::from_millis(2000));
    }
}
