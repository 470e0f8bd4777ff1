//! Replicate: pinned `POST /v1/predictions` with `version`, the official-model route
//! without one, `Prefer: wait`, polling `urls.get`, failed predictions; the version's
//! input schema read once before the first prediction, the case's size mapped to the
//! fields it declares, no seed where it has none, undeclared inputs refused. Bodies are
//! checked against the SDK's `PredictionCreateParams` (`tests/fixtures/providers/replicate/`).

use driftgate::provider::{ErrorKind, GenerationRequest, Provider};
use driftgate::suite::ProviderKind;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{self, KEY, Sequence, Wire, json_body, received};

/// Seedream 4.5's first version: `size` is `2K`/`4K` only, no `width`/`height`, no `seed`.
const VERSION: &str = "e563f451edd459e76456dc2b32d7d2c02176059629759923965f9e86494325f6";
/// Its successor, which adds `size: custom` with `width`/`height` of 1024..4096.
const CUSTOM: &str = "9fe3b8282dcb9d9063b05e33210a1432801f7c5a6641db944baefcec4886761a";
const MODEL: &str = "bytedance/seedream-4.5";

/// A `GET /v1/models/{owner}/{name}/versions/{id}` answer, its inputs as documented for
/// the two Seedream 4.5 versions (docs/providers.md), in Cog's schema layout: enums in
/// schemas of their own, reached through `allOf`.
fn version(id: &str) -> Value {
    let custom = id == CUSTOM;
    let mut tiers = vec!["2K", "4K"];
    let mut input = json!({
        "prompt": {"type": "string", "x-order": 0},
        "image_input": {"type": "array", "items": {"type": "string", "format": "uri"}, "default": []},
        "size": {"allOf": [{"$ref": "#/components/schemas/size"}], "default": "2K"},
        "aspect_ratio": {"allOf": [{"$ref": "#/components/schemas/aspect_ratio"}], "default": "match_input_image"},
        "sequential_image_generation": {"allOf": [{"$ref": "#/components/schemas/sequential_image_generation"}], "default": "disabled"},
        "max_images": {"type": "integer", "minimum": 1, "maximum": 15, "default": 1},
        "disable_safety_checker": {"type": "boolean", "default": false},
    });
    if custom {
        tiers.push("custom");
        input["width"] =
            json!({"type": "integer", "minimum": 1024, "maximum": 4096, "default": 2048});
        input["height"] =
            json!({"type": "integer", "minimum": 1024, "maximum": 4096, "default": 2048});
    }
    json!({
        "id": id, "created_at": "2025-12-01T00:00:00Z", "cog_version": "0.16.9",
        "openapi_schema": {"components": {"schemas": {
            "Input": {"type": "object", "title": "Input", "required": ["prompt"], "properties": input},
            "size": {"enum": tiers, "type": "string", "title": "size"},
            "aspect_ratio": {"enum": ["match_input_image", "1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3", "21:9"], "type": "string"},
            "sequential_image_generation": {"enum": ["disabled", "auto"], "type": "string"},
        }}}
    })
}

