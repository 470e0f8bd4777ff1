//! A sharded night against the same night run whole: `cargo bench --bench merge`.
//!
//! A 400-case `sim` night (3 samples a case, seeded, the platform's date pinned after
//! its canary started, so part of the night drifts) runs whole, then as 4 shards that
//! `driftgate merge` joins. The bench asserts that every case gets the same verdict and
//! reasons both ways, and prints the merge's wall time and peak RSS (the child's
//! `VmHWM`, sampled from `/proc`). The same at 100 cases gives the ratio of the merge's
//! peak RSS at 400 cases to the one at 100: memory stays flat in the number of cases,
//! since the merge streams each shard's cases and spills their samples to disk.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

mod common;

const SHARDS: usize = 4;
/// After the sim platform's canary started: part of the night drifts.
const DATE: &str = "2026-12-01";
const COLOURS: [&str; 6] = ["red", "teal", "gold", "blue", "green", "purple"];

fn write_suite(dir: &Path, cases: usize) -> String {
    let mut y = String::from(
        "suite: night\nmodel: { provider: sim, endpoint: sim/bench, version: \"1\" }\n\
         defaults: { size: { width: 64, height: 64 }, seed: 11, samples: 3 }\ncases:\n",
    );
    for i in 0..cases {
        let colour = COLOURS[i % COLOURS.len()];
        y.push_str(&format!(
            "  - id: case-{i:04}\n    prompt: a {colour} product on a table, shot {i}\n"
        ));
    }
    let file = format!("night-{cases}.yaml");
    std::fs::write(dir.join(&file), y).expect("suite");
    file
}

/// Runs the binary in `dir`: (wall, peak RSS in KiB, exit code).
fn driftgate(dir: &Path, build: Option<&str>, args: &[&str]) -> (Duration, u64, Option<i32>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_driftgate"));
    cmd.current_dir(dir)
        .env("DRIFTGATE_SIM_DATE", DATE)
        .env_remove("DRIFTGATE_SIM_BUILD")
        .env_remove("GITHUB_ACTIONS")
        .args(args)
        .arg("-q");
    if let Some(b) = build {
        cmd.env("DRIFTGATE_SIM_BUILD", b);
    }
    common::run_child(cmd, Duration::from_millis(5))
}

/// Each case's verdict and reasons, by `suite/id`.
fn verdicts(run_dir: &Path) -> BTreeMap<String, (String, String)> {
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("run.json")).expect("run.json"))
            .expect("json");
    run["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            (
                format!("{}/{}", c["suite"], c["id"]),
                (c["verdict"].to_string(), c["reasons"].to_string()),
            )
        })
        .collect()
}

/// One night of `cases`: the merge's peak RSS in KiB.
fn night(dir: &Path, cases: usize) -> u64 {
    let suite = write_suite(dir, cases);
    let baselines = format!("baselines-{cases}");
    let common = ["--baselines", baselines.as_str()];
    let (_, _, code) = driftgate(dir, Some("1"), &[&["record", &suite][..], &common].concat());
    assert_eq!(code, Some(0), "record failed");
    let whole = format!("whole-{cases}");
    let (whole_wall, _, whole_code) = driftgate(
        dir,
        None,
        &[&["run", &suite, "--out", &whole][..], &common].concat(),
    );
    let mut shard_dirs = Vec::new();
    let mut slowest = Duration::ZERO;
    for i in 1..=SHARDS {
        let out = format!("shard-{cases}-{i}");
        let shard = format!("{i}/{SHARDS}");
        let (wall, _, code) = driftgate(
            dir,
            None,
            &[
                &["run", &suite, "--shard", &shard, "--out", &out][..],
                &common,
            ]
            .concat(),
        );
        assert!(matches!(code, Some(0 | 1)), "shard {shard}: exit {code:?}");
        slowest = slowest.max(wall);
        shard_dirs.push(out);
    }
    let merged = format!("merged-{cases}");
    let mut args: Vec<&str> = vec!["merge"];
    args.extend(shard_dirs.iter().map(String::as_str));
    args.extend(["--out", &merged]);
    let (wall, rss, code) = driftgate(dir, None, &args);
    assert_eq!(
        code, whole_code,
        "merge exit differs from the whole night's"
    );
    let (expected, got) = (verdicts(&dir.join(&whole)), verdicts(&dir.join(&merged)));
    assert_eq!(expected.len(), cases);
    assert_eq!(got, expected, "the merged night's verdicts differ");
    let drifted = expected.values().filter(|(v, _)| v == "\"drift\"").count();
    println!(
        "{cases} cases x 3 samples: whole {:.2} s, slowest of {SHARDS} shards {:.2} s; merge {:.3} s, peak RSS {:.1} MiB; verdicts identical ({drifted} drift, {} other)",
        whole_wall.as_secs_f64(),
        slowest.as_secs_f64(),
        wall.as_secs_f64(),
        rss as f64 / 1024.0,
        cases - drifted
    );
    rss
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let small = night(dir.path(), 100);
    let large = night(dir.path(), 400);
    println!(
        "merge peak RSS 400 / 100 cases: {:.3}",
        large as f64 / small as f64
    );
}
