//! One case: its verdict and why in words first, then (folded for passing cases) the
//! images, measurements, palette, trend and the request that produced it.

use maud::{Markup, html};

use super::{images, metrics, palette, trend};
use crate::report::model::{CaseReport, CaseVerdict, SampleReport};
use crate::report::view::CaseView;

pub(super) fn article(v: &CaseView<'_>) -> Markup {
    let c = v.case;
    let verdict = c.verdict.name();
    let tags = c.tags.join(" ");
    let search = format!("{} {} {} {}", c.suite, c.id, c.prompt, tags).to_lowercase();
    html! {
        article class={ "case v-" (verdict) } id={ "case-" (c.suite) "-" (c.id) } tabindex="-1"
            data-verdict=(verdict) data-suite=(c.suite) data-tags=(tags) data-search=(search) {
            div {
                span class={ "badge " (verdict) } { (verdict) } " "
                h2 { (c.id) }
                span.suite { "in " (c.suite) }
                @for t in &c.tags {
                    span.tag { (t) }
                }
            }
            p.headline { (v.headline) }
            @if c.reasons.is_empty() {
                p.fine {
                    @if c.verdict == CaseVerdict::Pass {
                        "Every measure is within its limit."
                    } @else {
                        "No reason was recorded."
                    }
                }
            } @else {
                ul.why {
                    @for r in &c.reasons { li { (r) } }
                }
            }
            @if let Some(colour) = &v.colour {
                div.colour {
                    "Colour: "
                    b {
                        @if colour.words.is_empty() {
                            "no clear colour cast"
                        } @else {
                            (colour.words.join(", "))
                        }
                    }
                    " "
                    span.suite {
                        (format!(
                            "(median shift L {:+.1}, a {:+.1}, b {:+.1}, chroma {:+.1})",
                            colour.shift.dl, colour.shift.da, colour.shift.db, colour.chroma
                        ))
                    }
                }
            }
            @if !c.fingerprint_changes.is_empty() {
                // One line however many fields changed: the header has the full table.
                div.fpcase {
                    "⚠ served by a different build than the baseline: "
                    @for (i, f) in c.fingerprint_changes.iter().enumerate() {
                        @if i > 0 { ", " }
                        code { (f.field) } " "
                        (f.candidate.as_deref().unwrap_or("—"))
                        " (was " (f.baseline.as_deref().unwrap_or("—")) ")"
                    }
                }
            }
            @for note in &v.notes {
                div.provcase { "ℹ " (note) }
            }
            details.body open[c.verdict != CaseVerdict::Pass] {
                summary { "images, measurements and request" }
                div.grid {
                    div { (images::samples(v)) }
                    div {
                        @if let Some(t) = &v.trend { (trend::trend(t)) }
                        (metrics::table(v))
                        @if let Some(p) = &v.palette { (palette::swatches(p)) }
                        (request(c, v.samples))
                    }
                }
            }
        }
    }
}

/// What was asked of the provider, and what it said about itself.
fn request(c: &CaseReport, samples: &[SampleReport]) -> Markup {
    let provider = samples.iter().find_map(|s| s.provider.as_ref());
    html! {
        h4 { "Request" }
        dl.kv {
            @if !c.prompt.is_empty() {
                dt { "prompt" } dd { (c.prompt) }
            }
            @if !c.references.is_empty() {
                dt { "references" }
                dd {
                    @for (i, r) in c.references.iter().enumerate() {
                        @if i > 0 { " " }
                        code { (r) }
                    }
                }
            }
            @if let Some(map) = c.params.as_object() {
                @for (k, val) in map {
                    dt { (k) }
                    dd { code { (val.as_str().map_or_else(|| val.to_string(), str::to_string)) } }
                }
            } @else if !c.params.is_null() {
                dt { "params" } dd { code { (c.params.to_string()) } }
            }
            @if let Some(p) = provider {
                @if let Some(m) = &p.model {
                    dt { "provider model" } dd { code { (m) } }
                }
                @for (k, val) in p.headers.iter() {
                    dt { (k) } dd { code { (val) } }
                }
            }
            @if !c.fingerprint.is_empty() {
                dt { "request fingerprint" }
                dd { code title=(c.fingerprint) { (c.fingerprint.get(..12).unwrap_or(&c.fingerprint)) "…" } }
            }
        }
    }
}
