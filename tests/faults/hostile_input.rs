//! Hostile input: suites written to escape, explode or confuse; images that lie about
//! their size; URLs a provider hands back that point where they must not.
//!
//! Suite checks run under a 1 GiB address-space limit: a parser that expanded an alias
//! bomb or buffered a 50 MB file would die there instead of passing.

use std::process::Output;
use std::time::{Duration, Instant};

use wiremock::ResponseTemplate;

use crate::harness::{self, Fal, Project, answer, case, code, reasons, recorded, run_into, text};

const BASE: &str = "suite: hostile\nmodel: { provider: sim, endpoint: sim/x, version: \"1\" }\n";

/// `driftgate check` on `rel` with memory bounded; returns its output and duration.
fn check_bounded(p: &Project, rel: &str) -> (Output, Duration) {
    let started = Instant::now();
    // `timeout` turns a hang (say, reading a FIFO) into a failure instead of a stuck test.
    let out = std::process::Command::new("timeout")
        .args([
            "20",
            "sh",
            "-c",
            "ulimit -v 1048576 && exec \"$0\" check \"$1\"",
            env!("CARGO_BIN_EXE_driftgate"),
            rel,
        ])
        .current_dir(p.path())
        .env("HOME", p.path().join("home"))
        .output()
        .expect("run under sh");
    (out, started.elapsed())
}

/// The suite is refused quickly, within bounded memory, with `phrase` in the message.
fn refused(p: &Project, rel: &str, phrase: &str) {
    let (o, took) = check_bounded(p, rel);
    assert_eq!(code(&o), 2, "{}", text(&o));
    let all = text(&o);
    assert!(all.contains(phrase), "{phrase:?} not in {all}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(!all.contains("panicked"), "{all}");
}

fn suite_with(p: &Project, body: &str) -> String {
    p.write("suites/hostile.yaml", format!("{BASE}{body}"));
    "suites/hostile.yaml".into()
}

#[test]
fn reference_climbing_out_with_dotdot_is_refused() {
    let p = Project::new();
    p.write("secret.png", "x");
    let s = suite_with(
        &p,
        "cases:\n  - id: a\n    prompt: p\n    references: [../secret.png]\n",
    );
    refused(&p, &s, "climbs out with `..`");
}

#[test]
fn absolute_reference_path_is_refused() {
    let p = Project::new();
    let s = suite_with(
        &p,
        "cases:\n  - id: a\n    prompt: p\n    references: [/etc/passwd]\n",
    );
    refused(&p, &s, "is absolute");
}

#[test]
fn symlink_leading_out_of_the_suite_folder_is_refused() {
    let p = Project::new();
    p.write("secret.png", "x");
    std::os::unix::fs::symlink(
        p.path().join("secret.png"),
        p.path().join("suites/link.png"),
    )
    .unwrap();
    std::fs::create_dir_all(p.path().join("suites/refs")).unwrap();
    std::os::unix::fs::symlink(p.path(), p.path().join("suites/refs/up")).unwrap();
    let s = suite_with(
        &p,
        "cases:\n  - id: a\n    prompt: p\n    references: [link.png]\n  - id: b\n    prompt: p\n    references: [refs/up/secret.png]\n",
    );
    let (o, _) = check_bounded(&p, &s);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert_eq!(
        text(&o).matches("leads outside the suite's folder").count(),
        2,
        "{}",
        text(&o)
    );
}

#[test]
fn case_ids_with_slash_dotdot_or_control_characters_are_refused() {
    for id in [
        "a/b",
        "..",
        "../../etc",
        "a\\x01b",
        "a\\tb",
        "A",
        "a\\u202eb",
    ] {
        let p = Project::new();
        let s = suite_with(&p, &format!("cases:\n  - id: \"{id}\"\n    prompt: p\n"));
        refused(&p, &s, "is not of the form [a-z0-9-]+");
    }
    let p = Project::new();
    p.write("suites/hostile.yaml", "suite: ../../evil\nmodel: { provider: sim, endpoint: sim/x }\ncases:\n  - id: a\n    prompt: p\n");
    refused(
        &p,
        "suites/hostile.yaml",
        "suite id `../../evil` is not of the form",
    );
}

#[test]
fn yaml_alias_bomb_is_refused() {
    let p = Project::new();
    let mut params = String::from("      a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        params.push_str(&format!(
            "      a{i}: &a{i} [{}]\n",
            [prev.as_str(); 9].join(", ")
        ));
    }
    let s = suite_with(
        &p,
        &format!("defaults:\n  params:\n    bomb:\n{params}cases:\n  - id: a\n    prompt: p\n"),
    );
    refused(&p, &s, "expands to more than");
}

