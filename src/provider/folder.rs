//! `folder`: images produced elsewhere, read from `<path>/<case>/<n>.<png|jpg|webp>`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{ErrorKind, Generation, GenerationRequest, Metadata, Provider, ProviderError};

/// Image extensions read, in order of preference.
pub const EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "webp"];

/// Reads pre-made images.
#[derive(Debug, Clone, Copy)]
pub struct Folder;

/// The image file for sample `n` of the case folder `dir`, if any.
#[must_use]
pub fn sample_file(dir: &Path, n: u32) -> Option<PathBuf> {
    EXTENSIONS
        .iter()
        .map(|e| dir.join(format!("{n}.{e}")))
        .find(|p| p.is_file())
}

impl Provider for Folder {
    async fn generate(&self, req: GenerationRequest<'_>) -> Result<Generation, ProviderError> {
        let start = Instant::now();
        let root = req.model.path.as_deref().ok_or_else(|| {
            ProviderError::new(ErrorKind::Fatal, "provider `folder` needs model.path")
        })?;
        let dir = root.join(&req.case.id);
        let file = sample_file(&dir, req.sample).ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Fatal,
                format!("no image {}/{}.<png|jpg|webp>", dir.display(), req.sample),
            )
        })?;
        let bytes = std::fs::read(&file).map_err(|e| {
            ProviderError::new(
                ErrorKind::Fatal,
                format!("cannot read {}: {e}", file.display()),
            )
        })?;
        Ok(Generation {
            bytes,
            metadata: Metadata {
                request_id: file.file_name().map(|n| n.to_string_lossy().into_owned()),
                duration_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
                ..Metadata::default()
            },
        })
    }
}
