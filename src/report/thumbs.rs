//! Thumbnails: the page shows images at most [`THUMB_MAX`] pixels on a side, so a run of
//! hundreds of 2-megapixel samples still opens quickly; the full image is one click away.
//!
//! A thumbnail's path is derived from its source's (`thumbs/<source path>.jpg`), so the
//! HTML renderer needs no file system access and `driftgate report` can recreate any
//! that are missing. Decoding and encoding live in `score::image`, as for every image the
//! crate writes; this file only decides which thumbnails exist and where.

use std::path::Path;

use super::ReportError;
use super::model::RunReport;

/// Longest side of a thumbnail, in pixels.
pub const THUMB_MAX: u32 = 512;

/// JPEG quality of thumbnails: high enough that compression does not read as drift in the
/// swipe and blink views, which compare two thumbnails.
const QUALITY: u8 = 90;

/// The thumbnail of an image path relative to the run folder.
#[must_use]
pub fn thumb_path(rel: &str) -> String {
    format!("thumbs/{rel}.jpg")
}

/// Every image the report shows, relative to the run folder.
fn sources(report: &RunReport) -> Vec<String> {
    let mut v: Vec<String> = report
        .cases
        .iter()
        .flat_map(|c| {
            let samples = c.samples.get();
            let paths: Vec<String> = samples
                .iter()
                .flat_map(|s| [&s.baseline, &s.candidate, &s.heatmap])
                .filter_map(Clone::clone)
                .collect();
            paths
        })
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Only plain relative paths inside the run folder are read: `run.json` is input.
fn inside(rel: &str) -> bool {
    let p = Path::new(rel);
    !rel.is_empty()
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

fn make_one(dir: &Path, rel: &str) -> Result<(), ReportError> {
    let out = dir.join(thumb_path(rel));
    if out.exists() {
        return Ok(());
    }
    // A missing or undecodable source is reported by the case itself; the page then
    // shows the image as missing rather than failing the whole report.
    let Ok(bytes) = std::fs::read(dir.join(rel)) else {
        return Ok(());
    };
    let Ok(img) = crate::score::decode(&bytes, &crate::score::DecodeLimits::default()) else {
        return Ok(());
    };
    let jpg =
        crate::score::to_display_jpeg(&img, THUMB_MAX, QUALITY).map_err(|e| ReportError::Io {
            path: out.clone(),
            source: std::io::Error::other(e),
        })?;
    crate::store::write_atomic(&out, &jpg).map_err(|source| ReportError::Io { path: out, source })
}

/// Writes the thumbnail of every image the report shows, skipping those already there.
///
/// # Errors
/// When a thumbnail cannot be written.
pub fn write_thumbnails(report: &RunReport, dir: &Path) -> Result<(), ReportError> {
    let todo: Vec<String> = sources(report).into_iter().filter(|r| inside(r)).collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8);
    let chunk = todo.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = todo
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().try_for_each(|rel| make_one(dir, rel))))
            .collect();
        handles.into_iter().try_for_each(|h| {
            h.join().unwrap_or_else(|_| {
                Err(ReportError::Io {
                    path: dir.join("thumbs"),
                    source: std::io::Error::other("thumbnail worker stopped"),
                })
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_run_folder() {
        assert_eq!(
            thumb_path("candidates/s/c/0.png"),
            "thumbs/candidates/s/c/0.png.jpg"
        );
        assert!(inside("candidates/s/c/0.png"));
        assert!(!inside("../x.png"));
        assert!(!inside("/etc/passwd"));
        assert!(!inside(""));
    }
}
