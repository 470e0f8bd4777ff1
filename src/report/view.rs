//! What the HTML page shows, derived once from a [`RunReport`] before any markup is
//! written: the page's templates only format these values, so a number on the page is
//! the number the scoring or the verdict produced, never a second computation of it.

use std::collections::BTreeSet;

use super::history::{HistoryRecord, median};
use super::model::{CaseReport, CaseVerdict, RunReport, SampleReport, SuiteReport};
use super::text::{MetricRow, Provenance, metric_table};
use crate::score::{LabShift, PaletteColor, PaletteFlow, lab_shift_words, palette_match};
use crate::verdict::{ChannelTest, Region};

/// The run as the page's first screen and toolbar show it.
pub(crate) struct RunView<'a> {
    pub(crate) report: &'a RunReport,
    /// Cases with each verdict.
    pub(crate) drift: usize,
    pub(crate) errors: usize,
    pub(crate) inconclusive: usize,
    pub(crate) passed: usize,
    /// The images asked for, when more than the requests (several samples per request),
    /// as [`super::RunStats::requests_label`] words it.
    pub(crate) batched_images: Option<u64>,
    /// Estimated and platform-reported spend in one line; `None` for runs without one.
    pub(crate) spend: Option<String>,
    /// Whether any case carries a request fingerprint: `compare` runs record none and
    /// cannot be accepted, so the page does not suggest `driftgate accept` for them.
    pub(crate) acceptable: bool,
    /// Whether any suite's provider reports a different build than at baseline time.
    pub(crate) build_changed: bool,
    pub(crate) suites: Vec<SuiteView<'a>>,
    /// Tags offered in the filter (tags with whitespace cannot be matched by it).
    pub(crate) tags: BTreeSet<&'a str>,
}

impl<'a> RunView<'a> {
    pub(crate) fn new(report: &'a RunReport) -> Self {
        Self {
            report,
            drift: report.count(CaseVerdict::Drift),
            errors: report.count(CaseVerdict::Error),
            inconclusive: report.count(CaseVerdict::Inconclusive),
            passed: report.count(CaseVerdict::Pass),
            batched_images: (report.stats.images > report.stats.requests)
                .then_some(report.stats.images),
            spend: report.stats.spend.as_ref().map(super::Spend::line),
            acceptable: report.cases.iter().any(|c| !c.fingerprint.is_empty()),
            build_changed: report
                .suites
                .iter()
                .any(|s| !s.fingerprint_changes.is_empty()),
            suites: report
                .suites
                .iter()
                .map(|s| SuiteView::new(report, s))
                .collect(),
            tags: report
                .cases
                .iter()
                .flat_map(|c| &c.tags)
                .map(String::as_str)
                .filter(|t| !t.contains(char::is_whitespace))
                .collect(),
        }
    }

    /// Cases that could not be judged, for whatever reason.
    pub(crate) fn unjudged(&self) -> usize {
        self.errors + self.inconclusive
    }
}

/// One row of a suite's build table.
pub(crate) struct BuildRow {
    pub(crate) field: String,
    pub(crate) baseline: String,
    pub(crate) now: String,
    pub(crate) changed: bool,
}

/// A suite's card: its pin and the build its provider reports.
pub(crate) struct SuiteView<'a> {
    pub(crate) suite: &'a SuiteReport,
    /// Changed fields first, then the rest by name.
    pub(crate) build: Vec<BuildRow>,
    /// What the suite's candidates cannot prove about their build or seed.
    pub(crate) notes: Vec<&'static str>,
}

impl<'a> SuiteView<'a> {
    fn new(r: &RunReport, s: &'a SuiteReport) -> Self {
        // The build identity the provider reports now; unchanged fields equal the baseline's.
        let now = r
            .cases
            .iter()
            .filter(|c| c.suite == s.suite)
            .find_map(|c| c.samples.get().iter().find_map(|x| x.provider.clone()))
            .as_ref()
            .map(crate::provider::Metadata::build_identity)
            .unwrap_or_default();
        let mut build: Vec<BuildRow> = now
            .iter()
            .filter(|(k, _)| !s.fingerprint_changes.iter().any(|f| &f.field == *k))
            .map(|(k, v)| BuildRow {
                field: k.clone(),
                baseline: v.clone(),
                now: v.clone(),
                changed: false,
            })
            .collect();
        for f in &s.fingerprint_changes {
            build.push(BuildRow {
                field: f.field.clone(),
                baseline: f.baseline.clone().unwrap_or_else(|| "—".into()),
                now: f.candidate.clone().unwrap_or_else(|| "—".into()),
                changed: true,
            });
        }
        build.sort_by(|a, b| {
            b.changed
                .cmp(&a.changed)
                .then_with(|| a.field.cmp(&b.field))
        });
        Self {
            suite: s,
            build,
            notes: Provenance::of_suite(r, &s.suite).notes(),
        }
    }
}

