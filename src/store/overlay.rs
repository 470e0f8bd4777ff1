//! Laying one writer's cases over a manifest another writer replaced meanwhile: the
//! three-way merge behind a remote store's conditional write (see [`super::remote`]).

use std::collections::BTreeMap;

use super::manifest::{CaseEntry, Manifest};

/// The cases `mine` adds, changes (`Some`) or removes (`None`) against `base`.
pub(super) fn changes(
    base: Option<&Manifest>,
    mine: &Manifest,
) -> BTreeMap<String, Option<CaseEntry>> {
    let empty = BTreeMap::new();
    let before = base.map_or(&empty, |m| &m.cases);
    let mut out = BTreeMap::new();
    for (id, e) in &mine.cases {
        if before.get(id) != Some(e) {
            out.insert(id.clone(), Some(e.clone()));
        }
    }
    for id in before.keys() {
        if !mine.cases.contains_key(id) {
            out.insert(id.clone(), None);
        }
    }
    out
}

/// `ours` laid over `fresh`, the manifest another writer made of `base`; `Err(case)` when
/// that writer changed a case differently from us.
pub(super) fn lay_over(
    fresh: Option<&Manifest>,
    base: Option<&Manifest>,
    mine: &Manifest,
    ours: &BTreeMap<String, Option<CaseEntry>>,
) -> Result<Manifest, String> {
    let mut out = fresh.cloned().unwrap_or_else(|| Manifest {
        cases: BTreeMap::new(),
        ..mine.clone()
    });
    for (id, change) in ours {
        let theirs = out.cases.get(id);
        let before = base.and_then(|m| m.cases.get(id));
        if theirs != before && theirs != change.as_ref() {
            return Err(id.clone());
        }
        match change {
            Some(e) => {
                out.cases.insert(id.clone(), e.clone());
            }
            None => {
                out.cases.remove(id);
            }
        }
    }
    out.model = mine.model.clone();
    out.scorer_version = mine.scorer_version;
    out.format_version = mine.format_version;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(tag: &str) -> CaseEntry {
        CaseEntry {
            fingerprint: "f".into(),
            recorded_at: tag.into(),
            source: "record".into(),
            reason: None,
            images: vec![],
            provider: vec![],
        }
    }

    fn manifest(cases: &[(&str, &str)]) -> Manifest {
        let mut m = Manifest::new("s", serde_json::Value::Null);
        for (id, tag) in cases {
            m.cases.insert((*id).to_string(), entry(tag));
        }
        m
    }

    #[test]
    fn another_writers_cases_are_kept_and_a_shared_case_is_a_conflict() {
        let base = manifest(&[("a", "0"), ("b", "0"), ("c", "0")]);
        let mine = manifest(&[("a", "mine"), ("b", "0")]);
        let ours = changes(Some(&base), &mine);
        assert_eq!(ours.len(), 2, "{ours:?}");
        // They changed b: ours (a changed, c removed) lays over theirs.
        let theirs = manifest(&[("a", "0"), ("b", "theirs"), ("c", "0")]);
        let out = lay_over(Some(&theirs), Some(&base), &mine, &ours).unwrap();
        assert_eq!(out, manifest(&[("a", "mine"), ("b", "theirs")]));
        // They changed a too: refused, naming it.
        let theirs = manifest(&[("a", "theirs"), ("b", "0"), ("c", "0")]);
        assert_eq!(
            lay_over(Some(&theirs), Some(&base), &mine, &ours).unwrap_err(),
            "a"
        );
        // The same change on both sides is no conflict.
        let theirs = manifest(&[("a", "mine"), ("b", "0"), ("c", "0")]);
        assert!(lay_over(Some(&theirs), Some(&base), &mine, &ours).is_ok());
        // Both created the suite: ours lays over theirs.
        let first = manifest(&[("x", "1")]);
        let ours = changes(None, &mine);
        let out = lay_over(Some(&first), None, &mine, &ours).unwrap();
        assert_eq!(out.cases.len(), 3);
    }
}