#[test]
fn fifty_megabyte_suite_is_refused_before_parsing() {
    let p = Project::new();
    let mut text = String::from(BASE);
    text.push_str("cases:\n");
    let line = "  - { id: a, prompt: padding padding padding padding padding padding }\n";
    while text.len() < 50 << 20 {
        text.push_str(line);
    }
    p.write("suites/hostile.yaml", text);
    refused(&p, "suites/hostile.yaml", "above the limit of 4194304");
}

#[test]
fn deeply_nested_yaml_is_refused() {
    let p = Project::new();
    let depth = 100_000;
    let s = suite_with(
        &p,
        &format!(
            "defaults:\n  params:\n    deep: {}{}\ncases:\n  - id: a\n    prompt: p\n",
            "[".repeat(depth),
            "]".repeat(depth)
        ),
    );
    refused(&p, &s, "recursion limit exceeded");
}

#[test]
fn invalid_utf8_is_refused_with_its_position() {
    let p = Project::new();
    let mut bytes = BASE.as_bytes().to_vec();
    bytes.extend_from_slice(b"cases:\n  - id: a\n    prompt: caf\xe9\n");
    p.write("suites/hostile.yaml", bytes);
    refused(&p, "suites/hostile.yaml", "hostile.yaml:5:16");
    refused(&p, "suites/hostile.yaml", "not valid UTF-8");
}

#[test]
fn one_megabyte_prompt_is_refused() {
    let p = Project::new();
    let s = suite_with(
        &p,
        &format!("cases:\n  - id: a\n    prompt: {}\n", "a".repeat(1 << 20)),
    );
    refused(&p, &s, "prompt is 1048576 bytes, above the limit of 16384");
}

