//! fal.ai: queue submit → status_url → response_url (URLs under owner/app, not the
//! submit URL plus a suffix), `Authorization: Key`, Seedream body, sync mode, a
//! COMPLETED job whose result is a 422, cancellation at the deadline. Bodies are checked
//! against fal's Seedream v4.5 input types (`tests/fixtures/providers/fal/`).

use std::time::{Duration, Instant};

use driftgate::provider::{
    ApiKey, BuildOptions, ErrorKind, GenerationRequest, HttpOptions, Provider, build_with,
};
use driftgate::suite::ProviderKind;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{self, KEY, Sequence, Wire, json_body, received};

const EP: &str = "fal-ai/bytedance/seedream/v4.5/edit";
/// The batching tests send no references, so they use the text-to-image endpoint: the
/// edit endpoint's input requires `image_urls`.
const T2I: &str = "fal-ai/bytedance/seedream/v4.5/text-to-image";

/// Checks a submitted body against fal's own input type for the endpoint
/// (`tests/fixtures/providers/fal/`). The TypeScript types are open, so the schema lets
/// unknown fields through; fal would ignore them silently, so every field sent must also
/// be one the type declares.
fn assert_input(schema: &str, body: &Value) {
    common::assert_spec("fal", schema, body);
    let declared = common::spec_properties("fal", schema);
    let body = body.as_object().expect("a JSON object");
    let unknown: Vec<&String> = body.keys().filter(|k| !declared.contains(*k)).collect();
    assert!(unknown.is_empty(), "{schema} declares no {unknown:?}");
}

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
    assert_input("SeedDream45EditInput", &body);
    // The schema does bite: no references, or seven generations, are invalid.
    let edit = common::spec("fal", "SeedDream45EditInput");
    assert!(!edit.is_valid(&json!({"prompt": "x"})));
    assert!(!edit.is_valid(&json!({"prompt": "x", "image_urls": [], "num_images": 7})));
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

/// fal's Seedream rule for `num_images`: 1 to 6 (default 1), each a separate generation.
/// Answers with that many images, `/files/<i>.png`, or fal's 422 outside the range.
struct Seedream {
    uri: String,
}

impl wiremock::Respond for Seedream {
    fn respond(&self, req: &wiremock::Request) -> ResponseTemplate {
        let body = json_body(req);
        // fal's Seedream 4.5 size rule: each side 1920..=4096, or a pixel count in
        // 3,686,400..=16,777,216 (e.g. 2560x1440).
        let side = |k: &str| {
            body.pointer(&format!("/image_size/{k}"))
                .and_then(serde_json::Value::as_u64)
        };
        let size_ok = match (side("width"), side("height")) {
            (Some(w), Some(h)) => {
                let sides = (1920..=4096).contains(&w) && (1920..=4096).contains(&h);
                sides || (3_686_400..=16_777_216).contains(&(w * h))
            }
            _ => false,
        };
        if !size_ok {
            return ResponseTemplate::new(422).set_body_json(json!({"detail": [{
                "loc": ["body", "image_size"], "msg": "image size out of range",
                "type": "value_error"}]}));
        }
        let n = match body.get("num_images") {
            None => Some(1),
            Some(v) => v.as_u64().filter(|n| (1..=6).contains(n)),
        };
        let Some(n) = n else {
            return ResponseTemplate::new(422).set_body_json(json!({"detail": [{
                "loc": ["body", "num_images"], "msg": "Input should be less than or equal to 6",
                "type": "less_than_equal"}]}));
        };
        let images: Vec<_> = (0..n)
            .map(|i| {
                json!({"url": format!("{}/files/{i}.png", self.uri), "content_type": "image/png",
                            "width": 32, "height": 32})
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"images": images, "seed": 42}))
    }
}

/// A sync Seedream emulator: every image of a batch is a different PNG, so the order
/// of the samples shows.
async fn seedream(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path(format!("/{T2I}")))
        .respond_with(Seedream { uri: server.uri() })
        .mount(server)
        .await;
    for i in 0..6u8 {
        Mock::given(method("GET"))
            .and(path(format!("/files/{i}.png")))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "image/png")
                    .set_body_bytes(common::png(10 * i)),
            )
            .mount(server)
            .await;
    }
}

