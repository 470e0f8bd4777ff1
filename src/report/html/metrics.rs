//! A case's measurements: the metric table shared with the text reports, each row with
//! the noise floor the verdict tested it against, then (folded) the channels that have no
//! row of their own.

use maud::{Markup, html};

use crate::report::view::{CaseView, outside};
use crate::verdict::ChannelTest;

/// A floor value with as many decimals as its size warrants.
fn floor_number(v: f64) -> String {
    if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The noise floor as the range the baseline samples spanned.
fn floor_cell(f: &ChannelTest) -> Markup {
    html! {
        td.num title={ "candidates' mean " (floor_number(f.value)) } {
            (floor_number(f.low)) " – " (floor_number(f.high))
        }
    }
}

pub(super) fn table(v: &CaseView<'_>) -> Markup {
    let c = v.case;
    if v.rows.is_empty() {
        return html! {};
    }
    let with_floor = !c.floors.is_empty();
    let extra_outside = v.extra_floors.iter().filter(|f| outside(f)).count();
    html! {
        h4 { "Measurements" }
        table.m {
            tr {
                th { "measure" } th { "this run" } th { "limit" }
                @if with_floor {
                    th title="range among the baseline samples: the model's own noise" { "noise floor" }
                }
            }
            @for r in &v.rows {
                tr class=[(!r.ok).then_some("bad")] {
                    td { (r.name) span.mean { (r.meaning) } }
                    td.num { @if !r.ok { "✖ " } (r.value) }
                    td.num { (r.limit) }
                    @if with_floor {
                        @match c.floors.iter().find(|f| f.metric == r.key) {
                            Some(f) => (floor_cell(f)),
                            None => td.num { "-" },
                        }
                    }
                }
            }
        }
        // Channels the verdict tests that have no row above (image features, matched
        // regions): folded, as they matter to whoever tunes the verdict more than to a
        // reviewer.
        @if !v.extra_floors.is_empty() {
            details.more {
                summary {
                    (v.extra_floors.len()) " more signals tested, " (extra_outside)
                    " outside the baselines' range"
                }
                table.m {
                    tr { th { "signal" } th { "this run" } th { "noise floor" } }
                    @for f in &v.extra_floors {
                        tr {
                            td { (f.metric.replace('_', " ")) }
                            td.num { @if outside(f) { "↕ " } (floor_number(f.value)) }
                            (floor_cell(f))
                        }
                    }
                }
            }
        }
    }
}
