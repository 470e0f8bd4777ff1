//! OpenRouter: `POST /api/v1/images` with bearer auth, `input_references` as data URLs,
//! base64 answers, errors inside a 200, the chat-completions mode and routing. Bodies
//! are validated against OpenRouter's own OpenAPI schemas (`ImageGenerationRequest`,
//! `ChatRequest`) committed under `tests/fixtures/providers/openrouter/`.

use driftgate::provider::ErrorKind;
use driftgate::suite::{ProviderKind, Route};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{self, KEY, Wire, b64, json_body, received};

const EP: &str = "bytedance-seed/seedream-4.5";
const SPEC: &str = "openrouter";

fn ok(_: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "created": 1_748_372_400,
        "data": [{"b64_json": b64(&common::png(90)), "media_type": "image/png"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 4175, "total_tokens": 4175, "cost": 0.04}
    }))
}

#[tokio::test]
async fn images_api_request_and_answer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/images"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ok(""))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut m = common::model(ProviderKind::Openrouter, EP, &server.uri());
    m.route = Some(Route {
        order: vec!["bytedance".into()],
        allow_fallbacks: false,
    });
    let g = common::generate(&m, &common::case(dir.path(), 1))
        .await
        .expect("generated");
    assert_eq!(g.bytes, common::png(90));
    assert_eq!(g.metadata.cost_usd, Some(0.04));
    assert_eq!(
        g.metadata
            .headers
            .get("openrouter.media_type")
            .map(String::as_str),
        Some("image/png")
    );
    let reqs = received(&server, "POST", "/api/v1/images").await;
    let body = json_body(&reqs[0]);
    common::assert_spec(SPEC, "ImageGenerationRequest", &body);
    // The schema does bite: no prompt, or an aspect ratio it does not list, is invalid.
    let images = common::spec(SPEC, "ImageGenerationRequest");
    assert!(!images.is_valid(&json!({"model": EP})));
    assert!(!images.is_valid(&json!({"model": EP, "prompt": "x", "aspect_ratio": "7:5"})));
    assert_eq!(body["model"], EP);
    assert_eq!(body["size"], "1024x1024");
    assert_eq!(body["n"], 1);
    assert_eq!(body["seed"], 42);
    assert_eq!(
        body["provider"],
        json!({"order": ["bytedance"], "allow_fallbacks": false})
    );
    let r = &body["input_references"][0];
    assert_eq!(r["type"], "image_url");
    assert!(
        r["image_url"]["url"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
}

#[tokio::test]
async fn chat_mode_reads_the_message_images_and_fingerprint() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "gen-abc", "provider": "Google AI Studio",
            "model": "google/gemini-3-pro-image-preview-20260402",
            "choices": [{"message": {"role": "assistant", "content": "",
                "images": [{"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{}", b64(&common::png(7)))}}]}}]
        })))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut m = common::model(
        ProviderKind::Openrouter,
        "google/gemini-3-pro-image-preview",
        &server.uri(),
    );
    m.mode = Some("chat".into());
    let g = common::generate(&m, &common::case(dir.path(), 1))
        .await
        .expect("generated");
    assert_eq!(g.bytes, common::png(7));
    assert_eq!(g.metadata.request_id.as_deref(), Some("gen-abc"));
    let id = g.metadata.build_identity();
    assert_eq!(id["model"], "google/gemini-3-pro-image-preview-20260402");
    assert_eq!(id["openrouter.provider"], "Google AI Studio");
    let body = json_body(&received(&server, "POST", "/api/v1/chat/completions").await[0]);
    common::assert_spec(SPEC, "ChatRequest", &body);
    assert!(
        !common::spec(SPEC, "ChatRequest").is_valid(&json!({
            "model": "m", "messages": [{"role": "user", "content": "x"}], "modalities": ["video"]
        })),
        "the schema lists the output modalities"
    );
    assert_eq!(body["modalities"], json!(["image", "text"]));
    let content = body["messages"][0]["content"].as_array().unwrap();
    assert_eq!(content[0]["type"], "text");
    assert_eq!(content[1]["type"], "image_url");
}