/// A PNG that is only a header: `width` x `height`, 8-bit, `color` type.
fn png_header(width: u32, height: u32, color: u8) -> Vec<u8> {
    fn crc(data: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc(&body).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, color, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    // A few kilobytes of zeros, deflated: the rest of the "image" is never there.
    chunk(
        &mut out,
        b"IDAT",
        &[
            0x78, 0x9c, 0x63, 0x60, 0x18, 0x05, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
        ],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

async fn candidate_is_refused(bytes: Vec<u8>, phrase: &str) {
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 1).await;
    fal.serve("big.png", "image/png", bytes).await;
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when("FAULTY", answer(&fal.file("big.png"))).await;
    let started = Instant::now();
    let (o, report) = run_into(&p, &file, "out", &[]);
    assert_eq!(code(&o), 3, "{}", text(&o));
    let faulty = case(&report, "faulty");
    assert_eq!(faulty["verdict"], "error");
    assert!(
        reasons(faulty).contains(phrase),
        "{phrase:?} not in {faulty:#}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread")]
async fn png_header_claiming_100000x100000_pixels_is_refused_by_the_decoder_limits() {
    candidate_is_refused(
        png_header(100_000, 100_000, 2),
        "image is 100000x100000 pixels, above the limit of 16384x16384",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn png_within_the_sides_but_over_the_memory_limit_is_refused() {
    candidate_is_refused(
        png_header(16_000, 16_000, 6),
        "decoding the image needs more than 536870912 bytes",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn large_valid_image_over_the_side_limit_is_refused() {
    let img = image::RgbImage::from_pixel(16_400, 8, image::Rgb([9, 9, 9]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    candidate_is_refused(
        bytes.into_inner(),
        "image is 16400x8 pixels, above the limit of 16384x16384",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn image_download_above_the_size_cap_is_cut_off() {
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 1).await;
    fal.serve("huge.png", "image/png", vec![0u8; (64 << 20) + 1])
        .await;
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when("FAULTY", answer(&fal.file("huge.png"))).await;
    let (o, report) = run_into(&p, &file, "out", &[]);
    assert_eq!(code(&o), 3, "{}", text(&o));
    assert!(reasons(case(&report, "faulty")).contains("larger than the 64 MiB limit"));
    assert_eq!(fal.requests("FAULTY").await, 1, "not retried");
}

/// A suite on `base` that driftgate does not treat as loopback, though it reaches the
/// emulator: the v4-mapped form of 127.0.0.1. Provider URLs are then held to the
/// public rules: https only, no private or loopback hosts, redirects included.
fn not_loopback(fal: &Fal) -> Option<(Project, String)> {
    let port = fal.server.address().port();
    // Hosts without IPv6 cannot reach the v4-mapped address; the rule is still covered
    // by the unit tests of `provider::http`.
    if std::net::TcpStream::connect(("::ffff:127.0.0.1", port)).is_err() {
        eprintln!("skipped: this host cannot connect to [::ffff:127.0.0.1]");
        return None;
    }
    let p = Project::new();
    let f = p.write(
        "suites/faults.yaml",
        harness::fal_suite(&format!("http://[::ffff:127.0.0.1]:{port}"), 1),
    );
    Some((p, f.to_string_lossy().into_owned()))
}

fn record_refuses(p: &Project, file: &str, phrases: &[&str]) {
    let mut args = vec!["record", file];
    args.extend_from_slice(harness::FAST);
    let o = p.run(&args);
    assert_eq!(code(&o), 3, "{}", text(&o));
    for ph in phrases {
        assert!(text(&o).contains(ph), "{ph:?} not in {}", text(&o));
    }
    assert!(!p.path().join("baselines/faults/manifest.json").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_and_private_image_urls_are_refused() {
    let fal = Fal::start().await;
    let Some((p, file)) = not_loopback(&fal) else {
        return;
    };
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when("FAULTY", answer("https://10.1.2.3/files/ok.png"))
        .await;
    record_refuses(
        &p,
        &file,
        &[
            "only https URLs are followed",
            "refusing to follow `https://10.1.2.3/files/ok.png`: the host is a loopback or private address",
        ],
    );
    let fetched = fal
        .server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == "GET")
        .count();
    assert_eq!(fetched, 0, "no image was fetched");
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_into_loopback_or_private_ranges_are_refused() {
    let fal = Fal::start().await;
    let Some((p, file)) = not_loopback(&fal) else {
        return;
    };
    fal.when(
        "HEALTHY",
        ResponseTemplate::new(307).insert_header("location", fal.file("ok.png").as_str()),
    )
    .await;
    fal.when(
        "FAULTY",
        ResponseTemplate::new(302)
            .insert_header("location", "https://169.254.169.254/latest/meta-data"),
    )
    .await;
    record_refuses(
        &p,
        &file,
        &[
            "redirect refused",
            "only https URLs are followed",
            "loopback or private address",
        ],
    );
}

#[test]
fn file_urls_from_a_provider_are_refused_even_on_loopback() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let fal = Fal::start().await;
        let p = Project::new();
        let f = p.write("suites/faults.yaml", harness::fal_suite(&fal.uri(), 1));
        let f = f.to_string_lossy().into_owned();
        fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
        fal.when("FAULTY", answer("file:///etc/passwd")).await;
        let mut args = vec!["record", f.as_str()];
        args.extend_from_slice(harness::FAST);
        let o = p.run(&args);
        assert_eq!(code(&o), 3, "{}", text(&o));
        assert!(text(&o).contains("unsupported URL scheme"), "{}", text(&o));
    });
}

#[test]
fn reference_that_is_a_fifo_is_refused_without_hanging() {
    let p = Project::new();
    let fifo = p.path().join("suites/ref.png");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let s = suite_with(
        &p,
        "cases:\n  - id: a\n    prompt: p\n    references: [ref.png]\n",
    );
    refused(&p, &s, "reference `ref.png` is not a regular file");
}

#[test]
fn reference_above_the_size_cap_is_refused_without_reading_it() {
    let p = Project::new();
    // Sparse: 2 GiB long, nothing on disk; reading it would need 2 GiB of memory.
    let f = std::fs::File::create(p.path().join("suites/huge.png")).unwrap();
    f.set_len(2 << 30).unwrap();
    let s = suite_with(
        &p,
        "cases:\n  - id: a\n    prompt: p\n    references: [huge.png]\n",
    );
    refused(
        &p,
        &s,
        "reference `huge.png` is 2147483648 bytes, above the limit of 67108864",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_message_with_markup_is_escaped_in_the_html_report() {
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 1).await;
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when(
        "FAULTY",
        ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "detail": "<script>alert('pwned')</script><img src=x onerror=alert(1)>"
        })),
    )
    .await;
    let (o, report) = run_into(&p, &file, "out", &[]);
    assert_eq!(code(&o), 3, "{}", text(&o));
    assert!(reasons(case(&report, "faulty")).contains("<script>alert('pwned')</script>"));
    let html = std::fs::read_to_string(p.path().join("out/index.html")).unwrap();
    assert!(!html.contains("<script>alert("), "raw markup in index.html");
    assert!(!html.contains("<img src=x"), "raw markup in index.html");
    let junit = std::fs::read_to_string(p.path().join("out/junit.xml")).unwrap();
    assert!(!junit.contains("<script>"), "raw markup in junit.xml");
}

/// See issue 12, item 9: a platform's error text reached the terminal raw, so its escape
/// sequences drove the terminal and, in GitHub Actions, a line starting `::error::`
/// would run as a workflow command. Every output gets one clean line instead.
#[tokio::test(flavor = "multi_thread")]
async fn provider_message_with_terminal_escapes_and_a_workflow_command_is_one_clean_line() {
    const DETAIL: &str = "size refused\u{1b}[2J\u{1b}]0;owned\u{7}\r\n::error::injected\u{9b}31m";
    let fal = Fal::start().await;
    let (p, file) = recorded(&fal, 1).await;
    let hostile =
        || ResponseTemplate::new(422).set_body_json(serde_json::json!({ "detail": DETAIL }));
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when("FAULTY", hostile()).await;
    let (o, report) = run_into(&p, &file, "out", &[]);
    assert_eq!(code(&o), 3, "{}", text(&o));
    let summary = std::fs::read_to_string(p.path().join("out/summary.md")).unwrap();
    let run_json = std::fs::read_to_string(p.path().join("out/run.json")).unwrap();
    // The message itself survives, on one line.
    assert!(
        reasons(case(&report, "faulty")).contains("size refused ::error::injected"),
        "{}",
        reasons(case(&report, "faulty"))
    );

    // `record` prints the same failure on stderr.
    fal.reset().await;
    fal.when("HEALTHY", answer(&fal.file("ok.png"))).await;
    fal.when("FAULTY", hostile()).await;
    let rec = p.run(&[
        "record",
        &file,
        "--force",
        "--retry-base-ms",
        "5",
        "--timeout",
        "5",
    ]);
    assert_ne!(code(&rec), 0);

    for (name, out) in [
        ("run output", text(&o)),
        ("record output", text(&rec)),
        ("summary.md", summary),
        ("run.json", run_json),
    ] {
        assert!(out.contains("size refused"), "{name}: message lost: {out}");
        for bad in [
            "\u{1b}", "\u{9b}", "\u{7}", "\r", "\\u001b", "\\u009b", "\\r", "\\u0007",
        ] {
            assert!(!out.contains(bad), "{name} holds {bad:?}: {out:?}");
        }
        assert!(
            !out.lines()
                .any(|l| l.trim_start().starts_with("::error::injected")),
            "{name}: a line starts with the injected command: {out}"
        );
        assert!(!out.contains("\\n::error::"), "{name}: {out}");
    }
}
