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
