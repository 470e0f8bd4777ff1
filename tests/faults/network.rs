//! Provider and network faults against a fal emulator on 127.0.0.1.
//!
//! Each scenario records healthy baselines for two cases, then runs with the fault
//! applied to the `faulty` case only: a fault that clears on retry passes; one that
//! does not leaves `faulty` as `error` with the provider's own message in run.json,
//! `healthy` is still judged, and the run exits 3 (1 when drift was found too).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::ResponseTemplate;

use crate::common::{Sequence, png};
use crate::harness::{self, Fal, answer, case, code, reasons, recorded, run_into, text};

/// Runs with the fault in place and checks the contract for a fault that persists.
fn persists(p: &harness::Project, file: &str, extra: &[&str], phrase: &str) -> Value {
    let (o, report) = run_into(p, file, "out", extra);
    assert_eq!(code(&o), 3, "{}", text(&o));
    assert_eq!(report["verdict"], "incomplete", "{report:#}");
    assert_eq!(case(&report, "healthy")["verdict"], "pass", "{report:#}");
    let faulty = case(&report, "faulty");
    assert_eq!(faulty["verdict"], "error", "{faulty:#}");
    assert!(
        reasons(faulty).contains(phrase),
        "{phrase:?} not in {faulty:#}"
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("faulty"),
        "the summary names the case: {stdout}"
    );
    report
}

/// Runs with a fault that clears on retry: everything passes and retries are counted.
fn clears(p: &harness::Project, file: &str) -> Value {
    let (o, report) = run_into(p, file, "out", &[]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(report["verdict"], "pass");
    assert!(
        report["stats"]["retries"].as_u64().unwrap() >= 1,
        "{report:#}"
    );
    report
}

async fn transient_then_ok(first: ResponseTemplate) {
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 3).await;
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when("FAULTY", Sequence::new(first, answer(&fal.file("ok.png"))))
        .await;
    clears(&p, &file);
    assert_eq!(
        fal.requests("FAULTY").await,
        2,
        "3 samples in one request, retried once"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limited_429_with_retry_after_is_retried() {
    transient_then_ok(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "1")
            .set_body_json(json!({"detail": "Rate limit exceeded"})),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limited_429_without_retry_after_is_retried_with_backoff() {
    transient_then_ok(
        ResponseTemplate::new(429).set_body_json(json!({"detail": "Too many requests"})),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_500_502_503_then_success_are_retried() {
    for status in [500, 502, 503] {
        transient_then_ok(ResponseTemplate::new(status).set_body_string("upstream unavailable"))
            .await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limited_forever_gives_up_after_bounded_retries() {
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 3).await;
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when(
        "FAULTY",
        ResponseTemplate::new(429)
            .set_body_json(json!({"detail": "Rate limit exceeded for this key"})),
    )
    .await;
    persists(&p, &file, &[], "Rate limit exceeded for this key");
    assert_eq!(
        fal.requests("FAULTY").await,
        4,
        "4 attempts of the case's one request, no more"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn server_error_forever_is_an_error_with_the_providers_message() {
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 3).await;
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when(
        "FAULTY",
        ResponseTemplate::new(503).set_body_json(json!({"detail": "Model is warming up"})),
    )
    .await;
    persists(&p, &file, &[], "Model is warming up");
    assert_eq!(fal.requests("FAULTY").await, 4);
}

/// A raw server on 127.0.0.1 for what wiremock cannot do: each connection gets `serve`.
fn raw(serve: fn(std::net::TcpStream)) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || serve(s));
        }
    });
    format!("http://{addr}")
}

fn read_head(s: &mut std::net::TcpStream) {
    let mut buf = Vec::new();
    let mut b = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") && s.read(&mut b).unwrap_or(0) == 1 {
        buf.push(b[0]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_reset_is_retried_then_an_error() {
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 3).await;
    // Closing a socket with unread input makes the kernel answer with a reset.
    let base = raw(|s| {
        std::thread::sleep(Duration::from_millis(30));
        drop(s);
    });
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when("FAULTY", answer(&format!("{base}/files/reset.png")))
        .await;
    let report = persists(&p, &file, &[], "network error");
    assert!(
        report["stats"]["retries"].as_u64().unwrap() >= 3,
        "{report:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn body_that_stops_half_way_is_retried_then_an_error() {
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 3).await;
    let base = raw(|mut s| {
        read_head(&mut s);
        let body = png(200);
        let _ = write!(
            s,
            "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        let _ = s.write_all(&body[..body.len() / 2]);
        let _ = s.flush();
    });
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when("FAULTY", answer(&format!("{base}/files/half.png")))
        .await;
    persists(&p, &file, &[], "network error");
}

#[tokio::test(flavor = "multi_thread")]
async fn server_that_never_answers_hits_the_per_request_timeout() {
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 3).await;
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when(
        "FAULTY",
        answer(&fal.file("ok.png")).set_delay(Duration::from_secs(60)),
    )
    .await;
    let started = Instant::now();
    persists(&p, &file, &["--timeout", "0.4"], "timed out");
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[tokio::test(flavor = "multi_thread")]
async fn server_that_never_answers_is_cut_off_by_the_run_deadline() {
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 3).await;
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when(
        "FAULTY",
        answer(&fal.file("ok.png")).set_delay(Duration::from_secs(60)),
    )
    .await;
    let started = Instant::now();
    persists(
        &p,
        &file,
        &["--timeout", "60", "--deadline", "0.5"],
        "--deadline",
    );
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_json_is_retried_then_an_error() {
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 3).await;
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when(
        "FAULTY",
        ResponseTemplate::new(200).set_body_string("{\"images\": [{\"url"),
    )
    .await;
    persists(&p, &file, &[], "not JSON");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_without_the_image_field_is_an_error() {
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 3).await;
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when(
        "FAULTY",
        ResponseTemplate::new(200).set_body_json(json!({"seed": 7})),
    )
    .await;
    persists(&p, &file, &[], "the result has no images");
    assert_eq!(fal.requests("FAULTY").await, 1, "not retried");
}

#[tokio::test(flavor = "multi_thread")]
async fn image_url_that_404s_is_an_error() {
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 3).await;
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when("FAULTY", answer(&fal.file("gone.png"))).await;
    persists(&p, &file, &[], "downloading the image");
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_png_is_an_error_not_drift() {
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 3).await;
    let b = png(200);
    fal.serve("cut.png", "image/png", b[..b.len() * 2 / 3].to_vec())
        .await;
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when("FAULTY", answer(&fal.file("cut.png"))).await;
    persists(&p, &file, &[], "candidate: failed to decode image");
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_jpeg_is_an_error_not_drift() {
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 3).await;
    let img = image::RgbImage::from_fn(32, 32, |x, y| {
        image::Rgb([200, (x * 8) as u8, (y * 8) as u8])
    });
    let mut jpeg = std::io::Cursor::new(Vec::new());
    img.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    let jpeg = jpeg.into_inner();
    fal.serve("cut.jpg", "image/jpeg", jpeg[..jpeg.len() / 3].to_vec())
        .await;
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when("FAULTY", answer(&fal.file("cut.jpg"))).await;
    persists(&p, &file, &[], "candidate: failed to decode image");
}

#[tokio::test(flavor = "multi_thread")]
async fn non_image_content_type_is_an_error() {
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 3).await;
    fal.serve(
        "page.png",
        "text/html",
        b"<html><body>Access denied</body></html>".to_vec(),
    )
    .await;
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when("FAULTY", answer(&fal.file("page.png"))).await;
    persists(&p, &file, &[], "unrecognised image format");
}

#[tokio::test(flavor = "multi_thread")]
async fn content_filter_refusal_is_an_error_with_the_providers_message() {
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 3).await;
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when(
        "FAULTY",
        ResponseTemplate::new(422).set_body_json(json!({"detail": [{
            "loc": ["body", "prompt"], "msg": "The prompt was flagged by the safety checker",
            "type": "content_policy_violation"}]})),
    )
    .await;
    persists(&p, &file, &[], "content filtered");
    let report = p.json("out/run.json");
    assert!(reasons(case(&report, "faulty")).contains("flagged by the safety checker"));
    assert_eq!(fal.requests("FAULTY").await, 1, "not retried");
}

