//! Baselines in object storage: what re-recording a 100-case suite with 10 changed cases
//! sends to an S3-compatible server (moto's, started here on 127.0.0.1), against a full
//! upload; and what a night downloads with an empty cache and with yesterday's.
//! `cargo bench --bench s3` (or, unoptimised, `cargo test --bench s3`).
//!
//! Every sample is its own image (the committed photograph with its own grain, read
//! through the `folder` provider); the changed cases get a warmer grade and new grain.
//! Images are content-addressed, so only the changed cases' images go up. The figures
//! are what driftgate counts as it uploads and downloads (object bodies, not HTTP
//! headers or the manifest). Without moto it says so and exits 0.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod common;

const BUCKET: &str = "driftgate-bench";
const CASES: usize = 100;
const CHANGED: usize = 10;
const SAMPLES: u32 = 3;

/// A folder-provider suite over `images/<case>/<n>.png`: the bench makes the images, so
/// every sample is a distinct photograph-like image, as a hosted model returns.
fn suite() -> String {
    let mut s = format!(
        "suite: bench\nmodel: {{ provider: folder, endpoint: local/bench, version: \"1\", path: images }}\ndefaults: {{ samples: {SAMPLES} }}\ncases:\n"
    );
    for i in 0..CASES {
        s.push_str(&format!("  - id: case-{i}\n    prompt: product shot {i}\n"));
    }
    s
}

/// Writes every sample of every case: the committed photograph with its own grain;
/// `night` > 0 changes the first `CHANGED` cases (a warmer grade, new grain).
fn write_images(dir: &Path, night: u32) -> u64 {
    let base = common::fixture();
    let mut bytes = 0;
    for i in 0..CASES {
        let changed = night > 0 && i < CHANGED;
        for n in 0..SAMPLES {
            let mut img = base.clone();
            let seed = (i as u32) * 16 + n + if changed { 7919 * night } else { 0 };
            common::grain(&mut img, seed, 6, if changed { 6 } else { 0 });
            let path = dir.join(format!("images/case-{i}/{n}.png"));
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            img.save(&path).expect("png");
            bytes += std::fs::metadata(&path).expect("size").len();
        }
    }
    bytes
}

fn driftgate(dir: &Path, endpoint: &str, args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let mut c = Command::new(env!("CARGO_BIN_EXE_driftgate"));
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("AWS_") {
            c.env_remove(k);
        }
    }
    let out = c
        .current_dir(dir)
        .args(args)
        .env("CI", "1")
        .env("DRIFTGATE_SIM_DATE", "2026-12-01")
        .env("DRIFTGATE_SIM_BUILD", "1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ALLOW_HTTP", "true")
        .output()
        .expect("run driftgate");
    assert!(
        out.status.success(),
        "driftgate {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out, start.elapsed())
}

/// The figure before `words` on the store's summary line.
fn figure(out: &Output, words: &str) -> u64 {
    let err = String::from_utf8_lossy(&out.stderr);
    let at = err
        .find(words)
        .unwrap_or_else(|| panic!("no `{words}` in {err}"));
    err[..at]
        .split_whitespace()
        .last()
        .and_then(|n| n.trim_matches(|c: char| !c.is_ascii_digit()).parse().ok())
        .unwrap_or_else(|| panic!("no figure before `{words}` in {err}"))
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let Some(moto) = common::Moto::start(BUCKET) else {
        println!(
            "s3 bench: moto is not installed ({}); nothing measured",
            common::MOTO_INSTALL
        );
        return;
    };
    let endpoint = moto.endpoint();
    let dir = tempfile::tempdir().expect("temp dir");
    let suite_file = dir.path().join("./bench.yaml");
    let url = format!("s3://{BUCKET}/night");
    let store = ["--baselines", url.as_str(), "--cache-dir", "cache"];

    std::fs::write(&suite_file, suite()).expect("suite");
    let on_disk = write_images(dir.path(), 0);
    let (full, t_full) = driftgate(
        dir.path(),
        &endpoint,
        &[&["record", "./bench.yaml"][..], &store].concat(),
    );
    let full_images = figure(&full, "images uploaded");
    let full_bytes = figure(&full, "bytes),");

    write_images(dir.path(), 1);
    let (part, t_part) = driftgate(
        dir.path(),
        &endpoint,
        &[&["record", "./bench.yaml", "--force"][..], &store].concat(),
    );
    let part_images = figure(&part, "images uploaded");
    let part_bytes = figure(&part, "bytes),");
    let present = figure(&part, "already in the store");

    // A runner that starts empty, then the next night with its cache.
    let runner = ["--baselines", url.as_str(), "--cache-dir", "runner-cache"];
    let (cold, t_cold) = driftgate(
        dir.path(),
        &endpoint,
        &[&["check", "./bench.yaml"][..], &runner].concat(),
    );
    let (warm, t_warm) = driftgate(
        dir.path(),
        &endpoint,
        &[&["check", "./bench.yaml"][..], &runner].concat(),
    );

    println!(
        "s3 bench: {CASES} cases x {SAMPLES} samples ({:.1} MiB of PNG), moto on 127.0.0.1",
        mib(on_disk)
    );
    println!(
        "  full record:       {full_images} images, {full_bytes} bytes ({:.1} MiB) uploaded in {:.1} s",
        mib(full_bytes),
        t_full.as_secs_f64()
    );
    println!(
        "  re-record, {CHANGED} cases changed: {part_images} images, {part_bytes} bytes ({:.2} MiB) uploaded, {present} already in the store, in {:.1} s",
        mib(part_bytes),
        t_part.as_secs_f64()
    );
    println!(
        "  uploaded / full upload: {:.3} (cases changed / cases: {:.3})",
        part_bytes as f64 / full_bytes as f64,
        CHANGED as f64 / CASES as f64
    );
    println!(
        "  check on an empty runner: {} images, {:.1} MiB downloaded in {:.1} s; next night: {} downloaded, {} from the cache, in {:.1} s",
        figure(&cold, "images downloaded"),
        mib(figure(&cold, "bytes),")),
        t_cold.as_secs_f64(),
        figure(&warm, "images downloaded"),
        figure(&warm, "from the cache"),
        t_warm.as_secs_f64()
    );
    assert_eq!(part_images, (CHANGED as u64) * u64::from(SAMPLES));
    drop(moto);
}