/// Runs `samples` samples of one case through the executor; returns each sample's
/// result in sample order, the `num_images` of every request, and the run's counters.
async fn batched(
    server: &MockServer,
    samples: u32,
    max_requests: Option<u64>,
) -> (
    Vec<Result<driftgate::provider::Generation, driftgate::provider::ProviderError>>,
    Vec<u64>,
    driftgate::run::Stats,
) {
    let mut m = common::model(ProviderKind::Fal, T2I, &server.uri());
    m.mode = Some("sync".into());
    let dir = tempfile::tempdir().unwrap();
    let mut c = common::case(dir.path(), 0);
    c.samples = samples;
    c.size = driftgate::suite::Size {
        width: 2048,
        height: 2048,
    };
    let suite = driftgate::suite::Suite {
        id: "wire".into(),
        file: "wire.yaml".into(),
        model: m.clone(),
        cases: vec![c],
        warnings: Vec::new(),
    };
    let p = common::provider(&m);
    let stats = driftgate::run::Stats::default();
    let options = driftgate::run::ExecOptions {
        concurrency: 2,
        max_requests,
        backoff_base: Duration::from_millis(5),
        ..driftgate::run::ExecOptions::default()
    };
    let (_, jobs) = driftgate::run::plan(&suite, &driftgate::run::Selection::default(), 0);
    let mut out = driftgate::run::execute(&p, &suite, &jobs, options, &stats, |f| f).await;
    out.sort_by_key(|f| f.job.sample);
    let asked = received(server, "POST", &format!("/{T2I}"))
        .await
        .iter()
        .map(|r| {
            let body = json_body(r);
            assert_input("SeedDream45T2IInput", &body);
            body["num_images"].as_u64().unwrap()
        })
        .collect();
    (out.into_iter().map(|f| f.result).collect(), asked, stats)
}

#[tokio::test]
async fn three_samples_are_one_request() {
    let server = MockServer::start().await;
    seedream(&server).await;
    let (results, asked, stats) = batched(&server, 3, None).await;
    assert_eq!(asked, [3], "one request for the case");
    assert_eq!(stats.requests.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(stats.images.load(std::sync::atomic::Ordering::SeqCst), 3);
    for (i, r) in results.iter().enumerate() {
        let g = r.as_ref().expect("every image kept");
        assert_eq!(g.bytes, common::png(10 * i as u8), "sample {i} in order");
        // fal reports one seed per request; each image records it.
        assert_eq!(g.metadata.seed, Some(42));
    }
}

#[tokio::test]
async fn eight_samples_are_six_then_two() {
    let server = MockServer::start().await;
    seedream(&server).await;
    let (results, mut asked, _) = batched(&server, 8, None).await;
    asked.sort_unstable();
    assert_eq!(asked, [2, 6]);
    assert_eq!(results.len(), 8);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(results[7].as_ref().unwrap().bytes, common::png(10));
}

#[tokio::test]
async fn the_emulator_refuses_seven_images_and_small_sizes_as_fal_does() {
    let server = MockServer::start().await;
    seedream(&server).await;
    let mut m = common::model(ProviderKind::Fal, T2I, &server.uri());
    m.mode = Some("sync".into());
    let dir = tempfile::tempdir().unwrap();
    let mut c = common::case(dir.path(), 0);
    let p = common::provider(&m);
    assert_eq!(p.max_batch(), 6);
    // What `check` refuses before sending, the platform refuses too.
    let small = GenerationRequest {
        model: &m,
        case: &c,
        sample: 0,
    };
    let e = p.generate_batch(small, 1).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Rejected);
    assert!(e.message.contains("image size out of range"), "{e}");
    c.size = driftgate::suite::Size {
        width: 2560,
        height: 1440,
    };
    let req = GenerationRequest {
        model: &m,
        case: &c,
        sample: 0,
    };
    let e = p.generate_batch(req, 7).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Rejected);
    assert!(e.message.contains("less than or equal to 6"), "{e}");
    assert_eq!(p.generate_batch(req, 6).await.unwrap().len(), 6);
}

