//! The one path-containment guard: names read from input (suite references, manifest
//! entries) must not lead outside the folder they are relative to.

use std::path::{Component, Path, PathBuf};

/// Whether `rel` is relative and never climbs with `..` (nor is absolute or prefixed):
/// the lexical half of containment, for names that need not exist yet.
#[must_use]
pub(crate) fn is_lexically_inside(rel: &Path) -> bool {
    !rel.is_absolute()
        && rel
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Resolves `rel` against `dir`, refusing anything that ends up outside `dir`
/// (absolute paths, `..`, and symlinks leading out).
pub(crate) fn contained(dir: &Path, rel: &str) -> Result<PathBuf, String> {
    let p = Path::new(rel);
    if !is_lexically_inside(p) {
        return Err(format!(
            "`{}` is absolute or climbs out with `..`",
            rel.escape_debug()
        ));
    }
    // A suite named by its bare file name has an empty parent: the current folder.
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
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
    use std::fs;

    #[test]
    fn a_bare_file_names_folder_is_the_current_one() {
        // Tests run in the package's folder.
        let found = contained(Path::new(""), "Cargo.toml").unwrap();
        assert!(
            found.is_absolute() && found.ends_with("Cargo.toml"),
            "{found:?}"
        );
    }

    #[test]
    fn references_must_stay_inside_the_folder() {
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
    fn lexical_check_refuses_climbing_and_absolute_names() {
        assert!(is_lexically_inside(Path::new("a/1.png")));
        assert!(is_lexically_inside(Path::new("./a")));
        assert!(!is_lexically_inside(Path::new("../a")));
        assert!(!is_lexically_inside(Path::new("a/../../b")));
        assert!(!is_lexically_inside(Path::new("/etc/passwd")));
    }
}
