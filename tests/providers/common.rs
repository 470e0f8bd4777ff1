//! Shared pieces: a model pin pointing at an emulator, cases with reference files, a
//! provider with a known key and short timeouts, and the fault scenarios every platform
//! must classify the same way.

use std::path::{Path, PathBuf};
use std::time::Duration;

use driftgate::provider::{
    AnyProvider, ApiKey, BuildOptions, ErrorKind, Generation, GenerationRequest, HttpOptions,
    Provider, ProviderError, build_with,
};
use driftgate::run::{ExecOptions, Job, Stats, execute};
use driftgate::suite::{Case, ModelPin, ProviderKind, Reference, Size, Suite, Thresholds};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub(crate) const KEY: &str = "test-key-7f3a9c";

/// A small PNG whose pixels depend on `tone`.
pub(crate) fn png(tone: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(32, 32, |x, y| {
        image::Rgb([tone, (x * 8) as u8, (y * 8) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn model(provider: ProviderKind, endpoint: &str, base_url: &str) -> ModelPin {
    ModelPin {
        provider,
        endpoint: endpoint.to_string(),
        version: None,
        base_url: Some(base_url.to_string()),
        api_key_env: None,
        send_seed: provider != ProviderKind::Openai,
        seed_honoured: true,
        price_per_image: None,
        path: None,
        mode: None,
        route: None,
        poll_interval_ms: Some(10),
        rpm: None,
    }
}

/// A case with `refs` reference images written into `dir`.
pub(crate) fn case(dir: &Path, refs: usize) -> Case {
    let references = (0..refs)
        .map(|i| {
            let p: PathBuf = dir.join(format!("ref{i}.png"));
            std::fs::write(&p, png(40 * i as u8)).unwrap();
            Reference {
                name: format!("refs/ref{i}.png"),
                path: p,
                sha256: String::new(),
            }
        })
        .collect();
    Case {
        id: "bottle".into(),
        prompt: "place this bottle on a wooden table".into(),
        references,
        tags: vec![],
        size: Size {
            width: 1024,
            height: 1024,
        },
        seed: Some(42),
        samples: 1,
        params: Default::default(),
        thresholds: Thresholds::default(),
        line: 1,
    }
}

pub(crate) fn provider(model: &ModelPin) -> AnyProvider {
    build_with(
        model,
        &BuildOptions {
            http: HttpOptions {
                connect_timeout: Duration::from_secs(2),
                timeout: Duration::from_millis(700),
                log_requests: false,
            },
            deadline: None,
            api_key: Some(ApiKey::new(KEY)),
        },
    )
    .expect("provider builds")
}

pub(crate) async fn generate(model: &ModelPin, case: &Case) -> Result<Generation, ProviderError> {
    let p = provider(model);
    p.generate(GenerationRequest {
        model,
        case,
        sample: 0,
    })
    .await
}

/// Runs one job through the executor (retries with a tiny backoff), returning the
/// result and the number of retries.
pub(crate) async fn execute_one(
    model: &ModelPin,
    case: &Case,
) -> (Result<Generation, ProviderError>, u64) {
    let p = provider(model);
    let suite = Suite {
        warnings: Vec::new(),
        id: "wire".into(),
        file: PathBuf::from("wire.yaml"),
        model: model.clone(),
        cases: vec![case.clone()],
    };
    let stats = Stats::default();
    let options = ExecOptions {
        concurrency: 1,
        backoff_base: Duration::from_millis(5),
        ..ExecOptions::default()
    };
    let jobs = [Job { case: 0, sample: 0 }];
    let mut out = execute(&p, &suite, &jobs, options, &stats, |f| f.result).await;
    let retries = stats.retries.load(std::sync::atomic::Ordering::SeqCst);
    (out.pop().expect("one result"), retries)
}

/// The body of a received request as JSON.
/// The vendor's schema `name`, committed under `tests/fixtures/providers/<platform>/`.
pub(crate) fn spec(platform: &str, name: &str) -> jsonschema::Validator {
    let file = format!(
        "{}/tests/fixtures/providers/{platform}/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    jsonschema::validator_for(&v).expect("schema compiles")
}

/// The top-level property names the schema declares.
pub(crate) fn spec_properties(platform: &str, name: &str) -> Vec<String> {
    let file = format!(
        "{}/tests/fixtures/providers/{platform}/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    v["properties"]
        .as_object()
        .expect("the schema lists its properties")
        .keys()
        .cloned()
        .collect()
}

/// Fails with every violation, so a drifted body shows all its differences at once.
pub(crate) fn assert_spec(platform: &str, name: &str, instance: &Value) {
    let errors: Vec<String> = spec(platform, name)
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{platform}/{name}: {errors:?}\n{instance}"
    );
}

pub(crate) fn json_body(req: &Request) -> Value {
    serde_json::from_slice(&req.body).expect("request body is JSON")
}

/// Answers `first` once, then `then` for every later request.
pub(crate) struct Sequence {
    pub first: ResponseTemplate,
    pub then: ResponseTemplate,
    pub n: std::sync::atomic::AtomicUsize,
}

impl Sequence {
    pub(crate) fn new(first: ResponseTemplate, then: ResponseTemplate) -> Self {
        Self {
            first,
            then,
            n: std::sync::atomic::AtomicUsize::new(0),
        }
    }
}

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        if self.n.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            self.first.clone()
        } else {
            self.then.clone()
        }
    }
}

/// How a platform's sync call looks, for the shared fault scenarios.
pub(crate) struct Wire {
    pub kind: ProviderKind,
    pub endpoint: &'static str,
    /// Method and path of the generating call.
    pub method: &'static str,
    pub path: &'static str,
    /// A success answer.
    pub ok: fn(&str) -> ResponseTemplate,
    /// The platform's validation error (status, body) and a phrase of its message.
    pub invalid: (u16, &'static str, &'static str),
    /// The platform's content-filter refusal.
    pub filtered: (u16, &'static str),
    /// Adjusts the model (mode, version).
    pub tweak: fn(&mut ModelPin),
}

async fn setup(
    w: &Wire,
    also: Option<&(&str, Value)>,
    responder: impl Respond + 'static,
) -> (MockServer, ModelPin, Case, tempfile::TempDir) {
    let server = MockServer::start().await;
    mount_also(&server, also).await;
    Mock::given(method(w.method))
        .and(path(w.path))
        .respond_with(responder)
        .mount(&server)
        .await;
    let mut m = model(w.kind, w.endpoint, &server.uri());
    (w.tweak)(&mut m);
    let dir = tempfile::tempdir().unwrap();
    let c = case(dir.path(), 0);
    (server, m, c, dir)
}

/// Answers `GET path` with `body`: a lookup the platform needs before the generating
/// call (Replicate's version schema).
async fn mount_also(server: &MockServer, also: Option<&(&str, Value)>) {
    if let Some((p, body)) = also {
        Mock::given(method("GET"))
            .and(path(*p))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(server)
            .await;
    }
}

/// 429 with Retry-After, 5xx then success, a hang past the timeout, malformed JSON,
/// the platform's validation error and its content filter.
pub(crate) async fn faults(w: &Wire) {
    faults_with(w, None).await;
}

/// [`faults`], with `also` (a GET path and its JSON answer) served on every emulator.
pub(crate) async fn faults_with(w: &Wire, also: Option<(&str, Value)>) {
    let also = also.as_ref();
    // 429 with Retry-After: 0 then success: retried once, honouring the header.
    let server = MockServer::start().await;
    let ok = (w.ok)(&server.uri());
    Mock::given(method(w.method))
        .and(path(w.path))
        .respond_with(Sequence::new(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "0")
                .set_body_string(r#"{"error":{"message":"slow down","code":429}}"#),
            ok,
        ))
        .mount(&server)
        .await;
    mount_images(&server).await;
    mount_also(&server, also).await;
    let mut m = model(w.kind, w.endpoint, &server.uri());
    (w.tweak)(&mut m);
    let dir = tempfile::tempdir().unwrap();
    let c = case(dir.path(), 0);
    let (r, retries) = execute_one(&m, &c).await;
    assert!(r.is_ok(), "{:?}: 429 then ok: {r:?}", w.kind);
    assert_eq!(retries, 1);

    // 503 then success.
    let server = MockServer::start().await;
    let ok = (w.ok)(&server.uri());
    Mock::given(method(w.method))
        .and(path(w.path))
        .respond_with(Sequence::new(
            ResponseTemplate::new(503).set_body_string("upstream unavailable"),
            ok,
        ))
        .mount(&server)
        .await;
    mount_images(&server).await;
    mount_also(&server, also).await;
    let mut m = model(w.kind, w.endpoint, &server.uri());
    (w.tweak)(&mut m);
    let (r, retries) = execute_one(&m, &c).await;
    assert!(r.is_ok(), "{:?}: 503 then ok: {r:?}", w.kind);
    assert_eq!(retries, 1);

    // A server that never answers in time: transient, after the client timeout.
    let (_s, m, c, _d) = setup(
        w,
        also,
        ResponseTemplate::new(200).set_delay(Duration::from_secs(10)),
    )
    .await;
    let started = std::time::Instant::now();
    let e = generate(&m, &c).await.expect_err("times out");
    assert_eq!(e.kind, ErrorKind::Transient, "{:?}: {e}", w.kind);
    assert!(e.message.contains("timed out"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // Malformed JSON in a 200.
    let (_s, m, c, _d) = setup(
        w,
        also,
        ResponseTemplate::new(200).set_body_string("{\"data\": ["),
    )
    .await;
    let e = generate(&m, &c).await.expect_err("malformed");
    assert_eq!(e.kind, ErrorKind::Transient, "{:?}: {e}", w.kind);
    assert!(e.message.contains("not JSON"), "{e}");

    // Validation error: rejected, not retried, the platform's message surfaced.
    let (status, body, phrase) = w.invalid;
    let (_s, m, c, _d) = setup(w, also, ResponseTemplate::new(status).set_body_string(body)).await;
    let (r, retries) = execute_one(&m, &c).await;
    let e = r.expect_err("invalid");
    assert_eq!(e.kind, ErrorKind::Rejected, "{:?}: {e}", w.kind);
    assert!(e.message.contains(phrase), "{:?}: {e}", w.kind);
    assert_eq!(retries, 0);
    assert!(!e.to_string().contains(KEY));

    // Content filter.
    let (status, body) = w.filtered;
    let (_s, m, c, _d) = setup(w, also, ResponseTemplate::new(status).set_body_string(body)).await;
    let e = generate(&m, &c).await.expect_err("filtered");
    assert_eq!(e.kind, ErrorKind::ContentFiltered, "{:?}: {e}", w.kind);

    // Bad key: fatal, naming the variable, never the key.
    let (_s, m, c, _d) = setup(
        w,
        also,
        ResponseTemplate::new(401).set_body_string(format!(r#"{{"error":"invalid key {KEY}"}}"#)),
    )
    .await;
    let e = generate(&m, &c).await.expect_err("unauthorised");
    assert_eq!(e.kind, ErrorKind::Fatal);
    assert!(!e.to_string().contains(KEY), "{e}");
}

/// Serves `/files/out.png` for providers that answer with URLs.
pub(crate) async fn mount_images(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/files/out.png"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "image/png")
                .set_body_bytes(png(200)),
        )
        .mount(server)
        .await;
}

/// The single request the emulator received on `p`.
pub(crate) async fn received(server: &MockServer, m: &str, p: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == m && r.url.path() == p)
        .collect()
}

pub(crate) fn header<'a>(r: &'a Request, name: &str) -> &'a str {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// How a submit-then-poll platform looks, for the shared queue fault matrix. The
/// emulated task id is `task-1`.
pub(crate) struct Queue {
    pub kind: ProviderKind,
    pub endpoint: &'static str,
    /// Path of the submit call.
    pub submit: &'static str,
    /// Path of the status read of `task-1`.
    pub poll: &'static str,
    /// The submit answer.
    pub created: fn(&str) -> Value,
    /// A status answer of `task-1` with `status`, outputs pointing at the emulator.
    pub state: fn(&str, &str) -> Value,
}

impl Queue {
    pub(crate) fn created_ok(&self, uri: &str) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json((self.created)(uri))
    }

    pub(crate) fn state_ok(&self, uri: &str, status: &str) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json((self.state)(uri, status))
    }

    /// The platform as its mark names it.
    pub(crate) fn who(&self) -> &'static str {
        match self.kind {
            ProviderKind::Wavespeed => "WaveSpeed",
            ProviderKind::Atlascloud => "Atlas Cloud",
            other => panic!("{other:?} is not a queue platform"),
        }
    }
}

/// `record` of [`three_samples`] on the queue platform `q` (named `provider` in the
/// suite) passes; in the `run`, the second sample's prediction completes with
/// `has_nsfw_contents: [true]`, with its output when `with_output`, else with none. The
/// case is drift with the mark named first either way: the flagged image is kept and
/// scored, and without one the sample is judged on its mark. Returns run.json.
pub(crate) async fn flagged_prediction_in_a_run(
    q: &Queue,
    provider: &str,
    with_output: bool,
) -> Value {
    let server = MockServer::start().await;
    let uri = server.uri();
    let mount = |poll: Box<dyn Respond>| {
        let server = &server;
        let uri = &uri;
        async move {
            Mock::given(method("POST"))
                .and(path(q.submit))
                .respond_with(q.created_ok(uri))
                .mount(server)
                .await;
            Mock::given(method("GET"))
                .and(path(q.poll))
                .respond_with(BoxedRespond(poll))
                .mount(server)
                .await;
            mount_images(server).await;
        }
    };
    mount(Box::new(q.state_ok(&uri, "completed"))).await;
    let dir = tempfile::tempdir().unwrap();
    three_samples(
        dir.path(),
        provider,
        q.endpoint,
        &uri,
        "  poll_interval_ms: 5\n",
    );
    record(dir.path());

    server.reset().await;
    let mut flagged = (q.state)(&uri, "completed");
    flagged["data"]["has_nsfw_contents"] = serde_json::json!([true]);
    if !with_output {
        flagged["data"]["outputs"] = serde_json::json!([]);
    }
    // Each sample is one submit and, as every read completes it, one read.
    mount(Box::new(Nth {
        at: 1,
        marked: ResponseTemplate::new(200).set_body_json(flagged),
        normal: q.state_ok(&uri, "completed"),
        n: 0.into(),
    }))
    .await;
    let mark = format!("has_nsfw_contents ({})", q.who());
    let how = if with_output { "marked" } else { "filtered" };
    let run = run_is_drift_named_first(
        dir.path(),
        &format!("sample 2 was {how} by the platform: {mark}"),
    );
    let case = &run["cases"][0];
    assert_eq!(case["reasons"].as_array().unwrap().len(), 1, "{case:#}");
    let s = &case["samples"][1];
    assert_eq!(s["provider"]["platform_mark"], mark.as_str(), "{s:#}");
    assert_eq!(s["metrics"].is_object(), with_output, "{s:#}");
    for i in [0, 2] {
        let other = &case["samples"][i];
        assert!(other["metrics"].is_object(), "sample {i} scored: {other:#}");
        assert!(other["provider"].get("platform_mark").is_none());
    }
    run
}

/// What a queue platform's completed task gave, for the checks of its own protocol.
pub(crate) struct Completed {
    pub server: MockServer,
    pub generation: Generation,
    /// The submitted body.
    pub body: Value,
}

/// A queue platform's task run to completion: the submit answers `created`, the first
/// status read `processing`, the second `done`; both calls must carry the Bearer key.
/// Checks what every queue platform shares (the image, the task id and model recorded,
/// one submit whose Seedream body holds the prompt, the size as `W*H`, no base64 output
/// and two references as data URIs) and returns the rest for the platform's own checks.
pub(crate) async fn queue_completes(q: &Queue, done: fn(&str) -> Value) -> Completed {
    let server = MockServer::start().await;
    let uri = server.uri();
    let bearer = format!("Bearer {KEY}");
    Mock::given(method("POST"))
        .and(path(q.submit))
        .and(wiremock::matchers::header("authorization", bearer.as_str()))
        .respond_with(q.created_ok(&uri))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(q.poll))
        .and(wiremock::matchers::header("authorization", bearer.as_str()))
        .respond_with(Sequence::new(
            q.state_ok(&uri, "processing"),
            ResponseTemplate::new(200).set_body_json(done(&uri)),
        ))
        .mount(&server)
        .await;
    mount_images(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let m = model(q.kind, q.endpoint, &uri);
    let c = case(dir.path(), 2);
    let g = generate(&m, &c).await.expect("generated");
    assert_eq!(g.bytes, png(200));
    assert_eq!(g.metadata.request_id.as_deref(), Some("task-1"));
    assert_eq!(g.metadata.model.as_deref(), Some(q.endpoint));

    let submits = received(&server, "POST", q.submit).await;
    assert_eq!(submits.len(), 1);
    let body = json_body(&submits[0]);
    assert_eq!(body["prompt"], c.prompt);
    assert_eq!(body["size"], "1024*1024");
    assert_eq!(body["enable_base64_output"], false);
    let images = body["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    assert!(
        images[0]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    Completed {
        server,
        generation: g,
        body,
    }
}

/// The number of submits an emulator received.
pub(crate) async fn submits(server: &MockServer, q: &Queue) -> usize {
    received(server, "POST", q.submit).await.len()
}

/// The fault matrix of a queue platform: 429 with and without Retry-After, 5xx then
/// success, 5xx forever, a hang past the timeout, malformed JSON, a failed task with
/// the platform's message, a task without outputs, an image that is gone, the content
/// filter, and an envelope error inside a 200. A submit that may have created a task is
/// never sent twice.
pub(crate) async fn queue_faults(q: &Queue) {
    let dir = tempfile::tempdir().unwrap();
    let c = case(dir.path(), 0);

    // 429 on the submit, with and without Retry-After: refused, so resubmitted.
    for retry_after in [Some("0"), None] {
        let (server, m) = serve_with(q, |uri| {
            let mut busy = ResponseTemplate::new(429)
                .set_body_string(r#"{"code":429,"message":"too many requests"}"#);
            if let Some(v) = retry_after {
                busy = busy.insert_header("retry-after", v);
            }
            (
                Box::new(Sequence::new(busy, q.created_ok(uri))),
                Box::new(q.state_ok(uri, "completed")),
            )
        })
        .await;
        let (r, retries) = execute_one(&m, &c).await;
        assert!(r.is_ok(), "{:?}: 429 then ok: {r:?}", q.kind);
        assert_eq!(retries, 1, "{:?}: retry-after {retry_after:?}", q.kind);
        assert_eq!(submits(&server, q).await, 2);
    }

    // 5xx on a status read, then success: retried in place, submitted once.
    let (server, m) = serve_with(q, |uri| {
        (
            Box::new(q.created_ok(uri)),
            Box::new(Sequence::new(
                ResponseTemplate::new(503).set_body_string("upstream unavailable"),
                q.state_ok(uri, "completed"),
            )),
        )
    })
    .await;
    let (r, retries) = execute_one(&m, &c).await;
    let g = r.unwrap_or_else(|e| panic!("{:?}: poll 503 then ok: {e}", q.kind));
    assert_eq!(g.bytes, png(200));
    assert_eq!(retries, 0);
    assert_eq!(submits(&server, q).await, 1);

    // An envelope error inside a 200 status answer counts as a failed read too.
    let (server, m) = serve_with(q, |uri| {
        (
            Box::new(q.created_ok(uri)),
            Box::new(Sequence::new(
                ResponseTemplate::new(200)
                    .set_body_string(r#"{"code":500,"message":"internal error","data":null}"#),
                q.state_ok(uri, "completed"),
            )),
        )
    })
    .await;
    let (r, _) = execute_one(&m, &c).await;
    assert!(r.is_ok(), "{:?}: envelope 500 then ok: {r:?}", q.kind);
    assert_eq!(submits(&server, q).await, 1);

    // 5xx forever on status reads: given up after five reads, never resubmitted.
    let (server, m) = serve_with(q, |uri| {
        (
            Box::new(q.created_ok(uri)),
            Box::new(ResponseTemplate::new(502).set_body_string("bad gateway")),
        )
    })
    .await;
    let (r, retries) = execute_one(&m, &c).await;
    let e = r.expect_err("5xx forever");
    assert_eq!(e.kind, ErrorKind::Fatal, "{:?}: {e}", q.kind);
    assert!(e.message.contains("not submitted again"), "{e}");
    assert_eq!(retries, 0);
    assert_eq!(submits(&server, q).await, 1);
    assert_eq!(received(&server, "GET", q.poll).await.len(), 5);

    // 5xx on the submit: the task may exist, so it is not sent again.
    let (server, m) = serve_with(q, |uri| {
        (
            Box::new(
                ResponseTemplate::new(500).set_body_string(r#"{"code":500,"message":"oops"}"#),
            ),
            Box::new(q.state_ok(uri, "completed")),
        )
    })
    .await;
    let (r, retries) = execute_one(&m, &c).await;
    let e = r.expect_err("submit 500");
    assert_eq!(e.kind, ErrorKind::Fatal, "{:?}: {e}", q.kind);
    assert!(
        e.message.contains("oops") && e.message.contains("not submitted again"),
        "{e}"
    );
    assert_eq!(retries, 0);
    assert_eq!(submits(&server, q).await, 1);

    // A submit that hangs past the timeout: no answer, so no second submit.
    let (server, m) = serve_with(q, |uri| {
        (
            Box::new(q.created_ok(uri).set_delay(Duration::from_secs(10))),
            Box::new(q.state_ok(uri, "completed")),
        )
    })
    .await;
    let started = std::time::Instant::now();
    let (r, _) = execute_one(&m, &c).await;
    let e = r.expect_err("times out");
    assert_eq!(e.kind, ErrorKind::Fatal, "{:?}: {e}", q.kind);
    assert!(e.message.contains("timed out"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(submits(&server, q).await, 1);

    // A status read that hangs once: retried in place.
    let (_server, m) = serve_with(q, |uri| {
        (
            Box::new(q.created_ok(uri)),
            Box::new(Sequence::new(
                q.state_ok(uri, "processing")
                    .set_delay(Duration::from_secs(10)),
                q.state_ok(uri, "completed"),
            )),
        )
    })
    .await;
    assert!(generate(&m, &c).await.is_ok(), "{:?}: poll hang", q.kind);

    // Malformed JSON: on a status read, retried in place; on the submit, final.
    let (_server, m) = serve_with(q, |uri| {
        (
            Box::new(q.created_ok(uri)),
            Box::new(Sequence::new(
                ResponseTemplate::new(200).set_body_string("{\"data\": {"),
                q.state_ok(uri, "completed"),
            )),
        )
    })
    .await;
    assert!(
        generate(&m, &c).await.is_ok(),
        "{:?}: malformed poll",
        q.kind
    );
    let (server, m) = serve_with(q, |uri| {
        (
            Box::new(ResponseTemplate::new(200).set_body_string("{\"data\": {")),
            Box::new(q.state_ok(uri, "completed")),
        )
    })
    .await;
    let (r, _) = execute_one(&m, &c).await;
    let e = r.expect_err("malformed submit");
    assert_eq!(e.kind, ErrorKind::Fatal, "{:?}: {e}", q.kind);
    assert!(e.message.contains("not JSON"), "{e}");
    assert_eq!(submits(&server, q).await, 1);

    // A failed task: rejected with the platform's message, not retried.
    let (_server, m) = serve_with(q, |uri| {
        let mut failed = (q.state)(uri, "failed");
        failed["data"]["error"] = "size 100*100 is below the minimum of 1024*1024".into();
        failed["data"]["outputs"] = serde_json::json!([]);
        (
            Box::new(q.created_ok(uri)),
            Box::new(ResponseTemplate::new(200).set_body_json(failed)),
        )
    })
    .await;
    let (r, retries) = execute_one(&m, &c).await;
    let e = r.expect_err("failed task");
    assert_eq!(e.kind, ErrorKind::Rejected, "{:?}: {e}", q.kind);
    assert!(e.message.contains("below the minimum of 1024*1024"), "{e}");
    assert_eq!(retries, 0);

    // Completed without outputs.
    let (_server, m) = serve_with(q, |uri| {
        let mut empty = (q.state)(uri, "completed");
        empty["data"]["outputs"] = serde_json::json!([]);
        (
            Box::new(q.created_ok(uri)),
            Box::new(ResponseTemplate::new(200).set_body_json(empty)),
        )
    })
    .await;
    let e = generate(&m, &c).await.expect_err("no outputs");
    assert_eq!(e.kind, ErrorKind::Fatal, "{:?}: {e}", q.kind);
    assert!(e.message.contains("without an image output"), "{e}");

    // The output URL is gone.
    let (_server, m) = serve_with(q, |uri| {
        let mut gone = (q.state)(uri, "completed");
        gone["data"]["outputs"] = serde_json::json!([format!("{uri}/files/gone.png")]);
        (
            Box::new(q.created_ok(uri)),
            Box::new(ResponseTemplate::new(200).set_body_json(gone)),
        )
    })
    .await;
    let e = generate(&m, &c).await.expect_err("image 404");
    assert_eq!(e.status, Some(404), "{:?}: {e}", q.kind);
    assert!(e.message.contains("downloading the image"), "{e}");

    // The content filter: a task failed for its content, or an output flagged NSFW.
    let (_server, m) = serve_with(q, |uri| {
        let mut failed = (q.state)(uri, "failed");
        failed["data"]["error"] = "The content was flagged as potentially sensitive (nsfw)".into();
        (
            Box::new(q.created_ok(uri)),
            Box::new(ResponseTemplate::new(200).set_body_json(failed)),
        )
    })
    .await;
    let e = generate(&m, &c).await.expect_err("filtered");
    assert_eq!(e.kind, ErrorKind::ContentFiltered, "{:?}: {e}", q.kind);
    assert!(e.marked.is_none(), "a failed task is no mark: {e}");

    // An output flagged NSFW is the platform's mark on the sample: the image is kept,
    // marked; flagged without an output, the mark stands for the sample.
    let mark = format!("has_nsfw_contents ({})", q.who());
    let (_server, m) = serve_with(q, |uri| {
        let mut flagged = (q.state)(uri, "completed");
        flagged["data"]["has_nsfw_contents"] = serde_json::json!([true]);
        (
            Box::new(q.created_ok(uri)),
            Box::new(ResponseTemplate::new(200).set_body_json(flagged)),
        )
    })
    .await;
    let g = generate(&m, &c).await.expect("a flagged output is kept");
    assert_eq!(g.bytes, png(200), "{:?}", q.kind);
    assert_eq!(g.metadata.platform_mark.as_deref(), Some(mark.as_str()));
    assert_eq!(g.metadata.request_id.as_deref(), Some("task-1"));
    let (_server, m) = serve_with(q, |uri| {
        let mut flagged = (q.state)(uri, "completed");
        flagged["data"]["has_nsfw_contents"] = serde_json::json!([true]);
        flagged["data"]["outputs"] = serde_json::json!([]);
        (
            Box::new(q.created_ok(uri)),
            Box::new(ResponseTemplate::new(200).set_body_json(flagged)),
        )
    })
    .await;
    let e = generate(&m, &c).await.expect_err("flagged, no output");
    assert_eq!(e.kind, ErrorKind::ContentFiltered, "{:?}: {e}", q.kind);
    let marked = e.marked.expect("the platform's mark, without an image");
    assert_eq!(marked.platform_mark.as_deref(), Some(mark.as_str()));
    assert_eq!(marked.request_id.as_deref(), Some("task-1"));

    // Bad key: fatal, naming the variable, never the key.
    let (_server, m) = serve_with(q, |uri| {
        (
            Box::new(
                ResponseTemplate::new(401)
                    .set_body_string(format!(r#"{{"code":401,"message":"invalid key {KEY}"}}"#)),
            ),
            Box::new(q.state_ok(uri, "completed")),
        )
    })
    .await;
    let e = generate(&m, &c).await.expect_err("unauthorised");
    assert_eq!(e.kind, ErrorKind::Fatal);
    assert!(!e.to_string().contains(KEY), "{e}");
}

/// An emulator whose answers are built from its own address.
async fn serve_with(
    q: &Queue,
    answers: impl FnOnce(&str) -> (Box<dyn Respond>, Box<dyn Respond>),
) -> (MockServer, ModelPin) {
    let server = MockServer::start().await;
    let (submit, poll) = answers(&server.uri());
    Mock::given(method("POST"))
        .and(path(q.submit))
        .respond_with(BoxedRespond(submit))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(q.poll))
        .respond_with(BoxedRespond(poll))
        .mount(&server)
        .await;
    mount_images(&server).await;
    let m = model(q.kind, q.endpoint, &server.uri());
    (server, m)
}

struct BoxedRespond(Box<dyn Respond>);

impl Respond for BoxedRespond {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        self.0.respond(r)
    }
}

/// Answers `marked` to request number `at` (0-based) and `normal` to every other, so a
/// run at `--concurrency 1`, which sends a case's samples in order, gets one marked sample.
pub(crate) struct Nth {
    pub at: usize,
    pub marked: ResponseTemplate,
    pub normal: ResponseTemplate,
    pub n: std::sync::atomic::AtomicUsize,
}

impl Respond for Nth {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        if self.n.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == self.at {
            self.marked.clone()
        } else {
            self.normal.clone()
        }
    }
}

/// The real binary in `dir`, with the key in `DRIFTGATE_WIRE_KEY`, one request at a time
/// (so a case's samples are asked for in order) and short retries.
pub(crate) fn driftgate(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_driftgate"))
        .current_dir(dir)
        .env("DRIFTGATE_WIRE_KEY", KEY)
        .env("CI", "1")
        .args(args)
        .args(["--baselines", "baselines", "--retry-base-ms", "5"])
        .args(["--concurrency", "1", "--timeout", "5"])
        .output()
        .expect("binary runs")
}

/// A suite `marks` of one case `bottle`, three 32x32 samples with seed 7, on `provider`
/// and `endpoint` at the emulator `base`; `extra` adds lines under `model:`.
pub(crate) fn three_samples(dir: &Path, provider: &str, endpoint: &str, base: &str, extra: &str) {
    std::fs::write(
        dir.join("marks.yaml"),
        format!(
            "suite: marks\nmodel:\n  provider: {provider}\n  endpoint: {endpoint}\n  base_url: {base}\n  api_key_env: DRIFTGATE_WIRE_KEY\n{extra}defaults:\n  size: {{ width: 32, height: 32 }}\n  seed: 7\n  samples: 3\ncases:\n  - id: bottle\n    prompt: a bottle on a table\n"
        ),
    )
    .unwrap();
}

/// `record` of the suite [`three_samples`] wrote, which must pass.
pub(crate) fn record(dir: &Path) {
    let o = driftgate(dir, &["record", "marks.yaml"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `run` of that suite against what the emulator now answers: the run must exit 1 with
/// its one case `drift` and `reason` first; returns run.json.
pub(crate) fn run_is_drift_named_first(dir: &Path, reason: &str) -> Value {
    let o = driftgate(dir, &["run", "marks.yaml", "--out", "out"]);
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/run.json")).unwrap()).unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}\n{run:#}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(run["verdict"], "drift");
    let case = &run["cases"][0];
    assert_eq!(case["verdict"], "drift", "{case:#}");
    assert_eq!(case["reasons"][0], reason, "{case:#}");
    assert_eq!(case["degenerate"][0], reason, "{case:#}");
    let text = serde_json::to_string(&run).unwrap();
    assert!(!text.contains(KEY));
    run
}
