//! Which samples of which cases a run asks for.

use crate::suite::Suite;

/// One sample of one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    /// Index of the case in its suite.
    pub case: usize,
    /// 0-based sample index.
    pub sample: u32,
}

/// Consecutive samples of one case asked for in one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    /// Index of the case in its suite.
    pub case: usize,
    /// The first sample.
    pub sample: u32,
    /// How many samples, from `sample` on.
    pub count: u32,
}

impl Batch {
    /// The batch's samples, one job each.
    pub fn jobs(self) -> impl Iterator<Item = Job> {
        (self.sample..self.sample + self.count).map(move |sample| Job {
            case: self.case,
            sample,
        })
    }
}

/// Groups jobs into requests of at most `max` images: consecutive samples of one case
/// share a request, a case never shares one with another (its prompt differs).
#[must_use]
pub fn batches(jobs: &[Job], max: u32) -> Vec<Batch> {
    let max = max.max(1);
    let mut out: Vec<Batch> = Vec::new();
    for job in jobs {
        match out.last_mut() {
            Some(b) if b.case == job.case && b.sample + b.count == job.sample && b.count < max => {
                b.count += 1;
            }
            _ => out.push(Batch {
                case: job.case,
                sample: job.sample,
                count: 1,
            }),
        }
    }
    out
}

/// Case filters given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Glob patterns on case ids (`--case`); empty selects all.
    pub cases: Vec<glob::Pattern>,
    /// `--shard I/N`: keep the cases whose position modulo N is I-1.
    pub shard: Option<(usize, usize)>,
}

impl Selection {
    /// Whether the case with this id at this position (across all suites) is selected.
    #[must_use]
    pub fn selects(&self, id: &str, position: usize) -> bool {
        let by_id = self.cases.is_empty() || self.cases.iter().any(|p| p.matches(id));
        let by_shard = self.shard.is_none_or(|(i, n)| position % n == i - 1);
        by_id && by_shard
    }
}

/// The selected cases of a suite (indices) and their jobs; `offset` is the number of
/// cases of the suites before it, so shards split the whole run evenly.
#[must_use]
pub fn plan(suite: &Suite, selection: &Selection, offset: usize) -> (Vec<usize>, Vec<Job>) {
    let cases: Vec<usize> = suite
        .cases
        .iter()
        .enumerate()
        .filter(|(i, c)| selection.selects(&c.id, offset + i))
        .map(|(i, _)| i)
        .collect();
    let jobs = cases
        .iter()
        .flat_map(|&case| (0..suite.cases[case].samples).map(move |sample| Job { case, sample }))
        .collect();
    (cases, jobs)
}

/// Plans every suite of a run; shards count cases across all of them.
#[must_use]
pub fn plan_all(suites: &[Suite], selection: &Selection) -> Vec<(Vec<usize>, Vec<Job>)> {
    let mut offset = 0;
    suites
        .iter()
        .map(|s| {
            let p = plan(s, selection, offset);
            offset += s.cases.len();
            p
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_split_cases_at_the_platform_maximum() {
        let jobs: Vec<Job> = [(0, 8), (1, 3), (2, 1)]
            .into_iter()
            .flat_map(|(case, n)| (0..n).map(move |sample| Job { case, sample }))
            .collect();
        let b = batches(&jobs, 6);
        let counts: Vec<(usize, u32, u32)> =
            b.iter().map(|b| (b.case, b.sample, b.count)).collect();
        assert_eq!(counts, [(0, 0, 6), (0, 6, 2), (1, 0, 3), (2, 0, 1)]);
        let back: Vec<Job> = b.iter().flat_map(|b| b.jobs()).collect();
        assert_eq!(back, jobs);
        assert_eq!(batches(&jobs, 1).len(), jobs.len());
        assert_eq!(
            batches(&jobs, 0).len(),
            jobs.len(),
            "0 means one per request"
        );
        // A gap in the samples (a resumed case) starts a new request.
        let gap = [Job { case: 0, sample: 0 }, Job { case: 0, sample: 2 }];
        assert_eq!(batches(&gap, 6).len(), 2);
    }

    #[test]
    fn shards_partition_and_globs_filter() {
        let s = Selection {
            cases: vec![glob::Pattern::new("bottle-*").unwrap()],
            shard: None,
        };
        assert!(s.selects("bottle-wood", 0));
        assert!(!s.selects("shoe", 0));
        let shards: Vec<Selection> = (1..=3)
            .map(|i| Selection {
                cases: vec![],
                shard: Some((i, 3)),
            })
            .collect();
        for pos in 0..10 {
            assert_eq!(shards.iter().filter(|s| s.selects("x", pos)).count(), 1);
        }
    }
}
