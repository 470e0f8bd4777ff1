//! Replicate: pinned `POST /v1/predictions` with `version`, the official-model route
//! without one, `Prefer: wait`, polling `urls.get`, failed predictions.

use driftgate::provider::ErrorKind;
use driftgate::suite::ProviderKind;
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{self, KEY, Sequence, Wire, json_body, received};

const VERSION: &str = "e563f451edd459e76456dc2b32d7d2c02176059629759923965f9e86494325f6";

fn prediction(uri: &str, status: &str) -> serde_json::Value {
    json!({
        "id": "gm3qorzdhgbfurvjtvhg6dckhu", "model": "bytedance/seedream-4.5", "version": VERSION,
        "status": status, "error": null,
        "output": if status == "succeeded" { json!([format!("{uri}/files/out.png")]) } else { json!(null) },
        "metrics": {"predict_time": 3.2},
        "urls": {"get": format!("{uri}/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu"),
                 "cancel": format!("{uri}/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu/cancel")}
    })
}

fn ok(uri: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(prediction(uri, "succeeded"))
}

#[tokio::test]
async fn pinned_version_is_polled_to_success() {
    let server = MockServer::start().await;
    let uri = server.uri();
    Mock::given(method("POST"))
        .and(path("/v1/predictions"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(header("prefer", "wait=60"))
        .respond_with(ResponseTemplate::new(201).set_body_json(prediction(&uri, "starting")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu"))
        .respond_with(Sequence::new(
            ResponseTemplate::new(200).set_body_json(prediction(&uri, "processing")),
            ResponseTemplate::new(200).set_body_json(prediction(&uri, "succeeded")),
        ))
        .mount(&server)
        .await;
    common::mount_images(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let mut m = common::model(ProviderKind::Replicate, "bytedance/seedream-4.5", &uri);
    m.version = Some(VERSION.into());
    let g = common::generate(&m, &common::case(dir.path(), 2))
        .await
        .expect("generated");
    assert_eq!(g.bytes, common::png(200));
    assert_eq!(
        g.metadata.model.as_deref(),
        Some(format!("bytedance/seedream-4.5:{VERSION}").as_str())
    );
    let body = json_body(&received(&server, "POST", "/v1/predictions").await[0]);
    assert_eq!(body["version"], VERSION);
    assert_eq!(
        body["input"]["prompt"],
        "place this bottle on a wooden table"
    );
    assert_eq!(body["input"]["width"], 1024);
    assert_eq!(body["input"]["image_input"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn failed_prediction_is_rejected_with_its_error() {
    let server = MockServer::start().await;
    let uri = server.uri();
    let mut failed = prediction(&uri, "failed");
    failed["error"] = json!("prompt must be at most 4000 characters");
    Mock::given(method("POST"))
        .and(path("/v1/models/bytedance/seedream-4.5/predictions"))
        .respond_with(ResponseTemplate::new(201).set_body_json(failed))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(ProviderKind::Replicate, "bytedance/seedream-4.5", &uri);
    let e = common::generate(&m, &common::case(dir.path(), 0))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Rejected);
    assert!(e.message.contains("at most 4000 characters"), "{e}");
}

#[tokio::test]
async fn faults() {
    common::faults(&Wire {
        kind: ProviderKind::Replicate,
        endpoint: "bytedance/seedream-4.5",
        method: "POST",
        path: "/v1/models/bytedance/seedream-4.5/predictions",
        ok,
        invalid: (422, r#"{"detail":"- input.size: size must be one of the following: \"2K\", \"4K\""}"#, "size must be one of"),
        filtered: (422, r#"{"detail":"The input or output was flagged as sensitive. Please try again with different inputs. (E005)","title":"NSFW content"}"#),
        tweak: |_| {},
    })
    .await;
}
