//! WaveSpeedAI: submit `POST /api/v3/{model}` with Bearer auth, poll
//! `GET /api/v3/predictions/{id}/result` in the `{code, message, data}` envelope, as the
//! official SDKs do (`wavespeed-python` `api/client.py`, `wavespeed-go` `api/client.go`);
//! the fault matrix; a task left running at the deadline.

use std::time::{Duration, Instant};

use driftgate::provider::{
    ApiKey, BuildOptions, GenerationRequest, HttpOptions, Provider, build_with,
};
use driftgate::suite::ProviderKind;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{self, KEY, Queue, received};

const EP: &str = "bytedance/seedream-v4.5/edit";

/// The submit answer, as the SDK tests show it: `status: created`, `urls.get` on the
/// result route.
fn created(uri: &str) -> Value {
    json!({"code": 200, "message": "success", "data": {
        "id": "task-1", "model": EP, "status": "created", "outputs": [],
        "urls": {"get": format!("{uri}/api/v3/predictions/task-1/result")},
        "has_nsfw_contents": [], "created_at": "2026-08-21T10:00:00.000Z", "error": "",
        "timings": {"inference": 0}
    }})
}

fn state(uri: &str, status: &str) -> Value {
    let done = status == "completed";
    json!({"code": 200, "message": "success", "data": {
        "id": "task-1", "model": EP, "status": status,
        "outputs": if done { json!([format!("{uri}/files/out.png")]) } else { json!([]) },
        "urls": {"get": format!("{uri}/api/v3/predictions/task-1/result")},
        "has_nsfw_contents": if done { json!([false]) } else { json!([]) },
        "created_at": "2026-08-21T10:00:00.000Z", "error": "",
        "timings": {"inference": if done { 1834 } else { 0 }}
    }})
}

fn queue() -> Queue {
    Queue {
        kind: ProviderKind::Wavespeed,
        endpoint: EP,
        submit: "/api/v3/bytedance/seedream-v4.5/edit",
        poll: "/api/v3/predictions/task-1/result",
        created,
        state,
    }
}

#[tokio::test]
async fn submit_then_poll_to_completion_records_the_evidence() {
    let done = common::queue_completes(&queue(), |uri| state(uri, "completed")).await;
    let g = &done.generation;
    assert_eq!(g.metadata.per_call["wavespeed.timings.inference"], "1834");
    assert_eq!(g.metadata.per_call["wavespeed.has_nsfw_contents"], "false");
    // Per-call evidence changes every call: it must not read as a new build.
    let id = g.metadata.build_identity();
    assert_eq!(id.len(), 1, "{id:?}");
    assert_eq!(id["model"], EP);
    // The official Seedream table: `size` as `W*H`; references as `images`.
    assert_eq!(done.body["enable_sync_mode"], false);
    assert_eq!(done.body["seed"], 42);
    assert_eq!(
        received(&done.server, "GET", "/api/v3/predictions/task-1/result")
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn a_task_already_completed_in_the_submit_answer_is_not_polled() {
    let server = MockServer::start().await;
    let uri = server.uri();
    Mock::given(method("POST"))
        .and(path("/api/v3/bytedance/seedream-v4.5/edit"))
        .respond_with(ResponseTemplate::new(200).set_body_json(state(&uri, "completed")))
        .mount(&server)
        .await;
    common::mount_images(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(ProviderKind::Wavespeed, EP, &uri);
    let g = common::generate(&m, &common::case(dir.path(), 0))
        .await
        .expect("generated");
    assert_eq!(g.bytes, common::png(200));
    assert!(
        received(&server, "GET", "/api/v3/predictions/task-1/result")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn faults() {
    common::queue_faults(&queue()).await;
}

/// The queue at an endpoint the catalogue does not know, so the emulator's 32x32
/// images pass.
fn emulated() -> Queue {
    Queue {
        endpoint: "emulated/seedream",
        submit: "/api/v3/emulated/seedream",
        ..queue()
    }
}

/// WaveSpeed flags the second sample's output in `has_nsfw_contents`: the image is
/// kept and scored, and the case is drift on the mark, named first.
#[tokio::test(flavor = "multi_thread")]
async fn an_output_flagged_in_has_nsfw_contents_is_drift_named_first() {
    let run = common::flagged_prediction_in_a_run(&emulated(), "wavespeed", true).await;
    let s = &run["cases"][0]["samples"][1];
    assert_eq!(
        s["provider"]["per_call"]["wavespeed.has_nsfw_contents"],
        "true"
    );
    assert!(s["error"].is_null(), "{s:#}");
}

/// Flagged without an output: the sample is judged on the mark, as a filtered one.
#[tokio::test(flavor = "multi_thread")]
async fn a_flagged_prediction_without_an_output_is_drift_named_first() {
    let run = common::flagged_prediction_in_a_run(&emulated(), "wavespeed", false).await;
    let s = &run["cases"][0]["samples"][1];
    assert!(s["candidate"].is_null(), "{s:#}");
    assert!(
        s["error"]
            .as_str()
            .unwrap()
            .contains("without an image output"),
        "{s:#}"
    );
}

#[tokio::test]
async fn deadline_leaves_the_task_and_says_so() {
    let server = MockServer::start().await;
    let uri = server.uri();
    Mock::given(method("POST"))
        .and(path("/api/v3/bytedance/seedream-v4.5/edit"))
        .respond_with(ResponseTemplate::new(200).set_body_json(created(&uri)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v3/predictions/task-1/result"))
        .respond_with(ResponseTemplate::new(200).set_body_json(state(&uri, "processing")))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(ProviderKind::Wavespeed, EP, &uri);
    let c = common::case(dir.path(), 0);
    let p = build_with(
        &m,
        &BuildOptions {
            http: HttpOptions::default(),
            deadline: Some(Instant::now() + Duration::from_millis(300)),
            api_key: Some(ApiKey::new(KEY)),
        },
    )
    .unwrap();
    let e = p
        .generate(GenerationRequest {
            model: &m,
            case: &c,
            sample: 0,
        })
        .await
        .unwrap_err();
    assert!(
        e.message.contains("WaveSpeed task task-1 was left running"),
        "{e}"
    );
    assert_eq!(
        received(&server, "POST", "/api/v3/bytedance/seedream-v4.5/edit")
            .await
            .len(),
        1
    );
}
