//! `driftgate baselines push|pull LOCAL REMOTE`: copy suites' baselines between a local
//! folder and object storage.
//!
//! A copy is a commit like `record`'s on the receiving side: every image is read back
//! and checked against its sha256 on the sending side, written (staged on disk, uploaded
//! when the store lacks it), then the suite's manifest switches in last. Pushing makes
//! the remote suite what the local one is; a remote manifest that another writer
//! changed meanwhile gets this copy's cases laid over it, or, when both changed one
//! case, nothing (see `store::RemoteStore::commit`).

use super::Output;
use crate::cli::{BaselinesAction, BaselinesArgs};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::store::{Baselines, StoreError, is_remote};

pub(super) fn baselines(args: &BaselinesArgs, out: Output) -> Result<ExitStatus, Error> {
    let (t, push) = match &args.action {
        BaselinesAction::Push(t) => (t, true),
        BaselinesAction::Pull(t) => (t, false),
    };
    if !is_remote(&t.remote.to_string_lossy()) {
        return Err(Error::usage(
            format!("`{}` is not a remote store", t.remote.display()),
            "REMOTE is s3://bucket/prefix, gs://bucket/prefix or az://container/prefix; LOCAL comes first",
        ));
    }
    if is_remote(&t.local.to_string_lossy()) {
        return Err(Error::usage(
            format!("`{}` is not a local folder", t.local.display()),
            "give the local baseline folder first, then the remote store",
        ));
    }
    let local = Baselines::open(&t.local, None)?;
    let remote = Baselines::open(&t.remote, t.cache_dir.as_deref())?;
    let (from, to) = if push {
        (&local, &remote)
    } else {
        (&remote, &local)
    };
    let suites = if t.suites.is_empty() {
        from.suites().unwrap_or_default()
    } else {
        t.suites.clone()
    };
    if suites.is_empty() {
        return Err(Error::usage(
            format!("no suite has a manifest in {}", from.describe()),
            "record baselines first, or check the location",
        ));
    }
    let mut images = 0usize;
    for suite in &suites {
        let n = copy_suite(from, to, suite)?;
        out.note(format!(
            "{suite}: {n} images into {}",
            to.suite_location(suite)
        ));
        images += n;
    }
    if let Some(line) = remote.transfer_summary() {
        out.note(line);
    }
    outln!(
        "{} {} suites ({images} images) from {} to {}",
        if push { "pushed" } else { "pulled" },
        suites.len(),
        from.describe(),
        to.describe()
    );
    Ok(ExitStatus::Pass)
}

/// Copies one suite; returns how many images its manifest names.
fn copy_suite(from: &Baselines, to: &Baselines, suite: &str) -> Result<usize, Error> {
    // Both ends locked when on disk: a `record` in progress there must not be copied
    // half way, nor overwritten.
    let _locks = (from.lock(suite)?, to.lock(suite)?);
    from.clean(suite);
    to.clean(suite);
    let Some(mut manifest) = from.load_manifest(suite)? else {
        return Err(Error::usage(
            format!("suite {suite} has no baselines in {}", from.describe()),
            "check the suite id against the store",
        ));
    };
    // Remembers the version the receiving manifest is switched against.
    to.load_manifest(suite)?;
    let mut images = 0usize;
    for (id, entry) in &mut manifest.cases {
        for img in &mut entry.images {
            let n = img
                .file
                .rsplit('/')
                .next()
                .and_then(|f| f.strip_suffix(".png"))
                .and_then(|n| n.parse::<u32>().ok())
                .ok_or_else(|| StoreError::BadPath {
                    suite: suite.to_string(),
                    file: img.file.clone(),
                })?;
            let bytes = from.read_image(suite, img)?;
            *img = to.stage_image(suite, id, n, &bytes, img.width, img.height)?;
            images += 1;
        }
    }
    to.commit(&manifest)?;
    Ok(images)
}