fn prediction(uri: &str, status: &str) -> Value {
    json!({
        "id": "gm3qorzdhgbfurvjtvhg6dckhu", "model": MODEL, "version": VERSION,
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

/// Serves the version's schema, pinned or (for `None`) as the model's `latest_version`.
async fn mount_schema(server: &MockServer, pinned: Option<&str>, id: &str) {
    let (p, body) = match pinned {
        Some(v) => (format!("/v1/models/{MODEL}/versions/{v}"), version(id)),
        None => (
            format!("/v1/models/{MODEL}"),
            json!({"owner": "bytedance", "name": "seedream-4.5", "latest_version": version(id)}),
        ),
    };
    Mock::given(method("GET"))
        .and(path(p))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

/// Checks a create body against the SDK's `PredictionCreateParams`.
fn assert_sdk_body(body: &Value) {
    let file = format!(
        "{}/tests/fixtures/providers/replicate/PredictionCreateParams.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let v = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = v.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{body}");
}

#[tokio::test]
async fn pinned_version_is_polled_to_success() {
    let server = MockServer::start().await;
    let uri = server.uri();
    mount_schema(&server, Some(CUSTOM), CUSTOM).await;
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
    let mut m = common::model(ProviderKind::Replicate, MODEL, &uri);
    m.version = Some(CUSTOM.into());
    let g = common::generate(&m, &common::case(dir.path(), 2))
        .await
        .expect("generated");
    assert_eq!(g.bytes, common::png(200));
    assert_eq!(
        g.metadata.model.as_deref(),
        Some(format!("{MODEL}:{VERSION}").as_str())
    );
    assert!(!g.metadata.no_version_evidence);
    assert_eq!(g.metadata.predict_time_s, Some(3.2));
    let body = json_body(&received(&server, "POST", "/v1/predictions").await[0]);
    assert_sdk_body(&body);
    assert_eq!(body["version"], CUSTOM);
    assert_eq!(
        body["input"]["prompt"],
        "place this bottle on a wooden table"
    );
    // 1024x1024 is inside the version's width/height range: exact pixels.
    assert_eq!(body["input"]["size"], "custom");
    assert_eq!(body["input"]["width"], 1024);
    assert_eq!(body["input"]["height"], 1024);
    assert_eq!(body["input"]["image_input"].as_array().unwrap().len(), 2);
    // This version declares no seed either.
    assert!(body["input"].get("seed").is_none(), "{body}");
}

#[tokio::test]
async fn a_version_without_seed_or_width_gets_a_size_tier_and_no_seed() {
    let server = MockServer::start().await;
    let uri = server.uri();
    mount_schema(&server, Some(VERSION), VERSION).await;
    Mock::given(method("POST"))
        .and(path("/v1/predictions"))
        .respond_with(ok(&uri))
        .mount(&server)
        .await;
    common::mount_images(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let mut m = common::model(ProviderKind::Replicate, MODEL, &uri);
    m.version = Some(VERSION.into());
    let mut case = common::case(dir.path(), 0);
    case.size.width = 1536;
    let p = common::provider(&m);
    for sample in 0..2 {
        let g = p
            .generate(GenerationRequest {
                model: &m,
                case: &case,
                sample,
            })
            .await
            .expect("generated");
        // The suite pins seed 42, but the version has no `seed`: none was sent, and the
        // sample says so instead of claiming a pinned seed.
        assert_eq!(g.metadata.seed, None);
        assert!(g.metadata.seed_not_honoured);
    }
    // One schema read for the suite, however many predictions follow.
    let reads = received(
        &server,
        "GET",
        &format!("/v1/models/{MODEL}/versions/{VERSION}"),
    )
    .await;
    assert_eq!(reads.len(), 1);
    let posts = received(&server, "POST", "/v1/predictions").await;
    assert_eq!(posts.len(), 2);
    let body = json_body(&posts[0]);
    assert_sdk_body(&body);
    assert_eq!(
        body["input"],
        json!({"prompt": "place this bottle on a wooden table", "size": "2K", "aspect_ratio": "3:2"})
    );
}

#[tokio::test]
async fn an_undeclared_param_is_refused_before_anything_is_sent() {
    let server = MockServer::start().await;
    let uri = server.uri();
    mount_schema(&server, Some(VERSION), VERSION).await;
    Mock::given(method("POST"))
        .and(path("/v1/predictions"))
        .respond_with(ok(&uri))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut m = common::model(ProviderKind::Replicate, MODEL, &uri);
    m.version = Some(VERSION.into());
    let mut case = common::case(dir.path(), 0);
    case.params.insert("guidance_scale".into(), json!(3.5));
    let (r, retries) = common::execute_one(&m, &case).await;
    let e = r.expect_err("refused");
    assert_eq!(e.kind, ErrorKind::Rejected);
    assert_eq!(retries, 0);
    assert!(
        e.message.contains(
            "input `guidance_scale` is not declared by bytedance/seedream-4.5 version e563f451edd4"
        ),
        "{e}"
    );
    assert!(e.message.contains("ignore it silently"), "{e}");
    assert!(
        e.message.contains(
            "declared inputs: aspect_ratio, disable_safety_checker, image_input, max_images, prompt, sequential_image_generation, size"
        ),
        "{e}"
    );
    assert!(
        received(&server, "POST", "/v1/predictions")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn official_model_hidden_version_is_no_version_evidence() {
    let server = MockServer::start().await;
    let uri = server.uri();
    // Unpinned: the schema is the model's latest version's.
    mount_schema(&server, None, CUSTOM).await;
    let mut answer = prediction(&uri, "succeeded");
    answer["version"] = json!("hidden");
    Mock::given(method("POST"))
        .and(path(format!("/v1/models/{MODEL}/predictions")))
        .respond_with(ResponseTemplate::new(201).set_body_json(answer))
        .mount(&server)
        .await;
    common::mount_images(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(ProviderKind::Replicate, MODEL, &uri);
    let mut case = common::case(dir.path(), 0);
    case.size.width = 4096;
    case.size.height = 2304;
    let g = common::generate(&m, &case).await.expect("generated");
    assert_eq!(g.metadata.model.as_deref(), Some(MODEL));
    assert!(g.metadata.no_version_evidence);
    assert!(!g.metadata.build_identity()["model"].contains("hidden"));
    let body =
        json_body(&received(&server, "POST", &format!("/v1/models/{MODEL}/predictions")).await[0]);
    let mut pinned = body.clone();
    pinned["version"] = json!(CUSTOM);
    assert_sdk_body(&pinned);
    assert!(body.get("version").is_none());
    assert_eq!(
        body["input"],
        json!({"prompt": "place this bottle on a wooden table", "size": "custom", "width": 4096, "height": 2304})
    );
}

#[tokio::test]
async fn failed_prediction_is_rejected_with_its_error() {
    let server = MockServer::start().await;
    let uri = server.uri();
    mount_schema(&server, None, VERSION).await;
    let mut failed = prediction(&uri, "failed");
    failed["error"] = json!("prompt must be at most 4000 characters");
    Mock::given(method("POST"))
        .and(path(format!("/v1/models/{MODEL}/predictions")))
        .respond_with(ResponseTemplate::new(201).set_body_json(failed))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(ProviderKind::Replicate, MODEL, &uri);
    let e = common::generate(&m, &common::case(dir.path(), 0))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Rejected);
    assert!(e.message.contains("at most 4000 characters"), "{e}");
}

#[tokio::test]
async fn an_unreadable_schema_stops_before_the_prediction() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/models/{MODEL}")))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_string(r#"{"title":"Not found","detail":"Not found.","status":404}"#),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(ProviderKind::Replicate, MODEL, &server.uri());
    let e = common::generate(&m, &common::case(dir.path(), 0))
        .await
        .unwrap_err();
    assert!(!e.kind.is_retryable(), "{e}");
    assert!(
        e.message
            .contains("cannot read the input schema of bytedance/seedream-4.5"),
        "{e}"
    );
    assert!(
        received(&server, "POST", &format!("/v1/models/{MODEL}/predictions"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn faults() {
    common::faults_with(
        &Wire {
            kind: ProviderKind::Replicate,
            endpoint: MODEL,
            method: "POST",
            path: "/v1/models/bytedance/seedream-4.5/predictions",
            ok,
            invalid: (422, r#"{"detail":"- input.size: size must be one of the following: \"2K\", \"4K\""}"#, "size must be one of"),
            filtered: (422, r#"{"detail":"The input or output was flagged as sensitive. Please try again with different inputs. (E005)","title":"NSFW content"}"#),
            tweak: |_| {},
        },
        Some((
            "/v1/models/bytedance/seedream-4.5",
            json!({"latest_version": version(VERSION)}),
        )),
    )
    .await;
}
