//! Exit status, documented once.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | every case passed |
//! | 1 | drift found (also when some cases were unjudged) |
//! | 2 | usage, suite or baseline error: nothing was judged |
//! | 3 | incomplete: provider or network failures left cases unjudged |

/// How a command ended, in severity order for the judged outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// Every case passed.
    Pass,
    /// Cases left unjudged, none drifted.
    Incomplete,
    /// Drift found.
    Drift,
    /// Nothing was judged: bad usage, suite or baseline.
    Usage,
}

impl ExitStatus {
    /// The process exit code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::Pass => 0,
            Self::Drift => 1,
            Self::Usage => 2,
            Self::Incomplete => 3,
        }
    }
}
