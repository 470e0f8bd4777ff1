//! Discovery, parsing and validation of suite files.
//!
//! Parsing stops at the first syntax or type error of a file (serde cannot go on), but
//! the semantic checks collect every problem of every file before returning.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::diagnostic::{Diagnostic, SuiteErrors};
use super::model::{Params, ProviderKind, RawCase, RawModel, RawSuite, Size, Thresholds};

/// Suite files larger than this are refused before parsing: a suite is hand-written text.
const MAX_SUITE_BYTES: u64 = 4 * 1024 * 1024;
/// Prompts longer than this are refused: no hosted model takes more.
const MAX_PROMPT_BYTES: usize = 16 * 1024;
/// Reference images larger than this are refused: the same cap as image downloads.
const MAX_REFERENCE_BYTES: u64 = 64 * 1024 * 1024;
/// Largest width or height a case may ask for.
const MAX_SIDE: u32 = 8192;
/// Most samples a case may ask for.
const MAX_SAMPLES: u32 = 64;
/// fal's `image_urls` keeps only the last 10 images, silently.
const FAL_MAX_REFERENCES: usize = 10;

/// The model a suite pins, as the runner and reports see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelPin {
    /// The platform.
    pub provider: ProviderKind,
    /// The platform's endpoint or model id.
    pub endpoint: String,
    /// The pinned version, when the suite names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Replaces scheme and host of the provider's API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The environment variable holding the API key, when not the usual one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Whether the seed is sent.
    pub send_seed: bool,
    /// Price of one image in US dollars.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_per_image: Option<f64>,
    /// For `folder`: the resolved directory of images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// How the platform is called (fal `queue|sync`, OpenRouter `images|chat`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// OpenRouter provider routing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<super::model::Route>,
    /// Polling interval in milliseconds, when the suite sets one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_interval_ms: Option<u64>,
    /// Most requests per minute, when the suite sets a limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u32>,
}

/// A reference image inside the suite's folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// As written in the suite.
    pub name: String,
    /// Resolved and checked to lie inside the suite's folder.
    #[serde(skip)]
    pub path: PathBuf,
    /// sha256 of the file's bytes.
    pub sha256: String,
}

/// A validated case with the suite's defaults merged in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    /// Case id, safe as a file name.
    pub id: String,
    /// The prompt.
    pub prompt: String,
    /// Reference images.
    pub references: Vec<Reference>,
    /// Tags for filtering.
    pub tags: Vec<String>,
    /// Output size.
    pub size: Size,
    /// Seed, when the suite sets one.
    pub seed: Option<u64>,
    /// Samples drawn.
    pub samples: u32,
    /// Provider parameters.
    pub params: Params,
    /// Absolute limits in force for this case.
    pub thresholds: Thresholds,
    /// Line of the case in its suite file.
    #[serde(skip)]
    pub line: u64,
}

/// A validated suite.
#[derive(Debug, Clone, PartialEq)]
pub struct Suite {
    /// Suite id, safe as a folder name.
    pub id: String,
    /// The file it was read from.
    pub file: PathBuf,
    /// The pinned model.
    pub model: ModelPin,
    /// The cases, in file order.
    pub cases: Vec<Case>,
}

impl Case {
    /// sha256 of the canonical request: everything that determines the output.
    ///
    /// A baseline whose recorded fingerprint differs from this one was made for another
    /// request and must be re-recorded rather than compared.
    #[must_use]
    pub fn fingerprint(&self, model: &ModelPin) -> String {
        let canonical = serde_json::json!({
            "endpoint": model.endpoint,
            "version": model.version,
            "prompt": self.prompt,
            "references": self.references.iter().map(|r| &r.sha256).collect::<Vec<_>>(),
            "seed": if model.send_seed { self.seed } else { None },
            "size": [self.size.width, self.size.height],
            "samples": self.samples,
            "params": self.params,
        });
        sha256_hex(canonical.to_string().as_bytes())
    }
}

