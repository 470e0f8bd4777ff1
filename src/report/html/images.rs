//! A case's images: the swipe and blink view of one pair at a time, then every sample as
//! baseline · now · difference heatmap. Thumbnails are shown; each links to its full image.

use maud::{Markup, html};

use super::src;
use crate::report::model::SampleReport;
use crate::report::thumbs::thumb_path;
use crate::report::view::CaseView;
use crate::verdict::Region;

pub(super) fn samples(v: &CaseView<'_>) -> Markup {
    html! {
        (compare(&v.shown))
        h4 { "Every sample: baseline · now · difference" }
        @for s in &v.shown {
            div.sample {
                span.n { (s.index + 1) }
                (figure("baseline (approved)", s.baseline.as_deref(), s.index + 1, None))
                (figure("candidate (now)", s.candidate.as_deref(), s.index + 1, v.region))
                (figure("difference (red = changed)", s.heatmap.as_deref(), s.index + 1, v.region))
            }
            @if let Some(e) = &s.error {
                div.fpcase { "sample " (s.index + 1) ": " (e) }
            }
            @if let Some(m) = s.provider.as_ref().and_then(|p| p.platform_mark.as_deref()) {
                div.fpcase { "sample " (s.index + 1) ": marked by the platform: " (m) }
            }
            @if let Some(p) = s.provider.as_ref().filter(|p| !p.per_call.is_empty()) {
                // Changes from call to call, so it is no part of the build table; kept
                // folded as evidence for a reader who asks why one sample differs.
                details.percall {
                    summary { "sample " (s.index + 1) ": what the platform reported for this call" }
                    dl.kv {
                        @for (k, val) in p.per_call.iter() {
                            dt { (k) } dd { code { (val) } }
                        }
                    }
                }
            }
        }
    }
}

/// One image; `region`, where a localised change was found, is outlined on it.
fn figure(label: &str, path: Option<&str>, n: u32, region: Option<&Region>) -> Markup {
    html! {
        @if let Some(p) = path {
            figure {
                a.framed href=(src(p)) target="_blank" rel="noopener" title="open full resolution" {
                    img loading="lazy" src=(src(&thumb_path(p))) alt={ (label) " of sample " (n) };
                    @if let Some(r) = region {
                        span.region title={ "changed here: " (r.name) } style=(format!(
                            "left:{:.1}%;top:{:.1}%;width:{:.1}%;height:{:.1}%",
                            r.x * 100.0, r.y * 100.0, r.w * 100.0, r.h * 100.0
                        )) {}
                    }
                }
                figcaption { (label) }
            }
        } @else {
            figure.missing { figcaption { "no " (label) } }
        }
    }
}

/// The swipe and blink view of one sample pair at a time, opening on the first of
/// `samples` that has both images.
fn compare(samples: &[&SampleReport]) -> Markup {
    let pairs: Vec<(&SampleReport, &str, &str)> = samples
        .iter()
        .copied()
        .filter_map(|s| Some((s, s.baseline.as_deref()?, s.candidate.as_deref()?)))
        .collect();
    let Some(&(_, first_base, first_cand)) = pairs.first() else {
        return html! {};
    };
    html! {
        div.cmp data-mode="swipe" {
            div.cmp-bar {
                b { "Compare" }
                button data-mode="swipe" aria-pressed="true" { "Swipe" }
                button data-mode="blink" aria-pressed="false" { "Blink" }
                @if pairs.len() > 1 {
                    span { "sample" }
                    @for (i, (s, base, cand)) in pairs.iter().enumerate() {
                        button data-b=(src(&thumb_path(base))) data-c=(src(&thumb_path(cand)))
                            aria-pressed=(i == 0) { (s.index + 1) }
                    }
                }
            }
            div.stage {
                img.c loading="lazy" src=(src(&thumb_path(first_cand))) alt="candidate";
                img.b loading="lazy" src=(src(&thumb_path(first_base))) alt="baseline";
                span.line {}
                span.lbl.l { "◀ baseline" }
                span.lbl.r { "now ▶" }
                span.lbl.now { "baseline (approved)" }
            }
            input.slider type="range" min="0" max="100" value="50"
                aria-label="swipe between baseline and candidate";
        }
    }
}
