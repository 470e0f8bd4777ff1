//! Ark: `POST /api/v3/images/generations`, bearer auth, `watermark:false`, data URIs in
//! `image`, per-item errors inside a 200, `*RiskDetection` codes. Bodies are checked
//! against the SDK's `GenerateImagesRequest` (`tests/fixtures/providers/ark/`).

use driftgate::provider::ErrorKind;
use driftgate::suite::ProviderKind;
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{self, KEY, Wire, b64, json_body, received};

const EP: &str = "seedream-4-5-251128";

fn ok(_: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "model": "seedream-4-5-251128", "created": 1_757_323_224,
        "data": [{"b64_json": b64(&common::png(33)), "size": "1024x1024"}],
        "usage": {"generated_images": 1, "output_tokens": 4096, "total_tokens": 4096}
    }))
}

#[tokio::test]
async fn request_and_answer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v3/images/generations"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ok(""))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(ProviderKind::Ark, EP, &server.uri());
    let g = common::generate(&m, &common::case(dir.path(), 2))
        .await
        .expect("generated");
    assert_eq!(g.bytes, common::png(33));
    assert_eq!(g.metadata.model.as_deref(), Some("seedream-4-5-251128"));
    assert_eq!(g.metadata.headers["ark.size"], "1024x1024");
    let body = json_body(&received(&server, "POST", "/api/v3/images/generations").await[0]);
    common::assert_spec("ark", "GenerateImagesRequest", &body);
    // The schema does bite: a field the SDK does not know, or an unknown format, is invalid.
    let spec = common::spec("ark", "GenerateImagesRequest");
    assert!(!spec.is_valid(&json!({"model": EP, "prompt": "x", "n": 2})));
    assert!(!spec.is_valid(&json!({"model": EP, "prompt": "x", "response_format": "png"})));
    assert_eq!(body["model"], EP);
    assert_eq!(body["size"], "1024x1024");
    assert_eq!(body["watermark"], false);
    assert_eq!(body["response_format"], "b64_json");
    assert_eq!(body["sequential_image_generation"], "disabled");
    assert_eq!(body["image"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn per_item_risk_error_in_a_200_is_content_filtered() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v3/images/generations"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "model": EP, "created": 1,
            "data": [{"error": {"code": "OutputImageSensitiveContentDetected.OutputImageRiskDetection", "message": "The output image may contain sensitive information."}}],
            "usage": {"generated_images": 0}
        })))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(ProviderKind::Ark, EP, &server.uri());
    let e = common::generate(&m, &common::case(dir.path(), 0))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ContentFiltered, "{e}");
    // Ark answered and withheld the image: its mark on the sample, with what it reported.
    let marked = e.marked.expect("a content-filter item is Ark's mark");
    assert_eq!(
        marked.platform_mark.as_deref(),
        Some("OutputImageSensitiveContentDetected.OutputImageRiskDetection (Ark)")
    );
    assert_eq!(marked.model.as_deref(), Some(EP));
}

#[tokio::test]
async fn per_item_internal_error_fails_the_sample_unmarked() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v3/images/generations"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "model": EP, "created": 1,
            "data": [{"error": {"code": "InternalServiceError", "message": "The service encountered an unexpected internal error."}}],
            "usage": {"generated_images": 0}
        })))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(ProviderKind::Ark, EP, &server.uri());
    let e = common::generate(&m, &common::case(dir.path(), 0))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Rejected, "{e}");
    assert!(e.marked.is_none(), "{e}");
    assert!(e.message.contains("[InternalServiceError]"), "{e}");
}