/// The median colour shift of a case's scored samples, with its words.
pub(crate) struct ColourView {
    pub(crate) shift: LabShift,
    /// Median change of mean chroma, candidate minus baseline (+ = more saturated).
    pub(crate) chroma: f64,
    /// The shift in words ("warmer", "darker", ...); empty when no change is noticeable.
    pub(crate) words: Vec<String>,
}

impl ColourView {
    fn of(samples: &[SampleReport]) -> Option<Self> {
        let ms: Vec<_> = samples.iter().filter_map(|s| s.metrics.as_ref()).collect();
        let med = |f: fn(&crate::score::Metrics) -> f64| median(ms.iter().map(|m| f(m)).collect());
        let shift = LabShift {
            dl: med(|m| m.lab_shift.dl)?,
            da: med(|m| m.lab_shift.da)?,
            db: med(|m| m.lab_shift.db)?,
        };
        let chroma = med(|m| m.chroma_shift).unwrap_or(0.0);
        let words = lab_shift_words(&shift, chroma);
        Some(Self {
            shift,
            chroma,
            words,
        })
    }
}

/// One pair of the palette match: the share of colour moved from a baseline colour to a
/// candidate colour, and its ΔE.
pub(crate) struct SwatchView<'a> {
    pub(crate) base: &'a PaletteColor,
    pub(crate) cand: &'a PaletteColor,
    pub(crate) flow: PaletteFlow,
    /// Whether the pair's ΔE is above the suite's palette limit.
    pub(crate) far: bool,
}

/// The palettes of one sample as the palette metric matched them.
pub(crate) struct PaletteView<'a> {
    /// 1-based sample number.
    pub(crate) sample: u32,
    pub(crate) swatches: Vec<SwatchView<'a>>,
    /// The sample's `palette_delta_e`: the share-weighted ΔE of these pairs.
    pub(crate) distance: Option<f64>,
}

/// Pairs moving less than this share of the image are left off the swatches: they are
/// rounding remainders of the transport plan, and add nothing a reader could see.
const SWATCH_MIN_SHARE: f64 = 0.001;

impl<'a> PaletteView<'a> {
    fn of(c: &'a CaseReport, samples: &'a [SampleReport]) -> Option<Self> {
        let s = samples
            .iter()
            .find(|s| !s.base_palette.is_empty() && !s.cand_palette.is_empty())?;
        // The palette metric itself has no limit of its own unless the suite sets one; 5
        // is where colours read as clearly different.
        let limit = c.thresholds.palette.map_or(5.0, |p| p.max_delta_e);
        let swatches = palette_match(&s.base_palette, &s.cand_palette)
            .into_iter()
            .filter(|f| f.share >= SWATCH_MIN_SHARE)
            .filter_map(|flow| {
                Some(SwatchView {
                    base: s.base_palette.get(flow.from)?,
                    cand: s.cand_palette.get(flow.to)?,
                    far: flow.delta_e > limit,
                    flow,
                })
            })
            .collect();
        Some(Self {
            sample: s.index + 1,
            swatches,
            distance: s.metrics.as_ref().map(|m| m.palette_delta_e),
        })
    }
}

/// One trend line of a case, oldest run first.
pub(crate) struct SeriesView {
    pub(crate) label: &'static str,
    pub(crate) values: Vec<f64>,
    pub(crate) limit: Option<f64>,
    /// Decimals shown for the first and last value.
    pub(crate) digits: usize,
    /// Smallest vertical range drawn, so run-to-run noise far below any threshold is
    /// drawn as the flat line it is rather than stretched to full height.
    pub(crate) min_span: f64,
}

/// A case's trend over the recorded runs.
pub(crate) struct TrendView {
    pub(crate) runs: usize,
    /// Whether the case drifted in the last run (its points are drawn red).
    pub(crate) last_bad: bool,
    /// Only series with at least two points.
    pub(crate) series: Vec<SeriesView>,
}

