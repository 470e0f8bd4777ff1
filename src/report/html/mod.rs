//! `index.html`: a self-contained page (inline CSS and script, images as files beside
//! it, a Content Security Policy that forbids outside requests).
//!
//! The page is written for a reader who opens it cold: the first screen says in words
//! whether anything changed and how many cases; each case says why before it shows any
//! number. The script is allowed by its hash, not by `'unsafe-inline'`, so markup that
//! slipped through escaping still could not run.
//!
//! Markup is written with maud rather than askama: its `html!` templates are Rust
//! expressions, so each part of the page is a plain function over the view model
//! ([`super::view`]) that the compiler checks, and every interpolated value is escaped
//! unless it is explicitly marked as markup. Every number shown is taken from the view
//! model; nothing here computes.
//!
//! One file per part of the page: `shell` (head, CSP, script), `summary` (banner, suite
//! cards, toolbar), `case` (one case's article and its request), `images` (samples,
//! swipe and blink), `metrics`, `palette` and `trend`.

mod case;
mod images;
mod metrics;
mod palette;
mod shell;
mod summary;
mod trend;

use maud::{PreEscaped, html};

use super::history::HistoryRecord;
use super::model::RunReport;
use super::view::{CaseView, RunView};

/// Renders the HTML report without a trend.
#[must_use]
pub fn render_html(report: &RunReport) -> String {
    render_html_with_history(report, &[])
}

/// Renders the HTML report; `history` (oldest first, this run last) feeds the trend lines.
#[must_use]
pub fn render_html_with_history(report: &RunReport, history: &[HistoryRecord]) -> String {
    let mut out = Vec::with_capacity(32 * 1024 + report.cases.len() * 8 * 1024);
    // Writing into a Vec cannot fail, and every piece written is a UTF-8 string.
    let _ = write_html(report, history, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Streams the HTML report into `w` one case at a time: a large run's page is
/// megabytes and never has to exist in memory as a whole.
///
/// # Errors
/// When `w` fails.
pub fn write_html(
    report: &RunReport,
    history: &[HistoryRecord],
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let run = RunView::new(report);
    // The cases are streamed between the page's opening and its end, so those two are
    // written as separate pieces rather than as one template.
    let opening = html! {
        (shell::opening(report))
        (summary::banner(&run))
        (summary::toolbar(&run))
        (PreEscaped("<main>"))
    };
    w.write_all(opening.into_string().as_bytes())?;
    for c in &report.cases {
        let held = c.held();
        let samples = held.samples.get();
        let pin = report
            .suites
            .iter()
            .find(|s| s.suite == c.suite)
            .map(|s| &s.model);
        let view = CaseView::new(&held, &samples, pin, history);
        w.write_all(case::article(&view).into_string().as_bytes())?;
    }
    let end = html! {
        p #none .empty hidden { "No case matches the filters." }
        (PreEscaped("</main>"))
        (shell::ending())
    };
    w.write_all(end.into_string().as_bytes())?;
    w.write_all(b"\n")
}

/// A relative image path made safe for a `src` attribute: only our own relative paths
/// pass, percent-encoded where a browser would read a character as URL syntax. The
/// template escapes the result like any other attribute value.
fn src(path: &str) -> String {
    // No scheme (`https:`, `javascript:`, `data:`), nothing absolute, nothing outside.
    if path.contains(':')
        || path.starts_with('/')
        || path.starts_with('\\')
        || path.split(['/', '\\']).any(|seg| seg == "..")
        || path.trim().is_empty()
    {
        return String::new();
    }
    path.split('/')
        .map(|seg| {
            seg.replace('%', "%25")
                .replace('#', "%23")
                .replace('?', "%3F")
                .replace(' ', "%20")
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `n` with the singular or plural noun.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_foreign_sources() {
        assert_eq!(src("https://evil/x.png"), "");
        assert_eq!(src("javascript:alert(1)"), "");
        assert_eq!(src("../../etc/passwd"), "");
        assert_eq!(src("/abs.png"), "");
        assert_eq!(src("candidates/s/c/0.png"), "candidates/s/c/0.png");
        assert_eq!(src("a b/#?%.png"), "a%20b/%23%3F%25.png");
    }

    #[test]
    fn escapes_markup_in_text_and_attributes() {
        let hostile = r#"<script>"'&"#;
        let page = html! { p title=(hostile) { (hostile) } }.into_string();
        assert_eq!(
            page,
            "<p title=\"&lt;script&gt;&quot;'&amp;\">&lt;script&gt;&quot;'&amp;</p>"
        );
    }
}