#[tokio::test]
async fn the_budget_counts_requests_not_images() {
    let server = MockServer::start().await;
    seedream(&server).await;
    let (results, asked, stats) = batched(&server, 8, Some(1)).await;
    assert_eq!(asked.len(), 1, "one request sent");
    assert_eq!(stats.requests.load(std::sync::atomic::Ordering::SeqCst), 1);
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let skipped: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(ok as u64, asked[0], "the request's images all kept");
    assert_eq!(ok + skipped.len(), 8);
    assert!(skipped.iter().all(|e| e.kind == ErrorKind::Budget));
}

#[tokio::test]
async fn a_short_or_failed_batch_fails_its_samples() {
    // fal answers with one image whatever was asked.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/{T2I}")))
        .respond_with(result_ok(&server.uri()))
        .mount(&server)
        .await;
    common::mount_images(&server).await;
    let (results, asked, _) = batched(&server, 3, None).await;
    assert_eq!(asked, [3]);
    assert!(results[0].is_ok());
    for r in &results[1..] {
        let e = r.as_ref().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Fatal);
        assert!(e.message.contains("returned 1 of the 3 images"), "{e}");
    }
    // A refused request fails every sample it carried, and is not retried.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/{T2I}")))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({"detail": "bad size"})))
        .mount(&server)
        .await;
    let (results, asked, _) = batched(&server, 3, None).await;
    assert_eq!(asked, [3]);
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().is_err_and(|e| e.kind == ErrorKind::Rejected))
    );
}

#[test]
fn record_sends_one_request_per_case_for_three_samples() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(async {
        let server = MockServer::start().await;
        seedream(&server).await;
        server
    });
    let dir = tempfile::tempdir().unwrap();
    let t2i = T2I;
    std::fs::write(
        dir.path().join("fal.yaml"),
        format!(
            "suite: fal-batch\nmodel:\n  provider: fal\n  endpoint: {t2i}\n  base_url: {}\n  api_key_env: DRIFTGATE_WIRE_KEY\n  mode: sync\ndefaults:\n  seed: 7\n  samples: 3\ncases:\n  - id: bottle\n    prompt: a bottle on a table\n  - id: shoe\n    prompt: a red shoe\n",
            server.uri()
        ),
    )
    .unwrap();
    let driftgate = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_driftgate"))
            .current_dir(dir.path())
            .env("DRIFTGATE_WIRE_KEY", KEY)
            .env("CI", "1")
            .args(args)
            .args(["--baselines", "baselines"])
            .output()
            .expect("binary runs")
    };
    let plan = driftgate(&["record", "--dry-run", "fal.yaml"]);
    let stdout = String::from_utf8_lossy(&plan.stdout);
    assert!(
        stdout.contains("dry run: 2 requests for 6 images"),
        "{stdout}"
    );
    let o = driftgate(&["record", "fal.yaml"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let posts = rt.block_on(received(&server, "POST", &format!("/{t2i}")));
    assert_eq!(posts.len(), 2, "one request per case");
    for post in &posts {
        let body = json_body(post);
        assert_input("SeedDream45T2IInput", &body);
        assert_eq!(body["num_images"], 3);
    }
    // Every image of each batch is kept, in order: the emulator's 0, 1, 2.
    for case in ["bottle", "shoe"] {
        for i in 0..3u8 {
            let png = std::fs::read(
                dir.path()
                    .join(format!("baselines/fal-batch/{case}/{i}.png")),
            )
            .expect("sample stored");
            let img = image::load_from_memory(&png).unwrap().to_rgb8();
            assert_eq!(img.get_pixel(0, 0)[0], 10 * i, "{case} sample {i}");
        }
    }
}

/// `record` passes; in the `run`, fal's answer for the second sample flags its image in
/// `has_nsfw_concepts` and that image is black, as FLUX-family endpoints blank what they
/// flag. The case is drift with the mark first, then the flat image; run.json keeps the
/// mark on that sample only. Seedream declares no such field, so the record's answer,
/// without it, marks nothing.
#[tokio::test(flavor = "multi_thread")]
async fn an_image_flagged_in_has_nsfw_concepts_is_drift_named_first() {
    // Not a catalogued endpoint: the emulator answers 32x32 images.
    const FLUX: &str = "fal-ai/emulated/flux";
    let server = MockServer::start().await;
    let uri = server.uri();
    let image = |file: &str| json!({"url": format!("{uri}/files/{file}"), "content_type": "image/png", "width": 32, "height": 32});
    Mock::given(method("POST"))
        .and(path(format!("/{FLUX}")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"images": [image("out.png")], "seed": 7})),
        )
        .mount(&server)
        .await;
    mount_black(&server).await;
    let dir = tempfile::tempdir().unwrap();
    common::three_samples(dir.path(), "fal", FLUX, &uri, "  mode: sync\n");
    common::record(dir.path());
    let manifest =
        std::fs::read_to_string(dir.path().join("baselines/marks/manifest.json")).unwrap();
    assert!(!manifest.contains("platform_mark"), "{manifest}");

    server.reset().await;
    // One image per request on this endpoint, so the second request is the second sample.
    let answer = |file: &str, flagged: bool| {
        ResponseTemplate::new(200).set_body_json(json!({
            "images": [image(file)], "has_nsfw_concepts": [flagged], "seed": 7
        }))
    };
    Mock::given(method("POST"))
        .and(path(format!("/{FLUX}")))
        .respond_with(common::Nth {
            at: 1,
            marked: answer("black.png", true),
            normal: answer("out.png", false),
            n: 0.into(),
        })
        .mount(&server)
        .await;
    mount_black(&server).await;
    let run = common::run_is_drift_named_first(
        dir.path(),
        "sample 2 was marked by the platform: has_nsfw_concepts (fal)",
    );
    let case = &run["cases"][0];
    assert_eq!(
        case["degenerate"][1],
        "sample 2 is a flat black image (luma sd 0.0): a filtered or failed generation"
    );
    let marks: Vec<&Value> = case["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["provider"]["platform_mark"])
        .collect();
    assert_eq!(
        marks,
        [
            &Value::Null,
            &json!("has_nsfw_concepts (fal)"),
            &Value::Null
        ]
    );
    // The flagged image came back, so it is scored like the others.
    assert!(case["samples"][1]["metrics"].is_object());
}

