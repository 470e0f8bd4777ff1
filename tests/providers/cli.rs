//! The real binary against a fal emulator on 127.0.0.1: `record` then `run` pass, and a
//! run whose provider rejects every request exits 3 with fal's message in run.json; a
//! sample fal marks is not recorded as a baseline; a suite `driftgate init --provider fal`
//! scaffolds records and passes `check`.

use std::path::Path;
use std::process::Command;

use serde_json::json;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{self, KEY};

// Not a catalogued Seedream id: the emulator answers 32x32 images, a size the endpoint
// catalogue would refuse for the real endpoint before any request.
const EP: &str = "fal-ai/emulated/text-to-image";

fn suite(dir: &Path, base: &str) -> std::path::PathBuf {
    let file = dir.join("fal.yaml");
    std::fs::write(
        &file,
        format!(
            "suite: fal-wire\nmodel:\n  provider: fal\n  endpoint: {EP}\n  base_url: {base}\n  api_key_env: DRIFTGATE_WIRE_KEY\n  mode: sync\ndefaults:\n  size: {{ width: 32, height: 32 }}\n  seed: 7\n  samples: 3\ncases:\n  - id: bottle\n    prompt: a bottle on a table\n  - id: shoe\n    prompt: a red shoe\n"
        ),
    )
    .unwrap();
    file
}

fn driftgate(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_driftgate"))
        .current_dir(dir)
        .env("DRIFTGATE_WIRE_KEY", KEY)
        .env("CI", "1")
        .args(args)
        .args([
            "--baselines",
            "baselines",
            "--retry-base-ms",
            "5",
            "--timeout",
            "5",
        ])
        .output()
        .expect("binary runs")
}

async fn serve_ok(server: &MockServer) {
    let uri = server.uri();
    // The suite's three samples come back from one request.
    let image = json!({"url": format!("{uri}/files/out.png"), "content_type": "image/png", "width": 32, "height": 32});
    Mock::given(method("POST"))
        .and(path(format!("/{EP}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "images": vec![image; 3],
            "seed": 7
        })))
        .mount(server)
        .await;
    common::mount_images(server).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn record_then_run_passes_and_a_rejecting_provider_exits_3() {
    let server = MockServer::start().await;
    serve_ok(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let file = suite(dir.path(), &server.uri());
    let file = file.to_str().unwrap();

    let rec = driftgate(dir.path(), &["record", file]);
    assert_eq!(
        rec.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&rec.stderr)
    );
    let manifest =
        std::fs::read_to_string(dir.path().join("baselines/fal-wire/manifest.json")).unwrap();
    assert!(!manifest.contains(KEY));

    let run = driftgate(dir.path(), &["run", file, "--out", "out-ok"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{stderr}\n{}",
        String::from_utf8_lossy(&run.stdout)
    );
    assert!(!stderr.contains(KEY));

    server.reset().await;
    Mock::given(method("POST"))
        .and(path(format!("/{EP}")))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({"detail": [{
            "loc": ["body", "image_size"], "msg": "Width and height must be between 1920 and 4096",
            "type": "value_error"}]})))
        .mount(&server)
        .await;
    let run = driftgate(dir.path(), &["run", file, "--out", "out-bad"]);
    assert_eq!(
        run.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report = std::fs::read_to_string(dir.path().join("out-bad/run.json")).unwrap();
    assert!(
        report.contains("Width and height must be between 1920 and 4096"),
        "{report}"
    );
    assert!(!report.contains(KEY));
}

/// fal flags every image of `bottle` in `has_nsfw_concepts` (one image per request on
/// this endpoint): `record` refuses that case with a line naming its first sample and the
/// mark, and exits 3; `shoe` is recorded, and nothing of `bottle` is stored or left staged.
#[tokio::test(flavor = "multi_thread")]
async fn record_refuses_a_marked_sample_and_records_the_other_cases() {
    let server = MockServer::start().await;
    let uri = server.uri();
    let image = json!({"url": format!("{uri}/files/out.png"), "content_type": "image/png", "width": 32, "height": 32});
    Mock::given(method("POST"))
        .and(path(format!("/{EP}")))
        .and(body_string_contains("a bottle on a table"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "images": [image],
            "has_nsfw_concepts": [true],
            "seed": 7
        })))
        .mount(&server)
        .await;
    serve_ok(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let file = suite(dir.path(), &uri);
    let rec = driftgate(dir.path(), &["record", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&rec.stderr);
    assert_eq!(rec.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(
            "error: fal-wire/bottle: sample 0 was marked by the platform: has_nsfw_concepts (fal); a marked sample is not stored as a baseline; record the case again\n"
        ),
        "{stderr}"
    );
    let suite_dir = dir.path().join("baselines/fal-wire");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(suite_dir.join("manifest.json")).unwrap())
            .unwrap();
    assert!(manifest["cases"]["shoe"].is_object(), "{manifest:#}");
    assert!(manifest["cases"].get("bottle").is_none(), "{manifest:#}");
    assert!(!suite_dir.join("bottle").exists());
    assert!(!suite_dir.join(".staging").exists());
}