#[tokio::test]
async fn error_inside_a_200_is_classified() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/images"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "error": {"code": 502, "message": "Provider returned error", "metadata": {"provider_name": "Bytedance"}}
        })))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(ProviderKind::Openrouter, EP, &server.uri());
    let e = common::generate(&m, &common::case(dir.path(), 0))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient);
    assert!(e.message.contains("Provider returned error"), "{e}");
}

#[tokio::test]
async fn faults() {
    common::faults(&Wire {
        kind: ProviderKind::Openrouter,
        endpoint: EP,
        method: "POST",
        path: "/api/v1/images",
        ok,
        invalid: (400, r#"{"error":{"code":400,"message":"size conflicts with aspect_ratio"}}"#, "size conflicts with aspect_ratio"),
        filtered: (403, r#"{"error":{"code":403,"message":"Input was flagged by moderation","metadata":{"reasons":["sexual"],"flagged_input":"..."}}}"#),
        tweak: |_| {},
    })
    .await;
}

/// The Image API's `n` (1-10) asks for several samples at once; chat mode has no count.
#[tokio::test]
async fn images_api_batches_samples_with_n() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/images"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "created": 1_748_372_400,
            "data": (0..3u8).map(|i| json!({"b64_json": b64(&common::png(10 * i)), "media_type": "image/png"})).collect::<Vec<_>>(),
        })))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(ProviderKind::Openrouter, EP, &server.uri());
    let c = common::case(dir.path(), 0);
    let p = common::provider(&m);
    use driftgate::provider::Provider as _;
    assert_eq!(p.max_batch(), 10);
    let req = driftgate::provider::GenerationRequest {
        model: &m,
        case: &c,
        sample: 0,
    };
    let images = p.generate_batch(req, 3).await.expect("generated");
    let tones: Vec<Vec<u8>> = images.iter().map(|g| g.bytes.clone()).collect();
    assert_eq!(tones, [common::png(0), common::png(10), common::png(20)]);
    // OpenRouter reports no seed, and does not say which seed each image of a batch had.
    assert!(images.iter().all(|g| g.metadata.seed.is_none()));
    let body = json_body(&received(&server, "POST", "/api/v1/images").await[0]);
    common::assert_spec(SPEC, "ImageGenerationRequest", &body);
    assert_eq!(body["n"], 3);
    assert_eq!(body["seed"], 42);

    let mut chat = m.clone();
    chat.mode = Some("chat".into());
    assert_eq!(common::provider(&chat).max_batch(), 1);
}

#[tokio::test]
async fn image_only_models_ask_for_images_only_and_size_yields_to_aspect_ratio() {
    let server = MockServer::start().await;
    let chat = json!({
        "id": "gen-1",
        "choices": [{"message": {"role": "assistant", "content": "",
            "images": [{"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{}", b64(&common::png(3)))}}]}}]
    });
    Mock::given(method("POST"))
        .and(path("/api/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(chat))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/images"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"b64_json": b64(&common::png(3))}]
        })))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut m = common::model(ProviderKind::Openrouter, EP, &server.uri());
    m.mode = Some("chat".into());
    common::generate(&m, &common::case(dir.path(), 0))
        .await
        .expect("chat generated");
    let body = json_body(&received(&server, "POST", "/api/v1/chat/completions").await[0]);
    common::assert_spec(SPEC, "ChatRequest", &body);
    assert_eq!(body["modalities"], json!(["image"]));

    m.mode = None;
    let mut case = common::case(dir.path(), 0);
    case.params.insert("aspect_ratio".into(), json!("16:9"));
    common::generate(&m, &case).await.expect("images generated");
    let body = json_body(&received(&server, "POST", "/api/v1/images").await[0]);
    common::assert_spec(SPEC, "ImageGenerationRequest", &body);
    assert_eq!(body["aspect_ratio"], "16:9");
    assert!(body.get("size").is_none(), "{body}");
}

