//! Verdicts: telling drift from sampling noise, with false alarms controlled across
//! the whole run.
//!
//! Every case is looked at through *channels*. A pairwise channel (SSIM, ΔE, pHash,
//! dHash, structure-matched colour, contrast and detail) compares how far each candidate
//! sits from the baselines with how far the baseline samples sit from each other: the
//! spread among baselines is the case's noise floor. A feature channel (mean L*, a*, b*,
//! colourfulness, contrast, sharpness, JPEG blockiness) compares a per-image signature
//! across the two groups of samples, which still works when samples differ in
//! composition. Each channel gets a two-sample Student t-test (pooled variance, with a
//! small resolution floor so identical baselines do not turn a rounding difference into
//! certainty), and the p-values of all channels of all cases of the run go through
//! Benjamini–Hochberg at the run's false-discovery rate.
//!
//! A channel flags drift only when all three hold: it survives the false-discovery
//! control; the candidates' mean lies outside the range the baselines spanned (outside
//! the noise floor); and the change is at least one just-noticeable step for that
//! channel. The suite's thresholds remain absolute limits on top, applied to the median
//! sample wherever the baselines themselves meet them.
//!
//! Palette ΔE is not a channel: k-means can split a near-identical image into a
//! different set of dominant colours, so the value jumps without the pixels changing
//! (a false alarm in a seeded noise-only run). It stays a metric and a brand limit; the
//!
//! The seam takes scores and returns decisions; it knows nothing of the report. Its
//! parts: [`Channel`] (what is tested and how it is worded), `evidence` (the values among
//! the baselines and for the candidates, from decoded images and scores),
//! `significance` (the t-test and the worst-sample prediction interval), `local` (a change
//! confined to one place in the frame), `limits` (the suite's thresholds), `degenerate`
//! (flat, resized or platform-marked samples, drift without statistics),
//! `decide` (Benjamini–Hochberg across the run) and `wording`.

mod channel;
mod decide;
mod degenerate;
mod evidence;
mod limits;
mod local;
mod significance;
mod wording;

pub use self::channel::{
    Change, Channel, ChannelSpec, Direction, Region, Signal, Source, UnknownChannel,
};
pub use self::decide::{CaseEvidence, DEFAULT_FDR, Decision, Outcome, decide};
pub use self::degenerate::{Mark, platform_mark_reasons};
pub use self::evidence::{Evidence, Weighed};
pub use self::limits::threshold_reasons;
pub use self::local::test_local;
pub use self::significance::{ChannelTest, test_mean, test_worst};
