//! Semantic checks of a parsed suite: every problem of a file is collected, each located.
//!
//! Beyond driftgate's own limits, each case is checked against the endpoint catalogue
//! (sizes, references, parameters that bill extra images), so that `check`, `record`,
//! `run` and `--dry-run` all refuse a suite before any request is sent.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_saphyr::{Location, Spanned};

use super::checked::{Case, ModelPin, Reference, Suite};
use super::diagnostic::Diagnostic;
use super::model::{
    Params, ProviderKind, RawCase, RawDefaults, RawModel, RawSuite, Size, Thresholds,
};
use crate::catalog::{self, Entry, Seed};
use crate::digest::sha256_hex;
use crate::paths::contained;

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
/// The size sent where neither the suite nor the catalogue names one.
const DEFAULT_SIZE: Size = Size {
    width: 512,
    height: 512,
};

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A diagnostic at a parsed value's position.
fn at(file: &Path, loc: Location, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(file, loc.line(), loc.column(), message)
}

/// Where the checks of one file put what they find.
struct Found<'a> {
    file: &'a Path,
    errors: &'a mut Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl Found<'_> {
    fn error(&mut self, loc: Location, message: impl Into<String>, hint: impl Into<String>) {
        self.errors.push(at(self.file, loc, message).hint(hint));
    }
}

