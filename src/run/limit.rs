//! A requests-per-minute pacer: requests start at least `60 s / rpm` apart.
//!
//! Even spacing rather than a burst bucket, because platforms count per rolling window
//! and a burst at the start of a run is what trips their 429s.

use std::time::{Duration, Instant};

use tokio::sync::Mutex;

/// Hands out start slots spaced evenly.
#[derive(Debug)]
pub(crate) struct Pacer {
    gap: Duration,
    next: Mutex<Option<Instant>>,
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
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.gap);
            slot
        };
        let until = deadline.map_or(slot, |d| slot.min(d));
        tokio::time::sleep_until(until.into()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slots_are_spaced() {
        let p = Pacer::per_minute(1200); // 50 ms apart
        let start = Instant::now();
        for _ in 0..4 {
            p.wait(None).await;
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(150), "{took:?}");
        assert!(took < Duration::from_millis(1000), "{took:?}");
    }
}