#[tokio::test(flavor = "multi_thread")]
async fn error_and_drift_in_one_run_exits_1_and_says_both() {
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 3).await;
    let other = image::RgbImage::from_fn(32, 32, |x, y| {
        image::Rgb([(x * 8) as u8, 10, 255 - (y * 8) as u8])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    other.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    fal.serve("moved.png", "image/png", bytes.into_inner())
        .await;
    fal.when("HEALTHY", answer(&fal.file("moved.png"))).await;
    fal.when(
        "FAULTY",
        ResponseTemplate::new(400).set_body_json(json!({"detail": "Invalid image_size"})),
    )
    .await;
    let (o, report) = run_into(&p, &file, "out", &[]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert_eq!(report["verdict"], "drift");
    assert_eq!(case(&report, "healthy")["verdict"], "drift");
    assert_eq!(case(&report, "faulty")["verdict"], "error");
    assert!(reasons(case(&report, "faulty")).contains("Invalid image_size"));
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_reset_on_the_api_call_fails_one_suite_and_the_other_is_judged() {
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 3).await;
    // A second suite, recorded from the healthy emulator, then pointed at a host that
    // resets every connection (base_url is not part of the request fingerprint).
    let other = harness::fal_suite(&fal.uri(), 3).replace("suite: faults", "suite: resets");
    let other_file = p.write("suites/resets.yaml", &other);
    let other_file = other_file.to_string_lossy().into_owned();
    fal.all_ok().await;
    let mut args = vec!["record", other_file.as_str()];
    args.extend_from_slice(harness::FAST);
    let o = p.run(&args);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let reset = raw(|s| {
        std::thread::sleep(Duration::from_millis(30));
        drop(s);
    });
    p.write("suites/resets.yaml", other.replace(&fal.uri(), &reset));
    let (o, report) = run_into(&p, &file, "out", &[other_file.as_str()]);
    assert_eq!(code(&o), 3, "{}", text(&o));
    assert_eq!(report["verdict"], "incomplete");
    let cases = report["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for c in cases {
        if c["suite"] == "resets" {
            assert_eq!(c["verdict"], "error", "{c:#}");
            assert!(reasons(c).contains("transient failure"), "{c:#}");
        } else {
            assert_eq!(c["verdict"], "pass", "{c:#}");
        }
    }
}
