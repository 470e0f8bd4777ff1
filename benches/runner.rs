//! Runner throughput and memory against a loopback emulator with a fixed 400 ms
//! latency per generation: `cargo bench --bench runner`.
//!
//! The real binary runs as a child process (release build), so wall time and peak RSS
//! are what a CI job would see. Peak RSS is sampled from `/proc/<pid>/status` (VmHWM)
//! while the child runs. Targets: wall within 1.15x of ceil(cases/16) x 0.4 s, and the
//! peak RSS at 1600 cases within 1.3x of the one at 400, since candidates go to disk as
//! they arrive instead of piling up in memory.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod common;

const EP: &str = "fal-ai/bytedance/seedream/v4.5/text-to-image";
const LATENCY: Duration = Duration::from_millis(400);
const CONCURRENCY: usize = 16;

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 64, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 4) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

fn write_suite(dir: &Path, base: &str, cases: usize) -> std::path::PathBuf {
    let mut y = format!(
        "suite: bench\nmodel:\n  provider: fal\n  endpoint: {EP}\n  base_url: {base}\n  api_key_env: DRIFTGATE_BENCH_KEY\n  mode: sync\ndefaults:\n  seed: 1\n  samples: 1\ncases:\n"
    );
    for i in 0..cases {
        y.push_str(&format!(
            "  - id: case-{i}\n    prompt: product shot number {i}\n"
        ));
    }
    let file = dir.join(format!("bench-{cases}.yaml"));
    std::fs::write(&file, y).expect("suite");
    file
}

/// Runs the binary, returning (wall, peak RSS in KiB, exit code).
fn run_child(dir: &Path, args: &[&str]) -> (Duration, u64, Option<i32>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_driftgate"));
    cmd.current_dir(dir)
        .env("DRIFTGATE_BENCH_KEY", "bench-key")
        .args(args)
        .args(["--concurrency", &CONCURRENCY.to_string(), "-q"]);
    common::run_child(cmd, Duration::from_millis(20))
}

fn scenario(dir: &Path, base: &str, cases: usize) -> u64 {
    let suite = write_suite(dir, base, cases);
    let suite = suite.to_str().expect("utf-8 path");
    let baselines = format!("baselines-{cases}");
    let (rec, _, code) = run_child(dir, &["record", suite, "--baselines", &baselines]);
    assert_eq!(code, Some(0), "record failed");
    let out = format!("out-{cases}");
    let (wall, rss, code) = run_child(
        dir,
        &["run", suite, "--baselines", &baselines, "--out", &out],
    );
    // One sample per case cannot separate drift from noise, so every case is
    // `inconclusive` (exit 3); what matters here is that nothing failed.
    assert!(matches!(code, Some(0 | 3)), "run failed: exit {code:?}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(&out).join("run.json")).expect("run.json"),
    )
    .expect("json");
    let errors = report["cases"]
        .as_array()
        .map_or(0, |c| c.iter().filter(|c| c["verdict"] == "error").count());
    assert_eq!(errors, 0, "{errors} cases failed");
    let ideal = LATENCY.as_secs_f64() * cases.div_ceil(CONCURRENCY) as f64;
    println!(
        "{cases} cases x 1 sample, concurrency {CONCURRENCY}: run {:.2} s (ideal {ideal:.2} s, ratio {:.3}); record {:.2} s; requests {}, retries {}; peak RSS {:.1} MiB",
        wall.as_secs_f64(),
        wall.as_secs_f64() / ideal,
        rec.as_secs_f64(),
        report["stats"]["requests"],
        report["stats"]["retries"],
        rss as f64 / 1024.0
    );
    rss
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = rt.block_on(async {
        let server = MockServer::start().await;
        let uri = server.uri();
        Mock::given(method("POST"))
            .and(path(format!("/{EP}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_delay(LATENCY)
                    .set_body_json(json!({"images": [{"url": format!("{uri}/files/out.png"), "content_type": "image/png"}], "seed": 1})),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/files/out.png"))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(png()))
            .mount(&server)
            .await;
        server
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let small = scenario(dir.path(), &server.uri(), 400);
    let large = scenario(dir.path(), &server.uri(), 1600);
    println!(
        "peak RSS 1600 / 400 cases: {:.3}",
        large as f64 / small as f64
    );
    drop(server);
}
