//! OpenAI Images: generations as JSON and edits as multipart, both validated against
//! the vendor's own OpenAPI schemas (`tests/fixtures/providers/openai/`), answers in
//! the documented `ImagesResponse` shape, `moderation_blocked` as content filter.

use driftgate::suite::ProviderKind;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::{self, KEY, Wire, b64, json_body, received};

const EP: &str = "gpt-image-1.5";

fn schema(name: &str) -> jsonschema::Validator {
    let file = format!(
        "{}/tests/fixtures/providers/openai/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    jsonschema::validator_for(&v).expect("schema compiles")
}

fn assert_valid(name: &str, instance: &Value) {
    let v = schema(name);
    let errors: Vec<String> = v.iter_errors(instance).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{name}: {errors:?}\n{instance}");
}

fn ok(_: &str) -> ResponseTemplate {
    let body = json!({
        "created": 1_713_833_628,
        "data": [{"b64_json": b64(&common::png(120))}],
        "background": "opaque", "output_format": "png", "size": "1024x1024", "quality": "high",
        "usage": {"total_tokens": 100, "input_tokens": 50, "output_tokens": 50,
                  "input_tokens_details": {"text_tokens": 10, "image_tokens": 40}}
    });
    assert_valid("ImagesResponse", &body);
    ResponseTemplate::new(200)
        .insert_header("openai-version", "2020-10-01")
        .insert_header("x-request-id", "req_abc")
        .set_body_json(body)
}

/// The parts of a multipart body: name → (filename, bytes).
fn multipart(req: &Request) -> Vec<(String, Option<String>, Vec<u8>)> {
    let ct = common::header(req, "content-type");
    let boundary = ct
        .split("boundary=")
        .nth(1)
        .expect("boundary")
        .trim_matches('"');
    let delim = format!("--{boundary}");
    let body = &req.body;
    let mut parts = Vec::new();
    let text = body.as_slice();
    let positions: Vec<usize> = (0..text.len().saturating_sub(delim.len()))
        .filter(|&i| text[i..].starts_with(delim.as_bytes()))
        .collect();
    for w in positions.windows(2) {
        let chunk = &text[w[0] + delim.len()..w[1]];
        let chunk = chunk.strip_prefix(b"\r\n").unwrap_or(chunk);
        let split = (0..chunk.len())
            .find(|&i| chunk[i..].starts_with(b"\r\n\r\n"))
            .unwrap();
        let head = String::from_utf8_lossy(&chunk[..split]).to_string();
        let data = chunk[split + 4..]
            .strip_suffix(b"\r\n")
            .unwrap_or(&chunk[split + 4..])
            .to_vec();
        let attr = |k: &str| {
            head.split(&format!("{k}=\""))
                .nth(1)
                .and_then(|r| r.split('"').next())
                .map(str::to_string)
        };
        parts.push((attr("name").unwrap(), attr("filename"), data));
    }
    parts
}

#[tokio::test]
async fn generation_request_validates_against_the_spec() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/images/generations"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ok(""))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(ProviderKind::Openai, EP, &server.uri());
    let mut c = common::case(dir.path(), 0);
    c.params.insert("quality".into(), json!("high"));
    let g = common::generate(&m, &c).await.expect("generated");
    assert_eq!(g.bytes, common::png(120));
    assert_eq!(g.metadata.request_id.as_deref(), Some("req_abc"));
    let id = g.metadata.build_identity();
    assert_eq!(id["openai-version"], "2020-10-01");
    assert_eq!(id["openai.quality"], "high");
    let body = json_body(&received(&server, "POST", "/v1/images/generations").await[0]);
    assert_valid("CreateImageRequest", &body);
    // The schema does bite: no prompt, or a size it does not list, is invalid.
    assert!(!schema("CreateImageRequest").is_valid(&json!({"model": EP, "n": 1})));
    assert!(!schema("CreateImageRequest").is_valid(&json!({"prompt": "x", "n": 99})));
    assert_eq!(body["model"], EP);
    assert_eq!(body["size"], "1024x1024");
    assert!(body.get("seed").is_none(), "OpenAI has no seed parameter");
}