/// A chat answer with image `tone`, or without one, ending with the given reasons.
fn chat_answer(tone: Option<u8>, finish: &str, native: &str) -> ResponseTemplate {
    let images: Vec<serde_json::Value> = tone
        .map(|t| json!({"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{}", b64(&common::png(t)))}}))
        .into_iter()
        .collect();
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "gen-1", "provider": "Google AI Studio", "model": "emulated/image-model",
        "choices": [{"finish_reason": finish, "native_finish_reason": native,
            "message": {"role": "assistant", "content": "", "images": images}}]
    }))
}

#[tokio::test]
async fn a_content_filter_finish_reason_marks_the_sample_with_or_without_an_image() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/chat/completions"))
        .respond_with(common::Nth {
            at: 0,
            marked: chat_answer(Some(5), "content_filter", "IMAGE_SAFETY"),
            normal: chat_answer(None, "content_filter", "PROHIBITED_CONTENT"),
            n: 0.into(),
        })
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut m = common::model(
        ProviderKind::Openrouter,
        "emulated/image-model",
        &server.uri(),
    );
    m.mode = Some("chat".into());
    let c = common::case(dir.path(), 0);
    let g = common::generate(&m, &c).await.expect("an image came back");
    assert_eq!(g.bytes, common::png(5));
    assert_eq!(
        g.metadata.platform_mark.as_deref(),
        Some("finish_reason content_filter, native_finish_reason IMAGE_SAFETY (OpenRouter)")
    );
    let e = common::generate(&m, &c).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::ContentFiltered, "{e}");
    let marked = e.marked.expect("the filter's mark, without an image");
    assert_eq!(
        marked.platform_mark.as_deref(),
        Some("finish_reason content_filter, native_finish_reason PROHIBITED_CONTENT (OpenRouter)")
    );
    assert_eq!(marked.request_id.as_deref(), Some("gen-1"));
}

#[tokio::test]
async fn a_normal_chat_answer_and_the_images_api_carry_no_mark() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/chat/completions"))
        .respond_with(chat_answer(Some(5), "stop", "STOP"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/images"))
        .respond_with(ok(""))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let c = common::case(dir.path(), 0);
    let mut m = common::model(ProviderKind::Openrouter, EP, &server.uri());
    let g = common::generate(&m, &c).await.expect("images generated");
    assert!(g.metadata.platform_mark.is_none());
    m.mode = Some("chat".into());
    let g = common::generate(&m, &c).await.expect("chat generated");
    assert!(g.metadata.platform_mark.is_none());
}

/// `record` passes in chat mode; in the `run`, the third request ends with a
/// content-filter finish reason and no image. The case is drift on that mark, named
/// first, and the first two samples are scored.
#[tokio::test(flavor = "multi_thread")]
async fn a_filtered_chat_answer_in_a_run_is_drift_named_first() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/chat/completions"))
        .respond_with(chat_answer(Some(60), "stop", "STOP"))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    // Not a catalogued model: the emulator answers 32x32 images.
    common::three_samples(
        dir.path(),
        "openrouter",
        "emulated/image-model",
        &server.uri(),
        "  mode: chat\n",
    );
    common::record(dir.path());
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/chat/completions"))
        .respond_with(common::Nth {
            at: 2,
            marked: chat_answer(None, "content_filter", "IMAGE_SAFETY"),
            normal: chat_answer(Some(60), "stop", "STOP"),
            n: 0.into(),
        })
        .mount(&server)
        .await;
    let run = common::run_is_drift_named_first(
        dir.path(),
        "sample 3 was filtered by the platform: finish_reason content_filter, native_finish_reason IMAGE_SAFETY (OpenRouter)",
    );
    let samples = run["cases"][0]["samples"].as_array().unwrap();
    assert!(samples[0]["metrics"].is_object() && samples[1]["metrics"].is_object());
    assert!(samples[2]["candidate"].is_null());
    assert_eq!(samples[2]["provider"]["request_id"], "gen-1");
}