#[test]
fn missing_key_exits_2_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let file = suite(dir.path(), "http://127.0.0.1:9");
    let out = Command::new(env!("CARGO_BIN_EXE_driftgate"))
        .current_dir(dir.path())
        .env_remove("DRIFTGATE_WIRE_KEY")
        .args(["record", file.to_str().unwrap(), "--baselines", "b"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DRIFTGATE_WIRE_KEY"));
}

#[test]
fn providers_lists_variables_without_values() {
    let out = Command::new(env!("CARGO_BIN_EXE_driftgate"))
        .env("FAL_KEY", "super-secret-value")
        .arg("providers")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAL_KEY"));
    assert!(text.contains("WAVESPEED_API_KEY"));
    assert!(text.contains("ATLASCLOUD_API_KEY"));
    assert!(text.contains("yes"));
    assert!(!text.contains("super-secret-value"));
}

/// The two queue platforms through the real binary: `record` then `run` pass against a
/// loopback emulator of each, and the key never reaches what is written.
#[tokio::test(flavor = "multi_thread")]
async fn queue_platforms_record_then_run() {
    struct Platform {
        provider: &'static str,
        endpoint: &'static str,
        submit: &'static str,
        poll: &'static str,
    }
    let platforms = [
        Platform {
            provider: "wavespeed",
            endpoint: "bytedance/seedream-v4.5",
            submit: "/api/v3/bytedance/seedream-v4.5",
            poll: "/api/v3/predictions/task-1/result",
        },
        Platform {
            provider: "atlascloud",
            endpoint: "bytedance/seedream-v4.5",
            submit: "/api/v1/model/generateImage",
            poll: "/api/v1/model/prediction/task-1",
        },
    ];
    for p in platforms {
        let server = MockServer::start().await;
        let uri = server.uri();
        Mock::given(method("POST"))
            .and(path(p.submit))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"code": 200, "message": "success", "data": {"id": "task-1", "status": "created"}}),
            ))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(p.poll))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "code": 200, "message": "success", "data": {
                    "id": "task-1", "model": p.endpoint, "status": "completed",
                    "outputs": [format!("{uri}/files/out.png")],
                    "has_nsfw_contents": [false], "timings": {"inference": 900}
                }
            })))
            .mount(&server)
            .await;
        common::mount_images(&server).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("queue.yaml");
        std::fs::write(
            &file,
            format!(
                "suite: {0}-wire\nmodel:\n  provider: {0}\n  endpoint: {1}\n  base_url: {uri}\n  api_key_env: DRIFTGATE_WIRE_KEY\n  poll_interval_ms: 10\ndefaults:\n  seed: 7\n  samples: 2\ncases:\n  - id: bottle\n    prompt: a bottle on a table\n",
                p.provider, p.endpoint
            ),
        )
        .unwrap();
        let file = file.to_str().unwrap();
        let rec = driftgate(dir.path(), &["record", file]);
        assert_eq!(
            rec.status.code(),
            Some(0),
            "{}: {}",
            p.provider,
            String::from_utf8_lossy(&rec.stderr)
        );
        let manifest = std::fs::read_to_string(
            dir.path()
                .join(format!("baselines/{}-wire/manifest.json", p.provider)),
        )
        .unwrap();
        assert!(manifest.contains("task-1"), "{manifest}");
        assert!(!manifest.contains(KEY));
        let run = driftgate(dir.path(), &["run", file, "--out", "out"]);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}: {}",
            p.provider,
            String::from_utf8_lossy(&run.stderr)
        );
        let report = std::fs::read_to_string(dir.path().join("out/run.json")).unwrap();
        assert!(!report.contains(KEY));
        assert_eq!(received_posts(&server, p.submit).await, 4, "{}", p.provider);
    }
}

async fn received_posts(server: &MockServer, p: &str) -> usize {
    common::received(server, "POST", p).await.len()
}

/// `driftgate init --provider fal` scaffolds a suite that records and then passes
/// `check`, once pointed at the emulator instead of fal itself.
#[tokio::test(flavor = "multi_thread")]
async fn an_init_scaffold_for_fal_records_and_passes_check() {
    const SCAFFOLD_EP: &str = "fal-ai/bytedance/seedream/v4.5/text-to-image";
    let server = MockServer::start().await;
    let uri = server.uri();
    let image = json!({"url": format!("{uri}/files/out.png"), "content_type": "image/png"});
    Mock::given(method("POST"))
        .and(path(format!("/{SCAFFOLD_EP}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "images": vec![image; 3],
            "seed": 42
        })))
        .mount(&server)
        .await;
    common::mount_images(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let cmd = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_driftgate"))
            .current_dir(dir.path())
            .env("FAL_KEY", KEY)
            .env("CI", "1")
            .args(args)
            .output()
            .expect("binary runs")
    };
    let init = cmd(&["init", "--provider", "fal"]);
    assert_eq!(init.status.code(), Some(0));
    let file = dir.path().join("suites/drift.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(SCAFFOLD_EP), "{text}");
    let pointed = text.replace(
        "  api_key_env: FAL_KEY\n",
        &format!("  api_key_env: FAL_KEY\n  base_url: {uri}\n  mode: sync\n"),
    );
    assert_ne!(pointed, text);
    std::fs::write(&file, pointed).unwrap();

    let rec = cmd(&["record", "suites/drift.yaml", "--retry-base-ms", "5"]);
    assert_eq!(
        rec.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&rec.stderr)
    );
    let check = cmd(&["check", "suites/drift.yaml"]);
    let err = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(0), "{err}");
    assert!(err.contains("2 cases, 6 baseline images verified"), "{err}");
    assert!(!err.contains("warning"), "{err}");
}