#[tokio::test]
async fn edit_sends_references_as_multipart_files() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/images/edits"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ok(""))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(ProviderKind::Openai, EP, &server.uri());
    let c = common::case(dir.path(), 2);
    common::generate(&m, &c).await.expect("generated");
    let req = &received(&server, "POST", "/v1/images/edits").await[0];
    assert!(common::header(req, "content-type").starts_with("multipart/form-data"));
    let parts = multipart(req);
    let files: Vec<_> = parts.iter().filter(|p| p.1.is_some()).collect();
    assert_eq!(files.len(), 2);
    assert!(files.iter().all(|f| f.0 == "image[]"));
    assert_eq!(files[1].2, common::png(40));
    // Text fields as the schema types them; files stand in as strings (format: binary).
    let mut obj = serde_json::Map::new();
    for (name, file, data) in &parts {
        let text = String::from_utf8_lossy(data).to_string();
        let value = match (file, name.as_str()) {
            (Some(_), _) => Value::String("<binary>".into()),
            (None, "n") => serde_json::from_str(&text).unwrap(),
            (None, _) => Value::String(text),
        };
        let key = name.trim_end_matches("[]").to_string();
        if file.is_some() {
            obj.entry(key)
                .or_insert_with(|| json!([]))
                .as_array_mut()
                .unwrap()
                .push(value);
        } else {
            obj.insert(key, value);
        }
    }
    assert_valid("CreateImageEditRequest", &Value::Object(obj));
}

#[tokio::test]
async fn faults() {
    common::faults(&Wire {
        kind: ProviderKind::Openai,
        endpoint: EP,
        method: "POST",
        path: "/v1/images/generations",
        ok,
        invalid: (400, r#"{"error":{"message":"Invalid value: '1000x1000'. Supported values are: '1024x1024', '1024x1536', '1536x1024', and 'auto'.","type":"invalid_request_error","param":"size","code":"invalid_value"}}"#, "Supported values are"),
        filtered: (400, r#"{"error":{"message":"Your request was rejected by the safety system.","type":"image_generation_user_error","param":null,"code":"moderation_blocked"}}"#),
        tweak: |_| {},
    })
    .await;
}

/// `n` images in one request, per the spec's `ImagesResponse`: each `data` item a sample.
#[tokio::test]
async fn samples_are_batched_with_n_and_the_body_validates() {
    let server = MockServer::start().await;
    let body = json!({
        "created": 1_713_833_628,
        "data": (0..4u8).map(|i| json!({"b64_json": b64(&common::png(10 * i))})).collect::<Vec<_>>(),
        "size": "1024x1024", "quality": "high"
    });
    assert_valid("ImagesResponse", &body);
    Mock::given(method("POST"))
        .and(path("/v1/images/generations"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let m = common::model(ProviderKind::Openai, EP, &server.uri());
    let mut c = common::case(dir.path(), 0);
    c.samples = 14;
    let suite = driftgate::suite::Suite {
        id: "wire".into(),
        file: "wire.yaml".into(),
        model: m.clone(),
        cases: vec![c],
        warnings: Vec::new(),
    };
    let p = common::provider(&m);
    assert_eq!(driftgate::provider::Provider::max_batch(&p), 10);
    let stats = driftgate::run::Stats::default();
    let (_, jobs) = driftgate::run::plan(&suite, &driftgate::run::Selection::default(), 0);
    let mut out = driftgate::run::execute(
        &p,
        &suite,
        &jobs,
        driftgate::run::ExecOptions::default(),
        &stats,
        |f| f,
    )
    .await;
    out.sort_by_key(|f| f.job.sample);
    let reqs = received(&server, "POST", "/v1/images/generations").await;
    let mut n: Vec<u64> = reqs
        .iter()
        .map(|r| {
            let body = json_body(r);
            assert_valid("CreateImageRequest", &body);
            body["n"].as_u64().unwrap()
        })
        .collect();
    n.sort_unstable();
    assert_eq!(n, [4, 10], "14 samples: requests of 10 and 4");
    assert_eq!(stats.requests.load(std::sync::atomic::Ordering::SeqCst), 2);
    // The emulator always answers with 4 images: the request of 10 keeps 4, and its
    // other 6 samples are errors, never duplicates.
    let ok: Vec<_> = out.iter().filter(|f| f.result.is_ok()).collect();
    assert_eq!(ok.len(), 8);
    let first = out
        .iter()
        .find(|f| f.job.sample == 1)
        .and_then(|f| f.result.as_ref().ok())
        .expect("sample 1");
    assert_eq!(first.bytes, common::png(10));
    assert!(
        out.iter()
            .filter_map(|f| f.result.as_ref().err())
            .all(|e| e.message.contains("returned 4 of the 10 images"))
    );
    // The spec caps `n` at 10: what max_batch keeps to.
    assert!(!schema("CreateImageRequest").is_valid(&json!({"prompt": "x", "n": 11})));
}
