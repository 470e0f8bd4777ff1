//! Discovery and parsing: from the paths given on the command line to raw suites.
//!
//! Parsing stops at the first syntax or type error of a file (serde cannot go on); the
//! semantic checks in `validate` then collect every problem of every file.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::checked::Suite;
use super::diagnostic::{Diagnostic, SuiteErrors};
use super::model::RawSuite;
use super::validate::validate;

/// Suite files larger than this are refused before parsing: a suite is hand-written text.
const MAX_SUITE_BYTES: u64 = 4 * 1024 * 1024;

/// The JSON Schema of the suite format, for editors.
#[must_use]
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(RawSuite)).unwrap_or_default()
}

/// Loads every suite named: files, or folders of `*.yaml`/`*.yml`.
///
/// # Errors
/// Every problem found, each with its file, line and column.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Suite>, SuiteErrors> {
    let mut diags = Vec::new();
    let mut suites = Vec::new();
    for file in discover(paths, &mut diags) {
        if let Some(suite) = load_file(&file, &mut diags) {
            suites.push(suite);
        }
    }
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for suite in &suites {
        if let Some(first) = seen.insert(suite.id.clone(), suite.file.clone()) {
            diags.push(
                Diagnostic::new(
                    &suite.file,
                    1,
                    1,
                    format!(
                        "suite id `{}` is also used by {}",
                        suite.id,
                        first.display()
                    ),
                )
                .hint("suite ids name baseline folders and must be unique"),
            );
        }
    }
    if diags.is_empty() {
        Ok(suites)
    } else {
        Err(SuiteErrors(diags))
    }
}

fn discover(paths: &[PathBuf], diags: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = fs::read_dir(path)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.is_file()
                        && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
                })
                .collect();
            found.sort();
            if found.is_empty() {
                diags.push(
                    Diagnostic::new(path, 0, 0, "folder holds no *.yaml suite")
                        .hint("pass a suite file or a folder of suites"),
                );
            }
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            diags.push(
                Diagnostic::new(path, 0, 0, "no such file or folder")
                    .hint("pass a suite file or a folder of *.yaml suites"),
            );
        }
    }
    files
}

fn load_file(file: &Path, diags: &mut Vec<Diagnostic>) -> Option<Suite> {
    let len = fs::metadata(file).map_or(0, |m| m.len());
    if len > MAX_SUITE_BYTES {
        diags.push(
            Diagnostic::new(
                file,
                0,
                0,
                format!("suite file is {len} bytes, above the limit of {MAX_SUITE_BYTES}"),
            )
            .hint("split it into several suites"),
        );
        return None;
    }
    let bytes = match fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            diags.push(Diagnostic::new(
                file,
                0,
                0,
                format!("cannot read the suite: {e}"),
            ));
            return None;
        }
    };
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            let (line, column) = line_col(&bytes[..e.valid_up_to()]);
            diags.push(
                Diagnostic::new(file, line, column, "suite is not valid UTF-8")
                    .hint("save the file as UTF-8"),
            );
            return None;
        }
    };
    let first_new = diags.len();
    let suite = match serde_saphyr::from_str_with_options(text, serde_saphyr::Options::default()) {
        Ok(raw) => validate(file, raw, diags),
        Err(e) => {
            diags.push(parse_diagnostic(file, &e));
            None
        }
    };
    let mut suite = suite;
    let warnings = suite.iter_mut().flat_map(|s| s.warnings.iter_mut());
    for d in diags[first_new..].iter_mut().chain(warnings) {
        d.attach_source(text);
    }
    suite
}

fn line_col(prefix: &[u8]) -> (u64, u64) {
    let line = prefix.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let col = prefix.iter().rev().take_while(|&&b| b != b'\n').count() as u64 + 1;
    (line, col)
}

/// Turns a parser error into one diagnostic, with the nearest valid key when a key is unknown.
fn parse_diagnostic(file: &Path, err: &serde_saphyr::Error) -> Diagnostic {
    let (line, column) = err.location().map_or((0, 0), |l| (l.line(), l.column()));
    if let serde_saphyr::Error::SerdeUnknownField {
        field, expected, ..
    } = err.without_snippet()
    {
        let nearest = expected
            .iter()
            .map(|k| (strsim::levenshtein(field, k), *k))
            .min()
            .filter(|(d, _)| *d <= 3)
            .map(|(_, k)| k);
        let valid = expected.join(", ");
        let hint = match nearest {
            Some(k) => format!("did you mean `{k}`? valid keys here: {valid}"),
            None => format!("valid keys here: {valid}"),
        };
        return Diagnostic::new(
            file,
            line,
            column,
            format!("unknown key `{}`", field.escape_debug()),
        )
        .hint(hint);
    }
    // The parser's own text for this ("budget breached: Nodes { nodes: 250001 }") does
    // not tell a suite author what went wrong.
    let inner = match err.without_snippet() {
        serde_saphyr::Error::AliasError { error, .. } => error.without_snippet(),
        other => other,
    };
    if let serde_saphyr::Error::Budget { breach, .. } = inner {
        return Diagnostic::new(
            file,
            line,
            column,
            format!("the suite expands to more than the parser allows ({breach:?})"),
        )
        .hint("aliases repeated many times (a \"billion laughs\") or a generated file: write the values out or split the suite");
    }
    let full = err.without_snippet().to_string();
    // The first line is the message proper, after the parser's own position prefix.
    let first = full.lines().next().unwrap_or("invalid suite").trim();
    let message = first.strip_prefix("error: ").unwrap_or(first);
    let message = match message.split_once(": ") {
        Some((pos, rest)) if pos.starts_with("line ") => rest,
        _ => message,
    };
    let message = message.rsplit_once(" at line ").map_or(message, |(m, _)| m);
    Diagnostic::new(file, line, column, message.to_string())
        .hint("see `driftgate schema` for the suite format")
}
