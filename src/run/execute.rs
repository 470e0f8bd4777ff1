//! The executor: asks the provider for every job with bounded concurrency, a request
//! budget and retries, handing each result to the caller as it arrives so that images
//! go to disk at once instead of piling up in memory.
//!
//! Jobs go out in batches: consecutive samples of a case share a request, up to what the
//! platform returns per request ([`Provider::max_batch`]). Concurrency, the request
//! budget, the pace and retries all count requests; a failed request fails every sample
//! it carried, and images a request did not return fail alone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use super::limit::Pacer;
use super::plan::{Batch, Job, batches};
use crate::provider::{ErrorKind, Generation, GenerationRequest, Provider, ProviderError};
use crate::suite::Suite;

/// How the executor behaves.
#[derive(Debug, Clone)]
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
    /// Stops the run when cancelled (Ctrl-C): nothing more is sent, requests in flight
    /// are dropped, and every unfinished job ends as "interrupted" so the caller can
    /// still judge what arrived. Default: a token nobody cancels.
    pub cancel: CancellationToken,
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
            cancel: CancellationToken::new(),
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

fn interrupted_error() -> ProviderError {
    ProviderError::new(
        ErrorKind::Budget,
        "interrupted (Ctrl-C) before this sample finished",
    )
}

/// Counters of a run.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests sent.
    pub requests: AtomicU64,
    /// Images asked for by those requests.
    pub images: AtomicU64,
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
    let mut stream = finished(provider, suite, jobs, &options, stats, pacer.as_ref());
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
    options: &ExecOptions,
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

/// The jobs' results, in completion order, at most `options.concurrency` requests in
/// flight.
fn finished<'a, P: Provider>(
    provider: &'a P,
    suite: &'a Suite,
    jobs: &'a [Job],
    options: &'a ExecOptions,
    stats: &'a Stats,
    pacer: Option<&'a Pacer>,
) -> impl futures_util::Stream<Item = Finished> + 'a {
    let cancel = &options.cancel;
    let attempt_batch = move |batch: Batch| async move {
        let req = GenerationRequest {
            model: &suite.model,
            case: &suite.cases[batch.case],
            sample: batch.sample,
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
                tokio::select! {
                    () = p.wait(options.deadline) => {}
                    () = cancel.cancelled() => {}
                }
            }
            if cancel.is_cancelled() {
                break Err(interrupted_error());
            }
            if options.deadline.is_some_and(|d| Instant::now() >= d) {
                break Err(past_deadline());
            }
            stats.requests.fetch_add(1, Ordering::SeqCst);
            stats
                .images
                .fetch_add(u64::from(batch.count), Ordering::SeqCst);
            attempt += 1;
            let call = async {
                match options.deadline {
                    Some(d) => tokio::time::timeout_at(
                        (d + CANCEL_GRACE).into(),
                        provider.generate_batch(req, batch.count),
                    )
                    .await
                    .unwrap_or_else(|_| Err(past_deadline())),
                    None => provider.generate_batch(req, batch.count).await,
                }
            };
            let outcome = tokio::select! {
                r = call => r,
                () = cancel.cancelled() => Err(interrupted_error()),
            };
            match outcome {
                Err(e)
                    if e.kind.is_retryable()
                        && attempt < options.max_attempts
                        && !cancel.is_cancelled() =>
                {
                    let wait = backoff(options.backoff_base, attempt, e.retry_after);
                    if options.deadline.is_some_and(|d| Instant::now() + wait >= d) {
                        break Err(e);
                    }
                    stats.retries.fetch_add(1, Ordering::SeqCst);
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = cancel.cancelled() => {}
                    }
                }
                other => break other,
            }
        };
        spread(batch, result)
    };
    futures_util::stream::iter(batches(jobs, provider.max_batch()))
        .map(attempt_batch)
        .buffer_unordered(options.concurrency.max(1))
        .flat_map(futures_util::stream::iter)
}

/// One result per sample of a batch: a failed request fails them all, and a sample the
/// platform did not return fails on its own.
fn spread(batch: Batch, result: Result<Vec<Generation>, ProviderError>) -> Vec<Finished> {
    match result {
        Err(e) => batch
            .jobs()
            .map(|job| Finished {
                job,
                result: Err(e.clone()),
            })
            .collect(),
        Ok(images) => {
            let got = images.len();
            let mut images = images.into_iter();
            batch
                .jobs()
                .map(|job| Finished {
                    job,
                    result: images.next().ok_or_else(|| {
                        ProviderError::new(
                            ErrorKind::Fatal,
                            format!(
                                "the platform returned {got} of the {} images asked for in one request",
                                batch.count
                            ),
                        )
                    }),
                })
                .collect()
        }
    }
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

    /// A platform that never answers.
    struct Silent;

    impl Provider for Silent {
        async fn generate(&self, _: GenerationRequest<'_>) -> Result<Generation, ProviderError> {
            std::future::pending().await
        }
    }

    #[tokio::test]
    async fn cancelling_the_token_ends_every_job_as_interrupted() {
        let suite = crate::suite::Suite {
            id: "s".into(),
            file: "s.yaml".into(),
            model: crate::suite::ModelPin {
                provider: crate::suite::ProviderKind::Sim,
                endpoint: "sim".into(),
                version: None,
                base_url: None,
                api_key_env: None,
                send_seed: true,
                price_per_image: None,
                path: None,
                mode: None,
                route: None,
                poll_interval_ms: None,
                rpm: None,
                seed_honoured: true,
            },
            warnings: Vec::new(),
            cases: vec![crate::suite::Case {
                id: "c".into(),
                prompt: "p".into(),
                references: Vec::new(),
                tags: Vec::new(),
                size: crate::suite::Size {
                    width: 8,
                    height: 8,
                },
                seed: None,
                samples: 2,
                params: crate::suite::Params::default(),
                thresholds: crate::suite::Thresholds::default(),
                line: 1,
            }],
        };
        let cancel = CancellationToken::new();
        let options = ExecOptions {
            concurrency: 1,
            cancel: cancel.clone(),
            ..ExecOptions::default()
        };
        let later = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            later.cancel();
        });
        let jobs = [Job { case: 0, sample: 0 }, Job { case: 0, sample: 1 }];
        let stats = Stats::default();
        let out = execute(&Silent, &suite, &jobs, options, &stats, |f| f).await;
        assert_eq!(out.len(), 2, "every job reported");
        for f in &out {
            let e = f.result.as_ref().unwrap_err();
            assert!(e.message.contains("interrupted"), "{e}");
        }
        // The first request was dropped in flight; the second was never sent.
        assert_eq!(stats.requests.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_short_batch_fails_only_the_missing_samples() {
        let batch = Batch {
            case: 2,
            sample: 6,
            count: 2,
        };
        let one = Generation {
            bytes: vec![1],
            metadata: crate::provider::Metadata::default(),
        };
        let out = spread(batch, Ok(vec![one]));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].job, Job { case: 2, sample: 6 });
        assert!(out[0].result.is_ok());
        let e = out[1].result.as_ref().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Fatal);
        assert!(e.message.contains("returned 1 of the 2 images"), "{e}");
        let failed = spread(batch, Err(ProviderError::new(ErrorKind::Rejected, "no")));
        assert!(failed.iter().all(|f| f.result.is_err()));
        assert_eq!(failed.len(), 2);
    }

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