/// Hex sha256 of `bytes`.
#[must_use]
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The first 8 bytes of the sha256 of `bytes`: a stable hash for choosing things.
#[must_use]
pub(crate) fn sha256_prefix(bytes: &[u8]) -> u64 {
    let d = Sha256::digest(bytes);
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    u64::from_be_bytes(first)
}

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
    let len = fs::metadata(file).map(|m| m.len()).unwrap_or(0);
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
    let raw: RawSuite =
        match serde_saphyr::from_str_with_options(text, serde_saphyr::Options::default()) {
            Ok(raw) => raw,
            Err(e) => {
                diags.push(parse_diagnostic(file, &e));
                return None;
            }
        };
    validate(file, raw, diags)
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

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn validate(file: &Path, raw: RawSuite, diags: &mut Vec<Diagnostic>) -> Option<Suite> {
    let before = diags.len();
    let id = raw.suite.value.clone();
    if !is_id(&id) {
        let loc = raw.suite.referenced;
        diags.push(
            Diagnostic::new(
                file,
                loc.line(),
                loc.column(),
                format!(
                    "suite id `{}` is not of the form [a-z0-9-]+",
                    id.escape_debug()
                ),
            )
            .hint("use lowercase letters, digits and dashes, at most 64"),
        );
    }
    let dir = file
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let model = validate_model(file, &dir, raw.model, diags);
    let defaults = raw.defaults;
    let thresholds = raw.thresholds;
    let mut first_line: BTreeMap<String, u64> = BTreeMap::new();
    let mut cases = Vec::with_capacity(raw.cases.len());
    if raw.cases.is_empty() {
        diags.push(
            Diagnostic::new(file, 0, 0, "suite has no cases")
                .hint("add at least one entry under `cases:`"),
        );
    }
    for rc in raw.cases {
        let case = validate_case(file, &dir, &model, &defaults, thresholds, rc, diags);
        if let Some(prev) = first_line.get(&case.id) {
            diags.push(
                Diagnostic::new(
                    file,
                    case.line,
                    1,
                    format!("duplicate case id `{}`", case.id),
                )
                .hint(format!(
                    "first used on line {prev}; case ids name baseline folders"
                )),
            );
        } else {
            first_line.insert(case.id.clone(), case.line);
        }
        cases.push(case);
    }
    (diags.len() == before).then(|| Suite {
        id,
        file: file.to_path_buf(),
        model,
        cases,
    })
}

fn validate_model(file: &Path, dir: &Path, raw: RawModel, diags: &mut Vec<Diagnostic>) -> ModelPin {
    let send_seed = raw
        .send_seed
        .unwrap_or(!matches!(raw.provider, ProviderKind::Openai));
    if let Some(url) = &raw.base_url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        diags.push(
            Diagnostic::new(
                file,
                0,
                0,
                format!("model.base_url `{url}` is not an http(s) URL"),
            )
            .hint("write it as https://host[:port]"),
        );
    }
    if let Some(var) = &raw.api_key_env
        && (var.is_empty() || !var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        diags.push(
            Diagnostic::new(
                file,
                0,
                0,
                format!("model.api_key_env `{var}` is not an environment variable name"),
            )
            .hint("use letters, digits and underscores"),
        );
    }
    let path = match (raw.provider, &raw.path) {
        (ProviderKind::Folder, None) => {
            diags.push(
                Diagnostic::new(file, 0, 0, "provider `folder` needs model.path")
                    .hint("set model.path to the folder of <case>/<n>.png images"),
            );
            None
        }
        (_, Some(p)) => contained(dir, p)
            .map_err(|m| {
                diags.push(
                    Diagnostic::new(file, 0, 0, format!("model.path: {m}"))
                        .hint("keep it inside the suite's folder"),
                )
            })
            .ok(),
        (_, None) => None,
    };
    let modes: &[&str] = match raw.provider {
        ProviderKind::Fal => &["queue", "sync"],
        ProviderKind::Openrouter => &["images", "chat"],
        _ => &[],
    };
    if let Some(mode) = &raw.mode
        && !modes.contains(&mode.as_str())
    {
        let hint = if modes.is_empty() {
            format!("provider `{}` takes no model.mode", raw.provider.name())
        } else {
            format!("use one of: {}", modes.join(", "))
        };
        diags.push(
            Diagnostic::new(file, 0, 0, format!("model.mode `{mode}` is not supported")).hint(hint),
        );
    }
    if raw.route.is_some() && raw.provider != ProviderKind::Openrouter {
        diags.push(
            Diagnostic::new(
                file,
                0,
                0,
                "model.route applies to provider `openrouter` only",
            )
            .hint("remove model.route"),
        );
    }
    if raw.rpm == Some(0) {
        diags.push(
            Diagnostic::new(file, 0, 0, "model.rpm must be at least 1")
                .hint("leave it out for no limit"),
        );
    }
    ModelPin {
        provider: raw.provider,
        endpoint: raw.endpoint,
        version: raw.version,
        base_url: raw.base_url,
        api_key_env: raw.api_key_env,
        send_seed,
        price_per_image: raw.price_per_image,
        path,
        mode: raw.mode,
        route: raw.route,
        poll_interval_ms: raw.poll_interval_ms,
        rpm: raw.rpm,
    }
}

