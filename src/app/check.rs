//! `driftgate check`: validate suites and baselines without calling anyone.

use super::Output;
use crate::cli::CheckArgs;
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::store::Baselines;
use crate::suite::ProviderKind;

pub(super) fn check(args: &CheckArgs, out: Output) -> Result<ExitStatus, Error> {
    let suites = crate::suite::load(&args.suites)?;
    let store = Baselines::open(&args.baselines, args.cache_dir.as_deref())?;
    let mut problems = Vec::new();
    for suite in &suites {
        for w in &suite.warnings {
            out.note(format!("warning: {w}"));
        }
        if let Some(var) = crate::provider::missing_key(&suite.model) {
            out.note(format!(
                "note: {}: {var} is not set; `run` and `record` will need it",
                suite.id
            ));
        }
        if suite.model.provider == ProviderKind::Replicate && suite.model.version.is_none() {
            out.note(format!("warning: {}: no version id: an official-model route is not pinned and may change under you", suite.id));
        }
        // An interrupted `record` is finished or undone first, as `run` does.
        let manifest = match store.open_manifest(&suite.id) {
            Ok(Some(m)) => m,
            Ok(None) => {
                problems.push(format!(
                    "{}: suite `{}` has no baselines in {}: record them with `driftgate record`",
                    suite.file.display(),
                    suite.id,
                    store.describe()
                ));
                continue;
            }
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        let mut images = 0usize;
        for case in &suite.cases {
            let at = format!("{}:{}", suite.file.display(), case.line);
            let fingerprint = case.fingerprint(&suite.model);
            let Some(b) = store.verify_case(&suite.id, &manifest, &case.id, &fingerprint) else {
                problems.push(format!(
                    "{at}: case `{}` has no baseline: record it",
                    case.id
                ));
                continue;
            };
            if b.stale {
                problems.push(format!(
                    "{at}: baseline of case `{}` is stale: the suite entry changed since it was recorded; re-record it",
                    case.id
                ));
            }
            images += b.intact;
            problems.extend(b.problems.iter().map(ToString::to_string));
        }
        for id in manifest
            .cases
            .keys()
            .filter(|id| !suite.cases.iter().any(|c| &c.id == *id))
        {
            out.note(format!(
                "note: {}: baseline `{id}` belongs to no case of the suite",
                suite.id
            ));
        }
        out.note(format!(
            "{}: {} cases, {images} baseline images verified",
            suite.id,
            suite.cases.len()
        ));
    }
    if let Some(line) = store.transfer_summary() {
        out.note(line);
    }
    if problems.is_empty() {
        outln!("ok: {} suites valid", suites.len());
        Ok(ExitStatus::Pass)
    } else {
        Err(Error::usage(
            problems.join("\n"),
            "re-record stale or missing baselines with `driftgate record --force --case ID SUITE`; restore altered files from version control",
        ))
    }
}