/// `record` passes; in the `run`, Ark filters the second sample with a per-item error in
/// a 200. The case is drift on that mark, named first, while the other two samples are
/// scored; run.json keeps the mark and the platform's message on the sample.
#[tokio::test(flavor = "multi_thread")]
async fn a_filtered_item_in_a_run_is_drift_named_first() {
    // Not a catalogued model: the emulator answers 32x32 images.
    const MODEL: &str = "emulated-seedream";
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v3/images/generations"))
        .respond_with(ok(""))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    common::three_samples(dir.path(), "ark", MODEL, &server.uri(), "");
    common::record(dir.path());
    server.reset().await;
    let filtered = ResponseTemplate::new(200).set_body_json(json!({
        "model": MODEL, "created": 1,
        "data": [{"error": {"code": "OutputImageSensitiveContentDetected", "message": "The request failed because the output image may contain sensitive information."}}],
        "usage": {"generated_images": 0}
    }));
    Mock::given(method("POST"))
        .and(path("/api/v3/images/generations"))
        .respond_with(common::Nth {
            at: 1,
            marked: filtered,
            normal: ok(""),
            n: 0.into(),
        })
        .mount(&server)
        .await;
    let run = common::run_is_drift_named_first(
        dir.path(),
        "sample 2 was filtered by the platform: OutputImageSensitiveContentDetected (Ark)",
    );
    let case = &run["cases"][0];
    assert_eq!(case["reasons"].as_array().unwrap().len(), 1, "{case:#}");
    let s = &case["samples"][1];
    assert_eq!(
        s["provider"]["platform_mark"],
        "OutputImageSensitiveContentDetected (Ark)"
    );
    assert!(s["candidate"].is_null() && s["metrics"].is_null(), "{s:#}");
    assert!(
        s["error"]
            .as_str()
            .unwrap()
            .contains("output image may contain sensitive information"),
        "{s:#}"
    );
    for i in [0, 2] {
        let other = &case["samples"][i];
        assert!(other["metrics"].is_object(), "sample {i} scored: {other:#}");
        assert!(other["provider"].get("platform_mark").is_none());
    }
    // Ark bills generated images: the filtered one is not counted.
    assert_eq!(run["stats"]["spend"]["images"], 2, "{:#}", run["stats"]);
}

/// Ark filters the second sample while `record` runs: the case is not recorded, with a
/// line naming the sample and the mark, and with no other case nothing is stored.
#[tokio::test(flavor = "multi_thread")]
async fn record_refuses_a_filtered_item() {
    const MODEL: &str = "emulated-seedream";
    let server = MockServer::start().await;
    let filtered = ResponseTemplate::new(200).set_body_json(json!({
        "model": MODEL, "created": 1,
        "data": [{"error": {"code": "OutputImageSensitiveContentDetected", "message": "The output image may contain sensitive information."}}],
        "usage": {"generated_images": 0}
    }));
    Mock::given(method("POST"))
        .and(path("/api/v3/images/generations"))
        .respond_with(common::Nth {
            at: 1,
            marked: filtered,
            normal: ok(""),
            n: 0.into(),
        })
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    common::three_samples(dir.path(), "ark", MODEL, &server.uri(), "");
    let o = common::driftgate(dir.path(), &["record", "marks.yaml"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error: marks/bottle: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        line.starts_with(
            "error: marks/bottle: sample 1 was filtered by the platform: OutputImageSensitiveContentDetected (Ark) (content filtered: The output image may contain sensitive information."
        ),
        "{line}"
    );
    assert!(line.ends_with("record the case again"), "{line}");
    assert!(!dir.path().join("baselines/marks/manifest.json").exists());
    assert!(!dir.path().join("baselines/marks/bottle").exists());
}

#[tokio::test]
async fn faults() {
    common::faults(&Wire {
        kind: ProviderKind::Ark,
        endpoint: EP,
        method: "POST",
        path: "/api/v3/images/generations",
        ok,
        invalid: (400, r#"{"error":{"code":"InvalidParameter","message":"the parameter `size` specified in the request is not valid. Request ID: 0217","type":"BadRequest"}}"#, "`size` specified in the request is not valid"),
        filtered: (400, r#"{"error":{"code":"InputTextRiskDetection","message":"The request failed because the input text may contain sensitive information.","type":"BadRequest"}}"#),
        tweak: |_| {},
    })
    .await;
}