fn validate_case(
    file: &Path,
    dir: &Path,
    model: &ModelPin,
    defaults: &super::model::RawDefaults,
    thresholds: Thresholds,
    rc: RawCase,
    diags: &mut Vec<Diagnostic>,
) -> Case {
    let loc = rc.id.referenced;
    let (line, column) = (loc.line(), loc.column());
    let id = rc.id.value;
    if !is_id(&id) {
        diags.push(
            Diagnostic::new(file, line, column, format!("case id `{}` is not of the form [a-z0-9-]+", id.escape_debug()))
                .hint("case ids name folders on disk: use lowercase letters, digits and dashes, at most 64"),
        );
    }
    if rc.prompt.len() > MAX_PROMPT_BYTES {
        diags.push(
            Diagnostic::new(
                file,
                line,
                column,
                format!(
                    "case `{id}`: prompt is {} bytes, above the limit of {MAX_PROMPT_BYTES}",
                    rc.prompt.len()
                ),
            )
            .hint("shorten the prompt"),
        );
    }
    let size = rc.size.or(defaults.size).unwrap_or(Size {
        width: 512,
        height: 512,
    });
    if !(16..=MAX_SIDE).contains(&size.width) || !(16..=MAX_SIDE).contains(&size.height) {
        diags.push(
            Diagnostic::new(
                file,
                line,
                column,
                format!(
                    "case `{id}`: size {}x{} is outside 16..={MAX_SIDE}",
                    size.width, size.height
                ),
            )
            .hint("pick a size the provider supports"),
        );
    }
    let samples = rc.samples.or(defaults.samples).unwrap_or(3);
    if !(1..=MAX_SAMPLES).contains(&samples) {
        diags.push(
            Diagnostic::new(
                file,
                line,
                column,
                format!("case `{id}`: samples {samples} is outside 1..={MAX_SAMPLES}"),
            )
            .hint("3 to 8 samples tell noise from drift"),
        );
    }
    if model.provider == ProviderKind::Fal && rc.references.len() > FAL_MAX_REFERENCES {
        diags.push(
            Diagnostic::new(
                file,
                line,
                column,
                format!(
                    "case `{id}`: {} references, fal keeps only the last {FAL_MAX_REFERENCES}",
                    rc.references.len()
                ),
            )
            .hint("fal silently drops the extra images: pass at most 10"),
        );
    }
    let mut references = Vec::with_capacity(rc.references.len());
    for r in rc.references {
        let loc = r.referenced;
        match contained(dir, &r.value).and_then(|path| {
            check_reference_file(&path, &r.value)?;
            fs::read(&path)
                .map(|b| (path, sha256_hex(&b)))
                .map_err(|e| format!("cannot read `{}`: {e}", r.value))
        }) {
            Ok((path, sha256)) => references.push(Reference {
                name: r.value,
                path,
                sha256,
            }),
            Err(m) => diags.push(
                Diagnostic::new(
                    file,
                    loc.line(),
                    loc.column(),
                    format!("case `{id}`: reference {m}"),
                )
                .hint("references are relative to the suite file and must stay inside its folder"),
            ),
        }
    }
    let mut params = defaults.params.clone().unwrap_or_default();
    params.extend(rc.params.unwrap_or_default());
    Case {
        id,
        prompt: rc.prompt,
        references,
        tags: rc.tags,
        size,
        seed: rc.seed.or(defaults.seed),
        samples,
        params,
        thresholds: rc
            .thresholds
            .map_or(thresholds, |t| thresholds.overridden_by(t)),
        line,
    }
}

/// A reference is read whole (to hash it, then to upload it): refuse what is not a
/// regular file (a FIFO would block the read forever) or is too large to hold in memory.
fn check_reference_file(path: &Path, name: &str) -> Result<(), String> {
    let meta =
        fs::metadata(path).map_err(|e| format!("cannot read `{}`: {e}", name.escape_debug()))?;
    if !meta.is_file() {
        return Err(format!("`{}` is not a regular file", name.escape_debug()));
    }
    if meta.len() > MAX_REFERENCE_BYTES {
        return Err(format!(
            "`{}` is {} bytes, above the limit of {MAX_REFERENCE_BYTES}",
            name.escape_debug(),
            meta.len()
        ));
    }
    Ok(())
}

