//! GitHub Actions workflow commands: an `::error` line per drifted case and a
//! `::warning` line per case that could not be judged, so they show up as annotations on
//! the run's summary page. Printed only when `GITHUB_ACTIONS=true`.

use super::model::{CaseVerdict, RunReport};

/// Escapes a command's message: `%`, CR and LF, per the runner's rules.
#[must_use]
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command's property value: as [`escape_data`], plus `:` and `,`, which
/// separate properties.
#[must_use]
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The workflow command lines for a run, one per case that did not pass.
#[must_use]
pub fn github_annotations(report: &RunReport) -> String {
    let mut out = String::new();
    for c in &report.cases {
        let (cmd, what) = match c.verdict {
            CaseVerdict::Pass => continue,
            CaseVerdict::Drift => ("error", "drift"),
            CaseVerdict::Error => ("warning", "not judged (error)"),
            CaseVerdict::Inconclusive => ("warning", "inconclusive"),
        };
        let title = format!("driftgate {what}: {}/{}", c.suite, c.id);
        let why = if c.reasons.is_empty() {
            "no reason recorded".to_string()
        } else {
            c.reasons.join("; ")
        };
        out.push_str(&format!(
            "::{cmd} title={}::{}\n",
            escape_property(&title),
            escape_data(&why)
        ));
    }
    out
}

/// Whether the process runs inside GitHub Actions.
#[must_use]
pub fn in_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_per_the_runner_rules() {
        assert_eq!(escape_data("50%\r\nnext"), "50%25%0D%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
