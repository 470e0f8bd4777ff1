//! Detection benchmark: how often driftgate flags real drift, how small a drift it sees,
//! and how often it cries wolf. Three parts, all by default; `DRIFTGATE_BENCH_PARTS`
//! (comma-separated) picks some:
//!
//! - `shared`: `driftgate compare` from `base/` to every folder of `../shared/drift-bench`
//!   (at 3 samples, a trimmed copy, and at its 4) and `../shared/drift-bench2` (3 samples),
//!   with per-folder tables and the totals issue 14 judges: drifted cases flagged, degenerate
//!   samples flagged, false alarms. A bench that is absent is skipped (`DRIFTGATE_BENCH`,
//!   `DRIFTGATE_BENCH2` point elsewhere).
//! - `sensitivity`: seeded scenes from the committed photographs and procedural ones
//!   (`scenes.rs`), twelve drift kinds each on a ladder of magnitudes, and the smallest
//!   magnitude flagged in 90% of the cases with no false alarm on three no-drift nights
//!   (`DRIFTGATE_BENCH_LADDER=full` runs every step instead of stopping at the first seen).
//! - `sim`: nightly runs of 200 noise-only cases with the `sim` provider (fixed seed:
//!   near-deterministic samples; no seed: every sample a new composition), false alarms.
//!
//! `cargo bench --bench drift`

mod scenes;
mod sensitivity;
mod shared;

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

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

/// One case of a `driftgate compare` run.
pub(crate) struct Verdict {
    pub(crate) id: String,
    pub(crate) drift: bool,
    pub(crate) reasons: String,
}

/// Verdicts of `driftgate compare base cand --format json`. Panics when the binary does not
/// answer with cases: a broken run must not read as "nothing flagged".
pub(crate) fn compare(work: &Path, base: &Path, cand: &Path) -> Vec<Verdict> {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let out = work.join(format!("cmp-{}", RUNS.fetch_add(1, Ordering::Relaxed)));
    let (code, run) = driftgate(
        work,
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
    let _ = std::fs::remove_dir_all(&out);
    let v: Vec<Verdict> = run["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| Verdict {
            id: c["id"].as_str().unwrap_or("").to_string(),
            drift: c["verdict"] == "drift",
            reasons: c["reasons"].to_string(),
        })
        .collect();
    assert!(
        !v.is_empty(),
        "driftgate compare {} {} exited {code} without cases",
        base.display(),
        cand.display()
    );
    v
}

/// `f` over `items` on one worker per core, results in the order of `items`. Each
/// `driftgate compare` is mostly one core's work, so two at a time halve the wall time.
pub(crate) fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers.min(items.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    results.lock().expect("results lock")[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("results lock")
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}

fn main() {
    let parts = std::env::var("DRIFTGATE_BENCH_PARTS")
        .unwrap_or_else(|_| "shared,sensitivity,sim".to_string());
    let wanted = |part: &str| parts.split(',').any(|p| p.trim() == part);
    let full_ladders = std::env::var("DRIFTGATE_BENCH_LADDER").is_ok_and(|v| v == "full");
    let tmp = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    if wanted("shared") {
        let t = Instant::now();
        shared::run(tmp.path());
        println!("(shared benches: {:.0} s)", t.elapsed().as_secs_f64());
    }
    if wanted("sensitivity") {
        let t = Instant::now();
        println!();
        sensitivity::run(tmp.path(), full_ladders);
        println!("(sensitivity: {:.0} s)", t.elapsed().as_secs_f64());
    }
    if wanted("sim") {
        let t = Instant::now();
        println!();
        let runs = [("noise-seeded", true), ("noise-unseeded", false)];
        let results = parallel_map(&runs, |&(name, seed)| noise_run(tmp.path(), name, seed));
        for ((name, _), (drift, cases)) in runs.iter().zip(results) {
            println!("sim {name}: {drift} false alarms in {cases} noise-only cases");
        }
        println!("(sim: {:.0} s)", t.elapsed().as_secs_f64());
    }
    println!("\nwall time: {:.0} s", started.elapsed().as_secs_f64());
}