/// `/files/black.png`, a flat black 32x32 PNG, and `/files/out.png`.
async fn mount_black(server: &MockServer) {
    common::mount_images(server).await;
    let mut black = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(32, 32, image::Rgb([0, 0, 0]))
        .write_to(&mut black, image::ImageFormat::Png)
        .unwrap();
    Mock::given(method("GET"))
        .and(path("/files/black.png"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "image/png")
                .set_body_bytes(black.into_inner()),
        )
        .mount(server)
        .await;
}

/// In a batch, `has_nsfw_concepts` has one entry per image: only the flagged image of
/// the three carries the mark.
#[tokio::test]
async fn has_nsfw_concepts_marks_its_own_image_of_a_batch() {
    let server = MockServer::start().await;
    let uri = server.uri();
    let image = json!({"url": format!("{uri}/files/out.png"), "content_type": "image/png"});
    Mock::given(method("POST"))
        .and(path(format!("/{T2I}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "images": [image, image, image], "has_nsfw_concepts": [false, true, false], "seed": 42
        })))
        .mount(&server)
        .await;
    common::mount_images(&server).await;
    let mut m = common::model(ProviderKind::Fal, T2I, &uri);
    m.mode = Some("sync".into());
    let dir = tempfile::tempdir().unwrap();
    let c = common::case(dir.path(), 0);
    let p = common::provider(&m);
    let req = GenerationRequest {
        model: &m,
        case: &c,
        sample: 0,
    };
    let marks: Vec<Option<String>> = p
        .generate_batch(req, 3)
        .await
        .expect("generated")
        .into_iter()
        .map(|g| g.metadata.platform_mark)
        .collect();
    assert_eq!(
        marks,
        [None, Some("has_nsfw_concepts (fal)".to_string()), None]
    );
}
