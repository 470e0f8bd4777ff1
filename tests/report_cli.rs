//! The review workflow end to end through the real binary, in temporary folders:
//! record, run with drift, accept (all, by glob, refusals), the trend history,
//! `driftgate report` re-rendering, and GitHub annotations.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_driftgate");

/// A copy of the demo suite, made small so every step runs in a second or two.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let demo = std::fs::read_to_string(root.join("suites/demo.yaml")).unwrap();
        let small = demo.replace(
            "size: { width: 384, height: 384 }",
            "size: { width: 80, height: 80 }",
        );
        assert_ne!(
            demo, small,
            "the demo suite's size line changed; update this test"
        );
        std::fs::create_dir_all(dir.path().join("suites/refs")).unwrap();
        std::fs::write(dir.path().join("suites/demo.yaml"), small).unwrap();
        std::fs::copy(
            root.join("suites/refs/bottle.png"),
            dir.path().join("suites/refs/bottle.png"),
        )
        .unwrap();
        let env = Self { dir };
        let out = env.cmd("1", &["record", "suites/demo.yaml"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        env
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Runs driftgate in the environment's folder with the sim serving `build`.
    fn cmd(&self, build: &str, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .current_dir(self.dir.path())
            .env("DRIFTGATE_SIM_BUILD", build)
            .env_remove("GITHUB_ACTIONS")
            .output()
            .unwrap()
    }

    fn run(&self, build: &str, out: &str, extra: &[&str]) -> Output {
        let mut args = vec!["run", "suites/demo.yaml", "--out", out];
        args.extend_from_slice(extra);
        self.cmd(build, &args)
    }

    fn json(&self, rel: &str) -> Value {
        serde_json::from_slice(&std::fs::read(self.path(rel)).unwrap()).unwrap()
    }

    fn manifest_case(&self, id: &str) -> Value {
        self.json("baselines/demo/manifest.json")["cases"][id].clone()
    }
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn verdict_of(run: &Value, id: &str) -> String {
    run["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .map(|c| c["verdict"].as_str().unwrap().to_string())
        .unwrap()
}

#[test]
fn accept_promotes_selected_cases_and_refuses_stale_runs() {
    let env = Env::new();
    let run = env.run("2", "reports/r1", &[]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let r1 = env.json("reports/r1/run.json");
    let run_id = r1["run_id"].as_str().unwrap().to_string();
    assert_eq!(verdict_of(&r1, "gold-watch"), "drift");
    assert_eq!(r1["cases"][0]["fingerprint"].as_str().unwrap().len(), 64);

    let before_sand = env.manifest_case("bottle-sand");
    let out = env.cmd(
        "1",
        &[
            "accept",
            "reports/r1",
            "--case",
            "gold-*",
            "--reason",
            "new autumn look",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("accepted 1 case"));
    let gold = env.manifest_case("gold-watch");
    assert_eq!(gold["source"], format!("accept {run_id}"));
    assert_eq!(gold["reason"], "new autumn look");
    assert_eq!(gold["images"].as_array().unwrap().len(), 3);
    assert!(gold["provider"][0]["model"].as_str().unwrap().contains('2'));
    let img = std::fs::read(env.path("baselines/demo/gold-watch/0.png")).unwrap();
    let cand = std::fs::read(env.path("reports/r1/candidates/demo/gold-watch/0.png")).unwrap();
    assert_eq!(img, cand, "the candidate PNG became the baseline as it was");
    let mut files: Vec<String> = std::fs::read_dir(env.path("baselines/demo/gold-watch"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["0.png", "1.png", "2.png"], "no staging debris left");
    assert_eq!(
        env.manifest_case("bottle-sand"),
        before_sand,
        "unselected case untouched"
    );
    let check = env.cmd("1", &["check", "suites/demo.yaml"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));

    // The same run again: its baseline for gold-watch is no longer the one it compared with.
    let again = env.cmd("1", &["accept", "reports/r1", "--case", "gold-watch"]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("stale"), "{}", text(&again));

    // A suite entry changed and re-recorded since the run: refused, and nothing at all is
    // accepted from that invocation, not even the case that would have been fine.
    let suite = std::fs::read_to_string(env.path("suites/demo.yaml")).unwrap();
    std::fs::write(
        env.path("suites/demo.yaml"),
        suite.replace(
            "teal headphones on a grey desk",
            "teal headphones on an oak desk",
        ),
    )
    .unwrap();
    let rec = env.cmd(
        "1",
        &["record", "suites/demo.yaml", "--case", "teal-*", "--force"],
    );
    assert_eq!(rec.status.code(), Some(0), "{}", text(&rec));
    let stale = env.cmd(
        "1",
        &[
            "accept",
            "reports/r1",
            "--case",
            "teal-*",
            "--case",
            "bottle-sand",
        ],
    );
    assert_eq!(stale.status.code(), Some(2), "{}", text(&stale));
    assert!(
        text(&stale).contains("teal-headphones: the run is stale"),
        "{}",
        text(&stale)
    );
    assert!(
        text(&stale).contains("nothing was accepted"),
        "{}",
        text(&stale)
    );
    assert_eq!(env.manifest_case("bottle-sand"), before_sand);

    // A glob that matches nothing is a usage error.
    let none = env.cmd("1", &["accept", "reports/r1", "--case", "no-such-*"]);
    assert_eq!(none.status.code(), Some(2), "{}", text(&none));

    // After accepting, build 2 of gold-watch is the baseline: it passes now.
    let run2 = env.run("2", "reports/r2", &[]);
    assert_eq!(run2.status.code(), Some(1), "{}", text(&run2));
    assert_eq!(
        verdict_of(&env.json("reports/r2/run.json"), "gold-watch"),
        "pass"
    );

    // Accepting cases that passed is allowed, and says so.
    let pass = env.run("1", "reports/r3", &["--case", "bottle-sand"]);
    assert_eq!(pass.status.code(), Some(0), "{}", text(&pass));
    let acc = env.cmd("1", &["accept", "reports/r3"]);
    assert_eq!(acc.status.code(), Some(0), "{}", text(&acc));
    assert!(String::from_utf8_lossy(&acc.stdout).contains("every accepted case had passed"));
}

#[test]
fn runs_append_history_and_report_rerenders_from_run_json() {
    let env = Env::new();
    for out in ["reports/r1", "reports/r2"] {
        let run = env.run("2", out, &[]);
        assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    }
    let history = std::fs::read_to_string(env.path("reports/history.jsonl")).unwrap();
    let lines: Vec<Value> = history
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[1]["run_id"],
        env.json("reports/r2/run.json")["run_id"]
    );
    assert_eq!(lines[1]["cases"].as_array().unwrap().len(), 6);

    let thumb = env.path("reports/r2/thumbs/candidates/demo/gold-watch/0.png.jpg");
    assert!(thumb.exists(), "thumbnail written by the run");

    // Re-render from run.json alone: every format and the thumbnails come back.
    for f in ["index.html", "junit.xml", "summary.md"] {
        std::fs::remove_file(env.path(&format!("reports/r2/{f}"))).unwrap();
    }
    std::fs::remove_dir_all(env.path("reports/r2/thumbs")).unwrap();
    let re = env.cmd("1", &["report", "reports/r2"]);
    assert_eq!(re.status.code(), Some(0), "{}", text(&re));
    let html = std::fs::read_to_string(env.path("reports/r2/index.html")).unwrap();
    assert!(
        html.contains("Trend over the last 2 runs"),
        "trend drawn from the history"
    );
    assert!(html.contains("<svg"));
    assert!(html.contains("gold-watch"));
    assert!(thumb.exists(), "thumbnail recreated");
    let junit = std::fs::read_to_string(env.path("reports/r2/junit.xml")).unwrap();
    assert!(junit.contains("type=\"drift\""));
    let md = std::fs::read_to_string(env.path("reports/r2/summary.md")).unwrap();
    assert!(md.contains("❌ drift"));

    // Re-rendering the first run draws the trend as it stood then: one run, no line.
    let re1 = env.cmd("1", &["report", "reports/r1"]);
    assert_eq!(re1.status.code(), Some(0), "{}", text(&re1));
    let html1 = std::fs::read_to_string(env.path("reports/r1/index.html")).unwrap();
    assert!(!html1.contains("Trend over the last"));

    // An explicit history file for a run outside reports/.
    let run = env.run("1", "elsewhere/r3", &["--history", "trend.jsonl"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    assert_eq!(
        std::fs::read_to_string(env.path("trend.jsonl"))
            .unwrap()
            .lines()
            .count(),
        1
    );
    assert!(!env.path("elsewhere/history.jsonl").exists());
}

#[test]
fn github_actions_gets_workflow_commands() {
    let env = Env::new();
    let out = Command::new(BIN)
        .args(["run", "suites/demo.yaml", "--out", "reports/r1"])
        .current_dir(env.dir.path())
        .env("DRIFTGATE_SIM_BUILD", "2")
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let errors: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert!(!errors.is_empty(), "{stdout}");
    assert!(
        errors
            .iter()
            .any(|l| l.starts_with("::error title=driftgate drift%3A demo/")),
        "{stdout}"
    );
    // With --format json stdout stays one JSON document.
    let json = Command::new(BIN)
        .args([
            "run",
            "suites/demo.yaml",
            "--out",
            "reports/r2",
            "--format",
            "json",
        ])
        .current_dir(env.dir.path())
        .env("DRIFTGATE_SIM_BUILD", "2")
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&json.stdout).expect("stdout is JSON");
    assert_eq!(doc["verdict"], "drift");
    assert!(String::from_utf8_lossy(&json.stderr).contains("::error "));
}

#[test]
fn accept_converts_other_formats_to_png_and_refuses_missing_candidates() {
    use sha2::Digest;
    let env = Env::new();
    let run = env.run("2", "reports/r1", &[]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));

    // The provider returned a JPEG for one sample.
    let png_path = env.path("reports/r1/candidates/demo/gold-watch/0.png");
    let img = image::load_from_memory(&std::fs::read(&png_path).unwrap()).unwrap();
    let mut jpg = Vec::new();
    img.to_rgb8()
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new(&mut jpg))
        .unwrap();
    std::fs::write(png_path.with_extension("jpg"), &jpg).unwrap();
    std::fs::remove_file(&png_path).unwrap();
    let run_json = env.path("reports/r1/run.json");
    let patched = std::fs::read_to_string(&run_json).unwrap().replace(
        "candidates/demo/gold-watch/0.png",
        "candidates/demo/gold-watch/0.jpg",
    );
    std::fs::write(&run_json, patched).unwrap();

    // A candidate that went missing since the run is refused, naming the case.
    std::fs::remove_file(env.path("reports/r1/candidates/demo/teal-headphones/1.png")).unwrap();
    let missing = env.cmd("1", &["accept", "reports/r1"]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(
        text(&missing).contains("demo/teal-headphones: cannot read"),
        "{}",
        text(&missing)
    );

    let ok = env.cmd("1", &["accept", "reports/r1", "--case", "demo/gold-*"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    let stored = std::fs::read(env.path("baselines/demo/gold-watch/0.png")).unwrap();
    assert!(stored.starts_with(b"\x89PNG\r\n\x1a\n"), "stored as PNG");
    let entry = env.manifest_case("gold-watch");
    let sha = sha2::Sha256::digest(&stored)
        .iter()
        .fold(String::new(), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        });
    assert_eq!(entry["images"][0]["sha256"], sha);
    assert_eq!(entry["images"][0]["width"], 80);
    assert!(
        entry.get("reason").is_none(),
        "no --reason, no reason field"
    );
    let check = env.cmd("1", &["check", "suites/demo.yaml"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
}

/// A sample the platform marked is not accepted as a baseline: the case is refused,
/// naming the sample and the mark, and nothing is accepted.
#[test]
fn accept_refuses_a_sample_the_platform_marked() {
    let env = Env::new();
    let run = env.run("2", "reports/r1", &[]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let run_json = env.path("reports/r1/run.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&run_json).unwrap()).unwrap();
    let case = doc["cases"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["id"] == "gold-watch")
        .expect("the case");
    case["samples"][1]["provider"]["platform_mark"] = "has_nsfw_contents (WaveSpeed)".into();
    std::fs::write(&run_json, serde_json::to_vec(&doc).unwrap()).unwrap();
    let before = env.manifest_case("gold-watch");
    let out = env.cmd("1", &["accept", "reports/r1", "--case", "gold-watch"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(
            "demo/gold-watch: sample 1 was marked by the platform: has_nsfw_contents (WaveSpeed); a marked sample is not stored as a baseline"
        ),
        "{}",
        text(&out)
    );
    assert_eq!(env.manifest_case("gold-watch"), before, "nothing accepted");
}
