//! The first screen: the verdict in words, the run's facts, one card per suite, and the
//! toolbar that filters the cases.

use maud::{Markup, html};

use super::plural;
use super::shell::verdict_class;
use crate::report::model::{CaseVerdict, RunVerdict};
use crate::report::view::{RunView, SuiteView};

/// The verdict in words, then the facts.
pub(super) fn banner(run: &RunView<'_>) -> Markup {
    let r = run.report;
    let total = r.cases.len();
    let drift = run.drift;
    let unjudged = run.unjudged();
    html! {
        header.top {
            div class={ "banner " (verdict_class(r.verdict)) } {
                @match r.verdict {
                    RunVerdict::Drift => {
                        div.big { "✖ Drift found" }
                        div.say {
                            (drift) " of " (total) " " (if total == 1 { "case" } else { "cases" })
                            " no longer " (if drift == 1 { "looks" } else { "look" })
                            " like the approved baseline. Review them below"
                            @if run.acceptable {
                                "; if the new look is wanted, approve it with "
                                code { "driftgate accept" } "."
                            } @else {
                                "."
                            }
                            (also(run, drift, unjudged))
                        }
                    }
                    RunVerdict::Incomplete => {
                        div.big { "⚠ Incomplete" }
                        div.say {
                            @if unjudged > 0 {
                                (plural(unjudged, "case", "cases"))
                                " could not be judged (provider or file errors); none of the others \
                                 drifted. Re-run before trusting this result."
                            } @else {
                                "None of the cases drifted, but the night is not whole. Re-run \
                                 before trusting this result."
                            }
                            (also(run, drift, unjudged))
                        }
                    }
                    RunVerdict::Pass => {
                        div.big { "✔ No drift" }
                        div.say {
                            "All " (total) " cases still look like their approved baselines."
                            (also(run, drift, unjudged))
                        }
                    }
                }
            }
            div.facts {
                span { b { (drift) } " drifted" }
                span { b { (run.errors) } " errors" }
                span { b { (run.inconclusive) } " inconclusive" }
                span { b { (run.passed) } " passed" }
                span { "duration " b { (format!("{:.1} s", r.stats.duration_s)) } }
                span {
                    b { (r.stats.requests) } " requests"
                    @if let Some(images) = run.batched_images { " for " b { (images) } " images" }
                    ", " b { (r.stats.retries) } " retries"
                }
                @if let Some(spend) = &run.spend {
                    span { "spend " b { (spend) } }
                }
                span { "run " code { (r.run_id) } }
                @if let Some(s) = &r.shards {
                    span { "merged " b { (s.merged.len()) } " of " (s.count) " shards" }
                }
                span { "started " (r.started_at) }
                span { "driftgate " (r.driftgate_version) " · scorer v" (r.scorer_version) }
            }
            div.suites {
                @for s in &run.suites {
                    (suite_card(s))
                }
            }
        }
    }
}

/// What the banner's sentence leaves out: unjudged cases beside drifted ones, and a
/// provider build that changed.
fn also(run: &RunView<'_>, drift: usize, unjudged: usize) -> Markup {
    html! {
        @if drift > 0 && unjudged > 0 {
            " " (plural(unjudged, "other case", "other cases")) " could not be judged."
        }
        @if let Some(line) = run.report.shards.as_ref().and_then(crate::report::Shards::missing_line) {
            " " (capitalised(&line)) "."
        }
        @if run.build_changed {
            " The provider now reports a different build than when the baselines were made."
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The pin of a suite in one line: provider · endpoint · version.
fn pin_line(model: &serde_json::Value) -> Markup {
    let get = |k: &str| model.get(k).and_then(|v| v.as_str());
    let (provider, endpoint, version) = (get("provider"), get("endpoint"), get("version"));
    let sep = |first: bool| if first { "" } else { " · " };
    html! {
        @if provider.is_none() && endpoint.is_none() && version.is_none() {
            // Not a suite pin (e.g. `compare`): show what there is.
            code { (model.to_string()) }
        } @else {
            @if let Some(p) = provider { b { (p) } }
            @if let Some(e) = endpoint { (sep(provider.is_none())) code { (e) } }
            @if let Some(v) = version {
                (sep(provider.is_none() && endpoint.is_none()))
                "pinned version " code { (v) }
            }
        }
    }
}

fn suite_card(s: &SuiteView<'_>) -> Markup {
    html! {
        div.suitecard {
            h3 { "Suite " (s.suite.suite) }
            div { (pin_line(&s.suite.model)) }
            @if s.build.is_empty() {
                div.ok-note { "The provider reported no build information." }
            } @else {
                @if s.suite.fingerprint_changes.is_empty() {
                    div.ok-note { "✔ Provider build unchanged since the baselines." }
                } @else {
                    div.warn-note { "⚠ The provider reports a different build than at baseline time." }
                }
                table.fptab {
                    tr { th { "provider reports" } th { "at baseline" } th { "now" } }
                    @for row in &s.build {
                        tr class=[row.changed.then_some("changed")] {
                            td { @if row.changed { "⚠ " } (row.field) }
                            td { code { (row.baseline) } }
                            td { code { (row.now) } }
                        }
                    }
                }
            }
            @for note in &s.notes {
                div.info-note { "ℹ " (note) }
            }
        }
    }
}

pub(super) fn toolbar(run: &RunView<'_>) -> Markup {
    let r = run.report;
    let counts = [
        (CaseVerdict::Drift, run.drift),
        (CaseVerdict::Error, run.errors),
        (CaseVerdict::Inconclusive, run.inconclusive),
        (CaseVerdict::Pass, run.passed),
    ];
    html! {
        nav.toolbar aria-label="filters" {
            button data-verdict="all" aria-pressed="true" { "all " (r.cases.len()) }
            @for (v, n) in counts {
                button data-verdict=(v.name()) aria-pressed="false" { (v.name()) " " (n) }
            }
            select #suite aria-label="suite" {
                option value="" { "every suite" }
                @for s in &r.suites {
                    option value=(s.suite) { (s.suite) }
                }
            }
            select #tag aria-label="tag" {
                option value="" { "every tag" }
                @for t in &run.tags {
                    option value=(t) { (t) }
                }
            }
            input #search type="search" placeholder="search id, prompt or tag  ( / )" aria-label="search";
            span #shown {}
            span.hint {
                "keys: " b { "j" } "/" b { "k" } " next/previous case · " b { "o" }
                " open/close · " b { "/" } " search"
            }
        }
    }
}
