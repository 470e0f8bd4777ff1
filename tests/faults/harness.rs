//! A scratch project in a temp folder, the real binary, and a fal emulator whose
//! healthy and faulty cases can be told apart by their prompts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

// The catalogued Seedream 4.5 endpoint with its default size, as a user would write it:
// samples are batched (`num_images`), so request counts below are per batch.
pub(crate) const EP: &str = "fal-ai/bytedance/seedream/v4.5/text-to-image";
/// The key the emulated fal suites read; tests assert it never shows up anywhere.
pub(crate) const KEY_ENV: &str = "DRIFTGATE_FAULTS_KEY";
pub(crate) const KEY: &str = "sentinel-fal-5b1e0c7d9a";

/// A temp folder holding suites, baselines and reports, with HOME and TMPDIR inside it
/// so that a stray write anywhere else would be visible.
pub(crate) struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        for d in ["home", "tmp", "suites"] {
            std::fs::create_dir_all(dir.path().join(d)).expect("mkdir");
        }
        Self { dir }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, bytes).expect("write");
        p
    }

    /// The binary, run in the project with a clean, predictable environment.
    pub(crate) fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_driftgate"));
        c.args(args)
            .current_dir(self.path())
            .env("HOME", self.path().join("home"))
            .env("TMPDIR", self.path().join("tmp"))
            .env("CI", "1")
            .env(KEY_ENV, KEY)
            .env_remove("GITHUB_ACTIONS")
            .env_remove("DRIFTGATE_SIM_BUILD")
            .env("DRIFTGATE_SIM_DATE", "2026-12-01");
        c
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run driftgate")
    }

    pub(crate) fn json(&self, rel: &str) -> Value {
        let text = std::fs::read_to_string(self.path().join(rel))
            .unwrap_or_else(|e| panic!("read {rel}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel} is not JSON: {e}"))
    }
}

pub(crate) fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

pub(crate) fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every file under `dir` with its bytes, by relative path.
pub(crate) fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).expect("under root").to_path_buf();
                out.insert(rel, std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The case of `run.json` with this id.
pub(crate) fn case<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["cases"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no case {id} in {report:#}"))
}

pub(crate) fn reasons(case: &Value) -> String {
    case["reasons"].to_string()
}

/// A fal (sync) suite on `base` with a `healthy` and a `faulty` case.
pub(crate) fn fal_suite(base: &str, samples: u32) -> String {
    format!(
        "suite: faults\nmodel:\n  provider: fal\n  endpoint: {EP}\n  base_url: {base}\n  api_key_env: {KEY_ENV}\n  mode: sync\ndefaults:\n  seed: 7\n  samples: {samples}\ncases:\n  - id: healthy\n    prompt: HEALTHY a bottle on a table\n  - id: faulty\n    prompt: FAULTY a red shoe\n"
    )
}

/// The fal sync answer pointing at `url`: six images, the most a Seedream request asks
/// for, of which driftgate keeps the `num_images` it asked for.
pub(crate) fn answer(url: &str) -> ResponseTemplate {
    let image = json!({"url": url, "content_type": "image/png", "width": 32, "height": 32});
    ResponseTemplate::new(200).set_body_json(json!({
        "images": vec![image; 6],
        "seed": 7
    }))
}

/// A fal emulator on 127.0.0.1 serving `/files/ok.png`.
pub(crate) struct Fal {
    pub server: MockServer,
}

impl Fal {
    pub(crate) async fn start() -> Self {
        let server = MockServer::start().await;
        let f = Self { server };
        f.files().await;
        f
    }

    pub(crate) fn uri(&self) -> String {
        self.server.uri()
    }

    pub(crate) fn file(&self, name: &str) -> String {
        format!("{}/files/{name}", self.server.uri())
    }

    async fn files(&self) {
        Mock::given(method("GET"))
            .and(path("/files/ok.png"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "image/png")
                    .set_body_bytes(crate::common::png(200)),
            )
            .mount(&self.server)
            .await;
    }

    /// Every generation succeeds with `/files/ok.png`.
    pub(crate) async fn all_ok(&self) {
        Mock::given(method("POST"))
            .and(path(format!("/{EP}")))
            .respond_with(answer(&self.file("ok.png")))
            .mount(&self.server)
            .await;
    }

    /// Forgets every route, then serves the files again.
    pub(crate) async fn reset(&self) {
        self.server.reset().await;
        self.files().await;
    }

    /// Answers requests whose prompt contains `marker` with `r`.
    pub(crate) async fn when(&self, marker: &str, r: impl Respond + 'static) {
        Mock::given(method("POST"))
            .and(path(format!("/{EP}")))
            .and(body_string_contains(marker))
            .respond_with(r)
            .mount(&self.server)
            .await;
    }

    /// Serves `bytes` as `/files/<name>` with a content type.
    pub(crate) async fn serve(&self, name: &str, content_type: &str, bytes: Vec<u8>) {
        Mock::given(method("GET"))
            .and(path(format!("/files/{name}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", content_type)
                    .set_body_bytes(bytes),
            )
            .mount(&self.server)
            .await;
    }

    /// Generation requests received whose prompt contains `marker`.
    pub(crate) async fn requests(&self, marker: &str) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| {
                r.method.as_str() == "POST" && String::from_utf8_lossy(&r.body).contains(marker)
            })
            .count()
    }
}

/// Flags every emulator run takes: short timeouts and retries so the catalogue is fast.
pub(crate) const FAST: &[&str] = &["--retry-base-ms", "5", "--timeout", "5"];

/// A project with a fal suite whose baselines were recorded from a healthy emulator.
pub(crate) async fn recorded(fal: &Fal, samples: u32) -> (Project, String) {
    let p = Project::new();
    let file = p.write("suites/faults.yaml", fal_suite(&fal.uri(), samples));
    let file = file.to_string_lossy().into_owned();
    fal.all_ok().await;
    let mut args = vec!["record", &file];
    args.extend_from_slice(FAST);
    let o = p.run(&args);
    assert_eq!(code(&o), 0, "record: {}", text(&o));
    fal.reset().await;
    (p, file)
}

/// Runs the suite into `out`, returning the process output and run.json.
pub(crate) fn run_into(p: &Project, file: &str, out: &str, extra: &[&str]) -> (Output, Value) {
    let mut args = vec!["run", file, "--out", out];
    args.extend_from_slice(extra);
    if extra.contains(&"--timeout") {
        args.extend_from_slice(&FAST[..2]);
    } else {
        args.extend_from_slice(FAST);
    }
    let o = p.run(&args);
    let path = format!("{out}/run.json");
    assert!(p.path().join(&path).exists(), "no run.json: {}", text(&o));
    let report = p.json(&path);
    (o, report)
}

/// A tiny sim suite for the kill loop and the store faults.
pub(crate) fn sim_suite(cases: usize) -> String {
    let mut s = String::from(
        "suite: tiny\nmodel: { provider: sim, endpoint: sim/tiny, version: \"1\" }\ndefaults: { size: { width: 16, height: 16 }, seed: 5, samples: 2 }\ncases:\n",
    );
    for i in 0..cases {
        s.push_str(&format!(
            "  - id: case-{i}\n    prompt: object number {i} on a table\n"
        ));
    }
    s
}
