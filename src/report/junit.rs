//! `junit.xml`: one testcase per case; drift is a failure with the reasons, error an
//! error, inconclusive skipped with why. CI systems show these natively.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::ReportError;
use super::model::{CaseReport, CaseVerdict, RunReport};
use super::text::metric_table;

/// The reasons one per line, then every metric against its limit.
fn description(c: &CaseReport) -> String {
    let mut lines: Vec<String> = c.reasons.clone();
    for r in metric_table(c) {
        lines.push(format!(
            "{}: {} (limit {}){}",
            r.name,
            r.value,
            r.limit,
            if r.ok { "" } else { " OUTSIDE" }
        ));
    }
    lines.join("\n")
}

/// Renders the JUnit document.
///
/// # Errors
/// When serialisation fails.
pub fn render_junit(report: &RunReport) -> Result<String, ReportError> {
    junit_report(report)
        .to_string()
        .map_err(|e| ReportError::Junit(e.to_string()))
}

/// Streams the JUnit document into `w`.
///
/// # Errors
/// When serialisation or `w` fails.
pub fn write_junit(report: &RunReport, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    junit_report(report)
        .serialize(w)
        .map_err(std::io::Error::other)
}

fn junit_report(report: &RunReport) -> Report {
    let mut junit = Report::new(format!("driftgate {}", report.run_id));
    for suite in &report.suites {
        let mut ts = TestSuite::new(suite.suite.clone());
        for c in report.cases.iter().filter(|c| c.suite == suite.suite) {
            let reasons = c.reasons.join("; ");
            let status = match c.verdict {
                CaseVerdict::Pass => TestCaseStatus::success(),
                CaseVerdict::Drift => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(reasons.clone());
                    s.set_type("drift");
                    s.set_description(description(c));
                    s
                }
                CaseVerdict::Error => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                    s.set_message(reasons.clone());
                    s.set_type("error");
                    s.set_description(c.reasons.join("\n"));
                    s
                }
                CaseVerdict::Inconclusive => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!("inconclusive: {reasons}"));
                    s
                }
            };
            let mut tc = TestCase::new(c.id.clone(), status);
            tc.set_classname(suite.suite.clone());
            ts.add_test_case(tc);
        }
        junit.add_test_suite(ts);
    }
    junit
}
