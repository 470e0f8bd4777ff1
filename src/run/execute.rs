//! The executor: asks the provider for every job with bounded concurrency, a request
//! budget and retries, handing each result to the caller as it arrives so that images
//! go to disk at once instead of piling up in memory.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use super::limit::Pacer;
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
    /// First retry delay; it doubles per attempt, with jitter. Default: 250 ms.
    pub backoff_base: Duration,
    /// When the run stops: jobs not finished by then are reported as errors. Providers
    /// with queues get the same instant and cancel their jobs. Default: none.
    pub deadline: Option<Instant>,
    /// Most requests started per minute, retries included. Default: no limit.
    pub rpm: Option<u32>,
}

impl Default for ExecOptions {
    fn default() -> Self {
        Self {
            concurrency: 4,
            max_requests: None,
            max_attempts: 4,
            backoff_base: Duration::from_millis(250),
            deadline: None,
            rpm: None,
        }
    }
}

/// Time a provider gets past the deadline to cancel its queued jobs before the
/// executor drops the request.
const CANCEL_GRACE: Duration = Duration::from_secs(4);

fn past_deadline() -> ProviderError {
    ProviderError::new(
        ErrorKind::Transient,
        "not finished before the run deadline (--deadline)",
    )
}

/// Set once by Ctrl-C (see [`interrupt`]); the whole process winds down after it.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Stops the executor: nothing more is sent, requests in flight are dropped, and every
/// unfinished job ends as "interrupted" so the caller can still judge what arrived.
pub fn interrupt() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Whether [`interrupt`] was called.
#[must_use]
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

fn interrupted_error() -> ProviderError {
    ProviderError::new(
        ErrorKind::Budget,
        "interrupted (Ctrl-C) before this sample finished",
    )
}

/// Resolves once [`interrupt`] has been called. Polled: simpler than handing a notifier
/// to every job, and a 50 ms check costs nothing next to a network request.
async fn until_interrupted() {
    while !interrupted() {
        tokio::time::sleep(Duration::from_millis(50)).await;
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
    let pacer = options.rpm.map(Pacer::per_minute);
    let mut stream = finished(provider, suite, jobs, options, stats, pacer.as_ref());
    let mut out = Vec::with_capacity(jobs.len());
    while let Some(f) = stream.next().await {
        out.push(on_finished(f));
    }
    out
}

/// Like [`execute`], driven on `rt`, with `on_finished` on a thread of its own.
///
/// The request stream only advances while it is polled, so a callback that writes and
/// fsyncs a candidate would otherwise hold back every request waiting to start; on a
/// separate thread it overlaps with the requests in flight.
pub fn execute_on<P: Provider, T: Send>(
    rt: &tokio::runtime::Runtime,
    provider: &P,
    suite: &Suite,
    jobs: &[Job],
    options: ExecOptions,
    stats: &Stats,
    on_finished: impl FnMut(Finished) -> T + Send,
) -> Vec<T> {
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::channel::<Finished>();
        let consumer = s.spawn(move || rx.into_iter().map(on_finished).collect::<Vec<_>>());
        rt.block_on(async {
            let pacer = options.rpm.map(Pacer::per_minute);
            let mut stream = finished(provider, suite, jobs, options, stats, pacer.as_ref());
            while let Some(f) = stream.next().await {
                if tx.send(f).is_err() {
                    break;
                }
            }
        });
        drop(tx);
        consumer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The jobs' results, in completion order, at most `options.concurrency` in flight.
fn finished<'a, P: Provider>(
    provider: &'a P,
    suite: &'a Suite,
    jobs: &'a [Job],
    options: ExecOptions,
    stats: &'a Stats,
    pacer: Option<&'a Pacer>,
) -> impl futures_util::Stream<Item = Finished> + 'a {
    let attempt_job = move |job: Job| async move {
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
            if let Some(p) = pacer {
                p.wait(options.deadline).await;
            }
            if interrupted() {
                break Err(interrupted_error());
            }
            if options.deadline.is_some_and(|d| Instant::now() >= d) {
                break Err(past_deadline());
            }
            stats.requests.fetch_add(1, Ordering::SeqCst);
            attempt += 1;
            let call = async {
                match options.deadline {
                    Some(d) => {
                        tokio::time::timeout_at((d + CANCEL_GRACE).into(), provider.generate(req))
                            .await
                            .unwrap_or_else(|_| Err(past_deadline()))
                    }
                    None => provider.generate(req).await,
                }
            };
            let outcome = tokio::select! {
                r = call => r,
                () = until_interrupted() => Err(interrupted_error()),
            };
            match outcome {
                Err(e)
                    if e.kind.is_retryable()
                        && attempt < options.max_attempts
                        && !interrupted() =>
                {
                    let wait = backoff(options.backoff_base, attempt, e.retry_after);
                    if options.deadline.is_some_and(|d| Instant::now() + wait >= d) {
                        break Err(e);
                    }
                    stats.retries.fetch_add(1, Ordering::SeqCst);
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = until_interrupted() => {}
                    }
                }
                other => break other,
            }
        };
        Finished { job, result }
    };
    futures_util::stream::iter(jobs.iter().copied())
        .map(attempt_job)
        .buffer_unordered(options.concurrency.max(1))
}

/// Exponential backoff with full jitter, or the provider's Retry-After when given.
fn backoff(base: Duration, attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(d) = retry_after {
        return d.min(Duration::from_secs(120));
    }
    let cap = base.saturating_mul(1 << attempt.min(6));
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
        let base = Duration::from_millis(250);
        assert_eq!(
            backoff(base, 1, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert!(backoff(base, 1, None) <= Duration::from_millis(500));
        assert!(backoff(base, 4, None) >= Duration::from_millis(2000));
    }
}