/// Resolves `rel` against `dir`, refusing anything that ends up outside `dir`
/// (absolute paths, `..`, and symlinks leading out).
fn contained(dir: &Path, rel: &str) -> Result<PathBuf, String> {
    let p = Path::new(rel);
    if p.is_absolute()
        || p.components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "`{}` is absolute or climbs out with `..`",
            rel.escape_debug()
        ));
    }
    let root = dir
        .canonicalize()
        .map_err(|e| format!("cannot resolve the suite's folder: {e}"))?;
    let real = dir
        .join(p)
        .canonicalize()
        .map_err(|_| format!("`{}` does not exist", rel.escape_debug()))?;
    if real.starts_with(&root) {
        Ok(real)
    } else {
        Err(format!(
            "`{}` leads outside the suite's folder",
            rel.escape_debug()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        fs::write(&p, text).unwrap();
        p
    }

    const GOOD: &str = "suite: demo\nmodel: { provider: sim, endpoint: sim/v1, version: \"1\" }\ndefaults: { seed: 7, samples: 2, params: { noise: 0.5 } }\ncases:\n  - id: a\n    prompt: red apple\n    params: { style: flat }\n  - id: b\n    prompt: blue sea\n    samples: 4\n    thresholds: { ssim: { min: 0.5 } }\n";

    #[test]
    fn defaults_merge_into_cases() {
        let t = tempfile::tempdir().unwrap();
        let f = write(t.path(), "s.yaml", GOOD);
        let suites = load(&[f]).unwrap();
        let a = &suites[0].cases[0];
        assert_eq!((a.seed, a.samples), (Some(7), 2));
        assert_eq!(a.params.len(), 2);
        let b = &suites[0].cases[1];
        assert_eq!(b.samples, 4);
        assert_eq!(b.thresholds.ssim.map(|s| s.min), Some(0.5));
        assert_eq!(b.thresholds.phash, None);
        assert_eq!(b.line, 8);
    }

    #[test]
    fn unknown_key_names_line_and_nearest_key() {
        let t = tempfile::tempdir().unwrap();
        let f = write(
            t.path(),
            "s.yaml",
            &GOOD.replace("prompt: blue sea", "promt: blue sea"),
        );
        let err = load(&[f]).unwrap_err();
        let d = &err.0[0];
        assert_eq!(d.line, 9, "{d}");
        assert_eq!(d.message, "unknown key `promt`");
        assert!(
            d.hint
                .as_deref()
                .unwrap()
                .starts_with("did you mean `prompt`?"),
            "{d}"
        );
    }

    #[test]
    fn duplicate_ids_and_bad_ids_are_all_reported() {
        let t = tempfile::tempdir().unwrap();
        let text = GOOD.replace("id: b", "id: a") + "  - id: ../x\n    prompt: p\n";
        let f = write(t.path(), "s.yaml", &text);
        let err = load(&[f]).unwrap_err();
        assert_eq!(err.0.len(), 2, "{err}");
        assert!(err.0[0].message.contains("duplicate case id `a`"));
        assert!(err.0[1].message.contains("not of the form"));
    }

    #[test]
    fn references_must_stay_inside_the_suite_folder() {
        let t = tempfile::tempdir().unwrap();
        let inner = t.path().join("suite");
        fs::create_dir(&inner).unwrap();
        fs::write(t.path().join("secret.png"), b"x").unwrap();
        fs::write(inner.join("ok.png"), b"y").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(t.path().join("secret.png"), inner.join("link.png")).unwrap();
        assert!(contained(&inner, "ok.png").is_ok());
        assert!(
            contained(&inner, "../secret.png")
                .unwrap_err()
                .contains("climbs out")
        );
        assert!(
            contained(&inner, "/etc/passwd")
                .unwrap_err()
                .contains("absolute")
        );
        #[cfg(unix)]
        assert!(
            contained(&inner, "link.png")
                .unwrap_err()
                .contains("outside")
        );
        assert!(
            contained(&inner, "missing.png")
                .unwrap_err()
                .contains("does not exist")
        );
    }

    #[test]
    fn fingerprint_follows_the_request() {
        let t = tempfile::tempdir().unwrap();
        let f = write(t.path(), "s.yaml", GOOD);
        let s = &load(&[f]).unwrap()[0];
        let mut c = s.cases[0].clone();
        let before = c.fingerprint(&s.model);
        assert_eq!(before, s.cases[0].fingerprint(&s.model));
        c.prompt.push('!');
        assert_ne!(before, c.fingerprint(&s.model));
    }
}