impl TrendView {
    fn of(c: &CaseReport, history: &[HistoryRecord]) -> Option<Self> {
        let points: Vec<_> = history
            .iter()
            .filter_map(|r| r.cases.iter().find(|h| h.suite == c.suite && h.id == c.id))
            .collect();
        if points.len() < 2 {
            return None;
        }
        let series = [
            SeriesView {
                label: "structure (SSIM)",
                values: points.iter().filter_map(|p| p.ssim).collect(),
                limit: c.thresholds.ssim.map(|t| t.min),
                digits: 3,
                min_span: 0.1,
            },
            SeriesView {
                label: "colour (ΔE)",
                values: points.iter().filter_map(|p| p.delta_e).collect(),
                limit: c.thresholds.delta_e.map(|t| t.max_delta_e),
                digits: 2,
                min_span: 3.0,
            },
            SeriesView {
                label: "warmth (Δb, + = warmer)",
                values: points.iter().filter_map(|p| p.db).collect(),
                limit: None,
                digits: 1,
                min_span: 4.0,
            },
        ];
        Some(Self {
            runs: points.len(),
            last_bad: points
                .last()
                .is_some_and(|p| p.verdict == CaseVerdict::Drift),
            series: series.into_iter().filter(|s| s.values.len() >= 2).collect(),
        })
    }
}

/// Everything the page shows of one case.
pub(crate) struct CaseView<'a> {
    pub(crate) case: &'a CaseReport,
    pub(crate) samples: &'a [SampleReport],
    /// The samples in the order the page shows them: the one the first degenerate or
    /// marked reason names first, the others in sample order.
    pub(crate) shown: Vec<&'a SampleReport>,
    /// One sentence on what happened, in words rather than metric names.
    pub(crate) headline: String,
    pub(crate) colour: Option<ColourView>,
    /// The metric table shared with the text and Markdown reports.
    pub(crate) rows: Vec<MetricRow>,
    /// Noise floors of channels without a row in the table (features, matched regions).
    pub(crate) extra_floors: Vec<&'a ChannelTest>,
    pub(crate) palette: Option<PaletteView<'a>>,
    pub(crate) trend: Option<TrendView>,
    /// What this case's candidates cannot prove about their build or seed.
    pub(crate) notes: Vec<&'static str>,
    /// Where a localised change flagged drift, to mark on the images.
    pub(crate) region: Option<&'a Region>,
}

impl<'a> CaseView<'a> {
    /// `samples` are `c`'s samples, read once by the caller (they may have been spilled
    /// to disk); `pin` is its suite's model pin, when the run has one.
    pub(crate) fn new(
        c: &'a CaseReport,
        samples: &'a [SampleReport],
        pin: Option<&serde_json::Value>,
        history: &[HistoryRecord],
    ) -> Self {
        let rows = metric_table(c);
        let extra_floors = c
            .floors
            .iter()
            .filter(|f| !rows.iter().any(|r| f.metric == r.key))
            .collect();
        let colour = ColourView::of(samples);
        Self {
            case: c,
            samples,
            shown: flagged_first(c, samples),
            headline: headline(c, &rows, colour.as_ref(), samples),
            colour,
            rows,
            extra_floors,
            palette: PaletteView::of(c, samples),
            trend: TrendView::of(c, history),
            notes: Provenance::of(samples, pin).notes(),
            region: flagged_region(c),
        }
    }
}

/// Where a localised change flagged drift in `c`.
fn flagged_region(c: &CaseReport) -> Option<&Region> {
    c.floors
        .iter()
        .filter(|f| f.flags_drift())
        .find_map(|f| f.region.as_ref())
}

/// The 0-based sample the case's first degenerate or marked reason names: every such
/// reason starts "sample N " (1-based), as `verdict` words them.
pub(crate) fn flagged_sample(c: &CaseReport) -> Option<u32> {
    let rest = c.degenerate.first()?.strip_prefix("sample ")?;
    let n: u32 = rest.split(' ').next()?.parse().ok()?;
    n.checked_sub(1)
}

/// `samples` with the flagged one (see [`flagged_sample`]) moved to the front.
fn flagged_first<'a>(c: &CaseReport, samples: &'a [SampleReport]) -> Vec<&'a SampleReport> {
    let mut shown: Vec<&SampleReport> = samples.iter().collect();
    if let Some(n) = flagged_sample(c) {
        // A stable sort on one key: the flagged sample first, the rest as they were.
        shown.sort_by_key(|s| s.index != n);
    }
    shown
}

/// Whether a noise floor's candidate value lies outside the range of the baselines.
pub(crate) fn outside(f: &ChannelTest) -> bool {
    f.value < f.low || f.value > f.high
}

