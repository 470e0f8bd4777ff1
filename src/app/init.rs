//! `driftgate init`: scaffolds a project that runs: a suite with the endpoint
//! catalogue's defaults, a `refs/` folder, a nightly GitHub workflow and the reports'
//! `.gitignore`. It writes all of it or nothing, and never over an existing file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::catalog::{ProviderKind, Seed};
use crate::cli::InitArgs;
use crate::error::Error;
use crate::exit::ExitStatus;

/// The suite file, relative to the project folder.
const SUITE: &str = "suites/drift.yaml";
/// The workflow file, relative to the project folder.
const WORKFLOW: &str = ".github/workflows/driftgate.yml";

/// The endpoint each provider's suite starts from: a text-to-image endpoint (the
/// scaffolded cases have no references) that the catalogue describes. Ark's catalogue
/// entry is a family pattern, so the dated model id is spelled out here.
const ENDPOINTS: &[(ProviderKind, &str)] = &[
    (ProviderKind::Sim, "sim/product-shots"),
    (
        ProviderKind::Fal,
        "fal-ai/bytedance/seedream/v4.5/text-to-image",
    ),
    (ProviderKind::Openrouter, "bytedance-seed/seedream-4.5"),
    (ProviderKind::Replicate, "bytedance/seedream-4.5"),
    (ProviderKind::Ark, "seedream-4-5-251128"),
    (ProviderKind::Openai, "gpt-image-1"),
    (ProviderKind::Wavespeed, "bytedance/seedream-v4.5"),
    (ProviderKind::Atlascloud, "bytedance/seedream-v4.5"),
];

/// The size a suite gets where the catalogue names none (the `sim` provider), the same
/// as the suite format's own default.
const FALLBACK_SIZE: (u32, u32) = (512, 512);

pub(super) fn init(args: &InitArgs) -> Result<ExitStatus, Error> {
    let Some(&(kind, endpoint)) = ENDPOINTS.iter().find(|(k, _)| k.name() == args.provider) else {
        return Err(Error::usage(
            format!("`{}` is not a provider init can scaffold", args.provider),
            format!("pick one of {}", crate::cli::INIT_PROVIDERS.join(", ")),
        ));
    };
    let files = scaffold(kind, endpoint);
    let here = args.dir == Path::new(".");
    let paths: Vec<PathBuf> = files.iter().map(|(rel, _)| args.dir.join(rel)).collect();
    // Every file is checked before any is written, so a refusal leaves nothing behind.
    if let Some(existing) = paths.iter().find(|p| p.exists()) {
        // One line, not the usual message and hint: the file is the whole story.
        eprintln!(
            "error: {} already exists; init writes nothing over an existing file",
            existing.display()
        );
        return Ok(ExitStatus::Usage);
    }
    for (path, (rel, text)) in paths.iter().zip(&files) {
        write_new(path, text)?;
        if here {
            outln!("wrote {rel}");
        } else {
            outln!("wrote {}", path.display());
        }
    }
    // `record` keeps baselines beside where it is run, so it is run from the project.
    let cd = if here {
        String::new()
    } else {
        format!("cd {} && ", args.dir.display())
    };
    outln!("next: {cd}driftgate record {SUITE}, then commit suites/ and baselines/");
    Ok(ExitStatus::Pass)
}