pub(super) fn validate(file: &Path, raw: RawSuite, diags: &mut Vec<Diagnostic>) -> Option<Suite> {
    let before = diags.len();
    let mut found = Found {
        file,
        errors: diags,
        warnings: Vec::new(),
    };
    let id = raw.suite.value.clone();
    if !is_id(&id) {
        found.error(
            raw.suite.referenced,
            format!(
                "suite id `{}` is not of the form [a-z0-9-]+",
                id.escape_debug()
            ),
            "use lowercase letters, digits and dashes, at most 64",
        );
    }
    let dir = file
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let endpoint_loc = raw.model.value.endpoint.referenced;
    let (model, entry) = validate_model(&dir, raw.model, &mut found);
    let defaults = raw.defaults;
    if let Some(p) = &defaults.params {
        check_billed_params(&model, p, "defaults: ", &mut found);
    }
    if let Some(s) = &defaults.size {
        check_size(
            &model,
            entry,
            s.value,
            "defaults: ",
            (s.referenced, s.referenced),
            &mut found,
        );
    }
    let thresholds = raw.thresholds;
    let mut first_line: BTreeMap<String, u64> = BTreeMap::new();
    let mut cases = Vec::with_capacity(raw.cases.len());
    if raw.cases.is_empty() {
        found.errors.push(
            Diagnostic::new(file, 0, 0, "suite has no cases")
                .hint("add at least one entry under `cases:`"),
        );
    }
    for rc in raw.cases {
        let case = validate_case(&dir, &model, entry, &defaults, thresholds, rc, &mut found);
        if let Some(prev) = first_line.get(&case.id) {
            found.errors.push(
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
    if let Some(e) = entry
        && model.send_seed
        && !model.seed_honoured
        && cases.iter().any(|c| c.seed.is_some())
    {
        let why = match e.seed {
            Seed::Ignored => "it takes no seed",
            Seed::Unconfirmed | Seed::Honoured => "it does not confirm the seed it used",
        };
        found.warnings.push(
            at(
                file,
                endpoint_loc,
                format!("seed not honoured by this endpoint: {why}"),
            )
            .hint("samples still vary from call to call; the fingerprint records the seed as sent, not as pinned"),
        );
    }
    let warnings = found.warnings;
    (diags.len() == before).then(|| Suite {
        id,
        file: file.to_path_buf(),
        model,
        cases,
        warnings,
    })
}

fn validate_model(
    dir: &Path,
    raw: Spanned<RawModel>,
    found: &mut Found<'_>,
) -> (ModelPin, Option<&'static Entry>) {
    let model_loc = raw.referenced;
    let raw = raw.value;
    let provider = raw.provider.value;
    let send_seed = raw
        .send_seed
        .unwrap_or(!matches!(provider, ProviderKind::Openai));
    if let Some(url) = &raw.base_url
        && !(url.value.starts_with("https://") || url.value.starts_with("http://"))
    {
        found.error(
            url.referenced,
            format!("model.base_url `{}` is not an http(s) URL", url.value),
            "write it as https://host[:port]",
        );
    }
    if let Some(var) = &raw.api_key_env
        && (var.value.is_empty()
            || !var
                .value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        found.error(
            var.referenced,
            format!(
                "model.api_key_env `{}` is not an environment variable name",
                var.value
            ),
            "use letters, digits and underscores",
        );
    }
    let path = match (provider, &raw.path) {
        (ProviderKind::Folder, None) => {
            found.error(
                model_loc,
                "provider `folder` needs model.path",
                "set model.path to the folder of <case>/<n>.png images",
            );
            None
        }
        (_, Some(p)) => match contained(dir, &p.value) {
            Ok(path) => Some(path),
            Err(m) => {
                found.error(
                    p.referenced,
                    format!("model.path: {m}"),
                    "keep it inside the suite's folder",
                );
                None
            }
        },
        (_, None) => None,
    };
    let modes: &[&str] = match provider {
        ProviderKind::Fal => &["queue", "sync"],
        ProviderKind::Openrouter => &["images", "chat"],
        _ => &[],
    };
    if let Some(mode) = &raw.mode
        && !modes.contains(&mode.value.as_str())
    {
        let hint = if modes.is_empty() {
            format!("provider `{}` takes no model.mode", provider.name())
        } else {
            format!("use one of: {}", modes.join(", "))
        };
        found.error(
            mode.referenced,
            format!("model.mode `{}` is not supported", mode.value),
            hint,
        );
    }
    if let Some(route) = &raw.route
        && provider != ProviderKind::Openrouter
    {
        found.error(
            route.referenced,
            "model.route applies to provider `openrouter` only",
            "remove model.route",
        );
    }
    if let Some(rpm) = &raw.rpm
        && rpm.value == 0
    {
        found.error(
            rpm.referenced,
            "model.rpm must be at least 1",
            "leave it out for no limit",
        );
    }
    let endpoint = raw.endpoint.value;
    let entry = catalog::lookup(provider, &endpoint);
    if entry.is_none() && !provider.is_offline() {
        found.warnings.push(
            at(
                found.file,
                raw.endpoint.referenced,
                format!(
                    "no catalogue entry for {} endpoint `{}`: limits unchecked",
                    provider.name(),
                    endpoint.escape_debug()
                ),
            )
            .hint("sizes, seeds and references are sent as written; the platform may refuse them"),
        );
    }
    let pin = ModelPin {
        provider,
        endpoint,
        version: raw.version,
        base_url: raw.base_url.map(|s| s.value),
        api_key_env: raw.api_key_env.map(|s| s.value),
        send_seed,
        seed_honoured: entry.is_none_or(|e| e.seed == Seed::Honoured),
        price_per_image: raw
            .price_per_image
            .or_else(|| entry.and_then(|e| e.price_per_image)),
        path,
        mode: raw.mode.map(|s| s.value),
        route: raw.route.map(|s| s.value),
        poll_interval_ms: raw.poll_interval_ms,
        rpm: raw.rpm.map(|s| s.value),
    };
    (pin, entry)
}

fn validate_case(
    dir: &Path,
    model: &ModelPin,
    entry: Option<&'static Entry>,
    defaults: &RawDefaults,
    thresholds: Thresholds,
    rc: RawCase,
    found: &mut Found<'_>,
) -> Case {
    let file = found.file;
    let loc = rc.id.referenced;
    let (line, column) = (loc.line(), loc.column());
    let id = rc.id.value;
    if !is_id(&id) {
        found.errors.push(
            Diagnostic::new(file, line, column, format!("case id `{}` is not of the form [a-z0-9-]+", id.escape_debug()))
                .hint("case ids name folders on disk: use lowercase letters, digits and dashes, at most 64"),
        );
    }
    if rc.prompt.len() > MAX_PROMPT_BYTES {
        found.errors.push(
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
    let size = rc
        .size
        .as_ref()
        .or(defaults.size.as_ref())
        .map_or_else(|| default_size(entry), |s| s.value);
    // A size inherited from `defaults:` is checked once, in `validate`, not per case.
    match &rc.size {
        Some(s) => check_size(
            model,
            entry,
            s.value,
            &format!("case `{id}`: "),
            (loc, s.referenced),
            found,
        ),
        None if defaults.size.is_none() => {
            check_size(
                model,
                entry,
                size,
                &format!("case `{id}`: "),
                (loc, loc),
                found,
            );
        }
        None => {}
    }
    let samples = rc.samples.or(defaults.samples).unwrap_or(3);
    if !(1..=MAX_SAMPLES).contains(&samples) {
        found.errors.push(
            Diagnostic::new(
                file,
                line,
                column,
                format!("case `{id}`: samples {samples} is outside 1..={MAX_SAMPLES}"),
            )
            .hint("3 to 8 samples tell noise from drift"),
        );
    }
    let refs = rc.references.len();
    match entry {
        Some(e) if refs > e.references.max_count => {
            let limit = match e.references.max_count {
                0 => "takes no reference images".to_string(),
                n => format!("takes at most {n}"),
            };
            found.error(
                loc,
                format!(
                    "case `{id}`: {refs} references, `{}` {limit}",
                    model.endpoint
                ),
                format!(
                    "pass at most {} (source: {})",
                    e.references.max_count, e.source
                ),
            );
        }
        None if model.provider == ProviderKind::Fal && refs > FAL_MAX_REFERENCES => {
            found.error(
                loc,
                format!(
                    "case `{id}`: {refs} references, fal keeps only the last {FAL_MAX_REFERENCES}"
                ),
                "fal silently drops the extra images: pass at most 10",
            );
        }
        _ => {}
    }
    let mut references = Vec::with_capacity(refs);
    for r in rc.references {
        match contained(dir, &r.value).and_then(|path| {
            check_reference_file(&path, &r.value)?;
            fs::read(&path)
                .map(|b| (path, b))
                .map_err(|e| format!("cannot read `{}`: {e}", r.value))
        }) {
            Ok((path, bytes)) => {
                if let Some(e) = entry
                    && let Some(max) = e.references.max_bytes
                    && bytes.len() as u64 > max
                {
                    found.error(
                        r.referenced,
                        format!(
                            "case `{id}`: reference `{}` is {} bytes, above `{}`'s limit of {max} per image",
                            r.value.escape_debug(),
                            bytes.len(),
                            model.endpoint
                        ),
                        format!("shrink or recompress the image (source: {})", e.source),
                    );
                }
                references.push(Reference {
                    name: r.value,
                    path,
                    sha256: sha256_hex(&bytes),
                });
            }
            Err(m) => found.error(
                r.referenced,
                format!("case `{id}`: reference {m}"),
                "references are relative to the suite file and must stay inside its folder",
            ),
        }
    }
    if let Some(p) = &rc.params {
        check_billed_params(model, p, &format!("case `{id}`: "), found);
    }
    let mut params = Params::new();
    for spanned in [defaults.params.as_ref(), rc.params.as_ref()]
        .into_iter()
        .flatten()
    {
        params.extend(spanned.value.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
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

/// The size sent where neither the case nor the defaults write one.
fn default_size(entry: Option<&Entry>) -> Size {
    entry.map_or(DEFAULT_SIZE, |e| Size {
        width: e.default_size.0,
        height: e.default_size.1,
    })
}

/// Refuses a size outside driftgate's range or one the catalogued endpoint does not
/// accept. `prefix` names what wrote it; `at` is where the range error and the refusal
/// are reported (a case's range error stands at its id, as its other errors do).
fn check_size(
    model: &ModelPin,
    entry: Option<&Entry>,
    size: Size,
    prefix: &str,
    (range_at, refused_at): (Location, Location),
    found: &mut Found<'_>,
) {
    if !(16..=MAX_SIDE).contains(&size.width) || !(16..=MAX_SIDE).contains(&size.height) {
        found.error(
            range_at,
            format!(
                "{prefix}size {}x{} is outside 16..={MAX_SIDE}",
                size.width, size.height
            ),
            "pick a size the provider supports",
        );
    } else if let Some(e) = entry
        && !e.sizes.accepts(size.width, size.height)
    {
        let (w, h) = e.sizes.nearest(size.width, size.height);
        found.error(
            refused_at,
            format!(
                "{prefix}size {}x{} is refused by `{}`: accepted: {}, nearest {w}x{h}",
                size.width, size.height, model.endpoint, e.sizes
            ),
            format!(
                "set size: {{ width: {w}, height: {h} }}, or leave size out for the endpoint's default {}x{} (source: {})",
                e.default_size.0, e.default_size.1, e.source
            ),
        );
    }
}

/// Refuses params that make the platform generate, and bill, images driftgate would
/// throw away: it keeps one image per request.
fn check_billed_params(
    model: &ModelPin,
    params: &Spanned<Params>,
    prefix: &str,
    found: &mut Found<'_>,
) {
    if model.provider.is_offline() {
        return;
    }
    for (k, v) in &params.value {
        if let Some(why) = catalog::billed_extra_images(k, v) {
            found.error(
                params.referenced,
                format!(
                    "{prefix}params.{k} = {v} {why}, but driftgate keeps one image per request"
                ),
                "the platform bills every image: ask for more images with `samples:` instead",
            );
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::load;

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

    #[test]
    fn default_size_comes_from_the_catalogue() {
        let t = tempfile::tempdir().unwrap();
        let suite = |provider: &str, endpoint: &str| {
            let f = write(
                t.path(),
                "s.yaml",
                &format!(
                    "suite: s\nmodel: {{ provider: {provider}, endpoint: {endpoint} }}\ncases:\n  - id: a\n    prompt: p\n"
                ),
            );
            load(&[f]).unwrap().remove(0)
        };
        let size = |s: &Suite| (s.cases[0].size.width, s.cases[0].size.height);
        let fal = suite("fal", "fal-ai/bytedance/seedream/v4.5/text-to-image");
        assert_eq!(size(&fal), (2048, 2048));
        assert_eq!(fal.model.price_per_image, Some(0.04));
        assert_eq!(size(&suite("openai", "gpt-image-1")), (1024, 1024));
        assert_eq!(size(&suite("sim", "sim/v1")), (512, 512));
        let unknown = suite("fal", "fal-ai/flux/dev");
        assert_eq!(size(&unknown), (512, 512));
        assert!(unknown.warnings[0].message.contains("limits unchecked"));
        assert!(suite("sim", "sim/v1").warnings.is_empty());
    }

    #[test]
    fn a_seed_the_endpoint_drops_is_recorded_and_warned() {
        let t = tempfile::tempdir().unwrap();
        let f = write(
            t.path(),
            "s.yaml",
            "suite: s\nmodel: { provider: ark, endpoint: seedream-4-5-251128 }\ndefaults: { seed: 1 }\ncases:\n  - id: a\n    prompt: p\n",
        );
        let s = load(&[f]).unwrap().remove(0);
        assert!(!s.model.seed_honoured);
        assert_eq!(s.warnings.len(), 1);
        assert_eq!((s.warnings[0].line, s.warnings[0].column), (2, 35));
        assert!(
            s.warnings[0]
                .message
                .starts_with("seed not honoured by this endpoint")
        );
        let json = serde_json::to_value(&s.model).unwrap();
        assert_eq!(json["seed_honoured"], false);
        let sim = write(t.path(), "s.yaml", GOOD);
        let sim = load(&[sim]).unwrap().remove(0);
        assert!(sim.model.seed_honoured);
        assert!(
            serde_json::to_value(&sim.model)
                .unwrap()
                .get("seed_honoured")
                .is_none()
        );
    }

    #[test]
    fn billed_extra_params_in_defaults_are_reported_once() {
        let t = tempfile::tempdir().unwrap();
        let f = write(
            t.path(),
            "s.yaml",
            "suite: s\nmodel: { provider: openai, endpoint: gpt-image-1 }\ndefaults: { params: { n: 3 } }\ncases:\n  - id: a\n    prompt: p\n  - id: b\n    prompt: q\n",
        );
        let err = load(&[f]).unwrap_err();
        assert_eq!(err.0.len(), 1, "{err}");
        assert_eq!(err.0[0].line, 3);
        assert!(err.0[0].hint.as_deref().unwrap().contains("samples:"));
    }
}