fn headline(
    c: &CaseReport,
    rows: &[MetricRow],
    colour: Option<&ColourView>,
    samples: &[SampleReport],
) -> String {
    match c.verdict {
        CaseVerdict::Pass => "Still looks like the approved baseline.".into(),
        CaseVerdict::Inconclusive => "Not enough samples to tell whether it changed.".into(),
        CaseVerdict::Error => "Could not be judged: the provider or a file failed.".into(),
        CaseVerdict::Drift => {
            let bad: Vec<&str> = rows.iter().filter(|r| !r.ok).map(|r| r.key).collect();
            let mut what = Vec::new();
            if bad.iter().any(|k| matches!(*k, "ssim" | "phash" | "dhash")) {
                what.push("shapes and composition".to_string());
            }
            if bad
                .iter()
                .any(|k| matches!(*k, "delta_e" | "palette_delta_e"))
            {
                match colour.filter(|c| !c.words.is_empty()) {
                    Some(c) => what.push(format!("colours ({})", c.words.join(", "))),
                    None => what.push("colours".to_string()),
                }
            }
            if samples.iter().any(|s| s.size_change.is_some()) {
                what.push("image size".to_string());
            }
            if let Some(r) = flagged_region(c) {
                what.push(format!("one place in the frame ({})", r.name));
            }
            let marked = samples.iter().any(|s| {
                s.provider
                    .as_ref()
                    .is_some_and(|p| p.platform_mark.is_some())
            });
            // Drift on a sample by itself, with nothing the measurements show: say what
            // happened to it rather than that the model varied.
            if what.is_empty() && marked {
                "The platform marked or filtered a sample.".into()
            } else if what.is_empty() && !c.degenerate.is_empty() {
                "A sample came back blank or at another size.".into()
            } else if what.is_empty() {
                "Changed beyond the model's usual variation.".into()
            } else {
                format!("Changed: {}.", what.join(" and "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(degenerate: &[&str]) -> CaseReport {
        let mut c: CaseReport = serde_json::from_value(serde_json::json!({
            "suite": "s", "id": "c", "verdict": "drift", "reasons": [], "samples": [],
        }))
        .unwrap();
        c.degenerate = degenerate.iter().map(ToString::to_string).collect();
        c
    }

    fn samples(n: u32) -> Vec<SampleReport> {
        (0..n)
            .map(|i| serde_json::from_value(serde_json::json!({ "index": i })).unwrap())
            .collect()
    }

    #[test]
    fn the_sample_the_first_flagged_reason_names_comes_first() {
        let c = case(&[
            "sample 3 was marked by the platform: has_nsfw_concepts (fal)",
            "sample 1 is a flat grey image (luma sd 0.0): a filtered or failed generation",
        ]);
        assert_eq!(flagged_sample(&c), Some(2));
        let all = samples(4);
        let order: Vec<u32> = flagged_first(&c, &all).iter().map(|s| s.index).collect();
        assert_eq!(order, [2, 0, 1, 3]);
    }

    #[test]
    fn without_a_flagged_sample_the_order_stays() {
        let all = samples(3);
        for c in [
            case(&[]),
            case(&["not a sample reason"]),
            case(&["sample 0 x"]),
        ] {
            assert_eq!(flagged_sample(&c), None, "{:?}", c.degenerate);
            let order: Vec<u32> = flagged_first(&c, &all).iter().map(|s| s.index).collect();
            assert_eq!(order, [0, 1, 2]);
        }
    }

    #[test]
    fn a_case_drifting_on_a_sample_by_itself_says_what_happened_to_it() {
        let said = |c: &CaseReport, samples: &[SampleReport]| headline(c, &[], None, samples);
        let mut all = samples(3);
        assert_eq!(
            said(&case(&[]), &all),
            "Changed beyond the model's usual variation."
        );
        let flat = case(&[
            "sample 2 is a flat black image (luma sd 0.0): a filtered or failed generation",
        ]);
        assert_eq!(
            said(&flat, &all),
            "A sample came back blank or at another size."
        );
        all[1].provider = Some(crate::provider::Metadata {
            platform_mark: Some("has_nsfw_contents (WaveSpeed)".into()),
            ..crate::provider::Metadata::default()
        });
        let marked = case(&[
            "sample 2 was marked by the platform: has_nsfw_contents (WaveSpeed)",
            "sample 2 is a flat black image (luma sd 0.0): a filtered or failed generation",
        ]);
        assert_eq!(
            said(&marked, &all),
            "The platform marked or filtered a sample."
        );
        // What the measurements show still leads when there is some.
        let rows = [MetricRow {
            key: "ssim",
            name: "SSIM",
            meaning: "structure",
            value: "0.41".into(),
            limit: "0.80".into(),
            ok: false,
        }];
        assert_eq!(
            headline(&marked, &rows, None, &all),
            "Changed: shapes and composition."
        );
    }
}
