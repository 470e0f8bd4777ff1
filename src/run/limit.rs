//! A requests-per-minute pacer: requests start at least `60 s / rpm` apart.
//!
//! Even spacing rather than a burst bucket, because platforms count per rolling window
//! and a burst at the start of a run is what trips their 429s.

use std::time::{Duration, Instant};

use tokio::sync::Mutex;
// Tokio's clock, so that a test can pause it and the spacing is exact.
use tokio::time::Instant as Clock;

/// Hands out start slots spaced evenly.
#[derive(Debug)]
pub(crate) struct Pacer {
    gap: Duration,
    next: Mutex<Option<Clock>>,
}

impl Pacer {
    /// A pacer for `rpm` requests per minute (at least 1).
    pub(crate) fn per_minute(rpm: u32) -> Self {
        Self {
            gap: Duration::from_secs(60) / rpm.max(1),
            next: Mutex::new(None),
        }
    }

    /// Waits for the next free slot; returns early at the deadline so the caller can
    /// report the job as unfinished.
    pub(crate) async fn wait(&self, deadline: Option<Instant>) {
        let slot = {
            let mut next = self.next.lock().await;
            let now = Clock::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.gap);
            slot
        };
        let until = deadline.map_or(slot, |d| slot.min(d.into()));
        tokio::time::sleep_until(until).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn slots_are_spaced() {
        let p = Pacer::per_minute(1200); // 50 ms apart
        let start = Clock::now();
        for _ in 0..4 {
            p.wait(None).await;
        }
        assert_eq!(start.elapsed(), Duration::from_millis(150));
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_cuts_the_wait_short() {
        let p = Pacer::per_minute(1); // a minute apart
        p.wait(None).await;
        let start = Clock::now();
        let deadline = Instant::now() + Duration::from_secs(5);
        p.wait(Some(deadline)).await;
        // The deadline is on the real clock, which moves on while tokio's is paused, so
        // the wait ends a hair after 5 s of paused time: far short of the minute's slot.
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_secs(5) && waited < Duration::from_secs(6),
            "{waited:?}"
        );
    }
}