fn write_new(path: &Path, text: &str) -> Result<(), Error> {
    let fail = |e: std::io::Error| {
        Error::usage(
            format!("cannot write {}: {e}", path.display()),
            "check the folder and its permissions",
        )
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    crate::store::write_atomic(path, text.as_bytes()).map_err(fail)
}

/// Every file of the scaffold, relative to the project folder, with its text.
fn scaffold(kind: ProviderKind, endpoint: &str) -> Vec<(&'static str, String)> {
    let key_var = crate::provider::CATALOG
        .iter()
        .find(|(k, _, _)| *k == kind)
        .and_then(|(_, var, _)| *var);
    vec![
        (SUITE, suite_yaml(kind, endpoint, key_var)),
        (
            "suites/refs/README.md",
            "Reference images for the suite's cases, listed under a case's `references:` relative to the suite file.\n"
                .to_string(),
        ),
        (WORKFLOW, workflow_yaml(key_var)),
        (
            "reports/.gitignore",
            "# Run folders are build output: publish them as CI artifacts, do not commit them.\n*\n!.gitignore\n"
                .to_string(),
        ),
    ]
}

fn suite_yaml(kind: ProviderKind, endpoint: &str, key_var: Option<&str>) -> String {
    let entry = crate::catalog::lookup(kind, endpoint);
    let (width, height) = entry.map_or(FALLBACK_SIZE, |e| e.default_size);
    // A seed the endpoint ignores would only draw a warning from `check`.
    let seeded = entry.is_none_or(|e| e.seed == Seed::Honoured);
    let mut y = String::new();
    let _ = writeln!(
        y,
        "# A drift suite scaffolded by `driftgate init`. Record baselines with\n\
         # `driftgate record {SUITE}`, commit them, and the nightly workflow replays it."
    );
    let _ = writeln!(y, "suite: drift");
    let _ = writeln!(y, "model:");
    let _ = writeln!(y, "  provider: {}", kind.name());
    let _ = writeln!(y, "  endpoint: {endpoint}");
    if kind == ProviderKind::Sim {
        // Build 2 is the one the simulated platform serves to everyone: pinning 1 would
        // show its canary rollout as drift on the first night.
        let _ = writeln!(y, "  version: \"2\"");
    }
    if let Some(var) = key_var {
        let _ = writeln!(y, "  api_key_env: {var}");
    }
    let _ = writeln!(y, "defaults:");
    let _ = writeln!(y, "  size: {{ width: {width}, height: {height} }}");
    if seeded {
        let _ = writeln!(y, "  seed: 42");
    }
    let _ = writeln!(y, "  samples: 3");
    let _ = writeln!(y, "cases:");
    let _ = writeln!(y, "  - id: hero-product");
    let _ = writeln!(
        y,
        "    prompt: a glass perfume bottle on wet black stone, studio light"
    );
    let _ = writeln!(y, "  - id: landscape");
    let _ = writeln!(y, "    prompt: blue ocean at sunset with a sailboat");
    y
}

fn workflow_yaml(key_var: Option<&str>) -> String {
    let env = key_var.map_or_else(String::new, |var| {
        format!("        env:\n          {var}: ${{{{ secrets.{var} }}}}\n")
    });
    format!(
        "# Replays the drift suite every night; the job fails on drift (1), a suite or
# baseline problem (2) or an incomplete run (3), and the report is kept as an artifact.
name: driftgate
on:
  schedule:
    - cron: \"17 3 * * *\"
  workflow_dispatch:

jobs:
  drift:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: dtolnay/rust-toolchain@stable
      - name: Install driftgate
        # driftgate is not on crates.io: it installs from its source repository, named by
        # the repository variable DRIFTGATE_GIT. Add `--rev COMMIT` to pin it (driftgate's
        # docs/ci.md says why, and shows the GitHub Action that does this for you).
        run: |
          test -n \"${{{{ vars.DRIFTGATE_GIT }}}}\" || {{ echo \"::error::set the repository variable DRIFTGATE_GIT to the URL of driftgate's source\"; exit 1; }}
          cargo install --locked --git \"${{{{ vars.DRIFTGATE_GIT }}}}\"
      - name: Replay the suite
{env}        run: driftgate run {SUITE} --out reports/night
      - name: Summary
        if: always()
        run: cat reports/night/summary.md >> \"$GITHUB_STEP_SUMMARY\" || true
      - name: Upload the report
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: driftgate-report
          path: reports/night/
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hosted_endpoint_is_in_the_catalogue() {
        for &(kind, endpoint) in ENDPOINTS {
            assert!(
                kind.is_offline() || crate::catalog::lookup(kind, endpoint).is_some(),
                "{} {endpoint}",
                kind.name()
            );
        }
        for name in crate::cli::INIT_PROVIDERS {
            assert!(ENDPOINTS.iter().any(|(k, _)| k.name() == *name), "{name}");
        }
    }

    #[test]
    fn the_workflow_passes_the_key_from_secrets() {
        let w = workflow_yaml(Some("FAL_KEY"));
        assert!(
            w.contains("          FAL_KEY: ${{ secrets.FAL_KEY }}\n"),
            "{w}"
        );
        assert!(!workflow_yaml(None).contains("env:"));
    }
}
