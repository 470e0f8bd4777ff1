//! Atlas Cloud: submit `POST /api/v1/model/generateImage` with `{model, …}`, the id at
//! `data.id`, poll `GET /api/v1/model/prediction/{id}`, as the official MCP server
//! (`src/services/generation.ts`, `src/tools/llm.ts`) and ComfyUI client do; the other
//! reading of the translated docs (`predictionId`, `/model/getResult`); the fault matrix.

use driftgate::suite::ProviderKind;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{self, Queue, json_body, received};

const EP: &str = "bytedance/seedream-v4.5/edit";
const SUBMIT: &str = "/api/v1/model/generateImage";

/// The submit answer as Atlas Cloud's agent notes show it.
fn created(_: &str) -> Value {
    json!({"code": 200, "data": {"id": "task-1", "status": "starting"}})
}

fn state(uri: &str, status: &str) -> Value {
    let done = status == "completed";
    json!({"code": 200, "data": {
        "id": "task-1", "status": status,
        "outputs": if done { json!([format!("{uri}/files/out.png")]) } else { json!(null) },
        "error": null,
        "metrics": {"predict_time": 2.5}
    }})
}

fn queue() -> Queue {
    Queue {
        kind: ProviderKind::Atlascloud,
        endpoint: EP,
        submit: SUBMIT,
        poll: "/api/v1/model/prediction/task-1",
        created,
        state,
    }
}

#[tokio::test]
async fn submit_then_poll_the_prediction_route() {
    // The ComfyUI client reads outputs that are objects with a `url` too.
    let done = common::queue_completes(&queue(), |uri| {
        json!({"code": 200, "data": {
            "id": "task-1", "status": "succeeded", "model": EP,
            "outputs": [{"url": format!("{uri}/files/out.png")}],
            "metrics": {"predict_time": 2.5}
        }})
    })
    .await;
    let g = &done.generation;
    assert_eq!(
        g.metadata.per_call["atlascloud.metrics.predict_time"],
        "2.5"
    );
    assert!(g.metadata.build_identity().keys().all(|k| k == "model"));
    // The ComfyUI node's Seedream 4.5 edit body names the model in it.
    assert_eq!(done.body["model"], EP);
}

#[tokio::test]
async fn seedream_5_lite_edit_takes_a_single_image() {
    let server = MockServer::start().await;
    let uri = server.uri();
    Mock::given(method("POST"))
        .and(path(SUBMIT))
        .respond_with(ResponseTemplate::new(200).set_body_json(created(&uri)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/model/prediction/task-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(state(&uri, "completed")))
        .mount(&server)
        .await;
    common::mount_images(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(
        ProviderKind::Atlascloud,
        "bytedance/seedream-v5.0-lite/edit",
        &uri,
    );
    common::generate(&m, &common::case(dir.path(), 1))
        .await
        .expect("generated");
    let body = json_body(&received(&server, "POST", SUBMIT).await[0]);
    assert!(
        body["image"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    assert!(body.get("images").is_none());
}

/// The translated docs' reading: the id as `predictionId`, the result at
/// `/model/getResult?predictionId=`. The official route answers 404 here.
#[tokio::test]
async fn the_translated_docs_reading_is_followed_after_a_404() {
    let server = MockServer::start().await;
    let uri = server.uri();
    Mock::given(method("POST"))
        .and(path(SUBMIT))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"code": 200, "data": {"predictionId": "task-1"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/model/prediction/task-1"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"code": 404, "msg": "not found"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/model/getResult"))
        .and(query_param("predictionId", "task-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(state(&uri, "completed")))
        .mount(&server)
        .await;
    common::mount_images(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(ProviderKind::Atlascloud, EP, &uri);
    let g = common::generate(&m, &common::case(dir.path(), 0))
        .await
        .expect("generated");
    assert_eq!(g.bytes, common::png(200));
    assert_eq!(received(&server, "POST", SUBMIT).await.len(), 1);
}

#[tokio::test]
async fn faults() {
    common::queue_faults(&queue()).await;
}

/// The queue at a model the catalogue does not know, so the emulator's 32x32 images pass.
fn emulated() -> Queue {
    Queue {
        endpoint: "emulated/seedream",
        ..queue()
    }
}

/// Atlas Cloud flags the second sample's output in `has_nsfw_contents`: the image is
/// kept and scored, and the case is drift on the mark, named first.
#[tokio::test(flavor = "multi_thread")]
async fn an_output_flagged_in_has_nsfw_contents_is_drift_named_first() {
    let run = common::flagged_prediction_in_a_run(&emulated(), "atlascloud", true).await;
    let s = &run["cases"][0]["samples"][1];
    assert_eq!(
        s["provider"]["per_call"]["atlascloud.has_nsfw_contents"],
        "true"
    );
}

/// Flagged without an output: the sample is judged on the mark, as a filtered one.
#[tokio::test(flavor = "multi_thread")]
async fn a_flagged_prediction_without_an_output_is_drift_named_first() {
    let run = common::flagged_prediction_in_a_run(&emulated(), "atlascloud", false).await;
    assert!(run["cases"][0]["samples"][1]["candidate"].is_null());
}
