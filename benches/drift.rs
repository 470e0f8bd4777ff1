//! Detection benchmark: how often driftgate flags real drift and how often it cries wolf.
//!
//! Runs `driftgate compare` from the drift benchmark's `base/` against each of its
//! folders and prints the detection rate per drift kind and the false alarms on
//! `nodrift/`; then simulates nightly runs of 200 noise-only cases with the `sim`
//! provider (fixed seed: near-deterministic samples; no seed: every sample a new
//! composition) and prints their false alarms.
//!
//! `cargo bench --bench drift` (set `DRIFTGATE_BENCH` to the benchmark folder; default
//! `../shared/drift-bench`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn driftgate(dir: &Path, build: &str, args: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_driftgate"))
        .args(args)
        .current_dir(dir)
        .env("DRIFTGATE_SIM_BUILD", build)
        .env("CI", "1")
        .output()
        .expect("run driftgate");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), json)
}

fn verdicts(run: &serde_json::Value) -> Vec<(String, String)> {
    run["cases"]
        .as_array()
        .map(|cases| {
            cases
                .iter()
                .map(|c| {
                    (
                        c["id"].as_str().unwrap_or("").to_string(),
                        c["verdict"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn noise_run(tmp: &Path, name: &str, seed: bool) -> (usize, usize) {
    let dir = tmp.join(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut suite = String::from(
        "suite: noise\nmodel: { provider: sim, endpoint: sim/noise, version: \"1\" }\n",
    );
    suite.push_str("defaults: { size: { width: 128, height: 128 }, samples: 3, params: { noise: 1.5 } }\ncases:\n");
    let words = [
        "red", "blue", "green", "gold", "teal", "wood", "sand", "snow", "ocean", "forest",
        "coffee", "marble",
    ];
    for i in 0..200 {
        let (a, b) = (
            words[i % words.len()],
            words[(i / words.len()) % words.len()],
        );
        suite.push_str(&format!(
            "  - id: case-{i}\n    prompt: {a} object on a {b} background, view {i}\n"
        ));
        if seed {
            suite.push_str(&format!("    seed: {i}\n"));
        }
    }
    std::fs::write(dir.join("noise.yaml"), suite).expect("write suite");
    let (code, _) = driftgate(&dir, "1", &["record", "-q", "noise.yaml"]);
    assert_eq!(code, 0, "record failed");
    let (_, run) = driftgate(
        &dir,
        "1",
        &["run", "noise.yaml", "--format", "json", "--out", "r"],
    );
    let v = verdicts(&run);
    // Show why each false alarm fired, so a change to the rule can be judged on it.
    for c in run["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["verdict"] == "drift")
    {
        println!("  false alarm {}: {}", c["id"], c["reasons"]);
    }
    (v.iter().filter(|(_, v)| v == "drift").count(), v.len())
}

/// A copy of `from` whose sample 2 in every case is a flat grey image of the same size:
/// a provider returning one blank picture among several.
fn broken_copy(from: &Path, to: &Path) -> PathBuf {
    for case in std::fs::read_dir(from).expect("read folder").flatten() {
        let dir = to.join(case.file_name());
        std::fs::create_dir_all(&dir).expect("mkdir");
        for file in std::fs::read_dir(case.path()).expect("read case").flatten() {
            let path = file.path();
            if path.file_stem().is_some_and(|s| s == "2") {
                let (w, h) = image::image_dimensions(&path).expect("image size");
                image::RgbImage::from_pixel(w, h, image::Rgb([128, 128, 128]))
                    .save(dir.join("2.png"))
                    .expect("write grey sample");
            } else {
                std::fs::copy(&path, dir.join(file.file_name())).expect("copy sample");
            }
        }
    }
    to.to_path_buf()
}

fn main() {
    let bench = std::env::var_os("DRIFTGATE_BENCH").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/drift-bench"),
        PathBuf::from,
    );
    let tmp = tempfile::tempdir().expect("temp dir");
    if bench.join("base").is_dir() {
        println!("drift benchmark: {}", bench.display());
        println!(
            "{:<12} {:>9} {:>9} {:>9}   missed",
            "folder", "flagged", "cases", "rate"
        );
        let mut folders: Vec<String> = std::fs::read_dir(&bench)
            .expect("read bench")
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|n| n != "base")
            .collect();
        folders.sort_by_key(|n| (n != "nodrift", n.clone()));
        let (mut hit, mut all) = (0, 0);
        for folder in folders {
            let out = tmp.path().join(format!("cmp-{folder}"));
            let base = bench.join("base");
            let cand = bench.join(&folder);
            let (_, run) = driftgate(
                tmp.path(),
                "1",
                &[
                    "compare",
                    &base.to_string_lossy(),
                    &cand.to_string_lossy(),
                    "--format",
                    "json",
                    "--out",
                    &out.to_string_lossy(),
                ],
            );
            let v = verdicts(&run);
            let flagged = v.iter().filter(|(_, v)| v == "drift").count();
            let missed: Vec<&str> = v
                .iter()
                .filter(|(_, v)| v != "drift")
                .map(|(id, _)| id.as_str())
                .collect();
            if folder == "nodrift" {
                println!(
                    "{folder:<12} {flagged:>9} {:>9} {:>9}   (false alarms)",
                    v.len(),
                    ""
                );
            } else {
                hit += flagged;
                all += v.len();
                println!(
                    "{folder:<12} {flagged:>9} {:>9} {:>8.0}%   {}",
                    v.len(),
                    100.0 * flagged as f64 / v.len().max(1) as f64,
                    missed.join(" ")
                );
            }
        }
        println!(
            "{:<12} {hit:>9} {all:>9} {:>8.1}%",
            "all drift",
            100.0 * hit as f64 / all.max(1) as f64
        );
        let broken = broken_copy(&bench.join("nodrift"), &tmp.path().join("broken"));
        let out = tmp.path().join("cmp-broken");
        let (_, run) = driftgate(
            tmp.path(),
            "1",
            &[
                "compare",
                &bench.join("base").to_string_lossy(),
                &broken.to_string_lossy(),
                "--format",
                "json",
                "--out",
                &out.to_string_lossy(),
            ],
        );
        let v = verdicts(&run);
        println!(
            "nodrift with one blank sample per case: {} of {} flagged",
            v.iter().filter(|(_, v)| v == "drift").count(),
            v.len()
        );
    } else {
        println!(
            "drift benchmark not found at {} (set DRIFTGATE_BENCH)",
            bench.display()
        );
    }
    for (name, seed) in [("noise-seeded", true), ("noise-unseeded", false)] {
        let (drift, cases) = noise_run(tmp.path(), name, seed);
        println!("sim {name}: {drift} false alarms in {cases} noise-only cases");
    }
}
