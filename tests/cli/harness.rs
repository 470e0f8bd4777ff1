//! A scratch project in a temp folder and a way to run the real binary in it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temp folder holding suites, baselines and reports.
pub(crate) struct Env {
    pub dir: tempfile::TempDir,
}

/// A small, fast suite: two cases that stay on build 1 and one the sim canary moves to
/// build 2 (its prompt hashes into the canary half).
pub(crate) const SMALL: &str = "suite: small
model: { provider: sim, endpoint: sim/test, version: \"1\" }
defaults: { size: { width: 96, height: 96 }, seed: 3, samples: 2, params: { noise: 1.0 } }
thresholds: { delta_e: { max_delta_e: 3.0 } }
cases:
  - id: bottle
    prompt: place this bottle on a wooden table, morning light
    references: [refs/bottle.png]
  - id: sneaker
    prompt: red sneaker on concrete, studio light
  - id: watch
    prompt: gold watch on black marble
";

impl Env {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let refs = dir.path().join("suites/refs");
        std::fs::create_dir_all(&refs).expect("refs dir");
        std::fs::copy(
            repo().join("suites/refs/bottle.png"),
            refs.join("bottle.png"),
        )
        .expect("copy reference");
        Self { dir }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
        p
    }

    /// Runs driftgate with the sim serving `build` to every request.
    pub(crate) fn run(&self, build: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_driftgate"))
            .args(args)
            .current_dir(self.path())
            .env("DRIFTGATE_SIM_BUILD", build)
            .env_remove("GITHUB_ACTIONS")
            .output()
            .expect("run driftgate")
    }
}

pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Replaces the temp folder's path so snapshots are stable.
pub(crate) fn redact(env: &Env, s: &str) -> String {
    s.replace(&env.path().display().to_string(), "[TMP]")
}
