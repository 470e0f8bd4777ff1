//! fal.ai: queue submit → status_url → response_url (URLs under owner/app, not the
//! submit URL plus a suffix), `Authorization: Key`, Seedream body, sync mode, a
//! COMPLETED job whose result is a 422, cancellation at the deadline.

use std::time::{Duration, Instant};

use driftgate::provider::{
    ApiKey, BuildOptions, ErrorKind, GenerationRequest, HttpOptions, Provider, build_with,
};
use driftgate::suite::ProviderKind;
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{self, KEY, Sequence, Wire, json_body, received};

const EP: &str = "fal-ai/bytedance/seedream/v4.5/edit";

/// Mounts the queue: submit, one IN_QUEUE (202) then COMPLETED (200), and `result`.
async fn queue(server: &MockServer, result: ResponseTemplate) {
    let uri = server.uri();
    Mock::given(method("POST"))
        .and(path(format!("/{EP}")))
        .and(header("authorization", format!("Key {KEY}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "request_id": "req-123",
            "status_url": format!("{uri}/fal-ai/bytedance/requests/req-123/status"),
            "response_url": format!("{uri}/fal-ai/bytedance/requests/req-123"),
            "cancel_url": format!("{uri}/fal-ai/bytedance/requests/req-123/cancel"),
            "queue_position": 0
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fal-ai/bytedance/requests/req-123/status"))
        .and(header("authorization", format!("Key {KEY}").as_str()))
        .respond_with(Sequence::new(
            ResponseTemplate::new(202)
                .set_body_json(json!({"status": "IN_QUEUE", "queue_position": 0})),
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "COMPLETED", "metrics": {"inference_time": 1.2}})),
        ))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fal-ai/bytedance/requests/req-123"))
        .respond_with(result)
        .mount(server)
        .await;
    common::mount_images(server).await;
}

fn result_ok(uri: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("x-fal-billable-units", "1")
        .set_body_json(json!({
            "images": [{"url": format!("{uri}/files/out.png"), "content_type": "image/png",
                        "file_name": "out.png", "file_size": 1000, "width": 1024, "height": 1024}],
            "seed": 42
        }))
}

#[tokio::test]
async fn queue_flow_follows_returned_urls() {
    let server = MockServer::start().await;
    queue(&server, result_ok(&server.uri())).await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(ProviderKind::Fal, EP, &server.uri());
    let c = common::case(dir.path(), 2);
    let g = common::generate(&m, &c).await.expect("generated");
    assert_eq!(g.bytes, common::png(200));
    assert_eq!(g.metadata.request_id.as_deref(), Some("req-123"));
    assert_eq!(g.metadata.seed, Some(42));
    assert_eq!(g.metadata.billable_units, Some(1.0));
    assert_eq!(
        g.metadata.headers.get("fal.size").map(String::as_str),
        Some("1024x1024")
    );
    assert!(
        !g.metadata
            .build_identity()
            .values()
            .any(|v| v.contains("req-123"))
    );

    let submits = received(&server, "POST", &format!("/{EP}")).await;
    assert_eq!(submits.len(), 1);
    let body = json_body(&submits[0]);
    assert_eq!(body["prompt"], c.prompt);
    assert_eq!(body["image_size"], json!({"width": 1024, "height": 1024}));
    assert_eq!(body["num_images"], 1);
    assert_eq!(body["seed"], 42);
    let urls = body["image_urls"].as_array().unwrap();
    assert_eq!(urls.len(), 2);
    assert!(
        urls[0]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    assert_eq!(
        received(&server, "GET", "/fal-ai/bytedance/requests/req-123/status")
            .await
            .len(),
        2
    );
    assert!(
        received(&server, "GET", &format!("/{EP}/requests/req-123/status"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn completed_job_whose_result_is_422_is_rejected_with_fals_message() {
    let server = MockServer::start().await;
    queue(
        &server,
        ResponseTemplate::new(422).set_body_json(json!({"detail": [{
            "loc": ["body", "image_size"], "msg": "Width and height must be between 1920 and 4096",
            "type": "value_error", "url": "https://docs.fal.ai/errors#value_error"}]})),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(ProviderKind::Fal, EP, &server.uri());
    let e = common::generate(&m, &common::case(dir.path(), 1))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Rejected);
    assert_eq!(e.status, Some(422));
    assert!(
        e.message
            .contains("body.image_size: Width and height must be between 1920 and 4096"),
        "{e}"
    );
}

#[tokio::test]
async fn content_policy_on_the_result_is_content_filtered() {
    let server = MockServer::start().await;
    queue(
        &server,
        ResponseTemplate::new(422).set_body_json(json!({"detail": [{
            "loc": ["body", "prompt"], "msg": "The content could not be processed",
            "type": "content_policy_violation"}]})),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(ProviderKind::Fal, EP, &server.uri());
    let e = common::generate(&m, &common::case(dir.path(), 0))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ContentFiltered, "{e}");
}

#[tokio::test]
async fn deadline_cancels_the_queued_job() {
    let server = MockServer::start().await;
    let uri = server.uri();
    Mock::given(method("POST"))
        .and(path(format!("/{EP}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "request_id": "slow-1",
            "status_url": format!("{uri}/fal-ai/bytedance/requests/slow-1/status"),
            "response_url": format!("{uri}/fal-ai/bytedance/requests/slow-1"),
            "cancel_url": format!("{uri}/fal-ai/bytedance/requests/slow-1/cancel"),
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fal-ai/bytedance/requests/slow-1/status"))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({"status": "IN_PROGRESS"})))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/fal-ai/bytedance/requests/slow-1/cancel"))
        .and(header("authorization", format!("Key {KEY}").as_str()))
        .respond_with(
            ResponseTemplate::new(202).set_body_json(json!({"status": "CANCELLATION_REQUESTED"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(ProviderKind::Fal, EP, &uri);
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
    assert!(e.message.contains("cancelled"), "{e}");
    server.verify().await;
}

#[tokio::test]
async fn sync_mode_and_faults() {
    fn ok(uri: &str) -> ResponseTemplate {
        result_ok(uri)
    }
    common::faults(&Wire {
        kind: ProviderKind::Fal,
        endpoint: EP,
        method: "POST",
        path: "/fal-ai/bytedance/seedream/v4.5/edit",
        ok,
        invalid: (
            422,
            r#"{"detail":[{"loc":["body","image_urls"],"msg":"field required","type":"missing"}]}"#,
            "body.image_urls: field required",
        ),
        filtered: (
            422,
            r#"{"detail":[{"loc":["body","prompt"],"msg":"flagged","type":"content_policy_violation"}]}"#,
        ),
        tweak: |m| m.mode = Some("sync".into()),
    })
    .await;
}

#[tokio::test]
async fn missing_key_is_an_error_before_any_request() {
    let e = driftgate::provider::build_with(
        &common::model(ProviderKind::Fal, EP, "https://fal.example"),
        &BuildOptions {
            api_key: Some(ApiKey::new(KEY)),
            ..BuildOptions::default()
        },
    );
    assert!(e.is_ok());
    let missing = driftgate::provider::build_with(
        &{
            let mut m = common::model(ProviderKind::Fal, EP, "https://fal.example");
            m.api_key_env = Some("DRIFTGATE_TEST_SURELY_UNSET_VAR".into());
            m
        },
        &BuildOptions::default(),
    )
    .unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("DRIFTGATE_TEST_SURELY_UNSET_VAR")
    );
}
